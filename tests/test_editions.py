"""book/_ext/editions.py: the Colab and student editions of every chapter read right outside the book."""

import importlib.util
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "book" / "_ext" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


editions = load("editions")
raw_markup = load("raw_markup")


def glued_names(notebook) -> set[str]:
    return {
        m.group(1).split(":")[0]
        for cell in notebook.cells
        if cell.cell_type == "markdown"
        for m in re.finditer(r"\{glue(?::\w+)?\}`([^`]+)`", cell.source)
    } | {
        m.group(1)
        for cell in notebook.cells
        if cell.cell_type == "code" and "mystnb" in cell.metadata
        for m in re.finditer(
            r"\{glue(?::\w+)?\}`([^`:]+)", cell.metadata["mystnb"].get("figure", {}).get("caption", "")
        )
    }


def convert(path, edition, glue="every"):
    source = nbformat.read(path, as_version=4)
    if glue == "every":  # what a build would give: a value for every glued name
        glue = {name: "0.125" for name in glued_names(source)}
    return source, editions.convert_notebook(source, path.name, edition, commit="abc1234", glue=glue)


def markdown(notebook) -> str:
    return "\n\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")


def directives(source, name):
    return [
        part
        for cell in source.cells
        if cell.cell_type == "markdown"
        for part in editions.split_directives(cell.source)
        if isinstance(part, editions.Directive) and part.name == name
    ]


def distinctive_line(body: str) -> str:
    """A line of a solution long enough to be its own: the longest line."""
    return max((line.strip() for line in body.split("\n")), key=len)


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_both_editions_of_every_chapter_have_no_raw_myst(path):
    for edition in editions.EDITIONS:
        _, converted = convert(path, edition)
        found = [
            f"cell {i}: {finding}"
            for i, cell in enumerate(converted.cells)
            if cell.cell_type == "markdown"
            for finding in raw_markup.find_in_html(raw_markup.render_markdown(cell.source))
        ]
        assert not found, f"{edition}: " + "\n".join(found)
        text = markdown(converted)
        for raw in ("{exercise}", "{solution}", "{glue", "{cite", ":label:", ":class:", "⟨"):
            assert raw not in text, (edition, raw)
        nbformat.validate(converted)


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_every_exercise_states_its_metadata_in_the_book_and_both_editions(path):
    source = nbformat.read(path, as_version=4)
    exercises = directives(source, "exercise")
    assert exercises
    for exercise in exercises:
        first_line = exercise.body.strip().split("\n")[0]
        assert editions.METADATA.match(first_line), f"{exercise.options['label']}: {first_line!r}"
    for edition in editions.EDITIONS:
        _, converted = convert(path, edition)
        blocks = re.findall(r"^> \*\*Exercise (\d+)\.(\d+): .+\*\*\n>\n> (.+)$", markdown(converted), re.M)
        chapter = int(path.name[:2])
        assert [(int(c), int(n)) for c, n, _ in blocks] == [(chapter, n) for n in range(1, len(exercises) + 1)]
        assert all(editions.METADATA.match(line) for *_, line in blocks), edition


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_solutions_are_folded_in_the_colab_edition_and_absent_from_the_student_edition(path):
    source, colab = convert(path, "colab")
    _, student = convert(path, "student")
    solutions = directives(source, "solution")
    assert len(solutions) == len(directives(source, "exercise"))
    colab_text, student_text = markdown(colab), markdown(student)
    folded = re.findall(r"<details>\n<summary>.*?</summary>\n(.*?)\n</details>", colab_text, re.S)
    assert len(folded) == len(solutions)
    for solution in solutions:
        line = distinctive_line(solution.body)
        if "{glue" in line or "{cite" in line:
            line = re.split(r"\{\w+(?::\w+)?\}`[^`]*`", line)[0].strip() or line
        assert any(line in block for block in folded), line
        assert line not in student_text, line
    assert "<details>" not in student_text and "Solution" not in student_text
    # the exercises' code cells (placeholders and checks) and the hidden claim cells stay in both
    code = [c for c in source.cells if c.cell_type == "code"]
    kept = [c for c in student.cells if c.cell_type == "code"]
    assert len(kept) == len(code) and sum("claim(" in c.source for c in code) > 0
    for original, cell in zip(code[1:], kept[1:], strict=True):
        if "hide-input" in original.metadata.get("tags", []):  # a collapsed Colab form with a title
            title, _, rest = cell.source.partition("\n")
            assert title.startswith("#@title ") and rest == original.source and cell.metadata["cellView"] == "form"
        else:
            assert cell.source == original.source


