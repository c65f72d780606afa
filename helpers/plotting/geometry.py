"""What the features look like inside the model: ``WᵀW`` heat maps (one model, a row of models, a table of
models), bars of the feature norms coloured by superposition, the paper's "basic results" layout, and the
feature directions ``W_i`` drawn as arrows in a 2-D or 3-D hidden space."""

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
    labelled,
    new_axes,
    superposition_colorbar,
    table_axes,
    table_weights,
)


def plot_interference(
    W, *, ax: Axes | None = None, title: str | None = None, colorbar: bool = True, limit: float = 1.0
) -> Figure:
    """Heat map of ``WᵀW`` for one instance (``W: [n_hidden, n_features]``): the diagonal is each
    feature's squared norm, off-diagonal entries are interference. Diverging colours, fixed limits."""
    fig, ax = new_axes(ax, (4.2, 3.6))
    weights = torch.as_tensor(as_numpy(W), dtype=torch.float32)
    if weights.ndim != 2:
        raise ValueError(f"W must be one instance, shape [n_hidden, n_features], got {list(weights.shape)}")
    gram = (weights.T @ weights).numpy()
    image = ax.imshow(gram, cmap=INTERFERENCE_CMAP, vmin=-limit, vmax=limit, interpolation="nearest")
    ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
    ax.grid(False)
    if colorbar:
        fig.colorbar(image, ax=ax, shrink=0.8, label="Wᵀ W")
    return labelled(fig, ax, "feature j", "feature i", title, legend=False)


def display_order(W) -> torch.Tensor:
    """An order of the features of one instance (``W: [n_hidden, n_features]``) that makes ``WᵀW``
    readable: largest norm first, each feature followed by its most anti-aligned remaining partner when
    their cosine is below −0.5, so antipodal pairs show as 2×2 blocks."""
    weights = torch.as_tensor(as_numpy(W), dtype=torch.float32)
    norms = metrics.feature_norms(weights)
    unit = weights / norms.clamp_min(1e-12)
    cosine = unit.T @ unit
    remaining = norms.argsort(descending=True).tolist()
    order: list[int] = []
    while remaining:
        first = remaining.pop(0)
        order.append(first)
        if remaining:
            partner = min(remaining, key=lambda j: cosine[first, j].item())
            if cosine[first, partner] < -0.5:
                remaining.remove(partner)
                order.append(partner)
    return torch.tensor(order)


