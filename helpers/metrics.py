"""Measurements on trained weights ``W: [n_instances, n_hidden, n_features]`` (column i is feature i's
direction ``W_i`` in the hidden space). A 2-D ``W: [n_hidden, n_features]`` counts as one instance and
the results then drop the instance axis."""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor

EPS = 1e-12


def _per_instance(metric: Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    """Validate ``W``, accept 2-D (one instance), compute in float32 without gradients."""

    def wrapped(W: Tensor) -> Tensor:
        if not isinstance(W, Tensor):
            raise TypeError(f"W must be a Tensor[n_instances, n_hidden, n_features], got {type(W).__name__}")
        if W.ndim not in (2, 3):
            raise ValueError(
                f"W must have shape [n_instances, n_hidden, n_features] (or [n_hidden, n_features]), "
                f"got {list(W.shape)}"
            )
        single = W.ndim == 2
        weights = W.detach().float()
        result = metric(weights.unsqueeze(0) if single else weights)
        return result.squeeze(0) if single else result

    wrapped.__name__, wrapped.__doc__ = metric.__name__, metric.__doc__
    return wrapped


@_per_instance
def feature_norms(W: Tensor) -> Tensor:
    """``‖W_i‖`` for every feature: ``Tensor[n_instances, n_features]``; ≈ 1 represented, ≈ 0 not."""
    return W.norm(dim=1)


def _interference(W: Tensor) -> Tensor:
    """``(Ŵ_i · W_j)²`` for all pairs: ``Tensor[n_instances, n_features(i), n_features(j)]``."""
    unit = W / W.norm(dim=1, keepdim=True).clamp_min(EPS)
    return (unit.transpose(1, 2) @ W).square()


@_per_instance
def superposition(W: Tensor) -> Tensor:
    """``Σ_{j≠i} (Ŵ_i · W_j)²``: how much other features project onto feature i's direction.
    0 when feature i is orthogonal to all others; ≥ 1 when others can activate it as strongly as
    itself. ``Tensor[n_instances, n_features]``."""
    overlap = _interference(W)
    return overlap.sum(dim=2) - overlap.diagonal(dim1=1, dim2=2)


@_per_instance
def feature_dimensionality(W: Tensor) -> Tensor:
    """``D_i = ‖W_i‖² / Σ_j (Ŵ_i · W_j)²`` (j = i included): the fraction of a dimension feature i
    owns. 1 for a dedicated dimension, 1/2 for an antipodal pair, 0 for an unlearned feature.
    ``Tensor[n_instances, n_features]``."""
    return W.square().sum(dim=1) / _interference(W).sum(dim=2).clamp_min(EPS)


@_per_instance
def dimensions_per_feature(W: Tensor) -> Tensor:
    """``D* = m / ‖W‖_F²``: hidden dimensions per represented feature, ``Tensor[n_instances]``.
    Meaningful when represented features have norm ≈ 1 (true for the ReLU-output model)."""
    return W.shape[1] / W.square().sum(dim=(1, 2)).clamp_min(EPS)


@_per_instance
def feature_cosines(W: Tensor) -> Tensor:
    """Cosine of the angle between every pair of feature directions: ``Tensor[n_instances, n, n]``
    (0 for a feature with zero norm)."""
    unit = W / W.norm(dim=1, keepdim=True).clamp_min(EPS)
    return unit.transpose(1, 2) @ unit


@_per_instance
def antipodal_partner_cosine(W: Tensor) -> Tensor:
    """For every feature, the most negative cosine with any *other* feature: −1 for a member of an
    exact antipodal pair. ``Tensor[n_instances, n_features]``."""
    cosine = feature_cosines(W)
    cosine.diagonal(dim1=1, dim2=2).fill_(2.0)
    return cosine.min(dim=2).values
