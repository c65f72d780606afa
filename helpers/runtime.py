"""Run-time settings read from the environment (base seed, profile, device, progress bars, controls), and
the allocator tuning the book's runs ask for."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

import torch

PROFILES = ("book", "paper")
#: Negative controls (env ``SUPERPOSITION_CONTROL``): ``"untrained"`` runs every training loop with the
#: learning rate scaled by ``UNTRAINED_LR_FACTOR``, so each model keeps its initial weights while the
#: chapter's code, seeds and claims run unchanged. A finding about trained models must fail there.
#: ``"norm-matched"`` trains as usual, then gives every weight column a random direction with its trained
#: norm (``helpers.controls``): a finding about the geometry training found must fail there too.
CONTROLS = ("none", "untrained", "norm-matched")
UNTRAINED_LR_FACTOR = 1e-9


def base_seed() -> int:
    """The base seed every notebook derives its seeds from: env ``SUPERPOSITION_SEED``, default 0."""
    raw = os.environ.get("SUPERPOSITION_SEED", "0").strip() or "0"
    try:
        seed = int(raw)
    except ValueError:
        raise ValueError(f"SUPERPOSITION_SEED must be a non-negative integer, got {raw!r}") from None
    if seed < 0:
        raise ValueError(f"SUPERPOSITION_SEED must be a non-negative integer, got {seed}")
    return seed


def profile() -> str:
    """The size profile: env ``SUPERPOSITION_PROFILE``, ``"book"`` (default, minutes on a CPU) or
    ``"paper"`` (the sources' sizes and step counts, for a GPU or a patient CPU)."""
    value = os.environ.get("SUPERPOSITION_PROFILE", "book").strip().lower() or "book"
    if value not in PROFILES:
        raise ValueError(f"SUPERPOSITION_PROFILE must be one of {PROFILES}, got {value!r}")
    return value


def control() -> str:
    """The negative control the book runs under: env ``SUPERPOSITION_CONTROL``, ``"none"`` (default),
    ``"untrained"`` (every model stays at its initialisation) or ``"norm-matched"`` (trained norms, random
    directions); see ``CONTROLS``."""
    value = os.environ.get("SUPERPOSITION_CONTROL", "none").strip().lower() or "none"
    if value not in CONTROLS:
        raise ValueError(f"SUPERPOSITION_CONTROL must be one of {CONTROLS}, got {value!r}")
    return value


def lr_scale() -> float:
    """What the trainers multiply the learning rate by: 1, or nearly 0 under the untrained control."""
    return UNTRAINED_LR_FACTOR if control() == "untrained" else 1.0


def default_device(device: str | torch.device | None = None) -> torch.device:
    """The device the notebooks train on: ``device`` if given, else env ``SUPERPOSITION_DEVICE``, else
    CUDA if available, else CPU. Asking for CUDA or MPS where there is none is an error.

    Apple's MPS is never chosen by default: it has no float64, which chapters 04 and 08 and some metrics
    use (effective ranks, the Fourier basis, exact logits), and at the book's sizes an Apple CPU trains as
    fast. ``SUPERPOSITION_DEVICE=mps`` asks for it anyway, for experiments in float32 only."""
    forced = device if device is not None else os.environ.get("SUPERPOSITION_DEVICE", "").strip()
    if forced:
        source = "device" if device is not None else "SUPERPOSITION_DEVICE"
        try:
            chosen = torch.device(forced)
        except (RuntimeError, TypeError) as error:
            raise ValueError(f"{source} must name a torch device such as 'cpu' or 'cuda', got {forced!r}") from error
        if chosen.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"{source} asks for {forced!r}, but this PyTorch sees no CUDA device; use 'cpu'")
        if chosen.type == "mps" and not _mps_available():
            raise ValueError(f"{source} asks for {forced!r}, but this PyTorch sees no MPS device; use 'cpu'")
        return chosen
    if torch.cuda.is_available():
        return torch.device("cuda")
    return torch.device("cpu")


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return mps is not None and mps.is_available()


def progress_enabled() -> bool:
    """Progress bars show in notebooks and terminals, but not in CI (env ``CI`` set) or when
    ``SUPERPOSITION_PROGRESS=0``."""
    setting = os.environ.get("SUPERPOSITION_PROGRESS", "").strip().lower()
    if setting in ("0", "false", "no", "off"):
        return False
    if setting in ("1", "true", "yes", "on"):
        return True
    if os.environ.get("CI"):
        return False
    if "ipykernel" in sys.modules:
        return True
    return sys.stderr.isatty()


def tune_allocator() -> bool:
    """Keep freed memory in the process for reuse (glibc on Linux only; no-op elsewhere).

    PyTorch on a CPU allocates a fresh tensor for most operations. glibc serves large blocks with
    mmap and returns them to the system on free, so every new multi-MB tensor is page-faulted in
    again (book/performance.md measures the cost). Raising the mmap and trim thresholds to 1 GiB lets
    the heap reuse those blocks; a single arena keeps worker threads from holding freed blocks in
    arenas of their own.

    This changes the whole process, so importing ``helpers`` never does it: the book's notebooks and
    benchmarks call it in their setup. ``SUPERPOSITION_TUNE_MALLOC=0`` makes the call a no-op.
    Returns whether the allocator was tuned."""
    if os.environ.get("SUPERPOSITION_TUNE_MALLOC", "1").strip() in ("0", "false", "no", "off"):
        return False
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # not glibc (e.g. musl)
        return False
    m_trim_threshold, m_mmap_threshold, m_arena_max = -1, -3, -8
    one_gib = 1 << 30
    # One arena: with the thresholds raised, each extra arena that a worker thread allocates in keeps
    # its own freed blocks, and a loop of large temporaries grew the process by ~40 MB per iteration.
    return (
        bool(mallopt(m_arena_max, 1))
        and bool(mallopt(m_mmap_threshold, one_gib))
        and bool(mallopt(m_trim_threshold, one_gib))
    )
