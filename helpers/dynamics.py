"""Measurements along a training run, from the trainer's checkpoints (``train(..., checkpoints=...)``):
loss plateaus and drops, how sharply features change, the effective rank of ``W``."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from . import validation


@dataclass(frozen=True)
class Plateau:
    """A stretch of training where the loss hardly moves: from ``start`` to ``end`` (steps), at about
    ``level``; ``drop_after``: the relative fall of the loss from ``level`` to the next plateau (or to
    the end of training), 0.05 meaning 5%."""

    start: int
    end: int
    level: float
    drop_after: float


def _as_1d(name: str, values) -> Tensor:
    tensor = torch.as_tensor(values, dtype=torch.float64).flatten()
    if tensor.numel() < 3:
        raise ValueError(f"{name} needs at least 3 values, got {tensor.numel()}")
    return tensor


def loss_plateaus(steps, loss, *, max_slope: float = 0.02, min_decades: float = 0.25) -> list[Plateau]:
    """Plateaus of a loss curve sampled at (log-spaced) ``steps``.

    On a log-log plot a plateau is flat: between neighbouring samples the loss changes by less than
    ``max_slope`` in log10(loss) per decade of steps. A plateau is a run of such flat segments that
    spans at least ``min_decades`` decades of steps. ``steps``, ``loss``: ``[n_samples]``, steps ≥ 0
    increasing, loss > 0. Returns the plateaus in order."""
    step_values = _as_1d("steps", steps)
    x = torch.log10(step_values + 1.0)
    y = torch.log10(_as_1d("loss", loss).clamp_min(1e-30))
    if x.shape != y.shape:
        raise ValueError(f"steps and loss must have the same length, got {x.numel()} and {y.numel()}")
    if bool((x.diff() <= 0).any()):
        raise ValueError("steps must be strictly increasing")
    max_slope = validation.finite_float("max_slope", max_slope, low=0.0, low_open=True)
    flat = ((y.diff() / x.diff()).abs() < max_slope).tolist()
    runs, start = [], None
    for i, is_flat in enumerate([*flat, False]):
        if is_flat and start is None:
            start = i
        elif not is_flat and start is not None:
            if x[i] - x[start] >= min_decades:
                runs.append((start, i))
            start = None
    levels = [float(10 ** y[a : b + 1].mean()) for a, b in runs]
    plateaus = []
    for k, (a, b) in enumerate(runs):
        following = levels[k + 1] if k + 1 < len(runs) else float(10 ** y[-1])
        plateaus.append(Plateau(int(step_values[a]), int(step_values[b]), levels[k], 1 - following / levels[k]))
    return plateaus


def transition_width(steps, values, *, low: float = 0.1, high: float = 0.9) -> Tensor:
    """How fast each curve moves from its first to its last value, in decades of steps: the log10-step
    distance between the last time it is within ``low`` of the way there and the first time it is past
    ``high`` of the way. ``values``: ``[n_samples, n_curves]`` (e.g. each feature's D_i over
    checkpoints). A jump gives a small width, a slow drift a large one; curves that do not move (less
    than 0.05 between first and last value) get NaN. ``Tensor[n_curves]``."""
    x = torch.log10(_as_1d("steps", steps) + 1.0)
    v = torch.as_tensor(values, dtype=torch.float64)
    if v.ndim != 2 or v.shape[0] != x.numel():
        raise ValueError(f"values must be [n_samples = {x.numel()}, n_curves], got {list(v.shape)}")
    change = v[-1] - v[0]
    progress = (v - v[0]) / change.where(change.abs() > 0.05, torch.ones_like(change))
    widths = torch.full((v.shape[1],), float("nan"), dtype=torch.float64)
    for j in torch.nonzero(change.abs() > 0.05).flatten().tolist():
        below = torch.nonzero(progress[:, j] <= low).flatten()
        above = torch.nonzero(progress[:, j] >= high).flatten()
        first_above = int(above[0])
        last_below = int(below[below < first_above][-1]) if bool((below < first_above).any()) else 0
        widths[j] = x[first_above] - x[last_below]
    return widths.float()


def effective_rank(W: Tensor, *, fraction: float = 0.1) -> Tensor:
    """The number of singular values of ``W`` above ``fraction`` of the largest: the dimension of the
    subspace the features actually use. ``W``: ``[..., n_hidden, n_features]`` → ``Tensor[...]``."""
    if not isinstance(W, Tensor) or W.ndim < 2:
        raise ValueError("W must be a Tensor[..., n_hidden, n_features]")
    fraction = validation.finite_float("fraction", fraction, low=0.0, high=1.0)
    singular = torch.linalg.svdvals(W.detach().double())
    return (singular > fraction * singular[..., :1]).sum(dim=-1)
