"""Measurements along a training run, from the trainer's checkpoints (``train(..., checkpoints=...)``):
the loss of every checkpoint on one fixed batch, loss plateaus and drops, how abruptly features
change, feature dimensionalities and singular values of ``W`` over time, effective rank."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from . import metrics, validation
from .models import InstanceModel


@dataclass(frozen=True)
class Plateau:
    """A stretch of training where the loss hardly moves: from ``start`` to ``end`` (steps), at about
    ``level`` (the geometric mean of the loss there); ``drop_after``: the relative fall of the loss from
    ``level`` to the next plateau's level (or to the last loss), 0.05 meaning 5%."""

    start: int
    end: int
    level: float
    drop_after: float


def _as_1d(name: str, values) -> Tensor:
    tensor = torch.as_tensor(values, dtype=torch.float64).flatten()
    if tensor.numel() < 3:
        raise ValueError(f"{name} needs at least 3 values, got {tensor.numel()}")
    return tensor


def _log_steps(steps) -> Tensor:
    """log10(step + 1) of strictly increasing steps ≥ 0 (step 0 is the first update)."""
    step_values = _as_1d("steps", steps)
    if bool((step_values < 0).any()):
        raise ValueError("steps must be ≥ 0")
    if bool((step_values.diff() <= 0).any()):
        raise ValueError("steps must be strictly increasing")
    return torch.log10(step_values + 1.0)


def loss_plateaus(steps, loss, *, tolerance: float = 0.05, min_decades: float = 0.4) -> list[Plateau]:
    """Plateaus of a loss curve sampled at (log-spaced) ``steps``.

    A plateau is a run of consecutive samples whose loss stays within a factor ``1 + tolerance``
    (largest over smallest) and that spans at least ``min_decades`` decades of steps (in
    log10(step + 1)). Scanning from the first sample, each plateau is extended as far as the band
    allows and the scan resumes after it. Choose ``tolerance`` small compared with the drops you are
    looking for. ``steps``, ``loss``: ``[n_samples]``, steps ≥ 0 strictly increasing, loss > 0.
    Returns the plateaus in order (possibly none)."""
    step_values = _as_1d("steps", steps)
    x = _log_steps(step_values)
    y = _as_1d("loss", loss)
    if x.shape != y.shape:
        raise ValueError(f"steps and loss must have the same length, got {x.numel()} and {y.numel()}")
    if not bool(torch.isfinite(y).all()) or bool((y <= 0).any()):
        raise ValueError("loss must be finite and > 0")
    tolerance = validation.finite_float("tolerance", tolerance, low=0.0, low_open=True)
    min_decades = validation.finite_float("min_decades", min_decades, low=0.0, low_open=True)
    values = y.tolist()
    runs, i = [], 0
    while i < len(values) - 1:
        j, low, high = i, values[i], values[i]
        while j + 1 < len(values) and max(high, values[j + 1]) <= (1 + tolerance) * min(low, values[j + 1]):
            j += 1
            low, high = min(low, values[j]), max(high, values[j])
        if x[j] - x[i] >= min_decades:
            runs.append((i, j))
            i = j + 1
        else:
            i += 1
    levels = [float(y[a : b + 1].log().mean().exp()) for a, b in runs]
    step_list = step_values.long().tolist()
    plateaus = []
    for k, (a, b) in enumerate(runs):
        following = levels[k + 1] if k + 1 < len(runs) else values[-1]
        plateaus.append(Plateau(step_list[a], step_list[b], levels[k], 1 - following / levels[k]))
    return plateaus


def jump_share(steps, values, *, window_decades: float = 0.5, min_range: float = 0.05) -> Tensor:
    """How abruptly each curve moves: the largest change (max − min) it makes within any window of
    ``window_decades`` decades of steps, as a share of its whole range (max − min over all samples).
    A jump gives ≈ 1; a steady drift over D decades gives about ``window_decades / D``. Noise that
    goes back and forth does not add up, unlike a total variation. ``values``: ``[n_samples,
    n_curves]`` (e.g. each feature's D_i over checkpoints). Curves whose range is below ``min_range``
    do not move and get NaN. ``Tensor[n_curves]``."""
    x = _log_steps(steps)
    v = torch.as_tensor(values, dtype=torch.float64)
    if v.ndim != 2 or v.shape[0] != x.numel():
        raise ValueError(f"values must be [n_samples = {x.numel()}, n_curves], got {list(v.shape)}")
    window_decades = validation.finite_float("window_decades", window_decades, low=0.0, low_open=True)
    whole = v.max(dim=0).values - v.min(dim=0).values
    largest = torch.zeros(v.shape[1], dtype=torch.float64)
    for i in range(x.numel()):
        inside = v[(x >= x[i]) & (x <= x[i] + window_decades)]
        largest = torch.maximum(largest, inside.max(dim=0).values - inside.min(dim=0).values)
    share = largest / whole.clamp_min(1e-30)
    return share.where(whole >= min_range, torch.full_like(share, float("nan"))).float()


