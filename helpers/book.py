"""Small tools for the chapters themselves: checked claims and numbers glued into the prose."""

from __future__ import annotations

from typing import Any


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


def claim(statement: str, holds: bool, **measured: Any) -> None:
    """Check one claim the prose makes. Prints ``✔ statement (measured …)`` when it holds; raises
    ``ClaimFailed`` with the measured numbers when it does not, so CI stops on a broken claim."""
    numbers = ", ".join(f"{name} = {_format(value)}" for name, value in measured.items())
    suffix = f"  [{numbers}]" if numbers else ""
    if not bool(holds):
        raise ClaimFailed(f"claim does not hold: {statement}{suffix}")
    print(f"✔ {statement}{suffix}")


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
