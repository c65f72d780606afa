"""What an SAE is trained on: the hidden activations ``h = W x`` of a toy model, for fresh sparse
features ``x`` at every call (independent, or in chapter 3's correlated and anticorrelated sets)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from .. import validation
from ..data import derived_seed, feature_sets, sparse_features


def checked_features(W: Tensor) -> Tensor:
    """The toy model's weights as ``[n_models, n_hidden, n_features]`` (a 2-D ``W`` is one model), detached."""
    if not isinstance(W, Tensor):
        raise TypeError(
            f"W must be a Tensor[n_hidden, n_features] or [n_instances, n_hidden, n_features], got {type(W).__name__}"
        )
    if W.ndim not in (2, 3):
        raise ValueError(
            f"W must have shape [n_hidden, n_features] or [n_instances, n_hidden, n_features], got {list(W.shape)}"
        )
    if not torch.isfinite(W).all():
        raise ValueError("W must be finite everywhere")
    return (W.unsqueeze(0) if W.ndim == 2 else W).detach().float()


class ActivationSampler:
    """Batches of ``h = W x``: ``sample(batch)`` returns ``(x, h)`` with ``x [1, batch, n_features]`` (one
    draw of the features, shared by every model) and ``h [n_models, batch, n_hidden]``.

    ``W``: ``[n_hidden, n_features]`` or ``[n_models, n_hidden, n_features]``; ``density``: the features'
    density, a float in [0, 1]; ``feature_sets``: ``None`` (independent features) or ``(kind, size)``
    pairs as in ``helpers.data.feature_sets``; ``seed`` and ``stream`` seed the draws."""

    def __init__(
        self,
        W: Tensor,
        density: float,
        *,
        seed: int,
        stream: int = 0,
        feature_sets: Sequence[tuple[str, int]] | None = None,
    ) -> None:
        self.W = checked_features(W)
        self.density = validation.finite_float("density", density, low=0.0, high=1.0)
        self.sets = feature_sets
        self.n_models, self.n_hidden, self.n_features = self.W.shape
        device = self.W.device
        self.generator = torch.Generator(device=device).manual_seed(derived_seed(seed, stream))
        self.sample(1)  # check the feature sets and their size early

    def features(self, batch_size: int) -> Tensor:
        """Fresh features ``x``: ``[1, batch_size, n_features]``."""
        device = self.W.device
        if self.sets is None:
            return sparse_features(
                1, batch_size, self.n_features, self.density, generator=self.generator, device=device
            )
        x = feature_sets(1, batch_size, self.sets, self.density, generator=self.generator, device=device)
        if x.shape[2] != self.n_features:
            raise ValueError(f"feature_sets describe {x.shape[2]} features, but W has n_features = {self.n_features}")
        return x

    def sample(self, batch_size: int) -> tuple[Tensor, Tensor]:
        """``(x [1, batch, n_features], h [n_models, batch, n_hidden])`` with ``h = W x``."""
        x = self.features(validation.positive_int("batch_size", batch_size))
        return x, x @ self.W.transpose(1, 2)
