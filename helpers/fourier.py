"""Fourier analysis over Z_p and the mixing matrices of chapter 8: Sylvester Hadamard matrices, the
involutory mixers built from them, and the change of basis between two linear layers."""

from __future__ import annotations

import itertools
import math

import torch
from torch import Tensor

from . import validation


def fourier_basis(p: int) -> Tensor:
    """The real orthonormal Fourier basis over Z_p, one basis vector per row: ``Tensor[p, p]``.

    Row 0 is the constant; rows ``2k − 1`` and ``2k`` are cos(2πk·x/p) and sin(2πk·x/p) for
    k = 1 … ⌊p/2⌋, each normalised (for even p the last sine row is zero and is left out, so the
    rows stop at the cosine of p/2)."""
    p = validation.integer("p", p, minimum=2)
    x = torch.arange(p, dtype=torch.float64)
    rows = [torch.ones(p, dtype=torch.float64)]
    for k in range(1, p // 2 + 1):
        rows.append(torch.cos(2 * math.pi * k * x / p))
        if 2 * k != p:
            rows.append(torch.sin(2 * math.pi * k * x / p))
    basis = torch.stack(rows)
    return (basis / basis.norm(dim=1, keepdim=True)).float()


def frequency_norms(embedding: Tensor) -> Tensor:
    """How much of each embedding column lies at each frequency.

    ``embedding``: ``Tensor[..., p, d]`` (one row per residue). Returns ``Tensor[..., p // 2 + 1, d]``:
    entry ``[k, j]`` is the norm of column j's projection on frequency k (its cos and sin
    components together; k = 0 is the constant). Squared, the entries of a column sum to its squared
    norm, since the basis is orthonormal."""
    if not isinstance(embedding, Tensor) or embedding.dim() < 2:
        raise ValueError(f"embedding must be a tensor [..., p, d], got {_describe(embedding)}")
    p = embedding.shape[-2]
    coefficients = fourier_basis(p).to(embedding) @ embedding  # [..., p, d]
    squared = coefficients**2
    per_frequency = [squared[..., :1, :]]
    for k in range(1, p // 2 + 1):
        rows = slice(2 * k - 1, min(2 * k + 1, p))
        per_frequency.append(squared[..., rows, :].sum(dim=-2, keepdim=True))
    return torch.cat(per_frequency, dim=-2).sqrt()


def frequency_purity(embedding: Tensor) -> Tensor:
    """For each embedding column, the share of its squared norm at its strongest frequency:
    ``Tensor[..., d]`` in (0, 1]; 1 means the column is a single frequency (a pure cos/sin mix)."""
    power = frequency_norms(embedding) ** 2  # [..., n_frequencies, d]
    return power.amax(dim=-2) / power.sum(dim=-2)


def strongest_share(embedding: Tensor, count: int) -> Tensor:
    """The share of the embedding's squared norm (constant included in the total) held by its ``count``
    strongest non-constant frequencies: ``embedding``: ``Tensor[..., p, d]`` → ``Tensor[...]`` in [0, 1].
    Near 1 with ``count`` = 2 for a two-frequency Fourier embedding; for a random (Gaussian) embedding
    about ``2·count/p`` plus the luck of the largest."""
    count = validation.positive_int("count", count)
    power = (frequency_norms(embedding) ** 2).sum(dim=-1)  # [..., p // 2 + 1]
    if count > power.shape[-1] - 1:
        raise ValueError(f"count must be at most the {power.shape[-1] - 1} non-constant frequencies, got {count}")
    return power[..., 1:].topk(count, dim=-1).values.sum(dim=-1) / power.sum(dim=-1)


def sylvester_hadamard(n: int) -> Tensor:
    """Sylvester's Hadamard matrix of order n (a power of 2): entries ±1, H Hᵀ = n I, symmetric.
    ``H₁ = [1]``, ``H₂ₙ = [[Hₙ, Hₙ], [Hₙ, −Hₙ]]``."""
    n = validation.positive_int("n", n)
    if n & (n - 1):
        raise ValueError(f"n must be a power of 2 for Sylvester's construction, got {n}")
    H = torch.ones(1, 1)
    while H.shape[0] < n:
        H = torch.cat([torch.cat([H, H], dim=1), torch.cat([H, -H], dim=1)], dim=0)
    return H


def hadamard_mixer(n: int, *, signs: Tensor | None = None, permutation: Tensor | None = None) -> Tensor:
    """An involutory mixing matrix M = S H Sᵀ / √n (M² = I, orthogonal, symmetric), where H is
    Sylvester's Hadamard matrix and S = P·D a signed permutation: ``permutation`` (a permutation of
    0 … n−1; default identity) and ``signs`` (±1 entries; default all +1). Every entry is ±1/√n, so M
    mixes each coordinate into all others equally; it is its own inverse, so the same M mixes and
    unmixes."""
    H = sylvester_hadamard(n)
    signs = torch.ones(n) if signs is None else torch.as_tensor(signs, dtype=H.dtype)
    if signs.shape != (n,) or not bool(((signs == 1) | (signs == -1)).all()):
        raise ValueError(f"signs must be {n} entries of ±1, got {signs.tolist()}")
    order = torch.arange(n) if permutation is None else torch.as_tensor(permutation)
    if sorted(order.tolist()) != list(range(n)):
        raise ValueError(f"permutation must be a permutation of 0 … {n - 1}, got {order.tolist()}")
    S = torch.diag(signs)[order]  # signed permutation: row i is ±e_order[i]
    return S @ H @ S.T / math.sqrt(n)


def change_of_basis(writer: Tensor, reader: Tensor, M: Tensor) -> tuple[Tensor, Tensor]:
    """Insert M⁻¹M between two linear maps without changing what they compute together.

    ``writer``: ``Tensor[..., d, k]``, maps into a d-dimensional space (v = writer @ u).
    ``reader``: ``Tensor[..., r, d]``, reads from it (y = reader @ v). ``M``: ``Tensor[d, d]``
    (or ``[..., d, d]``, one per instance), invertible. Returns ``(M @ writer, reader @ M⁻¹)``: the
    space's coordinates change to v' = M v and ``reader @ writer`` is unchanged. Not a symmetry across
    an element-wise product: the two maps must meet in a purely linear space."""
    for name, value in (("writer", writer), ("reader", reader), ("M", M)):
        if not isinstance(value, Tensor) or value.dim() < 2:
            raise ValueError(f"{name} must be a tensor with at least 2 dimensions, got {_describe(value)}")
    d = M.shape[-1]
    if M.shape[-2:] != (d, d) or writer.shape[-2] != d or reader.shape[-1] != d:
        raise ValueError(
            f"shapes do not chain: writer {tuple(writer.shape)} must be [..., d, k], reader "
            f"{tuple(reader.shape)} [..., r, d] and M {tuple(M.shape)} [..., d, d]"
        )
    inverse = torch.linalg.inv(M.double()).to(M.dtype)
    return M @ writer, reader @ inverse


def signed_permutations(n: int):
    """Every (signs, permutation) pair of size n, as tensors: 2ⁿ·n! of them (384 for n = 4)."""
    for order in itertools.permutations(range(n)):
        for signs in itertools.product((1.0, -1.0), repeat=n):
            yield torch.tensor(signs), torch.tensor(order)


def best_hadamard_unmixer(embedding: Tensor) -> tuple[Tensor, Tensor]:
    """Of all involutory mixers ``hadamard_mixer(d, signs, permutation)`` (every signed permutation),
    the one that makes the embedding's columns purest: ``(M, purity)`` with ``M: Tensor[d, d]`` and
    ``purity``: ``Tensor[d]``, the ``frequency_purity`` of ``embedding @ Mᵀ`` (the coordinates
    v' = M v of ``BilinearMLP.change_basis``). ``embedding``: ``Tensor[p, d]``, d a power of 2."""
    if not isinstance(embedding, Tensor) or embedding.dim() != 2:
        raise ValueError(f"embedding must be a tensor [p, d] (one model), got {_describe(embedding)}")
    d = embedding.shape[1]
    candidates = torch.stack(
        [hadamard_mixer(d, signs=signs, permutation=order) for signs, order in signed_permutations(d)]
    ).to(embedding)  # [n_candidates, d, d]
    purity = frequency_purity(embedding @ candidates.transpose(1, 2))  # [n_candidates, d]
    best = int(purity.mean(dim=1).argmax())
    return candidates[best], purity[best]


def sparse_solution(p: int, frequencies: list[int], *, unembed_scale: float = 1.0) -> dict[str, Tensor]:
    """The hand-built sparse Fourier solution of (a + b) mod p, as ``BilinearMLP`` weights.

    For each frequency w = 2πk/p: two embedding columns cos wx and sin wx, and four hidden units that
    each multiply one factor of a by one factor of b (cos·cos, sin·sin, sin·cos, cos·sin), so that
    ``cos w(a+b) = h₁ − h₂`` and ``sin w(a+b) = h₃ + h₄``; the unembedding reads
    ``logit_c = Σ_k cos w_k(a + b − c)`` (times ``unembed_scale``). Every L and R row is one-hot.
    Returns ``{"E": [p, 2K], "L": [4K, 4K], "R": [4K, 4K], "U": [p, 4K]}`` for K frequencies."""
    p = validation.integer("p", p, minimum=3)
    if not frequencies or any(isinstance(k, bool) or not isinstance(k, int) or not 0 < k < p / 2 for k in frequencies):
        raise ValueError(f"frequencies must be integers in 1 … {(p - 1) // 2}, got {frequencies}")
    K, residues = len(frequencies), torch.arange(p, dtype=torch.float64)
    E = torch.zeros(p, 2 * K, dtype=torch.float64)
    L = torch.zeros(4 * K, 4 * K, dtype=torch.float64)
    R = torch.zeros(4 * K, 4 * K, dtype=torch.float64)
    U = torch.zeros(p, 4 * K, dtype=torch.float64)
    d = 2 * K
    for i, k in enumerate(frequencies):
        w = 2 * math.pi * k / p
        cos, sin = 2 * i, 2 * i + 1  # this frequency's embedding columns
        E[:, cos], E[:, sin] = torch.cos(w * residues), torch.sin(w * residues)
        # hidden units 4i … 4i+3: a's factor from L's first half, b's from R's second half
        for unit, (from_a, from_b) in enumerate(((cos, cos), (sin, sin), (sin, cos), (cos, sin))):
            L[4 * i + unit, from_a] = 1.0
            R[4 * i + unit, d + from_b] = 1.0
        cos_c, sin_c = torch.cos(w * residues), torch.sin(w * residues)
        U[:, 4 * i : 4 * i + 4] = unembed_scale * torch.stack([cos_c, -cos_c, sin_c, sin_c], dim=1)
    return {name: value.float() for name, value in {"E": E, "L": L, "R": R, "U": U}.items()}


def scale_to_bound(weights: dict[str, Tensor], bound: float) -> tuple[dict[str, Tensor], float]:
    """Rescale each weight matrix so its largest entry is ±``bound``: the largest weights an entry-wise
    bound allows in the same directions. For the bilinear model (logits ∝ E² L R U) returns the
    scaled weights and the factor by which the logits grew."""
    bound = validation.finite_float("bound", bound, low=0.0, low_open=True)
    scaled, factor = {}, 1.0
    for name, value in weights.items():
        ratio = bound / float(value.abs().max())
        scaled[name] = value * ratio
        factor *= ratio ** (2 if name == "E" else 1)  # the embedding enters both factors
    return scaled, float(factor)


def mix_solution(weights: dict[str, Tensor], M: Tensor) -> dict[str, Tensor]:
    """The same network in the embedding coordinates v' = M v: ``E' = E Mᵀ`` and both halves (a's and
    b's) of L and R times ``M⁻¹``; U is unchanged, and so is every logit (``change_of_basis``).

    ``weights``: one model's ``{"E": [p, d], "L": [n, 2d], "R": [n, 2d], "U": [p, n]}`` (as from
    ``sparse_solution``); ``M``: ``Tensor[d, d]``, invertible. Returns the mixed weights, same shapes."""
    if not isinstance(weights, dict) or set(weights) != set("ELRU"):
        raise ValueError(f"weights must be a dict with keys E, L, R, U, got {_describe(weights)}")
    E = weights["E"]
    if not isinstance(M, Tensor) or M.dim() != 2 or not isinstance(E, Tensor) or E.dim() != 2:
        raise ValueError(f"E must be a Tensor[p, d] and M a Tensor[d, d], got {_describe(E)} and {_describe(M)}")
    d = E.shape[1]
    if M.shape != (d, d):
        raise ValueError(f"M must be a Tensor[d, d] with d = {d} (E's columns), got {_describe(M)}")
    for name in "LR":
        if weights[name].dim() != 2 or weights[name].shape[1] != 2 * d:
            raise ValueError(f"{name} must be a Tensor[n_hidden, 2d] with 2d = {2 * d}, got {_describe(weights[name])}")
    writer = E.T  # the embedding as a map from one-hot residues into R^d
    mixed = {"E": change_of_basis(writer, weights["L"][:, :d], M.to(E))[0].T, "U": weights["U"]}
    for name in "LR":
        halves = [
            change_of_basis(writer, weights[name][:, part], M.to(E))[1] for part in (slice(0, d), slice(d, 2 * d))
        ]
        mixed[name] = torch.cat(halves, dim=1)
    return mixed


def bounded_gain(weights: dict[str, Tensor], M: Tensor) -> float:
    """How much larger the logits of the M-mixed network are than the unmixed one's when each is scaled
    up to the same entry-wise bound (``scale_to_bound``): ``gain(mixed) / gain(unmixed)``. Both compute
    the same function, so this is the logit factor that mixing wins (> 1) or loses (< 1) under the
    bound. ``weights`` and ``M`` as in ``mix_solution``.

    For two frequencies mixed by a d = 4 Hadamard mixer it is between 2 and 4 (a theorem, derived in
    chapter 8): each one-hot row of L and R becomes a row of ``M⁻¹ = M`` with entries ±1/2 (a factor 2
    each), while each mixed embedding entry, ``(±cos w₁x ± sin w₁x ± cos w₂x ± sin w₂x)/2``, is at most
    ``√2`` and, at x = 0, some column reaches 1 (a factor between 1/2 and 1 for E, which enters twice)."""
    _, unmixed = scale_to_bound(weights, 1.0)
    _, mixed = scale_to_bound(mix_solution(weights, M), 1.0)
    return mixed / unmixed


def _describe(value: object) -> str:
    return f"shape {tuple(value.shape)}" if isinstance(value, Tensor) else type(value).__name__
