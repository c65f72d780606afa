"""One trainer for every toy model: many independent instances in one batched loop.

The recipe defaults are the official Colab's (AdamW, lr 1e-3, PyTorch's default weight decay 0.01,
batch 1024, constant learning rate, a fresh batch every step, loss summed over instances).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import torch
from torch import Tensor
from tqdm.auto import tqdm

from . import validation
from .controls import apply_after_training
from .data import SetSampler, SparseSampler, activity_strata, derived_seed, replicate_index
from .models import WEIGHT_KINDS, InstanceModel
from .runtime import lr_scale, progress_enabled
from .schedules import SCHEDULES, lr_factor
from .selection import best_candidates, candidate_model, copy_instances

INITS = ("random", "keep")
EVALUATIONS = ("sampled", "stratified")
WEIGHT_CODES = {kind: index for index, kind in enumerate(WEIGHT_KINDS)}
# Seeds of the initial weights and of the evaluation set, derived from the run's seed; the training
# data's streams use (seed, 0, stream).
INIT_STREAM, EVAL_STREAM, CONTROL_STREAM = 1, 2, 3
OPTIONS = {
    "weight_decay": 0.01,  # PyTorch's AdamW default, which the official Colab used without saying so
    "schedule": "constant",
    "warmup_steps": 0,
    "best_of": 1,
    "init_scale": 1.0,
    "init": "random",  # or "keep": continue from the model's current weights
    "checkpoints": None,  # steps after which to record the weights and the loss (see log_spaced_steps)
    "feature_sets": None,  # e.g. [("correlated", 2), ("anticorrelated", 2)]: structured data instead
    "log_every": None,  # default: 100 evenly spaced logs
    "eval_batch_size": 16384,
    "evaluation": "sampled",  # or "stratified": every activity pattern, weighted by its probability
    "progress": None,  # None: on in notebooks and terminals, off in CI
    "description": "training",
}


@dataclass
class TrainResult:
    """What ``train`` returns.

    ``loss``: ``Tensor[n_instances]``, the final importance-weighted MSE of each instance (mean over
    batch and features) on a fresh evaluation batch. ``history``: ``Tensor[n_logs, n_instances]``, the
    training-batch loss at ``history_steps``. ``candidate_losses``: ``Tensor[n_instances, best_of]``,
    the evaluation loss of every fit that best-of-k selection chose from. ``checkpoints`` (when asked
    for): ``"step"`` ``[k]``, ``"W"`` ``[k, n_instances, n_hidden, n_features]``, ``"b"``
    ``[k, n_instances, n_features]`` and ``"loss"`` ``[k, n_instances]`` (the training-batch loss).
    ``seconds``: wall time of the whole call; ``loop_seconds``: of the training loop alone (what
    benchmarks divide by the steps).
    """

    loss: Tensor
    history: Tensor
    history_steps: Tensor
    candidate_losses: Tensor
    seconds: float
    loop_seconds: float
    options: dict = field(default_factory=dict)
    checkpoints: dict[str, Tensor] | None = None


def train(
    model: InstanceModel,
    *,
    density: float | Tensor,
    importance: float | Tensor = 1.0,
    steps: int,
    batch_size: int = 1024,
    lr: float | Tensor = 1e-3,
    seed: int = 0,
    **options,
) -> TrainResult:
    """Train every instance of ``model``, by default from a fresh initialisation drawn from ``seed``.

    ``density``: float, ``Tensor[n_instances]`` or ``Tensor[n_instances, n_features]`` in [0, 1].
    ``importance``: float, ``Tensor[n_features]`` or ``Tensor[n_instances, n_features]``, ≥ 0.
    ``lr``: float, or ``Tensor[n_instances]`` to give every instance its own learning rate in one run
    (AdamW's step is proportional to the learning rate, so each instance's step is rescaled).
    The loss is the importance-weighted squared error, mean over batch and features per instance,
    summed over instances; nothing couples instances, so each trains as if alone.

    Options: ``weight_decay`` (0.01), ``schedule`` ("constant" or "cosine" decay to 0),
    ``warmup_steps`` (0, linear), ``best_of`` (k: fit k independent copies of every instance and keep
    the one with the lowest evaluation loss, as the paper did for luck-dependent geometry),
    ``init_scale`` (multiplies the initial weights), ``init`` ("random": a fresh initialisation from
    ``seed``; "keep": start from the model's current weights, e.g. a hand-built geometry, which needs
    ``best_of=1``), ``feature_sets`` (None: independent features; or ``(kind, size)`` pairs for
    ``helpers.data.feature_sets``, correlated or anticorrelated sets, with a per-instance density),
    ``checkpoints`` (a sequence of 0-based steps: after each, the trainer records the weights ``W``,
    the bias and the training loss, in ``TrainResult.checkpoints``), ``log_every`` (steps between history entries),
    ``eval_batch_size`` (16384), ``evaluation`` ("sampled": the final loss on ``eval_batch_size`` fresh
    inputs; "stratified": on ``eval_batch_size`` inputs for *every* pattern of which features are
    present, each pattern weighted by its probability, see ``data.activity_strata``: for up to 12
    independent features, it compares best-of-k candidates precisely where they differ only on rare
    inputs; 2^n times as many inputs, so choose ``eval_batch_size`` accordingly), ``progress`` (None:
    automatic), ``description`` (progress-bar label).

    The same ``seed`` gives identical weights. The model's weights are replaced by the trained ones.
    Raises ``FloatingPointError`` if the loss becomes non-finite.
    """
    started = time.perf_counter()
    if not isinstance(model, InstanceModel):
        raise TypeError(f"model must be a helpers model (an InstanceModel), got {type(model).__name__}")
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise TypeError(f"train() got unknown option(s) {unknown}; allowed options: {sorted(OPTIONS)}")
    opts = {**OPTIONS, **options}
    steps = validation.positive_int("steps", steps)
    batch_size = validation.positive_int("batch_size", batch_size)
    lr_given = lr
    lr, lr_ratio = _learning_rates(lr, model.n_instances)
    seed = validation.non_negative_int("seed", seed)
    weight_decay = validation.finite_float("weight_decay", opts["weight_decay"], low=0.0)
    schedule = validation.choice("schedule", opts["schedule"], SCHEDULES)
    warmup_steps = validation.non_negative_int("warmup_steps", opts["warmup_steps"])
    best_of = validation.positive_int("best_of", opts["best_of"])
    init_scale = validation.finite_float("init_scale", opts["init_scale"], low=0.0)
    eval_batch_size = validation.positive_int("eval_batch_size", opts["eval_batch_size"])
    init = validation.choice("init", opts["init"], INITS)
    evaluation_kind = validation.choice("evaluation", opts["evaluation"], EVALUATIONS)
    if init == "keep" and best_of > 1:
        raise ValueError(f"init='keep' trains the model's current weights once; it needs best_of=1, got {best_of}")
    log_every = opts["log_every"]
    log_every = max(1, steps // 100) if log_every is None else validation.positive_int("log_every", log_every)
    checkpoint_steps = checked_checkpoints(opts["checkpoints"], steps)
    if checkpoint_steps and model.checkpoint_weights() is None:
        raise TypeError(f"checkpoints record W and b; {type(model).__name__} has no W and b")

    device = next(model.parameters()).device
    n_instances, n_features = model.n_instances, model.n_features
    density_t = validation.broadcastable(
        "density", density, n_instances, n_features, vector="instances", low=0.0, high=1.0, device=device
    )
    importance_t = validation.broadcastable(
        "importance", importance, n_instances, n_features, vector="features", low=0.0, high=None, device=device
    )

    work = candidate_model(model, best_of)  # candidate c of instance i is instance i * best_of + c
    density_t = density_t.repeat_interleave(best_of, dim=0)
    importance_t = importance_t.repeat_interleave(best_of, dim=0)
    if lr_ratio is not None:  # each instance's step relative to the largest learning rate's
        lr_ratio = lr_ratio.to(device).repeat_interleave(best_of)
    importance_arg: Tensor | float = importance_t
    if bool((importance_t == importance_t.flatten()[0]).all()):
        importance_arg = float(importance_t.flatten()[0])

    # Instances that differ only in their kind of weights or learning rate are not replicates: they
    # share data streams (common random numbers), as instances with different densities do.
    differences = [torch.tensor([WEIGHT_CODES[kind] for kind in work.weight_kinds], dtype=torch.float64)]
    if lr_ratio is not None:
        differences.append(lr_ratio.cpu().double())
    streams = replicate_index(density_t, importance_t, *differences)

    if init == "random":
        init_generator = torch.Generator(device=device).manual_seed(derived_seed(seed, INIT_STREAM))
        work.reset_parameters(init_generator, init_scale)
    sets = opts["feature_sets"]
    signed = model.signed_inputs  # e.g. the absolute-value model: x ~ U[−1, 1)
    if sets is None:
        sampler = SparseSampler(
            density_t,
            n_features,
            seed=seed,
            streams=streams,
            device=device,
            signed=signed,
        )
        evaluation = SparseSampler(
            density_t, n_features, seed=derived_seed(seed, EVAL_STREAM), device=device, signed=signed
        )
    else:
        if signed:
            raise ValueError(f"feature_sets draw values in [0, 1); {type(model).__name__} needs signed inputs")
        if density_t.shape[2] != 1:
            raise ValueError("with feature_sets, density must be a float or a Tensor[n_instances] (one per instance)")
        sampler = SetSampler(sets, density_t, seed=seed, streams=streams, device=device)
        evaluation = SetSampler(sets, density_t, seed=derived_seed(seed, EVAL_STREAM), device=device)
        if sampler.n_features != n_features:
            raise ValueError(
                f"feature_sets describe {sampler.n_features} features, but the model has n_features = {n_features}"
            )
    if evaluation_kind == "stratified":
        if sets is not None or signed:
            raise ValueError(
                "evaluation='stratified' needs independent features in [0, 1) (no feature_sets, no signed inputs)"
            )
        evaluation = activity_strata(
            density_t,
            n_features,
            eval_batch_size,
            seed=derived_seed(seed, EVAL_STREAM),
            device=device,
        )
    optimizer = torch.optim.AdamW(work.parameters(), lr=lr, weight_decay=weight_decay)
    step_lr = lr * lr_scale()  # nearly 0 under the untrained control (helpers.runtime.control)

    show = progress_enabled() if opts["progress"] is None else bool(opts["progress"])
    history, history_steps = [], []
    recorded: list[tuple[int, Tensor, Tensor, Tensor]] = []
    loop_started = time.perf_counter()
    with tqdm(total=steps, desc=opts["description"], disable=not show, leave=False) as bar:
        for step in range(steps):
            for group in optimizer.param_groups:
                group["lr"] = step_lr * lr_factor(step, steps, schedule, warmup_steps)
            checkpoint_now = step in checkpoint_steps
            log_now = step % log_every == 0 or step == steps - 1 or checkpoint_now
            x = sampler.sample(batch_size, reuse=True)
            loss = work.backward_loss(x, importance_arg, need_loss=log_now)
            if lr_ratio is None:
                optimizer.step()
            else:
                scaled_step(optimizer, lr_ratio)
            if checkpoint_now:
                W, b = work.checkpoint_weights()
                recorded.append((step, W.detach().clone(), b.detach().clone(), loss))
            if log_now:
                check_finite(loss, step, lr)
                history.append(loss)
                history_steps.append(step)
                done = step + 1 - bar.n
                bar.update(done)
                bar.set_postfix(loss=f"{loss.mean().item():.4g}", refresh=False)
    loop_seconds = time.perf_counter() - loop_started
    apply_after_training(work, derived_seed(seed, CONTROL_STREAM))  # the norm-matched control, if it is on

    with torch.no_grad():
        candidate = evaluate(work, evaluation, importance_t, eval_batch_size, batch_size)
    check_finite(candidate, steps, lr)
    chosen = best_candidates(candidate, best_of)
    if best_of > 1:
        copy_instances(work, model, chosen)
    stacked = torch.stack(history)  # [n_logs, n_instances * best_of]
    return TrainResult(
        loss=candidate[chosen].cpu(),
        history=stacked[:, chosen].cpu(),
        history_steps=torch.tensor(history_steps),
        candidate_losses=candidate.view(-1, best_of).cpu(),
        seconds=time.perf_counter() - started,
        loop_seconds=loop_seconds,
        options={"steps": steps, "batch_size": batch_size, "lr": lr_given, "seed": seed, **opts},
        checkpoints=None
        if not recorded
        else {
            "step": torch.tensor([r[0] for r in recorded]),
            "W": torch.stack([r[1][chosen] for r in recorded]).cpu(),
            "b": torch.stack([r[2][chosen] for r in recorded]).cpu(),
            "loss": torch.stack([r[3][chosen] for r in recorded]).cpu(),
        },
    )


def _learning_rates(lr: float | Tensor, n_instances: int) -> tuple[float, Tensor | None]:
    """The largest learning rate, and each instance's ratio to it (None when all are equal)."""
    if not isinstance(lr, Tensor):
        return validation.finite_float("lr", lr, low=0.0, low_open=True), None
    rates = lr.detach().cpu().double().flatten()
    if rates.numel() == 1:
        return validation.finite_float("lr", rates.item(), low=0.0, low_open=True), None
    if rates.shape != (n_instances,) or not bool(torch.isfinite(rates).all()) or bool((rates <= 0).any()):
        raise ValueError(
            f"lr must be a float > 0 or a Tensor[n_instances] = [{n_instances}] of them, got {lr.tolist()}"
        )
    largest = rates.max().item()
    return largest, None if bool((rates == largest).all()) else (rates / largest).float()