def test_glued_numbers_take_the_build_values_with_their_format_and_are_said_to():
    path = ROOT / "notebooks" / "01_uniform_superposition.ipynb"
    source = nbformat.read(path, as_version=4)
    glue = {name: "0.123456" for name in glued_names(source)} | {"pairs_low": "17", "dense_largest_share": "0.61803"}
    converted = editions.convert_notebook(source, path.name, "colab", commit="abc1234", glue=glue)
    text = markdown(converted)
    assert "17 to 0.123456 pairs" in text  # {glue:text}`pairs_low` to {glue:text}`pairs_high`
    assert (
        "commit `abc1234`" in converted.cells[0].source and "Numbers in the text are those" in converted.cells[0].source
    )
    missing = dict(glue)
    del missing["pairs_low"]
    with pytest.raises(editions.EditionError, match="pairs_low"):
        editions.convert_notebook(source, path.name, "colab", commit="abc1234", glue=missing)
    without_build = editions.convert_notebook(source, path.name, "colab", commit="abc1234", glue=None)
    assert "⟨pairs_low⟩" in markdown(without_build) and "marked ⟨…⟩" in without_build.cells[0].source


def test_format_specs_follow_the_book():
    assert editions._format_glued("0.123456", ".2f") == "0.12"
    assert editions._format_glued("12.0", ".0f") == "12"
    assert editions._format_glued("0.4", ".0%") == "40%"
    assert editions._format_glued("'0.2 and 0.05'", "") == "0.2 and 0.05"
    assert editions._format_glued("7", "") == "7"


def test_citations_become_author_year_links_to_the_references_page():
    labels = editions.author_year((ROOT / "book" / "references.bib").read_text())
    assert labels["elhage2022toy"] == "Elhage et al., 2022"
    assert labels["anthropic2022colab"] == "Anthropic, 2022"
    assert labels["mcdougall2024arena"] == "McDougall, 2024"
    path = ROOT / "notebooks" / "01_uniform_superposition.ipynb"
    _, converted = convert(path, "colab")
    book = editions.book_url(editions.repository_url())
    assert f"([Elhage et al., 2022]({book}/book/references.html))" in markdown(converted)
    assert f"]({book}/book/notation.html)" in markdown(converted)  # a link to a book page goes online


def test_install_cell_pins_the_commit_and_the_badge_opens_the_edition():
    path = ROOT / "notebooks" / "02_nonuniform_importance.ipynb"
    for edition, folder in (("colab", "notebooks"), ("student", "student")):
        _, converted = convert(path, edition)
        install = next(c for c in converted.cells if c.cell_type == "code" and "%pip install" in c.source)
        assert f'{editions.repository_url()}.git@abc1234"' in install.source
        assert 'if "google.colab" in sys.modules' in install.source
        header = converted.cells[0].source
        assert f"/blob/{editions.EDITIONS_BRANCH}/{folder}/{path.name})" in header
        assert sum("colab-badge.svg" in c.source for c in converted.cells) == 1


def test_every_figure_caption_follows_its_figure():
    path = ROOT / "notebooks" / "02_nonuniform_importance.ipynb"
    source, converted = convert(path, "colab")
    captioned = [c for c in source.cells if c.get("metadata", {}).get("mystnb", {}).get("figure", {}).get("caption")]
    assert captioned
    cells = converted.cells
    for number, figure in enumerate(captioned, start=1):
        index = next(i for i, c in enumerate(cells) if c.cell_type == "code" and c.source == figure.source)
        assert cells[index + 1].source.startswith(f"**Figure {number}.** ")


