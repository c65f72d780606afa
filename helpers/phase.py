"""Empirical phase diagrams: one trained model per cell of a (density × relative importance) grid.

Chapter 02 draws them for the ReLU and linear outputs, the activation and BitNet chapters redo them
for other models; all share this one function so that their grids, seeds and rules agree."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from . import metrics, validation
from .models import ToyModel
from .train import train


@dataclass
class PhaseDiagram:
    """The extra (last) feature of every cell, ``[n_density, n_importance]`` each: ``norm`` ‖W_extra‖,
    ``superposition`` Σ_{j≠extra}(Ŵ_extra·W_j)², ``phase`` codes into ``helpers.theory.PHASES`` by the
    rule of ``metrics.feature_phase``; ``W``: the trained weights, ``[n_density, n_importance, m, n]``;
    ``loss``: each cell's final loss as the trainer measures it (importance-weighted, mean over features;
    ``helpers.theory``'s losses sum over features), ``[n_density, n_importance]``; ``response``: every
    feature's ``metrics.feature_response``, ``[n_density, n_importance, n]``."""

    norm: Tensor
    superposition: Tensor
    phase: np.ndarray
    W: Tensor
    loss: Tensor
    response: Tensor


def train_phase_diagram(
    n_features: int,
    n_hidden: int,
    relative_importance: Tensor,
    density: Tensor,
    *,
    activation: str = "relu",
    represented_by: str = "norm",
    seed: int = 0,
    device: torch.device | str | None = None,
    **train_options,
) -> PhaseDiagram:
    """Train one ``ToyModel(n_features, n_hidden, activation=...)`` per grid cell, all features of
    density ``density[row]``, the last feature of importance ``relative_importance[column]`` and the
    others of importance 1, in one vectorised run (pass ``best_of`` and the recipe in
    ``train_options``). Returns the extra feature's norm, superposition and phase per cell.

    ``represented_by``: "norm" classifies with ``metrics.feature_phase``'s weight-norm test (the paper's
    rule, for the ReLU output); "response" counts a feature as represented when its
    ``metrics.feature_response`` is at least ``metrics.REPRESENTED_RESPONSE``, a scale-free rule for
    activations that inflate the weights (sigmoid, SoLU)."""
    if represented_by not in ("norm", "response"):
        raise ValueError(f'represented_by must be "norm" or "response", got {represented_by!r}')
    relative_importance = torch.as_tensor(relative_importance, dtype=torch.float32).flatten()
    density = torch.as_tensor(density, dtype=torch.float32).flatten()
    if relative_importance.numel() == 0 or density.numel() == 0:
        raise ValueError("relative_importance and density must each hold at least one value")
    validation.positive_int("n_features", n_features)
    if n_features < 2:
        raise ValueError(f"n_features must be at least 2 (one extra feature and one other), got {n_features}")
    rows, cols = density.numel(), relative_importance.numel()
    importance = torch.ones(rows * cols, n_features)
    importance[:, -1] = relative_importance.repeat(rows)  # row-major: cell (row, col) is instance row*cols+col
    model = ToyModel(n_features, n_hidden, n_instances=rows * cols, activation=activation).to(device or "cpu")
    result = train(model, density=density.repeat_interleave(cols), importance=importance, seed=seed, **train_options)
    W = model.W.detach().cpu()
    response = metrics.feature_response(model)
    represented = response >= metrics.REPRESENTED_RESPONSE if represented_by == "response" else None
    return PhaseDiagram(
        norm=metrics.feature_norms(W)[:, -1].view(rows, cols),
        superposition=metrics.superposition(W)[:, -1].view(rows, cols),
        phase=metrics.feature_phase(W, represented=represented).view(rows, cols).numpy(),
        W=W.view(rows, cols, n_hidden, n_features),
        loss=result.loss.view(rows, cols),
        response=response.view(rows, cols, n_features),
    )
