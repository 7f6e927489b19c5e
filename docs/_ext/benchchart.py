"""The benchmark chart and tables, drawn from a run's JSON document (plain Python).

``python -m benchmarks --json FILE`` writes the document (benchmarks/results.py);
docs/_static/benchmarks.json is the one the site shows. This module reads it and returns:

- :func:`chart_rows`: one :class:`Bar` per framekit row and peer it is compared with: every
  target of a workload (its subject against its baseline), then the workload's subject
  against each of its baselines that no target names. The ratio is a *speed* ratio (times
  faster, above 1 is faster) for every workload: a time workload's time ratio is inverted,
  and so is its target.
- :func:`render_svg`: those bars as an SVG document (horizontal bars from 1x on a log axis,
  the target marked), no plotting library needed.
- :func:`table_rows`: the results table of one group and metric, as the harness prints it.
- :func:`run_summary`: when, where and how the run was made, and how many targets it met.

The documentation build (docs/_ext/benchsite.py) puts them on docs/benchmarks.md; the tests
(tests/test_benchchart.py) run them on the committed document.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

__all__ = [
    "SCHEMA",
    "Bar",
    "check_document",
    "chart_rows",
    "groups",
    "load",
    "render_svg",
    "run_summary",
    "table_rows",
]

#: The ``schema`` of the documents this module reads (benchmarks/results.py writes it).
SCHEMA = "framekit-benchmarks/1"

VERDICTS = ("ok", "MISSED", "not judged")
WORKLOAD_VERDICTS = (*VERDICTS, "no target")


@dataclass(frozen=True)
class Bar:
    """One bar: ``subject`` against ``baseline`` on ``workload``, as a speed ratio."""

    workload: str
    subject: str
    baseline: str
    #: Times faster than the baseline (above 1: faster), whatever the workload's metric.
    speed_ratio: float
    #: The target as a speed ratio (at least this), or None for a bar no target names.
    target: float | None
    #: "ok", "MISSED", "not judged", or "" for a bar without a target.
    verdict: str


def load(path: Path) -> dict[str, Any]:
    """The document at ``path``; ValueError when it is not a results document."""
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    check_document(document)
    return document


def check_document(document: Mapping[str, Any]) -> None:
    """Raise ValueError naming the first field that a run's document lacks or has wrong."""
    if document.get("schema") != SCHEMA:
        raise ValueError(f"schema: {document.get('schema')!r}, expected {SCHEMA!r}")
    required = ("date", "command", "elapsed_seconds", "machine", "framekit", "options")
    for key in (*required, "targets", "workloads"):
        if key not in document:
            raise ValueError(f"missing {key!r}")
    if not document["workloads"]:
        raise ValueError("no workloads")
    for w in document["workloads"]:
        name = w.get("name", "?")
        if w.get("verdict") not in WORKLOAD_VERDICTS:
            raise ValueError(f"workload {name}: verdict {w.get('verdict')!r}")
        if w.get("metric") not in ("throughput", "time"):
            raise ValueError(f"workload {name}: metric {w.get('metric')!r}")
        implementations = {i["name"] for i in w["implementations"]}
        for t in w["targets"]:
            if t.get("verdict") not in VERDICTS:
                raise ValueError(f"workload {name}: target verdict {t.get('verdict')!r}")
            if t["subject"] not in implementations or t["baseline"] not in implementations:
                raise ValueError(f"workload {name}: target of unknown implementations")


def groups(document: Mapping[str, Any]) -> list[str]:
    """The workload groups of ``document``, in run order."""
    return list(dict.fromkeys(w["group"] for w in document["workloads"]))


def _speed(ratio: float, metric: str) -> float:
    return ratio if metric == "throughput" else 1.0 / ratio


def chart_rows(document: Mapping[str, Any], group: str | None = None) -> list[Bar]:
    """The bars of the chart of ``group`` (or of every group), workload by workload."""
    bars: list[Bar] = []
    for w in document["workloads"]:
        if group is not None and w["group"] != group:
            continue
        metric = w["metric"]
        ratios = {i["name"]: i["ratios"] for i in w["implementations"]}
        order = {name: index for index, name in enumerate(ratios)}
        rows: list[Bar] = []
        for t in w["targets"]:
            if t["measured"] is None:
                continue
            target = _speed(t["target"], metric)
            speed = _speed(t["measured"], metric)
            rows.append(Bar(w["name"], t["subject"], t["baseline"], speed, target, t["verdict"]))
        named = {(bar.subject, bar.baseline) for bar in rows}
        for baseline in w["baselines"]:
            ratio = ratios.get(w["subject"], {}).get(baseline)
            if ratio is not None and (w["subject"], baseline) not in named:
                speed = _speed(ratio, metric)
                rows.append(Bar(w["name"], w["subject"], baseline, speed, None, ""))
        baseline_order = {name: index for index, name in enumerate(w["baselines"])}
        rows.sort(key=lambda bar: (order[bar.subject], baseline_order.get(bar.baseline, 0)))
        bars += rows
    return bars


