"""The activation table: every output non-linearity a toy model may use, in the batch-major layout of
the forward pass and the feature-major layout of the hand-written gradient, with each one's backward.

``ToyModel(activation=...)`` takes its names from ``ACTIVATIONS``; ``ToyModel.backward_loss`` uses
``FEATURE_MAJOR_ACTIVATIONS`` and ``OUTPUT_BACKWARD``. A test checks every backward against autograd."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor


def solu(x: Tensor, dim: int = -1) -> Tensor:
    """Softmax linear unit ``x ⊙ softmax(x)``, the softmax taken over the features (axis ``dim``, the
    last one in the ``[n_instances, batch, n_features]`` layout).

    Unlike the other activations it is not element-wise: each output depends on every feature."""
    return x * torch.softmax(x, dim=dim)


#: Each output activation by name, on batch-major tensors ``[n_instances, batch, n_features]``.
ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "linear": lambda x: x,
    "relu": torch.relu,
    "gelu": F.gelu,
    "silu": F.silu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "solu": solu,
}
#: The hidden activations ``ToyModel(hidden_activation=...)`` offers: none (the paper's ReLU-output
#: model) or ReLU (the privileged-basis model).
HIDDEN_ACTIVATIONS = (None, "relu")


def _gelu_backward(pre: Tensor, out: Tensor, grad: Tensor) -> Tensor:
    # d/dz z·Φ(z) = Φ(z) + z·φ(z)
    cdf = torch.special.ndtr(pre)
    density = torch.exp(pre.square().mul_(-0.5)).mul_(1.0 / math.sqrt(2 * math.pi))
    return grad.mul_(density.mul_(pre).add_(cdf))


def _silu_backward(pre: Tensor, out: Tensor, grad: Tensor) -> Tensor:
    # d/dz z·σ(z) = σ(z)·(1 + z·(1 − σ(z)))
    sigma = torch.sigmoid(pre)
    return grad.mul_(sigma * (1 + pre * (1 - sigma)))


def _solu_backward(pre: Tensor, out: Tensor, grad: Tensor) -> Tensor:
    # y_i = z_i s_i with s = softmax(z) over features (axis 1 in the feature-major layout):
    # (Jᵀ g)_k = s_k (g_k (1 + z_k) − Σ_i g_i y_i).
    share = torch.softmax(pre, dim=1)
    weighted = (grad * out).sum(dim=1, keepdim=True)
    return grad.mul_(pre + 1).sub_(weighted).mul_(share)


#: Each output activation on feature-major tensors ``[n_instances, n_features, batch]``, the layout of
#: the hand-written gradient: only SoLU, whose softmax runs over the features, differs from ``ACTIVATIONS``.
FEATURE_MAJOR_ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    **ACTIVATIONS,
    "solu": functools.partial(solu, dim=1),
}

#: Backward pass of each output activation for the hand-written gradient: ``(pre, out, grad) -> ∂L/∂pre``
#: given ``grad = ∂L/∂out``, computed in place on ``grad``, all ``[n_instances, n_features, batch]``
#: (feature-major: SoLU's softmax runs over axis 1). ReLU has its own fused kernel in
#: ``ToyModel.backward_loss``.
OUTPUT_BACKWARD: dict[str, Callable[[Tensor, Tensor, Tensor], Tensor]] = {
    "linear": lambda pre, out, grad: grad,
    "gelu": _gelu_backward,
    "silu": _silu_backward,
    "sigmoid": lambda pre, out, grad: grad.mul_(out * (1 - out)),
    "tanh": lambda pre, out, grad: grad.mul_(1 - out.square()),
    "solu": _solu_backward,
}
