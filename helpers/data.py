"""Synthetic feature generators for the toy models (chapter 8's modular-addition pairs are in
``helpers.modular``). All data in the book is generated, nothing is downloaded."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from . import validation


def derived_seed(*parts: int) -> int:
    """A well-mixed 63-bit seed from integers (e.g. ``(base_seed, stream)``), so that related streams
    such as seed 7 / stream 0 and seed 0 / stream 7 never collide."""
    return int(np.random.SeedSequence([int(p) for p in parts]).generate_state(1, dtype=np.uint64)[0] >> 1)


def sparse_from_uniform(u: Tensor, density: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Sparse features from uniform draws ``u ~ U[0, 1)``: present iff ``u ≥ 1 − p`` (probability ``p``),
    with value ``(u − (1 − p)) / p``, which is again ~ U[0, 1). ``density`` (``p``) broadcasts against
    ``u``; the result has their broadcast shape.

    Written as ``relu(u/p + 1 − 1/p)``: two passes and no boolean mask. One draw serves for both the
    presence and the value, half the random numbers of separate draws, with the same distribution."""
    p = density.clamp_min(torch.finfo(torch.float32).tiny)  # p = 0: every draw lands below zero
    scale = 1.0 / p
    shape = torch.broadcast_shapes(u.shape, p.shape)
    if out is None:
        out = torch.empty(shape, device=u.device)
    return torch.addcmul(1.0 - scale, u, scale, out=out).relu_()


def make_signed(features: Tensor) -> Tensor:
    """Turn present values ~ U[0, 1) into ~ U[−1, 1) in place (``2v − 1``), leaving absent ones 0:
    the signed inputs of the absolute-value task. Returns ``features``."""
    present = features > 0
    return features.mul_(2).sub_(present.to(features.dtype))


def sparse_features(
    n_instances: int,
    batch_size: int,
    n_features: int,
    density: float | Tensor,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    signed: bool = False,
) -> Tensor:
    """Independent sparse features: each is present with probability ``density`` and then ~ U[0, 1)
    (``signed=True``: ~ U[−1, 1), for the absolute-value task).

    ``density`` is a float, ``Tensor[n_instances]`` or ``Tensor[n_instances, n_features]``, in [0, 1].
    Returns ``Tensor[n_instances, batch_size, n_features]``; every entry is independent of every other.
    """
    n_instances = validation.positive_int("n_instances", n_instances)
    batch_size = validation.positive_int("batch_size", batch_size)
    n_features = validation.positive_int("n_features", n_features)
    if device is None and generator is not None:
        device = generator.device
    p = validation.broadcastable(
        "density", density, n_instances, n_features, vector="instances", low=0.0, high=1.0, device=device
    )
    u = torch.rand(n_instances, batch_size, n_features, generator=generator, device=device)
    features = sparse_from_uniform(u, p, out=u)
    return make_signed(features) if signed else features


def replicate_index(*settings: Tensor) -> Tensor:
    """For every instance, how many earlier instances have exactly the same settings:
    ``Tensor[n_instances]`` of 0, 1, 2, … ``settings`` are tensors with a leading instance axis
    (densities, importances). Instances with the same index and different settings may share random
    draws; replicates (same settings) get different indices and so independent draws."""
    n_instances = settings[0].shape[0]
    rows = torch.cat(
        [s.detach().reshape(n_instances, -1).expand(n_instances, -1).cpu().double() for s in settings], dim=1
    )
    _, group = torch.unique(rows, dim=0, return_inverse=True)
    seen: dict[int, int] = {}
    index = []
    for g in group.tolist():
        index.append(seen.get(g, 0))
        seen[g] = index[-1] + 1
    return torch.tensor(index, dtype=torch.long)


