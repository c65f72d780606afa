"""Time ``helpers.train`` against the straightforward baseline (``baseline.py``) in one process.

    python benchmarks/trainer_speed.py                  # the four configurations, 1000 steps each
    python benchmarks/trainer_speed.py --steps 300 --configs 200x20x20

For each configuration both trainers start from the same weights and run the same number of steps
with the same recipe (AdamW, lr 1e-3, batch 1024, constant schedule). The table gives milliseconds
per step (training loop only; the best of the long run and ``--repeats`` short runs, alternating
between the trainers, because a shared machine's speed drifts), the speed-up, the final loss of each
on one shared evaluation set (summed over instances) and their relative difference, and the matrix
products' achieved rate: their floating-point operations divided by the whole step time, in GFLOP/s
and as a fraction of this machine's measured single-GEMM peak.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from baseline import BaselineModel, baseline_step

import helpers
from helpers.data import derived_seed
from helpers.train import INIT_STREAM


@dataclass(frozen=True)
class Config:
    name: str
    n_features: int
    n_hidden: int
    n_instances: int
    batch_size: int = 1024

    def density(self) -> torch.Tensor:
        """``[n_instances]``: the official log grid from 1 to 0.05, or for the phase-diagram grid 20
        densities (1 to 0.01) × 20 relative importances."""
        if self.n_instances == 400:
            return (10 ** -torch.linspace(0, 2, 20)).repeat_interleave(20)
        return 20 ** -torch.linspace(0, 1, self.n_instances)

    def importance(self) -> torch.Tensor:
        """``[n_instances, n_features]``."""
        if self.n_instances == 400:
            ratio = (10 ** torch.linspace(-1, 1, 20)).repeat(20)
            return torch.stack([torch.ones(400), ratio], dim=1)
        return (0.9 ** torch.arange(self.n_features)).expand(self.n_instances, -1).clone()

    def matmul_flops(self) -> float:
        """Floating-point operations of one step's five matrix products (two forward, three backward)."""
        return 5 * 2.0 * self.n_instances * self.batch_size * self.n_features * self.n_hidden


CONFIGS = {
    c.name: c
    for c in (
        Config("400x30x40", 400, 30, 40),
        Config("200x20x20", 200, 20, 20),
        Config("5x2x10", 5, 2, 10),
        Config("2x1x400", 2, 1, 400),
    )
}


def gemm_peak_gflops(size: int = 2048, repeats: int = 10) -> float:
    """The best rate of one large float32 matrix product on this machine, in GFLOP/s."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - started)
    return 2 * size**3 / best / 1e9


def evaluation_loss(forward, config: Config, x: torch.Tensor, importance: torch.Tensor) -> float:
    """Sum over instances of the mean weighted squared error on ``x: [instances, batch, features]``."""
    with torch.no_grad():
        out = forward(x)
        return (importance.unsqueeze(1) * (out - x).square()).mean(dim=(1, 2)).sum().item()


def initial_weights(config: Config, seed: int) -> torch.Tensor:
    """The weights ``helpers.train(..., seed=seed)`` starts from, so both trainers start alike."""
    model = helpers.ToyModel(config.n_features, config.n_hidden, config.n_instances)
    model.reset_parameters(torch.Generator().manual_seed(derived_seed(seed, INIT_STREAM)))
    return model.W.detach()


def run_baseline(config: Config, steps: int, seed: int, x_eval: torch.Tensor) -> tuple[float, float]:
    generator = torch.Generator().manual_seed(derived_seed(seed, 99))
    model = BaselineModel(initial_weights(config, seed))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    density = config.density().unsqueeze(1)  # broadcasts against [batch, instances, features]
    importance = config.importance()
    started = time.perf_counter()
    for _ in range(steps):
        baseline_step(model, optimizer, density, importance, config.batch_size, generator)
    seconds = time.perf_counter() - started

    def forward(x):  # [instances, batch, features] -> same, through the Colab's layout
        return model(x.transpose(0, 1)).transpose(0, 1)

    return seconds / steps * 1e3, evaluation_loss(forward, config, x_eval, importance)


def train_helpers(config: Config, steps: int, seed: int) -> tuple[float, helpers.ToyModel]:
    """``helpers.train`` on ``config`` for ``steps`` steps: milliseconds per step of its loop, and the model."""
    model = helpers.ToyModel(config.n_features, config.n_hidden, config.n_instances)
    result = helpers.train(
        model,
        density=config.density(),
        importance=config.importance(),
        steps=steps,
        batch_size=config.batch_size,
        lr=1e-3,
        seed=seed,
        progress=False,
        log_every=100,  # the loss is logged every 100 steps, 1% of a 10,000-step run
    )
    return result.loop_seconds / steps * 1e3, model


def run_helpers(config: Config, steps: int, seed: int, x_eval: torch.Tensor) -> tuple[float, float]:
    ms, model = train_helpers(config, steps, seed)
    return ms, evaluation_loss(model, config, x_eval, config.importance())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3, help="extra short timing runs per trainer")
    parser.add_argument("--configs", nargs="*", default=list(CONFIGS), choices=list(CONFIGS))
    args = parser.parse_args()
    helpers.tune_allocator()  # as the chapters do in their setup cell

    peak = gemm_peak_gflops()
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; measured float32 GEMM peak {peak:.0f} GFLOP/s; {args.steps} steps"
    )
    print(
        f"{'config (n x m x instances)':<28}{'baseline ms':>12}{'helpers ms':>12}{'speed-up':>10}"
        f"{'baseline loss':>15}{'helpers loss':>14}{'diff':>8}   {'GFLOP/s base / helpers':<24}{'of peak':<14}"
    )
    for name in args.configs:
        config = CONFIGS[name]
        generator = torch.Generator().manual_seed(10_000 + args.seed)
        x_eval = helpers.sparse_features(
            config.n_instances, 8192, config.n_features, config.density(), generator=generator
        )
        base_ms, base_loss = run_baseline(config, args.steps, args.seed, x_eval)
        fast_ms, fast_loss = run_helpers(config, args.steps, args.seed, x_eval)
        short = min(args.steps, 200)
        for _ in range(args.repeats):
            base_ms = min(base_ms, run_baseline(config, short, args.seed, x_eval)[0])
            fast_ms = min(fast_ms, run_helpers(config, short, args.seed, x_eval)[0])
        base_rate, fast_rate = (config.matmul_flops() / (ms / 1e3) / 1e9 for ms in (base_ms, fast_ms))
        print(
            f"{name + ', batch ' + str(config.batch_size):<28}{base_ms:>12.2f}{fast_ms:>12.2f}"
            f"{base_ms / fast_ms:>9.1f}x{base_loss:>15.5f}{fast_loss:>14.5f}"
            f"{(fast_loss - base_loss) / base_loss:>+8.2%}   {f'{base_rate:.1f} / {fast_rate:.1f}':<24}"
            f"{f'{base_rate / peak:.1%} / {fast_rate / peak:.1%}':<14}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
