"""The toy models: many independent instances in one module, every parameter has a leading
``n_instances`` axis, and no operation mixes instances."""

from __future__ import annotations

import abc
import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from . import bitnet, validation
from .activations import ACTIVATIONS, FEATURE_MAJOR_ACTIVATIONS, HIDDEN_ACTIVATIONS, OUTPUT_BACKWARD

#: The kinds of weights ``ToyModel(weights=...)`` offers: full precision, or BitNet's quantisations.
WEIGHT_KINDS = ("dense", "ternary", "binary")


def xavier_std(n_hidden: int, n_features: int) -> float:
    """Standard deviation of Xavier-normal weights for one ``n_hidden × n_features`` matrix."""
    return math.sqrt(2.0 / (n_hidden + n_features))


def xavier_normal_(weight: Tensor, std: float, generator: torch.Generator | None, scale: float) -> None:
    """Fill ``weight`` in place with ``N(0, (std · scale)²)`` draws from ``generator``."""
    with torch.no_grad():
        noise = torch.randn(weight.shape, generator=generator, device=weight.device)
        weight.copy_(noise * (std * scale))


def check_input(x: object, n_instances: int, n_features: int) -> None:
    """Raise a clear error unless ``x`` is a float ``Tensor[n_instances, batch, n_features]``."""
    if not isinstance(x, Tensor):
        raise TypeError(f"x must be a Tensor[n_instances, batch, n_features], got {type(x).__name__}")
    if x.ndim != 3 or x.shape[0] != n_instances or x.shape[2] != n_features:
        raise ValueError(
            f"x must have shape [n_instances, batch, n_features] = [{n_instances}, batch, {n_features}], "
            f"got {list(x.shape)}"
        )


class InstanceModel(nn.Module, metaclass=abc.ABCMeta):
    """Base for models made of ``n_instances`` independent copies: everything ``train`` relies on.

    A subclass sets ``n_instances`` and ``n_features`` in ``__init__``, gives every parameter a leading
    ``n_instances`` axis (no operation may mix instances), and implements ``forward``
    (``[n_instances, batch, n_features] -> [n_instances, batch, n_features]``), ``reset_parameters``
    and ``with_instances``. It may override ``target`` (what to reconstruct), ``signed_inputs`` (the
    inputs it trains on), ``weight_kinds``, ``checkpoint_weights`` (what ``train(checkpoints=...)``
    records) and ``backward_loss`` (a hand-written gradient for speed).

    ``train`` uses the rest of the contract as follows: ``init="random"`` calls ``reset_parameters``;
    best-of-k builds the candidates with ``with_instances`` and copies the chosen candidate of every
    instance back parameter by parameter, in ``parameters()`` order (so ``init="keep"`` and best-of-k
    need nothing else)."""

    #: How many independent copies the model holds: the leading axis of every parameter.
    n_instances: int
    #: Width of the input and of the output, ``[n_instances, batch, n_features]`` both.
    n_features: int
    #: Whether the inputs' present values are ~ U[−1, 1) (True) rather than U[0, 1): ``train`` draws
    #: them so, and refuses ``feature_sets`` and stratified evaluation, which are drawn in [0, 1).
    signed_inputs: bool = False

    @abc.abstractmethod
    def forward(self, x: Tensor) -> Tensor:
        """The output for ``x: [n_instances, batch, n_features]``, the same shape."""

    @abc.abstractmethod
    def reset_parameters(self, generator: torch.Generator | None = None, scale: float = 1.0) -> None:
        """A fresh initialisation in place, drawn from ``generator``, the random weights times ``scale``."""

    @abc.abstractmethod
    def with_instances(self, n_instances: int) -> InstanceModel:
        """A freshly initialised model of the same class, configuration and device with ``n_instances``
        instances: the candidates of best-of-k (candidate c of instance i is instance ``i · k + c``)."""

    @property
    def weight_kinds(self) -> tuple[str, ...]:
        """The kind of weights of every instance (one of ``WEIGHT_KINDS``): all ``"dense"`` unless a
        subclass says otherwise. ``train`` lets instances that differ only in their kind share data
        streams, as it does for instances that differ in density."""
        return ("dense",) * self.n_instances

    def checkpoint_weights(self) -> tuple[Tensor, Tensor] | None:
        """What ``train(checkpoints=...)`` records: the weights ``W: [n_instances, n_hidden, n_features]``
        and the bias ``b: [n_instances, n_features]``; ``None`` (the default) for a model without one
        such ``W`` and ``b``, whose checkpoints ``train`` refuses."""
        return None

    def target(self, x: Tensor) -> Tensor:
        """What the model should output for input ``x``: ``x`` itself (reconstruction)."""
        return x

    def loss(self, x: Tensor, importance: Tensor | float = 1.0) -> Tensor:
        """Importance-weighted squared error, mean over batch and features: ``Tensor[n_instances]``.

        ``importance`` broadcasts against ``[n_instances, batch, n_features]``."""
        error = self(x) - self.target(x)
        return (importance * error.square()).mean(dim=(1, 2))

    def backward_loss(self, x: Tensor, importance: Tensor, *, need_loss: bool = False) -> Tensor | None:
        """Set each parameter's ``.grad`` to the gradient of ``loss(x, importance).sum()``.

        Summing over instances keeps them independent: instance i's loss depends only on instance i's
        parameters. Returns the detached per-instance loss when ``need_loss``, else ``None``."""
        for parameter in self.parameters():
            parameter.grad = None
        loss = self.loss(x, importance)
        loss.sum().backward()
        return loss.detach() if need_loss else None


