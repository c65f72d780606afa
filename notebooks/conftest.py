"""Run each notebook once in CI: nbval executes it, and the outputs it collected go to the book build.

With ``--nb-cache PATH``, every notebook whose cells all pass under nbval is stored with those outputs in
the jupyter-cache at PATH. ``jupyter-book build`` (``execute_notebooks: cache`` in ``_config.yml``) then
finds each notebook there and renders the outputs instead of executing it a second time. A notebook that
nbval did not run in full is not stored, so the book build executes it itself. ``make test`` passes the
option, after emptying the cache, so the published outputs are always those of the run that just passed.

nbval has no public API for the outputs it collects, so this file reads three of its internals: the item
class ``IPyNbCell``, its ``test_outputs`` (the outputs of the run) and its parent's ``nb`` (the notebook).
They are used directly, never looked up with a fallback, so an nbval release that changes them stops the
run with an error here instead of caching nothing (tests/test_notebook_cache.py checks both the names and
the whole path; requirements.txt pins nbval).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from nbval.plugin import IPyNbCell

_RUNS = pytest.StashKey[dict]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--nb-cache",
        default=None,
        metavar="PATH",
        help="store every notebook that passes under nbval, with its outputs, in the jupyter-cache at PATH",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_RUNS] = {}


def _as_output(raw: dict) -> nbformat.NotebookNode:
    """One output as nbval collected it (an iopub message's content) -> an nbformat v4 output."""
    kind = raw["output_type"]
    if kind == "stream":
        return nbformat.v4.new_output(kind, name=raw["name"], text=raw["text"])
    if kind == "error":
        return nbformat.v4.new_output(kind, ename=raw["ename"], evalue=raw["evalue"], traceback=raw["traceback"])
    if kind == "execute_result":
        return nbformat.v4.new_output(
            kind, data=raw["data"], metadata=raw["metadata"], execution_count=raw.get("execution_count")
        )
    return nbformat.v4.new_output(kind, data=raw["data"], metadata=raw["metadata"])


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    outcome = yield
    if call.when != "call" or not isinstance(item, IPyNbCell):
        return
    report = outcome.get_result()
    run = item.config.stash[_RUNS].setdefault(item.parent.path, {"notebook": item.parent.nb, "passed": 0})
    if report.passed:
        run["passed"] += 1
        if item.test_outputs is None:  # nbval 0.11 sets it to a list whenever it runs a cell
            raise RuntimeError(
                f"nbval passed {item.name} without collecting its outputs (IPyNbCell.test_outputs is None): "
                "this nbval release works differently, so notebooks/conftest.py cannot cache the run"
            )
        item.cell.outputs = [_as_output(output) for output in item.test_outputs]
        item.cell.execution_count = run["passed"]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    cache_path = session.config.getoption("--nb-cache")
    if not cache_path:
        return
    cache = get_cache(str(Path(cache_path).resolve()))
    for path, run in session.config.stash[_RUNS].items():
        notebook = run["notebook"]
        code_cells = sum(cell.cell_type == "code" for cell in notebook.cells)
        if run["passed"] != code_cells:
            continue
        cache.cache_notebook_bundle(CacheBundleIn(notebook, str(path)), check_validity=False, overwrite=True)
