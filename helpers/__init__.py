"""helpers: the tested code behind "Superposition, reproduced".

Every notebook imports this package for data, models, training, metrics, theory and plots. The names
below form the public API that the book's design fixes; the submodules hold the rest. Importing it
changes no global state: the chapters call ``tune_allocator()`` and ``plotting.set_style()`` themselves.

The layers, each module building only on modules listed before it (tests/test_layers.py checks the order):

- foundations: ``validation`` (argument checks with clear errors), ``runtime`` (seed, profile, device,
  controls, allocator), ``published`` (the sources' numbers), ``claims`` (checked claims, glued numbers);
- closed forms and building blocks: ``theory`` (analytic losses, phases), ``fourier`` (Fourier basis over
  Z_p, Hadamard matrices), ``bitnet`` (ternary and binary quantisers), ``activations`` (the output
  activations and their derivatives), ``data`` (sparse and set-structured feature samplers),
  ``schedules`` and ``selection`` (learning-rate schedules, best-of-k, shared by both trainers);
- models and measures: ``models`` (``InstanceModel``, the contract the trainer relies on; ``ToyModel``,
  ``AbsValueModel``), ``metrics`` (norms, interference, dimensionality, geometry), ``controls`` (the
  norm-matched negative control);
- training: ``train`` (the toy models' vectorised trainer), ``modular`` (chapter 8: task, bilinear model,
  trainer and analysis), ``sae`` (chapter 9: sparse autoencoders, their trainer and recovery measures),
  ``phase`` (trained phase diagrams), ``dynamics`` (learning-dynamics measures);
- on top: ``criteria`` (the chapters' rewritten claims as functions), ``checks`` (exercise checks),
  ``plotting`` (every figure, grouped by what it draws)."""

from . import (
    bitnet,
    checks,
    claims,
    controls,
    criteria,
    dynamics,
    fourier,
    metrics,
    modular,
    plotting,
    published,
    sae,
    theory,
)
from .activations import ACTIVATIONS
from .data import SparseSampler, feature_sets, sparse_features
from .metrics import (
    antipodal_partner_cosine,
    dimensions_per_feature,
    feature_cosines,
    feature_dimensionality,
    feature_norms,
    superposition,
)
from .models import AbsValueModel, InstanceModel, ToyModel
from .modular import (
    BilinearMLP,
    ModularData,
    ModularResult,
    cross_entropy,
    evaluate_modular,
    modular_addition,
    train_modular,
)
from .runtime import base_seed, default_device, profile, tune_allocator
from .theory import phase_n2m1
from .train import TrainResult, log_spaced_steps, train

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "AbsValueModel",
    "BilinearMLP",
    "InstanceModel",
    "ModularData",
    "ModularResult",
    "SparseSampler",
    "ToyModel",
    "TrainResult",
    "antipodal_partner_cosine",
    "base_seed",
    "bitnet",
    "checks",
    "claims",
    "controls",
    "criteria",
    "cross_entropy",
    "default_device",
    "dimensions_per_feature",
    "dynamics",
    "evaluate_modular",
    "feature_cosines",
    "feature_dimensionality",
    "feature_norms",
    "feature_sets",
    "fourier",
    "log_spaced_steps",
    "metrics",
    "modular",
    "modular_addition",
    "phase_n2m1",
    "plotting",
    "profile",
    "published",
    "sae",
    "sparse_features",
    "superposition",
    "theory",
    "train",
    "train_modular",
    "tune_allocator",
]
