"""The book's figure style, its colours, and the building blocks every figure module shares.

Importing this module changes no global setting: ``set_style()`` applies the style when asked (the book's
notebooks ask in their setup cell).

The building blocks (``new_axes``, ``guide``, ``labelled``, ...) are for the figure modules of this
package; notebooks call the figure functions."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

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

#: Colours of the three phases of a feature, as in the paper's phase diagrams.
PHASE_COLOURS = {"not represented": "#c8c8c8", "dedicated": "#3b6fb6", "superposition": "#d1423c"}

#: Colour of ``metrics.OTHER_PHASE`` (shared, but without an antipodal partner) in empirical diagrams.
OTHER_PHASE_COLOUR = "#e3b23c"


def set_style() -> None:
    """The book's figure style: seaborn's white-grid theme, readable sizes, PNG-friendly resolution.

    It changes matplotlib's and seaborn's global settings for every later figure, so importing ``helpers``
    does not call it: the book's notebooks call ``plotting.set_style()`` in their setup cell, and a reader who
    wants the book's look in their own notebook does the same."""
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


def as_numpy(values) -> np.ndarray:
    """A tensor (detached, on the CPU) or array-like as a NumPy array."""
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def new_axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    """``ax`` and its figure, or a new figure of ``figsize`` inches with one axes when ``ax`` is None."""
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax


def guide(
    ax: Axes,
    level: float,
    label: str | None = None,
    *,
    vertical: bool = False,
    at: float = 1.0,
    offset: tuple[float, float] = (4, 0),
    ha: str = "left",
    va: str = "center",
    ls: str = ":",
    line_colour: str = "0.55",
    text_colour: str = "0.3",
) -> None:
    """A reference line behind the data at ``level``: horizontal, or vertical with ``vertical``. An
    optional ``label`` sits at ``at`` along the line in axes fraction (1.0: the right or top edge), moved
    by ``offset`` points."""
    (ax.axvline if vertical else ax.axhline)(level, color=line_colour, lw=0.8, ls=ls, zorder=0)
    if label is None:
        return
    ax.annotate(
        label,
        (level, at) if vertical else (at, level),
        xycoords=("data", "axes fraction") if vertical else ("axes fraction", "data"),
        xytext=offset,
        textcoords="offset points",
        ha=ha,
        va=va,
        fontsize=8,
        color=text_colour,
    )


def labelled(
    fig: Figure, ax: Axes, xlabel: str, ylabel: str, title: str | None = None, *, legend: bool | dict = True
) -> Figure:
    """Axis labels, a legend in small type and an optional title; returns ``fig``. ``legend``: False for
    none, or a dict of further ``ax.legend`` arguments (placement, handles, columns)."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if legend:
        ax.legend(**{"fontsize": 8, **(legend if isinstance(legend, dict) else {})})
    if title:
        ax.set_title(title)
    return fig


def superposition_colorbar(fig: Figure, ax, label: str = "superposition", **kwargs) -> None:
    """The colour bar of ``SUPERPOSITION_CMAP`` beside ``ax`` (one axes or a list), from 0 to "≥ 1"
    (the colours saturate there); ``kwargs`` go to ``fig.colorbar`` (``shrink``, ``location``, ...)."""
    mappable = mpl.cm.ScalarMappable(norm=mpl.colors.Normalize(0, 1), cmap=SUPERPOSITION_CMAP)
    bar = fig.colorbar(mappable, ax=ax, label=label, **kwargs)
    bar.set_ticks([0, 0.5, 1], labels=["0", "0.5", "≥ 1"])


def table_axes(n_rows: int, n_columns: int, row_labels, column_labels, panel: tuple[float, float]):
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


def table_weights(W) -> torch.Tensor:
    """``W`` of a table of models as a float tensor ``[n_rows, n_columns, n_hidden, n_features]``."""
    weights = torch.as_tensor(as_numpy(W), dtype=torch.float32)
    if weights.ndim != 4:
        raise ValueError(f"W must be [n_rows, n_columns, n_hidden, n_features], got {list(weights.shape)}")
    return weights
