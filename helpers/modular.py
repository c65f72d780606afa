"""Full-batch training of the bilinear model on (a + b) mod p with cross-entropy and AdamW (chapter 8).

Separate from ``helpers.train`` (which streams fresh sparse batches for reconstruction), but seeded the
same way and with the same progress bar."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import torch
from torch import Tensor
from tqdm.auto import tqdm

from . import validation
from .data import ModularData, derived_seed
from .models import BilinearMLP
from .runtime import lr_scale, progress_enabled
from .train import INIT_STREAM, check_finite, lr_factor


@dataclass
class ModularResult:
    """What ``train_modular`` returns. Losses and accuracies are ``Tensor[n_instances]`` at the end of
    training; ``history`` holds ``"step"`` ``[n_logs]`` and ``"train_loss"``, ``"test_loss"``,
    ``"test_accuracy"`` ``[n_logs, n_instances]``; ``candidate_losses``: ``[n_instances, best_of]``,
    the final training loss of every initialisation best-of-k chose from."""

    train_loss: Tensor
    test_loss: Tensor
    train_accuracy: Tensor
    test_accuracy: Tensor
    history: dict[str, Tensor]
    candidate_losses: Tensor
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
    best_of: int = 1,
    log_every: int | None = None,
    progress: bool | None = None,
    description: str = "training",
) -> ModularResult:
    """Train every instance of ``model`` full-batch on ``data.train`` from a fresh initialisation drawn
    from ``seed``: cross-entropy, AdamW (Nanda et al.'s betas), linear warm-up, then ``schedule``
    ("constant" or "cosine"). ``weight_decay``: one float, or ``Tensor[n_instances]`` to sweep it
    across instances in one run. The loss is summed over instances, which stay independent.
    ``best_of``: train k independent initialisations of every instance and keep the one with the lowest
    final training loss (some initialisations settle on a single frequency and learn slowly).

    The model's weights are replaced by the trained ones. Raises ``FloatingPointError`` if the loss
    becomes non-finite."""
    started = time.perf_counter()
    if not isinstance(model, BilinearMLP):
        raise TypeError(f"model must be a helpers.models.BilinearMLP, got {type(model).__name__}")
    if not isinstance(data, ModularData):
        raise TypeError(f"data must be a helpers.data.ModularData (from modular_addition), got {type(data).__name__}")
    if data.p != model.p:
        raise ValueError(f"data is mod {data.p} but the model has p = {model.p}")
    steps = validation.positive_int("steps", steps)
    lr = validation.finite_float("lr", lr, low=0.0, low_open=True)
    seed = validation.non_negative_int("seed", seed)
    warmup_steps = validation.non_negative_int("warmup_steps", warmup_steps)
    schedule = validation.choice("schedule", schedule, ("constant", "cosine"))
    best_of = validation.positive_int("best_of", best_of)
    log_every = max(1, steps // 50) if log_every is None else validation.positive_int("log_every", log_every)
    device = model.E.device
    decay = _per_instance_decay(weight_decay, model.n_instances, device).repeat_interleave(best_of)
    # Best-of-k: candidate c of instance i is instance i * k + c of one bigger model.
    work = model if best_of == 1 else BilinearMLP(model.p, model.d, model.n_hidden, model.n_instances * best_of)
    work = work.to(device)
    work.reset_parameters(torch.Generator(device=device).manual_seed(derived_seed(seed, INIT_STREAM)))
    train_pairs, train_labels = data.train.to(device), data.train_labels.to(device)
    test_pairs, test_labels = data.test.to(device), data.test_labels.to(device)
    # Decoupled weight decay by hand, so each instance can have its own: w ← w − lr·λ_i·w, then Adam.
    optimizer = torch.optim.Adam(work.parameters(), lr=lr, betas=betas)
    scale = lr_scale()  # nearly 0 under the untrained control (helpers.runtime.control)
    history: dict[str, list] = {"step": [], "train_loss": [], "test_loss": [], "test_accuracy": []}
    show = progress_enabled() if progress is None else bool(progress)
    with tqdm(total=steps, desc=description, disable=not show, leave=False) as bar:
        for step in range(steps):
            step_lr = lr * scale * lr_factor(step, steps, schedule, warmup_steps)
            for group in optimizer.param_groups:
                group["lr"] = step_lr
            loss = work.backward_cross_entropy(train_pairs, train_labels)
            with torch.no_grad():
                for parameter in work.parameters():
                    parameter.mul_(1 - step_lr * decay.view(-1, *[1] * (parameter.dim() - 1)))
            optimizer.step()
            if step % log_every == 0 or step == steps - 1:
                check_finite(loss.detach(), step, lr)
                test_loss, test_accuracy = evaluate_modular(work, test_pairs, test_labels)
                history["step"].append(step)
                history["train_loss"].append(loss.detach())
                history["test_loss"].append(test_loss)
                history["test_accuracy"].append(test_accuracy)
                bar.update(step + 1 - bar.n)
                bar.set_postfix(train=f"{loss.mean().item():.3g}", test=f"{test_loss.mean().item():.3g}", refresh=False)
    candidates, _ = evaluate_modular(work, train_pairs, train_labels)
    check_finite(candidates, steps, lr)
    chosen = torch.arange(model.n_instances, device=device) * best_of + candidates.view(-1, best_of).argmin(dim=1)
    if best_of > 1:
        with torch.no_grad():
            for name, parameter in model.named_parameters():
                parameter.copy_(getattr(work, name)[chosen])
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
        candidate_losses=candidates.view(-1, best_of).cpu(),
        seconds=time.perf_counter() - started,
        options={
            "steps": steps,
            "lr": lr,
            "weight_decay": decay.cpu(),
            "seed": seed,
            "betas": betas,
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
