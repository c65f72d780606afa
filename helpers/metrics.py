"""Measurements on trained weights ``W: [n_instances, n_hidden, n_features]`` (column i is feature i's
direction ``W_i`` in the hidden space). A 2-D ``W: [n_hidden, n_features]`` counts as one instance and
the results then drop the instance axis."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from . import validation

EPS = 1e-12


def _per_instance(metric: Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    """Validate ``W``, accept 2-D (one instance), compute in float32 without gradients."""

    def wrapped(W: Tensor, *args, **kwargs) -> Tensor:
        if not isinstance(W, Tensor):
            raise TypeError(f"W must be a Tensor[n_instances, n_hidden, n_features], got {type(W).__name__}")
        if W.ndim not in (2, 3):
            raise ValueError(
                f"W must have shape [n_instances, n_hidden, n_features] (or [n_hidden, n_features]), "
                f"got {list(W.shape)}"
            )
        single = W.ndim == 2
        weights = W.detach().float()
        result = metric(weights.unsqueeze(0) if single else weights, *args, **kwargs)
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


def _represented_mask(represented: Tensor | None, W: Tensor) -> Tensor:
    """``represented`` as a bool ``[n_instances, n_features]`` (all True when ``None``)."""
    if represented is None:
        return torch.ones(W.shape[0], W.shape[2], dtype=torch.bool, device=W.device)
    mask = torch.as_tensor(represented, dtype=torch.bool, device=W.device)
    if mask.ndim == 1:  # one instance, as for a 2-D W
        mask = mask.unsqueeze(0)
    if mask.shape != (W.shape[0], W.shape[2]):
        raise ValueError(
            f"represented must be [n_instances, n_features] = {[W.shape[0], W.shape[2]]}, got {list(mask.shape)}"
        )
    return mask


def _others(W: Tensor, represented: Tensor | None) -> tuple[Tensor, Tensor]:
    """Feature cosines and the mask of the pairs (i, j) that count: j ≠ i and j represented."""
    mask = _represented_mask(represented, W)
    others = mask.unsqueeze(1) & ~torch.eye(W.shape[2], dtype=torch.bool, device=W.device)
    return feature_cosines(W), others


@_per_instance
def antipodal_partner_cosine(W: Tensor, represented: Tensor | None = None) -> Tensor:
    """For every feature, the most negative cosine with any *other* feature: −1 for a member of an
    exact antipodal pair. ``represented`` (``[n_instances, n_features]`` of bool) restricts the partners
    to represented features (2.0 when there is none). ``Tensor[n_instances, n_features]``."""
    cosine, others = _others(W, represented)
    return cosine.where(others, torch.full_like(cosine, 2.0)).min(dim=2).values


@_per_instance
def shared_direction(W: Tensor, represented: Tensor | None = None) -> Tensor:
    """``Σ_j cos²(W_i, W_j)`` over the other features j (only the represented ones when ``represented``,
    ``[n_instances, n_features]`` of bool, is given): how much feature i's direction is shared, whatever
    the weights' scale. 0 for a direction of its own, 1 for an antipodal pair, 1/2 for a triangle;
    for unit-norm features it equals ``superposition``. ``Tensor[n_instances, n_features]``."""
    cosine, others = _others(W, represented)
    return cosine.square().where(others, torch.zeros_like(cosine)).sum(dim=2)


def _one_instance_2d(W: Tensor) -> Tensor:
    weights = W.detach().float()
    if weights.ndim != 2 or weights.shape[0] != 2:
        raise ValueError(f"W must be one instance with 2 hidden dimensions, shape [2, n_features], got {list(W.shape)}")
    return weights


def angular_gaps(W: Tensor, *, min_norm: float = 0.5) -> Tensor:
    """Angles in degrees between angularly adjacent represented features (``‖W_i‖ > min_norm``) of one
    instance with 2 hidden dimensions (``W: [2, n_features]``), going once round the circle: they add
    up to 360. ``Tensor[n_represented]`` (empty when fewer than 2 features are represented)."""
    weights = _one_instance_2d(W)
    kept = weights[:, weights.norm(dim=0) > min_norm]
    if kept.shape[1] < 2:
        return kept.new_zeros(0)
    angles = torch.atan2(kept[1], kept[0]).rad2deg().sort().values
    return torch.diff(angles, append=angles[:1] + 360.0)


def geometry_2d(W: Tensor, *, min_norm: float = 0.5, tolerance: float = 5.0) -> str:
    """Name the arrangement of the represented features (``‖W_i‖ > min_norm``) of one instance with 2
    hidden dimensions (``W: [2, n_features]``):

    - ``"pentagon"``: 5 features, every adjacent gap 72° ± ``tolerance``;
    - ``"deformed pentagon"``: 5 features otherwise;
    - ``"two antipodal pairs"`` (the paper's "pair of digons", a square): 4 features, each with an
      antipodal partner (cosine < −0.95), the pairs 90° ± ``tolerance`` apart;
    - ``"triangle"``: 3 features, every gap 120° ± ``tolerance``;
    - ``"orthogonal pair"``: 2 features, 90° ± ``tolerance`` apart; ``"antipodal pair"``: 180° apart;
    - otherwise ``"<k> features"``."""
    weights = _one_instance_2d(W)
    gaps = angular_gaps(weights, min_norm=min_norm)
    k = int((weights.norm(dim=0) > min_norm).sum())

    def regular(angle: float) -> bool:
        return bool(((gaps - angle).abs() <= tolerance).all())

    if k == 5:
        return "pentagon" if regular(72.0) else "deformed pentagon"
    if k == 4:
        kept = weights[:, weights.norm(dim=0) > min_norm]
        partners = antipodal_partner_cosine(kept)
        return "two antipodal pairs" if bool((partners < -0.95).all()) and regular(90.0) else "4 features"
    if k == 3 and regular(120.0):
        return "triangle"
    if k == 2 and bool(((gaps - 90.0).abs() <= tolerance).any()):
        return "orthogonal pair"
    if k == 2 and regular(180.0):
        return "antipodal pair"
    return f"{k} features"


#: ``feature_phase`` code for a represented feature that shares its direction without an antipodal
#: partner (e.g. McGrath's "confused" solution W_1 ≈ W_2): none of the candidate solutions the phase
#: diagrams compare, so it never matches a theory code (0, 1, 2 index ``helpers.theory.PHASES``).
OTHER_PHASE = 3


@_per_instance
def feature_phase(
    W: Tensor,
    feature: int = -1,
    *,
    min_norm: float = 0.5,
    min_superposition: float = 0.25,
    antipodal_cosine: float = -0.9,
    represented: Tensor | None = None,
) -> Tensor:
    """Phase of one feature (default: the last, the "extra" feature of the phase diagrams), per
    instance: 0 "not represented" (``‖W_i‖ ≤ min_norm``); 2 "superposition" (represented, other features
    project onto it, ``Σ_{j≠i}(Ŵ_i·W_j)² ≥ min_superposition``, and one of them is its antipodal
    partner, cosine below ``antipodal_cosine``, as in the antipodal pair the theory compares); 3
    ``OTHER_PHASE`` (shared but with no antipodal partner, e.g. two features pointing the same way);
    else 1 "dedicated". Codes 0-2 index ``helpers.theory.PHASES``. ``Tensor[n_instances]`` of int64.

    ``min_superposition`` = 1/4 sits below every shared geometry of unit features (an antipodal pair
    gives 1, a triangle 1/2) and above the small overlap a dedicated feature keeps from training.

    ``represented`` (``Tensor[n_instances, n_features]`` of bool, e.g. ``feature_response(model) ≥
    REPRESENTED_RESPONSE``) replaces the norm test for activations that rescale the weights (a sigmoid
    needs norms of 2 or more): then the rule is scale-free, and the overlap is ``Σ_j cos²(W_i, W_j)``
    over the other represented features, which equals the superposition for unit features."""
    if represented is None:
        represented_all = W.norm(dim=1) > min_norm
        overlap = superposition(W)[:, feature]
    else:
        represented_all = _represented_mask(represented, W)
        overlap = shared_direction(W, represented_all)[:, feature]
    antipodal = antipodal_partner_cosine(W, represented_all)[:, feature] < antipodal_cosine
    codes = torch.ones(W.shape[0], dtype=torch.long, device=W.device)
    shared = overlap >= min_superposition
    codes[shared & antipodal] = 2
    codes[shared & ~antipodal] = OTHER_PHASE
    codes[~represented_all[:, feature]] = 0
    return codes


#: A neuron counts as monosemantic when one feature holds more than this share of its weight norm
#: (``max_i |W_ji| / ‖W_j‖``), ARENA's criterion for the privileged-basis models.
MONOSEMANTIC_THRESHOLD = 0.99


@_per_instance
def neuron_monosemanticity(W: Tensor) -> Tensor:
    """For every neuron (row j of ``W: [n_instances, n_neurons, n_features]``, its input weights),
    the share of its weight norm in its largest feature, ``max_i |W_ji| / ‖W_j‖``: 1 when the neuron
    reads one feature, ``1/√n`` when it reads all n equally, 0 for a neuron with no weights.
    ``Tensor[n_instances, n_neurons]``."""
    return W.abs().amax(dim=2) / W.norm(dim=2).clamp_min(EPS)


def monosemantic_neurons(W: Tensor, *, threshold: float = MONOSEMANTIC_THRESHOLD) -> Tensor:
    """How many neurons of each instance are monosemantic (``neuron_monosemanticity > threshold``):
    ``Tensor[n_instances]`` (a scalar for a 2-D ``W``)."""
    if not 0.0 < float(threshold) <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
    return (neuron_monosemanticity(W) > threshold).sum(dim=-1)


#: A feature counts as represented when switching it on alone (value 1) raises its own output by at
#: least this much: the model then reproduces at least half of it, whatever its weight norm.
REPRESENTED_RESPONSE = 0.5


def _check_instance_model(model, kind: str) -> None:
    for name in ("n_instances", "n_features"):
        if not isinstance(getattr(model, name, None), int):
            raise TypeError(f"model must be {kind} with n_instances and n_features, got {model!r}")


def feature_response(model) -> Tensor:
    """How much each feature, switched on alone at value 1, raises its own output above the model's
    output for the all-zero input: ``x'_i(e_i) − x'_i(0)``, ``Tensor[n_instances, n_features]``.

    A functional measure, unlike the weight norm: 1 for a feature reconstructed perfectly, 0 for one
    the model ignores, whatever the activation does to the scale of ``W``. ``model`` is a reconstruction
    model with ``n_instances`` and ``n_features`` (e.g. ``helpers.ToyModel``)."""
    _check_instance_model(model, "a reconstruction model")
    n_instances, n_features = model.n_instances, model.n_features
    device = next(model.parameters()).device
    with torch.no_grad():
        alone = torch.eye(n_features, device=device).expand(n_instances, n_features, n_features)
        on = model(alone).diagonal(dim1=1, dim2=2)  # output i for the input e_i
        off = model(torch.zeros(n_instances, 1, n_features, device=device))[:, 0, :]
    return (on - off).float().cpu()


def represented_features(model, *, threshold: float = REPRESENTED_RESPONSE) -> Tensor:
    """How many features each instance represents, ``feature_response ≥ threshold``: ``Tensor[n_instances]``."""
    if not 0.0 < float(threshold) <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
    return (feature_response(model) >= threshold).sum(dim=-1)


#: A represented feature counts as sharing its direction when ``shared_direction`` (among represented
#: features) reaches this: below the shared geometries of unit features (an antipodal pair gives 1, a
#: triangle 1/2, a tetrahedron 1/3) and above the small overlap a dedicated feature keeps from
#: training. The same 1/4 as ``feature_phase``'s ``min_superposition``.
SHARED_OVERLAP = 0.25
#: A feature has an antipodal partner when some other represented feature has cosine below this.
ANTIPODAL_COSINE = -0.9


def represented_geometry(model, *, threshold: float = REPRESENTED_RESPONSE) -> dict[str, Tensor]:
    """Which features a reconstruction model represents and how, measured without trusting weight
    norms (valid for quantised or rescaled weights): ``"represented"`` (``feature_response ≥
    threshold``), ``"shared"`` (represented, and ``shared_direction`` among represented features
    ``≥ SHARED_OVERLAP``) and ``"antipodal"`` (shared, with a represented partner at cosine below
    ``ANTIPODAL_COSINE``), each a bool ``Tensor[n_instances, n_features]`` on the CPU. ``model`` needs
    ``W`` (``[n_instances, n_hidden, n_features]``) besides what ``feature_response`` needs."""
    if not 0.0 < float(threshold) <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
    represented = feature_response(model) >= threshold
    W = model.W.detach().float().cpu()
    shared = represented & (shared_direction(W, represented) >= SHARED_OVERLAP)
    antipodal = shared & (antipodal_partner_cosine(W, represented) < ANTIPODAL_COSINE)
    return {"represented": represented, "shared": shared, "antipodal": antipodal}


def absolute_value_error(model, *, n_values: int = 200) -> Tensor:
    """How well each feature's absolute value is computed (``helpers.AbsValueModel``): for the inputs
    with feature i alone present, at ``n_values`` values v evenly spaced in [−1, 1], the squared error
    of output i against |v| relative to E[v²], ``Σ_v (y_i(v e_i) − |v|)² / Σ_v v²``.
    ``Tensor[n_instances, n_features]``.

    0 for a feature computed exactly (``ReLU(x) + ReLU(−x)``), 1/2 for one computed on one side only
    (a single ``ReLU(x)`` or ``ReLU(−x)`` neuron), 1 for a feature the model ignores (output 0)."""
    _check_instance_model(model, "an absolute-value model")
    n_values = validation.positive_int("n_values", n_values)
    if n_values < 2:
        raise ValueError(f"n_values must be at least 2, got {n_values}")
    device = next(model.parameters()).device
    values = torch.linspace(-1.0, 1.0, n_values, device=device)
    errors = torch.empty(model.n_instances, model.n_features)
    with torch.no_grad():
        for feature in range(model.n_features):
            x = torch.zeros(model.n_instances, n_values, model.n_features, device=device)
            x[:, :, feature] = values
            output = model(x)[:, :, feature]  # [instances, values]
            errors[:, feature] = ((output - values.abs()).square().sum(dim=1) / values.square().sum()).cpu()
    return errors
