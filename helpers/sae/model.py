"""The sparse autoencoder: many independent SAEs as instances of one module, like the toy models.

An SAE reads hidden activations ``h`` and writes them as a sparse, non-negative code ``z`` over a
dictionary of ``n_latents`` directions:

    z = act(W_encᵀ (h − b_dec) + b_enc),     ĥ = D z + b_dec,     D = W_dec with unit-norm columns,

with ``act`` a ReLU (``kind="l1"``, trained with an L1 penalty on ``z``, Sharkey et al. 2022 and Bricken
et al. 2023) or a ReLU that keeps only the ``k`` largest entries (``kind="topk"``, Gao et al. 2024).
Subtracting the decoder bias before encoding is Bricken et al.'s; normalising the decoder's columns
in the forward pass makes the L1 penalty measure the code, not the decoder's scale."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .. import validation

SAE_KINDS = ("l1", "topk")
EPS = 1e-12


class SparseAutoencoder(nn.Module):
    """``n_instances`` independent sparse autoencoders from ``n_input`` to ``n_latents`` dimensions.

    Parameters (column ``j`` of the weights belongs to latent ``j``):
    ``W_enc``, ``W_dec``: ``[n_instances, n_input, n_latents]``; ``b_enc``: ``[n_instances, n_latents]``;
    ``b_dec``: ``[n_instances, n_input]``. ``decoder`` is ``W_dec`` with unit-norm columns, what the
    forward pass uses. ``kind``: ``"l1"`` or ``"topk"`` (then ``k``, the latents kept per input, is
    required). The initial decoder columns are random unit vectors and the encoder starts as the
    decoder (Gao et al. 2024's initialisation); the biases start at 0. ``biases=False``: no encoder or
    decoder bias (both stay 0, untrained), the ablation *Towards Monosemanticity* reports on."""

    def __init__(
        self,
        n_input: int,
        n_latents: int,
        n_instances: int = 1,
        *,
        kind: str = "l1",
        k: int | None = None,
        generator: torch.Generator | None = None,
        biases: bool = True,
    ) -> None:
        super().__init__()
        self.n_input = validation.positive_int("n_input", n_input)
        self.n_latents = validation.positive_int("n_latents", n_latents)
        self.n_instances = validation.positive_int("n_instances", n_instances)
        self.kind = validation.choice("kind", kind, SAE_KINDS)
        if kind == "topk":
            if k is None:
                raise ValueError("k (the latents kept per input) is required for kind='topk'")
            self.k = validation.positive_int("k", k)
            if self.k > self.n_latents:
                raise ValueError(f"k must be at most n_latents = {self.n_latents}, got {self.k}")
        elif k is not None:
            raise ValueError(f"k is only for kind='topk'; kind={kind!r} takes no k, got k={k!r}")
        else:
            self.k = None
        shape = (self.n_instances, self.n_input, self.n_latents)
        self.W_enc = nn.Parameter(torch.empty(shape))
        self.W_dec = nn.Parameter(torch.empty(shape))
        if not isinstance(biases, bool):
            raise TypeError(f"biases must be True or False, got {biases!r}")
        self.biases = biases
        b_enc, b_dec = torch.zeros(self.n_instances, self.n_latents), torch.zeros(self.n_instances, self.n_input)
        if biases:
            self.b_enc, self.b_dec = nn.Parameter(b_enc), nn.Parameter(b_dec)
        else:  # buffers: they move with the module but are not trained
            self.register_buffer("b_enc", b_enc)
            self.register_buffer("b_dec", b_dec)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | None = None) -> None:
        """Random unit decoder columns, the encoder equal to the decoder, zero biases."""
        with torch.no_grad():
            draw_on = generator.device if generator is not None else self.W_dec.device
            directions = torch.randn(self.W_dec.shape, generator=generator, device=draw_on).to(self.W_dec.device)
            directions /= directions.norm(dim=1, keepdim=True).clamp_min(EPS)
            self.W_dec.copy_(directions)
            self.W_enc.copy_(directions)
            self.b_enc.zero_()
            self.b_dec.zero_()

    @property
    def decoder(self) -> Tensor:
        """The dictionary: ``W_dec`` with unit-norm columns, ``[n_instances, n_input, n_latents]``."""
        return self.W_dec / self.W_dec.norm(dim=1, keepdim=True).clamp_min(EPS)

    def _check(self, h: Tensor) -> None:
        if not isinstance(h, Tensor):
            raise TypeError(f"h must be a Tensor[n_instances, batch, n_input], got {type(h).__name__}")
        if h.ndim != 3 or h.shape[0] not in (1, self.n_instances) or h.shape[2] != self.n_input:
            raise ValueError(
                f"h must have shape [n_instances, batch, n_input] = [{self.n_instances} (or 1), batch, "
                f"{self.n_input}], got {list(h.shape)}"
            )

    def pre_activations(self, h: Tensor) -> Tensor:
        """``W_encᵀ (h − b_dec) + b_enc``: ``[n_instances, batch, n_latents]``, for ``h``
        ``[n_instances, batch, n_input]``."""
        self._check(h)
        return torch.baddbmm(
            self.b_enc.unsqueeze(1), (h - self.b_dec.unsqueeze(1)).expand(self.n_instances, -1, -1), self.W_enc
        )

    def encode(self, h: Tensor) -> Tensor:
        """The code ``z``: ``[n_instances, batch, n_latents]``, non-negative; for ``"topk"`` at most ``k``
        entries of each input's code are non-zero."""
        pre = self.pre_activations(h)
        if self.kind == "l1":
            return torch.relu(pre)
        values, indices = pre.topk(self.k, dim=2)
        return torch.zeros_like(pre).scatter(2, indices, torch.relu(values))

    def decode(self, z: Tensor) -> Tensor:
        """``D z + b_dec``: ``[n_instances, batch, n_input]`` for ``z [n_instances, batch, n_latents]``."""
        return torch.baddbmm(self.b_dec.unsqueeze(1), z, self.decoder.transpose(1, 2))

    def forward(self, h: Tensor) -> tuple[Tensor, Tensor]:
        """``(ĥ, z)``: the reconstruction ``[n_instances, batch, n_input]`` and the code
        ``[n_instances, batch, n_latents]``."""
        z = self.encode(h)
        return self.decode(z), z

    def extra_repr(self) -> str:
        k = f", k={self.k}" if self.k is not None else ""
        biases = "" if self.biases else ", biases=False"
        return (
            f"n_input={self.n_input}, n_latents={self.n_latents}, n_instances={self.n_instances}, "
            f"kind={self.kind!r}{k}{biases}"
        )


def sae_loss(h: Tensor, reconstruction: Tensor, code: Tensor, l1_coefficient: float | Tensor = 0.0) -> Tensor:
    """The SAE's training loss per instance, ``Tensor[n_instances]``:

        mean over the batch of ‖h − ĥ‖²  +  λ · mean over the batch of ‖z‖₁,

    squared error summed over the input dimensions, L1 norm summed over the latents.
    ``h``, ``reconstruction``: ``[n_instances, batch, n_input]``; ``code``: ``[n_instances, batch,
    n_latents]``; ``l1_coefficient`` λ ≥ 0: float or ``Tensor[n_instances]`` (0 for a TopK SAE)."""
    squared_error = (h - reconstruction).square().sum(dim=2).mean(dim=1)
    if isinstance(l1_coefficient, Tensor):
        return squared_error + l1_coefficient * code.abs().sum(dim=2).mean(dim=1)
    if l1_coefficient == 0:
        return squared_error
    return squared_error + l1_coefficient * code.abs().sum(dim=2).mean(dim=1)
