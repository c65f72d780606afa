"""notebooks/conftest.py: a notebook that passes under nbval lands in the jupyter-cache with its outputs,
where the book build (execute_notebooks: cache) finds it; a notebook with a failing cell does not."""

import inspect
from pathlib import Path

import nbformat
import pytest

# Imported here, not lazily: pytester restores sys.modules after each test, and SQLAlchemy's compiled
# modules break when they are imported a second time in one process.
from jupyter_cache.cache.main import JupyterCacheBase
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from nbval.plugin import IPyNbCell, IPyNbFile

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


def run_nbval(pytester: pytest.Pytester, *sources: str) -> tuple[pytest.RunResult, nbformat.NotebookNode]:
    pytester.makeconftest((ROOT / "notebooks" / "conftest.py").read_text())
    notebook = new_notebook(
        cells=[new_markdown_cell("# A page"), *(new_code_cell(source) for source in sources)],
        metadata={"kernelspec": KERNELSPEC},
    )
    nbformat.write(notebook, pytester.path / "page.ipynb")
    result = pytester.runpytest_subprocess(
        "--nbval-lax", "--nbval-current-env", "--nb-cache", "cache", "-p", "no:cacheprovider", "page.ipynb"
    )
    return result, notebook


def test_a_passing_notebook_is_cached_with_the_outputs_nbval_collected(pytester):
    result, notebook = run_nbval(pytester, "print('hello')", "import sys; print('careful', file=sys.stderr)", "6 * 7")
    result.assert_outcomes(passed=3)
    _, merged = JupyterCacheBase(str(pytester.path / "cache")).merge_match_into_notebook(notebook)
    hello, careful, answer = (cell.outputs for cell in merged.cells[1:])
    assert hello == [{"output_type": "stream", "name": "stdout", "text": "hello\n"}]
    assert careful == [{"output_type": "stream", "name": "stderr", "text": "careful\n"}]
    assert answer[0]["output_type"] == "execute_result" and answer[0]["data"]["text/plain"] == "42"
    nbformat.validate(merged)


def test_a_notebook_with_a_failing_cell_is_not_cached(pytester):
    result, notebook = run_nbval(pytester, "x = 1", "raise ValueError('claim does not hold')")
    result.assert_outcomes(passed=1, failed=1)
    with pytest.raises(KeyError):
        JupyterCacheBase(str(pytester.path / "cache")).match_cache_notebook(notebook)


def test_the_nbval_internals_the_conftest_reads_are_still_there():
    # notebooks/conftest.py reads IPyNbCell.test_outputs and IPyNbFile.nb, which nbval does not document.
    # The tests above exercise the whole path; this one names what broke when an nbval upgrade breaks it.
    assert "self.test_outputs = outs" in inspect.getsource(IPyNbCell.runtest)
    assert "self.nb = " in inspect.getsource(IPyNbFile)
    assert "self.cell = cell" in inspect.getsource(IPyNbCell.__init__)
