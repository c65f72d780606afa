"""Best-of-k selection, one definition for both trainers (``train`` and ``modular.train_modular``).

Where the result depends on the luck of the initialisation, fit k independent candidates of every
instance and keep the one with the lowest loss, as the paper did. All candidates train as one model
with ``n_instances · k`` instances: candidate c of instance i is instance ``i · k + c``, so each
instance's settings are repeated with ``repeat_interleave(k)``."""

from __future__ import annotations

import torch
from torch import Tensor, nn


def candidate_model(model: nn.Module, k: int) -> nn.Module:
    """The model that trains all k candidates: ``model`` itself when ``k == 1``, else a fresh one with
    ``model.n_instances · k`` instances (``model.with_instances``)."""
    return model if k == 1 else model.with_instances(model.n_instances * k)


def best_candidates(losses: Tensor, k: int) -> Tensor:
    """The position of every instance's best candidate: ``losses``: ``Tensor[n_instances · k]`` in the
    candidate layout; returns ``Tensor[n_instances]`` of positions in it (the lowest loss of each run of
    k), on the device of ``losses``."""
    n_instances = losses.numel() // k
    return torch.arange(n_instances, device=losses.device) * k + losses.view(-1, k).argmin(dim=1)


def copy_instances(source: nn.Module, target: nn.Module, chosen: Tensor) -> None:
    """Copy instance ``chosen[i]`` of ``source`` into instance ``i`` of ``target``, for every parameter
    (two models of one class, every parameter with a leading instance axis)."""
    with torch.no_grad():
        for src, dst in zip(source.parameters(), target.parameters(), strict=True):
            dst.copy_(src[chosen])