class ToyModel(InstanceModel):
    """The tied-weight toy model of superposition, ``n_instances`` independent copies at once.

    ``h = f_hidden(W x)``, ``x' = f(Wᵀ h + b)`` with ``W: [n_instances, n_hidden, n_features]`` and
    ``b: [n_instances, n_features]``. ``activation`` is the output non-linearity ``f`` (one of
    ``ACTIVATIONS``); ``hidden_activation`` is ``None`` (the paper's ReLU-output model) or ``"relu"``
    (the privileged-basis model). ``weights="ternary"`` uses BitNet b1.58's absmean ternary weights and
    ``weights="binary"`` BitNet v1's binary ones (``helpers.bitnet``) on full-precision latent weights,
    trained with a straight-through gradient; a sequence gives every instance its own kind.

    Weights start Xavier-normal for one ``n_hidden × n_features`` matrix, ``std = sqrt(2/(m+n))``,
    whatever the number of instances (the official Colab's Xavier init on a 3-D ``[instances, n, m]``
    tensor has ``std = sqrt(2/(m (n + instances)))``, which shrinks as instances are added), and the bias
    starts at zero.
    """

    def __init__(
        self,
        n_features: int,
        n_hidden: int,
        n_instances: int = 1,
        *,
        activation: str = "relu",
        hidden_activation: str | None = None,
        weights: str | Sequence[str] = "dense",
    ) -> None:
        super().__init__()
        self.n_features = validation.positive_int("n_features", n_features)
        self.n_hidden = validation.positive_int("n_hidden", n_hidden)
        self.n_instances = validation.positive_int("n_instances", n_instances)
        self.activation = validation.choice("activation", activation, tuple(ACTIVATIONS))
        self.hidden_activation = validation.choice("hidden_activation", hidden_activation, HIDDEN_ACTIVATIONS)
        if isinstance(weights, str):
            self.weights = validation.choice("weights", weights, WEIGHT_KINDS)
        else:
            kinds = tuple(validation.choice("weights", kind, WEIGHT_KINDS) for kind in weights)
            if len(kinds) != self.n_instances:
                raise ValueError(
                    f"weights must be one kind or one per instance ({self.n_instances}), got {len(kinds)} kinds"
                )
            self.weights = kinds[0] if len(set(kinds)) == 1 else kinds
        self.weight = nn.Parameter(torch.empty(self.n_instances, self.n_hidden, self.n_features))
        self.b = nn.Parameter(torch.empty(self.n_instances, self.n_features))
        self.reset_parameters()

    @property
    def weight_kinds(self) -> tuple[str, ...]:
        """The kind of weights of every instance (``weights`` may give one kind per instance, so that
        dense and quantised models of one experiment train in one batched loop)."""
        return (self.weights,) * self.n_instances if isinstance(self.weights, str) else self.weights

    @property
    def W(self) -> Tensor:
        """The weights the forward pass uses, ``[n_instances, n_hidden, n_features]``: the latent
        weights, or for ``weights="ternary"`` their absmean ternarisation ``γ · T`` and for
        ``weights="binary"`` their binarisation ``β · Sign(W − α)`` (``helpers.bitnet``), whose gradient
        passes straight through to the latent weights. Each instance is quantised on its own."""
        if isinstance(self.weights, str):
            return self.weight if self.weights == "dense" else bitnet.QUANTISERS[self.weights](self.weight)
        W = self.weight
        for kind in set(self.weights) - {"dense"}:
            chosen = torch.tensor([k == kind for k in self.weights], device=W.device).view(-1, 1, 1)
            W = torch.where(chosen, bitnet.QUANTISERS[kind](self.weight), W)
        return W

    def checkpoint_weights(self) -> tuple[Tensor, Tensor]:
        """``(W, b)``: the weights the forward pass uses and the bias."""
        return self.W, self.b

    @property
    def init_std(self) -> float:
        """Standard deviation of the Xavier-normal initial weights."""
        return xavier_std(self.n_hidden, self.n_features)

    def reset_parameters(self, generator: torch.Generator | None = None, scale: float = 1.0) -> None:
        """Fresh Xavier-normal weights (times ``scale``) and a zero bias."""
        xavier_normal_(self.weight, self.init_std, generator, scale)
        with torch.no_grad():
            self.b.zero_()

    def set_parameters(self, W: Tensor, b: Tensor | None = None) -> ToyModel:
        """Overwrite the weights with ``W: [n_instances, n_hidden, n_features]`` and the bias with
        ``b: [n_instances, n_features]`` (zero when ``None``), e.g. to start training from a hand-built
        geometry (``train(..., init="keep")``). Returns the model."""
        shapes = {"W": (self.n_instances, self.n_hidden, self.n_features), "b": (self.n_instances, self.n_features)}
        for name, value in (("W", W), ("b", b)):
            if value is None:
                continue
            if not isinstance(value, Tensor):
                raise TypeError(f"{name} must be a Tensor of shape {list(shapes[name])}, got {type(value).__name__}")
            if tuple(value.shape) != shapes[name]:
                raise ValueError(f"{name} must have shape {list(shapes[name])}, got {list(value.shape)}")
        with torch.no_grad():
            self.weight.copy_(W)
            self.b.copy_(torch.zeros_like(self.b) if b is None else b)
        return self

    def with_instances(self, n_instances: int) -> ToyModel:
        """A freshly initialised model with the same configuration and ``n_instances`` instances. With
        one kind of weights per instance, ``n_instances`` must be a multiple k of this model's, and
        instance ``i · k + c`` gets instance i's kind (the layout of best-of-k candidates)."""
        weights = self.weights
        if not isinstance(weights, str):
            if n_instances % self.n_instances:
                raise ValueError(
                    f"a model with one kind of weights per instance can only grow by a whole factor: "
                    f"n_instances must be a multiple of {self.n_instances}, got {n_instances}"
                )
            weights = tuple(kind for kind in weights for _ in range(n_instances // self.n_instances))
        return ToyModel(
            self.n_features,
            self.n_hidden,
            n_instances,
            activation=self.activation,
            hidden_activation=self.hidden_activation,
            weights=weights,
        ).to(self.weight.device)

    def hidden(self, x: Tensor) -> Tensor:
        """``h = f_hidden(W x)``: ``[n_instances, batch, n_features] -> [n_instances, batch, n_hidden]``."""
        check_input(x, self.n_instances, self.n_features)
        return self._hidden(x, self.W)

    def _hidden(self, x: Tensor, W: Tensor) -> Tensor:
        h = torch.bmm(x, W.transpose(1, 2))
        return h if self.hidden_activation is None else torch.relu(h)

    def forward(self, x: Tensor) -> Tensor:
        """``x' = f(Wᵀ h + b)``: ``[n_instances, batch, n_features] -> [n_instances, batch, n_features]``."""
        check_input(x, self.n_instances, self.n_features)
        W = self.W  # ternarised once per pass for the tied encoder and decoder
        pre = torch.baddbmm(self.b.unsqueeze(1), self._hidden(x, W), W)
        return ACTIVATIONS[self.activation](pre)

    @property
    def has_fused_backward(self) -> bool:
        """True when ``backward_loss`` uses the hand-written gradient: no hidden activation, any output
        activation, dense or quantised weights (the straight-through gradient to the latent weights is the
        gradient with respect to the quantised ``W``)."""
        return self.hidden_activation is None

    def backward_loss(self, x: Tensor, importance: Tensor | float, *, need_loss: bool = False) -> Tensor | None:
        """As ``InstanceModel.backward_loss``; without a hidden activation it is written by hand,
        because on a CPU the big element-wise passes, not the matrix products, cost the time.

        With ``pre = Wᵀ W x + b``, ``out = f(pre)`` and ``L_i = mean(I ⊙ (out − x)²)``:
        ``d = ∂L/∂pre = (2/(B n)) f'(pre)ᵀ (I ⊙ (out − x))`` (for an element-wise f, a product with
        ``f'(pre)``; see ``OUTPUT_BACKWARD``), ``∂L/∂b = Σ_batch d`` and
        ``∂L/∂W = (W x) dᵀ + (W d) xᵀ`` (W is used twice: encoder and decoder).

        The work is done feature-major, on ``xᵀ: [n_instances, n_features, batch]``: batched matrix
        products with the long batch axis last run faster, most of all for tiny models (n=2, m=1),
        where batch-major products of 2×1 matrices are dominated by per-matrix overhead (measurements:
        book/performance.md). The trainer's sampler stores its batches that way, so
        ``x.transpose(1, 2)`` costs nothing.
        """
        if not self.has_fused_backward:
            return super().backward_loss(x, importance, need_loss=need_loss)
        check_input(x, self.n_instances, self.n_features)
        xT = x.transpose(1, 2)
        if not xT.is_contiguous():
            xT = xT.contiguous()
        W, b = self.W.detach(), self.b.detach()
        preT, dT, hT, dhT = self._workspace(xT)
        torch.bmm(W, xT, out=hT)  # h = W x
        torch.baddbmm(b.unsqueeze(2), W.transpose(1, 2), hT, out=preT)  # pre = Wᵀ h + b
        importanceT = importance.transpose(1, 2) if isinstance(importance, Tensor) else importance
        relu = self.activation == "relu"
        # ReLU's error is taken on pre itself and masked below: one pass fewer than computing out.
        out = preT if relu or self.activation == "linear" else FEATURE_MAJOR_ACTIVATIONS[self.activation](preT)
        loss = None
        if need_loss:
            loss = (importanceT * ((out.relu() if relu else out) - xT).square()).mean(dim=(1, 2))
        torch.sub(out, xT, out=dT)
        scale = 2.0 / (x.shape[1] * self.n_features)
        if isinstance(importance, Tensor):
            dT.mul_(importanceT)  # before the activation's backward: SoLU mixes features
        else:
            scale *= float(importance)
        if relu:
            # Keep the error only where pre > 0: ReLU's backward, one fused kernel.
            torch.ops.aten.threshold_backward.grad_input(dT, preT, 0.0, grad_input=dT)
        else:
            OUTPUT_BACKWARD[self.activation](preT, out, dT)
        torch.bmm(W, dT, out=dhT)  # W d
        grad_W = torch.baddbmm(torch.bmm(hT, dT.transpose(1, 2)), dhT, xT.transpose(1, 2)).mul_(scale)
        self.weight.grad, self.b.grad = grad_W, dT.sum(dim=2).mul_(scale)
        return loss

    def _workspace(self, xT: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Buffers reused across steps (fresh multi-MB tensors every step cost page faults on a CPU):
        ``preᵀ, dᵀ: [n_instances, n_features, batch]`` and ``hᵀ, (W d): [n_instances, n_hidden, batch]``."""
        key = (tuple(xT.shape), xT.device)
        if getattr(self, "_workspace_key", None) != key:
            big = (xT.shape[0], self.n_features, xT.shape[2])
            small = (xT.shape[0], self.n_hidden, xT.shape[2])
            self._workspace_buffers = tuple(torch.empty(shape, device=xT.device) for shape in (big, big, small, small))
            self._workspace_key = key
        return self._workspace_buffers

    def extra_repr(self) -> str:
        return (
            f"n_features={self.n_features}, n_hidden={self.n_hidden}, n_instances={self.n_instances}, "
            f"activation={self.activation!r}, hidden_activation={self.hidden_activation!r}, "
            f"weights={self.weights!r}"
        )


class AbsValueModel(InstanceModel):
    """The paper's computation-in-superposition model: untied weights, ReLU hidden and output layers,
    trained to output the absolute value of signed sparse inputs.

    ``h = ReLU(W1 x)``, ``y = ReLU(W2 h + b)``, target ``|x|``, with ``W1: [n_instances, n_hidden,
    n_features]`` (row j: neuron j's input weights), ``W2: [n_instances, n_features, n_hidden]`` and
    ``b: [n_instances, n_features]``. ``train`` feeds it inputs ~ U[−1, 1) where present
    (``signed_inputs``). Weights start Xavier-normal, ``std = sqrt(2/(m+n))``; the bias at zero.
    """

    signed_inputs = True

    def __init__(self, n_features: int, n_hidden: int, n_instances: int = 1) -> None:
        super().__init__()
        self.n_features = validation.positive_int("n_features", n_features)
        self.n_hidden = validation.positive_int("n_hidden", n_hidden)
        self.n_instances = validation.positive_int("n_instances", n_instances)
        self.W1 = nn.Parameter(torch.empty(self.n_instances, self.n_hidden, self.n_features))
        self.W2 = nn.Parameter(torch.empty(self.n_instances, self.n_features, self.n_hidden))
        self.b = nn.Parameter(torch.empty(self.n_instances, self.n_features))
        self.reset_parameters()

    @property
    def init_std(self) -> float:
        """Standard deviation of the Xavier-normal initial weights."""
        return xavier_std(self.n_hidden, self.n_features)

    def reset_parameters(self, generator: torch.Generator | None = None, scale: float = 1.0) -> None:
        """Fresh Xavier-normal ``W1`` and ``W2`` (times ``scale``) and a zero bias."""
        for weight in (self.W1, self.W2):
            xavier_normal_(weight, self.init_std, generator, scale)
        with torch.no_grad():
            self.b.zero_()

    def with_instances(self, n_instances: int) -> AbsValueModel:
        """A freshly initialised model with the same sizes and ``n_instances`` instances."""
        return AbsValueModel(self.n_features, self.n_hidden, n_instances).to(self.W1.device)

    def target(self, x: Tensor) -> Tensor:
        """The absolute value ``|x|``."""
        return x.abs()

    def hidden(self, x: Tensor) -> Tensor:
        """``h = ReLU(W1 x)``: ``[n_instances, batch, n_features] -> [n_instances, batch, n_hidden]``."""
        check_input(x, self.n_instances, self.n_features)
        return torch.relu(torch.bmm(x, self.W1.transpose(1, 2)))

    def forward(self, x: Tensor) -> Tensor:
        """``y = ReLU(W2 h + b)``: ``[n_instances, batch, n_features] -> [n_instances, batch, n_features]``."""
        h = self.hidden(x)
        return torch.relu(torch.baddbmm(self.b.unsqueeze(1), h, self.W2.transpose(1, 2)))

    def normalized_weights(self) -> tuple[Tensor, Tensor]:
        """``(W1, W2)`` rescaled so that every neuron's largest input weight ``max_i |W1_ji|`` is 1, its
        output weights multiplied by the same factor: the function is unchanged (ReLU(a z) = a ReLU(z)
        for a > 0), and neurons become comparable, as in the paper's plots. Dead neurons (no input
        weights) stay zero. Detached copies, ``[n_instances, n_hidden, n_features]`` and
        ``[n_instances, n_features, n_hidden]``."""
        scale = self.W1.detach().abs().amax(dim=2, keepdim=True)  # [n_instances, n_hidden, 1]
        return self.W1.detach() / scale.clamp_min(1e-30), self.W2.detach() * scale.transpose(1, 2)

    def extra_repr(self) -> str:
        return f"n_features={self.n_features}, n_hidden={self.n_hidden}, n_instances={self.n_instances}"
