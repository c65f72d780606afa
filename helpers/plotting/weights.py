"""The weights entry by entry: the neuron view of a privileged basis (which features each neuron reads), for
one row of models or a table of them, and any weight matrix as a heat map or its entries as a histogram."""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .. import metrics
from .style import (
    INTERFERENCE_CMAP,
    SUPERPOSITION_CMAP,
    as_numpy,
    guide,
    labelled,
    new_axes,
    superposition_colorbar,
    table_axes,
    table_weights,
)


def neuron_order(W) -> torch.Tensor:
    """An order for the neurons (rows of ``W: [n_neurons, n_features]``): monosemantic ones first,
    by the feature they read, then the others by decreasing monosemanticity."""
    W = torch.as_tensor(W).detach().float()
    share = metrics.neuron_monosemanticity(W)
    main = W.abs().argmax(dim=1)
    mono = share > metrics.MONOSEMANTIC_THRESHOLD
    key = torch.where(mono, main.float(), W.shape[1] + 1.0 - share)  # monosemantic: feature index first
    return torch.argsort(key, stable=True)


def plot_neurons(
    weights,
    titles: Sequence[str],
    *,
    sort: bool = True,
    suptitle: str | None = None,
) -> Figure:
    """The paper's neuron view of privileged-basis models, one column per model. Top: a stacked bar
    per neuron, one segment per feature of height ``W_ji²``, coloured by that feature's superposition
    (black: none, yellow: ≥ 1); a monosemantic neuron is one bar of one colour. Bottom: the weights
    ``W`` as features (rows) × neurons (columns), blue negative, red positive. ``weights``:
    ``[n_panels, n_neurons, n_features]`` (e.g. ``ToyModel.W`` or ``AbsValueModel.W1`` of one
    instance per panel); ``sort`` orders neurons with ``neuron_order``."""
    W = torch.as_tensor(as_numpy(weights)).float()
    if W.ndim != 3:
        raise ValueError(f"weights must be [n_panels, n_neurons, n_features], got {list(W.shape)}")
    if len(titles) != W.shape[0]:
        raise ValueError(f"titles must have one entry per panel ({W.shape[0]}), got {len(titles)}")
    n_panels, n_neurons, n_features = W.shape
    panel_width = max(2.2, (0.32 if n_neurons <= 20 else 0.17) * n_neurons + 0.8)
    n_rows = math.ceil(n_panels / max(1, min(n_panels, int(16 // panel_width))))  # rows fit in 16 inches
    n_columns = math.ceil(n_panels / n_rows)  # and are balanced: 8 panels as 2 rows of 4, not 6 + 2
    weights_height = (0.22 if n_features <= 20 else 0.06) * n_features + 0.2
    fig, grid = plt.subplots(
        2 * n_rows,
        n_columns,
        figsize=(panel_width * n_columns, (1.8 + weights_height + 0.8) * n_rows + 0.6),
        height_ratios=[1.8, weights_height] * n_rows,
        squeeze=False,
        layout="constrained",
    )
    for extra in range(n_panels, n_rows * n_columns):  # empty cells of the last row
        grid[2 * (extra // n_columns), extra % n_columns].set_visible(False)
        grid[2 * (extra // n_columns) + 1, extra % n_columns].set_visible(False)
    limit = float(W.abs().flatten().quantile(0.99)) or 1.0  # one outlier weight should not wash out the rest
    superposition = metrics.superposition(W)  # [n_panels, n_features]: Σ_{j≠i} (Ŵ_i·W_j)² over the neurons
    for panel in range(n_panels):
        w = W[panel]
        order = neuron_order(w) if sort else torch.arange(n_neurons)
        w = w[order]
        top, bottom = (
            grid[2 * (panel // n_columns), panel % n_columns],
            grid[2 * (panel // n_columns) + 1, panel % n_columns],
        )
        bottom_of_bar = np.zeros(n_neurons)
        for feature in range(n_features):
            height = w[:, feature].square().numpy()
            colour = SUPERPOSITION_CMAP(min(float(superposition[panel, feature]), 1.0))
            top.bar(np.arange(n_neurons), height, bottom=bottom_of_bar, color=colour, edgecolor="white", lw=0.3)
            bottom_of_bar += height
        top.set_xlim(-0.6, n_neurons - 0.4)
        top.set_xticks([])
        top.set_title(titles[panel], fontsize=9)
        image = bottom.imshow(w.T.numpy(), cmap=INTERFERENCE_CMAP, vmin=-limit, vmax=limit, aspect="auto")
        bottom.set_xticks(range(n_neurons), [str(int(j)) for j in order], fontsize=6 if n_neurons <= 20 else 4)
        bottom.set_yticks(range(n_features) if n_features <= 20 else [])
        bottom.tick_params(axis="y", labelsize=6)
        bottom.grid(False)
        if panel % n_columns == 0:
            top.set_ylabel("Σ W²  per neuron")
            bottom.set_ylabel("feature")
        bottom.set_xlabel("neuron")
    visible = [ax for ax in grid.ravel() if ax.get_visible()]
    fig.colorbar(image, ax=visible, location="bottom", shrink=0.5, aspect=40, label="weight")
    superposition_colorbar(fig, visible, "feature's superposition", location="right", shrink=0.5)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def plot_neuron_table(
    W, row_labels: Sequence[str], column_labels: Sequence[str], *, suptitle: str | None = None
) -> Figure:
    """The feature-to-neuron view for a table of models (``W: [n_rows, n_columns, n_hidden,
    n_features]``): per hidden unit j a stacked bar of its share of each feature, ``W_ji² / Σ_i W_ji²``,
    coloured by feature index (most important feature darkest); units sorted by their largest share.
    A unit that reads one feature is one solid bar."""
    weights = table_weights(W)
    n_features = weights.shape[-1]
    fig, axes = table_axes(weights.shape[0], weights.shape[1], row_labels, column_labels, (1.55, 1.3))
    colours = mpl.colormaps["viridis"](np.linspace(0.0, 0.95, n_features))
    for (row, column), ax in np.ndenumerate(axes):
        share = weights[row, column].square()
        share = share / share.sum(dim=1, keepdim=True).clamp_min(1e-12)  # [n_hidden, n_features]
        share = share[share.amax(dim=1).argsort(descending=True)].numpy()
        bottom = np.zeros(share.shape[0])
        for feature in range(n_features):
            ax.bar(np.arange(share.shape[0]), share[:, feature], bottom=bottom, color=colours[feature], width=0.85)
            bottom += share[:, feature]
        ax.set_ylim(0, 1)
        ax.set_xticks([])
        ax.set_yticks([0, 1] if column == 0 else [])
        ax.grid(False)
    mappable = mpl.cm.ScalarMappable(
        mpl.colors.BoundaryNorm(np.arange(n_features + 1) - 0.5, n_features),
        mpl.colors.ListedColormap(colours),
    )
    bar = fig.colorbar(mappable, ax=axes.ravel().tolist(), shrink=0.6, label="feature (0 most important)")
    bar.set_ticks(range(0, n_features, max(1, n_features // 5)))
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def plot_weight_matrix(
    W,
    *,
    ax: Axes | None = None,
    title: str | None = None,
    xlabel: str = "",
    ylabel: str = "",
    aspect: str = "auto",
) -> Figure:
    """A weight matrix (``[rows, columns]``) as a diverging heat map centred on zero: negative blue,
    positive red, as for WᵀW; ticks at whole row and column indices. ``aspect``: "auto" fills the axes,
    "equal" draws square cells."""
    values = as_numpy(W)
    fig, ax = new_axes(ax, (0.45 * values.shape[1] + 1.5, 0.3 * values.shape[0] + 1.2))
    limit = float(np.abs(values).max()) or 1.0
    image = ax.imshow(values, cmap=INTERFERENCE_CMAP, vmin=-limit, vmax=limit, aspect=aspect)
    ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
    ax.grid(False)
    fig.colorbar(image, ax=ax, shrink=0.8)
    return labelled(fig, ax, xlabel, ylabel, title, legend=False)


def plot_weight_histogram(
    values: dict[str, Sequence[float]],
    *,
    levels: Sequence[float] = (),
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Histograms of weight entries (label → flat values), with dotted vertical lines at ``levels``."""
    fig, ax = new_axes(ax, (6.4, 3.4))
    for level in levels:
        guide(ax, level, vertical=True, line_colour="0.5")
    for index, (label, entries) in enumerate(values.items()):
        ax.hist(as_numpy(entries).ravel(), bins=80, color=f"C{index}", alpha=0.6, label=label)
    return labelled(fig, ax, "weight entry", "count", title)
