"""book/_ext/raw_markup.py: the check that fails on markup a reader would see raw, tried on the two slips
that reached readers (chapter 07's verdict table and chapter 05's learning goals, as they were)."""

import importlib.util
import io
from pathlib import Path

from sphinx.application import Sphinx

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("raw_markup", ROOT / "book" / "_ext" / "raw_markup.py")
raw_markup = importlib.util.module_from_spec(spec)
spec.loader.exec_module(raw_markup)

# Chapter 07's verdict table before 27a0454: the `|` of $|\cos|$ splits the row.
TABLE_SLIP = r"""# Verdicts

| the post says | what we measured | reproduces? |
|---|---|---|
| correlated features encoded more orthogonally | less orthogonal in sets of 10 (0.1 vs 0.05 mean $|\cos|$) | no |
"""
# Chapter 05's learning goals before this check: the formula's second line starts with `+`.
LIST_SLIP = r"""# Goals

- that a model can *compute* in superposition: it learns the absolute value $|x| = \operatorname{ReLU}(x)
  + \operatorname{ReLU}(-x)$ with a pair of neurons per feature, and how its neurons become shared
  as the features get sparse;
- how to measure what a model computes, feature by feature.
"""
CLEAN = r"""# Clean

- it learns the absolute value
  $|x| = \operatorname{ReLU}(x) + \operatorname{ReLU}(-x)$ with a pair of neurons per feature;
- `code with $ and \backslash` is code.

| the post says | what we measured |
|---|---|
| more orthogonal | mean $\lvert\cos\rvert$ within a set |

$$
\lVert W \rVert_F^2 = \sum_i \lVert W_i \rVert^2
$$
"""


def build_pages(tmp_path, pages: dict[str, str]) -> dict[str, str]:
    """Build ``pages`` with myst-nb and the book's MyST extensions; the HTML of each page."""
    source = tmp_path / "src"
    source.mkdir()
    (source / "conf.py").write_text(
        "extensions = ['myst_nb']\nnb_execution_mode = 'off'\n"
        "myst_enable_extensions = ['amsmath', 'colon_fence', 'deflist', 'dollarmath', 'linkify', 'substitution']\n"
    )
    (source / "index.md").write_text("# Book\n\n```{toctree}\n" + "\n".join(pages) + "\n```\n")
    for name, text in pages.items():
        (source / f"{name}.md").write_text(text)
    out = tmp_path / "html"
    app = Sphinx(source, source, out, tmp_path / "doctrees", "html", status=None, warning=io.StringIO(), freshenv=True)
    app.build()
    return {name: (out / f"{name}.html").read_text() for name in pages}


def test_the_check_catches_both_slips_in_the_built_book_and_passes_clean_pages(tmp_path):
    html = build_pages(tmp_path, {"table": TABLE_SLIP, "goals": LIST_SLIP, "clean": CLEAN})
    table, goals = raw_markup.find_in_html(html["table"]), raw_markup.find_in_html(html["goals"])
    assert any(f.startswith("raw $") for f in table) and any("\\cos" in f for f in table), table
    assert any(f.startswith("raw $") for f in goals) and any("\\operatorname" in f for f in goals), goals
    assert raw_markup.find_in_html(html["clean"]) == []


def test_the_check_catches_both_slips_in_a_notebook_renderer_too():
    assert raw_markup.find_in_html(raw_markup.render_markdown(TABLE_SLIP))
    assert raw_markup.find_in_html(raw_markup.render_markdown(LIST_SLIP))
    assert raw_markup.find_in_html(raw_markup.render_markdown(CLEAN)) == []


def test_each_kind_of_raw_markup_is_named():
    cases = {
        "raw {glue": "we measured {glue:text}`x` features",
        "raw {cite": "as shown {cite}`elhage2022toy`",
        "a directive fence": "```{exercise} Title",
        "a directive option": "body\n:label: ex-one\n",
        "a TeX command": "the model \\operatorname{ReLU} here",
        "raw $": "costs $5",
    }
    for what, text in cases.items():
        found = raw_markup.find_in_text(text)
        assert any(f.startswith(what) for f in found), (what, found)
    assert raw_markup.find_in_text("plain prose with |cos| and D* = 0.5 and ‖W‖") == []


def test_math_code_and_scripts_are_not_running_text():
    html = (
        '<p>We write <span class="math notranslate nohighlight">\\(\\lVert W \\rVert\\)</span> and '
        "<code>x = $y</code>.</p><div class='math'>\\[\\sum_i\\]</div><pre>\\n $</pre>"
        "<script>var a = '$';</script><p>Done.</p>"
    )
    assert raw_markup.find_in_html(html) == []
    assert "We write" in raw_markup.running_text(html) and "Done." in raw_markup.running_text(html)


def test_the_command_checks_a_folder_and_fails_on_a_slip(tmp_path, capsys):
    (tmp_path / "good.html").write_text("<p>fine</p>")
    assert raw_markup.main([str(tmp_path)]) == 0
    (tmp_path / "bad.html").write_text("<p>a {glue:text}`x` left raw</p>")
    assert raw_markup.main([str(tmp_path)]) == 1
    assert "bad.html" in capsys.readouterr().out
