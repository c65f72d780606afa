"""Find markup a reader should never see: raw ``$``, ``{glue``, ``{cite``, directive fences, option lines or
TeX commands in the text of a rendered page, outside its math and code.

Two such slips reached readers before this check existed: a ``$|\\cos|$`` inside a markdown table (the
``|`` splits the row, and the cells show ``$`` and ``\\cos``), and a formula broken over two lines inside
a list item whose second line starts with ``+`` (it becomes a nested bullet, and the reader sees
``\\operatorname{ReLU}``). The build succeeds in both cases; only the rendered text shows it.

    python book/_ext/raw_markup.py _build/html            # every page of a built book
    python book/_ext/raw_markup.py _build/colab           # every notebook of an edition (rendered here)

Pages are checked as HTML (``find_in_html``); notebooks' markdown cells are first rendered the way a
notebook front end does, CommonMark with tables and ``$`` math (``render_markdown``).
"""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

#: What a reader must not see in running text, each with the reason it shows.
PATTERNS = {
    "raw $": re.compile(r"\$"),
    "raw {glue": re.compile(r"\{glue"),
    "raw {cite": re.compile(r"\{cite"),
    "a MyST role": re.compile(r"\{[a-z][a-z:-]*\}`"),
    "a directive fence": re.compile(r"(```|:::)\s*\{"),
    "a directive option": re.compile(r"(^|\s):(label|class|name|caption):\s"),
    "a TeX command": re.compile(r"\\[A-Za-z]+"),
}
#: Elements whose text is not running text: code, math (typeset by MathJax from its source), scripts.
SKIPPED_TAGS = {"script", "style", "pre", "code", "kbd", "samp", "math", "svg", "textarea"}
MATH_CLASSES = {"math", "arithmatex"}
#: Pages that are not the book's prose (Sphinx's generated index and search pages).
SKIPPED_PAGES = {"genindex.html", "search.html", "py-modindex.html"}
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _RunningText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[bool] = []  # per open element: is its text skipped?
        self.chunks: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in VOID_TAGS:
            return
        classes = set((dict(attrs).get("class") or "").split())
        skipped = tag in SKIPPED_TAGS or bool(classes & MATH_CLASSES) or (self.stack and self.stack[-1])
        self.stack.append(bool(skipped))

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID_TAGS and self.stack:
            self.stack.pop()
            if not self.stack or not self.stack[-1]:
                self.chunks.append("\n")

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1]):
            self.chunks.append(data)


def running_text(html: str) -> str:
    """The text of ``html`` a reader sees as prose: without code, math, scripts and styles."""
    parser = _RunningText()
    parser.feed(html)
    parser.close()
    return "".join(parser.chunks)


def find_in_text(text: str) -> list[str]:
    """Every raw-markup finding in running ``text``, as ``"<what>: …context…"``."""
    findings = []
    for what, pattern in PATTERNS.items():
        for match in pattern.finditer(text):
            start, end = max(0, match.start() - 40), min(len(text), match.end() + 40)
            context = " ".join(text[start:end].split())
            findings.append(f"{what}: …{context}…")
    return findings


def find_in_html(html: str) -> list[str]:
    """Every raw-markup finding in a rendered page."""
    return find_in_text(running_text(html))


def render_markdown(markdown: str) -> str:
    """Markdown as a notebook front end renders it (CommonMark, tables, ``$``/``$$`` math as math)."""
    return MarkdownIt("commonmark").enable("table").use(dollarmath_plugin).render(markdown)


def find_in_notebook(path: Path) -> list[str]:
    """Every raw-markup finding in the markdown cells of a notebook, each prefixed with its cell."""
    notebook = nbformat.read(path, as_version=4)
    return [
        f"cell {index}: {finding}"
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "markdown"
        for finding in find_in_html(render_markdown(cell.source))
    ]


def check_folder(folder: Path) -> dict[str, list[str]]:
    """Findings per file for every HTML page or notebook under ``folder`` (empty when all are clean)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if "_static" in path.parts or "_sources" in path.parts or path.name in SKIPPED_PAGES:
            continue
        if path.suffix == ".html":
            findings = find_in_html(path.read_text(encoding="utf-8"))
        elif path.suffix == ".ipynb" and ".ipynb_checkpoints" not in path.parts:
            findings = find_in_notebook(path)
        else:
            continue
        if findings:
            found[str(path.relative_to(folder))] = findings
    return found


def main(argv: list[str] | None = None) -> int:
    folders = [Path(arg) for arg in (argv if argv is not None else sys.argv[1:])]
    if not folders:
        print("usage: raw_markup.py FOLDER [FOLDER ...]", file=sys.stderr)
        return 2
    failed = False
    for folder in folders:
        if not folder.is_dir():
            print(f"error: {folder} is not a folder (build the book or the editions first)", file=sys.stderr)
            return 2
        found = check_folder(folder)
        for name, findings in found.items():
            failed = True
            print(f"{folder / name}:")
            for finding in findings:
                print(f"  {finding}")
        checked = sum(1 for p in folder.rglob("*") if p.suffix in (".html", ".ipynb"))
        print(f"{folder}: {checked} files checked, {len(found)} with raw markup")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
