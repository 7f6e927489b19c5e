"""The documentation site, built with Sphinx and opened in a browser.

The site is built once for this module (``python -m sphinx -W``: a warning fails the build)
and served from a loopback HTTP server started here; headless Chromium (Debian's
``chromium``, installed when missing, tests/servers.py) loads the pages and the tests assert
on the DOM it rendered, after its scripts ran: the index's title and table of contents, the
API page's autodoc entries, and the search page's results, which only JavaScript fills in
from searchindex.js. A last test walks every built page and checks that every internal link
points at a file that exists and at an id that exists in it. The build is nitpicky
(docs/conf.py): a cross-reference to nothing documented fails it, which one test checks.

The tests of the built site are marked ``docs_site``: the site needs the docs extra (Sphinx),
which the README's test command installs, and CI on the main Python only, so CI deselects them
on the others (.ci/run); without Sphinx they are skipped, saying so.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

import framekit
from tests.servers import ensure_program

ROOT = Path(__file__).resolve().parent.parent
#: How long one page may take to load and run its scripts in the browser, in seconds.
BROWSER_TIMEOUT = 60
#: Chromium's virtual time for a page's scripts (the search runs within it), in milliseconds.
VIRTUAL_TIME_BUDGET = 10_000

#: Elements without an end tag.
VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param"}
    | {"source", "track", "wbr"}
)


class Element:
    """One element of a parsed page: its tag, attributes, children and text."""

    def __init__(self, tag: str, attrs: dict[str, str], parent: Element | None) -> None:
        self.tag = tag
        self.attrs = attrs
        self.parent = parent
        self.children: list[Element] = []
        self.parts: list[str | Element] = []

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        """The text of this element and its descendants, as a reader sees it."""
        return "".join(part if isinstance(part, str) else part.text() for part in self.parts)

    def iter(self, tag: str | None = None, cls: str | None = None) -> Iterator[Element]:
        """This element's descendants (depth first) of ``tag`` and with class ``cls``."""
        for child in self.children:
            if (tag is None or child.tag == tag) and (cls is None or cls in child.classes):
                yield child
            yield from child.iter(tag, cls)

    def find(self, tag: str | None = None, cls: str | None = None) -> Element:
        found = next(self.iter(tag, cls), None)
        assert found is not None, f"no <{tag or '*'} class={cls!r}> in <{self.tag}>"
        return found

    def by_id(self, element_id: str) -> Element:
        for element in self.iter():
            if element.attrs.get("id") == element_id:
                return element
        raise AssertionError(f"no element with id {element_id!r}")


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(element)
        self.current.parts.append(element)
        if tag not in VOID:
            self.current = element

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        element: Element | None = self.current
        while element is not None and element.tag != tag:
            element = element.parent
        if element is not None and element.parent is not None:
            self.current = element.parent

    def handle_data(self, data: str) -> None:
        self.current.parts.append(data)


def parse_html(html: str) -> Element:
    """The element tree of ``html``."""
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


