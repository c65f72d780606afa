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


def least_important_first(W: Tensor, *, min_norm: float = 0.5, free: float = 0.1) -> Verdict:
    """Superposition starts with the least important features (the paper's Basic Results: "It starts
    with less important features, and gradually affects the most important ones"). ``W: [n_densities,
    m, n]`` from dense to sparse, features in order of decreasing importance. A feature is *free* when it
    is represented (``‖W_i‖ > min_norm``) with superposition below ``free``.

    Holds when the number of free features starts at m (dense: m features, all free), falls to 0, and
    never rises as the density falls; when it passes through at least one intermediate value, so that
    free and superposed features coexist somewhere; and wherever they coexist, the most important feature
    is free and the free features are on average more important than the superposed ones. An untrained
    model (nothing free) fails, and so does a model whose *most* important features superpose first."""
    weights = _instances(W)
    m = weights.shape[1]
    norms = metrics.feature_norms(weights)
    overlap = metrics.superposition(weights)
    represented = norms > min_norm
    is_free = represented & (overlap < free)
    counts = is_free.sum(dim=1)
    rank = torch.arange(weights.shape[2], dtype=torch.float32)
    ordered = []
    for free_row, represented_row, count in zip(is_free, represented, counts.tolist(), strict=True):
        superposed = represented_row & ~free_row
        if 0 < count and superposed.any():
            ordered.append(bool(free_row[0]) and float(rank[free_row].mean()) < float(rank[superposed].mean()))
    holds = (
        int(counts[0]) == m
        and int(counts[-1]) == 0
        and bool((counts.diff() <= 0).all())
        and any(0 < c < m for c in counts.tolist())
        and all(ordered)
    )
    return Verdict(holds, {"free_features": counts, "ordered_where_mixed": ordered})


def returns_after_perturbation(
    exact_end: Tensor, perturbed_start: Tensor, perturbed_end: Tensor, *, tolerance: float = 0.05
) -> Verdict:
    """Is a geometry a local minimum? Train once from the exact geometry and once from a perturbed copy
    of it: it is stable where both runs end at the same solution. Solutions are compared by their Gram
    matrices ``WᵀW`` (the loss does not change under a rotation or reflection of the hidden space), as the
    largest entry-wise difference. Per instance (``[n_instances, m, n]`` each): ``holds`` is whether every
    instance returned; ``measured["returned"]`` says which. The perturbation must itself move the Gram
    matrix by more than ``2·tolerance`` from where the exact run ends, or the test could not fail: a model
    that does not train (an untrained control) stays where it started and fails it."""
    exact_end, perturbed_start, perturbed_end = (_instances(w) for w in (exact_end, perturbed_start, perturbed_end))

    def gram(w: Tensor) -> Tensor:
        return w.transpose(1, 2) @ w

    moved = (gram(perturbed_start) - gram(exact_end)).abs().amax(dim=(1, 2))
    gap = (gram(perturbed_end) - gram(exact_end)).abs().amax(dim=(1, 2))
    returned = (gap < tolerance) & (moved > 2 * tolerance)
    return Verdict(bool(returned.all()), {"returned": returned, "gap": gap, "perturbation": moved})


def collapsed_pca(W: Tensor, pairs: list[tuple[int, int]], *, tolerance: float = 0.1) -> Verdict:
    """One instance (``W: [m, n]``) is the linear PCA solution for correlated pairs: each pair collapsed
    onto one direction (cosine above 0.95, norms within ``tolerance`` of each other) and ``W`` a
    projection (all m singular values within ``tolerance`` of 1).

    Why that is PCA. For pairs of equal statistics (present together with probability p, values
    ~ U[0, 1)) the input covariance is block diagonal, with blocks ``[[a, c], [c, a]]``,
    ``a = p/3 − p²/4``, ``c = p/4 − p²/4``: eigenvalue ``a + c`` along each pair's sum
    ``u_j = (e_a + e_b)/√2``, ``a − c = p/12`` across it. With more pairs than dimensions the top
    eigenspace ``span(u_1, …, u_k)`` is degenerate, and a tied linear autoencoder (with bias) is optimal
    exactly when ``WᵀW`` projects onto some m-dimensional subspace of it: then ``W Wᵀ = I`` and
    ``W_a = W_b`` for partners. That fixes ``Σ_i ‖W_i‖² = m`` and ``‖W_i‖² = q_j / 2 ≤ 1/2``, with
    ``q_j = ‖P u_j‖²`` and ``Σ_j q_j = m``, but not how the pairs share the m dimensions: the symmetric
    subspace gives three pairs in two dimensions ``‖W_i‖ = 1/√3`` at 120°, while ``1/√2`` needs a pair
    that owns a whole dimension. Rules out an untrained model (partners not collapsed) and the
    nonlinear collapse of sparser data, three collapsed pairs of norm 1/√2 in superposition (``W Wᵀ =
    1.5 I``, singular values 1.22)."""
    weights = _instances(W)
    if weights.shape[0] != 1:
        raise ValueError(f"W must be one instance, [n_hidden, n_features], got {list(W.shape)}")
    weights = weights[0]
    cosines = metrics.feature_cosines(weights)
    norms = metrics.feature_norms(weights)
    partner_cosine = torch.stack([cosines[a, b] for a, b in pairs])
    norm_gap = torch.stack([(norms[a] - norms[b]).abs() for a, b in pairs])
    singular = torch.linalg.svdvals(weights)
    pair_share = torch.stack([norms[a].square() + norms[b].square() for a, b in pairs])
    holds = (
        bool((partner_cosine > 0.95).all())
        and bool((norm_gap < tolerance).all())
        and bool(((singular - 1).abs() < tolerance).all())
    )
    return Verdict(
        holds,
        {"partner_cosines": partner_cosine, "singular_values": singular, "pair_shares": pair_share, "norms": norms},
    )