def effective_rank(W: Tensor, *, fraction: float = 0.3) -> Tensor:
    """The number of singular values of ``W`` above ``fraction`` of the largest: the dimension of the
    subspace the features actually use. Small random initial weights span every direction, so the
    measure is meaningful once the learned weights dominate them. ``W``: ``[..., n_hidden,
    n_features]`` → ``Tensor[...]``."""
    if not isinstance(W, Tensor) or W.ndim < 2:
        raise ValueError("W must be a Tensor[..., n_hidden, n_features]")
    fraction = validation.finite_float("fraction", fraction, low=0.0, high=1.0)
    singular = torch.linalg.svdvals(W.detach().double())
    return (singular > fraction * singular[..., :1]).sum(dim=-1)


def _checkpoint_weights(checkpoints: dict[str, Tensor]) -> Tensor:
    if not isinstance(checkpoints, dict) or "W" not in checkpoints:
        raise TypeError("checkpoints must be TrainResult.checkpoints, a dict with 'step', 'W', 'b' and 'loss'")
    W = checkpoints["W"]
    if W.ndim != 4:
        raise ValueError(
            f"checkpoints['W'] must be [n_checkpoints, n_instances, n_hidden, n_features], got {list(W.shape)}"
        )
    return W


def dimensionality_history(checkpoints: dict[str, Tensor]) -> Tensor:
    """Every feature's dimensionality D_i at every checkpoint: ``Tensor[n_checkpoints, n_instances,
    n_features]`` (see ``metrics.feature_dimensionality``)."""
    W = _checkpoint_weights(checkpoints)
    return metrics.feature_dimensionality(W.flatten(0, 1)).unflatten(0, W.shape[:2])


def singular_value_history(checkpoints: dict[str, Tensor]) -> Tensor:
    """The singular values of ``W`` at every checkpoint, largest first: ``Tensor[n_checkpoints,
    n_instances, min(n_hidden, n_features)]``."""
    return torch.linalg.svdvals(_checkpoint_weights(checkpoints).double()).float()


def checkpoint_losses(
    model: InstanceModel, checkpoints: dict[str, Tensor], x: Tensor, importance: Tensor | float = 1.0
) -> Tensor:
    """The loss of every checkpoint on one fixed batch ``x: [n_instances, batch, n_features]``: a
    smooth curve, unlike the training loss of each step's own batch. ``model`` supplies the
    architecture (its weights are left alone). ``Tensor[n_checkpoints, n_instances]``."""
    W = _checkpoint_weights(checkpoints)
    if not isinstance(model, InstanceModel) or not hasattr(model, "set_parameters"):
        raise TypeError(f"model must be a helpers model with set_parameters, got {type(model).__name__}")
    if W.shape[1:] != (model.n_instances, model.n_hidden, model.n_features):
        raise ValueError(
            f"checkpoints hold W of shape {list(W.shape[1:])}, but the model has "
            f"[{model.n_instances}, {model.n_hidden}, {model.n_features}]"
        )
    device = next(model.parameters()).device
    probe = model.with_instances(model.n_instances)
    x = x.to(device)
    # Written into one preallocated tensor: keeping a small result tensor per checkpoint between the
    # large temporaries fragmented the heap, and the process grew by ~40 MB per checkpoint.
    losses = torch.empty(W.shape[0], model.n_instances, device=device)
    with torch.no_grad():
        for k, (W_k, b_k) in enumerate(zip(W, checkpoints["b"], strict=True)):
            probe.set_parameters(W_k.to(device), b_k.to(device))
            losses[k] = probe.loss(x, importance)
    return losses.cpu()
