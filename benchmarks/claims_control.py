"""Run chapters under a negative control and record which claims still hold, in book/data/claims_control.csv.

    python benchmarks/claims_control.py                        # every chapter, models left untrained
    python benchmarks/claims_control.py notebooks/07_*.ipynb   # one chapter

With ``--control untrained`` (the default) every training loop runs with its learning rate scaled to
nearly zero, so the models stay at their initialisation. Every *finding* must fail there; a claim that
still holds is true by construction (a demonstration) or does not test what it says. With ``--control
norm-matched`` the models train, then every weight column gets a random direction with its trained norm
(``helpers.controls``): findings about the geometry training found fail there, findings about norms
alone may hold. Each chapter replaces its rows in the file as soon as it ends; the book's report page shows them."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from claims_run import ROOT, chapter_notebooks, run

RESULTS = ROOT / "book" / "data" / "claims_control.csv"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter")
    parser.add_argument("--control", default="untrained", choices=["untrained", "norm-matched"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--csv", type=Path, default=RESULTS)
    args = parser.parse_args()
    notebooks = args.notebooks or chapter_notebooks()
    for path in notebooks:
        run(path.resolve(), args.seed, args.control, None, args.csv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
