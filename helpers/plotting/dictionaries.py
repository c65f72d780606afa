"""Chapter 09's figures: an SAE's dictionary against the true features, and recovery over a sweep of
dictionary sizes and sparsity penalties."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from .style import as_numpy, labelled


def plot_dictionaries_2d(
    W,
    dictionaries: Sequence,
    titles: Sequence[str],
    *,
    suptitle: str | None = None,
) -> Figure:
    """One panel per dictionary: the true feature directions of a 2-D toy model (``W [2, n_features]``,
    grey arrows of their norm) and the dictionary's unit decoder directions (``[2, n_latents]`` each,
    coloured lines to the unit circle)."""
    features = as_numpy(W)
    fig, axes = plt.subplots(1, len(dictionaries), figsize=(3.1 * len(dictionaries), 3.3), layout="constrained")
    axes = np.atleast_1d(axes)
    circle = np.linspace(0, 2 * np.pi, 200)
    limit = max(1.25, float(np.linalg.norm(features, axis=0).max()) * 1.1)
    for ax, dictionary, title in zip(axes, dictionaries, titles, strict=True):
        directions = as_numpy(dictionary)
        directions = directions / np.maximum(np.linalg.norm(directions, axis=0, keepdims=True), 1e-12)
        ax.plot(np.cos(circle), np.sin(circle), color="0.85", lw=0.8, zorder=0)
        for i in range(features.shape[1]):
            ax.annotate("", features[:, i], (0, 0), arrowprops={"arrowstyle": "-|>", "color": "0.55", "lw": 2.2})
        for j in range(directions.shape[1]):
            ax.plot([0, directions[0, j]], [0, directions[1, j]], color=f"C{j % 10}", lw=1.6)
            ax.plot(*directions[:, j], "o", color=f"C{j % 10}", ms=4)
        ax.set_xlim(-limit, limit)
        ax.set_ylim(-limit, limit)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title, fontsize=9)
    handles = [
        plt.Line2D([], [], color="0.55", lw=2.2, label="true feature W_i"),
        plt.Line2D([], [], color="C0", lw=1.6, marker="o", ms=4, label="SAE latent (decoder direction)"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncol=2, fontsize=8)
    if suptitle:
        fig.suptitle(suptitle, fontweight="bold")
    return fig


def plot_recovery_sweep(
    n_latents: Sequence[int],
    l1_coefficients: Sequence[float],
    values: dict,
    *,
    n_features: int | None = None,
    suptitle: str | None = None,
) -> Figure:
    """Measures over a sweep of dictionary sizes (rows) and L1 coefficients (columns): one heat map
    per entry of ``values`` (title → ``[len(n_latents), len(l1_coefficients)]``), each cell annotated.
    ``n_features``: marks the dictionary sizes below it."""
    fig, axes = plt.subplots(
        1, len(values), figsize=(3.6 * len(values), 0.45 * len(n_latents) + 2.2), layout="constrained"
    )
    axes = np.atleast_1d(axes)
    rows = [f"{n}{' (< features)' if n_features is not None and n < n_features else ''}" for n in n_latents]
    for ax, (title, grid) in zip(axes, values.items(), strict=True):
        data = as_numpy(grid)
        image = ax.imshow(data, cmap="viridis", aspect="auto")
        for (r, c), value in np.ndenumerate(data):
            text = f"{value:.2f}" if abs(value) < 10 else f"{value:.0f}"
            shade = image.norm(value) if np.isfinite(value) else 0
            ax.text(c, r, text, ha="center", va="center", fontsize=8, color="black" if shade > 0.6 else "white")
        ax.set_xticks(range(len(l1_coefficients)), [f"{lam:g}" for lam in l1_coefficients])
        ax.set_yticks(range(len(n_latents)), rows)
        ax.grid(False)
        labelled(fig, ax, "L1 coefficient λ", "latents in the dictionary", title, legend=False)
    if suptitle:
        fig.suptitle(suptitle, fontweight="bold")
    return fig