# -- the SVG -----------------------------------------------------------------------------------

WIDTH = 780
LABEL_WIDTH = 290
VALUE_WIDTH = 64
ROW_HEIGHT = 18
HEADER_HEIGHT = 22
TOP = 34
AXIS_HEIGHT = 34
COLOURS = {"ok": "#2e7d32", "MISSED": "#c62828", "not judged": "#8d6e63", "": "#78909c"}
LEGEND = (("ok", "target met"), ("MISSED", "target missed"), ("", "no target"))
TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


def _domain(bars: Sequence[Bar]) -> tuple[float, float]:
    """The axis's ends: powers of ten around every ratio, target and 1x."""
    values = [bar.speed_ratio for bar in bars] + [b.target for b in bars if b.target] + [1.0]
    low = 10 ** math.floor(math.log10(min(values)) + 1e-9)
    high = 10 ** math.ceil(math.log10(max(values)) - 1e-9)
    if high <= low:
        high = low * 10
    return low, high


def _fmt(ratio: float) -> str:
    return f"{ratio:.2f}x" if ratio < 100 else f"{ratio:.0f}x"


def _tick_label(value: float) -> str:
    return f"{value:g}x"


def render_svg(bars: Sequence[Bar], title: str = "") -> str:
    """An SVG document of ``bars``: per workload a heading, then one horizontal bar per row,
    from 1x to its speed ratio on a log axis, its value at its end, its target marked by a
    vertical line. Every bar is a ``rect`` of class ``bar`` whose ``data-*`` attributes name
    its workload, subject, baseline, ratio and target."""
    if not bars:
        raise ValueError("no bars to draw")
    low, high = _domain(bars)
    left = LABEL_WIDTH
    right = WIDTH - VALUE_WIDTH

    def x(value: float) -> float:
        span = math.log10(high) - math.log10(low)
        return left + (math.log10(value) - math.log10(low)) / span * (right - left)

    body: list[str] = []
    y = TOP
    workload = None
    for bar in bars:
        if bar.workload != workload:
            workload = bar.workload
            y += 4
            body.append(
                f'<text class="workload" x="4" y="{y + 14}" font-weight="bold">'
                f"{escape(workload)}</text>"
            )
            y += HEADER_HEIGHT
        one, end = x(1.0), x(bar.speed_ratio)
        colour = COLOURS.get(bar.verdict, COLOURS[""])
        target_attr = "" if bar.target is None else f" data-target={quoteattr(f'{bar.target:g}')}"
        tooltip = f"{bar.workload}: {bar.subject} vs {bar.baseline}, {_fmt(bar.speed_ratio)}"
        if bar.target is not None:
            tooltip += f" (target >= {_fmt(bar.target)}: {bar.verdict})"
        body.append(
            f'<text class="label" x="{left - 8}" y="{y + 13}" text-anchor="end">'
            f"{escape(bar.subject)} vs {escape(bar.baseline)}</text>"
        )
        body.append(
            f'<rect class="bar" x="{min(one, end):.1f}" y="{y + 3}" '
            f'width="{max(abs(end - one), 1.0):.1f}" height="{ROW_HEIGHT - 6}" fill="{colour}" '
            f"data-workload={quoteattr(bar.workload)} data-subject={quoteattr(bar.subject)} "
            f"data-baseline={quoteattr(bar.baseline)} "
            f"data-ratio={quoteattr(f'{bar.speed_ratio:g}')}{target_attr} "
            f"data-verdict={quoteattr(bar.verdict)}><title>{escape(tooltip)}</title></rect>"
        )
        # Right of the bar and of the target line, so neither covers the number.
        value_x = max(one, end, x(bar.target) if bar.target is not None else one) + 4
        body.append(
            f'<text class="value" x="{value_x:.1f}" y="{y + 13}">{_fmt(bar.speed_ratio)}</text>'
        )
        if bar.target is not None:
            tx = x(bar.target)
            body.append(
                f'<line class="target" x1="{tx:.1f}" x2="{tx:.1f}" y1="{y}" '
                f'y2="{y + ROW_HEIGHT}" stroke="currentColor" stroke-width="2" '
                f"data-target={quoteattr(f'{bar.target:g}')}/>"
            )
        y += ROW_HEIGHT
    plot_bottom = y + 4
    axis: list[str] = [
        f'<line class="one" x1="{x(1.0):.1f}" x2="{x(1.0):.1f}" y1="{TOP}" '
        f'y2="{plot_bottom}" stroke="currentColor" stroke-opacity="0.6"/>',
        f'<line x1="{left}" x2="{right}" y1="{plot_bottom}" y2="{plot_bottom}" '
        'stroke="currentColor" stroke-opacity="0.6"/>',
    ]
    for tick in TICKS:
        if low <= tick <= high:
            tx = x(tick)
            axis.append(
                f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{TOP}" y2="{plot_bottom}" '
                'stroke="currentColor" stroke-opacity="0.12"/>'
            )
            axis.append(
                f'<text class="tick" x="{tx:.1f}" y="{plot_bottom + 14}" '
                f'text-anchor="middle">{_tick_label(tick)}</text>'
            )
    axis.append(
        f'<text x="{(left + right) / 2:.0f}" y="{plot_bottom + 30}" text-anchor="middle">'
        "speed ratio: times faster than the peer (log scale; above 1x: faster)</text>"
    )
    legend: list[str] = []
    lx = left
    for verdict, text in LEGEND:
        legend.append(
            f'<rect x="{lx}" y="8" width="12" height="12" fill="{COLOURS[verdict]}"/>'
            f'<text x="{lx + 16}" y="18">{text}</text>'
        )
        lx += 24 + 7 * len(text)
    legend.append(
        f'<line x1="{lx + 6}" x2="{lx + 6}" y1="6" y2="22" stroke="currentColor" '
        f'stroke-width="2"/><text x="{lx + 14}" y="18">target</text>'
    )
    if title:
        legend.append(f'<text x="4" y="18" font-weight="bold">{escape(title)}</text>')
    height = plot_bottom + AXIS_HEIGHT + 4
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="benchmark-chart" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" '
        f'style="max-width: {WIDTH}px; height: auto" '
        f'font-family="sans-serif" font-size="12" fill="currentColor" role="img" '
        f"aria-label={quoteattr(title or 'benchmark speed ratios')}>"
        + "".join(legend + axis + body)
        + "</svg>"
    )


