"""Analytic results: expected losses of candidate solutions and the phase diagrams they imply.

The candidate losses are Wattenberg's exact expressions for the tied toy model (see the reference
notes): features present with probability ``p`` (the density) and then ~ U[0, 1), one "extra" feature
with relative importance ``r``, the others with importance 1. Losses are per example and summed over
features; divide by the number of features to compare with the trainer's mean-over-features loss."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from . import validation

#: The phases of the extra feature, in the order used for codes (0, 1, 2) in phase grids.
PHASES = ("not represented", "dedicated", "superposition")
OUTPUT_ACTIVATIONS = ("relu", "linear")


def _checked(relative_importance: float, density: float) -> tuple[float, float]:
    r = validation.finite_float("relative_importance", relative_importance, low=0.0, low_open=True)
    p = validation.finite_float("density", density, low=0.0, high=1.0, low_open=True)
    return r, p


def dropped_feature_loss(density: float) -> float:
    """Expected squared error of a dropped feature whose bias is its mean p/2: its variance p/3 − p²/4."""
    return density / 3 - density * density / 4


def n2m1_losses(relative_importance: float, density: float, *, activation: str = "relu") -> dict[str, float]:
    """Expected loss per example, summed over the 2 features, of the three candidate solutions of the
    tied model with n=2, m=1 (feature 1 has importance 1, feature 2 ``relative_importance``, both
    present with probability ``density`` and then ~ U[0, 1)).

    - ``"not represented"``: W = [1, 0]; the extra feature's bias is its mean p/2, costing
      r·(p/3 − p²/4).
    - ``"dedicated"``: W = [0, 1]; the other feature is dropped instead: p/3 − p²/4.
    - ``"superposition"``: W = [1, −1], an antipodal pair. With a ReLU output (b = 0) each feature's
      error ``min(x1, x2)²`` arises only when both are present: (1 + r)·p²/6. With a linear output
      (``activation="linear"``) nothing clips the interference: each feature's error is the other
      feature minus the best bias, (1 + r)·(p/3 − p²/4), never better than dropping one.
    """
    r, p = _checked(relative_importance, density)
    activation = validation.choice("activation", activation, OUTPUT_ACTIVATIONS)
    dropped = dropped_feature_loss(p)
    paired = (1 + r) * p * p / 6 if activation == "relu" else (1 + r) * dropped
    return {"not represented": r * dropped, "dedicated": dropped, "superposition": paired}


def phase_n2m1(relative_importance: float, density: float, *, activation: str = "relu") -> str:
    """The optimal solution for n=2, m=1: ``"not represented"``, ``"dedicated"`` or ``"superposition"``.

    Superposition wins below the critical density ``critical_density_n2m1(r)``; above it the more
    important feature takes the single dimension (the boundary between those two is r = 1). With
    ``activation="linear"`` superposition never wins."""
    losses = n2m1_losses(relative_importance, density, activation=activation)
    return min(PHASES, key=losses.__getitem__)


def critical_density_n2m1(relative_importance: float) -> float:
    """Density below which the antipodal pair beats a dedicated dimension, in closed form:
    ``4r/(2 + 5r)`` for r ≤ 1 and ``4/(5 + 2r)`` for r ≥ 1 (4/7 at r = 1)."""
    r = validation.finite_float("relative_importance", relative_importance, low=0.0, low_open=True)
    return 4 * r / (2 + 5 * r) if r <= 1 else 4 / (5 + 2 * r)


def uniform_loss_levels(n_features: int, n_hidden: int, density: float) -> dict:
    """Expected loss per feature (the trainer's mean over features) of the hand-built solutions of the
    uniform ReLU-output model: n features of importance 1 and density p in m dimensions.

    - ``"nothing"``: every feature dropped, its bias at its mean: its variance ``d = p/3 − p²/4``.
    - ``"PCA"``: m features on orthogonal axes, the rest dropped, ``(1 − m/n)·d``; the same for any
      rank-m projection with the bias at the mean (a linear model's best).
    - ``"pairs"``: ``[L(0), …, L(m)]``, k antipodal pairs on k axes (each pair errs by ``min(x_a, x_b)²``
      on each member, only when both are present: ``p²/3`` per pair) and the rest dropped,
      ``L(k) = (k·p²/3 + (n − 2k)·d)/n``.
    - ``"pair_step"``: ``L(k) − L(k+1) = (2d − p²/3)/n``, what one more pair gains. A band of less than
      half a step around a level tells pair counts apart.

    For n = 100, m = 10, p = 0.45 (chapter 4): PCA 0.089438, L(10) = 0.08625, a step of 0.0013."""
    n = validation.positive_int("n_features", n_features)
    m = validation.positive_int("n_hidden", n_hidden)
    if 2 * m > n:
        raise ValueError(f"m antipodal pairs need n_features ≥ 2·n_hidden, got n = {n}, m = {m}")
    p = validation.finite_float("density", density, low=0.0, high=1.0, low_open=True)
    d = dropped_feature_loss(p)
    pairs = [(k * p * p / 3 + (n - 2 * k) * d) / n for k in range(m + 1)]
    return {"nothing": d, "PCA": (1 - m / n) * d, "pairs": pairs, "pair_step": (2 * d - p * p / 3) / n}


#: The four candidates of the paper's n=3, m=2 diagram, named by the direction W ignores (features
#: 1, 2 have importance 1, feature 3 is the extra one), and the extra feature's phase in each.
N3M2_CANDIDATES = {
    "W ⊥ [0,0,1]": "not represented",  # features 1, 2 dedicated; the extra feature dropped
    "W ⊥ [1,0,0]": "dedicated",  # feature 1 dropped; features 2 and 3 dedicated
    "W ⊥ [0,1,1]": "superposition",  # the extra feature antipodal with feature 2; feature 1 dedicated
    "W ⊥ [1,1,0]": "dedicated",  # features 1, 2 antipodal; the extra feature dedicated
}


def n3m2_losses(relative_importance: float, density: float) -> dict[str, float]:
    """Expected loss per example, summed over the 3 features, of the paper's four candidate solutions
    for the ReLU-output model with n=3, m=2 (keys: ``N3M2_CANDIDATES``). Built from the n=2, m=1
    pieces: a dropped feature costs its importance times p/3 − p²/4, an antipodal pair of importances
    a and b costs (a + b)·p²/6, a dedicated feature nothing. The paper leaves out a fifth solution,
    all three features in joint superposition (W ⊥ [1,1,1]), and so do we."""
    r, p = _checked(relative_importance, density)
    dropped = dropped_feature_loss(p)
    return {
        "W ⊥ [0,0,1]": r * dropped,
        "W ⊥ [1,0,0]": dropped,
        "W ⊥ [0,1,1]": (1 + r) * p * p / 6,
        "W ⊥ [1,1,0]": 2 * p * p / 6,
    }


def phase_n3m2(relative_importance: float, density: float) -> str:
    """The extra feature's phase in the best of the four n=3, m=2 candidates: ``"not represented"``,
    ``"dedicated"`` or ``"superposition"``."""
    losses = n3m2_losses(relative_importance, density)
    return N3M2_CANDIDATES[min(losses, key=losses.__getitem__)]


def phase_grid(
    phase: Callable[[float, float], str], relative_importance: Sequence[float], density: Sequence[float]
) -> np.ndarray:
    """Phase codes (indices into ``PHASES``) of ``phase(r, p)`` on a grid: ``int array[n_density,
    n_importance]``, rows following ``density`` and columns ``relative_importance``."""
    return np.array([[PHASES.index(phase(float(r), float(p))) for r in relative_importance] for p in density])


def boundary_distance(codes: np.ndarray) -> np.ndarray:
    """For every cell of a grid of phase codes, how many grid steps it is from the nearest cell of
    another phase (Chebyshev distance, diagonal steps included): 1 for a cell on a phase boundary,
    ``max(shape)`` where the whole grid is one phase. ``int array`` of the shape of ``codes``."""
    codes = np.asarray(codes)
    if codes.ndim != 2:
        raise ValueError(f"codes must be a 2-D array of phase codes, got shape {codes.shape}")
    rows, cols = np.indices(codes.shape)
    distance = np.full(codes.shape, max(codes.shape), dtype=int)
    for r, c in zip(rows.flat, cols.flat, strict=True):
        other = codes != codes[r, c]
        if other.any():
            distance[r, c] = int(np.maximum(np.abs(rows - r), np.abs(cols - c))[other].min())
    return distance


def interior_cells(codes: np.ndarray) -> np.ndarray:
    """``bool array`` of the shape of ``codes``: cells whose neighbours (including diagonal ones) all
    share their phase, i.e. at least one grid step away from every phase boundary."""
    return boundary_distance(codes) > 1
