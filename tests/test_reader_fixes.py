"""book/_ext/reader_fixes.py: the Sphinx extension behind two fixes found in the built HTML."""

import importlib.util
from pathlib import Path

from sphinx.builders.html._assets import _JavaScript

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("reader_fixes", ROOT / "book" / "_ext" / "reader_fixes.py")
reader_fixes = importlib.util.module_from_spec(spec)
spec.loader.exec_module(reader_fixes)


def test_identical_scripts_are_dropped_even_when_one_copy_has_the_empty_file_name():
    config = "const THEBE_JS_URL = 'x'"
    scripts = [
        _JavaScript("_static/a.js"),
        _JavaScript(None, body=config),
        _JavaScript("", body=config),  # the copy Sphinx 7.4 adds again before writing
        _JavaScript(None, body="const other = 1"),
        _JavaScript("_static/a.js"),
    ]
    context = {"script_files": scripts}
    reader_fixes._drop_duplicate_scripts(None, "page", "page.html", context, None)
    assert context["script_files"] == [scripts[0], scripts[1], scripts[3]]


def test_the_extension_registers_the_solution_click_handler_the_page_hook_and_the_stylesheet():
    class App:
        def __init__(self):
            self.scripts, self.styles, self.hooks = [], [], []

        def add_js_file(self, filename, **kwargs):
            self.scripts.append((filename, kwargs))

        def add_css_file(self, filename, **kwargs):
            self.styles.append(filename)

        def connect(self, event, callback, priority=500):
            self.hooks.append(event)

    app = App()
    metadata = reader_fixes.setup(app)
    assert app.hooks == ["builder-inited", "html-page-context"]
    assert ".solution.dropdown > .admonition-title a" in app.scripts[0][1]["body"]
    assert app.styles == ["reader.css"]
    assert metadata["parallel_read_safe"]


def test_the_built_pages_link_the_stylesheet_that_wraps_output_lines_and_pads_table_cells(tmp_path):
    import io

    from sphinx.application import Sphinx

    source = tmp_path / "src"
    source.mkdir()
    extensions = ROOT / "book" / "_ext"
    (source / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(extensions)!r})\nextensions = ['reader_fixes']\n"
    )
    (source / "index.rst").write_text("Book\n====\n")
    out = tmp_path / "html"
    Sphinx(source, source, out, tmp_path / "doctrees", "html", status=None, warning=io.StringIO()).build()
    assert 'href="_static/reader.css' in (out / "index.html").read_text()
    css = (out / "_static" / "reader.css").read_text()
    assert "white-space: pre-wrap" in css and "padding" in css
