"""Training many SAEs at once on a toy model's hidden activations, with seeds, the book's controls and
(optionally) resampling of dead latents."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor
from tqdm.auto import tqdm

from .. import validation
from ..controls import apply_after_training
from ..data import derived_seed
from ..runtime import lr_scale, progress_enabled
from ..schedules import SCHEDULES, lr_factor
from .data import ActivationSampler, checked_features
from .model import SparseAutoencoder, sae_loss

# Streams derived from the run's seed: the initial dictionary, the training inputs, the evaluation
# inputs, the resampling draws and the norm-matched control.
INIT_STREAM, DATA_STREAM, EVAL_STREAM, RESAMPLE_STREAM, CONTROL_STREAM = 11, 12, 13, 14, 15
#: Bricken et al. (2023) give a resampled latent an encoder vector 0.2 times the alive latents' mean norm.
RESAMPLED_ENCODER_SCALE = 0.2


@dataclass
class SAEResult:
    """What ``train_sae`` returns. ``history``: ``Tensor[n_logs, n_instances]``, the training loss at
    ``history_steps``; ``resampled``: ``Tensor[n_instances]``, how many latents were resampled in all;
    ``seconds``: wall time."""

    history: Tensor
    history_steps: Tensor
    resampled: Tensor
    seconds: float


def _l1_coefficients(value: float | Tensor, n_instances: int, device: torch.device) -> float | Tensor:
    if isinstance(value, Tensor):
        if value.shape != (n_instances,):
            raise ValueError(
                f"l1_coefficient must be a float or a Tensor[n_instances] = [{n_instances}], "
                f"got shape {list(value.shape)}"
            )
        if not torch.isfinite(value).all() or (value < 0).any():
            raise ValueError("l1_coefficient must be finite and ≥ 0 everywhere")
        return value.detach().float().to(device)
    return validation.finite_float("l1_coefficient", value, low=0.0)


def train_sae(
    sae: SparseAutoencoder,
    W: Tensor,
    *,
    density: float,
    steps: int,
    batch_size: int = 1024,
    lr: float = 1e-3,
    l1_coefficient: float | Tensor = 0.0,
    seed: int = 0,
    feature_sets: Sequence[tuple[str, int]] | None = None,
    resample_every: int | None = None,
    dead_below: float = 0.0,
    schedule: str = "constant",
    warmup_steps: int = 0,
    log_every: int | None = None,
    progress: bool | None = None,
    description: str = "SAEs",
) -> SAEResult:
    """Train every instance of ``sae`` from a fresh initialisation drawn from ``seed``, with Adam, on
    the activations ``h = W x`` of a toy model for fresh features ``x`` at every step.

    - ``W``: the toy model's weights, ``[n_hidden, n_features]`` (every SAE reads the same model) or
      ``[n_instances, n_hidden, n_features]`` (SAE ``i`` reads model ``i``); ``n_hidden`` must be the
      SAE's ``n_input``.
    - ``density``, ``feature_sets``: how the features are drawn (``sae.data.ActivationSampler``).
    - ``l1_coefficient``: λ in ``sae_loss``, a float or ``Tensor[n_instances]`` (one per SAE).
    - ``resample_every``: every this many steps, give each latent that has not fired since the last
      resampling a new direction, that of an input drawn with probability proportional to its squared
      reconstruction error, with an encoder vector 0.2 times the alive latents' mean norm and a zero
      bias, and clear its optimiser state (Bricken et al. 2023). Not in the last ``resample_every``
      steps, so that resampled latents have time to train. ``None``: never.
    - ``dead_below``: a latent that fired on at most this share of the inputs since the last resampling
      counts as dead (0: only latents that never fired, Bricken et al.'s rule).
    - ``schedule``, ``warmup_steps``: the learning-rate schedule (``helpers.schedules``).

    Under the book's controls (``helpers.runtime.control``) the SAEs stay at their initialisation
    (``"untrained"``) or get random directions with their trained norms (``"norm-matched"``), like the
    toy models. Raises ``FloatingPointError`` if the loss becomes non-finite."""
    if not isinstance(sae, SparseAutoencoder):
        raise TypeError(f"sae must be a SparseAutoencoder, got {type(sae).__name__}")
    steps = validation.positive_int("steps", steps)
    batch_size = validation.positive_int("batch_size", batch_size)
    lr = validation.finite_float("lr", lr, low=0.0, low_open=True)
    seed = validation.non_negative_int("seed", seed)
    schedule = validation.choice("schedule", schedule, SCHEDULES)
    warmup_steps = validation.non_negative_int("warmup_steps", warmup_steps)
    if resample_every is not None:
        resample_every = validation.positive_int("resample_every", resample_every)
    dead_below = validation.finite_float("dead_below", dead_below, low=0.0, high=1.0)
    log_every = max(1, steps // 100) if log_every is None else validation.positive_int("log_every", log_every)
    device = sae.W_dec.device
    sampler = ActivationSampler(
        checked_features(W).to(device), density, seed=seed, stream=DATA_STREAM, feature_sets=feature_sets
    )
    if sampler.n_hidden != sae.n_input:
        raise ValueError(f"W has n_hidden = {sampler.n_hidden}, but the SAE reads n_input = {sae.n_input}")
    if sampler.n_models not in (1, sae.n_instances):
        raise ValueError(f"W holds {sampler.n_models} models; give one, or one per SAE instance ({sae.n_instances})")
    l1 = _l1_coefficients(l1_coefficient, sae.n_instances, device)
    if sae.kind == "topk" and (not isinstance(l1, float) or l1 != 0.0):
        raise ValueError("a TopK SAE is trained without an L1 penalty: leave l1_coefficient at 0")

    started = time.perf_counter()
    sae.reset_parameters(torch.Generator(device=device).manual_seed(derived_seed(seed, INIT_STREAM)))
    resample_generator = torch.Generator(device=device).manual_seed(derived_seed(seed, RESAMPLE_STREAM))
    optimizer = torch.optim.Adam(sae.parameters(), lr=lr)
    step_lr = lr * lr_scale()  # nearly 0 under the untrained control
    fired = torch.zeros(sae.n_instances, sae.n_latents, device=device)  # inputs each latent fired on
    resampled = torch.zeros(sae.n_instances, dtype=torch.long)
    history, history_steps = [], []
    show = progress_enabled() if progress is None else bool(progress)
    with tqdm(total=steps, desc=description, disable=not show, leave=False) as bar:
        for step in range(steps):
            for group in optimizer.param_groups:
                group["lr"] = step_lr * lr_factor(step, steps, schedule, warmup_steps)
            _, h = sampler.sample(batch_size)
            reconstruction, code = sae(h)
            loss = sae_loss(h, reconstruction, code, l1)
            optimizer.zero_grad(set_to_none=True)
            loss.sum().backward()
            optimizer.step()
            fired += (code > 0).sum(dim=1)
            if step % log_every == 0 or step == steps - 1:
                logged = loss.detach()
                if not torch.isfinite(logged).all():
                    bad = (~torch.isfinite(logged)).nonzero().flatten().tolist()[:10]
                    raise FloatingPointError(
                        f"the SAE loss became non-finite at step {step} (instances {bad}); try a smaller lr (was {lr})"
                    )
                history.append(logged.cpu())
                history_steps.append(step)
                bar.update(step + 1 - bar.n)
            due = resample_every is not None and (step + 1) % resample_every == 0
            if due and step + 1 + resample_every <= steps:
                dead = fired <= dead_below * resample_every * batch_size
                resampled += resample_dead_latents_(sae, optimizer, dead, sampler, resample_generator)
                fired.zero_()
    apply_after_training(sae, derived_seed(seed, CONTROL_STREAM))  # the norm-matched control, if on
    return SAEResult(
        history=torch.stack(history),
        history_steps=torch.tensor(history_steps),
        resampled=resampled,
        seconds=time.perf_counter() - started,
    )


def resample_dead_latents_(
    sae: SparseAutoencoder,
    optimizer: torch.optim.Optimizer,
    dead: Tensor,
    sampler: ActivationSampler,
    generator: torch.Generator,
    n_candidates: int = 4096,
) -> Tensor:
    """In place: give every dead latent (``dead``: ``Tensor[n_instances, n_latents]`` of bool) the
    direction of an input drawn with probability proportional to its squared reconstruction error,
    an encoder vector of that direction times 0.2 times the alive latents' mean encoder norm, a zero
    encoder bias, and a cleared Adam state. Returns how many latents each instance resampled."""
    counts = dead.sum(dim=1).cpu()
    if int(counts.sum()) == 0:
        return counts
    with torch.no_grad():
        _, h = sampler.sample(n_candidates)
        h = h.expand(sae.n_instances, -1, -1)
        reconstruction, _ = sae(h)
        error = (h - reconstruction).square().sum(dim=2)  # [n_instances, n_candidates]
        centred = h - sae.b_dec.unsqueeze(1)
        encoder_norms = sae.W_enc.norm(dim=1)  # [n_instances, n_latents]
        for i in dead.any(dim=1).nonzero().flatten().tolist():
            latents = dead[i].nonzero().flatten()
            weights = error[i].square()
            if float(weights.sum()) <= 0:
                weights = torch.ones_like(weights)
            chosen = torch.multinomial(weights, len(latents), replacement=True, generator=generator)
            directions = centred[i, chosen] / centred[i, chosen].norm(dim=1, keepdim=True).clamp_min(1e-12)
            alive = ~dead[i]
            scale = float(encoder_norms[i, alive].mean()) if bool(alive.any()) else 1.0
            sae.W_dec[i][:, latents] = directions.T
            sae.W_enc[i][:, latents] = directions.T * RESAMPLED_ENCODER_SCALE * scale
            sae.b_enc[i, latents] = 0.0
            for parameter in (sae.W_dec, sae.W_enc, sae.b_enc):
                state = optimizer.state.get(parameter, {})
                for moment in ("exp_avg", "exp_avg_sq"):
                    if moment in state:
                        state[moment][i][..., latents] = 0.0
    return counts