class SparseSampler:
    """Batches of sparse features for many instances, drawn again and again by the trainer.

    Instances that differ in their settings share uniform draws (common random numbers): one stream
    of draws ``[batch, n_features]`` serves all of them, each transformed with its own density. On a
    CPU, random numbers are the largest cost of a step, and a sweep over 40 densities then needs 1/40
    of them. Instances with the same settings (replicates, best-of-k candidates) use different
    streams (``streams[i]``, see ``replicate_index``), so they stay statistically independent. Each
    stream has its own generator seeded from ``(seed, 0, stream)``: an instance's inputs depend only on
    the seed, its stream and its density, not on which other instances train beside it.

    ``density``: ``Tensor[n_instances, 1, 1]`` or ``Tensor[n_instances, 1, n_features]`` in [0, 1].
    ``signed``: present values ~ U[−1, 1) instead of U[0, 1).
    """

    def __init__(
        self,
        density: Tensor,
        n_features: int,
        *,
        seed: int,
        streams: Tensor | None = None,
        device: torch.device | str | None = None,
        signed: bool = False,
    ) -> None:
        self.signed = bool(signed)
        self.density = density.to(device=device, dtype=torch.float32)
        self._density_feature_major = self.density.transpose(1, 2)  # [n_instances, 1 or n_features, 1]
        self.device = self.density.device
        self.n_instances = self.density.shape[0]
        self.n_features = n_features
        self.streams = torch.zeros(self.n_instances, dtype=torch.long) if streams is None else streams.cpu()
        self.n_streams = int(self.streams.max()) + 1
        self.generators = [
            torch.Generator(device=self.device).manual_seed(derived_seed(seed, 0, stream))
            for stream in range(self.n_streams)
        ]
        self._stream_index = self.streams.to(self.device)
        self._buffers: dict[tuple, Tensor] = {}

    def _buffer(self, name: str, shape: tuple[int, ...]) -> Tensor:
        key = (name, *shape)
        if key not in self._buffers:
            self._buffers[key] = torch.empty(shape, device=self.device)
        return self._buffers[key]

    def sample(self, batch_size: int, *, reuse: bool = False) -> Tensor:
        """``Tensor[n_instances, batch_size, n_features]``, stored feature-major (its transpose
        ``[n_instances, n_features, batch]`` is contiguous; see ``ToyModel.backward_loss``). With
        ``reuse=True`` the result lives in a buffer that the next call with ``reuse=True`` overwrites
        (the trainer's hot loop)."""
        shape = (self.n_streams, self.n_features, batch_size)
        u = self._buffer("uniform", shape) if reuse else torch.empty(shape, device=self.device)
        for stream, generator in enumerate(self.generators):
            u[stream].uniform_(generator=generator)
        full = (self.n_instances, self.n_features, batch_size)
        out = self._buffer("features", full) if reuse else torch.empty(full, device=self.device)
        if self.n_streams > 1:  # every instance gets its stream's draws; then transform in place
            u = torch.index_select(u, 0, self._stream_index, out=out)
        features = sparse_from_uniform(u, self._density_feature_major, out=out)
        if self.signed:
            make_signed(features)
        return features.transpose(1, 2)


#: The most features ``activity_strata`` enumerates the activity patterns of (2^12 = 4096 patterns).
MAX_STRATIFIED_FEATURES = 12


def activity_strata(
    density: Tensor, n_features: int, samples_per_pattern: int, *, seed: int, device: torch.device | str | None = None
) -> tuple[Tensor, Tensor]:
    """Every pattern of which features are present, each with the same number of samples, and each
    pattern's probability: stratified sampling. The probability-weighted mean of the patterns' mean
    losses is an unbiased estimate of the expected loss over ``sparse_features``. ``density``:
    ``Tensor[n_instances, 1, 1 or n_features]`` in [0, 1].

    Returns ``x: Tensor[2^n, samples_per_pattern, n_features]`` (the same for every instance; present
    values ~ U[0, 1)) and ``probability: Tensor[n_instances, 2^n]`` (each instance's probability of each
    pattern; every row sums to 1). Rare patterns, such as two sparse features present together, are
    measured as precisely as common ones, which an evaluation set drawn at random cannot do: at density
    0.01 it sees two given features together once in 10,000 inputs. Only for
    ``n_features ≤ MAX_STRATIFIED_FEATURES``."""
    n_features = validation.positive_int("n_features", n_features)
    if n_features > MAX_STRATIFIED_FEATURES:
        raise ValueError(
            f"stratified evaluation enumerates 2^n activity patterns; n_features = {n_features} is more than "
            f"{MAX_STRATIFIED_FEATURES}"
        )
    samples_per_pattern = validation.positive_int("samples_per_pattern", samples_per_pattern)
    density = density.to(device=device, dtype=torch.float32)
    n_patterns = 1 << n_features
    bits = 1 << torch.arange(n_features, device=density.device)
    patterns = (torch.arange(n_patterns, device=density.device).unsqueeze(1) & bits) > 0  # [2^n, n]
    generator = torch.Generator(device=density.device).manual_seed(derived_seed(seed, 0, 0))
    values = torch.rand(n_patterns, samples_per_pattern, n_features, generator=generator, device=density.device)
    x = values * patterns.unsqueeze(1)  # [2^n, samples, n]
    p = density[:, 0, :].expand(-1, n_features)  # [n_instances, n]
    # P(pattern) for every instance: the product of p_j where feature j is present, 1 − p_j where not
    probability = torch.where(patterns.unsqueeze(0), p.unsqueeze(1), 1 - p.unsqueeze(1)).prod(dim=2)  # [I, 2^n]
    return x, probability


SET_KINDS = ("independent", "correlated", "anticorrelated")


def _check_sets(sets) -> list[tuple[str, int]]:
    if isinstance(sets, (str, bytes)) or not hasattr(sets, "__iter__"):
        raise TypeError(f"sets must be a sequence of (kind, size) pairs, got {sets!r}")
    checked = []
    for entry in sets:
        if not (isinstance(entry, (tuple, list)) and len(entry) == 2):
            raise TypeError(f"sets must be a sequence of (kind, size) pairs, got the entry {entry!r}")
        kind, size = entry
        checked.append((validation.choice("sets kind", kind, SET_KINDS), validation.positive_int("sets size", size)))
    if not checked:
        raise ValueError("sets must hold at least one (kind, size) pair")
    return checked


