"""Every figure type the book shows, in one style.

Functions take plain tensors or arrays, draw on a given ``ax`` (or a new figure) and return the figure,
so notebooks stay short and every chapter looks the same."""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from . import metrics

#: Diverging map for WᵀW (negative blue, positive red), as in the paper.
INTERFERENCE_CMAP = "RdBu_r"
#: Sequential map for a feature's superposition Σ_{j≠i}(Ŵ_i·W_j)², black (none) to yellow (≥ 1);
#: inferno without its palest tenth, which vanishes on a white background.
SUPERPOSITION_CMAP = mpl.colors.ListedColormap(
    mpl.colormaps["inferno"](np.linspace(0.0, 0.9, 256)), name="superposition"
)

#: One colour per output activation, the same in every chapter's figures.
ACTIVATION_COLOURS: dict[str, str] = {
    "linear": "0.45",
    "relu": "C3",
    "gelu": "C0",
    "silu": "C9",
    "sigmoid": "C2",
    "tanh": "C1",
    "solu": "C4",
}

#: One colour per kind of weights (``ToyModel(weights=...)``), the same in every figure that compares them.
WEIGHT_COLOURS: dict[str, str] = {"dense": "C0", "ternary": "C1", "binary": "C2"}

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


def set_style() -> None:
    """The book's figure style: seaborn's white-grid theme, readable sizes, PNG-friendly resolution."""
    sns.set_theme(context="notebook", style="whitegrid", font_scale=0.95)
    mpl.rcParams.update(
        {
            "figure.dpi": 100,
            "savefig.dpi": 150,
            "savefig.bbox": "tight",
            "axes.titleweight": "bold",
            "axes.titlesize": 11,
            "figure.titlesize": 12,
            "figure.titleweight": "bold",
            "legend.frameon": False,
        }
    )


def _numpy(values) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax


