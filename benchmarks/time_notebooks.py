"""Execute every notebook (or the ones given) and print its wall time and the kernel's peak memory.

    python benchmarks/time_notebooks.py                        # all chapters, book profile
    SUPERPOSITION_PROFILE=paper python benchmarks/time_notebooks.py notebooks/01_*.ipynb

Each notebook runs in a fresh kernel, the way nbval and the book build run it. Peak memory is the
kernel process's maximum resident set size."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Runs in a child process so that RUSAGE_CHILDREN there covers exactly one kernel.
RUN_ONE = r"""
import json, resource, sys
import nbformat
from nbclient import NotebookClient
path = sys.argv[1]
notebook = nbformat.read(path, as_version=4)
NotebookClient(notebook, timeout=3600, kernel_name="python3", resources={"metadata": {"path": "notebooks"}}).execute()
print(json.dumps({"peak_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def run(path: Path) -> dict:
    env = {**os.environ, "SUPERPOSITION_PROGRESS": "0"}
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", RUN_ONE, str(path)], cwd=ROOT, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        tail = completed.stderr.strip().splitlines()[-5:]
        return {"notebook": path.name, "seconds": seconds, "peak_rss_mib": float("nan"), "error": " | ".join(tail)}
    stats = json.loads(completed.stdout.strip().splitlines()[-1])
    return {"notebook": path.name, "seconds": seconds, **stats}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: notebooks/*.ipynb")
    args = parser.parse_args()
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    profile = os.environ.get("SUPERPOSITION_PROFILE", "book")
    print(f"profile {profile!r}, {os.cpu_count()} CPUs, seed {os.environ.get('SUPERPOSITION_SEED', '0')}")
    print(f"{'notebook':<40} {'seconds':>8} {'peak RSS (MiB)':>15}")
    total, failed = 0.0, False
    for path in paths:
        row = run(path.resolve())
        total += row["seconds"]
        print(f"{row['notebook']:<40} {row['seconds']:>8.1f} {row['peak_rss_mib']:>15.0f}  {row.get('error', '')}")
        failed |= "error" in row
    print(f"{'total':<40} {total:>8.1f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
