"""The Colab and student editions of the chapters: notebooks that read right outside the book.

The chapters are written in MyST for the book: ``{exercise}`` and ``{solution}`` directives, ``{glue:text}``
numbers, ``{cite}`` references, figure captions kept in cell metadata. Colab, Jupyter and GitHub show that
source as it is. This script rewrites every chapter into plain Jupyter markdown:

- exercises become marked blocks with their number, title and metadata (difficulty, importance, time);
- solutions go inside collapsed ``<details>`` blocks (Colab edition) or are removed (student edition);
- glued numbers become the values of the build the edition is made from (said once, at the top);
- citations become author–year links to the book's references page, and links to the book's pages
  point into the online book;
- figure captions (``mystnb.figure`` metadata) follow their figure as markdown;
- the Colab install cell pins ``helpers`` to the commit the edition is made from, and the badge opens
  the edition itself;
- cells the book hides (the claim checks) become collapsed Colab forms with a title, their code one
  double-click away.

It reads the outputs of the last book build when there is one (``_build/jupyter_execute``: the executed
notebooks and their ``.glue.json``), so an edition opens with its figures. Without a build the glued numbers
are left as marked placeholders and the notebooks have no outputs.

    python book/_ext/editions.py                # _build/colab/ and _build/student/ (``make editions``)
    python book/_ext/editions.py --commit abc1234 --out _build

Anything MyST the converter does not know (another directive or role) stops it with an error naming the
notebook, so an edition never shows raw markup.
"""

from __future__ import annotations

import argparse
import ast
import copy
import functools
import json
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml
from jupyter_cache import get_cache

ROOT = Path(__file__).resolve().parents[2]
EDITIONS = ("colab", "student")
#: The branch the Pages workflow publishes the editions to; Colab opens notebooks from it.
EDITIONS_BRANCH = "editions"

OPENING_FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[a-z][a-z-]*)\}[ \t]*(?P<argument>.*)$")
OPTION = re.compile(r"^:(?P<key>[a-z][a-z-]*):[ \t]*(?P<value>.*)$")
ROLE = re.compile(r"\{(?P<name>[a-z][a-z:-]*)\}`(?P<content>[^`]*)`")
LOCAL_LINK = re.compile(r"\]\((?!https?:|mailto:|#)(?P<target>[^)\s]+)\)")
#: An exercise's first line states its metadata, in the book and in both editions (tests parse it).
METADATA = re.compile(
    r"^\*\*Difficulty\*\* (?P<difficulty>[1-3]) of 3 · \*\*importance\*\* (?P<importance>[1-3]) of 3 · "
    r"\*\*time\*\* about (?P<minutes>\d+) minutes$"
)
ADMONITIONS = {"note", "tip", "important", "warning", "caution", "attention", "hint", "seealso"}


class EditionError(ValueError):
    """The source uses markup the converter cannot turn into plain markdown."""


@dataclass
class Directive:
    """One fenced directive of a markdown cell: ``name``, its argument, options and body lines."""

    name: str
    argument: str
    options: dict[str, str]
    body: str


@dataclass
class Context:
    """What converting one chapter needs to know."""

    chapter: str
    edition: str
    commit: str
    book_url: str
    repository_url: str
    references: dict[str, str]
    glue: dict[str, str] | None
    exercises: dict[str, tuple[str, str]] = field(default_factory=dict)
    figures: int = 0


@functools.cache
def repository_url(config_path: Path = ROOT / "_config.yml") -> str:
    """The repository's URL, defined once in ``_config.yml``."""
    return yaml.safe_load(config_path.read_text(encoding="utf-8"))["repository"]["url"].rstrip("/")


def book_url(repository: str) -> str:
    """Where GitHub Pages serves the book of ``https://github.com/<owner>/<name>``."""
    owner, name = repository.removeprefix("https://github.com/").split("/")[:2]
    return f"https://{owner}.github.io/{name}"


def colab_url(repository: str, edition: str, notebook: str) -> str:
    """The Colab address that opens ``notebook`` of ``edition`` from the editions branch."""
    path = repository.removeprefix("https://github.com/")
    return (
        f"https://colab.research.google.com/github/{path}/blob/{EDITIONS_BRANCH}/{published_folder(edition)}/{notebook}"
    )


def published_folder(edition: str) -> str:
    """The folder of ``edition`` on the editions branch. The Colab edition sits where the sources do, so
    the book's launch button (repository branch ``editions``, path ``notebooks/…``) opens it."""
    return {"colab": "notebooks", "student": "student"}[edition]


# --- references ------------------------------------------------------------------------------------