def _guide(
    ax: Axes,
    level: float,
    label: str,
    *,
    x: float = 1.0,
    offset: tuple[float, float] = (4, 0),
    ha: str = "left",
    va: str = "center",
    ls: str = ":",
    line_colour: str = "0.55",
    text_colour: str = "0.3",
) -> None:
    """A labelled horizontal reference line at ``level``; the label sits at ``x`` in axes fraction
    (1.0: the right edge), moved by ``offset`` points."""
    ax.axhline(level, color=line_colour, lw=0.8, ls=ls, zorder=0)
    ax.annotate(
        label,
        (x, level),
        xycoords=("axes fraction", "data"),
        xytext=offset,
        textcoords="offset points",
        ha=ha,
        va=va,
        fontsize=8,
        color=text_colour,
    )


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
    fig, ax = _axes(ax, (6.4, 3.8))
    x = _numpy(inverse_density)
    for level, label in ((1.0, "1"), (0.5, "1/2")):
        ax.axhline(level, color="0.6", lw=0.9, ls="--", zorder=0)
        ax.annotate(
            label,
            (x.max(), level),
            xytext=(-4, 3),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=8,
            color="0.35",
        )
    if reference is not None:
        ax.plot(x, _numpy(reference), "s", mfc="none", ms=7, color="0.45", label=reference_label)
    ax.plot(x, _numpy(dims_per_feature), "o-", color="C3", ms=4.5, label="measured")
    ax.set_xscale("log")
    ax.set_xlabel("1 / feature density, 1/(1−S)  (log scale)")
    ax.set_ylabel("dimensions per feature  D* = m/‖W‖²_F")
    ax.set_ylim(0, 1.12)
    ax.legend(loc="upper right", bbox_to_anchor=(1.0, 0.92))
    ax.set_title(title or "Dimensions per feature fall with sparsity and stick at 1 and 1/2")
    return fig


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
    x = _numpy(inverse_density)
    ax = axes[0, 0]
    for level in (1.0, 0.5):
        ax.axhline(level, color="0.6", lw=0.9, ls=":", zorder=0)
    for name, values in measured.items():
        colour = ACTIVATION_COLOURS.get(name, None)
        ax.plot(x, _numpy(values), "o-", ms=3.5, lw=1.6, color=colour, label=name)
        if published is not None:
            ax.plot(x, _numpy(published[name]), "--", lw=1.1, color=colour, alpha=0.8)
    ax.set_xscale("log")
    ax.set_ylim(0, 1.1)
    ax.set_xlabel("1 / feature density, 1/(1−S)  (log scale)")
    ax.set_ylabel("dimensions per feature  D* = m/‖W‖²_F")
    handles, _ = ax.get_legend_handles_labels()
    if published is not None:
        handles += [
            mpl.lines.Line2D([], [], color="0.3", marker="o", ms=3.5, label="measured"),
            mpl.lines.Line2D([], [], color="0.3", ls="--", label="published"),
        ]
    ax.legend(handles=handles, fontsize=8, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.14))
    ax.set_title(title or "Dimensions per feature for each output activation")
    if published is not None:
        ax = axes[0, 1]
        ax.axhline(0.0, color="0.5", lw=0.9)
        for name, values in measured.items():
            difference = _numpy(values) - _numpy(published[name])
            ax.plot(x, difference, "o-", ms=3.5, lw=1.4, color=ACTIVATION_COLOURS.get(name, None), label=name)
        ax.set_xscale("log")
        ax.set_xlabel("1 / feature density, 1/(1−S)  (log scale)")
        ax.set_ylabel("D* measured − published")
        ax.set_title("Difference from the published curves")
    return fig


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
    fig, ax = _axes(ax, (6.4, 3.8))
    xs = _numpy(x)
    for level in guides:
        ax.axhline(level, color="0.6", lw=0.9, ls=":", zorder=0)
    for label, values in series.items():
        runs = _numpy(values)
        if runs.ndim != 2 or runs.shape[0] != xs.shape[0]:
            raise ValueError(f"series {label!r} must be [n_points = {xs.shape[0]}, n_repeats], got {list(runs.shape)}")
        colour = (colours or {}).get(label)
        line = ax.plot(xs, runs.mean(axis=1), "o-", ms=3.5, lw=1.6, color=colour, label=label)[0]
        ax.fill_between(xs, runs.min(axis=1), runs.max(axis=1), color=line.get_color(), alpha=0.2, lw=0)
    if log_x:
        ax.set_xscale("log")
    return _labelled(fig, ax, xlabel, ylabel, title)


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
    fig, ax = _axes(ax, (7.2, 4.2))
    x = _numpy(inverse_density)
    dims = _numpy(dimensionality)
    rng = np.random.default_rng(seed)
    lines = GEOMETRY_LINES if lines is None else lines
    for name, level in lines.items():
        _guide(ax, level, f"{name}  {_fraction(level)}")
    for xi, row in zip(x, dims, strict=True):
        kept = row[row >= min_dimensionality]
        jitter = xi * np.exp(rng.uniform(-0.03, 0.03, size=kept.size))
        ax.scatter(jitter, kept, s=9, alpha=0.55, color="C0", edgecolor="none")
    ax.set_xscale("log")
    ax.set_ylim(-0.03, 1.03)  # room for the line at 0 (features not learned)
    ax.set_xlabel("1 / feature density, 1/(1−S)  (log scale)")
    ax.set_ylabel("feature dimensionality  D_i")
    ax.set_title(title or "Features snap to the dimensionalities of simple geometries")
    return fig


def _fraction(value: float) -> str:
    from fractions import Fraction

    frac = Fraction(value).limit_denominator(12)
    return str(frac.numerator) if frac.denominator == 1 else f"{frac.numerator}/{frac.denominator}"


