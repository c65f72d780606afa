"""Curves over a sweep of settings, mostly the feature density: dimensions per feature ``D*`` (one model, or
one curve per activation), every feature's dimensionality ``D_i`` over the paper's geometry lines, the mean
and range of repeated runs, and the losses of candidate geometries."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .style import ACTIVATION_COLOURS, as_numpy, guide, labelled, new_axes

#: Feature dimensionalities of the simple geometries: the paper's reference lines, 3/4 to 3/8 and 0. It draws
#: none at 1, "if not for the fact that basis features are indistinguishable from other directions in the
#: dense regime".
GEOMETRY_LINES: dict[str, float] = {
    "tetrahedron": 3 / 4,
    "triangle": 2 / 3,
    "antipodal pair (digon)": 1 / 2,
    "pentagon": 2 / 5,
    "square antiprism": 3 / 8,
    "not learned": 0.0,
}

_INVERSE_DENSITY = "1 / feature density, 1/(1−S)  (log scale)"
_DIMENSIONS_PER_FEATURE = "dimensions per feature  D* = m/‖W‖²_F"


def plot_dimensions_per_feature(
    inverse_density,
    dims_per_feature,
    *,
    reference=None,
    reference_label: str = "published",
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """``D* = m/‖W‖_F²`` against ``1/(1−S)`` on a log axis, with guides at 1 and 1/2 and an optional
    published curve (``reference``, same x values) for comparison."""
    fig, ax = new_axes(ax, (6.4, 3.8))
    x = as_numpy(inverse_density)
    for level, label in ((1.0, "1"), (0.5, "1/2")):
        guide(ax, level, label, offset=(-4, 3), ha="right", va="bottom", ls="--", line_colour="0.6", text_colour="0.35")
    if reference is not None:
        ax.plot(x, as_numpy(reference), "s", mfc="none", ms=7, color="0.45", label=reference_label)
    ax.plot(x, as_numpy(dims_per_feature), "o-", color="C3", ms=4.5, label="measured")
    ax.set_xscale("log")
    ax.set_ylim(0, 1.12)
    title = title or "Dimensions per feature fall with sparsity and stick at 1 and 1/2"
    legend = {"loc": "upper right", "bbox_to_anchor": (1.0, 0.92)}
    return labelled(fig, ax, _INVERSE_DENSITY, _DIMENSIONS_PER_FEATURE, title, legend=legend)


def plot_dimensions_per_feature_by_activation(
    inverse_density,
    measured: dict[str, Sequence[float]],
    published: dict[str, Sequence[float]] | None = None,
    *,
    title: str | None = None,
) -> Figure:
    """``D*`` against ``1/(1−S)`` for several output activations (``measured``: name → ``[n_points]``),
    one colour each (``ACTIVATION_COLOURS``). With ``published`` (same keys and x values), the left
    panel draws the published curves as dashed lines beside the measured ones and a right panel shows
    the difference measured − published."""
    columns = 2 if published is not None else 1
    fig, axes = plt.subplots(1, columns, figsize=(6.6 * columns, 4.4), squeeze=False, layout="constrained")
    x = as_numpy(inverse_density)
    ax = axes[0, 0]
    for level in (1.0, 0.5):
        guide(ax, level)
    for name, values in measured.items():
        colour = ACTIVATION_COLOURS.get(name, None)
        ax.plot(x, as_numpy(values), "o-", ms=3.5, lw=1.6, color=colour, label=name)
        if published is not None:
            ax.plot(x, as_numpy(published[name]), "--", lw=1.1, color=colour, alpha=0.8)
    ax.set_xscale("log")
    ax.set_ylim(0, 1.1)
    handles, _ = ax.get_legend_handles_labels()
    if published is not None:
        handles += [
            mpl.lines.Line2D([], [], color="0.3", marker="o", ms=3.5, label="measured"),
            mpl.lines.Line2D([], [], color="0.3", ls="--", label="published"),
        ]
    legend = {"handles": handles, "ncol": 5, "loc": "upper center", "bbox_to_anchor": (0.5, -0.14)}
    title = title or "Dimensions per feature for each output activation"
    labelled(fig, ax, _INVERSE_DENSITY, _DIMENSIONS_PER_FEATURE, title, legend=legend)
    if published is not None:
        ax = axes[0, 1]
        guide(ax, 0.0, ls="-", line_colour="0.5")
        for name, values in measured.items():
            difference = as_numpy(values) - as_numpy(published[name])
            ax.plot(x, difference, "o-", ms=3.5, lw=1.4, color=ACTIVATION_COLOURS.get(name, None), label=name)
        ax.set_xscale("log")
        labelled(
            fig, ax, _INVERSE_DENSITY, "D* measured − published", "Difference from the published curves", legend=False
        )
    return fig


def plot_feature_dimensionality(
    inverse_density,
    dimensionality,
    *,
    min_dimensionality: float = 0.01,
    lines: dict[str, float] | None = None,
    ax: Axes | None = None,
    seed: int = 0,
    title: str | None = None,
) -> Figure:
    """Scatter of every feature's ``D_i`` against ``1/(1−S)`` (``dimensionality``:
    ``[n_points, n_features]``), slightly jittered in x, over reference lines for the geometries.
    Features with ``D_i < min_dimensionality`` (not learned) are left out."""
    fig, ax = new_axes(ax, (7.2, 4.2))
    x = as_numpy(inverse_density)
    dims = as_numpy(dimensionality)
    rng = np.random.default_rng(seed)
    lines = GEOMETRY_LINES if lines is None else lines
    for name, level in lines.items():
        guide(ax, level, f"{name}  {_fraction(level)}")
    for xi, row in zip(x, dims, strict=True):
        kept = row[row >= min_dimensionality]
        jitter = xi * np.exp(rng.uniform(-0.03, 0.03, size=kept.size))
        ax.scatter(jitter, kept, s=9, alpha=0.55, color="C0", edgecolor="none")
    ax.set_xscale("log")
    ax.set_ylim(-0.03, 1.03)  # room for the line at 0 (features not learned)
    title = title or "Features snap to the dimensionalities of simple geometries"
    return labelled(fig, ax, _INVERSE_DENSITY, "feature dimensionality  D_i", title, legend=False)


def _fraction(value: float) -> str:
    frac = Fraction(value).limit_denominator(12)
    return str(frac.numerator) if frac.denominator == 1 else f"{frac.numerator}/{frac.denominator}"


def plot_mean_and_range(
    x,
    series: dict[str, Sequence[Sequence[float]]],
    *,
    colours: dict[str, str] | None = None,
    guides: Sequence[float] = (),
    log_x: bool = True,
    xlabel: str = "",
    ylabel: str = "",
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Repeated runs of several models against one setting: for each ``series`` (label →
    ``[n_points, n_repeats]``) the mean over repeats as a line and the range from the smallest to the
    largest repeat as a band, with optional dotted horizontal ``guides``."""
    fig, ax = new_axes(ax, (6.4, 3.8))
    xs = as_numpy(x)
    for level in guides:
        guide(ax, level)
    for label, values in series.items():
        runs = as_numpy(values)
        if runs.ndim != 2 or runs.shape[0] != xs.shape[0]:
            raise ValueError(f"series {label!r} must be [n_points = {xs.shape[0]}, n_repeats], got {list(runs.shape)}")
        colour = (colours or {}).get(label)
        line = ax.plot(xs, runs.mean(axis=1), "o-", ms=3.5, lw=1.6, color=colour, label=label)[0]
        ax.fill_between(xs, runs.min(axis=1), runs.max(axis=1), color=line.get_color(), alpha=0.2, lw=0)
    if log_x:
        ax.set_xscale("log")
    return labelled(fig, ax, xlabel, ylabel, title)


def plot_geometry_losses(
    relative_density,
    losses: dict[str, np.ndarray],
    *,
    kept: dict[str, np.ndarray] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Loss of each candidate geometry (``losses``: name → ``[n_points]``) against a relative density on
    a log axis. ``kept`` (name → bool ``[n_points]``, optional) draws points where the fit left its
    geometry as hollow markers, so a crossing is read only from fits that stayed what they claim."""
    fig, ax = new_axes(ax, (5.6, 3.6))
    x = as_numpy(relative_density)
    for index, (name, values) in enumerate(losses.items()):
        y = as_numpy(values)
        colour = f"C{index}"
        ax.plot(x, y, color=colour, lw=1.4, label=name)
        mask = np.ones_like(y, dtype=bool) if kept is None else as_numpy(kept[name]).astype(bool)
        ax.scatter(x[mask], y[mask], color=colour, s=22, zorder=3)
        ax.scatter(x[~mask], y[~mask], facecolor="white", edgecolor=colour, s=22, zorder=3)
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _: f"{v:g}×"))
    return labelled(fig, ax, "density of the perturbed feature, relative to the others", "loss", title)
