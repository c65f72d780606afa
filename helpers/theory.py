"""Analytic results: expected losses of candidate solutions and the phase diagram they imply."""

from __future__ import annotations

from . import validation

PHASES_N2M1 = ("not represented", "dedicated", "superposition")


def n2m1_losses(relative_importance: float, density: float) -> dict[str, float]:
    """Expected loss per example, summed over the 2 features, of the three candidate solutions of the
    ReLU-output model with n=2, m=1 (feature 1 has importance 1, feature 2 ``relative_importance``,
    both present with probability ``density`` and then ~ U[0, 1)).

    - ``"not represented"``: W = [1, 0]; the extra feature's bias is its mean p/2, costing
      r·(p/3 − p²/4).
    - ``"dedicated"``: W = [0, 1]; the other feature is dropped instead: p/3 − p²/4.
    - ``"superposition"``: W = [1, −1], b = 0, an antipodal pair; the error ``min(x1, x2)²`` on each
      feature arises only when both are present: (1 + r)·p²/6.

    These are Wattenberg's exact losses (see the reference notes). Divide by 2 to compare with the
    trainer's mean-over-features loss.
    """
    r = validation.finite_float("relative_importance", relative_importance, low=0.0, low_open=True)
    p = validation.finite_float("density", density, low=0.0, high=1.0, low_open=True)
    dropped = p / 3 - p * p / 4
    return {"not represented": r * dropped, "dedicated": dropped, "superposition": (1 + r) * p * p / 6}


def phase_n2m1(relative_importance: float, density: float) -> str:
    """The optimal solution for n=2, m=1: ``"not represented"``, ``"dedicated"`` or ``"superposition"``.

    Superposition wins below the critical density ``critical_density_n2m1(r)``; above it the more
    important feature takes the single dimension (the boundary between those two is r = 1)."""
    losses = n2m1_losses(relative_importance, density)
    return min(PHASES_N2M1, key=losses.__getitem__)


def critical_density_n2m1(relative_importance: float) -> float:
    """Density below which the antipodal pair beats a dedicated dimension, in closed form:
    ``4r/(2 + 5r)`` for r ≤ 1 and ``4/(5 + 2r)`` for r ≥ 1 (4/7 at r = 1)."""
    r = validation.finite_float("relative_importance", relative_importance, low=0.0, low_open=True)
    return 4 * r / (2 + 5 * r) if r <= 1 else 4 / (5 + 2 * r)
