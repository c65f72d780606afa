"""The book's structure: every notebook is in the table of contents, committed without outputs, starts
with the Colab install cell pointing at the one repository URL of _config.yml, and seeds from the base
seed."""

import ast
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
    assert f"({colab}/blob/editions/notebooks/{path.name})" in badge  # the Colab edition, not the MyST source


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
# line break, "\t" of \times a tab, "\f" of \frac a form feed, "\b" of \beta a backspace, "\a" of
# \approx a bell.
ESCAPE_DAMAGE = re.compile(r"^(Vert|ightarrow|imes|ext\{|rac\{|eta\b|ule\b)|[\t\r\x07\x08\x0b\x0c]", re.MULTILINE)
PAGES = sorted((ROOT / "book").glob("*.md"))


def markdown_of(path: Path) -> str:
    """A page's text, or all of a notebook's markdown cells."""
    if path.suffix == ".md":
        return path.read_text()
    return "\n".join("".join(c["source"]) for c in load(path)["cells"] if c["cell_type"] == "markdown")


@pytest.mark.parametrize("path", NOTEBOOKS + PAGES, ids=lambda p: p.name)
def test_markdown_has_no_escape_damaged_latex(path):
    text = markdown_of(path)
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


LOOPS = (ast.For, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def python_of(source: str) -> ast.Module:
    # IPython magics and shell escapes are not Python: keep their indentation, drop the rest
    return ast.parse(re.sub(r"^(\s*)[%!].*$", r"\1pass", source, flags=re.MULTILINE))


def creates_figure(node: ast.AST) -> bool:
    """plt.figure/plt.subplots, or a helpers.plotting plot_* call without ``ax=`` (it makes its own)."""
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
        return False
    owner = node.func.value.id if isinstance(node.func.value, ast.Name) else None
    name = node.func.attr
    if owner == "plt":
        return name in ("figure", "subplots", "subplot_mosaic")
    return owner == "plotting" and name.startswith("plot_") and all(k.arg != "ax" for k in node.keywords)


def figures_drawn(source: str) -> int:
    """How many figures a code cell draws, counting a figure made inside a loop as two (several)."""

    def count(node: ast.AST, in_loop: bool) -> int:
        here = (2 if in_loop else 1) if creates_figure(node) else 0
        inside = in_loop or isinstance(node, LOOPS)
        return here + sum(count(child, inside) for child in ast.iter_child_nodes(node))

    return count(python_of(source), False)


def test_figures_drawn_counts_new_figures_only():
    assert figures_drawn("fig, ax = plt.subplots()\nplotting.plot_loss_history(x, y, ax=ax)\nplt.show()") == 1
    assert figures_drawn("plotting.plot_features_2d(W, labels)\nplotting.plot_features_2d(W, labels)") == 2
    assert figures_drawn("%matplotlib inline\nif colab:\n    %pip install x") == 0
    assert figures_drawn("for kind in kinds:\n    plotting.plot_basic_results(W, b, labels)") == 2
    assert (
        figures_drawn("fig, axes = plt.subplots(1, 2)\nfor ax in axes:\n    plotting.plot_interference(W, ax=ax)") == 1
    )


def figure_cells():
    for path in NOTEBOOKS:
        for index, cell in enumerate(load(path)["cells"]):
            if cell["cell_type"] == "code" and figures_drawn("".join(cell["source"])):
                yield path, index, cell


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_figure_has_its_own_cell_and_a_caption(path):
    """myst-nb captions every image of a cell with the cell's caption: one figure per cell, each
    captioned, so that the book numbers and explains every figure."""
    cells = [(index, cell) for p, index, cell in figure_cells() if p == path]
    assert cells, f"{path.name} draws no figure"
    for index, cell in cells:
        assert figures_drawn("".join(cell["source"])) == 1, f"{path.name} cell {index} draws several figures"
        figure = cell["metadata"].get("mystnb", {}).get("figure", {})
        assert len(figure.get("caption", "")) >= 60, f"{path.name} cell {index} has no caption saying what to see"
        assert re.fullmatch(r"fig-[a-z0-9-]+", figure.get("name", "")), f"{path.name} cell {index} has no fig- name"
        assert not shows_a_value(cell), f"{path.name} cell {index} displays a table under its figure caption"
        alt = cell["metadata"].get("mystnb", {}).get("image", {}).get("alt", "")
        assert len(alt) >= 40 and "$" not in alt, f"{path.name} cell {index} needs alt text (plain words, no TeX)"


QUIET_CALLS = ("show", "print", "claim", "glue")


def shows_a_value(cell) -> bool:
    """Whether a cell displays something besides figures and printed text (a table, a value): in a figure
    cell, myst-nb would put that under the figure's caption too."""
    module = python_of("".join(cell["source"]))
    displays = any(
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "display"
        for node in ast.walk(module)
    )
    last = module.body[-1] if module.body else None
    if not isinstance(last, ast.Expr):
        return displays
    call = last.value
    name = getattr(call.func, "attr", getattr(call.func, "id", None)) if isinstance(call, ast.Call) else None
    return displays or name not in QUIET_CALLS


def test_figure_names_are_unique():
    names = [cell["metadata"].get("mystnb", {}).get("figure", {}).get("name") for _, _, cell in figure_cells()]
    assert len(names) == len(set(names)), "two figures share a name"


def test_reader_pages_are_in_the_table_of_contents():
    files = toc_files()
    for page in ("book/setup", "book/instructors", "book/glossary", "book/references", "book/notation"):
        assert page in files, f"{page} is missing from _toc.yml"
    assert "```{glossary}" in (ROOT / "book" / "glossary.md").read_text()


def cited_keys() -> set[str]:
    text = "\n".join(markdown_of(path) for path in NOTEBOOKS + PAGES)
    keys = set()
    for role in re.findall(r"\{cite(?::[a-z]+)?\}`([^`]+)`", text):
        keys.update(key.strip() for key in role.split(","))
    return keys


def test_every_reference_is_cited_and_every_citation_exists():
    entries = set(re.findall(r"^@\w+\{([^,]+),", (ROOT / "book" / "references.bib").read_text(), re.MULTILINE))
    cited = cited_keys()
    assert entries - cited == set(), f"in references.bib but never cited: {sorted(entries - cited)}"
    assert cited - entries == set(), f"cited but not in references.bib: {sorted(cited - entries)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_exercise_check_cells_ship_a_placeholder_that_raises_and_call_the_check_bare(path):
    cells = ["".join(c["source"]) for c in load(path)["cells"] if c["cell_type"] == "code"]
    check_cells = [c for c in cells if "checks.check_" in c]
    assert check_cells
    for cell in check_cells:
        # The check prints its verdict and raises on a wrong answer; print(...) around it would add "None".
        assert "print(checks." not in cell, cell
        assert "raise NotImplementedError(" in cell, cell  # "not attempted yet" lets the book build


def test_references_use_no_tex_commands_the_bibliography_would_print_raw():
    # sphinxcontrib-bibtex printed "\texttt toy_models.ipynb" on the references page (raw_markup.py found it)
    commands = re.findall(r"\\[A-Za-z]+", (ROOT / "book" / "references.bib").read_text())
    assert commands == [], commands
