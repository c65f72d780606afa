"""One trainer for every toy model: many independent instances in one batched loop.

The recipe defaults are the official Colab's (AdamW, lr 1e-3, PyTorch's default weight decay 0.01,
batch 1024, constant learning rate, a fresh batch every step, loss summed over instances).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
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
    benchmarks divide by the steps). ``options``: the arguments of the call (``lr`` as given).
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
    weight_decay: float = 0.01,
    schedule: str = "constant",
    warmup_steps: int = 0,
    best_of: int = 1,
    init_scale: float = 1.0,
    init: str = "random",
    checkpoints: Iterable[int] | None = None,
    feature_sets: Sequence[tuple[str, int]] | None = None,
    log_every: int | None = None,
    eval_batch_size: int = 16384,
    evaluation: str = "sampled",
    progress: bool | None = None,
    description: str = "training",
) -> TrainResult:
    """Train every instance of ``model``, by default from a fresh initialisation drawn from ``seed``.

    The loss is the importance-weighted squared error, mean over batch and features per instance,
    summed over instances; nothing couples instances, so each trains as if alone. The same ``seed``
    gives identical weights. The model's weights are replaced by the trained ones.

    - ``model``: an ``InstanceModel`` (``ToyModel``, ``AbsValueModel``) with ``n_instances`` instances
      of ``n_features`` features.
    - ``density``: the probability that a feature is present: float, ``Tensor[n_instances]`` or
      ``Tensor[n_instances, n_features]``, in [0, 1].
    - ``importance``: the weight of each feature's squared error: float, ``Tensor[n_features]`` or
      ``Tensor[n_instances, n_features]``, ≥ 0.
    - ``steps``: optimiser steps, each on a fresh batch of ``batch_size`` inputs per instance.
    - ``lr``: AdamW's learning rate: float, or ``Tensor[n_instances]`` to give every instance its own in
      one run (AdamW's step is proportional to the learning rate, so each instance's step is rescaled).
    - ``seed``: the seed of the initial weights, the training data and the evaluation set.
    - ``weight_decay``: AdamW's decoupled weight decay (PyTorch's default 0.01, which the official
      Colab used without saying so).
    - ``schedule``: ``"constant"`` or ``"cosine"`` (decay to 0), after ``warmup_steps`` steps of linear
      warm-up (``helpers.schedules``).
    - ``best_of``: k: fit k independent candidates of every instance and keep the one with the lowest
      evaluation loss, as the paper did for luck-dependent geometry (``helpers.selection``).
    - ``init_scale``: multiplies the initial weights.
    - ``init``: ``"random"``, a fresh initialisation from ``seed``; or ``"keep"``, start from the
      model's current weights, e.g. a hand-built geometry (needs ``best_of=1``).
    - ``checkpoints``: 0-based steps after which to record the weights ``W``, the bias and the training
      loss, in ``TrainResult.checkpoints`` (see ``log_spaced_steps``); the model must have one ``W`` and
      ``b`` (``InstanceModel.checkpoint_weights``).
    - ``feature_sets``: ``None``, independent features; or ``(kind, size)`` pairs for
      ``helpers.data.feature_sets``, correlated or anticorrelated sets, with ``density`` a float or a
      ``Tensor[n_instances]``.
    - ``log_every``: steps between entries of ``TrainResult.history`` (default: 100 evenly spaced).
    - ``eval_batch_size``: inputs of the final evaluation.
    - ``evaluation``: ``"sampled"``, the final loss on ``eval_batch_size`` fresh inputs; or
      ``"stratified"``, on ``eval_batch_size`` inputs for *every* pattern of which features are present,
      each pattern weighted by its probability (``data.activity_strata``): for up to 12 independent
      features, it compares best-of-k candidates precisely where they differ only on rare inputs; 2^n
      times as many inputs, so choose ``eval_batch_size`` accordingly.
    - ``progress``: show a progress bar (``None``: in notebooks and terminals, not in CI);
      ``description``: its label.

    Bad arguments raise ``ValueError`` or ``TypeError`` naming the argument; an unknown keyword raises
    Python's ``TypeError``. Raises ``FloatingPointError`` if the loss becomes non-finite.
    """
    started = time.perf_counter()
    options = {
        "steps": steps,
        "batch_size": batch_size,
        "lr": lr,
        "seed": seed,
        "weight_decay": weight_decay,
        "schedule": schedule,
        "warmup_steps": warmup_steps,
        "best_of": best_of,
        "init_scale": init_scale,
        "init": init,
        "checkpoints": checkpoints,
        "feature_sets": feature_sets,
        "log_every": log_every,
        "eval_batch_size": eval_batch_size,
        "evaluation": evaluation,
        "progress": progress,
        "description": description,
    }
    settings = _checked_settings(model, options)
    density_t, importance_t = _checked_inputs(model, density, importance, settings)
    run = _candidates(model, density_t, importance_t, settings)
    sampler, evaluation_set = _samplers(model, run, settings)
    trace = _training_loop(run, sampler, settings)
    apply_after_training(run.work, derived_seed(settings.seed, CONTROL_STREAM))  # the norm-matched control, if on
    checked = {"steps": settings.steps, "batch_size": settings.batch_size, "seed": settings.seed}
    return _selected_result(model, run, evaluation_set, trace, settings, started, {**options, **checked})


@dataclass(frozen=True)
class _Settings:
    """The checked arguments of one ``train`` call (``lr``: the largest learning rate; ``lr_ratio``: each
    instance's ratio to it, ``None`` when all are equal)."""

    steps: int
    batch_size: int
    lr: float
    lr_ratio: Tensor | None
    seed: int
    weight_decay: float
    schedule: str
    warmup_steps: int
    best_of: int
    init_scale: float
    init: str
    checkpoints: frozenset[int]
    feature_sets: Sequence[tuple[str, int]] | None
    log_every: int
    eval_batch_size: int
    evaluation: str
    progress: bool
    description: str


@dataclass
class _Run:
    """The model that trains every candidate (``helpers.selection``: candidate c of instance i is
    instance ``i · best_of + c``) and its settings per candidate: ``density`` and ``importance``
    ``[n_instances · best_of, 1, 1 or n_features]``, ``lr_ratio`` ``[n_instances · best_of]`` or ``None``,
    and the data stream of each (``data.replicate_index``)."""

    work: InstanceModel
    density: Tensor
    importance: Tensor
    lr_ratio: Tensor | None
    streams: Tensor


@dataclass
class _Trace:
    """What the training loop logged: ``history`` (the training-batch loss ``[n_instances · best_of]``
    at each of ``history_steps``), ``recorded`` checkpoints ``(step, W, b, loss)`` and its wall time."""

    history: list[Tensor]
    history_steps: list[int]
    recorded: list[tuple[int, Tensor, Tensor, Tensor]]
    seconds: float


def _checked_settings(model: object, options: dict) -> _Settings:
    """Every argument of ``train`` but the data's (``options``: the arguments by name), checked: a clear
    ``ValueError`` or ``TypeError`` naming the argument."""
    if not isinstance(model, InstanceModel):
        raise TypeError(f"model must be a helpers model (an InstanceModel), got {type(model).__name__}")
    steps = validation.positive_int("steps", options["steps"])
    batch_size = validation.positive_int("batch_size", options["batch_size"])
    largest_lr, lr_ratio = _learning_rates(options["lr"], model.n_instances)
    seed = validation.non_negative_int("seed", options["seed"])
    weight_decay = validation.finite_float("weight_decay", options["weight_decay"], low=0.0)
    schedule = validation.choice("schedule", options["schedule"], SCHEDULES)
    warmup_steps = validation.non_negative_int("warmup_steps", options["warmup_steps"])
    best_of = validation.positive_int("best_of", options["best_of"])
    init_scale = validation.finite_float("init_scale", options["init_scale"], low=0.0)
    eval_batch_size = validation.positive_int("eval_batch_size", options["eval_batch_size"])
    init = validation.choice("init", options["init"], INITS)
    evaluation = validation.choice("evaluation", options["evaluation"], EVALUATIONS)
    if init == "keep" and best_of > 1:
        raise ValueError(f"init='keep' trains the model's current weights once; it needs best_of=1, got {best_of}")
    log_every = options["log_every"]
    log_every = max(1, steps // 100) if log_every is None else validation.positive_int("log_every", log_every)
    checkpoint_steps = checked_checkpoints(options["checkpoints"], steps)
    feature_sets, progress = options["feature_sets"], options["progress"]
    if checkpoint_steps and model.checkpoint_weights() is None:
        raise TypeError(f"checkpoints record W and b; {type(model).__name__} has no W and b")
    if feature_sets is not None and model.signed_inputs:
        raise ValueError(f"feature_sets draw values in [0, 1); {type(model).__name__} needs signed inputs")
    if evaluation == "stratified" and (feature_sets is not None or model.signed_inputs):
        raise ValueError(
            "evaluation='stratified' needs independent features in [0, 1) (no feature_sets, no signed inputs)"
        )
    return _Settings(
        steps=steps,
        batch_size=batch_size,
        lr=largest_lr,
        lr_ratio=lr_ratio,
        seed=seed,
        weight_decay=weight_decay,
        schedule=schedule,
        warmup_steps=warmup_steps,
        best_of=best_of,
        init_scale=init_scale,
        init=init,
        checkpoints=checkpoint_steps,
        feature_sets=feature_sets,
        log_every=log_every,
        eval_batch_size=eval_batch_size,
        evaluation=evaluation,
        progress=progress_enabled() if progress is None else bool(progress),
        description=options["description"],
    )


def _checked_inputs(
    model: InstanceModel, density: float | Tensor, importance: float | Tensor, settings: _Settings
) -> tuple[Tensor, Tensor]:
    """``density`` and ``importance`` checked, on the model's device: ``[n_instances, 1, 1 or n_features]``."""
    device = next(model.parameters()).device
    n_instances, n_features = model.n_instances, model.n_features
    density_t = validation.broadcastable(
        "density", density, n_instances, n_features, vector="instances", low=0.0, high=1.0, device=device
    )
    importance_t = validation.broadcastable(
        "importance", importance, n_instances, n_features, vector="features", low=0.0, high=None, device=device
    )
    if settings.feature_sets is not None and density_t.shape[2] != 1:
        raise ValueError("with feature_sets, density must be a float or a Tensor[n_instances] (one per instance)")
    return density_t, importance_t


def _candidates(model: InstanceModel, density: Tensor, importance: Tensor, settings: _Settings) -> _Run:
    """The model that trains all ``best_of`` candidates of every instance, freshly initialised from
    ``seed`` unless ``init="keep"``, with each candidate's settings and data stream."""
    best_of, device = settings.best_of, density.device
    work = candidate_model(model, best_of)
    density = density.repeat_interleave(best_of, dim=0)
    importance = importance.repeat_interleave(best_of, dim=0)
    lr_ratio = None  # each instance's step relative to the largest learning rate's
    if settings.lr_ratio is not None:
        lr_ratio = settings.lr_ratio.to(device).repeat_interleave(best_of)
    # Instances that differ only in their kind of weights or learning rate are not replicates: they
    # share data streams (common random numbers), as instances with different densities do.
    kinds = torch.tensor([WEIGHT_CODES[kind] for kind in work.weight_kinds], dtype=torch.float64)
    differences = [kinds] if lr_ratio is None else [kinds, lr_ratio.cpu().double()]
    streams = replicate_index(density, importance, *differences)
    if settings.init == "random":
        init_generator = torch.Generator(device=device).manual_seed(derived_seed(settings.seed, INIT_STREAM))
        work.reset_parameters(init_generator, settings.init_scale)
    return _Run(work=work, density=density, importance=importance, lr_ratio=lr_ratio, streams=streams)


def _samplers(
    model: InstanceModel, run: _Run, settings: _Settings
) -> tuple[SparseSampler | SetSampler, SparseSampler | SetSampler | tuple[Tensor, Tensor]]:
    """The training data (fresh batches, one stream per replicate) and the evaluation set (its own
    seed, one stream for all candidates, so that best-of-k compares them on the same inputs)."""
    device, n_features, sets = run.density.device, model.n_features, settings.feature_sets
    seed, eval_seed = settings.seed, derived_seed(settings.seed, EVAL_STREAM)
    if sets is None:
        signed = model.signed_inputs  # e.g. the absolute-value model: x ~ U[−1, 1)
        sampler = SparseSampler(run.density, n_features, seed=seed, streams=run.streams, device=device, signed=signed)
        evaluation = SparseSampler(run.density, n_features, seed=eval_seed, device=device, signed=signed)
    else:
        sampler = SetSampler(sets, run.density, seed=seed, streams=run.streams, device=device)
        evaluation = SetSampler(sets, run.density, seed=eval_seed, device=device)
        if sampler.n_features != n_features:
            raise ValueError(
                f"feature_sets describe {sampler.n_features} features, but the model has n_features = {n_features}"
            )
    if settings.evaluation == "stratified":
        evaluation = activity_strata(run.density, n_features, settings.eval_batch_size, seed=eval_seed, device=device)
    return sampler, evaluation


def _training_loop(run: _Run, sampler: SparseSampler | SetSampler, settings: _Settings) -> _Trace:
    """AdamW on a fresh batch every step, with the schedule, logging and checkpoints ``settings`` ask for."""
    work, lr_ratio, steps = run.work, run.lr_ratio, settings.steps
    optimizer = torch.optim.AdamW(work.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    step_lr = settings.lr * lr_scale()  # nearly 0 under the untrained control (helpers.runtime.control)
    importance: Tensor | float = run.importance
    if bool((importance == importance.flatten()[0]).all()):
        importance = float(importance.flatten()[0])  # one number: the hand-written gradient's cheaper path
    trace = _Trace(history=[], history_steps=[], recorded=[], seconds=0.0)
    started = time.perf_counter()
    with tqdm(total=steps, desc=settings.description, disable=not settings.progress, leave=False) as bar:
        for step in range(steps):
            for group in optimizer.param_groups:
                group["lr"] = step_lr * lr_factor(step, steps, settings.schedule, settings.warmup_steps)
            checkpoint_now = step in settings.checkpoints
            log_now = step % settings.log_every == 0 or step == steps - 1 or checkpoint_now
            x = sampler.sample(settings.batch_size, reuse=True)
            loss = work.backward_loss(x, importance, need_loss=log_now)
            if lr_ratio is None:
                optimizer.step()
            else:
                scaled_step(optimizer, lr_ratio)
            if checkpoint_now:
                W, b = work.checkpoint_weights()
                trace.recorded.append((step, W.detach().clone(), b.detach().clone(), loss))
            if log_now:
                check_finite(loss, step, settings.lr)
                trace.history.append(loss)
                trace.history_steps.append(step)
                bar.update(step + 1 - bar.n)
                bar.set_postfix(loss=f"{loss.mean().item():.4g}", refresh=False)
    trace.seconds = time.perf_counter() - started
    return trace


def _selected_result(
    model: InstanceModel,
    run: _Run,
    evaluation: SparseSampler | SetSampler | tuple[Tensor, Tensor],
    trace: _Trace,
    settings: _Settings,
    started: float,
    options: dict,
) -> TrainResult:
    """Evaluate every candidate, copy each instance's best into ``model`` and assemble the result."""
    work, best_of = run.work, settings.best_of
    with torch.no_grad():
        candidate = evaluate(work, evaluation, run.importance, settings.eval_batch_size, settings.batch_size)
    check_finite(candidate, settings.steps, settings.lr)
    chosen = best_candidates(candidate, best_of)
    if best_of > 1:
        copy_instances(work, model, chosen)
    stacked = torch.stack(trace.history)  # [n_logs, n_instances * best_of]
    recorded = trace.recorded
    return TrainResult(
        loss=candidate[chosen].cpu(),
        history=stacked[:, chosen].cpu(),
        history_steps=torch.tensor(trace.history_steps),
        candidate_losses=candidate.view(-1, best_of).cpu(),
        seconds=time.perf_counter() - started,
        loop_seconds=trace.seconds,
        options=options,
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
