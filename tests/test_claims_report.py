"""book/_ext/claims_report.py: the report page, built by Sphinx from claims left in notebook outputs, and
the committed claim results it reads (book/data/)."""

import ast
import io
import json
import re
from pathlib import Path

import nbformat
import pytest
from sphinx.application import Sphinx

from helpers import claims

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "book" / "data"


def chapter_notebook(records):
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.metadata["language_info"] = {"name": "python"}
    notebook.cells = [nbformat.v4.new_markdown_cell("# A chapter")]
    # a figure cell: myst-nb names every rendered display output of it, so the records must not render
    cell = nbformat.v4.new_code_cell("claim(...)", metadata={"mystnb": {"figure": {"name": "fig-claims"}}})
    data, metadata = claims.records_output(records)
    cell.outputs = [nbformat.v4.new_output("display_data", data=data, metadata=metadata)]
    notebook.cells.append(cell)
    return notebook


def build(tmp_path, records, seeds_rows=()):
    source = tmp_path / "src"
    (source / "book" / "data").mkdir(parents=True)
    extensions = Path(ROOT / "book" / "_ext")
    (source / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(extensions)!r})\n"
        "extensions = ['myst_nb', 'claims_report']\nnb_execution_mode = 'off'\n"
    )
    (source / "index.md").write_text("# Book\n\n```{toctree}\n01_chapter\nreport\n```\n")
    (source / "report.md").write_text("# What this book checks\n\n```{claims-report}\n```\n")
    nbformat.write(chapter_notebook(records), source / "01_chapter.ipynb")
    if seeds_rows:
        claims.write_results(source / "book" / "data" / "claims_seeds.csv", list(seeds_rows))
    out = tmp_path / "html"
    warnings = io.StringIO()
    app = Sphinx(source, source, out, tmp_path / "doctrees", "html", status=None, warning=warnings, freshenv=True)
    app.build()
    assert "WARNING" not in warnings.getvalue(), warnings.getvalue()
    return (out / "report.html").read_text()


def test_the_report_lists_each_claim_with_its_evidence_and_links_to_it(tmp_path):
    finding = claims.ClaimRecord(0, "D* is near 1", "finding", True, {"D_star": "0.98"}, "1", "±0.05", "TMS §3")
    demonstration = claims.ClaimRecord(1, "M² = I", "demonstration", True)
    row = {"chapter": "01_chapter", "claim": "D* is near 1", "kind": "finding", "commit": "abc", "date": "2026-12-03"}
    seeds = [{**row, "run": "0", "holds": 1}, {**row, "run": "1", "holds": 0}]
    page = build(tmp_path, [finding, demonstration], seeds)
    assert 'href="01_chapter.html#:~:text=D%2A%20is%20near%201"' in page and "D* is near 1" in page
    assert "D_star = 0.98" in page and "1 (±0.05)" in page and "TMS §3" in page
    assert "1/2" in page  # the seed pass rate
    assert page.count("<p>not yet measured</p>") == 3  # the demonstration's seeds, both untrained entries
    assert "2 claims: 1 findings and 1 demonstrations" in page


def test_results_files_are_checked_when_read(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text("chapter,claim,seed,holds\n01,x,0,1\n")
    with pytest.raises(ValueError, match="columns"):
        claims.read_results(path)
    row = {"chapter": "01", "claim": "x", "kind": "finding", "run": "0", "holds": 2, "commit": "a", "date": "d"}
    claims.write_results(path, [row])
    with pytest.raises(ValueError, match="holds must be 0 or 1"):
        claims.read_results(path)
    with pytest.raises(ValueError, match="columns"):
        claims.write_results(path, [{"chapter": "01"}])
    assert claims.read_results(tmp_path / "missing.csv") == []
    assert claims.pass_rate([], "01", "x") == (0, 0)
    assert claims.describe_rate((0, 0)) == "not yet measured"


def notebook_claims(path):
    """The statements of a notebook's claim calls, as patterns (an f-string's fields match anything), each
    with whether it runs in the book profile (not under an ``if`` on ``helpers.profile()``)."""
    patterns = []
    for cell in json.loads(path.read_text())["cells"]:
        code = "".join(cell["source"])
        if cell["cell_type"] != "code" or "claim(" not in code:
            continue
        tree = ast.parse(code)
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "claim":
                statement = node.args[0]
                if isinstance(statement, ast.Constant):
                    pattern = re.escape(statement.value)
                else:
                    pattern = "".join(
                        re.escape(v.value) if isinstance(v, ast.Constant) else ".+" for v in statement.values
                    )
                ancestor, in_book = node, True
                while ancestor in parents:
                    ancestor = parents[ancestor]
                    if isinstance(ancestor, ast.If) and "profile()" in ast.unparse(ancestor.test):
                        in_book = False
                patterns.append((pattern, in_book))
    return patterns


@pytest.mark.parametrize("name", ["claims_seeds.csv", "claims_control.csv"])
def test_committed_results_are_well_formed_and_cover_every_claim_of_every_chapter(name):
    rows = claims.read_results(DATA / name)
    if not rows:
        pytest.skip(f"book/data/{name} is not committed yet")
    chapters = {row["chapter"] for row in rows}
    for notebook in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        assert notebook.stem in chapters, f"{name} has no results for {notebook.stem}"
    for chapter in chapters:
        notebook = ROOT / "notebooks" / f"{chapter}.ipynb"
        assert notebook.exists(), f"{name} names a chapter that does not exist: {chapter}"
        measured = [row["claim"] for row in rows if row["chapter"] == chapter]
        patterns = notebook_claims(notebook)
        for statement in measured:
            assert any(re.fullmatch(p, statement) for p, _ in patterns), f"{chapter}: stale claim {statement!r}"
        for pattern, in_book in patterns:
            # the data are measured in the book profile; a claim made only in the paper profile has none
            if in_book:
                assert any(re.fullmatch(pattern, s) for s in measured), f"{chapter}: no results for {pattern!r}"


@pytest.mark.parametrize("path", sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.stem)
def test_every_claim_names_its_source(path):
    for cell in json.loads(path.read_text())["cells"]:
        code = "".join(cell["source"])
        if cell["cell_type"] != "code" or "claim(" not in code:
            continue
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "claim":
                keywords = {keyword.arg for keyword in node.keywords}
                assert "source" in keywords, f"{path.stem}: claim without source= at line {node.lineno} of a cell"
