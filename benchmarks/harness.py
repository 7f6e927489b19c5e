"""The benchmark harness: a registry of workloads, an interleaved runner, checks and tables.

A **workload** is a name, an input generator, a dict of implementations and the names of the
baselines its ratio columns compare against. Every implementation is an async callable taking
the input pieces and returning its output (a list of the items or chunks it read); the
workload's ``summarize`` turns that output into a :class:`Checked` (a count and a hash), which
must equal the one the input generator computed, or the run aborts with
:class:`CheckFailed` before any time is printed.

The runner times every implementation of every selected workload once per round, in one event
loop, in an order rotated from round to round (round-robin), and reports medians over the
rounds. Ratios are taken within a round (both times come from the same few seconds of a noisy
machine) and their median is reported.

To add a workload group, write a module that builds :class:`Workload` objects and calls
:func:`register` for each, then list the module in ``GROUP_MODULES`` below.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import importlib
import statistics
import time
from array import array
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Literal, TypeAlias, TypeVar

__all__ = [
    "GROUP_MODULES",
    "CheckFailed",
    "Checked",
    "Implementation",
    "Input",
    "Measurement",
    "Report",
    "Target",
    "Workload",
    "bytes_digest",
    "feed_and_read",
    "items_digest",
    "load_groups",
    "register",
    "registry",
    "run",
    "select",
    "split_pieces",
]

#: Modules that define workload groups, imported by :func:`load_groups`.
GROUP_MODULES: list[str] = ["benchmarks.streams", "benchmarks.http", "benchmarks.frames"]

#: An implementation: takes the input pieces, returns the output to check.
Implementation: TypeAlias = Callable[[Sequence[bytes]], Awaitable[Any]]

Metric: TypeAlias = Literal["throughput", "time"]


class CheckFailed(AssertionError):
    """An implementation's output does not match the expected count and hash."""


@dataclass(frozen=True)
class Checked:
    """What a check compares: how many items were read and a hash of them."""

    count: int
    digest: str


def items_digest(items: Sequence[bytes]) -> Checked:
    """Count and hash of a sequence of items, item boundaries included."""
    h = hashlib.blake2b(digest_size=16)
    h.update(array("Q", map(len, items)).tobytes())
    h.update(b"".join(items))
    return Checked(len(items), h.hexdigest())


def bytes_digest(chunks: Iterable[bytes]) -> Checked:
    """Total length and hash of the concatenated chunks (chunk boundaries ignored)."""
    data = b"".join(chunks)
    return Checked(len(data), hashlib.blake2b(data, digest_size=16).hexdigest())


@dataclass(frozen=True)
class Input:
    """A workload's input: the pieces fed one by one, and what reading them must give."""

    pieces: Sequence[bytes]
    expected: Checked
    #: Payload size, for the throughput column.
    nbytes: int


@dataclass(frozen=True)
class Target:
    """A goal for ``subject`` against ``baseline``, as a ratio measured in one run.

    For a throughput workload the ratio is subject MB/s over baseline MB/s and must be at
    least ``ratio``; for a time workload it is subject time over baseline time and must be at
    most ``ratio``. ``subject`` (default: the workload's ``subject``) is the implementation
    the goal is for, when a workload has goals for several of its implementations.
    """

    baseline: str
    ratio: float
    subject: str | None = None


@dataclass(frozen=True)
class Workload:
    """One benchmark: an input and several implementations reading it.

    ``make_input(scale)`` builds the input; ``scale`` is 1.0 for a full run and smaller for
    ``--quick`` and the smoke test. ``summarize(output)`` turns an implementation's output into
    a :class:`Checked`. ``once`` names implementations run in the first round only (for
    peers whose cost on this workload is pathological), with ``notes`` saying why.
    ``repeat`` runs each implementation that many times in a row within a round and keeps
    the fastest (for workloads of a few tens of milliseconds, where one busy moment on a
    shared machine would otherwise decide a round; every run is checked).
    """

    name: str
    group: str
    description: str
    make_input: Callable[[float], Input]
    implementations: Mapping[str, Implementation]
    baselines: Sequence[str]
    summarize: Callable[[Any], Checked] = items_digest
    metric: Metric = "throughput"
    subject: str = "framekit"
    targets: Sequence[Target] = ()
    once: frozenset[str] = frozenset()
    notes: Mapping[str, str] = field(default_factory=dict)
    repeat: int = 1

    def __post_init__(self) -> None:
        if self.repeat < 1:
            raise ValueError(f"workload {self.name!r}: repeat must be at least 1")
        names = set(self.implementations)
        missing = [b for b in self.baselines if b not in names]
        missing += [t.baseline for t in self.targets if t.baseline not in names]
        missing += [t.subject for t in self.targets if t.subject and t.subject not in names]
        if any(t.subject is None for t in self.targets) and self.subject not in names:
            missing.append(self.subject)
        if missing:
            raise ValueError(f"workload {self.name!r}: unknown implementations {missing}")


_REGISTRY: dict[str, Workload] = {}


