"""Run chapters for several base seeds and record every claim's outcome in book/data/claims_seeds.csv.

    python benchmarks/claims_seeds.py                                  # every chapter, seeds 0-9
    python benchmarks/claims_seeds.py notebooks/03_*.ipynb --seeds 0 1  # one chapter, two seeds

Each (chapter, seed) runs in a fresh kernel in the book profile with claims reported instead of raised
(benchmarks/claims_run.py) and replaces its rows in the file as soon as it ends, so an interrupted sweep
keeps what it measured. The whole sweep takes well over an hour on two cores: run it in the background.
The book's report page shows each claim's pass rate from this file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from claims_run import ROOT, chapter_notebooks, run

RESULTS = ROOT / "book" / "data" / "claims_seeds.csv"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter")
    parser.add_argument("--seeds", nargs="+", type=int, default=list(range(10)))
    parser.add_argument("--csv", type=Path, default=RESULTS)
    args = parser.parse_args()
    notebooks = args.notebooks or chapter_notebooks()
    for path in notebooks:
        for seed in args.seeds:
            run(path.resolve(), seed, "none", None, args.csv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
