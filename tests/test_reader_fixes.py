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


def test_the_extension_registers_the_solution_click_handler_and_the_page_hook():
    class App:
        def __init__(self):
            self.scripts, self.hooks = [], []

        def add_js_file(self, filename, **kwargs):
            self.scripts.append((filename, kwargs))

        def connect(self, event, callback, priority=500):
            self.hooks.append(event)

    app = App()
    metadata = reader_fixes.setup(app)
    assert app.hooks == ["html-page-context"]
    assert ".solution.dropdown > .admonition-title a" in app.scripts[0][1]["body"]
    assert metadata["parallel_read_safe"]
