"""Every figure type the book shows, in one style.

Functions take plain tensors or arrays, draw on a given ``ax`` (or a new figure) and return the figure,
so notebooks stay short and every chapter looks the same."""

from __future__ import annotations

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

#: Feature dimensionalities of the simple geometries: the paper's reference lines plus 1.
GEOMETRY_LINES: dict[str, float] = {
    "dedicated dimension": 1.0,
    "tetrahedron": 3 / 4,
    "triangle": 2 / 3,
    "antipodal pair (digon)": 1 / 2,
    "pentagon": 2 / 5,
    "square antiprism": 3 / 8,
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


set_style()


def _numpy(values) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax


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
        ax.axhline(level, color="0.55", lw=0.8, ls=":", zorder=0)
        ax.annotate(
            f"{name}  {_fraction(level)}",
            (1.0, level),
            xycoords=("axes fraction", "data"),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
            color="0.3",
        )
    for xi, row in zip(x, dims, strict=True):
        kept = row[row >= min_dimensionality]
        jitter = xi * np.exp(rng.uniform(-0.03, 0.03, size=kept.size))
        ax.scatter(jitter, kept, s=9, alpha=0.55, color="C0", edgecolor="none")
    ax.set_xscale("log")
    ax.set_ylim(0, 1.08)
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


def plot_feature_norms(W, *, ax: Axes | None = None, title: str | None = None, colorbar: bool = True) -> Figure:
    """Horizontal bars of ``‖W_i‖`` for one instance (``W: [n_hidden, n_features]``), coloured by the
    feature's superposition ``Σ_{j≠i}(Ŵ_i·W_j)²`` on a continuous scale from 0 (black) to ≥ 1 (yellow)."""
    fig, ax = _axes(ax, (3.2, 4.0))
    weights = torch.as_tensor(_numpy(W), dtype=torch.float32)
    norms = metrics.feature_norms(weights).numpy()
    overlap = metrics.superposition(weights).clamp(0, 1).numpy()
    colours = SUPERPOSITION_CMAP(overlap)
    ax.barh(np.arange(norms.size), norms, color=colours, edgecolor="0.3", linewidth=0.3)
    ax.invert_yaxis()
    ax.set_xlabel("‖W_i‖")
    ax.set_ylabel("feature i")
    if title:
        ax.set_title(title)
    if colorbar:
        mappable = mpl.cm.ScalarMappable(norm=mpl.colors.Normalize(0, 1), cmap=SUPERPOSITION_CMAP)
        bar = fig.colorbar(mappable, ax=ax, shrink=0.8, label="superposition Σ_{j≠i}(Ŵ_i·W_j)²")
        bar.set_ticks([0, 0.5, 1], labels=["0", "0.5", "≥ 1"])
    return fig
