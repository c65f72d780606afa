"""Phase diagrams: which phase a feature takes (not represented, dedicated, superposition) over its relative
importance and the density, from theory (``helpers.theory``) or from trained models (``helpers.phase``)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .. import metrics
from ..theory import PHASES
from .style import OTHER_PHASE_COLOUR, PHASE_COLOURS, as_numpy, labelled, new_axes


def _log_edges(centres: np.ndarray) -> np.ndarray:
    """Cell edges halfway (geometrically) between log-spaced centres, extended at both ends."""
    logs = np.log(centres)
    middle = (logs[1:] + logs[:-1]) / 2
    return np.exp(np.concatenate([[2 * logs[0] - middle[0]], middle, [2 * logs[-1] - middle[-1]]]))


def _phase_axes(ax: Axes, title: str | None, handles: list, *, ncol: int) -> None:
    """Log axes with their labels, the title, and the colour legend ``handles`` under the diagram."""
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _: f"{v:g}×"))
    ax.yaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.grid(False)
    legend = {"handles": handles, "loc": "upper center", "bbox_to_anchor": (0.5, -0.18), "ncol": ncol, "frameon": False}
    labelled(ax.figure, ax, "relative importance of the extra feature", "feature density 1−S", title, legend=legend)


def _draw_boundaries(ax: Axes, boundaries: Sequence[tuple[np.ndarray, np.ndarray]], lw: float) -> None:
    """Phase boundaries, each a curve ``(r, p)``, as dashed black lines over the cells."""
    for curve_r, curve_p in boundaries:
        ax.plot(as_numpy(curve_r), as_numpy(curve_p), color="black", lw=lw, ls="--")


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
    fig, ax = new_axes(ax, (4.4, 3.9))
    colours = mpl.colors.ListedColormap([PHASE_COLOURS[name] for name in PHASES] + [OTHER_PHASE_COLOUR])
    r, p, codes = as_numpy(relative_importance), as_numpy(density), as_numpy(phase_codes)
    ax.pcolormesh(_log_edges(r), _log_edges(p), codes, cmap=colours, vmin=-0.5, vmax=len(PHASES) + 0.5)
    _draw_boundaries(ax, boundaries, lw=1.0)
    ax.set_xlim(r.min(), r.max())
    ax.set_ylim(p.min(), p.max())
    handles = [mpl.patches.Patch(color=colour, label=name) for name, colour in PHASE_COLOURS.items()]
    if np.any(codes == metrics.OTHER_PHASE):
        handles.append(mpl.patches.Patch(color=OTHER_PHASE_COLOUR, label="shared, not antipodal"))
    _phase_axes(ax, title, handles, ncol=3)
    return fig


def phase_colours(norm, overlap) -> np.ndarray:
    """The paper's two-dimensional colour code for a feature, ``[..., 3]`` RGB: white when its norm is 0,
    blue when it is represented without superposition, red when its superposition reaches 1; norm and
    superposition are clipped to [0, 1] and blended linearly."""
    strength = np.clip(as_numpy(norm), 0, 1)[..., None]
    mix = np.clip(as_numpy(overlap), 0, 1)[..., None]
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
    boundaries: Sequence[tuple[np.ndarray, np.ndarray]] = (),
    ax: Axes | None = None,
    title: str | None = None,
) -> Figure:
    """An empirical phase diagram coloured, as in the paper, by the extra feature's norm and
    superposition (``norm``, ``overlap``: ``[n_density, n_importance]``; see ``phase_colours``).
    ``mismatch`` (bool, same shape, optional) marks the cells whose phase differs from theory with a dot;
    ``boundaries`` (curves ``(r, p)``, optional, as for ``plot_phase_theory``) draws the theory's phase
    boundaries over the cells, clipped to them."""
    fig, ax = new_axes(ax, (4.4, 3.9))
    r, p = as_numpy(relative_importance), as_numpy(density)
    rgb = phase_colours(norm, overlap)
    r_edges, p_edges = _log_edges(r), _log_edges(p)
    ax.pcolormesh(r_edges, p_edges, rgb, edgecolors="white", linewidth=0.3)
    if mismatch is not None:
        rows, cols = np.nonzero(as_numpy(mismatch))
        ax.scatter(r[cols], p[rows], s=10, color="black", marker="o")
    _draw_boundaries(ax, boundaries, lw=0.8)
    ax.set_xlim(r_edges[0], r_edges[-1])
    ax.set_ylim(p_edges[0], p_edges[-1])
    handles = [
        mpl.patches.Patch(facecolor="white", edgecolor="0.6", label="norm 0"),
        mpl.patches.Patch(color=PHASE_COLOURS["dedicated"], label="norm 1, no superposition"),
        mpl.patches.Patch(color=PHASE_COLOURS["superposition"], label="norm 1, superposition ≥ 1"),
    ]
    _phase_axes(ax, title, handles, ncol=2)
    if mismatch is not None and np.any(as_numpy(mismatch)):
        ax.add_artist(ax.legend_)
        ax.legend(
            handles=[mpl.lines.Line2D([], [], ls="", marker="o", ms=3, color="black", label="differs from theory")],
            loc="lower right",
            fontsize=7,
            frameon=True,
        )
    return fig
