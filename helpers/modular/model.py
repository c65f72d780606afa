"""Chapter 8's model: an embedded MLP with one bilinear layer, ``n_instances`` independent copies, with
its hand-written cross-entropy gradient."""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from .. import validation
from ..fourier import change_of_basis


class BilinearMLP(nn.Module):
    """An embedded MLP with one bilinear layer for (a + b) mod p, ``n_instances`` independent copies.

    ``x = [E_a ; E_b]`` (one embedding ``E: [n_instances, p, d]`` shared by both operands),
    ``h = (L x) ⊙ (R x)`` with ``L, R: [n_instances, n_hidden, 2d]``, ``logits = U h`` with
    ``U: [n_instances, p, n_hidden]``. No biases, no non-linearity besides the product.

    Initial weights are Gaussian with standard deviation 1/√fan-in (one-hot inputs count as fan-in 1
    for the embedding)."""

    def __init__(self, p: int, d: int, n_hidden: int, n_instances: int = 1) -> None:
        super().__init__()
        self.p = validation.integer("p", p, minimum=2)
        self.d = validation.positive_int("d", d)
        self.n_hidden = validation.positive_int("n_hidden", n_hidden)
        self.n_instances = validation.positive_int("n_instances", n_instances)
        self.E = nn.Parameter(torch.empty(self.n_instances, self.p, self.d))
        self.L = nn.Parameter(torch.empty(self.n_instances, self.n_hidden, 2 * self.d))
        self.R = nn.Parameter(torch.empty(self.n_instances, self.n_hidden, 2 * self.d))
        self.U = nn.Parameter(torch.empty(self.n_instances, self.p, self.n_hidden))
        self.reset_parameters()

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Fresh Gaussian weights, standard deviation 1/√fan-in, drawn from ``generator``."""
        with torch.no_grad():
            for weight, fan_in in ((self.E, 1), (self.L, 2 * self.d), (self.R, 2 * self.d), (self.U, self.n_hidden)):
                noise = torch.randn(weight.shape, generator=generator, device=weight.device)
                weight.copy_(noise / math.sqrt(fan_in))

    def with_instances(self, n_instances: int) -> BilinearMLP:
        """A freshly initialised model with the same sizes, on the same device, with ``n_instances``
        instances: the candidates of best-of-k (``helpers.selection``)."""
        return BilinearMLP(self.p, self.d, self.n_hidden, n_instances).to(self.E.device)

    def set_parameters(self, *, E: Tensor, L: Tensor, R: Tensor, U: Tensor) -> BilinearMLP:
        """Overwrite every weight (shapes as in the class docstring, with or without the leading
        ``n_instances`` axis). Returns the model."""
        shapes = {
            "E": (self.p, self.d),
            "L": (self.n_hidden, 2 * self.d),
            "R": (self.n_hidden, 2 * self.d),
            "U": (self.p, self.n_hidden),
        }
        values = {"E": E, "L": L, "R": R, "U": U}
        with torch.no_grad():
            for name, shape in shapes.items():
                value = values[name]
                if not isinstance(value, Tensor) or value.shape[-2:] != shape or value.dim() not in (2, 3):
                    got = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
                    raise ValueError(
                        f"{name} must have shape [n_instances, {shape[0]}, {shape[1]}] or {list(shape)}, got {got}"
                    )
                getattr(self, name).copy_(value.expand(self.n_instances, *shape))
        return self

    def inputs(self, pairs: Tensor) -> tuple[Tensor, Tensor]:
        """The bilinear layer's two factors ``L x`` and ``R x``: each ``[n_instances, batch, n_hidden]``."""
        if not isinstance(pairs, Tensor) or pairs.dim() != 2 or pairs.shape[1] != 2 or pairs.is_floating_point():
            got = tuple(pairs.shape) if isinstance(pairs, Tensor) else type(pairs).__name__
            raise ValueError(f"pairs must be an integer Tensor[batch, 2] of residues (a, b), got {got}")
        return self._factors(self.E, self.L, self.R, pairs[:, 0], pairs[:, 1])

    def _factors(self, E: Tensor, L: Tensor, R: Tensor, a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
        # Each operand's contribution is a p-row table, so the batch only needs gathers and adds;
        # index_select's backward (index_add) is faster than advanced indexing's (book/performance.md).
        d, factors = self.d, []
        for weight in (L, R):
            from_a = E @ weight[:, :, :d].transpose(1, 2)  # [n_instances, p, n_hidden]
            from_b = E @ weight[:, :, d:].transpose(1, 2)
            factors.append(torch.index_select(from_a, 1, a) + torch.index_select(from_b, 1, b))
        return factors[0], factors[1]

    def hidden(self, pairs: Tensor) -> Tensor:
        """``h = (L x) ⊙ (R x)``: ``[n_instances, batch, n_hidden]``."""
        left, right = self.inputs(pairs)
        return left * right

    def forward(self, pairs: Tensor) -> Tensor:
        """``pairs: Tensor[batch, 2]`` of residues → logits ``[n_instances, batch, p]``."""
        return self.hidden(pairs) @ self.U.transpose(1, 2)

    def backward_cross_entropy(self, pairs: Tensor, labels: Tensor) -> Tensor:
        """Set each weight's ``.grad`` to the gradient of the summed per-instance mean cross-entropy
        on ``pairs`` (``[batch, 2]``) with ``labels`` (``[batch]``), by hand: one softmax serves the
        loss and its gradient (softmax − one-hot), faster than autograd (see book/performance.md).
        Returns the detached loss of each instance, ``Tensor[n_instances]``.

        Logits more than 60 below an instance's largest count as −60 (no subnormal floats), in the loss
        as in ``modular.cross_entropy``, but the gradient is the softmax of the clipped logits minus the
        one-hot label, with the clip passed straight through. Where the right answer's logit is within
        60 of the largest (every pair the model gets right), that is autograd's gradient of the clipped
        loss, give or take p·e⁻⁶⁰; where it is further below, it is the gradient of the unclipped
        cross-entropy, so a confidently wrong pair still pulls its right answer up where the clipped
        loss is flat. Tests check both."""
        a, b = pairs[:, 0], pairs[:, 1]
        d, batch = self.d, pairs.shape[0]
        E, L, R, U = self.E.detach(), self.L.detach(), self.R.detach(), self.U.detach()
        left, right = self._factors(E, L, R, a, b)
        hidden = left * right  # [n_instances, batch, n_hidden]
        logits = hidden @ U.transpose(1, 2)  # [n_instances, batch, p]
        # Shifted logits below −60 count as −60: once the pairs are learned, most probabilities would
        # otherwise underflow to subnormal floats, which CPUs process many times slower. The loss
        # changes by less than p·e⁻⁶⁰ ≈ 1e-24.
        logits = (logits - logits.amax(dim=2, keepdim=True)).clamp_(min=-60.0)
        correct = logits.gather(2, labels.view(1, -1, 1).expand(self.n_instances, -1, 1)).squeeze(2)
        probabilities = logits.exp_()  # the logits' storage, reused
        total = probabilities.sum(dim=2, keepdim=True)
        loss = (total.squeeze(2).log() - correct).mean(dim=1)
        grad_logits = probabilities.div_(total * batch)  # (softmax − one-hot) / batch, in place
        grad_logits.scatter_add_(
            2,
            labels.view(1, -1, 1).expand(self.n_instances, -1, 1),
            torch.full((1, 1, 1), -1.0 / batch).expand(self.n_instances, batch, 1),
        )
        grad_U = grad_logits.transpose(1, 2) @ hidden
        grad_hidden = grad_logits @ U
        grads = {"U": grad_U, "E": torch.zeros_like(E)}
        for name, weight, other in (("L", L, right), ("R", R, left)):
            grad_factor = grad_hidden * other  # [n_instances, batch, n_hidden]
            halves = []
            for index, columns in ((a, slice(0, d)), (b, slice(d, 2 * d))):
                grad_table = torch.zeros(self.n_instances, self.p, self.n_hidden, device=E.device)
                grad_table.index_add_(1, index, grad_factor)  # [n_instances, p, n_hidden]
                halves.append(grad_table.transpose(1, 2) @ E)  # [n_instances, n_hidden, d]
                grads["E"] += grad_table @ weight[:, :, columns]
            grads[name] = torch.cat(halves, dim=2)
        for name, grad in grads.items():
            getattr(self, name).grad = grad
        return loss

    def change_basis(self, M: Tensor) -> BilinearMLP:
        """A copy whose embedding space uses the coordinates v' = M v: ``E' = E Mᵀ`` and both halves
        of L and R become ``· M⁻¹``, so the logits do not change (``helpers.fourier.change_of_basis``).
        ``M``: ``Tensor[d, d]`` for every instance or ``Tensor[n_instances, d, d]``, invertible."""
        if not isinstance(M, Tensor) or M.shape[-2:] != (self.d, self.d) or M.dim() not in (2, 3):
            got = tuple(M.shape) if isinstance(M, Tensor) else type(M).__name__
            raise ValueError(f"M must be a Tensor[d, d] or [n_instances, d, d] with d = {self.d}, got {got}")
        d, E = self.d, self.E.detach()
        M = M.to(E)
        writer = E.transpose(1, 2)  # the embedding as a map from one-hot residues into R^d
        new = {"U": self.U.detach(), "E": change_of_basis(writer, self.L.detach()[:, :, :d], M)[0].transpose(1, 2)}
        for name in ("L", "R"):
            weight = getattr(self, name).detach()
            halves = [
                change_of_basis(writer, weight[:, :, columns], M)[1] for columns in (slice(0, d), slice(d, 2 * d))
            ]
            new[name] = torch.cat(halves, dim=2)
        copy = BilinearMLP(self.p, self.d, self.n_hidden, self.n_instances).to(E.device)
        return copy.set_parameters(**new)

    def extra_repr(self) -> str:
        return f"p={self.p}, d={self.d}, n_hidden={self.n_hidden}, n_instances={self.n_instances}"


def instances(model: BilinearMLP, index: Tensor | list[int] | slice) -> BilinearMLP:
    """A copy of some of ``model``'s instances, on the CPU: ``index`` selects along the instance axis (a
    list or 1-D tensor of positions, or a slice), as in ``model.E[index]``."""
    if not isinstance(model, BilinearMLP):
        raise TypeError(f"model must be a helpers.BilinearMLP, got {type(model).__name__}")
    if isinstance(index, slice):
        index = torch.arange(model.n_instances)[index]
    index = torch.as_tensor(index, dtype=torch.long).flatten()
    if index.numel() == 0 or bool((index < 0).any()) or bool((index >= model.n_instances).any()):
        raise ValueError(f"index must pick at least one of the {model.n_instances} instances, got {index.tolist()}")
    weights = {name: getattr(model, name).detach().cpu()[index] for name in "ELRU"}
    return BilinearMLP(model.p, model.d, model.n_hidden, len(index)).set_parameters(**weights)