def register(workload: Workload) -> Workload:
    """Add ``workload`` to the registry (names are unique)."""
    if workload.name in _REGISTRY:
        raise ValueError(f"workload {workload.name!r} is already registered")
    _REGISTRY[workload.name] = workload
    return workload


def load_groups() -> None:
    """Import every module of ``GROUP_MODULES`` (each registers its workloads)."""
    for module in GROUP_MODULES:
        importlib.import_module(module)


def registry() -> dict[str, Workload]:
    """Every registered workload, by name, in registration order."""
    load_groups()
    return dict(_REGISTRY)


def select(patterns: Sequence[str] = ()) -> list[Workload]:
    """Workloads whose name or group matches one of the shell-style ``patterns`` (all if none).

    A pattern also matches a name it is a prefix of up to a ``/``, so ``lines-lf`` selects
    ``lines-lf/64k`` and ``lines-lf/1460``.
    """
    workloads = list(registry().values())
    if not patterns:
        return workloads

    def matches(w: Workload, p: str) -> bool:
        return (
            fnmatchcase(w.name, p)
            or fnmatchcase(w.group, p)
            or w.name.startswith(p.rstrip("/") + "/")
        )

    chosen = [w for w in workloads if any(matches(w, p) for p in patterns)]
    if not chosen:
        known = ", ".join(sorted({w.group for w in workloads} | {w.name for w in workloads}))
        raise SystemExit(f"no workload matches {list(patterns)}; known: {known}")
    return chosen


# -- feeding -----------------------------------------------------------------------------------


def split_pieces(payload: bytes, size: int) -> list[bytes]:
    """``payload`` cut into pieces of ``size`` bytes (the last may be shorter)."""
    return [payload[i : i + size] for i in range(0, len(payload), size)]


R = TypeVar("R")


async def feed_and_read(
    reader: Any,
    pieces: Sequence[bytes],
    consume: Callable[[Any], Coroutine[Any, Any, R]],
) -> R:
    """Run ``consume(reader)`` in a task while feeding ``pieces`` the way a transport does.

    A transport calls ``protocol.data_received`` from a loop callback, once per received
    piece; here a chain of ``loop.call_soon`` callbacks feeds one piece each, then EOF. The
    reader task, woken by a piece, runs before the next piece is fed (its wake-up is
    scheduled first), as with a real socket. Identical for every implementation.
    """
    loop = asyncio.get_running_loop()
    task: asyncio.Task[R] = loop.create_task(consume(reader))
    feed_data = reader.feed_data
    it = iter(pieces)

    def feed() -> None:
        if task.done():  # the reader failed: stop feeding, let the await raise
            return
        piece = next(it, None)
        if piece is None:
            reader.feed_eof()
        else:
            feed_data(piece)
            loop.call_soon(feed)

    loop.call_soon(feed)
    return await task


# -- running -----------------------------------------------------------------------------------


@dataclass
class Measurement:
    """The times of one implementation on one workload, one per round it ran."""

    workload: Workload
    implementation: str
    nbytes: int
    times: list[float] = field(default_factory=list)
    #: Per-round ratios (this time / baseline time, same round), by baseline name.
    time_ratios: dict[str, list[float]] = field(default_factory=dict)

    @property
    def median_time(self) -> float:
        return statistics.median(self.times)

    @property
    def throughput(self) -> float:
        """MB/s (10**6 bytes per second) at the median time."""
        return self.nbytes / self.median_time / 1e6

    def ratio(self, baseline: str) -> float | None:
        """Median over rounds of the ratio to ``baseline``, in the workload's metric.

        Throughput: baseline time / this time (above 1 is faster). Time: this time / baseline
        time (below 1 is faster).
        """
        ratios = self.time_ratios.get(baseline)
        if not ratios:
            return None
        r = statistics.median(ratios)
        return 1.0 / r if self.workload.metric == "throughput" else r

    def spread(self) -> float:
        """(max - min) / median of the times: a rough noise gauge."""
        if len(self.times) < 2:
            return 0.0
        return (max(self.times) - min(self.times)) / self.median_time


@dataclass(frozen=True)
class TargetResult:
    target: Target
    ratio: float | None
    met: bool


@dataclass
class Report:
    """Every measurement of a run, by workload name then implementation."""

    rounds: int
    scale: float
    measurements: dict[str, dict[str, Measurement]]

    def target_results(self, workload: Workload) -> list[TargetResult]:
        results = []
        measured = self.measurements[workload.name]
        for target in workload.targets:
            subject = measured.get(target.subject or workload.subject)
            ratio = subject.ratio(target.baseline) if subject is not None else None
            if ratio is None:
                met = False
            elif workload.metric == "throughput":
                met = ratio >= target.ratio
            else:
                met = ratio <= target.ratio
            results.append(TargetResult(target, ratio, met))
        return results

    def workloads(self) -> list[Workload]:
        return [next(iter(per.values())).workload for per in self.measurements.values()]

    def all_targets_met(self) -> bool:
        return all(r.met for w in self.workloads() for r in self.target_results(w))


