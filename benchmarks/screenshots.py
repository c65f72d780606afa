"""Look at the built book as a reader would: screenshots of its pages in headless Chromium.

Not run in CI. Needs the built book (`make book`) and its editions (`make editions`), Debian's
Chromium, the Playwright driver and nbconvert:

    apt-get install chromium                     # /usr/bin/chromium
    .venv/bin/pip install playwright nbconvert   # the Python driver only (no browser download); nbconvert
    npm install --prefix /tmp/mathjax mathjax@3  # optional: see --mathjax

    .venv/bin/python benchmarks/screenshots.py [--out _build/screenshots] [--mathjax DIR]

The book loads MathJax from a CDN. Where the browser cannot reach it (a machine without internet), pass
``--mathjax`` the ``es5`` folder of an npm install of MathJax 3, and the script serves the CDN's
requests from it, so that the screenshots show the formulas as an online reader sees them.

It serves `_build/html` on localhost and saves, for a desktop-sized window:

- `intro.png`: the landing page;
- `chapter.png`, `figure.png`: the top of chapter 1, and its first figure with the caption;
- `exercise.png`: an exercise with its solution opened by a click on the solution's title;
- `search.png`: the search page's results for a term the book uses;
- `download.png`: the download menu of a chapter, opened;
- `edition-top.png`, `edition-exercise.png`, `edition-solution.png`: chapter 1's Colab edition rendered by
  nbconvert (a stand-in for Colab's renderer): its header and a glued number, an exercise with its
  solution folded, and the solution opened.

It also checks every page for what a reader would notice and the screenshots might not show:
JavaScript errors, failed requests, chapter images without a caption, formulas MathJax could not
render (with ``--mathjax``), pages that show a Python traceback or warning, and raw markup (``$``,
``{glue``, ``{cite``, directive fences, TeX commands outside math: book/_ext/raw_markup.py). In the
edition it checks that no MyST is left, that solutions start folded and that glued numbers are filled in.
It exits non-zero when it finds any of those.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import raw_markup  # noqa: E402  (book/_ext is not a package)

CHAPTER = "notebooks/01_uniform_superposition.html"
EDITION_CHAPTER = "01_uniform_superposition.ipynb"
EXERCISE = "ex-uniform-dimensionality"
SEARCH_TERM = "antipodal"
CHROMIUM_FLAGS = [
    # Headless on a machine without a sandbox or network: no GPU, no background requests to Google.
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


MATHJAX_CDN = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/"


def serve_mathjax(route, folder: Path) -> None:
    """Answer a request for the MathJax CDN from a local copy of its es5 folder."""
    path = folder / route.request.url.removeprefix(MATHJAX_CDN).split("?")[0]
    if path.is_file():
        route.fulfill(path=str(path))
    else:
        route.fulfill(status=404)


@contextlib.contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve `directory` on a free localhost port for the duration of the block; yields the base URL."""

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:  # keep the report readable
            pass

    handler = functools.partial(QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()


def check_edition(browser, notebook: Path, out: Path, problems: list[str]) -> None:
    """Render one Colab-edition notebook with nbconvert, screenshot it and check what a Colab user sees."""
    if not notebook.exists():
        problems.append(f"no Colab edition at {notebook}: run `make editions` first")
        return
    import nbconvert
    import nbformat

    html, _ = nbconvert.HTMLExporter().from_notebook_node(nbformat.read(notebook, as_version=4))
    rendered = out / "edition.html"
    rendered.write_text(html, encoding="utf-8")
    page = browser.new_page(viewport={"width": 1200, "height": 900}, device_scale_factor=1)
    page.goto(rendered.as_uri())
    page.wait_for_load_state("load")
    text = page.locator("body").inner_text()
    for raw in ("{exercise}", "{solution}", "{glue", "{cite", ":label:", ":class:", "⟨"):
        if raw in text:
            problems.append(f"edition {notebook.name}: shows {raw!r}")
    if "Numbers in the text are those of the book's build" not in text:
        problems.append(f"edition {notebook.name}: the header does not say where the numbers come from")
    path = out / "edition-top.png"
    page.screenshot(path=str(path))
    print(f"saved {path}")
    details = page.locator("details")
    print(f"edition {notebook.name}: {details.count()} solutions, {page.locator('blockquote').count()} exercise blocks")
    if details.count() == 0 or any(details.nth(i).get_attribute("open") is not None for i in range(details.count())):
        problems.append(f"edition {notebook.name}: solutions missing or not folded")
        return
    exercise = page.locator("blockquote", has_text="Exercise 1.1:").first
    exercise.scroll_into_view_if_needed()
    page.evaluate("window.scrollBy(0, -40)")
    page.screenshot(path=str(out / "edition-exercise.png"))
    details.first.locator("summary").click()
    page.wait_for_timeout(300)
    if details.first.get_attribute("open") is None:
        problems.append(f"edition {notebook.name}: a click on a solution's summary does not open it")
    page.screenshot(path=str(out / "edition-solution.png"))
    print(f"saved {out / 'edition-exercise.png'} and {out / 'edition-solution.png'}")
    page.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, default=ROOT / "_build" / "html", help="the built book")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "screenshots", help="where the PNGs go")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="the Chromium executable")
    parser.add_argument("--mathjax", type=Path, help="a local MathJax 3 es5 folder to serve the CDN's requests")
    parser.add_argument("--edition", type=Path, default=ROOT / "_build" / "colab", help="the Colab edition")
    args = parser.parse_args()
    if not (args.html / "index.html").exists():
        parser.error(f"no built book in {args.html}: run `make book` first")
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with serve(args.html) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900}, device_scale_factor=1)
        if args.mathjax:
            page.route(MATHJAX_CDN + "**", lambda route: serve_mathjax(route, args.mathjax))
        page.on("pageerror", lambda error: problems.append(f"JavaScript error on {page.url}: {error}"))
        page.on(
            "requestfailed",
            lambda request: (
                problems.append(f"request failed on {page.url}: {request.url} ({request.failure})")
                if request.url.startswith(base) and request.failure != "net::ERR_ABORTED"  # aborted: we moved on
                else None
            ),
        )

        def shot(name: str, *, full_page: bool = False) -> None:
            path = args.out / f"{name}.png"
            page.screenshot(path=str(path), full_page=full_page)
            print(f"saved {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")

        page.goto(base + "index.html")
        page.wait_for_load_state("networkidle")
        shot("intro")

        page.goto(base + CHAPTER)
        page.wait_for_load_state("networkidle")
        shot("chapter")
        figures = page.locator("figure, div.figure")
        captions = page.locator("figure figcaption, div.figure p.caption")
        print(f"chapter 1: {figures.count()} figures, {captions.count()} captions")
        if figures.count() == 0 or captions.count() < figures.count():
            problems.append(f"{CHAPTER}: {figures.count()} figures but {captions.count()} captions")
        if figures.count():
            figures.first.scroll_into_view_if_needed()
            page.evaluate("window.scrollBy(0, -80)")  # clear of the sticky header
            shot("figure")

        exercise = page.locator(f"#{EXERCISE}")
        exercise.scroll_into_view_if_needed()
        solution = page.locator(f"div.solution:has(a[href='#{EXERCISE}'])").first
        solution.locator(".admonition-title a").first.click()  # where a reader clicks: the title's words
        page.wait_for_timeout(500)
        if not solution.locator("pre").first.is_visible():
            problems.append(f"{CHAPTER}: the solution of {EXERCISE} did not open")
        # the exercise, its check cell and the opened solution, in one taller window
        page.evaluate("document.activeElement.blur()")  # no focus ring, no "skip to content" link
        page.set_viewport_size({"width": 1400, "height": 1300})
        exercise.evaluate("element => element.scrollIntoView()")
        page.evaluate("window.scrollBy(0, -90)")  # clear of the sticky header
        shot("exercise")
        page.set_viewport_size({"width": 1400, "height": 900})

        for html in sorted([*args.html.glob("book/*.html"), *args.html.glob("notebooks/*.html")]):
            name = html.relative_to(args.html).as_posix()
            page.goto(base + name)
            page.wait_for_load_state("networkidle")
            text = page.locator("main, article").first.inner_text()
            for marker in ("Traceback (most recent call last)", "Warning:", "UserWarning", "FutureWarning"):
                if marker in text:
                    problems.append(f"{name}: the page shows {marker!r}")
            images = page.locator("article img[src*='_images/']")
            uncaptioned = [
                i for i in range(images.count()) if not images.nth(i).locator("xpath=ancestor::figure").count()
            ]
            if name.startswith("notebooks/") and uncaptioned:
                problems.append(f"{name}: {len(uncaptioned)} of {images.count()} images have no caption")
            for finding in raw_markup.find_in_html(page.locator("main, article").first.inner_html()):
                problems.append(f"{name}: raw markup: {finding}")
            unrendered = page.locator("mjx-merror, .math:not(:has(mjx-container))").count() if args.mathjax else 0
            if unrendered:
                problems.append(f"{name}: {unrendered} formulas did not render")
        print(
            f"checked {len(list(args.html.glob('book/*.html'))) + len(list(args.html.glob('notebooks/*.html')))} pages"
        )

        page.goto(base + f"search.html?q={SEARCH_TERM}")
        page.wait_for_selector("#search-results li", timeout=15_000)
        hits = page.locator("#search-results li").count()
        print(f"search for {SEARCH_TERM!r}: {hits} results")
        if hits == 0:
            problems.append(f"search for {SEARCH_TERM!r} found nothing")
        shot("search")

        page.goto(base + CHAPTER)
        page.wait_for_load_state("networkidle")
        page.locator(".dropdown-download-buttons > button").first.click()
        page.wait_for_timeout(300)
        notebook_link = page.locator(".dropdown-download-buttons a[href$='.ipynb']").first
        if not notebook_link.is_visible():
            problems.append(f"{CHAPTER}: the download menu has no visible .ipynb link")
        else:
            href = notebook_link.get_attribute("href")
            response = page.request.get(urllib.parse.urljoin(page.url, href))
            if not response.ok:
                problems.append(f"{CHAPTER}: downloading the notebook ({href}) answered {response.status}")
        shot("download")
        check_edition(browser, args.edition / EDITION_CHAPTER, args.out, problems)
        browser.close()

    for problem in problems:
        print("PROBLEM:", problem)
    print("no problems found" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
