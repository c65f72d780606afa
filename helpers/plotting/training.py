"""Training over time: loss curves on log axes with their plateaus shaded, and the learning-dynamics figure
(every feature's dimensionality over training, above the loss)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .style import as_numpy, guide, labelled, new_axes


def _shade_plateaus(ax: Axes, plateaus) -> None:
    """Grey bands over ``dynamics.Plateau`` spans (steps drawn as step + 1 on a log axis)."""
    for plateau in plateaus or ():
        ax.axvspan(plateau.start + 1, plateau.end + 1, color="0.88", zorder=0, lw=0)


def plot_loss_history(
    steps,
    loss,
    *,
    references: dict[str, float] | None = None,
    plateaus=None,
    labels: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Loss against step + 1, both on log axes. ``loss``: ``[n_samples]`` or ``[n_samples, n_runs]``
    (one line per run); ``references``: name → loss of a known solution, drawn as labelled dashed
    lines; ``plateaus``: ``dynamics.Plateau`` spans to shade (e.g. of the first run)."""
    fig, ax = new_axes(ax, (6.4, 3.4))
    x = as_numpy(steps) + 1
    y = as_numpy(loss)
    y = y[:, None] if y.ndim == 1 else y
    _shade_plateaus(ax, plateaus)
    for run in range(y.shape[1]):
        label = labels[run] if labels is not None else None
        ax.plot(x, y[:, run], lw=1.3 if y.shape[1] == 1 else 1.0, alpha=1.0 if y.shape[1] == 1 else 0.75, label=label)
    for name, level in (references or {}).items():
        guide(ax, level, name, at=0.0, offset=(4, 2), va="bottom", ls="--", line_colour="0.3", text_colour="0.25")
    ax.set_xscale("log")
    ax.set_yscale("log")
    return labelled(
        fig, ax, "training step (log scale)", "loss (fixed evaluation batch)", title, legend=labels is not None
    )


def plot_dimensionality_history(
    steps,
    dimensionality,
    loss,
    *,
    plateaus=None,
    levels: dict[str, float] | None = None,
    title: str | None = None,
) -> Figure:
    """The paper's learning-dynamics figure: every feature's ``D_i`` against the step (log scale),
    coloured by where it ends, with the loss beneath on the same step axis. ``dimensionality``:
    ``[n_samples, n_features]``; ``loss``: ``[n_samples]``; ``plateaus`` shades the loss plateaus on
    both panels; ``levels`` (name → D) draws guide lines (default: 1/2 and 0)."""
    D = as_numpy(dimensionality)
    if D.ndim != 2 or D.shape[0] != len(as_numpy(steps)):
        raise ValueError(
            f"dimensionality must be [n_samples = {len(as_numpy(steps))}, n_features], got {list(D.shape)}"
        )
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(7.6, 5.6), sharex=True, height_ratios=(2.2, 1), layout="constrained"
    )
    x = as_numpy(steps) + 1
    _shade_plateaus(top, plateaus)
    colours = mpl.colormaps["viridis"](np.clip(D[-1] / max(float(D[-1].max()), 1e-12), 0, 1) * 0.85)
    for feature in np.argsort(D[-1]):
        top.plot(x, D[:, feature], color=colours[feature], lw=0.8, alpha=0.8)
    for name, level in (levels or {"pair\n1/2": 0.5, "absent\n0": 0.0}).items():
        guide(top, level, name, ls="--", line_colour="0.35", text_colour="0.25")
    top.set_ylim(-0.02, max(0.6, float(D.max()) + 0.05))
    title = title or "Features jump between dimensionality levels as the loss steps down"
    labelled(fig, top, "", "feature dimensionality  D_i", title, legend=False)
    plot_loss_history(steps, loss, plateaus=plateaus, ax=bottom)
    bottom.set_ylabel("loss")
    return fig