def _bib_field(entry: str, name: str) -> str | None:
    match = re.search(rf"\b{name}\s*=\s*", entry)
    if not match:
        return None
    rest, depth, out = entry[match.end() :], 0, []
    if rest.startswith('"'):
        return rest[1:].split('"', 1)[0]
    for char in rest:
        if char == "{":
            depth += 1
            if depth == 1:
                continue
        elif char == "}":
            depth -= 1
            if depth == 0:
                break
        out.append(char)
    return "".join(out)


def _last_name(author: str) -> str:
    author = author.strip()
    if not author:
        return ""
    if author.startswith("{") and author.endswith("}"):
        return author[1:-1]
    if "," in author:
        return author.split(",", 1)[0].strip()
    return author.split()[-1]


def author_year(bib_text: str) -> dict[str, str]:
    """Each entry of a BibTeX file as the book cites it: ``"Elhage et al., 2022"``."""
    labels = {}
    for match in re.finditer(r"@\w+\{(?P<key>[^,\s]+),(?P<entry>.*?)\n\}", bib_text, re.S):
        authors = [_last_name(a) for a in re.split(r"\s+and\s+", _bib_field(match["entry"], "author") or "")]
        authors = [a for a in authors if a] or ["Anonymous"]
        names = (
            authors[0] if len(authors) == 1 else " and ".join(authors) if len(authors) == 2 else f"{authors[0]} et al."
        )
        labels[match["key"]] = f"{names}, {_bib_field(match['entry'], 'year') or 'n.d.'}"
    return labels


@functools.cache
def _book_references() -> dict[str, str]:
    """``author_year`` of book/references.bib, read once per run (every chapter and edition uses it)."""
    return author_year((ROOT / "book" / "references.bib").read_text(encoding="utf-8"))


# --- markdown ----------------------------------------------------------------------------------------


def split_directives(source: str) -> list[str | Directive]:
    """Markdown split into plain text and top-level fenced directives (nested fences stay in bodies)."""
    lines = source.split("\n")
    parts: list[str | Directive] = []
    text: list[str] = []
    i = 0
    while i < len(lines):
        opening = OPENING_FENCE.match(lines[i])
        if not opening:
            text.append(lines[i])
            i += 1
            continue
        fence = opening["fence"]
        j, options = i + 1, {}
        while j < len(lines) and (option := OPTION.match(lines[j])):
            options[option["key"]] = option["value"].strip()
            j += 1
        body = []
        while j < len(lines) and lines[j].rstrip() != fence:
            body.append(lines[j])
            j += 1
        if j == len(lines):
            raise EditionError(f"the {{{opening['name']}}} directive opened with {fence} is never closed")
        if text:
            parts.append("\n".join(text))
            text = []
        parts.append(Directive(opening["name"], opening["argument"].strip(), options, "\n".join(body).strip("\n")))
        i = j + 1
    if text:
        parts.append("\n".join(text))
    return parts


def _format_glued(text: str, spec: str) -> str:
    try:
        value = ast.literal_eval(text)
    except (SyntaxError, ValueError):
        value = text
    if not spec:
        return str(value)
    kind = spec[-1]
    if kind in "bcdoxX":
        value = int(value)
    elif kind in "eEfFgGn%":
        value = float(value)
    elif kind == "s":
        value = str(value)
    return format(value, spec)


def _role(match: re.Match, context: Context) -> str:
    name, content = match["name"], match["content"]
    if name in ("glue", "glue:text", "glue:md", "glue:any"):
        key, _, spec = content.partition(":")
        if context.glue is None:
            return f"⟨{key}⟩"
        if key not in context.glue:
            raise EditionError(f"{context.chapter}: no glued value named {key!r} in the build")
        return _format_glued(context.glue[key], spec)
    if name in ("cite", "cite:p", "cite:t"):
        links = []
        for key in (k.strip() for k in content.split(",")):
            if key not in context.references:
                raise EditionError(f"{context.chapter}: {key!r} is not in book/references.bib")
            label = context.references[key]
            if name == "cite:t":
                names, year = label.rsplit(", ", 1)
                label = f"{names} ({year})"
            links.append(f"[{label}]({context.book_url}/book/references.html)")
        return "; ".join(links) if name == "cite:t" else "(" + "; ".join(links) + ")"
    if name in ("math",):
        return f"${content}$"
    raise EditionError(f"{context.chapter}: the MyST role {{{name}}} has no plain-markdown form in the editions")


def _link(match: re.Match, context: Context) -> str:
    target = match["target"]
    path, _, anchor = target.partition("#")
    page = Path(path)
    if page.suffix in (".md", ".ipynb"):
        resolved = (ROOT / "notebooks" / page).resolve().relative_to(ROOT).with_suffix(".html")
        target = f"{context.book_url}/{resolved.as_posix()}" + (f"#{anchor}" if anchor else "")
    return f"]({target})"


