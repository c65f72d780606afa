"""Small tools for the chapters themselves: checked claims and numbers glued into the prose."""

from __future__ import annotations

import os
from typing import Any

#: What a claim that does not hold does (env ``SUPERPOSITION_CLAIMS``): ``"raise"`` (default: stop the
#: build) or ``"report"`` (print it with a ✘ and go on, so that one run shows every claim's outcome; for
#: the seed sweeps and negative controls in benchmarks/).
CLAIM_MODES = ("raise", "report")


def claim_mode() -> str:
    """``"raise"`` or ``"report"``, from env ``SUPERPOSITION_CLAIMS``."""
    value = os.environ.get("SUPERPOSITION_CLAIMS", "raise").strip().lower() or "raise"
    if value not in CLAIM_MODES:
        raise ValueError(f"SUPERPOSITION_CLAIMS must be one of {CLAIM_MODES}, got {value!r}")
    return value


class ClaimFailed(AssertionError):
    """A result the chapter's text states did not hold in this run."""


def _format(value: Any) -> str:
    if hasattr(value, "tolist"):  # tensors and numpy values: plain numbers or lists
        value = value.tolist()
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_format(v) for v in value) + "]"
    return str(value)


#: A claim's kind: a *finding* about trained models (it must fail on the alternative it rules out, an
#: untrained model among them), or a *demonstration* of something true by construction or by a theorem
#: (a sampler's statistics, a closed-form loss), which holds whatever training does.
KINDS = ("finding", "demonstration")


def claim(statement: str, holds: bool, *, kind: str = "finding", **measured: Any) -> None:
    """Check one claim the prose makes. Prints ``✔ statement (measured …)`` when it holds (a
    demonstration is marked ``✔ (demonstration) …``); raises ``ClaimFailed`` with the measured numbers
    when it does not, so CI stops on a broken claim (with ``SUPERPOSITION_CLAIMS=report`` it prints
    ``✘ statement …`` instead and returns). ``kind``: ``"finding"`` or ``"demonstration"`` (``KINDS``)."""
    mode = claim_mode()
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    label = f"({kind}) " if kind == "demonstration" else ""
    numbers = ", ".join(f"{name} = {_format(value)}" for name, value in measured.items())
    suffix = f"  [{numbers}]" if numbers else ""
    if not bool(holds):
        if mode == "report":
            print(f"✘ {label}{statement}{suffix}")
            return
        raise ClaimFailed(f"claim does not hold: {label}{statement}{suffix}")
    print(f"✔ {label}{statement}{suffix}")


def glue(name: str, value: Any) -> None:
    """Make ``value`` available to the book's prose as ``{glue:text}`name``` or, formatted,
    ``{glue:text}`name:.3f``` (Jupyter Book's glue). Tensors and numpy scalars become Python numbers.

    Returns nothing, so a cell that ends with ``glue(...)`` shows no stray output in the book. Outside
    a book build (Colab, a plain Jupyter) myst-nb may be missing; then this does nothing."""
    if hasattr(value, "item"):
        value = value.item()
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        return
    myst_glue(name, value, display=False)