def scaled_step(optimizer: torch.optim.Optimizer, ratio: Tensor) -> None:
    """One optimiser step in which instance i moves ``ratio[i]`` times as far: for AdamW, whose step
    (decoupled weight decay included) is proportional to the learning rate and whose moment
    estimates do not depend on it, that is the step with learning rate ``ratio[i] · lr``. Every
    parameter's first axis is the instance axis."""
    parameters = [p for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
    before = [p.detach().clone() for p in parameters]
    optimizer.step()
    with torch.no_grad():
        for parameter, old in zip(parameters, before, strict=True):
            shape = (-1,) + (1,) * (parameter.dim() - 1)
            parameter.sub_(old).mul_(ratio.view(shape)).add_(old)


def evaluate(
    model: InstanceModel,
    sampler: SparseSampler | SetSampler | tuple[Tensor, Tensor],
    importance: Tensor,
    n_samples: int,
    chunk_size: int,
) -> Tensor:
    """Loss of every instance on ``n_samples`` inputs from ``sampler``, in chunks: ``Tensor[n_instances]``.

    With a sampler whose instances all share one stream (the default), every instance sees the same
    inputs, so best-of-k compares candidates on identical data rather than on independent noisy
    estimates. ``sampler`` may instead be stratified inputs and the patterns' probabilities
    (``data.activity_strata``): then the loss is the probability-weighted mean of the patterns' losses."""
    if isinstance(sampler, tuple):
        x, probability = sampler  # [patterns, samples, n], [n_instances, patterns]
        total = torch.zeros(model.n_instances, device=importance.device)
        per_chunk = max(1, (1 << 22) // (model.n_instances * model.n_features * x.shape[1]))  # patterns at once
        for start in range(0, x.shape[0], per_chunk):
            block = x[start : start + per_chunk]  # [k, samples, n]
            inputs = block.flatten(0, 1).expand(model.n_instances, -1, -1)
            per_sample = (importance * (model(inputs) - model.target(inputs)).square()).mean(dim=2)
            pattern_mean = per_sample.view(model.n_instances, block.shape[0], block.shape[1]).mean(dim=2)
            total += (pattern_mean * probability[:, start : start + per_chunk]).sum(dim=1)
        return total
    total = torch.zeros(model.n_instances, device=importance.device)
    done = 0
    while done < n_samples:
        size = min(chunk_size, n_samples - done)
        total += model.loss(sampler.sample(size), importance) * size
        done += size
    return total / n_samples


def check_finite(loss: Tensor, step: int, lr: float) -> None:
    """Stop with a clear error when training diverged, instead of returning NaN weights."""
    bad = ~torch.isfinite(loss)
    if bool(bad.any()):
        instances = bad.nonzero().flatten().tolist()[:10]
        raise FloatingPointError(
            f"the loss became non-finite at step {step} (instances {instances}); training diverged — "
            f"try a smaller lr (was {lr}) or check density and importance"
        )


def log_spaced_steps(steps: int, n: int) -> list[int]:
    """About ``n`` distinct 0-based steps from 0 to ``steps − 1``, evenly spaced in log(step + 1): dense
    early, where learning dynamics move fast, sparse late. For ``train(..., checkpoints=...)``."""
    steps = validation.positive_int("steps", steps)
    n = validation.positive_int("n", n)
    points = torch.logspace(0, math.log10(steps), n, dtype=torch.float64).round().long() - 1
    return sorted(set(points.clamp(0, steps - 1).tolist()))


def checked_checkpoints(checkpoints, steps: int) -> frozenset[int]:
    """The checkpoint steps as a set, each an integer in [0, steps)."""
    if checkpoints is None:
        return frozenset()
    if isinstance(checkpoints, (str, bytes)) or not hasattr(checkpoints, "__iter__"):
        raise TypeError(f"checkpoints must be a sequence of steps, got {checkpoints!r}")
    chosen = frozenset(
        validation.non_negative_int("checkpoints step", int(s) if isinstance(s, Tensor) else s) for s in checkpoints
    )
    late = sorted(s for s in chosen if s >= steps)
    if late:
        raise ValueError(f"checkpoints must be steps in [0, {steps}), got {late[:5]}")
    return chosen
