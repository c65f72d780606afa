"""How well an SAE's dictionary recovers a toy model's features, measured against the truth the toy
model knows: feature ``i``'s direction is column ``W_i`` of the toy model's ``W``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from .. import validation
from .data import ActivationSampler, checked_features
from .model import EPS, SparseAutoencoder
from .training import EVAL_STREAM

#: A latent recovers a feature when its decoder direction is within arccos(0.9) ≈ 26° of the feature's.
#: Derived: 0.9 is above cos 36° ≈ 0.81, so no direction is that close to two features that are 72° or
#: more apart (the pentagon's neighbours), and a random unit vector in 20 dimensions reaches it with
#: probability below 1e-7 (its squared cosine is Beta(1/2, 19/2)).
RECOVERY_COSINE = 0.9


def _unit_columns(matrix: Tensor) -> Tensor:
    return matrix / matrix.norm(dim=1, keepdim=True).clamp_min(EPS)


def _dictionary(dictionary: Tensor | SparseAutoencoder) -> Tensor:
    if isinstance(dictionary, SparseAutoencoder):
        return dictionary.decoder.detach().float()
    if not isinstance(dictionary, Tensor) or dictionary.ndim != 3:
        raise ValueError("dictionary must be a SparseAutoencoder or a Tensor[n_instances, n_input, n_latents]")
    return dictionary.detach().float()


def cosines(dictionary: Tensor | SparseAutoencoder, W: Tensor) -> Tensor:
    """Cosine of every latent's decoder direction with every feature's direction:
    ``Tensor[n_instances, n_latents, n_features]``. ``dictionary``: an SAE or its decoder
    ``[n_instances, n_input, n_latents]``; ``W``: the toy model's ``[n_hidden, n_features]`` (one model)
    or ``[n_instances, n_hidden, n_features]``."""
    decoder, features = _dictionary(dictionary), checked_features(W).to(_dictionary(dictionary).device)
    if features.shape[1] != decoder.shape[1]:
        raise ValueError(
            f"W has n_hidden = {features.shape[1]}, but the dictionary's directions have {decoder.shape[1]} entries"
        )
    if features.shape[0] not in (1, decoder.shape[0]):
        raise ValueError(f"W holds {features.shape[0]} models; give one, or one per SAE instance ({decoder.shape[0]})")
    return _unit_columns(decoder).transpose(1, 2) @ _unit_columns(features)


def max_cosines(dictionary: Tensor | SparseAutoencoder, W: Tensor) -> Tensor:
    """For every feature, the largest cosine between its direction and any latent's decoder direction:
    ``Tensor[n_instances, n_features]`` (signed: a latent pointing the opposite way does not count)."""
    return cosines(dictionary, W).amax(dim=1)


def mean_max_cosine(dictionary: Tensor | SparseAutoencoder, W: Tensor, represented: Tensor | None = None) -> Tensor:
    """Mean max cosine similarity (MMCS, Sharkey et al. 2022) against the true features: the mean over
    features (the ``represented`` ones, ``Tensor[n_features]`` or ``[n_instances, n_features]`` of bool,
    if given) of ``max_cosines``. ``Tensor[n_instances]``."""
    best = max_cosines(dictionary, W)
    if represented is None:
        return best.mean(dim=1)
    mask = represented.to(best.device).expand_as(best).float()
    if bool((mask.sum(dim=1) == 0).any()):
        raise ValueError("represented must mark at least one feature of every instance")
    return (best * mask).sum(dim=1) / mask.sum(dim=1)


def recovered_share(
    dictionary: Tensor | SparseAutoencoder,
    W: Tensor,
    represented: Tensor | None = None,
    threshold: float = RECOVERY_COSINE,
) -> Tensor:
    """The share of features (of the ``represented`` ones, if given) that some latent recovers: its
    decoder direction has cosine above ``threshold`` with the feature's. ``Tensor[n_instances]``."""
    threshold = validation.finite_float("threshold", threshold, low=-1.0, high=1.0)
    hit = (max_cosines(dictionary, W) > threshold).float()
    if represented is None:
        return hit.mean(dim=1)
    mask = represented.to(hit.device).expand_as(hit).float()
    return (hit * mask).sum(dim=1) / mask.sum(dim=1).clamp_min(1)


@dataclass
class SAEEvaluation:
    """What ``evaluate_sae`` measures on fresh inputs, each ``Tensor[n_instances]`` unless noted:

    - ``squared_error``: mean ``‖h − ĥ‖²``;
    - ``variance_unexplained``: ``squared_error`` over the mean ``‖h − E h‖²`` (0 perfect, 1 no better than
      the mean);
    - ``l0``: mean number of non-zero latents per input;
    - ``dead``: latents that never fire on the evaluation inputs;
    - ``l1``: mean ``‖z‖₁`` (the training loss is ``squared_error + λ · l1``);
    - ``shrinkage``: ``Σ ĥ·h / Σ ‖h‖²`` with the decoder bias taken off both, over the inputs (1: the code
      keeps the input's length along its direction; below 1: the L1 penalty shrinks it);
    - ``frequency``: ``Tensor[n_instances, n_latents]``, the share of inputs each latent fires on."""

    squared_error: Tensor
    variance_unexplained: Tensor
    l0: Tensor
    dead: Tensor
    l1: Tensor
    shrinkage: Tensor
    frequency: Tensor


def evaluate_sae(
    sae: SparseAutoencoder,
    W: Tensor,
    *,
    density: float,
    n_samples: int = 16384,
    seed: int = 0,
    feature_sets: Sequence[tuple[str, int]] | None = None,
) -> SAEEvaluation:
    """Measure ``sae`` on ``n_samples`` fresh activations ``h = W x`` (drawn as ``train_sae`` draws them,
    from the evaluation stream of ``seed``)."""
    if not isinstance(sae, SparseAutoencoder):
        raise TypeError(f"sae must be a SparseAutoencoder, got {type(sae).__name__}")
    n_samples = validation.positive_int("n_samples", n_samples)
    sampler = ActivationSampler(
        W.to(sae.W_dec.device), density, seed=seed, stream=EVAL_STREAM, feature_sets=feature_sets
    )
    with torch.no_grad():
        _, h = sampler.sample(n_samples)
        h = h.expand(sae.n_instances, -1, -1)
        reconstruction, code = sae(h)
        squared_error = (h - reconstruction).square().sum(dim=2).mean(dim=1)
        spread = (h - h.mean(dim=1, keepdim=True)).square().sum(dim=2).mean(dim=1)
        active = code > 0
        centred_h = h - sae.b_dec.unsqueeze(1)
        centred_out = reconstruction - sae.b_dec.unsqueeze(1)
        shrinkage = (centred_out * centred_h).sum(dim=(1, 2)) / centred_h.square().sum(dim=(1, 2)).clamp_min(EPS)
        frequency = active.float().mean(dim=1)
    return SAEEvaluation(
        squared_error=squared_error.cpu(),
        variance_unexplained=(squared_error / spread.clamp_min(EPS)).cpu(),
        l0=active.float().sum(dim=2).mean(dim=1).cpu(),
        dead=(frequency == 0).sum(dim=1).cpu(),
        l1=code.sum(dim=2).mean(dim=1).cpu(),
        shrinkage=shrinkage.cpu(),
        frequency=frequency.cpu(),
    )
