"""Chapter 8's task: (a + b) mod p over all p² pairs of residues, split into training and test pairs."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .. import validation
from ..data import derived_seed

#: The stream of ``derived_seed`` that shuffles the pairs.
DATA_SPLIT_STREAM = 3


@dataclass(frozen=True)
class ModularData:
    """The (a + b) mod p task, split into training and test pairs.

    ``train`` and ``test``: ``Tensor[n_pairs, 2]`` of operands (a, b); ``train_labels`` and
    ``test_labels``: ``Tensor[n_pairs]``, (a + b) mod p. Every one of the p² ordered pairs is in
    exactly one of the two sets."""

    p: int
    train: Tensor
    test: Tensor

    @property
    def train_labels(self) -> Tensor:
        return (self.train[:, 0] + self.train[:, 1]) % self.p

    @property
    def test_labels(self) -> Tensor:
        return (self.test[:, 0] + self.test[:, 1]) % self.p


def modular_addition(p: int, *, train_fraction: float = 0.3, seed: int = 0) -> ModularData:
    """All p² pairs (a, b) of residues, shuffled with ``seed`` and split: the first
    ``round(train_fraction · p²)`` train, the rest test. ``p`` needs no primality, but the Fourier
    analysis of chapter 8 assumes an odd prime."""
    p = validation.integer("p", p, minimum=2)
    train_fraction = validation.finite_float("train_fraction", train_fraction, low=0.0, high=1.0, low_open=True)
    seed = validation.non_negative_int("seed", seed)
    n_train = round(train_fraction * p * p)
    if n_train >= p * p:
        raise ValueError(f"train_fraction must leave some test pairs, got {train_fraction} of {p * p} pairs")
    residues = torch.arange(p)
    pairs = torch.cartesian_prod(residues, residues)
    order = torch.randperm(p * p, generator=torch.Generator().manual_seed(derived_seed(seed, DATA_SPLIT_STREAM)))
    return ModularData(p=p, train=pairs[order[:n_train]], test=pairs[order[n_train:]])
