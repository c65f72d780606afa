"""The straightforward trainer the fast one is measured against: the official Colab's algorithm.

Einsum forward over ``[batch, instances, features]``, autograd backward, AdamW (lr 1e-3, PyTorch's
default weight decay 0.01), and a fresh batch every step drawn with two uniform draws per entry (one
for presence, one for the value), independently for every instance. The benchmark starts it from the
same initial weights as ``helpers.train`` so that final losses can be compared at equal steps;
everything else is the Colab's recipe as described in the reference notes.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from helpers.data import sparse_features


class BaselineModel(nn.Module):
    """``x' = ReLU(Wᵀ W x + b)`` with ``W: [instances, features, hidden]``, as the Colab stores it."""

    def __init__(self, initial_W: Tensor) -> None:
        """``initial_W: [instances, hidden, features]`` as ``helpers.ToyModel`` stores it."""
        super().__init__()
        self.W = nn.Parameter(initial_W.detach().transpose(1, 2).contiguous())
        self.b_final = nn.Parameter(torch.zeros(initial_W.shape[0], initial_W.shape[2]))

    def forward(self, features: Tensor) -> Tensor:
        hidden = torch.einsum("bif,ifh->bih", features, self.W)
        out = torch.einsum("bih,ifh->bif", hidden, self.W)
        return torch.relu(out + self.b_final)


def generate_batch(
    batch_size: int, n_instances: int, n_features: int, density: Tensor, generator: torch.Generator
) -> Tensor:
    """``[batch, instances, features]``: present where a uniform draw is ≤ density, value a second draw."""
    shape = (batch_size, n_instances, n_features)
    values = torch.rand(shape, generator=generator)
    present = torch.rand(shape, generator=generator) <= density
    return torch.where(present, values, torch.zeros(()))


def baseline_step(
    model: BaselineModel,
    optimizer: torch.optim.Optimizer,
    density: Tensor,
    importance: Tensor,
    batch_size: int,
    generator: torch.Generator,
) -> Tensor:
    """One training step; returns the per-instance loss ``[instances]`` (mean over batch and features)."""
    n_instances, n_features, _ = model.W.shape
    batch = generate_batch(batch_size, n_instances, n_features, density, generator)
    out = model(batch)
    return _autograd_step(optimizer, (importance * (batch - out).square()).mean(dim=(0, 2)))


def _autograd_step(optimizer: torch.optim.Optimizer, loss: Tensor) -> Tensor:
    """Backpropagate the summed per-instance ``loss`` and step; returns it detached."""
    optimizer.zero_grad(set_to_none=True)
    loss.sum().backward()
    optimizer.step()
    return loss.detach()


class InstanceMajorModel(nn.Module):
    """The same model written the plain way a PyTorch user would: ``W: [instances, hidden, features]``,
    inputs ``[instances, batch, features]`` and two batched matrix products (``torch.bmm``)."""

    def __init__(self, initial_W: Tensor) -> None:
        super().__init__()
        self.W = nn.Parameter(initial_W.detach().clone())
        self.b_final = nn.Parameter(torch.zeros(initial_W.shape[0], initial_W.shape[2]))

    def forward(self, features: Tensor) -> Tensor:
        hidden = torch.bmm(features, self.W.transpose(1, 2))  # [instances, batch, hidden]
        return torch.relu(torch.bmm(hidden, self.W) + self.b_final.unsqueeze(1))


def instance_major_step(
    model: InstanceMajorModel,
    optimizer: torch.optim.Optimizer,
    density: Tensor,
    importance: Tensor,
    batch_size: int,
    generator: torch.Generator,
    *,
    one_draw: bool = False,
) -> Tensor:
    """One autograd step of :class:`InstanceMajorModel` on a fresh ``[instances, batch, features]`` batch,
    drawn with two uniform draws per entry as the Colab draws it, or with ``one_draw`` as
    ``helpers.sparse_features`` does (one uniform decides presence and value); ``density: [instances, 1,
    1]``, ``importance: [instances, 1, features]``. Returns the per-instance loss ``[instances]``."""
    n_instances, _, n_features = model.W.shape
    shape = (n_instances, batch_size, n_features)
    if one_draw:
        batch = sparse_features(n_instances, batch_size, n_features, density.view(-1), generator=generator)
    else:
        values = torch.rand(shape, generator=generator)
        batch = torch.where(torch.rand(shape, generator=generator) <= density, values, torch.zeros(()))
    return _autograd_step(optimizer, (importance * (batch - model(batch)).square()).mean(dim=(1, 2)))
