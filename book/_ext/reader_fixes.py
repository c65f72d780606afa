"""Fixes for what a reader of the HTML book runs into (found with benchmarks/screenshots.py).

1. The title of a hidden solution ("Solution to Exercise 1.2 (...)") is mostly a link back to its
   exercise. sphinx-togglebutton only opens the solution when the click lands on the title itself or
   its chevron, so clicking the words jumped to the exercise, which is right above, and left the
   solution closed (with a JavaScript error). Here a click on that link opens or closes the solution.
2. sphinx-thebe 0.3.1 registers an inline script (``const THEBE_JS_URL = ...``) while the sources are
   read, after the HTML builder has started. Sphinx 7.4 adds such a script to the builder then, and
   again, with the file name ``""`` instead of ``None``, when it collects late registrations before
   writing, so every page declared the constant twice and the browser reported a SyntaxError.
   Identical scripts are dropped from each page.
3. Printed output lines were cut off at the edge of their box (a claim's statement and its numbers),
   and pandas tables styled with ``.style`` lost their cell padding; ``static/reader.css`` wraps the
   lines and pads the cells.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

STATIC = Path(__file__).resolve().parent / "static"

OPEN_SOLUTION_FROM_ITS_TITLE = """
document.addEventListener("click", (event) => {
  const link = event.target.closest(".solution.dropdown > .admonition-title a");
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  link.closest(".admonition-title").querySelector(".toggle-button")?.click();
}, true);
"""


def _drop_duplicate_scripts(app, pagename: str, templatename: str, context: dict[str, Any], doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        # an inline script's file name is None in one copy and "" in the other
        attributes = getattr(script, "attributes", {})
        key = (getattr(script, "filename", None) or "", tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def _add_static_path(app) -> None:
    if str(STATIC) not in app.config.html_static_path:
        app.config.html_static_path.append(str(STATIC))


def setup(app) -> dict[str, Any]:
    app.add_js_file(None, body=OPEN_SOLUTION_FROM_ITS_TITLE)
    app.connect("builder-inited", _add_static_path)
    app.add_css_file("reader.css")
    app.connect("html-page-context", _drop_duplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