async def _time_one(workload: Workload, name: str, inp: Input) -> float:
    impl = workload.implementations[name]
    gc.collect()
    start = time.perf_counter()
    output = await impl(inp.pieces)
    elapsed = time.perf_counter() - start
    got = workload.summarize(output)
    if got != inp.expected:
        raise CheckFailed(
            f"{workload.name}: {name} read {got.count} items (hash {got.digest}), "
            f"expected {inp.expected.count} (hash {inp.expected.digest})"
        )
    return elapsed


async def _run(
    workloads: Sequence[Workload],
    rounds: int,
    scale: float,
    progress: Callable[[str], None] | None,
) -> Report:
    inputs = {w.name: w.make_input(scale) for w in workloads}
    measurements = {
        w.name: {name: Measurement(w, name, inputs[w.name].nbytes) for name in w.implementations}
        for w in workloads
    }
    for rnd in range(rounds):
        for w in workloads:
            names = [n for n in w.implementations if rnd == 0 or n not in w.once]
            shift = rnd % len(names)
            order = names[shift:] + names[:shift]
            times: dict[str, float] = {}
            for name in order:
                times[name] = min(
                    [await _time_one(w, name, inputs[w.name]) for _ in range(w.repeat)]
                )
                measurements[w.name][name].times.append(times[name])
            for name, t in times.items():
                for base in w.baselines:
                    if base != name and base in times:
                        ratios = measurements[w.name][name].time_ratios
                        ratios.setdefault(base, []).append(t / times[base])
            if progress is not None:
                progress(f"round {rnd + 1}/{rounds} {w.name}")
    return Report(rounds, scale, measurements)


def run(
    workloads: Sequence[Workload],
    *,
    rounds: int = 5,
    scale: float = 1.0,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Run ``workloads`` for ``rounds`` interleaved rounds; raise CheckFailed on a bad result."""
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    return asyncio.run(_run(workloads, rounds, scale, progress))


# -- tables ------------------------------------------------------------------------------------


def _fmt_ratio(r: float | None) -> str:
    return "-" if r is None else f"{r:.2f}x"


def _target_cell(report: Report, w: Workload, impl: str) -> str:
    cells = []
    for res in report.target_results(w):
        if (res.target.subject or w.subject) != impl:
            continue
        sign = ">=" if w.metric == "throughput" else "<="
        verdict = "ok" if res.met else "MISSED"
        cells.append(f"{verdict} ({sign}{res.target.ratio:g}x {res.target.baseline})")
    return "; ".join(cells)


def table_rows(report: Report, metric: Metric) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the table of ``metric`` workloads."""
    rows: list[list[str]] = []
    baselines: list[str] = []
    for per_impl in report.measurements.values():
        w = next(iter(per_impl.values())).workload
        if w.metric == metric:
            baselines += [b for b in w.baselines if b not in baselines]
    for per_impl in report.measurements.values():
        w = next(iter(per_impl.values())).workload
        if w.metric != metric:
            continue
        for name, m in per_impl.items():
            note = " (1 run)" if name in w.once and report.rounds > 1 else ""
            if metric == "throughput":
                value = [f"{m.throughput:.1f}"]
            else:
                value = [f"{m.median_time * 1e3:.1f}"]
            rows.append(
                [w.name, name + note, *value, f"{m.spread() * 100:.0f}%"]
                + [
                    _fmt_ratio(m.ratio(b)) if b in w.baselines and b != name else ""
                    for b in baselines
                ]
                + [_target_cell(report, w, name)]
            )
    if metric == "throughput":
        header = ["workload", "implementation", "MB/s", "spread"]
        header += [f"speed vs {b}" for b in baselines]
    else:
        header = ["workload", "implementation", "time ms", "spread"]
        header += [f"time vs {b}" for b in baselines]
    return [*header, "target"], rows


def format_table(header: list[str], rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(header) + " |"]
        lines.append("|" + "|".join("---" if i < 2 else "--:" for i in range(len(header))) + "|")
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(lines)
    widths = [max(len(x) for x in col) for col in zip(header, *rows, strict=True)]
    out = ["  ".join(h.ljust(wd) for h, wd in zip(header, widths, strict=True)).rstrip()]
    out.append("  ".join("-" * wd for wd in widths))
    for r in rows:
        cells = [
            c.ljust(wd) if i < 2 or i == len(r) - 1 else c.rjust(wd)
            for i, (c, wd) in enumerate(zip(r, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)


def format_report(report: Report, markdown: bool = False) -> str:
    """The tables of ``report`` (one per metric), then the workloads' notes."""
    titles: dict[Metric, str] = {
        "throughput": "Throughput (median MB/s; speed ratio = how many times faster, >1 is faster)",
        "time": "Time (median ms; time ratio = this time / baseline time, <1 is faster)",
    }
    parts = []
    for metric, title in titles.items():
        header, rows = table_rows(report, metric)
        if rows:
            parts.append(("### " if markdown else "") + title)
            parts.append(format_table(header, rows, markdown))
    notes = []
    for w in report.workloads():
        for impl, note in w.notes.items():
            notes.append(f"- {w.name} / {impl}: {note}")
    if notes:
        parts.append(("Notes:\n" if not markdown else "Notes:\n\n") + "\n".join(notes))
    return "\n\n".join(parts)
