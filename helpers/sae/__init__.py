"""Chapter 9 in one place: sparse autoencoders that take a toy model's features back out of
superposition. The SAE itself (``model``), what it is trained on (``data``: ``h = W x``), its trainer
with dead-latent resampling (``training``) and how well its dictionary recovers the true features
(``recovery``).

Every name is re-exported here: ``from helpers import sae; sae.train_sae(...)``."""

from .data import ActivationSampler
from .model import SAE_KINDS, SparseAutoencoder, sae_loss
from .recovery import (
    RECOVERY_COSINE,
    SAEEvaluation,
    cosines,
    evaluate_sae,
    max_cosines,
    mean_max_cosine,
    recovered_share,
)
from .training import RESAMPLED_ENCODER_SCALE, SAEResult, resample_dead_latents_, train_sae

__all__ = [
    "RECOVERY_COSINE",
    "RESAMPLED_ENCODER_SCALE",
    "SAE_KINDS",
    "ActivationSampler",
    "SAEEvaluation",
    "SAEResult",
    "SparseAutoencoder",
    "cosines",
    "evaluate_sae",
    "max_cosines",
    "mean_max_cosine",
    "recovered_share",
    "resample_dead_latents_",
    "sae_loss",
    "train_sae",
]
