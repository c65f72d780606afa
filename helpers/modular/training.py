"""Chapter 8's trainer: full-batch training of the bilinear model on (a + b) mod p with cross-entropy
and AdamW or SGD with decoupled weight decay.

Separate from ``helpers.train`` (which streams fresh sparse batches for reconstruction), but seeded the
same way, with the same schedules (``helpers.schedules``), best-of-k selection (``helpers.selection``)
and progress bar."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch
from torch import Tensor
from tqdm.auto import tqdm

from .. import validation
from ..controls import apply_after_training
from ..data import derived_seed
from ..runtime import lr_scale, progress_enabled
from ..schedules import SCHEDULES, lr_factor
from ..selection import best_candidates, candidate_model, copy_instances
from ..train import CONTROL_STREAM, INIT_STREAM, check_finite
from .model import BilinearMLP
from .task import ModularData

#: The optimisers ``train_modular`` offers: Adam's steps are about ``lr`` in every coordinate (sign-like),
#: SGD's are proportional to the gradient.
OPTIMIZERS = ("adam", "sgd")


@dataclass
class ModularResult:
    """What ``train_modular`` returns. Losses and accuracies are ``Tensor[n_instances]`` at the end of
    training; ``history`` holds ``"step"`` ``[n_logs]`` and ``"train_loss"``, ``"test_loss"``,
    ``"test_accuracy"`` ``[n_logs, n_instances]``; ``candidate_losses``: ``[n_instances, best_of]``,
    the final training loss of every initialisation best-of-k chose from, with their test accuracies
    (``candidate_test_accuracy``, same shape); ``candidates``: all of them trained, on the CPU, as one
    ``BilinearMLP`` with ``n_instances · best_of`` instances (candidate c of instance i is instance
    ``i · best_of + c``), so that what best-of-k left out can be inspected."""

    train_loss: Tensor
    test_loss: Tensor
    train_accuracy: Tensor
    test_accuracy: Tensor
    history: dict[str, Tensor]
    candidate_losses: Tensor
    candidate_test_accuracy: Tensor
    candidates: BilinearMLP
    seconds: float
    options: dict = field(default_factory=dict)


def cross_entropy(logits: Tensor, labels: Tensor) -> Tensor:
    """Mean cross-entropy of each instance: ``logits [n_instances, batch, p]``, ``labels [batch]`` →
    ``Tensor[n_instances]``.

    Logits more than 60 below an instance's largest are raised to that floor, as in the trainer (no
    subnormal floats), so a pair whose correct logit is further below the top than that counts about
    ``60 + log p`` instead of its full loss. On a pair the model gets right the correct logit is the
    largest, and the floor changes the loss by less than ``p e^-60``."""
    shifted = (logits - logits.amax(dim=2, keepdim=True)).clamp(min=-60.0)  # as in the trainer: no subnormals
    correct = shifted.gather(2, labels.view(1, -1, 1).expand(logits.shape[0], -1, 1)).squeeze(2)
    return (shifted.exp().sum(dim=2).log() - correct).mean(dim=1)


def accuracy(logits: Tensor, labels: Tensor) -> Tensor:
    """Share of pairs whose largest logit is the right answer: ``Tensor[n_instances]``."""
    return (logits.argmax(dim=-1) == labels).float().mean(dim=1)


@torch.no_grad()
def evaluate_modular(model: BilinearMLP, pairs: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
    """``(loss, accuracy)`` of every instance on the given pairs, each ``Tensor[n_instances]``."""
    logits = model(pairs)
    return cross_entropy(logits, labels), accuracy(logits, labels)


def train_modular(
    model: BilinearMLP,
    data: ModularData,
    *,
    steps: int,
    lr: float = 1e-3,
    weight_decay: float | Tensor = 1.0,
    seed: int = 0,
    betas: tuple[float, float] = (0.9, 0.98),
    warmup_steps: int = 10,
    schedule: str = "constant",
    optimizer: str = "adam",
    momentum: float = 0.9,
    best_of: int = 1,
    log_every: int | None = None,
    progress: bool | None = None,
    description: str = "training",
) -> ModularResult:
    """Train every instance of ``model`` full-batch on ``data.train`` from a fresh initialisation drawn
    from ``seed``: cross-entropy, linear warm-up, then ``schedule`` ("constant" or "cosine").
    ``optimizer``: ``"adam"`` (AdamW with Nanda et al.'s ``betas``: every coordinate moves by about
    ``lr`` per step, whatever the size of its gradient) or ``"sgd"`` (heavy-ball SGD with ``momentum``:
    each coordinate moves in proportion to its gradient). Both decay the weights the decoupled way,
    ``w ← w − lr·λ·w`` before the step; for SGD that is the gradient of the L2 penalty ``λ‖w‖²/2``.
    ``weight_decay``: one float, or ``Tensor[n_instances]`` to sweep it across instances in one run.
    The loss is summed over instances, which stay independent.
    ``best_of``: train k independent initialisations of every instance and keep the one with the lowest
    final training loss (some initialisations stall, with one frequency dominating the embedding; chapter 8
    counts them). ``best_of_groups`` does the same selection by hand, for runs that mix settings.

    The model's weights are replaced by the trained ones. Raises ``FloatingPointError`` if the loss
    becomes non-finite."""
    started = time.perf_counter()
    if not isinstance(model, BilinearMLP):
        raise TypeError(f"model must be a helpers.BilinearMLP, got {type(model).__name__}")
    if not isinstance(data, ModularData):
        raise TypeError(f"data must be a helpers.ModularData (from modular_addition), got {type(data).__name__}")
    if data.p != model.p:
        raise ValueError(f"data is mod {data.p} but the model has p = {model.p}")
    steps = validation.positive_int("steps", steps)
    lr = validation.finite_float("lr", lr, low=0.0, low_open=True)
    seed = validation.non_negative_int("seed", seed)
    warmup_steps = validation.non_negative_int("warmup_steps", warmup_steps)
    schedule = validation.choice("schedule", schedule, SCHEDULES)
    optimizer = validation.choice("optimizer", optimizer, OPTIMIZERS)
    momentum = validation.finite_float("momentum", momentum, low=0.0, high=0.999)
    best_of = validation.positive_int("best_of", best_of)
    log_every = max(1, steps // 50) if log_every is None else validation.positive_int("log_every", log_every)
    device = model.E.device
    decay = _per_instance_decay(weight_decay, model.n_instances, device).repeat_interleave(best_of)
    work = candidate_model(model, best_of)  # candidate c of instance i is instance i * best_of + c
    work.reset_parameters(torch.Generator(device=device).manual_seed(derived_seed(seed, INIT_STREAM)))
    train_pairs, train_labels = data.train.to(device), data.train_labels.to(device)
    test_pairs, test_labels = data.test.to(device), data.test_labels.to(device)
    # Decoupled weight decay by hand, so each instance can have its own: w ← w − lr·λ_i·w, then the step.
    if optimizer == "adam":
        stepper = torch.optim.Adam(work.parameters(), lr=lr, betas=betas)
    else:
        stepper = torch.optim.SGD(work.parameters(), lr=lr, momentum=momentum)
    scale = lr_scale()  # nearly 0 under the untrained control (helpers.runtime.control)
    history: dict[str, list] = {"step": [], "train_loss": [], "test_loss": [], "test_accuracy": []}
    show = progress_enabled() if progress is None else bool(progress)
    with tqdm(total=steps, desc=description, disable=not show, leave=False) as bar:
        for step in range(steps):
            step_lr = lr * scale * lr_factor(step, steps, schedule, warmup_steps)
            for group in stepper.param_groups:
                group["lr"] = step_lr
            loss = work.backward_cross_entropy(train_pairs, train_labels)
            with torch.no_grad():
                for parameter in work.parameters():
                    parameter.mul_(1 - step_lr * decay.view(-1, *[1] * (parameter.dim() - 1)))
            stepper.step()
            if step % log_every == 0 or step == steps - 1:
                check_finite(loss.detach(), step, lr)
                test_loss, test_accuracy = evaluate_modular(work, test_pairs, test_labels)
                history["step"].append(step)
                history["train_loss"].append(loss.detach())
                history["test_loss"].append(test_loss)
                history["test_accuracy"].append(test_accuracy)
                bar.update(step + 1 - bar.n)
                bar.set_postfix(train=f"{loss.mean().item():.3g}", test=f"{test_loss.mean().item():.3g}", refresh=False)
    apply_after_training(work, derived_seed(seed, CONTROL_STREAM))  # the norm-matched control, if it is on
    candidate_loss, _ = evaluate_modular(work, train_pairs, train_labels)
    check_finite(candidate_loss, steps, lr)
    _, candidate_accuracy = evaluate_modular(work, test_pairs, test_labels)
    candidates = BilinearMLP(model.p, model.d, model.n_hidden, model.n_instances * best_of)
    candidates.set_parameters(**{name: getattr(work, name).detach().cpu() for name in "ELRU"})
    chosen = best_candidates(candidate_loss, best_of)
    if best_of > 1:
        copy_instances(work, model, chosen)
    train_loss, train_accuracy = evaluate_modular(model, train_pairs, train_labels)
    test_loss, test_accuracy = evaluate_modular(model, test_pairs, test_labels)
    return ModularResult(
        train_loss=train_loss.cpu(),
        test_loss=test_loss.cpu(),
        train_accuracy=train_accuracy.cpu(),
        test_accuracy=test_accuracy.cpu(),
        history={
            "step": torch.tensor(history["step"]),
            **{key: torch.stack(values)[:, chosen].cpu() for key, values in history.items() if key != "step"},
        },
        candidate_losses=candidate_loss.view(-1, best_of).cpu(),
        candidate_test_accuracy=candidate_accuracy.view(-1, best_of).cpu(),
        candidates=candidates,
        seconds=time.perf_counter() - started,
        options={
            "steps": steps,
            "lr": lr,
            "weight_decay": decay.cpu(),
            "seed": seed,
            "betas": betas,
            "optimizer": optimizer,
            "momentum": momentum,
            "schedule": schedule,
            "best_of": best_of,
        },
    )


def _per_instance_decay(weight_decay: float | Tensor, n_instances: int, device: torch.device) -> Tensor:
    if isinstance(weight_decay, Tensor):
        decay = weight_decay.detach().to(device=device, dtype=torch.float32).flatten()
        if decay.numel() == 1:
            decay = decay.expand(n_instances)
        if decay.shape != (n_instances,) or not bool(torch.isfinite(decay).all()) or bool((decay < 0).any()):
            raise ValueError(
                f"weight_decay must be a float ≥ 0 or a Tensor[n_instances] = [{n_instances}] of them, "
                f"got {weight_decay.tolist()}"
            )
        return decay
    value = validation.finite_float("weight_decay", weight_decay, low=0.0)
    return torch.full((n_instances,), value, device=device)


def best_of_groups(losses: Tensor, group: int) -> Tensor:
    """Best-of-k by hand: ``losses``: ``Tensor[n_groups · group]``, consecutive runs of ``group`` fits
    belonging to one model. Returns the position of the lowest loss in each run, ``Tensor[n_groups]``
    (as ``train_modular(best_of=group)`` would keep)."""
    group = validation.positive_int("group", group)
    if not isinstance(losses, Tensor) or losses.dim() != 1 or losses.numel() % group:
        raise ValueError(f"losses must be a 1-D tensor whose length is a multiple of group = {group}")
    return best_candidates(losses.detach().cpu(), group)