def feature_sets(
    n_instances: int,
    batch_size: int,
    sets,
    density: float | Tensor,
    *,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
) -> Tensor:
    """Features in sets, composable in one batch: ``sets`` is a sequence of ``(kind, size)`` pairs,
    e.g. ``[("correlated", 2), ("anticorrelated", 2)]``; the features of each set follow each other.

    - ``"independent"``: every feature present with probability ``density``, as ``sparse_features``;
    - ``"correlated"``: one draw per set decides whether *all* its features are present (probability
      ``density``) or all zero;
    - ``"anticorrelated"``: at most one feature of the set is present, each with probability exactly
      ``density`` (ARENA's definition; the paper's instead activates the set with probability 1−S and
      then one feature at random, (1−S)/k each). Needs ``density ≤ 1/size``.

    Present features are ~ U[0, 1), independently. ``density``: float or ``Tensor[n_instances]``.
    Returns ``Tensor[n_instances, batch_size, n_features]`` with ``n_features`` the sum of the sizes."""
    n_instances = validation.positive_int("n_instances", n_instances)
    batch_size = validation.positive_int("batch_size", batch_size)
    checked = _check_sets(sets)
    if device is None and generator is not None:
        device = generator.device
    p = validation.broadcastable(
        "density", density, n_instances, 1, vector="instances", low=0.0, high=1.0, device=device
    )
    for kind, size in checked:
        if kind == "anticorrelated" and float(p.max()) * size > 1 + 1e-6:
            raise ValueError(
                f"density {float(p.max()):g} is above the largest feasible value 1/{size} = {1 / size:.4g} for an "
                f"anticorrelated set of {size} features (each is present with probability exactly density, "
                "and at most one at a time)"
            )
    parts = []
    for kind, size in checked:
        values = torch.rand(n_instances, batch_size, size, generator=generator, device=device)
        gate = (
            None
            if kind == "independent"
            else torch.rand(n_instances, batch_size, 1, generator=generator, device=device)
        )
        parts.append(_set_from_uniform(kind, values, gate, p))
    return torch.cat(parts, dim=2)


def _set_from_uniform(kind: str, values: Tensor, gate: Tensor | None, p: Tensor) -> Tensor:
    """One set's features from uniform draws: ``values [n_instances, batch, size]`` and, except for
    independent features, one ``gate [n_instances, batch, 1]`` per sample; ``p``: ``[n_instances, 1, 1]``."""
    if kind == "independent":
        return sparse_from_uniform(values, p, out=values)
    if kind == "correlated":
        return values * (gate < p)
    # anticorrelated: feature j is present iff the set's draw lands in [j·p, (j+1)·p)
    which = torch.floor(gate / p.clamp_min(torch.finfo(torch.float32).tiny))
    return values * (which == torch.arange(values.shape[2], device=values.device))


class SetSampler:
    """Batches of ``feature_sets`` for the trainer (the counterpart of ``SparseSampler`` for
    structured data), with the same common random numbers: instances that differ in their settings
    share uniform draws, each transformed with its own density, and replicates (``streams[i]``, see
    ``replicate_index``) use streams of their own, each with a generator seeded from
    ``(seed, 0, stream)``. ``density``: ``Tensor[n_instances, 1, 1]``."""

    def __init__(
        self,
        sets,
        density: Tensor,
        *,
        seed: int,
        streams: Tensor | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        self.sets = _check_sets(sets)
        self.n_features = sum(size for _, size in self.sets)
        self.density = density.to(device=device, dtype=torch.float32).reshape(-1, 1, 1)
        self.n_instances = self.density.shape[0]
        feature_sets(self.n_instances, 1, self.sets, self.density.flatten(), device=self.density.device)  # check early
        self.streams = torch.zeros(self.n_instances, dtype=torch.long) if streams is None else streams.cpu()
        self.generators = [
            torch.Generator(device=self.density.device).manual_seed(derived_seed(seed, 0, stream))
            for stream in range(int(self.streams.max()) + 1)
        ]
        self._stream_index = self.streams.to(self.density.device)
        self._n_gates = sum(kind != "independent" for kind, _ in self.sets)

    def sample(self, batch_size: int, *, reuse: bool = False) -> Tensor:
        """``Tensor[n_instances, batch_size, n_features]`` (``reuse`` is accepted for the trainer and ignored)."""
        width = self.n_features + self._n_gates  # every feature's value, then one gate per set
        draws = torch.empty(len(self.generators), batch_size, width, device=self.density.device)
        for stream, generator in enumerate(self.generators):
            draws[stream].uniform_(generator=generator)
        u = (
            torch.index_select(draws, 0, self._stream_index)
            if len(self.generators) > 1
            else draws.expand(self.n_instances, -1, -1)
        )
        parts, start, gate = [], 0, self.n_features
        for kind, size in self.sets:
            values = u[:, :, start : start + size].clone()
            gates = None if kind == "independent" else u[:, :, gate : gate + 1]
            gate += kind != "independent"
            parts.append(_set_from_uniform(kind, values, gates, self.density))
            start += size
        return torch.cat(parts, dim=2)
