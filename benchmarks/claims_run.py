"""Run chapters with every claim reported instead of raised, and list each claim's outcome.

    python benchmarks/claims_run.py notebooks/01_*.ipynb --seeds 0 1 2
    python benchmarks/claims_run.py notebooks/02_*.ipynb --control untrained

Each (notebook, seed) runs in a fresh kernel with ``SUPERPOSITION_CLAIMS=report``, so a claim that does
not hold prints ``✘`` and the chapter goes on; a cell that raises is reported and the rest still run.
Prints one line per claim (``✔``/``✘``) and a summary per run; ``--out DIR`` also keeps the executed
notebooks, and ``--csv FILE`` merges each run's claims into a results file (``helpers.claims.RESULT_COLUMNS``;
rows of the same chapter and run are replaced), written after every run so that a long sweep keeps what
it has measured. benchmarks/claims_seeds.py and benchmarks/claims_control.py write the book's files."""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from helpers import claims as claims_module
from helpers.runtime import CONTROLS

ROOT = Path(__file__).resolve().parents[1]
MARKS = ("✔ ", "✘ ")


def outcomes(notebook) -> tuple[list[tuple[int, str]], list[str]]:
    """The claim lines (cell index, line) and the errors of an executed notebook."""
    claims, errors = [], []
    for index, cell in enumerate(notebook.cells):
        checks_claims = cell.cell_type == "code" and "claim(" in cell.source  # not the exercises' checks
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and checks_claims:
                claims += [(index, line) for line in output["text"].splitlines() if line.startswith(MARKS)]
            elif output.get("output_type") == "error":
                errors.append(f"cell {index}: {output['ename']}: {output['evalue'][:300]}")
    return claims, errors


def chapter_notebooks() -> list[Path]:
    """Every chapter notebook, in order: the default of the seed and control sweeps."""
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def records(notebook) -> list[claims_module.ClaimRecord]:
    """The structured claims an executed notebook recorded (see ``helpers.claims.records_output``)."""
    found = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            found += claims_module.parse_records(output.get("data", {}))
    return found


def commit() -> str:
    """The checked-out commit, marked ``-dirty`` when tracked files differ from it."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True)
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def merge_results(csv_path: Path, chapter: str, run_name: str, found: list[claims_module.ClaimRecord]) -> None:
    """Replace the rows of (chapter, run) in ``csv_path`` with ``found``."""
    kept = [row for row in claims_module.read_results(csv_path) if (row["chapter"], row["run"]) != (chapter, run_name)]
    stamp = {"commit": commit(), "date": datetime.datetime.now(datetime.timezone.utc).date().isoformat()}
    new = [
        {"chapter": chapter, "claim": r.statement, "kind": r.kind, "run": run_name, "holds": int(r.holds), **stamp}
        for r in found
    ]
    claims_module.write_results(csv_path, kept + new)


def run(path: Path, seed: int, control: str, out: Path | None, csv_path: Path | None = None) -> tuple[int, int, float]:
    os.environ.update(
        SUPERPOSITION_SEED=str(seed),
        SUPERPOSITION_CONTROL=control,
        SUPERPOSITION_CLAIMS="report",
        SUPERPOSITION_PROGRESS="0",
    )
    notebook = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    client = NotebookClient(
        notebook, timeout=3600, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": "notebooks"}}
    )
    client.execute()
    seconds = time.perf_counter() - started
    claims, errors = outcomes(notebook)
    held = sum(line.startswith("✔") for _, line in claims)
    print(f"## {path.name} seed {seed} control {control}: {held}/{len(claims)} claims hold, {seconds:.0f} s")
    for index, line in claims:
        print(f"   [{index:2d}] {line}")
    for error in errors:
        print(f"   ERROR {error}")
    if csv_path is not None:
        found = records(notebook)
        if errors or not found:
            print(f"   not written to {csv_path}: the run raised or recorded no claims")
        else:
            merge_results(csv_path, path.stem, str(seed) if control == "none" else control, found)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, out / f"{path.stem}.seed{seed}.{control}.ipynb")
    sys.stdout.flush()
    return held, len(claims), seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--control", default="none", choices=list(CONTROLS))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--csv", type=Path, default=None, help="merge every run's claims into this results file")
    args = parser.parse_args()
    for path in args.notebooks:
        for seed in args.seeds:
            run(path.resolve(), seed, args.control, args.out, args.csv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