def plot_interference(
    W, *, ax: Axes | None = None, title: str | None = None, colorbar: bool = True, limit: float = 1.0
) -> Figure:
    """Heat map of ``WᵀW`` for one instance (``W: [n_hidden, n_features]``): the diagonal is each
    feature's squared norm, off-diagonal entries are interference. Diverging colours, fixed limits."""
    fig, ax = _axes(ax, (4.2, 3.6))
    weights = torch.as_tensor(_numpy(W), dtype=torch.float32)
    if weights.ndim != 2:
        raise ValueError(f"W must be one instance, shape [n_hidden, n_features], got {list(weights.shape)}")
    gram = (weights.T @ weights).numpy()
    image = ax.imshow(gram, cmap=INTERFERENCE_CMAP, vmin=-limit, vmax=limit, interpolation="nearest")
    ax.set_xlabel("feature j")
    ax.set_ylabel("feature i")
    ax.xaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
    ax.yaxis.set_major_locator(mpl.ticker.MaxNLocator(integer=True))
    ax.grid(False)
    if title:
        ax.set_title(title)
    if colorbar:
        fig.colorbar(image, ax=ax, shrink=0.8, label="Wᵀ W")
    return fig


def display_order(W) -> torch.Tensor:
    """An order of the features of one instance (``W: [n_hidden, n_features]``) that makes ``WᵀW``
    readable: largest norm first, each feature followed by its most anti-aligned remaining partner when
    their cosine is below −0.5, so antipodal pairs show as 2×2 blocks."""
    weights = torch.as_tensor(_numpy(W), dtype=torch.float32)
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
    weights = torch.as_tensor(_numpy(W), dtype=torch.float32)
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


def _table_axes(n_rows: int, n_columns: int, row_labels, column_labels, panel: tuple[float, float]):
    """A rows × columns grid of panels with the row labels on the left and column labels on top."""
    if len(row_labels) != n_rows or len(column_labels) != n_columns:
        raise ValueError(
            f"need one label per row ({n_rows}) and per column ({n_columns}); got {len(row_labels)} row "
            f"labels and {len(column_labels)} column labels"
        )
    fig, axes = plt.subplots(
        n_rows,
        n_columns,
        figsize=(panel[0] * n_columns + 1.4, panel[1] * n_rows + 0.8),
        squeeze=False,
        layout="constrained",
    )
    for column, label in enumerate(column_labels):
        axes[0, column].set_title(label, fontsize=10)
    for row, label in enumerate(row_labels):
        axes[row, 0].set_ylabel(label, fontsize=10, fontweight="bold")
    return fig, axes


def _table_weights(W) -> torch.Tensor:
    weights = torch.as_tensor(_numpy(W), dtype=torch.float32)
    if weights.ndim != 4:
        raise ValueError(f"W must be [n_rows, n_columns, n_hidden, n_features], got {list(weights.shape)}")
    return weights


def plot_interference_table(
    W, row_labels: Sequence[str], column_labels: Sequence[str], *, suptitle: str | None = None
) -> Figure:
    """``WᵀW`` for a table of models (``W: [n_rows, n_columns, n_hidden, n_features]``, e.g. one row
    per activation and one column per density), features in their natural order. Each panel is divided
    by its largest squared feature norm, so that models whose activation inflates the weights stay
    comparable: the colours show the pattern (1 on the diagonal for the largest feature), the label
    under each panel the scale ``max_i ‖W_i‖²``."""
    weights = _table_weights(W)
    fig, axes = _table_axes(weights.shape[0], weights.shape[1], row_labels, column_labels, (1.55, 1.5))
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


def plot_neuron_table(
    W, row_labels: Sequence[str], column_labels: Sequence[str], *, suptitle: str | None = None
) -> Figure:
    """The feature-to-neuron view for a table of models (``W: [n_rows, n_columns, n_hidden,
    n_features]``): per hidden unit j a stacked bar of its share of each feature, ``W_ji² / Σ_i W_ji²``,
    coloured by feature index (most important feature darkest); units sorted by their largest share.
    A unit that reads one feature is one solid bar."""
    weights = _table_weights(W)
    n_features = weights.shape[-1]
    fig, axes = _table_axes(weights.shape[0], weights.shape[1], row_labels, column_labels, (1.55, 1.3))
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


