"""The book's structure: every notebook is in the table of contents, committed without outputs, starts
with the Colab install cell pointing at the one repository URL of _config.yml, and seeds from the base
seed."""

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def load(path):
    return json.loads(path.read_text())


def toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc["parts"]:
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


def repository_url():
    return yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found in notebooks/"


def test_toc_lists_every_notebook_and_every_entry_exists():
    files = toc_files()
    for notebook in NOTEBOOKS:
        assert f"notebooks/{notebook.stem}" in files, f"{notebook.name} is missing from _toc.yml"
    for entry in files:
        assert (ROOT / f"{entry}.md").exists() or (ROOT / f"{entry}.ipynb").exists(), f"{entry} does not exist"


def test_chapters_are_numbered_in_order():
    chapters = [f for f in toc_files() if f.startswith("notebooks/")]
    assert chapters == sorted(chapters)
    assert all(re.fullmatch(r"notebooks/\d\d_[a-z0-9_]+", f) for f in chapters)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_committed_without_outputs(path):
    for cell in load(path)["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, f"{path.name} has outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_colab_install_cell_and_badge_use_the_configured_repository(path):
    cells = load(path)["cells"]
    first = cells[0]
    source = "".join(first["source"])
    assert first["cell_type"] == "code" and "remove-cell" in first["metadata"].get("tags", [])
    assert '"google.colab" in sys.modules' in source
    assert f'--no-deps "git+{repository_url()}.git"' in source
    badge = next("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    colab = repository_url().replace("https://github.com/", "https://colab.research.google.com/github/")
    assert f"({colab}/blob/main/notebooks/{path.name})" in badge


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_seeds_from_the_base_seed(path):
    code = "\n".join("".join(c["source"]) for c in load(path)["cells"] if c["cell_type"] == "code")
    assert "seed = helpers.base_seed()" in code
    assert "manual_seed(0)" not in code and "seed=0" not in code, "use the base seed, not a fixed one"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_chapter_checks_claims_and_has_exercises(path):
    cells = load(path)["cells"]
    claim_cells = [c for c in cells if c["cell_type"] == "code" and "claim(" in "".join(c["source"])]
    assert claim_cells, f"{path.name} checks no claims"
    assert all({"hide-input", "remove-input"} & set(c["metadata"].get("tags", [])) for c in claim_cells)
    markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert markdown.count("{exercise}") >= 3
    assert markdown.count("{solution}") == markdown.count("{exercise}")


# What LaTeX commands look like after a Python string ate their backslash: "\r" of \rVert became a
# line break, "\t" of \times a tab, "\f" of \frac a form feed, "\b" of \beta a backspace.
ESCAPE_DAMAGE = re.compile(r"^(Vert|ightarrow|imes|ext\{|rac\{|eta\b|ule\b)|[\t\r\x07\x08\x0b\x0c]", re.MULTILINE)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_markdown_has_no_escape_damaged_latex(path):
    for cell in load(path)["cells"]:
        if cell["cell_type"] == "markdown":
            text = "".join(cell["source"])
            match = ESCAPE_DAMAGE.search(text)
            assert match is None, f"{path.name}: damaged LaTeX near {text[max(0, match.start() - 40) : match.end()]!r}"


GLUE_ROLE = re.compile(r"\{glue:text\}`([^`]*)`")
GLUE_REFERENCE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(:[^{}:]*)?")
GLUE_CALL = re.compile(r"""glue\(\s*(f?)["']([A-Za-z0-9_]+)(\{?)""")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_glue_reference_is_well_formed_and_glued(path):
    cells = load(path)["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    names = GLUE_CALL.findall(code)
    glued = {name for f, name, brace in names if not (f and brace)}
    prefixes = tuple(name for f, name, brace in names if f and brace)  # glue(f"max_diff_{name}", ...)
    for cell in cells:
        if cell["cell_type"] != "markdown":
            continue
        for reference in GLUE_ROLE.findall("".join(cell["source"])):
            assert GLUE_REFERENCE.fullmatch(reference), f"{path.name}: malformed glue reference {reference!r}"
            name = reference.split(":")[0]
            assert name in glued or name.startswith(prefixes), f"{path.name}: {reference!r} is never glued"
