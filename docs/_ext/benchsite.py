"""Sphinx directives that put a benchmark run's chart and tables on a page.

``benchmark-chart PATH`` (option ``:group:``) draws docs/_ext/benchchart.py's SVG of the run's
document at PATH (relative to the page, as an image's) inline in the page;
``benchmark-table PATH`` (options ``:group:``, ``:metric:``) is its results table;
``benchmark-run PATH`` says when, where and how the run was made. All are
made at build time from the document, which the build then depends on: a new run's JSON
rebuilds the page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import benchchart
from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective


class _BenchmarkDirective(SphinxDirective):
    required_arguments = 1
    option_spec: ClassVar[dict[str, Any]] = {"group": directives.unchanged_required}

    def document(self) -> dict[str, Any]:
        relative, absolute = self.env.relfn2path(self.arguments[0], self.env.docname)
        self.env.note_dependency(relative)
        try:
            return benchchart.load(Path(absolute))
        except (OSError, ValueError, KeyError) as error:
            message = f"{self.arguments[0]}: not a benchmark run's results: {error}"
            raise self.error(message) from error

    def group(self, document: dict[str, Any]) -> str | None:
        group: str | None = self.options.get("group")
        if group is not None and group not in benchchart.groups(document):
            raise self.error(f"no workload group {group!r} in {self.arguments[0]}")
        return group


class BenchmarkChart(_BenchmarkDirective):
    """The run's speed ratios as an inline SVG chart."""

    def run(self) -> list[nodes.Node]:
        document = self.document()
        group = self.group(document)
        bars = benchchart.chart_rows(document, group)
        if not bars:
            raise self.error(f"no ratio to draw for {group or 'the run'}")
        svg = benchchart.render_svg(bars, title=group or "")
        container = nodes.container(classes=["benchmark-chart"])
        container += nodes.raw("", svg, format="html")
        return [container]


class BenchmarkRun(_BenchmarkDirective):
    """When, where and how the run was made, as a bullet list."""

    def run(self) -> list[nodes.Node]:
        items = nodes.bullet_list(classes=["benchmark-run"])
        for label, text in benchchart.run_summary(self.document()):
            paragraph = nodes.paragraph()
            paragraph += nodes.strong(text=f"{label}: ")
            paragraph += nodes.literal(text=text) if label == "Command" else nodes.Text(text)
            item = nodes.list_item()
            item += paragraph
            items += item
        return [items]


class BenchmarkTable(_BenchmarkDirective):
    """The run's results table of one group and metric."""

    option_spec: ClassVar[dict[str, Any]] = {
        "group": directives.unchanged_required,
        "metric": lambda arg: directives.choice(arg, ("throughput", "time")),
    }

    def run(self) -> list[nodes.Node]:
        document = self.document()
        group = self.group(document) or benchchart.groups(document)[0]
        metric = self.options.get("metric", "throughput")
        header, rows = benchchart.table_rows(document, group, metric)
        if not rows:
            raise self.error(f"no {metric} workload in group {group!r}")
        table = nodes.table(classes=["benchmark-table"])
        tgroup = nodes.tgroup(cols=len(header))
        table += tgroup
        for _ in header:
            tgroup += nodes.colspec(colwidth=1)
        thead = nodes.thead()
        tgroup += thead
        thead += self._row(header)
        tbody = nodes.tbody()
        tgroup += tbody
        for row in rows:
            tbody += self._row(row)
        return [table]

    @staticmethod
    def _row(cells: list[str]) -> nodes.row:
        row = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            entry += nodes.paragraph(text=cell)
            row += entry
        return row


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("benchmark-chart", BenchmarkChart)
    app.add_directive("benchmark-table", BenchmarkTable)
    app.add_directive("benchmark-run", BenchmarkRun)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
