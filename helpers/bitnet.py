"""BitNet b1.58 quantisation for the toy models (Ma et al. 2024; the official training FAQ's code).

Weights are ternarised per instance with the absmean rule, ``W̃ = γ · RoundClip(W / (γ + ε), −1, 1)``,
``γ = mean |W|``; activations optionally get 8-bit per-sample absmax fake quantisation. Both keep
full-precision latent values for the optimiser and pass gradients straight through (the forward pass
sees the quantised values, the backward pass the identity).

BitNet v1's binary weights (Wang et al. 2023), ``W̃ = β · Sign(W − α)`` with ``α = mean W`` and
``β = mean |W|``, are here too (``binarize``): the widely installed ``bitnet`` package of 2024 used them
in its BitLinear, so a study that imported it may have trained binary rather than ternary weights.

The FAQ's BitLinear also normalises its input (RMSNorm) before quantising it. ``bitlinear(...,
norm=True)`` reproduces that, and shows why the toy models leave it out: the normalised encoder is
scale-invariant, ``h(c·x) = h(x)``, so it cannot tell a feature of value 0.1 from one of value 1."""

from __future__ import annotations

import torch
from torch import Tensor

from . import validation

EPS = 1e-5


def _straight_through(latent: Tensor, quantised: Tensor) -> Tensor:
    """``quantised`` in the forward pass, the identity's gradient to ``latent`` in the backward pass."""
    return latent + (quantised - latent).detach()


def _check_weights(W: object) -> Tensor:
    if not isinstance(W, Tensor) or W.ndim != 3:
        shape = list(W.shape) if isinstance(W, Tensor) else type(W).__name__
        raise ValueError(f"W must be a Tensor[n_instances, n_hidden, n_features], got {shape}")
    return W


def ternary_scale(W: Tensor) -> Tensor:
    """The absmean scale ``γ = mean |W|`` of every instance: ``[n_instances, 1, 1]`` for
    ``W: [n_instances, n_hidden, n_features]``."""
    return _check_weights(W).abs().mean(dim=(1, 2), keepdim=True)


def ternary_codes(W: Tensor) -> Tensor:
    """The ternary codes ``T = RoundClip(W / (γ + ε), −1, 1) ∈ {−1, 0, 1}``, same shape as ``W``."""
    return (W / (ternary_scale(W) + EPS)).round().clamp(-1, 1)


def ternarize(W: Tensor) -> Tensor:
    """Absmean ternary fake quantisation with a straight-through gradient: ``γ · T`` forward, the
    identity backward. ``W: [n_instances, n_hidden, n_features]``."""
    quantised = ternary_scale(W).detach() * ternary_codes(W.detach())
    return _straight_through(W, quantised)


def binary_scale(W: Tensor) -> Tensor:
    """BitNet v1's scale ``β = ‖W‖₁ / (n m) = mean |W|`` of every instance: ``[n_instances, 1, 1]``."""
    return _check_weights(W).abs().mean(dim=(1, 2), keepdim=True)


def binary_codes(W: Tensor) -> Tensor:
    """BitNet v1's codes ``Sign(W − α) ∈ {−1, +1}`` with ``α = mean W`` per instance and ``Sign(0) = −1``
    (the paper's: +1 only for a positive argument), same shape as ``W``."""
    centred = _check_weights(W) - W.mean(dim=(1, 2), keepdim=True)
    return torch.where(centred > 0, 1.0, -1.0).to(W.dtype)


def binarize(W: Tensor) -> Tensor:
    """BitNet v1 binary fake quantisation with a straight-through gradient: ``β · Sign(W − α)`` forward,
    the identity backward. ``W: [n_instances, n_hidden, n_features]``. Every entry is ``±β``, so every
    column (feature) of a tied toy model has the same norm ``β √m``: no feature can be switched off
    through its weights."""
    quantised = binary_scale(W).detach() * binary_codes(W.detach())
    return _straight_through(W, quantised)


#: The quantisers ``helpers.ToyModel(weights=...)`` can use, by name.
QUANTISERS = {"ternary": ternarize, "binary": binarize}


def quantize_activations(x: Tensor, bits: int = 8) -> Tensor:
    """Per-sample absmax fake quantisation to ``bits`` bits (the FAQ's: scale ``Q / max|x|`` with
    ``Q = 2^(bits−1) − 1``, round, clamp to ``[−Q−1, Q]``, scale back) over the last axis, with a
    straight-through gradient. Values stay floats on the grid ``k · max|x| / Q``."""
    validation.positive_int("bits", bits)
    if bits < 2:
        raise ValueError(f"bits must be at least 2, got {bits}")
    levels = 2 ** (bits - 1) - 1
    scale = levels / x.detach().abs().amax(dim=-1, keepdim=True).clamp_min(EPS)
    quantised = (x.detach() * scale).round().clamp(-levels - 1, levels) / scale
    return _straight_through(x, quantised)


NORM_EPS = 1e-6


def rms_norm(x: Tensor) -> Tensor:
    """``x / sqrt(mean(x²) + ε)`` over the last axis, ``ε = 1e-6`` (LLaMA's): the norm the FAQ's
    BitLinear applies to its input. Scale-invariant up to ε: ``rms_norm(c·x) ≈ rms_norm(x)``."""
    return x * torch.rsqrt(x.square().mean(dim=-1, keepdim=True) + NORM_EPS)


def bitlinear(x: Tensor, W: Tensor, *, norm: bool = False, activation_bits: int | None = 8) -> Tensor:
    """One BitLinear layer without bias, ``y = Quant(Norm(x)) · W̃ᵀ``: ``x: [n_instances, batch, in]``,
    ``W: [n_instances, out, in]`` (latent weights) → ``[n_instances, batch, out]``. ``norm=True`` adds
    the FAQ's RMSNorm on the input; ``activation_bits=None`` skips the activation quantisation."""
    if norm:
        x = rms_norm(x)
    if activation_bits is not None:
        x = quantize_activations(x, activation_bits)
    return torch.bmm(x, ternarize(W).transpose(1, 2))