def test_markup_the_converter_does_not_know_stops_it_with_the_chapter_named():
    context = editions.Context("99_test.ipynb", "colab", "abc", "https://x", "https://github.com/o/r", {}, {})
    with pytest.raises(editions.EditionError, match=r"99_test.*\{margin\}"):
        editions.convert_markdown("```{margin}\nside note\n```", context)
    with pytest.raises(editions.EditionError, match=r"\{numref\}"):
        editions.convert_markdown("See {numref}`fig-x`.", context)
    with pytest.raises(editions.EditionError, match="never closed"):
        editions.convert_markdown("```{exercise} Open\n:label: x\n\nbody", context)


def test_outputs_come_from_the_last_build(tmp_path):
    path = ROOT / "notebooks" / "08_hadamard_mixing.ipynb"
    source = nbformat.read(path, as_version=4)
    executed = nbformat.read(path, as_version=4)
    for cell in executed.cells:
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="from the build\n")]
    folder = tmp_path / "jupyter_execute" / "notebooks"
    folder.mkdir(parents=True)
    nbformat.write(executed, folder / path.name)
    glue = {name: {"data": {"text/plain": "3"}} for name in glued_names(source)}
    (folder / f"{path.stem}.glue.json").write_text(__import__("json").dumps(glue))
    written = editions.make_editions(tmp_path / "out", commit="abc1234", build=tmp_path, notebooks=[path])
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in written) == [
        f"colab/{path.name}",
        f"student/{path.name}",
    ]
    colab = nbformat.read(tmp_path / "out" / "colab" / path.name, as_version=4)
    code = [c for c in colab.cells if c.cell_type == "code"]
    assert all(c.outputs[0]["text"] == "from the build\n" for c in code)
    assert "⟨" not in markdown(colab)


def test_the_instructors_page_links_both_editions_of_every_chapter_and_answers_its_questions():
    page = (ROOT / "book" / "instructors.md").read_text()
    repository = editions.repository_url()
    for path in CHAPTERS:
        for edition in editions.EDITIONS:
            assert f"({editions.colab_url(repository, edition, path.name)})" in page, (edition, path.name)
    assert page.count("```{admonition} Answer key") == page.count("What to discuss:") == 3  # three sessions
    assert "SUPERPOSITION_STRICT_EXERCISES=1" in page


def test_outputs_come_from_jupyter_cache_when_the_build_rendered_from_it(tmp_path):
    # make test builds the book from the cache nbval filled: jupyter_execute then holds no outputs
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    path = ROOT / "notebooks" / "03_correlated_features.ipynb"
    source = nbformat.read(path, as_version=4)
    folder = tmp_path / "jupyter_execute" / "notebooks"
    folder.mkdir(parents=True)
    nbformat.write(source, folder / path.name)  # no outputs, as myst-nb writes it then
    glue = {name: {"data": {"text/plain": "3"}} for name in glued_names(source)}
    (folder / f"{path.stem}.glue.json").write_text(__import__("json").dumps(glue))
    executed = nbformat.read(path, as_version=4)
    record = nbformat.v4.new_output("display_data", data={"application/papermill.record/text/plain": "1"})
    record.metadata = {"scrapbook": {"name": "x", "mime_prefix": "application/papermill.record/"}}
    for cell in executed.cells:
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="cached\n"), record]
    get_cache(str(tmp_path / ".jupyter_cache")).cache_notebook_bundle(
        CacheBundleIn(executed, str(path)), check_validity=False, overwrite=True
    )
    editions.make_editions(tmp_path / "out", commit="abc1234", build=tmp_path, notebooks=[path])
    student = nbformat.read(tmp_path / "out" / "student" / path.name, as_version=4)
    code = [c for c in student.cells if c.cell_type == "code"]
    assert all([o["text"] for o in c.outputs] == ["cached\n"] for c in code)  # the glue record is dropped
