"""Checked claims and glued numbers: how a chapter states a result and proves it held in this run.

``claim(...)`` checks one statement the prose makes and records it (statement, kind, measured values,
expected value and tolerance, source), so that the book's report page can list every claim with its
evidence; ``glue(...)`` hands a number to the prose."""

from __future__ import annotations

import csv
import json
import os
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

    The claim is recorded (``records()``) and, in a notebook, leaves a hidden output for the book's
    report page (``records_output``). Returns nothing, so a cell that ends with a claim shows no stray output."""
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


#: The name prefix of the hidden output that carries a cell's claim records into the book (see
#: ``records_output``); book/_ext/claims_report.py reads them back from the executed notebooks.
RECORD_KEY = "claim-records"
# myst-nb's "glue" format for a value kept out of the page: a mime type with this prefix and a
# "scrapbook" entry in the output's metadata. myst-nb removes such outputs before it renders a cell.
_HIDDEN_PREFIX = "application/papermill.record/"


def records_output(records: list[ClaimRecord]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The data and metadata of the hidden output that carries ``records``: a glue value named
    ``claim-records-<index of the first>`` whose text is the records' fields as JSON. The book does not render
    it (so it neither shows nor splits a cell's outputs), and Colab shows nothing for it."""
    if not records:
        raise ValueError("records must not be empty")
    name = f"{RECORD_KEY}-{records[0].index}"
    # JSON as text: notebook validators accept only strings under a mime type of this shape
    payload = json.dumps({"records": [asdict(record) for record in records]}, ensure_ascii=False)
    data = {_HIDDEN_PREFIX + "text/plain": payload}
    return data, {"scrapbook": {"name": name, "mime_prefix": _HIDDEN_PREFIX}}


def parse_records(data: dict[str, Any]) -> list[ClaimRecord]:
    """The records in an output's ``data`` as ``records_output`` wrote it (with or without the hidden
    prefix: myst-nb strips it); ``[]`` for any other output."""
    for mime in (_HIDDEN_PREFIX + "text/plain", "text/plain"):
        text = data.get(mime)
        if isinstance(text, list):  # a notebook file may store text as a list of lines
            text = "".join(text)
        if not isinstance(text, str) or '"records"' not in text:
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            continue
        if isinstance(value, dict) and isinstance(value.get("records"), list):
            return [ClaimRecord(**fields) for fields in value["records"]]
    return []


# A cell's records wait here and go out together once the cell has run (IPython's post_execute event).
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

    data, metadata = records_output(list(_pending))
    _pending.clear()
    display(data, raw=True, metadata=metadata)


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
    try:  # imported here: myst-nb is optional (absent in Colab) and pulls in Sphinx, too heavy for `import helpers`
        from myst_nb import glue as myst_glue
    except ImportError:
        return
    myst_glue(name, value, display=False)
