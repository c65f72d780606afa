"""Synthetic feature generators. All data in the book is generated here; nothing is downloaded."""

from __future__ import annotations

import torch
from torch import Tensor

from . import validation


def sparse_features(
    n_instances: int,
    batch_size: int,
    n_features: int,
    density: float | Tensor,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> Tensor:
    """Independent sparse features: each is present with probability ``density`` and then ~ U[0, 1).

    ``density`` is a float, ``Tensor[n_instances]`` or ``Tensor[n_instances, n_features]``, in [0, 1].
    Returns ``Tensor[n_instances, batch_size, n_features]``.

    One uniform draw per entry serves both purposes (see ``SparseSampler``), half the random numbers
    of the official Colab's separate presence and value draws, with the same distribution.
    """
    n_instances = validation.positive_int("n_instances", n_instances)
    batch_size = validation.positive_int("batch_size", batch_size)
    n_features = validation.positive_int("n_features", n_features)
    if device is None and generator is not None:
        device = generator.device
    p = validation.broadcastable(
        "density", density, n_instances, n_features, vector="instances", low=0.0, high=1.0, device=device
    )
    return SparseSampler(n_instances, n_features, p, device=device).sample(batch_size, generator)


class SparseSampler:
    """Draws batches of independent sparse features again and again, reusing one buffer.

    ``density`` is a ``Tensor[n_instances, 1, 1]`` or ``Tensor[n_instances, 1, n_features]`` in [0, 1]
    (see ``validation.broadcastable``). Each entry costs one uniform draw ``u ~ U[0, 1)``: the feature
    is present iff ``u ≥ 1 − p`` (probability ``p``) and its value is ``(u − (1 − p)) / p``, which is
    again ~ U[0, 1). As ``relu(u/p + 1 − 1/p)`` that is two in-place passes and no boolean mask.
    """

    def __init__(
        self, n_instances: int, n_features: int, density: Tensor, *, device: torch.device | str | None = None
    ) -> None:
        self.n_instances = n_instances
        self.n_features = n_features
        # p = 0 would divide by zero; with the smallest positive float every draw lands below zero.
        self.density = density.to(device=device, dtype=torch.float32)
        p = self.density.clamp_min(torch.finfo(torch.float32).tiny)
        self.scale = 1.0 / p
        self.shift = 1.0 - self.scale
        self.device = p.device
        self._buffer: Tensor | None = None

    def sample(self, batch_size: int, generator: torch.Generator | None = None, *, reuse: bool = False) -> Tensor:
        """``Tensor[n_instances, batch_size, n_features]``. With ``reuse=True`` the result lives in a
        buffer that the next call with ``reuse=True`` overwrites (the trainer's hot loop)."""
        shape = (self.n_instances, batch_size, self.n_features)
        if reuse:
            if self._buffer is None or self._buffer.shape != shape:
                self._buffer = torch.empty(shape, device=self.device)
            u = torch.rand(shape, generator=generator, device=self.device, out=self._buffer)
        else:
            u = torch.rand(shape, generator=generator, device=self.device)
        return u.mul_(self.scale).add_(self.shift).relu_()
