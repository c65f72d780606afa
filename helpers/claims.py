"""Checked claims and glued numbers: how a chapter states a result and proves it held in this run.

``claim(...)`` checks one statement the prose makes and records it (statement, kind, measured values,
expected value and tolerance, source), so that the book's report page can list every claim with its
evidence; ``glue(...)`` hands a number to the prose."""

from __future__ import annotations

import csv
import html
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: What a claim that does not hold does (env ``SUPERPOSITION_CLAIMS``): ``"raise"`` (default: stop the
#: build) or ``"report"`` (print it with a ✘ and go on, so that one run shows every claim's outcome; for
#: the seed sweeps and negative controls in benchmarks/).
CLAIM_MODES = ("raise", "report")

#: A claim's kind: a *finding* about trained models (it must fail on the alternative it rules out, an
#: untrained model among them), or a *demonstration* of something true by construction or by a theorem
#: (a sampler's statistics, a closed-form loss), which holds whatever training does.
KINDS = ("finding", "demonstration")

#: The HTML class of the invisible element a claim leaves in a notebook's output, which the book's
#: report extension (book/_ext/claims_report.py) collects.
RECORD_CLASS = "claim-record"


def claim_mode() -> str:
    """``"raise"`` or ``"report"``, from env ``SUPERPOSITION_CLAIMS``."""
    value = os.environ.get("SUPERPOSITION_CLAIMS", "raise").strip().lower() or "raise"
    if value not in CLAIM_MODES:
        raise ValueError(f"SUPERPOSITION_CLAIMS must be one of {CLAIM_MODES}, got {value!r}")
    return value


class ClaimFailed(AssertionError):
    """A result the chapter's text states did not hold in this run."""


@dataclass(frozen=True)
class ClaimRecord:
    """One checked claim, as the report shows it. ``measured`` maps names to formatted values."""

    index: int
    statement: str
    kind: str
    holds: bool
    measured: dict[str, str] = field(default_factory=dict)
    expected: str | None = None
    tolerance: str | None = None
    source: str | None = None

    @property
    def anchor(self) -> str:
        """The HTML id of the claim's place in its chapter."""
        return f"claim-{self.index}"


_records: list[ClaimRecord] = []


def records() -> list[ClaimRecord]:
    """The claims checked so far in this process (kernel), in order."""
    return list(_records)


def clear_records() -> None:
    """Forget the recorded claims (for tests)."""
    _records.clear()


def _format(value: Any) -> str:
    if hasattr(value, "tolist"):  # tensors and numpy values: plain numbers or lists
        value = value.tolist()
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_format(v) for v in value) + "]"
    return str(value)


