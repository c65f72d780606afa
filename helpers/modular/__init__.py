"""Chapter 8 in one place: the (a + b) mod p task (``task``), the bilinear model (``model``), its
full-batch trainer (``training``) and what the chapter measures on the trained weights (``analysis``).

Every name is re-exported here, so ``from helpers import modular; modular.train_modular(...)`` is the
way to use them; the top-level ``helpers`` package re-exports the most used ones."""

from .analysis import (
    BILINEAR_VARIANTS,
    GAUSSIAN_LEVEL_SHARE,
    PURE_COLUMN,
    bilinear_level,
    bilinear_variant,
    describe_solutions,
    level_share,
)
from .model import BilinearMLP, instances
from .task import DATA_SPLIT_STREAM, ModularData, modular_addition
from .training import (
    OPTIMIZERS,
    ModularResult,
    accuracy,
    best_of_groups,
    cross_entropy,
    evaluate_modular,
    train_modular,
)

__all__ = [
    "BILINEAR_VARIANTS",
    "DATA_SPLIT_STREAM",
    "GAUSSIAN_LEVEL_SHARE",
    "OPTIMIZERS",
    "PURE_COLUMN",
    "BilinearMLP",
    "ModularData",
    "ModularResult",
    "accuracy",
    "best_of_groups",
    "bilinear_level",
    "bilinear_variant",
    "cross_entropy",
    "describe_solutions",
    "evaluate_modular",
    "instances",
    "level_share",
    "modular_addition",
    "train_modular",
]