def plot_interference_grid(
    W, labels: Sequence[str], *, suptitle: str | None = None, limit: float = 1.0, max_features: int | None = None
) -> Figure:
    """``WᵀW`` heat maps side by side for several instances (``W: [n_panels, n_hidden, n_features]``),
    one shared colour bar, features in ``display_order`` (optionally only the first ``max_features``)."""
    weights = torch.as_tensor(as_numpy(W), dtype=torch.float32)
    if weights.ndim != 3 or weights.shape[0] != len(labels):
        raise ValueError(
            f"W must be [n_panels, n_hidden, n_features] with one label per panel; got "
            f"shape {list(weights.shape)} and {len(labels)} labels"
        )
    fig, axes = plt.subplots(1, len(labels), figsize=(2.6 * len(labels) + 0.8, 3.0), layout="constrained")
    axes = np.atleast_1d(axes)
    image = None
    for ax, w, label in zip(axes, weights, labels, strict=True):
        w = w[:, display_order(w)[:max_features]]
        plot_interference(w, ax=ax, title=label, colorbar=False, limit=limit)
        image = ax.images[0]
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("")
        ax.set_ylabel("")
    axes[0].set_ylabel("features, largest norm first")
    fig.colorbar(image, ax=list(axes), shrink=0.85, label="Wᵀ W")
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def plot_interference_table(
    W, row_labels: Sequence[str], column_labels: Sequence[str], *, suptitle: str | None = None
) -> Figure:
    """``WᵀW`` for a table of models (``W: [n_rows, n_columns, n_hidden, n_features]``, e.g. one row
    per activation and one column per density), features in their natural order. Each panel is divided
    by its largest squared feature norm, so that models whose activation inflates the weights stay
    comparable: the colours show the pattern (1 on the diagonal for the largest feature), the label
    under each panel the scale ``max_i ‖W_i‖²``."""
    weights = table_weights(W)
    fig, axes = table_axes(weights.shape[0], weights.shape[1], row_labels, column_labels, (1.55, 1.5))
    image = None
    for (row, column), ax in np.ndenumerate(axes):
        gram = weights[row, column].T @ weights[row, column]
        scale = float(gram.diagonal().max()) or 1.0
        image = ax.imshow((gram / scale).numpy(), cmap=INTERFERENCE_CMAP, vmin=-1, vmax=1, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
        ax.set_xlabel(f"scale ×{scale:.3g}", fontsize=8)
    fig.colorbar(image, ax=axes.ravel().tolist(), shrink=0.6, label="Wᵀ W / max_i ‖W_i‖²")
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def plot_feature_norms(W, *, ax: Axes | None = None, title: str | None = None, colorbar: bool = True) -> Figure:
    """Horizontal bars of ``‖W_i‖`` for one instance (``W: [n_hidden, n_features]``), coloured by the
    feature's superposition ``Σ_{j≠i}(Ŵ_i·W_j)²`` on a continuous scale from 0 (black) to ≥ 1 (yellow)."""
    fig, ax = new_axes(ax, (3.2, 4.0))
    weights = torch.as_tensor(as_numpy(W), dtype=torch.float32)
    norms = metrics.feature_norms(weights).numpy()
    overlap = metrics.superposition(weights).clamp(0, 1).numpy()
    colours = SUPERPOSITION_CMAP(overlap)
    ax.barh(np.arange(norms.size), norms, color=colours, edgecolor="0.3", linewidth=0.3)
    ax.set_ylim(norms.size - 0.5, -0.5)  # feature 0 on top
    if colorbar:
        superposition_colorbar(fig, ax, "superposition Σ_{j≠i}(Ŵ_i·W_j)²", shrink=0.8)
    return labelled(fig, ax, "‖W_i‖", "feature i", title, legend=False)


def plot_basic_results(W, b, labels: Sequence[str], *, suptitle: str | None = None, limit: float = 1.0) -> Figure:
    """The paper's "basic results" layout, one column per instance (``W: [n_panels, m, n]``,
    ``b: [n_panels, n]``): on top ``WᵀW`` with the bias as an extra column to its right (same diverging
    colours), below the bars of ``‖W_i‖`` coloured by superposition, features in index order (most
    important first)."""
    weights = torch.as_tensor(as_numpy(W), dtype=torch.float32)
    bias = torch.as_tensor(as_numpy(b), dtype=torch.float32)
    if weights.ndim != 3 or bias.shape != (weights.shape[0], weights.shape[2]) or len(labels) != weights.shape[0]:
        raise ValueError(
            f"W must be [n_panels, m, n], b [n_panels, n] and labels one per panel; got W {list(weights.shape)}, "
            f"b {list(bias.shape)}, {len(labels)} labels"
        )
    n_panels, _, n_features = weights.shape
    fig = plt.figure(figsize=(1.95 * n_panels + 1.2, 5.4), layout="constrained")
    grid = fig.add_gridspec(2, 2 * n_panels, width_ratios=[n_features, 1] * n_panels, height_ratios=[1.0, 1.1])
    image = None
    for k in range(n_panels):
        gram_ax = fig.add_subplot(grid[0, 2 * k])
        bias_ax = fig.add_subplot(grid[0, 2 * k + 1])
        bars_ax = fig.add_subplot(grid[1, 2 * k : 2 * k + 2])
        plot_interference(weights[k], ax=gram_ax, colorbar=False, limit=limit)
        image = gram_ax.images[0]
        gram_ax.set_title(labels[k], fontsize=9.5)
        gram_ax.set_xticks([])
        gram_ax.set_yticks([] if k else [0, n_features - 1])
        gram_ax.set_xlabel("")
        gram_ax.set_ylabel("feature i" if k == 0 else "")
        bias_ax.imshow(bias[k].numpy()[:, None], cmap=INTERFERENCE_CMAP, vmin=-limit, vmax=limit)
        bias_ax.set_xticks([0], labels=["b"])
        bias_ax.set_yticks([])
        bias_ax.grid(False)
        plot_feature_norms(weights[k], ax=bars_ax, colorbar=False)
        bars_ax.set_xlim(0, 1.25)
        bars_ax.set_ylabel("feature i" if k == 0 else "")
        if k:
            bars_ax.set_yticklabels([])
    fig.colorbar(image, ax=fig.axes[0::3] + fig.axes[1::3], shrink=0.8, label="Wᵀ W and b")
    superposition_colorbar(fig, fig.axes[2::3], shrink=0.8)
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def _rotation_to_vertical(w: torch.Tensor, feature: int) -> torch.Tensor:
    """The 2×2 rotation that turns feature ``feature`` of ``w: [2, n]`` to point straight up, or the
    feature with the largest norm when that one is (almost) not represented (norm below 0.1)."""
    if w[:, feature].norm() < 0.1:
        feature = int(w.norm(dim=0).argmax())
    angle = torch.atan2(w[1, feature], w[0, feature])
    turn = torch.pi / 2 - angle
    return torch.stack([torch.stack([turn.cos(), -turn.sin()]), torch.stack([turn.sin(), turn.cos()])])


def plot_features_2d(
    W,
    labels: Sequence[str],
    *,
    hidden=None,
    align: int | None = None,
    limit: float = 1.4,
    cmap: str = "viridis",
    suptitle: str | None = None,
    ncols: int | None = None,
) -> Figure:
    """The paper's picture of a 2-D hidden space: for each instance (``W: [n_panels, 2, n_features]``)
    every feature's column ``W_i`` drawn as a line from the origin with a dot at its tip, coloured by
    feature index (feature 0, the most important, darkest), over the unit circle. ``hidden``
    (``[n_panels, batch, 2]``, optional) adds the hidden vectors of a batch as grey points.
    ``align=i`` rotates each panel so that feature i points up (the paper's canonical view); panels
    where feature i is not represented are aligned on their longest feature instead."""
    weights = torch.as_tensor(as_numpy(W), dtype=torch.float32)
    if weights.ndim != 3 or weights.shape[1] != 2 or weights.shape[0] != len(labels):
        raise ValueError(
            f"W must be [n_panels, 2, n_features] with one label per panel; got shape {list(weights.shape)} "
            f"and {len(labels)} labels"
        )
    n_panels, _, n_features = weights.shape
    ncols = ncols or n_panels
    nrows = math.ceil(n_panels / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.1 * ncols, 2.3 * nrows), layout="constrained", squeeze=False)
    colours = mpl.colormaps[cmap](np.linspace(0.0, 0.85, n_features))
    circle = np.linspace(0, 2 * np.pi, 200)
    for index, ax in enumerate(axes.flat):
        ax.set_axis_off()
        if index >= n_panels:
            continue
        w = weights[index]
        rotation = torch.eye(2) if align is None else _rotation_to_vertical(w, align)
        w = rotation @ w
        ax.plot(np.cos(circle), np.sin(circle), color="0.8", lw=0.8, zorder=0)
        if hidden is not None:
            h = (torch.as_tensor(as_numpy(hidden[index]), dtype=torch.float32) @ rotation.T).numpy()
            ax.scatter(h[:, 0], h[:, 1], s=4, color="0.55", alpha=0.35, edgecolor="none", zorder=1)
        for i in range(n_features):
            x, y = w[:, i].tolist()
            ax.plot([0, x], [0, y], color=colours[i], lw=1.8, zorder=2)
            ax.scatter([x], [y], s=18, color=colours[i], zorder=3)
        ax.set_xlim(-limit, limit)
        ax.set_ylim(-limit, limit)
        ax.set_aspect("equal")
        ax.set_title(labels[index], fontsize=9, fontweight="normal")
    mappable = mpl.cm.ScalarMappable(
        norm=mpl.colors.Normalize(-0.5, n_features - 0.5),
        cmap=mpl.colors.ListedColormap(colours),
    )
    bar = fig.colorbar(mappable, ax=axes, shrink=0.7, aspect=25, pad=0.01, label="feature i")
    bar.set_ticks(range(n_features))
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def plot_features_3d(
    weights,
    titles: Sequence[str],
    *,
    groups: Sequence[int] | None = None,
    group_names: Sequence[str] | None = None,
    common_scale: bool = False,
    suptitle: str | None = None,
) -> Figure:
    """The feature vectors ``W_i`` of a 3-D hidden space as arrows from the origin, one panel per
    entry of ``weights`` (``[n_panels, 3, n_features]``, e.g. one run at several checkpoints). Each
    panel is drawn in the basis of its own singular vectors (largest spread along the first axis), so
    a feature set living in a line or a plane looks like one. ``groups``: a group index per feature
    (e.g. its correlated set), which picks the colour family. Each panel is scaled to its longest
    arrow (its length is printed under the title) unless ``common_scale``."""
    W = as_numpy(weights)
    if W.ndim != 3 or W.shape[1] != 3:
        raise ValueError(f"weights must be [n_panels, 3, n_features], got {list(W.shape)}")
    if len(titles) != W.shape[0]:
        raise ValueError(f"titles must have one entry per panel ({W.shape[0]}), got {len(titles)}")
    n_features = W.shape[2]
    groups = np.zeros(n_features, dtype=int) if groups is None else np.asarray(groups)
    families = ["Blues", "Oranges", "Greens", "Purples"]
    colours = []
    for feature in range(n_features):
        members = np.flatnonzero(groups == groups[feature])
        shade = 0.45 + 0.45 * (np.searchsorted(members, feature) / max(len(members) - 1, 1))
        colours.append(mpl.colormaps[families[groups[feature] % len(families)]](shade))
    n_columns = W.shape[0] if W.shape[0] <= 4 else math.ceil(W.shape[0] / 2)
    n_rows = math.ceil(W.shape[0] / n_columns)
    fig = plt.figure(figsize=(3.1 * n_columns, 3.3 * n_rows + 0.3), layout="constrained")
    longest = np.linalg.norm(W, axis=1).max(axis=1)  # [n_panels]
    for panel, (w, title) in enumerate(zip(W, titles, strict=True)):
        ax = fig.add_subplot(n_rows, n_columns, panel + 1, projection="3d")
        limit = 1.05 * float(longest.max() if common_scale else max(longest[panel], 1e-12))
        u, _, _ = np.linalg.svd(w, full_matrices=False)
        rotated = u.T @ w
        for feature in range(n_features):
            ax.quiver(0, 0, 0, *rotated[:, feature], color=colours[feature], lw=2.2, arrow_length_ratio=0.12)
        ax.set(xlim=(-limit, limit), ylim=(-limit, limit), zlim=(-limit, limit))
        ax.set_box_aspect((1, 1, 1))
        ax.set_xticklabels([])
        ax.set_yticklabels([])
        ax.set_zticklabels([])
        ax.set_title(title if common_scale else f"{title}\nlongest ‖W_i‖ = {longest[panel]:.2f}", fontsize=9)
        ax.view_init(elev=22, azim=35)
    if group_names is not None:
        handles = [
            mpl.lines.Line2D([], [], color=mpl.colormaps[families[g % len(families)]](0.7), lw=2.5, label=name)
            for g, name in enumerate(group_names)
        ]
        fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    return fig