def plot_feature_norms(W, *, ax: Axes | None = None, title: str | None = None, colorbar: bool = True) -> Figure:
    """Horizontal bars of ``‖W_i‖`` for one instance (``W: [n_hidden, n_features]``), coloured by the
    feature's superposition ``Σ_{j≠i}(Ŵ_i·W_j)²`` on a continuous scale from 0 (black) to ≥ 1 (yellow)."""
    fig, ax = _axes(ax, (3.2, 4.0))
    weights = torch.as_tensor(_numpy(W), dtype=torch.float32)
    norms = metrics.feature_norms(weights).numpy()
    overlap = metrics.superposition(weights).clamp(0, 1).numpy()
    colours = SUPERPOSITION_CMAP(overlap)
    ax.barh(np.arange(norms.size), norms, color=colours, edgecolor="0.3", linewidth=0.3)
    ax.set_ylim(norms.size - 0.5, -0.5)  # feature 0 on top
    ax.set_xlabel("‖W_i‖")
    ax.set_ylabel("feature i")
    if title:
        ax.set_title(title)
    if colorbar:
        mappable = mpl.cm.ScalarMappable(norm=mpl.colors.Normalize(0, 1), cmap=SUPERPOSITION_CMAP)
        bar = fig.colorbar(mappable, ax=ax, shrink=0.8, label="superposition Σ_{j≠i}(Ŵ_i·W_j)²")
        bar.set_ticks([0, 0.5, 1], labels=["0", "0.5", "≥ 1"])
    return fig


#: Colours of the three phases of a feature, as in the paper's phase diagrams.
PHASE_COLOURS = {"not represented": "#c8c8c8", "dedicated": "#3b6fb6", "superposition": "#d1423c"}


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
    weights = torch.as_tensor(_numpy(W), dtype=torch.float32)
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
            h = (torch.as_tensor(_numpy(hidden[index]), dtype=torch.float32) @ rotation.T).numpy()
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