# -- the tables --------------------------------------------------------------------------------


def table_rows(
    document: Mapping[str, Any], group: str, metric: str
) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the results of ``group``'s ``metric`` workloads: workload,
    implementation, MB/s (throughput) or median ms (time), spread, one ratio column per
    baseline (in the workload's metric, as the harness prints them) and the targets of the
    row with their verdicts. No rows when the group has no such workload."""
    chosen = [w for w in document["workloads"] if w["group"] == group and w["metric"] == metric]
    baselines: list[str] = []
    for w in chosen:
        baselines += [b for b in w["baselines"] if b not in baselines]
    sign = ">=" if metric == "throughput" else "<="
    rows: list[list[str]] = []
    for w in chosen:
        for impl in w["implementations"]:
            name = impl["name"]
            if impl["capped"]:
                name += f" (capped: {impl['nbytes'] / 1e3:.0f} kB input)"
            if impl["once"]:
                name += " (1 run)"
            if metric == "throughput":
                mbs = impl["mb_per_s"]
                value = f"{mbs:.1f}" if mbs >= 1 else f"{mbs:.3f}"
            else:
                value = f"{impl['median_time'] * 1e3:.1f}"
            ratios = [f"{impl['ratios'][b]:.2f}x" if b in impl["ratios"] else "" for b in baselines]
            targets = [
                f"{t['verdict']} ({sign}{t['target']:g}x {t['baseline']})"
                for t in w["targets"]
                if t["subject"] == impl["name"]
            ]
            spread = f"{impl['spread'] * 100:.0f}%"
            rows.append([w["name"], name, value, spread, *ratios, "; ".join(targets)])
    unit = "MB/s" if metric == "throughput" else "time ms"
    header = ["workload", "implementation", unit, "spread", *(f"vs {b}" for b in baselines)]
    return [*header, "target"], rows


def run_summary(document: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, text) pairs saying when, where and how the run was made (its command under the
    label ``"Command"``), and how many targets it met."""
    machine, framekit, options = document["machine"], document["framekit"], document["options"]
    commit = framekit.get("commit") or "unknown"
    state = " (with uncommitted changes)" if framekit.get("dirty") else ""
    speedups = "with" if framekit.get("speedups") else "without"
    only = f", only {', '.join(options['only'])}" if options["only"] else ""
    lines = [
        ("Command", document["command"]),
        ("Date", f"{document['date']} ({document['elapsed_seconds']:.0f} s)"),
        (
            "Machine",
            f"{machine['cpu_count']} CPUs ({machine['machine']}, {machine['system']}), "
            f"{machine['python_implementation']} {machine['python']}",
        ),
        (
            "framekit",
            f"{framekit['version']} at commit {commit[:12]}{state}, {speedups} its compiled "
            "fast paths (framekit._speedups)",
        ),
        (
            "Options",
            f"{options['rounds']} rounds, inputs at {options['scale']:g} of full size, "
            f"{options['clock']} clock{only}",
        ),
    ]
    peers = document.get("peers") or {}
    if peers:
        lines.append(("Peers", ", ".join(f"{name} {v}" for name, v in peers.items())))
    targets = document["targets"]
    if options["judged"]:
        lines.append(("Targets", f"{targets['met']} of {targets['total']} met"))
    else:
        lines.append(("Targets", f"{targets['total']} not judged (inputs below full size)"))
    return lines