def _optional_text(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        if not value.strip():
            raise ValueError(f"{name} must be a non-empty string or None")
        return value
    return _format(value)


def claim(
    statement: str,
    holds: bool,
    *,
    kind: str = "finding",
    source: str | None = None,
    expected: Any = None,
    tolerance: Any = None,
    **measured: Any,
) -> None:
    """Check one claim the prose makes. Prints ``✔ statement [measured …]`` when it holds (a
    demonstration is marked ``✔ (demonstration) …``); raises ``ClaimFailed`` with the measured numbers
    when it does not, so CI stops on a broken claim (with ``SUPERPOSITION_CLAIMS=report`` it prints
    ``✘ statement …`` instead and returns).

    ``kind``: ``"finding"`` or ``"demonstration"`` (``KINDS``). ``source``: where the claim or its
    threshold comes from (a paper's section, a study's sentence, a closed form). ``expected`` and
    ``tolerance``: the value the claim compares with and how close it must be, where it has one.
    Every other keyword is a measured value, shown beside the statement.

    The claim is recorded (``records()``) and, in a notebook, leaves an invisible element for the book's
    report page. Returns nothing, so a cell that ends with a claim shows no stray output."""
    if not isinstance(statement, str) or not statement.strip():
        raise ValueError("statement must be a non-empty string")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    mode = claim_mode()
    record = ClaimRecord(
        index=len(_records),
        statement=statement,
        kind=kind,
        holds=bool(holds),
        measured={name: _format(value) for name, value in measured.items()},
        expected=_optional_text("expected", expected),
        tolerance=_optional_text("tolerance", tolerance),
        source=_optional_text("source", source),
    )
    _records.append(record)
    _leave_record(record)
    label = f"({kind}) " if kind == "demonstration" else ""
    numbers = ", ".join(f"{name} = {value}" for name, value in record.measured.items())
    suffix = f"  [{numbers}]" if numbers else ""
    if not record.holds:
        if mode == "report":
            print(f"✘ {label}{statement}{suffix}")
            return
        raise ClaimFailed(f"claim does not hold: {label}{statement}{suffix}")
    print(f"✔ {label}{statement}{suffix}")


def record_html(record: ClaimRecord) -> str:
    """The invisible element that carries ``record`` into the built book: an empty ``<span>`` with the
    claim's anchor id and its fields as JSON in ``data-claim``."""
    payload = html.escape(json.dumps(asdict(record), ensure_ascii=False), quote=True)
    return f'<span class="{RECORD_CLASS}" id="{record.anchor}" data-claim="{payload}"></span>'


_RECORD_PATTERN = re.compile(rf'<span class="{RECORD_CLASS}" id="[^"]*" data-claim="([^"]*)"></span>')


def parse_records_html(text: str) -> list[ClaimRecord]:
    """The records in elements written by ``record_html`` (any number, in order; none: ``[]``)."""
    return [ClaimRecord(**json.loads(html.unescape(payload))) for payload in _RECORD_PATTERN.findall(text)]


# A cell's records wait here and are shown together once the cell has run (IPython's post_execute
# event), so that they do not split the cell's printed ✔ lines into one output box each.
_pending: list[ClaimRecord] = []
_hooked_shells: set[int] = set()


def _leave_record(record: ClaimRecord) -> None:
    # Only inside a running IPython kernel (a notebook): elsewhere there is no output to carry it.
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return
    _pending.append(record)
    if id(shell) not in _hooked_shells:
        shell.events.register("post_execute", _show_pending_records)
        _hooked_shells.add(id(shell))


def _show_pending_records() -> None:
    if not _pending:
        return
    from IPython.display import display

    elements = "".join(record_html(record) for record in _pending)
    _pending.clear()
    display({"text/html": f'<div class="{RECORD_CLASS}s">{elements}</div>', "text/plain": ""}, raw=True)


#: The columns of the committed claim results (book/data/): one row per claim and run. ``run`` is the
#: base seed in claims_seeds.csv and the control's name in claims_control.csv.
RESULT_COLUMNS = ("chapter", "claim", "kind", "run", "holds", "commit", "date")


def write_results(path: str | Path, rows: list[dict[str, Any]]) -> None:
    """Write claim results (dicts with ``RESULT_COLUMNS``) to a CSV file, replacing it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=RESULT_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            missing = set(RESULT_COLUMNS) - set(row)
            if missing:
                raise ValueError(f"rows must have the columns {RESULT_COLUMNS}; one lacks {sorted(missing)}")
            writer.writerow({column: row[column] for column in RESULT_COLUMNS})


def read_results(path: str | Path) -> list[dict[str, str]]:
    """The rows of a claim-results CSV file, or ``[]`` if it does not exist. Raises ``ValueError`` if its
    columns are not ``RESULT_COLUMNS`` or a ``holds`` is not 0 or 1."""
    path = Path(path)
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != RESULT_COLUMNS:
            raise ValueError(f"{path}: columns must be {RESULT_COLUMNS}, got {reader.fieldnames}")
        rows = list(reader)
    for number, row in enumerate(rows, start=2):
        if row["holds"] not in ("0", "1") or row["kind"] not in KINDS:
            raise ValueError(f"{path}, line {number}: holds must be 0 or 1 and kind one of {KINDS}")
    return rows


def pass_rate(rows: list[dict[str, str]], chapter: str, statement: str, run: str | None = None) -> tuple[int, int]:
    """How many of the runs of one claim held: ``(held, runs)``, over the rows of ``chapter`` whose
    ``claim`` is ``statement`` (and whose ``run`` is ``run``, if given). ``(0, 0)``: not measured."""
    matching = [
        row
        for row in rows
        if row["chapter"] == chapter and row["claim"] == statement and (run is None or row["run"] == run)
    ]
    return sum(row["holds"] == "1" for row in matching), len(matching)


def describe_rate(rate: tuple[int, int], held: str = "", failed: str = "") -> str:
    """``rate`` from ``pass_rate`` for a reader: "10/10", "not yet measured", or, with ``held`` and
    ``failed`` for a single run, those words."""
    count, runs = rate
    if runs == 0:
        return "not yet measured"
    if runs == 1 and held and failed:
        return held if count else failed
    return f"{count}/{runs}"


def describe_measurements(rows: list[dict[str, str]], what: str) -> str:
    """One sentence on what a results file covers: its runs, commits and dates."""
    if not rows:
        return f"No {what} are committed yet: every claim shows as not yet measured."
    runs = sorted(
        {row["run"] for row in rows}, key=lambda run: (not run.isdigit(), int(run) if run.isdigit() else 0, run)
    )
    dates = sorted({row["date"] for row in rows})
    span = dates[0] if dates[0] == dates[-1] else f"{dates[0]} to {dates[-1]}"
    return (
        f"The {what} cover {len({row['chapter'] for row in rows})} chapters and runs {', '.join(runs)}, "
        f"measured on {span} at commit {', '.join(sorted({row['commit'] for row in rows}))}."
    )


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