def plot_basic_results(W, b, labels: Sequence[str], *, suptitle: str | None = None, limit: float = 1.0) -> Figure:
    """The paper's "basic results" layout, one column per instance (``W: [n_panels, m, n]``,
    ``b: [n_panels, n]``): on top ``WᵀW`` with the bias as an extra column to its right (same diverging
    colours), below the bars of ``‖W_i‖`` coloured by superposition, features in index order (most
    important first)."""
    weights = torch.as_tensor(_numpy(W), dtype=torch.float32)
    bias = torch.as_tensor(_numpy(b), dtype=torch.float32)
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
    mappable = mpl.cm.ScalarMappable(norm=mpl.colors.Normalize(0, 1), cmap=SUPERPOSITION_CMAP)
    bar = fig.colorbar(mappable, ax=fig.axes[2::3], shrink=0.8, label="superposition")
    bar.set_ticks([0, 0.5, 1], labels=["0", "0.5", "≥ 1"])
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def _log_edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges halfway (geometrically) between log-spaced centres, extended at both ends."""
    logs = np.log(centres)
    middle = (logs[1:] + logs[:-1]) / 2
    return np.exp(np.concatenate([[2 * logs[0] - middle[0]], middle, [2 * logs[-1] - middle[-1]]]))


def _phase_axes(ax: Axes, title: str | None) -> None:
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("relative importance of the extra feature")
    ax.set_ylabel("feature density 1−S")
    ax.xaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _: f"{v:g}×"))
    ax.yaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.grid(False)
    if title:
        ax.set_title(title)


#: Colour of ``metrics.OTHER_PHASE`` (shared, but without an antipodal partner) in empirical diagrams.
OTHER_PHASE_COLOUR = "#e3b23c"


def _phase_legend(ax: Axes, *, other: bool = False) -> None:
    handles = [mpl.patches.Patch(color=colour, label=name) for name, colour in PHASE_COLOURS.items()]
    if other:
        handles.append(mpl.patches.Patch(color=OTHER_PHASE_COLOUR, label="shared, not antipodal"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3, fontsize=8, frameon=False)


def plot_phase_theory(
    phase_codes,
    relative_importance,
    density,
    *,
    boundaries: Sequence[tuple[np.ndarray, np.ndarray]] = (),
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """An analytic phase diagram: ``phase_codes`` (``[n_density, n_importance]``, indices into
    ``helpers.theory.PHASES``, e.g. from ``theory.phase_grid`` on a fine log grid, or the codes of
    ``metrics.feature_phase`` for trained cells, whose ``OTHER_PHASE`` gets a colour of its own) in the paper's
    colours, log axes, with optional closed-form boundary curves ``(r, p)`` drawn on top."""
    from .theory import PHASES

    fig, ax = _axes(ax, (4.4, 3.9))
    colours = mpl.colors.ListedColormap([PHASE_COLOURS[name] for name in PHASES] + [OTHER_PHASE_COLOUR])
    r, p, codes = _numpy(relative_importance), _numpy(density), _numpy(phase_codes)
    ax.pcolormesh(_log_edges(r), _log_edges(p), codes, cmap=colours, vmin=-0.5, vmax=len(PHASES) + 0.5)
    for curve_r, curve_p in boundaries:
        ax.plot(curve_r, curve_p, color="black", lw=1.0, ls="--")
    ax.set_xlim(r.min(), r.max())
    ax.set_ylim(p.min(), p.max())
    _phase_axes(ax, title)
    _phase_legend(ax, other=bool(np.any(codes == metrics.OTHER_PHASE)))
    return fig


def phase_colours(norm, overlap) -> np.ndarray:
    """The paper's two-dimensional colour code for a feature, ``[..., 3]`` RGB: white when its norm is 0,
    blue when it is represented without superposition, red when its superposition reaches 1; norm and
    superposition are clipped to [0, 1] and blended linearly."""
    strength = np.clip(_numpy(norm), 0, 1)[..., None]
    mix = np.clip(_numpy(overlap), 0, 1)[..., None]
    blue = np.array(mpl.colors.to_rgb(PHASE_COLOURS["dedicated"]))
    red = np.array(mpl.colors.to_rgb(PHASE_COLOURS["superposition"]))
    hue = (1 - mix) * blue + mix * red
    return 1 - strength * (1 - hue)


def plot_phase_empirical(
    norm,
    overlap,
    relative_importance,
    density,
    *,
    mismatch=None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """An empirical phase diagram coloured, as in the paper, by the extra feature's norm and
    superposition (``norm``, ``overlap``: ``[n_density, n_importance]``; see ``phase_colours``).
    ``mismatch`` (bool, same shape, optional) marks the cells whose phase differs from theory with a dot."""
    fig, ax = _axes(ax, (4.4, 3.9))
    r, p = _numpy(relative_importance), _numpy(density)
    rgb = phase_colours(norm, overlap)
    ax.pcolormesh(_log_edges(r), _log_edges(p), rgb, edgecolors="white", linewidth=0.3)
    if mismatch is not None:
        rows, cols = np.nonzero(_numpy(mismatch))
        ax.scatter(r[cols], p[rows], s=10, color="black", marker="o")
    _phase_axes(ax, title)
    handles = [
        mpl.patches.Patch(facecolor="white", edgecolor="0.6", label="norm 0"),
        mpl.patches.Patch(color=PHASE_COLOURS["dedicated"], label="norm 1, no superposition"),
        mpl.patches.Patch(color=PHASE_COLOURS["superposition"], label="norm 1, superposition ≥ 1"),
    ]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, fontsize=8, frameon=False)
    if mismatch is not None and np.any(_numpy(mismatch)):
        ax.add_artist(ax.legend_)
        ax.legend(
            handles=[mpl.lines.Line2D([], [], ls="", marker="o", ms=3, color="black", label="differs from theory")],
            loc="lower right",
            fontsize=7,
            frameon=True,
        )
    return fig


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
    fig, ax = _axes(ax, (5.6, 3.6))
    x = _numpy(relative_density)
    for index, (name, values) in enumerate(losses.items()):
        y = _numpy(values)
        colour = f"C{index}"
        ax.plot(x, y, color=colour, lw=1.4, label=name)
        mask = np.ones_like(y, dtype=bool) if kept is None else _numpy(kept[name]).astype(bool)
        ax.scatter(x[mask], y[mask], color=colour, s=22, zorder=3)
        ax.scatter(x[~mask], y[~mask], facecolor="white", edgecolor=colour, s=22, zorder=3)
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _: f"{v:g}×"))
    ax.set_xlabel("density of the perturbed feature, relative to the others")
    ax.set_ylabel("loss")
    ax.legend()
    if title:
        ax.set_title(title)
    return fig


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
    fig, ax = _axes(ax, (6.4, 3.4))
    x = _numpy(steps) + 1
    y = _numpy(loss)
    y = y[:, None] if y.ndim == 1 else y
    _shade_plateaus(ax, plateaus)
    for run in range(y.shape[1]):
        label = labels[run] if labels is not None else None
        ax.plot(x, y[:, run], lw=1.3 if y.shape[1] == 1 else 1.0, alpha=1.0 if y.shape[1] == 1 else 0.75, label=label)
    for name, level in (references or {}).items():
        _guide(ax, level, name, x=0.0, offset=(4, 2), va="bottom", ls="--", line_colour="0.3", text_colour="0.25")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training step (log scale)")
    ax.set_ylabel("loss (fixed evaluation batch)")
    if labels is not None:
        ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return fig


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
    D = _numpy(dimensionality)
    if D.ndim != 2 or D.shape[0] != len(_numpy(steps)):
        raise ValueError(f"dimensionality must be [n_samples = {len(_numpy(steps))}, n_features], got {list(D.shape)}")
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(7.6, 5.6), sharex=True, height_ratios=(2.2, 1), layout="constrained"
    )
    x = _numpy(steps) + 1
    _shade_plateaus(top, plateaus)
    colours = mpl.colormaps["viridis"](np.clip(D[-1] / max(float(D[-1].max()), 1e-12), 0, 1) * 0.85)
    for feature in np.argsort(D[-1]):
        top.plot(x, D[:, feature], color=colours[feature], lw=0.8, alpha=0.8)
    for name, level in (levels or {"pair\n1/2": 0.5, "absent\n0": 0.0}).items():
        _guide(top, level, name, ls="--", line_colour="0.35", text_colour="0.25")
    top.set_ylabel("feature dimensionality  D_i")
    top.set_ylim(-0.02, max(0.6, float(D.max()) + 0.05))
    top.set_title(title or "Features jump between dimensionality levels as the loss steps down")
    plot_loss_history(steps, loss, plateaus=plateaus, ax=bottom)
    bottom.set_ylabel("loss")
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
    W = _numpy(weights)
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
    W = torch.as_tensor(_numpy(weights)).float()
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
    fig.colorbar(
        mpl.cm.ScalarMappable(mpl.colors.Normalize(0, 1), SUPERPOSITION_CMAP),
        ax=visible,
        location="right",
        shrink=0.5,
        label="feature's superposition",
    )
    if suptitle:
        fig.suptitle(suptitle)
    return fig


def plot_frequency_norms(
    norms, *, frequencies: Sequence[int] | None = None, ax: Axes | None = None, title: str | None = None
) -> Figure:
    """How much of each embedding column lies at each frequency (``helpers.fourier.frequency_norms``,
    ``[n_frequencies, d]``): one bar group per frequency, one bar per column. ``frequencies``: which to
    show (default: every frequency with any column above 5% of the largest entry)."""
    values = _numpy(norms)
    if values.ndim != 2:
        raise ValueError(f"norms must be [n_frequencies, d], got shape {list(values.shape)}")
    if frequencies is None:
        frequencies = [k for k in range(values.shape[0]) if values[k].max() > 0.05 * values.max()]
    shown = values[list(frequencies)]  # [n_shown, d]
    fig, ax = _axes(ax, (max(3.5, 1.1 * len(frequencies) + 2), 3.4))
    d = shown.shape[1]
    width = 0.8 / d
    for column in range(d):
        positions = np.arange(len(frequencies)) + (column - (d - 1) / 2) * width
        ax.bar(positions, shown[:, column], width, color=f"C{column}", label=f"column {column}")
    ax.set_xticks(np.arange(len(frequencies)), [("const" if k == 0 else str(k)) for k in frequencies])
    ax.set_xlabel("frequency k")
    ax.set_ylabel("norm of the column at k")
    ax.legend(fontsize=8, ncols=min(d, 4))
    if title:
        ax.set_title(title)
    return fig


def plot_weight_matrix(
    W, *, ax: Axes | None = None, title: str | None = None, xlabel: str = "", ylabel: str = ""
) -> Figure:
    """A weight matrix (``[rows, columns]``) as a diverging heat map centred on zero: negative blue,
    positive red, as for WᵀW."""
    values = _numpy(W)
    fig, ax = _axes(ax, (0.45 * values.shape[1] + 1.5, 0.3 * values.shape[0] + 1.2))
    limit = float(np.abs(values).max()) or 1.0
    image = ax.imshow(values, cmap=INTERFERENCE_CMAP, vmin=-limit, vmax=limit, aspect="auto")
    ax.grid(False)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    fig.colorbar(image, ax=ax, shrink=0.8)
    if title:
        ax.set_title(title)
    return fig


def plot_weight_histogram(
    values: dict[str, Sequence[float]],
    *,
    levels: Sequence[float] = (),
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """Histograms of weight entries (label → flat values), with dotted vertical lines at ``levels``."""
    fig, ax = _axes(ax, (6.4, 3.4))
    for level in levels:
        ax.axvline(level, color="0.5", lw=0.9, ls=":", zorder=0)
    for index, (label, entries) in enumerate(values.items()):
        ax.hist(_numpy(entries).ravel(), bins=80, color=f"C{index}", alpha=0.6, label=label)
    return _labelled(fig, ax, "weight entry", "count", title)


def plot_modular_training(history: dict, *, ax: Axes | None = None, title: str | None = None) -> Figure:
    """Training and test cross-entropy of every instance over training (``ModularResult.history``),
    on a log scale: training loss solid, test loss dashed, one colour per instance."""
    fig, ax = _axes(ax, (6.4, 3.6))
    steps = _numpy(history["step"])
    train, test = _numpy(history["train_loss"]), _numpy(history["test_loss"])
    for instance in range(train.shape[1]):
        colour = f"C{instance % 10}"
        ax.plot(steps, train[:, instance], color=colour, lw=1.4, label="train" if instance == 0 else None)
        ax.plot(steps, test[:, instance], color=colour, lw=1.2, ls="--", label="test" if instance == 0 else None)
    ax.set_yscale("log")
    return _labelled(fig, ax, "step (full batch)", "cross-entropy", title)


def _labelled(fig: Figure, ax: Axes, xlabel: str, ylabel: str, title: str | None) -> Figure:
    """Axis labels, a small legend and an optional title; returns ``fig``."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return fig