# -- the site, its server, the browser ---------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built from docs/ with warnings as errors, as CI builds it."""
    if importlib.util.find_spec("sphinx") is None:
        pytest.skip("the docs extra is not installed (pip install -e '.[docs]'): no Sphinx")
    out = tmp_path_factory.mktemp("site")
    argv = [sys.executable, "-m", "sphinx", "-q", "-W", "--keep-going", "-b", "html"]
    result = subprocess.run(
        [*argv, "-d", str(out / ".doctrees"), str(ROOT / "docs"), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return out


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def base_url(site: Path) -> Iterator[str]:
    """The site served over HTTP on a free port of 127.0.0.1, for this module."""
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture(scope="module")
def chromium() -> str:
    """Headless Chromium's program (Debian's ``chromium``, installed when missing)."""
    return ensure_program("chromium", "chromium")


def rendered(chromium: str, url: str, profile: Path) -> Element:
    """The DOM headless Chromium rendered for ``url`` once its scripts ran, parsed.

    Chromium runs in a session of its own with a fresh profile; when it takes longer than
    BROWSER_TIMEOUT, that session (the pid this started, and its helpers) is killed.
    """
    argv = [chromium, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run"]
    argv += [f"--user-data-dir={profile}", f"--virtual-time-budget={VIRTUAL_TIME_BUDGET}"]
    process = subprocess.Popen(
        [*argv, "--dump-dom", url],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=BROWSER_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise AssertionError(f"chromium took over {BROWSER_TIMEOUT} s for {url}") from None
    assert process.returncode == 0, err.decode(errors="replace")[-2000:]
    return parse_html(out.decode("utf-8"))


def toctree_entries() -> list[str]:
    """The pages docs/index.md's toctree lists, in order."""
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    block = re.search(r"^```\{toctree\}\n(.*?)^```", index, flags=re.DOTALL | re.MULTILINE)
    assert block is not None, "docs/index.md has no toctree"
    return [
        line.strip()
        for line in block.group(1).splitlines()
        if line.strip() and not line.startswith(":")
    ]


# -- the pages in the browser ------------------------------------------------------------------


@pytest.mark.docs_site
def test_the_index_shows_its_title_and_a_link_to_every_toctree_page(
    chromium: str, base_url: str, tmp_path: Path
) -> None:
    page = rendered(chromium, base_url + "index.html", tmp_path)
    assert page.find("title").text() == f"framekit {framekit.__version__}"
    assert page.find("article").find("h1").text().rstrip("#¶ ") == "framekit"
    toctree = page.find("article").find("div", "toctree-wrapper")
    links = [a for a in toctree.iter("a") if "toctree-l1" in (a.parent or a).classes]
    assert [a.attrs["href"] for a in links] == [f"{e}.html" for e in toctree_entries()]
    assert all(a.text().strip() for a in links)


@pytest.mark.docs_site
def test_the_api_page_shows_the_autodoc_entries(
    chromium: str, base_url: str, tmp_path: Path
) -> None:
    page = rendered(chromium, base_url + "api.html", tmp_path)
    signature = page.by_id("framekit.reader.StreamReader")
    text = " ".join(signature.text().split())
    assert text.startswith("class framekit.reader.StreamReader(")
    for name, parameter in inspect.signature(framekit.StreamReader).parameters.items():
        assert f"{name}={parameter.default!r}" in text
    docstring = signature.parent.find("dd") if signature.parent else None
    assert docstring is not None and "StreamReader" in docstring.text()
    method = page.by_id("framekit.reader.StreamReader.readexactly")
    assert "readexactly(" in method.text()


@pytest.mark.docs_site
def test_the_search_page_finds_readexactly_with_its_script(
    chromium: str, base_url: str, site: Path, tmp_path: Path
) -> None:
    page = rendered(chromium, base_url + "search.html?q=readexactly", tmp_path)
    results = page.by_id("search-results")
    links = [a.attrs["href"] for a in results.find("ul", "search").iter("a")]
    assert links, results.text()
    assert "api.html#framekit.reader.StreamReader.readexactly" in links
    for href in links:
        assert (site / urlsplit(href).path).is_file(), href


@pytest.mark.docs_site
def test_the_benchmarks_page_shows_the_committed_run_s_chart_and_tables(
    chromium: str, base_url: str, tmp_path: Path
) -> None:
    sys.path.insert(0, str(ROOT / "docs" / "_ext"))
    import benchchart

    document = benchchart.load(ROOT / "docs" / "_static" / "benchmarks.json")
    page = rendered(chromium, base_url + "benchmarks.html", tmp_path)
    charts = list(page.iter("svg", "benchmark-chart"))
    groups = benchchart.groups(document)
    assert [chart.attrs["aria-label"] for chart in charts] == groups
    for chart, group in zip(charts, groups, strict=True):
        bars = list(chart.iter("rect", "bar"))
        assert len(bars) == len(benchchart.chart_rows(document, group))
    cells = {cell.text().strip() for table in page.iter("table") for cell in table.iter("td")}
    assert {w["name"] for w in document["workloads"]} <= cells
    assert document["command"] in page.find("ul", "benchmark-run").text()


# -- cross-references --------------------------------------------------------------------------


@pytest.mark.docs_site
def test_a_cross_reference_that_names_nothing_fails_the_build(tmp_path: Path) -> None:
    if importlib.util.find_spec("sphinx") is None:
        pytest.skip("the docs extra is not installed (pip install -e '.[docs]'): no Sphinx")
    source = tmp_path / "source"
    source.mkdir()
    (source / "index.md").write_text("# A page\n\nSee {class}`framekit.NoSuchName`.\n")
    argv = [sys.executable, "-m", "sphinx", "-q", "-W", "--keep-going", "-b", "html"]
    result = subprocess.run(
        [*argv, "-c", str(ROOT / "docs"), str(source), str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0, "the build passed"
    assert "reference target not found: framekit.NoSuchName" in result.stderr


# -- internal links ----------------------------------------------------------------------------


class _Links(HTMLParser):
    """A page's ids (``id``, and ``name`` on ``<a>``) and internal link targets."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v for k, v in attrs if v is not None}
        if "id" in values:
            self.ids.add(values["id"])
        if tag == "a" and "name" in values:
            self.ids.add(values["name"])
        for attribute in ("href", "src"):
            target = values.get(attribute)
            if target is not None and _internal(target):
                self.links.append(target)


def _internal(target: str) -> bool:
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and target != ""


def _scan(page: Path) -> _Links:
    scanner = _Links()
    scanner.feed(page.read_text(encoding="utf-8"))
    scanner.close()
    return scanner


def broken_links(site: Path) -> list[str]:
    """Every internal link of every page under ``site`` whose file or id does not exist,
    one line each: the page, the link, and what is missing."""
    site = site.resolve()
    scans = {page: _scan(page) for page in sorted(p.resolve() for p in site.rglob("*.html"))}
    broken = []
    for page, scan in scans.items():
        for link in scan.links:
            parts = urlsplit(link)
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            where = f"{page.relative_to(site)}: {link}"
            if not target.is_file():
                broken.append(f"{where} (no file {target})")
            elif parts.fragment and target.suffix == ".html":
                ids = scans[target].ids if target in scans else _scan(target).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{where} (no id {parts.fragment!r})")
    return broken


def test_the_link_check_reports_a_missing_file_and_a_missing_id(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.html").write_text(
        '<h1 id="top">A</h1><a href="sub/b.html#part">b</a><a href="#top">up</a>'
        '<a href="https://example.org/x.html">away</a><a href="c.html">c</a>'
        '<a href="sub/b.html#nowhere">b?</a><img src="_static/missing.svg">'
    )
    (tmp_path / "sub" / "b.html").write_text(
        '<p id="part">B</p><a href="../a.html#top">a</a><a href="../a.html#gone">a?</a>'
    )
    assert broken_links(tmp_path) == [
        "a.html: c.html (no file %s)" % (tmp_path.resolve() / "c.html"),
        "a.html: sub/b.html#nowhere (no id 'nowhere')",
        "a.html: _static/missing.svg (no file %s)"
        % (tmp_path.resolve() / "_static" / "missing.svg"),
        "sub/b.html: ../a.html#gone (no id 'gone')",
    ]


@pytest.mark.docs_site
def test_every_internal_link_points_at_a_file_and_an_id_that_exist(site: Path) -> None:
    assert all((site / f"{entry}.html").is_file() for entry in toctree_entries())
    assert broken_links(site) == []
