"""The tests behind the chapters' claims about trained models, each a function of the trained weights
(or of curves measured on them) that returns whether the result holds and what was measured.

They live here rather than in the notebooks so that ``tests/test_criteria.py`` can show that each one
*fails* on the alternative it rules out: an untrained (Xavier-initialised) model, the competing
geometry, a keep-the-top-m-and-drop-the-rest solution. Every threshold is derived in the docstring of
the function that uses it. Weights are ``W: [n_instances, n_hidden, n_features]`` (or one instance,
``[n_hidden, n_features]``), as in ``helpers.metrics``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor

from . import metrics

#: A feature "sits at" a dimensionality level when its D_i is this close to it (the paper's lines are
#: at least 1/40 apart: 2/5 and 3/8).
LEVEL_TOLERANCE = 0.03
#: Two features are an antipodal pair when the cosine between them is below this (an angle above 162°).
ANTIPODAL_COSINE = -0.95


@dataclass(frozen=True)
class Verdict:
    """Whether a criterion holds (``holds``), and the numbers it measured (``measured``, for the claim's
    message and the prose). ``bool(verdict)`` is ``verdict.holds``."""

    holds: bool
    measured: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.holds


def _instances(W: Tensor) -> Tensor:
    if not isinstance(W, Tensor) or W.ndim not in (2, 3):
        raise ValueError("W must be a Tensor[n_instances, n_hidden, n_features] or [n_hidden, n_features]")
    return (W.unsqueeze(0) if W.ndim == 2 else W).detach().float()


def uses_every_dimension(W: Tensor, *, slack: float = 0.5) -> Verdict:
    """The features' dimensionalities add up to the number of hidden dimensions, ``Σ_i D_i > m − slack``,
    in every instance: the model "packs efficiently", the paper's words, leaving no dimension unused.

    ``Σ_i D_i ≤ m`` holds for any W (it is at most the rank), so only the closeness to m is a finding.
    It is exactly m when ``W Wᵀ`` is a multiple of the identity (a tight frame: a projection, or pairs of
    unit features on orthogonal axes), and it does not need every feature to be large: features sharing a
    direction with small weights add up to that direction's one dimension. A random (untrained) W is not
    tight: each ``D_i`` is about ``m/(n + m − 1)`` of a dimension, so the sum falls about ``m²/n`` short
    (1.8 of 20 dimensions for n = 200, 2.1 of 30 for n = 400). ``slack`` = 1/2 is a quarter of that."""
    weights = _instances(W)
    m = weights.shape[1]
    sums = metrics.feature_dimensionality(weights).sum(dim=1)
    return Verdict(bool((sums > m - slack).all()), {"smallest_sum": sums.min(), "m": m})


def spread_projection(W: Tensor, *, band: tuple[float, float] = (0.85, 1.05)) -> Verdict:
    """One instance (``W: [m, n]``) is close to a projection spread over most features, as a dense
    uniform-importance model is: all m singular values within ``band`` of 1 (``WᵀW`` is then nearly a
    projection of rank m); no feature holds more than half a dimension (``‖W_i‖² < 1/2``); and at least
    half of the features hold at least half of the average share, ``‖W_i‖² ≥ m/(2n)``.

    Rules out keep-the-top-m-and-drop-the-rest, which is also a projection but gives m features
    ``‖W_i‖² = 1`` and the others 0, and an untrained W, whose singular values spread over
    ``√(n σ²)(1 ± √(m/n))`` (Marchenko–Pastur), from 0.9 to 1.7 for Xavier weights at n = 200, m = 20."""
    weights = _instances(W)
    if weights.shape[0] != 1:
        raise ValueError(f"W must be one instance, [n_hidden, n_features], got {list(W.shape)}")
    weights = weights[0]
    m, n = weights.shape
    singular = torch.linalg.svdvals(weights)
    shares = weights.square().sum(dim=0)
    spread = float((shares >= m / (2 * n)).float().mean())
    holds = bool(((singular >= band[0]) & (singular <= band[1])).all()) and float(shares.max()) < 0.5 and spread >= 0.5
    return Verdict(
        holds,
        {
            "smallest_singular_value": singular.min(),
            "largest_singular_value": singular.max(),
            "largest_share": shares.max(),
            "share_of_features_holding_half_the_average": spread,
        },
    )


def antipodal_pair_packing(W: Tensor, *, min_fill: float = 0.9, norm_tolerance: float = 0.05) -> Verdict:
    """Every instance packs its features as antipodal pairs, the geometry of the D* = 1/2 plateau: at
    least ``min_fill`` of the 2m features m dimensions can hold as pairs sit at ``D_i = 1/2``
    (within ``LEVEL_TOLERANCE``), every one of them has an antipodal partner (cosine below
    ``ANTIPODAL_COSINE``), and 90% of them have norm within ``norm_tolerance`` of 1.

    The partner test is what tells pairs apart from two *parallel* copies of a feature, which also have
    ``D_i = 1/2``; the count rules out an untrained model (no feature near 1/2) and top-m (all at 1)."""
    weights = _instances(W)
    m = weights.shape[1]
    at_half = (metrics.feature_dimensionality(weights) - 0.5).abs() < LEVEL_TOLERANCE
    partner = metrics.antipodal_partner_cosine(weights)
    norms = metrics.feature_norms(weights)
    counts = at_half.sum(dim=1)
    partnered = [bool((p[mask] < ANTIPODAL_COSINE).all()) for p, mask in zip(partner, at_half, strict=True)]
    unit = [
        float(((nrm[mask] - 1).abs() < norm_tolerance).float().mean()) if mask.any() else 0.0
        for nrm, mask in zip(norms, at_half, strict=True)
    ]
    holds = bool((counts >= min_fill * 2 * m).all()) and all(partnered) and min(unit) >= 0.9
    return Verdict(holds, {"features_at_half": counts, "all_partnered": all(partnered), "unit_norm_share": unit})


def sticky_level(values: Tensor, on_level: Tensor, *, level: float, tolerance: float, span: int = 3) -> Verdict:
    """A curve (``values: [n_points]``, e.g. D* along the density grid) *sticks* at ``level`` over the
    points ``on_level`` (a bool mask of consecutive points): there it stays within ``tolerance`` of
    ``level`` and changes (max − min) by less than half as much as it falls over the ``span`` grid
    points on either side, and it falls by more than 0.1 on each side.

    Measured on the published D* curve (n = 200, m = 20, the official recipe; Lad & Kostolansky 2023) at
    the 1/2 plateau: a change of 0.024 on the plateau against falls of 0.43 and 0.17 on either side. A
    curve that never moves (an untrained model: D* ≈ (m + n)/2n everywhere) and one that falls evenly
    both fail, however close to ``level`` they pass."""
    values = torch.as_tensor(values, dtype=torch.float64).flatten()
    on_level = torch.as_tensor(on_level, dtype=torch.bool).flatten()
    index = on_level.nonzero().flatten()
    if index.numel() < 2 or bool((index.diff() != 1).any()):
        raise ValueError("on_level must mark at least 2 consecutive points")
    first, last = int(index[0]), int(index[-1])
    if first - span < 0 or last + span >= values.numel():
        raise ValueError(f"need {span} points on either side of the level's points")
    inside = values[on_level]
    change = float(inside.max() - inside.min())
    before = float(values[first - span] - values[first])
    after = float(values[last] - values[last + span])
    near = bool(((inside - level).abs() <= tolerance).all())
    holds = near and min(before, after) > 0.1 and change < 0.5 * min(before, after)
    return Verdict(holds, {"values": inside, "change_on_level": change, "fall_before": before, "fall_after": after})