def convert_text(text: str, context: Context) -> str:
    """Roles and links of plain markdown text in their plain form."""
    text = ROLE.sub(lambda m: _role(m, context), text)
    return LOCAL_LINK.sub(lambda m: _link(m, context), text)


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.split("\n"))


def _exercise(directive: Directive, context: Context) -> str:
    label = directive.options.get("label")
    if not label:
        raise EditionError(f"{context.chapter}: an exercise has no :label:")
    number = f"{_chapter_number(context.chapter)}.{len(context.exercises) + 1}"  # as the book numbers it
    context.exercises[label] = (number, directive.argument)
    body = convert_text(directive.body, context)
    return _quote(f"**Exercise {number}: {directive.argument}**\n\n{body}")


def _chapter_number(chapter: str) -> int:
    """The chapter's number from its file name (``03_correlated_features.ipynb`` → 3)."""
    prefix = chapter.split("_", 1)[0]
    return int(prefix) if prefix.isdigit() else 0


def _solution(directive: Directive, context: Context) -> str:
    if directive.argument not in context.exercises:
        raise EditionError(f"{context.chapter}: a solution refers to {directive.argument!r}, not an exercise above it")
    if context.edition == "student":
        return ""
    number, _title = context.exercises[directive.argument]
    body = convert_text(directive.body, context)
    return f"<details>\n<summary><b>Solution to exercise {number}</b> (click to open)</summary>\n\n{body}\n\n</details>"


def convert_markdown(source: str, context: Context) -> str:
    """One markdown cell of a chapter as the edition shows it."""
    out = []
    for part in split_directives(source):
        if isinstance(part, str):
            out.append(convert_text(part, context))
        elif part.name == "exercise":
            out.append(_exercise(part, context))
        elif part.name == "solution":
            out.append(_solution(part, context))
        elif part.name in ADMONITIONS:
            title = part.argument or part.name.capitalize()
            out.append(_quote(f"**{title}**\n\n{convert_text(part.body, context)}"))
        elif part.name in ("math",):
            out.append(f"$$\n{part.body}\n$$")
        else:
            raise EditionError(f"{context.chapter}: the MyST directive {{{part.name}}} has no plain-markdown form")
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip("\n")


# --- notebooks ---------------------------------------------------------------------------------------


def _install_cell(source: str, context: Context) -> str:
    pinned = f"git+{context.repository_url}.git@{context.commit}"
    return re.sub(r'"git\+[^"]+"', f'"{pinned}"', source)


def _header(context: Context, notebook: str) -> str:
    online = f"{context.book_url}/notebooks/{Path(notebook).with_suffix('.html').name}"
    which = {
        "colab": "Colab edition: the chapter as a plain notebook, solutions folded under each exercise.",
        "student": "Student edition: the chapter with its exercises and their checks, and no solutions.",
    }[context.edition]
    numbers = (
        f"Numbers in the text are those of the book's build at commit `{context.commit[:12]}` (base seed 0, "
        "`book` profile); a run with another seed or profile gives slightly different values, and the "
        "hidden check cells test the statements again on your run."
        if context.glue is not None
        else "Numbers in the text marked ⟨…⟩ are filled in by the book's build; run the notebook to see them."
    )
    opens = colab_url(context.repository_url, context.edition, notebook)
    badge = f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({opens})"
    return (
        f"{badge}\n\n*{which} Generated from `notebooks/{notebook}` at commit `{context.commit[:12]}` of "
        f"[Superposition, reproduced]({context.repository_url}); read it as a web page in the "
        f"[online book]({online}). {numbers}*"
    )


def _form_title(source: str) -> str:
    """The ``#@title`` line Colab shows in place of a cell's hidden code."""
    what = "Check the claims of this section" if "claim(" in source else "Code hidden in the book"
    return f"#@title {what} (double-click to show the code)"


def _caption_cell(cell: dict, context: Context) -> nbformat.NotebookNode | None:
    figure = cell.get("metadata", {}).get("mystnb", {}).get("figure", {})
    caption = figure.get("caption")
    if not caption:
        return None
    context.figures += 1
    text = f"**Figure {context.figures}.** {convert_text(caption, context)}"
    return nbformat.v4.new_markdown_cell(text, id=f"{cell.get('id', 'figure')}-caption"[:64])


