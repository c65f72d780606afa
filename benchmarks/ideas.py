"""Measure, one at a time, the ideas that make ``helpers.train`` fast (the rows of book/performance.md).

    python benchmarks/ideas.py                     # 400x30x40 and 200x20x20, batch 1024
    python benchmarks/ideas.py --compile           # also time torch.compile of the autograd step

Each row adds one idea to the row above and reports milliseconds per training step (the best of
``--repeats`` runs of ``--steps`` steps, after a warm-up):

1. the official Colab's algorithm (``baseline.py``): two uniform draws per entry, einsum, autograd;
2. one uniform draw per entry (presence iff u ≥ 1 − p, value (u − (1 − p))/p), still autograd;
3. common random numbers: instances with different settings share one stream of draws;
4. the hand-written gradient of the tied model with reused buffers: ``helpers.train``'s step.

With ``--compile``, a last row times ``torch.compile`` of row 3's autograd step and reports its
compile time, to show whether it pays off for a chapter that trains for a minute.

Last, the idea not taken: sparse inputs. It times one of the step's five products, ``x Wᵀ`` for one
instance (n=400, m=30, batch 1024), dense against a CSR sparse ``x``, and the conversion to CSR.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from baseline import BaselineModel, baseline_step

import helpers
from helpers.data import SparseSampler, sparse_from_uniform
from helpers.models import InstanceModel

SIZES = {"400x30x40": (400, 30, 40), "200x20x20": (200, 20, 20)}


def best_ms_per_step(step: Callable[[], object], steps: int, repeats: int) -> float:
    for _ in range(5):
        step()
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(steps):
            step()
        best = min(best, (time.perf_counter() - started) / steps * 1e3)
    return best


def measure(n: int, m: int, n_instances: int, batch: int, steps: int, repeats: int, compile_: bool) -> dict:
    """Milliseconds per step of each row, for one model size."""
    density = 20 ** -torch.linspace(0, 1, n_instances)
    p = density.reshape(n_instances, 1, 1)
    model = helpers.ToyModel(n, m, n_instances)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    rows: dict[str, float] = {}

    baseline = BaselineModel(model.W)
    baseline_optimizer = torch.optim.AdamW(baseline.parameters(), lr=1e-3)
    rows["1. official algorithm (two draws per entry, autograd)"] = best_ms_per_step(
        lambda: baseline_step(baseline, baseline_optimizer, p.reshape(n_instances, 1), 1.0, batch, generator),
        steps,
        repeats,
    )

    def autograd_step(x: torch.Tensor) -> None:
        InstanceModel.backward_loss(model, x, 1.0)
        optimizer.step()

    def one_draw() -> None:
        autograd_step(sparse_from_uniform(torch.rand(n_instances, batch, n, generator=generator), p))

    rows["2. + one uniform draw per entry"] = best_ms_per_step(one_draw, steps, repeats)

    shared = SparseSampler(p, n, seed=0)
    rows["3. + common random numbers across settings"] = best_ms_per_step(
        lambda: autograd_step(shared.sample(batch)), steps, repeats
    )

    def fused() -> None:
        model.backward_loss(shared.sample(batch, reuse=True), 1.0)
        optimizer.step()

    rows["4. + hand-written gradient, feature-major, reused buffers (helpers.train)"] = best_ms_per_step(
        fused, steps, repeats
    )

    if compile_:
        compiled_loss = torch.compile(lambda x: model.loss(x, 1.0).sum())

        def compiled_step() -> None:
            optimizer.zero_grad(set_to_none=True)
            compiled_loss(shared.sample(batch)).backward()
            optimizer.step()

        started = time.perf_counter()
        compiled_step()
        compile_seconds = time.perf_counter() - started
        rows[f"5. torch.compile of row 3 (first call, compiling: {compile_seconds:.0f} s)"] = best_ms_per_step(
            compiled_step, steps, repeats
        )
    return rows


def sparse_probe(batch: int, repeats: int) -> None:
    print("\nsparse inputs: x Wᵀ for one instance, n=400, m=30, batch 1024 (ms)")
    W = torch.randn(30, 400)
    for p in (0.32, 0.05):  # the mean density of the book's sweeps, and its sparse end
        x = helpers.sparse_features(1, batch, 400, p)[0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "sparse CSR support is in beta"
            csr = x.to_sparse_csr()
            dense_ms = best_ms_per_step(lambda x=x: x @ W.T, 200, repeats)
            csr_ms = best_ms_per_step(lambda csr=csr: csr @ W.T, 200, repeats)
            convert_ms = best_ms_per_step(lambda x=x: x.to_sparse_csr(), 20, repeats)
        print(f"  density {p}: dense {dense_ms:.3f}, CSR {csr_ms:.3f}, converting x to CSR {convert_ms:.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--sizes", nargs="*", default=list(SIZES), choices=list(SIZES))
    args = parser.parse_args()
    helpers.tune_allocator()  # as the chapters do in their setup cell
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch_size}; ms per step")
    for name in args.sizes:
        rows = measure(*SIZES[name], args.batch_size, args.steps, args.repeats, args.compile)
        print(f"\n{name} (n x m x instances)")
        first = next(iter(rows.values()))
        for label, ms in rows.items():
            print(f"  {label:<76}{ms:>9.2f}  ({first / ms:.1f}x)")
    sparse_probe(args.batch_size, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
