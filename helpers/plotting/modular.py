"""Chapter 08's modular-addition figures: how much of each embedding column lies at each Fourier frequency,
and the training and test loss of the trained models."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .style import as_numpy, labelled, new_axes


def plot_frequency_norms(
    norms, *, frequencies: Sequence[int] | None = None, ax: Axes | None = None, title: str | None = None
) -> Figure:
    """How much of each embedding column lies at each frequency (``helpers.fourier.frequency_norms``,
    ``[n_frequencies, d]``): one bar group per frequency, one bar per column. ``frequencies``: which to
    show (default: every frequency with any column above 5% of the largest entry)."""
    values = as_numpy(norms)
    if values.ndim != 2:
        raise ValueError(f"norms must be [n_frequencies, d], got shape {list(values.shape)}")
    if frequencies is None:
        frequencies = [k for k in range(values.shape[0]) if values[k].max() > 0.05 * values.max()]
    shown = values[list(frequencies)]  # [n_shown, d]
    fig, ax = new_axes(ax, (max(3.5, 1.1 * len(frequencies) + 2), 3.4))
    d = shown.shape[1]
    width = 0.8 / d
    for column in range(d):
        positions = np.arange(len(frequencies)) + (column - (d - 1) / 2) * width
        ax.bar(positions, shown[:, column], width, color=f"C{column}", label=f"column {column}")
    ax.set_xticks(np.arange(len(frequencies)), [("const" if k == 0 else str(k)) for k in frequencies])
    return labelled(fig, ax, "frequency k", "norm of the column at k", title, legend={"ncols": min(d, 4)})


def plot_modular_training(history: dict, *, ax: Axes | None = None, title: str | None = None) -> Figure:
    """Training and test cross-entropy of every instance over training (``ModularResult.history``),
    on a log scale: training loss solid, test loss dashed, one colour per instance."""
    fig, ax = new_axes(ax, (6.4, 3.6))
    steps = as_numpy(history["step"])
    train, test = as_numpy(history["train_loss"]), as_numpy(history["test_loss"])
    for instance in range(train.shape[1]):
        colour = f"C{instance % 10}"
        ax.plot(steps, train[:, instance], color=colour, lw=1.4, label="train" if instance == 0 else None)
        ax.plot(steps, test[:, instance], color=colour, lw=1.2, ls="--", label="test" if instance == 0 else None)
    ax.set_yscale("log")
    return labelled(fig, ax, "step (full batch)", "cross-entropy", title)
