"""Negative controls that act on trained weights (env ``SUPERPOSITION_CONTROL``; see ``helpers.runtime``).

Under ``"norm-matched"`` the trainers keep every model's norms but not its geometry: when training ends,
each column of every weight matrix gets a random direction with the column's trained norm, and biases
stay as trained. A claim that still holds there rests on norms alone (how many features have weight, how
large the biases are), not on the arrangement training found (antipodal pairs, orthogonal sets, Fourier
structure)."""

from __future__ import annotations

import torch
from torch import nn

from .runtime import control


def randomise_directions_(model: nn.Module, generator: torch.Generator) -> None:
    """In place: every parameter with three axes, ``[n_instances, rows, columns]``, gets each column
    ``[i, :, j]`` replaced by a Gaussian random direction of the same norm. Parameters with fewer axes
    (biases) are left alone. ``generator`` must live on the parameters' device."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.dim() != 3:
                continue
            noise = torch.randn(parameter.shape, generator=generator, device=parameter.device, dtype=parameter.dtype)
            norms = parameter.norm(dim=1, keepdim=True)
            parameter.copy_(noise / noise.norm(dim=1, keepdim=True).clamp_min(1e-12) * norms)


def apply_after_training(model: nn.Module, seed: int) -> None:
    """What the trainers call when their loop ends: under the ``"norm-matched"`` control, randomise the
    directions of ``model``'s weights (seeded by ``seed``); otherwise nothing."""
    if control() != "norm-matched":
        return
    device = next(model.parameters()).device
    randomise_directions_(model, torch.Generator(device=device).manual_seed(seed))
