"""Argument checks shared by the package: each raises a ValueError or TypeError naming the parameter,
the value it got and what is allowed."""

from __future__ import annotations

import numbers

import torch
from torch import Tensor


def integer(name: str, value: object, *, minimum: int) -> int:
    """``value`` as an int, if it is an integer ≥ ``minimum`` (bools are not integers here)."""
    kind = "positive" if minimum == 1 else "non-negative" if minimum == 0 else f"≥ {minimum}"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a {kind} integer, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be a {kind} integer, got {value}")
    return int(value)


def positive_int(name: str, value: object) -> int:
    """``value`` as an int, if it is an integer ≥ 1."""
    return integer(name, value, minimum=1)


def non_negative_int(name: str, value: object) -> int:
    """``value`` as an int, if it is an integer ≥ 0."""
    return integer(name, value, minimum=0)


def finite_float(
    name: str, value: object, *, low: float | None = None, high: float | None = None, low_open: bool = False
) -> float:
    """``value`` as a float, if it is a finite real number within [low, high] (or (low, high])."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{name} must be finite, got {value}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and value > high
    if too_low or too_high:
        left = "(" if low_open else "["
        raise ValueError(f"{name} must be in {left}{low}, {high}], got {value}")
    return value


def choice(name: str, value: object, allowed: tuple) -> object:
    """``value`` if it is one of ``allowed``."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def broadcastable(
    name: str,
    value: object,
    n_instances: int,
    n_features: int,
    *,
    vector: str,
    low: float,
    high: float | None,
    device: torch.device | str | None = None,
) -> Tensor:
    """A float, a 1-D tensor or a ``Tensor[n_instances, n_features]`` as a float32 tensor of shape
    ``[n_instances, 1, 1]`` or ``[n_instances, 1, n_features]``, which broadcasts against
    ``[n_instances, batch, n_features]``.

    ``vector`` says what a 1-D tensor indexes: ``"instances"`` (shape ``[n_instances]``) or
    ``"features"`` (shape ``[n_features]``). Every entry must lie in [low, high] (``high=None``: no
    upper bound)."""
    vector_length = {"instances": n_instances, "features": n_features}[vector]
    shapes = f"[{vector}] = [{vector_length}] or [n_instances, n_features] = [{n_instances}, {n_features}]"
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        finite_float(name, value, low=low, high=high)
        return torch.full((n_instances, 1, 1), float(value), device=device)
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a float or a tensor of shape {shapes}, got {type(value).__name__}")
    tensor = value.detach().to(device=device, dtype=torch.float32)
    if tensor.ndim == 0:
        tensor = tensor.reshape(1, 1, 1).expand(n_instances, 1, 1)
    elif tensor.ndim == 1 and tensor.shape[0] == vector_length:
        if vector == "instances":
            tensor = tensor.reshape(n_instances, 1, 1)
        else:
            tensor = tensor.reshape(1, 1, n_features).expand(n_instances, 1, n_features)
    elif tensor.ndim == 2 and tuple(tensor.shape) == (n_instances, n_features):
        tensor = tensor.reshape(n_instances, 1, n_features)
    else:
        raise ValueError(f"{name} must be a float or have shape {shapes}, got shape {list(tensor.shape)}")
    if not torch.isfinite(tensor).all():
        raise ValueError(f"{name} must be finite everywhere, got a non-finite entry")
    if (tensor < low).any() or (high is not None and (tensor > high).any()):
        worst = tensor.min() if (tensor < low).any() else tensor.max()
        upper = "inf)" if high is None else f"{high}]"
        raise ValueError(f"{name} must lie in [{low}, {upper} everywhere, got {worst.item():.6g}")
    return tensor.contiguous()
