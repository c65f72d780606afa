"""Time ``helpers.train`` against a plain autograd loop and a published toolkit, in one process.

    .venv/bin/pip install --target benchmarks/.peer --no-deps tms-kit==0.4.1 jaxtyping einops wadler-lindig
    .venv/bin/python benchmarks/peer_speed.py                       # both configurations
    .venv/bin/python benchmarks/peer_speed.py --configs 200x20x20 --steps 500

The peer is ``tms-kit`` (Daniel Tan's toolkit for toy models of superposition, adapted from the ARENA
course's code): installed into ``benchmarks/.peer`` for this benchmark only, never a dependency of
the book. Three trainers run the uniform-superposition problem (every feature of importance 1,
densities ``20^-linspace(0, 1, instances)``, batch 1024, learning rate 1e-3, constant schedule) for
the same number of steps from the same initial weights:

- ``helpers.train``: the book's trainer (AdamW, weight decay 0.01);
- ``plain bmm``: the model written the way a PyTorch user would, instance-major ``[instances, batch,
  features]`` with two ``torch.bmm`` products, autograd and AdamW (``baseline.InstanceMajorModel``), its
  batches drawn as the official Colab draws them (two uniform draws per entry);
- ``bmm, one draw``: the same loop with its batches from ``helpers.sparse_features`` (one uniform per
  entry), which separates what sampling costs from what the hand-written step saves;
- ``tms-kit``: its ``Model``, ``IIDFeatureGenerator``, ``ImportanceWeightedLoss`` and ``optimize``
  (its recipe: Adam without weight decay; einops einsum over ``[batch, instances, features]``).

For each it prints milliseconds per step (the best of the full run and ``--repeats`` short runs,
alternating, because a shared machine's speed drifts), the speed-up of ``helpers.train``, the matrix
products' achieved rate against the machine's measured single-GEMM peak, and the loss on one shared
evaluation set. Then the D* curve, ``D* = m / ‖W‖_F²`` against ``1/(1 − S)``, of each trainer's
models: the same problem trained the same number of steps should give the same curve.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import sys
import time
from pathlib import Path

import torch
from baseline import InstanceMajorModel, instance_major_step
from trainer_speed import Config, evaluation_loss, gemm_peak_gflops, initial_weights, train_helpers

import helpers
from helpers.data import derived_seed

HERE = Path(__file__).resolve().parent

PEER_SITE = HERE / ".peer"
INSTALL = f"pip install --target {PEER_SITE} --no-deps tms-kit==0.4.1 jaxtyping einops wadler-lindig"


class UniformConfig(Config):
    """A ``Config`` of the uniform-superposition problem: every feature of importance 1."""

    def density(self) -> torch.Tensor:
        return 20 ** -torch.linspace(0, 1, self.n_instances)

    def importance(self) -> torch.Tensor:
        return torch.ones(self.n_instances, self.n_features)


CONFIGS = {
    c.name: c
    for c in (
        UniformConfig("400x30x40", 400, 30, 40),  # the paper's sizes (§3a)
        UniformConfig("200x20x20", 200, 20, 20),  # the official Colab's and ARENA's "feature geometry" cell
    )
}


def run_helpers(config: Config, steps: int, seed: int) -> tuple[float, torch.Tensor, object]:
    ms, model = train_helpers(config, steps, seed)
    return ms, model.W.detach().clone(), model


def run_bmm(config: Config, steps: int, seed: int, *, one_draw: bool = False) -> tuple[float, torch.Tensor, object]:
    model = InstanceMajorModel(initial_weights(config, seed))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    density = config.density().view(-1, 1, 1)
    importance = config.importance().unsqueeze(1)
    generator = torch.Generator().manual_seed(derived_seed(seed, 99))
    started = time.perf_counter()
    for _ in range(steps):
        instance_major_step(model, optimizer, density, importance, config.batch_size, generator, one_draw=one_draw)
    seconds = time.perf_counter() - started
    return seconds / steps * 1e3, model.W.detach().clone(), model


def run_peer(config: Config, steps: int, seed: int) -> tuple[float, torch.Tensor, object]:
    from tms_kit.data import IIDFeatureGenerator
    from tms_kit.loss import ImportanceWeightedLoss
    from tms_kit.model import Model
    from tms_kit.optimize import optimize
    from tms_kit.tms import TMS

    class UniformTMS(TMS):
        def __init__(self) -> None:
            self.model = Model(config.n_features, config.n_instances, config.n_hidden, device="cpu")
            with torch.no_grad():  # the same start as the other two: W is [instances, hidden, features] in both
                self.model.W.copy_(initial_weights(config, seed))
            self.data_gen = IIDFeatureGenerator(config.n_features, config.n_instances, config.density().unsqueeze(1))
            self.loss_calc = ImportanceWeightedLoss(config.n_features, config.importance())

    torch.manual_seed(derived_seed(seed, 98))  # tms-kit draws from the global generator
    tms = UniformTMS()
    started = time.perf_counter()
    optimize(tms, steps=steps, batch_size=config.batch_size, lr=1e-3, disable_tqdm=True)
    seconds = time.perf_counter() - started

    def forward(x: torch.Tensor) -> torch.Tensor:  # [instances, batch, features] through its layout
        return tms.model(x.transpose(0, 1)).transpose(0, 1)

    return seconds / steps * 1e3, tms.model.W.detach().clone(), forward


TRAINERS = {
    "helpers.train": run_helpers,
    "plain bmm": run_bmm,
    "bmm, one draw": functools.partial(run_bmm, one_draw=True),
    "tms-kit": run_peer,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=2, help="extra short timing runs per trainer")
    parser.add_argument("--configs", nargs="*", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--peer-site", type=Path, default=PEER_SITE, help="where tms-kit is installed")
    args = parser.parse_args()
    helpers.tune_allocator()  # as the chapters do in their setup cell
    sys.path.insert(0, str(args.peer_site))
    try:
        import tms_kit
    except ImportError:
        print(f"tms-kit is not installed; install it for this benchmark only with\n    {INSTALL}")
        return 2

    peak = gemm_peak_gflops()
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, tms-kit {tms_kit.__version__}; measured float32 GEMM peak "
        f"{peak:.0f} GFLOP/s; {args.steps} steps, batch 1024"
    )
    for name in args.configs:
        config = CONFIGS[name]
        x_eval = helpers.sparse_features(
            config.n_instances, 8192, config.n_features, config.density(), generator=torch.Generator().manual_seed(1)
        )
        ms, curves, losses = {}, {}, {}
        for trainer, run in TRAINERS.items():
            ms[trainer], W, forward = run(config, args.steps, args.seed)
            curves[trainer] = helpers.metrics.dimensions_per_feature(W)
            losses[trainer] = evaluation_loss(forward, config, x_eval, config.importance())
        short = min(args.steps, 200)
        for _ in range(args.repeats):
            for trainer, run in TRAINERS.items():
                ms[trainer] = min(ms[trainer], run(config, short, args.seed)[0])
        at_peak = config.matmul_flops() / (peak * 1e9) * 1e3
        print(f"\n## {name} (n x m x instances): the five matrix products at peak would take {at_peak:.2f} ms/step")
        print(f"{'trainer':<16}{'ms/step':>10}{'helpers faster':>16}{'GFLOP/s':>10}{'of peak':>9}{'eval loss':>11}")
        for trainer in TRAINERS:
            rate = config.matmul_flops() / (ms[trainer] / 1e3) / 1e9
            print(
                f"{trainer:<16}{ms[trainer]:>10.2f}{ms[trainer] / ms['helpers.train']:>15.2f}x"
                f"{rate:>10.1f}{rate / peak:>9.1%}{losses[trainer]:>11.5f}"
            )
        print(f"D* = m/‖W‖² after {args.steps} steps, against 1/(1-S):")
        print(f"{'1/(1-S)':>9}" + "".join(f"{t:>15}" for t in TRAINERS))
        for i, density in enumerate(config.density().tolist()):
            print(f"{1 / density:>9.2f}" + "".join(f"{curves[t][i].item():>15.3f}" for t in TRAINERS))
        for trainer in TRAINERS:
            if trainer == "helpers.train":
                continue
            gap = (curves[trainer] - curves["helpers.train"]).abs()
            largest, median = gap.max().item(), gap.median().item()
            print(f"largest |ΔD*| helpers.train vs {trainer}: {largest:.3f} (median {median:.3f})")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
