"""Learning-rate schedules, one definition for both trainers (``train`` and ``modular.train_modular``):
a linear warm-up, then a constant rate or a cosine decay to 0."""

from __future__ import annotations

import math

#: The schedules after the warm-up: ``"constant"`` or ``"cosine"`` (decay to 0 at the last step).
SCHEDULES = ("constant", "cosine")


def lr_factor(step: int, steps: int, schedule: str, warmup_steps: int) -> float:
    """Learning-rate multiplier at ``step`` (0-based): linear warm-up, then constant or cosine to 0."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    if schedule == "constant":
        return 1.0
    progress = (step - warmup_steps) / max(1, steps - warmup_steps)
    return 0.5 * (1.0 + math.cos(math.pi * progress))