def convert_notebook(
    source: nbformat.NotebookNode, name: str, edition: str, *, commit: str, glue: dict[str, str] | None, executed=None
) -> nbformat.NotebookNode:
    """One chapter's edition. ``executed`` (the same notebook with the outputs of a build) gives the
    code cells their outputs; ``glue`` maps glued names to their ``text/plain`` values."""
    if edition not in EDITIONS:
        raise ValueError(f"edition must be one of {EDITIONS}, got {edition!r}")
    repository = repository_url()
    context = Context(
        chapter=name,
        edition=edition,
        commit=commit,
        book_url=book_url(repository),
        repository_url=repository,
        references=_book_references(),
        glue=glue,
    )
    if executed is not None and len(executed.cells) != len(source.cells):
        raise EditionError(
            f"{name}: the build's notebook has {len(executed.cells)} cells, the source {len(source.cells)}"
        )
    cells = [nbformat.v4.new_markdown_cell(_header(context, name), id="edition-header")]
    for index, original in enumerate(source.cells):
        cell = copy.deepcopy(original)
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.cell_type == "markdown":
            if "remove-cell" in tags and "colab-badge.svg" in cell.source:
                continue  # the header carries the edition's own badge
            cell.source = convert_markdown(cell.source, context)
            cell.pop("attachments", None)
            if cell.source.strip():
                cells.append(cell)
            continue
        if cell.cell_type == "code":
            if "google.colab" in cell.source and "%pip install" in cell.source:
                cell.source = _install_cell(cell.source, context)
            if "hide-input" in tags:  # hidden in the book: a collapsed form in Colab, code one click away
                cell.source = f"{_form_title(cell.source)}\n{cell.source}"
                cell.metadata["cellView"] = "form"
            if executed is not None:
                # glued values travel as outputs a notebook front end cannot show; the text has them
                outputs = executed.cells[index].get("outputs", [])
                cell.outputs = [copy.deepcopy(o) for o in outputs if "scrapbook" not in o.get("metadata", {})]
                cell.execution_count = executed.cells[index].get("execution_count")
            else:
                cell.outputs, cell.execution_count = [], None
        cells.append(cell)
        if caption := _caption_cell(cell, context):
            cells.append(caption)
    edition_nb = nbformat.v4.new_notebook(cells=cells, metadata=copy.deepcopy(source.metadata))
    edition_nb.metadata["colab"] = {"name": name, "provenance": []}
    nbformat.validate(edition_nb)
    return edition_nb


def build_outputs(build: Path, name: str, source=None) -> tuple[nbformat.NotebookNode | None, dict[str, str] | None]:
    """The executed notebook and glued values of ``name`` from a book build folder, if it has them.

    The glued values are in ``jupyter_execute/notebooks/<chapter>.glue.json``. The outputs are in the
    notebook myst-nb wrote beside it when it executed the chapter itself, and otherwise (a build from
    jupyter-book's cache, as ``make test`` does) in that cache, ``.jupyter_cache``, matched to ``source``."""
    folder = build / "jupyter_execute" / "notebooks"
    notebook_path, glue_path = folder / name, folder / f"{Path(name).stem}.glue.json"
    if not notebook_path.exists():
        return None, None
    executed = nbformat.read(notebook_path, as_version=4)
    if source is not None and not any(cell.get("outputs") for cell in executed.cells):
        executed = _cached_outputs(build / ".jupyter_cache", source)
    glue: dict[str, str] = {}
    if glue_path.exists():
        for key, output in json.loads(glue_path.read_text(encoding="utf-8")).items():
            text = output.get("data", {}).get("text/plain")
            if text is not None:
                glue[key] = text
    return executed, glue


def _cached_outputs(cache_path: Path, source) -> nbformat.NotebookNode | None:
    """``source`` with the outputs jupyter-cache holds for its code, or None when it holds none."""
    if not cache_path.is_dir():
        return None
    try:
        _, merged = get_cache(str(cache_path)).merge_match_into_notebook(copy.deepcopy(source))
    except KeyError:  # no cached run of this code
        return None
    return merged


def current_commit() -> str:
    """The full hash of the checked-out commit (pip resolves a full hash on any clone), or "main"."""
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "main"


def make_editions(out: Path, *, commit: str, build: Path | None, notebooks: list[Path]) -> list[Path]:
    """Write every edition of every chapter to ``out/<edition>/<chapter>.ipynb``; returns the paths."""
    written = []
    for path in notebooks:
        source = nbformat.read(path, as_version=4)
        executed, glue = build_outputs(build, path.name, source) if build is not None else (None, None)
        for edition in EDITIONS:
            target = out / edition / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(
                convert_notebook(source, path.name, edition, commit=commit, glue=glue, executed=executed), target
            )
            written.append(target)
        print(f"{path.name}: {'with the build outputs' if executed is not None else 'no build outputs'}")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter in notebooks/")
    parser.add_argument("--out", type=Path, default=ROOT / "_build", help="writes <out>/colab and <out>/student")
    parser.add_argument("--build", type=Path, default=ROOT / "_build", help="the book build to take outputs from")
    parser.add_argument("--commit", default=None, help="the commit the install cells pin (default: HEAD)")
    args = parser.parse_args(argv)
    notebooks = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    try:
        make_editions(args.out, commit=args.commit or current_commit(), build=args.build, notebooks=notebooks)
    except EditionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
