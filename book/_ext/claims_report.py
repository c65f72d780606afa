"""The report page "What this book checks", built from the claims the build just ran.

Every ``helpers.claims.claim`` call leaves a hidden output in its notebook (a myst-nb glue value named
``claim-records-…``, see ``helpers.claims.records_output``), which myst-nb removes from the page and writes,
with the chapter's other glue values, to ``jupyter_execute/<chapter>.glue.json`` beside the HTML output.
When the pages are written, this extension reads those files and replaces the ``{claims-report}``
directive on the report page with one table per chapter: statement (linked to its printed line in the
chapter, with a text fragment), kind, measured
values, expected value and tolerance, source, whether it held in this build, its pass rate over the
committed seed runs (``book/data/claims_seeds.csv``) and whether it held under each negative control
(``book/data/claims_control.csv``: untrained models, and norm-matched random weights once measured).
Nothing on the page is typed by hand.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

from helpers import claims

SEEDS_FILE = "book/data/claims_seeds.csv"
CONTROL_FILE = "book/data/claims_control.csv"


class claims_report_node(nodes.General, nodes.Element):
    """Where the report's tables go; filled in when the pages are written."""


class ClaimsReportDirective(SphinxDirective):
    def run(self) -> list[nodes.Node]:
        self.env.claims_report_docs = getattr(self.env, "claims_report_docs", set()) | {self.env.docname}
        return [claims_report_node()]


def _records(app) -> dict[str, list[claims.ClaimRecord]]:
    """Every chapter's claim records, from the glue files myst-nb wrote while it read the chapters."""
    folder = Path(app.outdir).parent / "jupyter_execute"
    found = {}
    for docname in sorted(app.env.found_docs):
        path = folder.joinpath(*f"{docname}.glue.json".split("/"))
        if not path.exists():
            continue
        glue = json.loads(path.read_text(encoding="utf-8"))
        records = [
            record
            for key in sorted(
                (k for k in glue if k.startswith(claims.RECORD_KEY)), key=lambda k: int(k.rsplit("-", 1)[1])
            )
            for record in claims.parse_records(glue[key].get("data", {}))
        ]
        if records:
            found[docname] = records
    return found


def _purge(app, env, docname: str) -> None:
    getattr(env, "claims_report_docs", set()).discard(docname)


def _merge(app, env, docnames, other) -> None:
    env.claims_report_docs = getattr(env, "claims_report_docs", set()) | getattr(other, "claims_report_docs", set())


def _always_rewrite_report(app, env, added, changed, removed) -> list[str]:
    # The report depends on every chapter: write it again whenever anything was read.
    return sorted(getattr(env, "claims_report_docs", set()))


def _text(value: str) -> nodes.paragraph:
    return nodes.paragraph(text=value)


def _table(headers: list[str], rows: list[list[nodes.Node]], widths: list[int]) -> nodes.table:
    table = nodes.table(classes=["claims-report"])
    group = nodes.tgroup(cols=len(headers))
    table += group
    group.extend(nodes.colspec(colwidth=width) for width in widths)
    head = nodes.thead()
    head += nodes.row("", *[nodes.entry("", _text(header)) for header in headers])
    group += head
    body = nodes.tbody()
    for cells in rows:
        body += nodes.row("", *[nodes.entry("", cell) for cell in cells])
    group += body
    return table


#: Longer measured values (lists over a whole sweep) are cut here in the table; the chapter shows them whole.
MEASURED_CHARACTERS = 80


def _shorten(value: str) -> str:
    return value if len(value) <= MEASURED_CHARACTERS else value[: MEASURED_CHARACTERS - 1] + "…"


def _fragment(record: claims.ClaimRecord) -> str:
    """A text fragment (``#:~:text=``) that takes the browser to the claim's printed line: its first
    words, percent-encoded (a "-" too, which text fragments reserve)."""
    words = record.statement.split()
    start = " ".join(words[: max(1, min(len(words), 8))])
    return "#:~:text=" + quote(start, safe="").replace("-", "%2D")


def _evidence(record: claims.ClaimRecord) -> str:
    measured = "; ".join(f"{name} = {_shorten(value)}" for name, value in record.measured.items())
    return measured or "—"


def _expected(record: claims.ClaimRecord) -> str:
    if record.expected is None:
        return "—"
    return record.expected + (f" ({record.tolerance})" if record.tolerance else "")


def _chapter_section(app, fromdocname: str, docname: str, records, seeds, control, controls) -> list[nodes.Node]:
    chapter = Path(docname).name
    title = app.env.titles[docname].astext() if docname in app.env.titles else chapter
    rows = []
    for record in records:
        link = nodes.reference(
            "", record.statement, refuri=f"{app.builder.get_relative_uri(fromdocname, docname)}{_fragment(record)}"
        )
        seed_rate = claims.pass_rate(seeds, chapter, record.statement)
        rows.append(
            [
                nodes.paragraph("", "", link),
                _text(record.kind),
                _text("✔" if record.holds else "✘"),
                _text(claims.describe_rate(seed_rate)),
                *[
                    _text(
                        claims.describe_rate(
                            claims.pass_rate(control, chapter, record.statement, run=name), held="holds", failed="fails"
                        )
                    )
                    for name in controls
                ],
                _text(_evidence(record)),
                _text(_expected(record)),
                _text(record.source or "—"),
            ]
        )
    findings = [r for r in records if r.kind == "finding"]
    under_controls = []
    for name in controls:
        measured = [r for r in findings if claims.pass_rate(control, chapter, r.statement, run=name)[1]]
        held = [r for r in measured if claims.pass_rate(control, chapter, r.statement, run=name)[0]]
        under_controls.append(
            f"{len(held)} of {len(measured)} findings measured under the {name} control still hold there"
            if measured
            else f"the {name} control is not yet measured"
        )
    summary = (
        f"{len(records)} claims: {len(findings)} findings and {len(records) - len(findings)} demonstrations; "
        f"{sum(r.holds for r in records)} held in this build; " + "; ".join(under_controls) + "."
    )
    section = nodes.section(ids=[f"report-{chapter}"])
    section += nodes.title(text=title)
    section += _text(summary)
    # the verdict columns first: on a narrow screen the table scrolls, and they matter most
    headers = ["claim", "kind", "this build", "seeds", *controls, "measured", "expected", "source"]
    section += _table(headers, rows, [30, 8, 5, 6, *[6] * len(controls), 22, 8, 15])
    return [section]


def _fill(app, doctree: nodes.document, fromdocname: str) -> None:
    placeholders = list(doctree.findall(claims_report_node))
    if not placeholders:
        return
    source_dir = Path(app.srcdir)
    seeds = claims.read_results(source_dir / SEEDS_FILE)
    control = claims.read_results(source_dir / CONTROL_FILE)
    records = _records(app)
    content: list[nodes.Node] = [
        _text(claims.describe_measurements(seeds, "seed runs")),
        _text(claims.describe_measurements(control, "control runs")),
    ]
    # The untrained control always has a column (shown as not yet measured without data); others once measured.
    controls = ["untrained", *sorted({row["run"] for row in control} - {"untrained"})]
    for docname in sorted(records):
        content += _chapter_section(app, fromdocname, docname, records[docname], seeds, control, controls)
    for placeholder in placeholders:
        placeholder.replace_self(content)


def setup(app) -> dict[str, Any]:
    app.add_node(claims_report_node)
    app.add_directive("claims-report", ClaimsReportDirective)
    app.connect("env-purge-doc", _purge)
    app.connect("env-merge-info", _merge)
    app.connect("env-get-outdated", _always_rewrite_report)
    app.connect("doctree-resolved", _fill)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}
