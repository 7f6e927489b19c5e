"""The benchmark harness: a registry of workloads, an interleaved runner, checks and tables.

A **workload** is a name, an input generator, a dict of implementations and the names of the
baselines its ratio columns compare against. Every implementation is an async callable taking
the input pieces and returning its output (a list of the items or chunks it read); the
workload's ``summarize`` turns that output into a :class:`Checked` (a count and a hash), which
must equal the one the input generator computed, or the run aborts with
:class:`CheckFailed` before any time is printed. An implementation that needs objects made
before its input arrives (a client connection that has sent its request, before it reads the
response) is a :class:`Prepared`: its ``setup`` runs before each timed run, untimed.

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
import textwrap
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
    "Clock",
    "Implementation",
    "Input",
    "LinearityResult",
    "Measurement",
    "Prepared",
    "Report",
    "Target",
    "Workload",
    "bytes_digest",
    "feed_and_read",
    "items_digest",
    "linearity",
    "load_groups",
    "make_inputs",
    "register",
    "registry",
    "run",
    "run_round",
    "select",
    "split_pieces",
]

#: The width the report's text lines are wrapped to (its tables are narrower still).
TEXT_WIDTH = 100

#: Modules that define workload groups, imported by :func:`load_groups`.
GROUP_MODULES: list[str] = [
    "benchmarks.streams",
    "benchmarks.http",
    "benchmarks.http_head",
    "benchmarks.frames",
    "benchmarks.resp",
    "benchmarks.smtp",
]

#: An implementation: takes the input pieces, returns the output to check.
Implementation: TypeAlias = Callable[[Sequence[bytes]], Awaitable[Any]]


@dataclass(frozen=True)
class Prepared:
    """An implementation in two steps, of which only the second is timed.

    ``setup(pieces)`` makes what a user has made before the bytes arrive (for a client reading
    responses: the connections, each having sent its request); it runs before every timed run
    (fresh objects each time, as the run may use them up), before the run's ``gc.collect()``,
    and its time is not counted. ``run(setup(pieces))`` is timed and returns the output to
    check, as a plain implementation does. A table row says nothing of it: the workload's
    docstring and README section say what each row leaves out.
    """

    setup: Callable[[Sequence[bytes]], Any]
    run: Callable[[Any], Awaitable[Any]]


Metric: TypeAlias = Literal["throughput", "time"]

#: What a run is timed by: ``"wall"`` (``time.perf_counter``) or ``"cpu"``
#: (``time.process_time``, this process's CPU time: it leaves out the time other processes
#: ran, so it is steadier on a busy machine; the runs do no I/O, so on an idle machine the
#: two agree).
Clock: TypeAlias = Literal["wall", "cpu"]
CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}


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

    ``max_scale`` caps the input of the named implementations at that fraction of full size
    (for one whose cost grows faster than its input, which would take minutes at full size):
    they read ``make_input(min(scale, cap))``, checked like the others, and their ratios
    compare time per input byte (throughput workloads only). Tables mark them.
    """

    name: str
    group: str
    description: str
    make_input: Callable[[float], Input]
    implementations: Mapping[str, Implementation | Prepared]
    baselines: Sequence[str]
    summarize: Callable[[Any], Checked] = items_digest
    metric: Metric = "throughput"
    subject: str = "framekit"
    targets: Sequence[Target] = ()
    once: frozenset[str] = frozenset()
    notes: Mapping[str, str] = field(default_factory=dict)
    repeat: int = 1
    max_scale: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.repeat < 1:
            raise ValueError(f"workload {self.name!r}: repeat must be at least 1")
        if self.max_scale and self.metric != "throughput":
            raise ValueError(f"workload {self.name!r}: max_scale needs metric='throughput'")
        if any(not cap > 0 for cap in self.max_scale.values()):
            raise ValueError(f"workload {self.name!r}: max_scale values must be above 0")
        names = set(self.implementations)
        missing = [b for b in self.baselines if b not in names]
        missing += [n for n in self.max_scale if n not in names]
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
    #: Per-round ratios (this time / baseline time, same round, per input byte), by baseline.
    time_ratios: dict[str, list[float]] = field(default_factory=dict)
    #: The workload's input size at the run's scale (``nbytes`` unless this one is capped).
    full_nbytes: int = 0

    def __post_init__(self) -> None:
        if not self.full_nbytes:
            self.full_nbytes = self.nbytes

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

    @property
    def capped(self) -> bool:
        """True if this implementation read a smaller input than the workload's (``max_scale``)."""
        return self.nbytes < self.full_nbytes


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


async def _time_one(
    workload: Workload, name: str, inp: Input, clock: Callable[[], float] = time.perf_counter
) -> float:
    impl = workload.implementations[name]
    if isinstance(impl, Prepared):
        call, argument = impl.run, impl.setup(inp.pieces)
    else:
        call, argument = impl, inp.pieces
    gc.collect()
    start = clock()
    output = await call(argument)
    elapsed = clock() - start
    got = workload.summarize(output)
    if got != inp.expected:
        raise CheckFailed(
            f"{workload.name}: {name} read {got.count} items (hash {got.digest}), "
            f"expected {inp.expected.count} (hash {inp.expected.digest})"
        )
    return elapsed


def make_inputs(workload: Workload, scale: float, shrink: float = 1.0) -> dict[str, Input]:
    """The input of each implementation of ``workload`` at ``scale``, by implementation.

    An implementation with a ``max_scale`` cap below ``scale`` gets the input at the cap;
    ``shrink`` divides every scale after capping (the linearity check's smaller input).
    Implementations of equal scale share one input object.
    """
    by_scale: dict[float, Input] = {}
    inputs: dict[str, Input] = {}
    for name in workload.implementations:
        s = min(scale, workload.max_scale.get(name, scale)) / shrink
        if s not in by_scale:
            by_scale[s] = workload.make_input(s)
        inputs[name] = by_scale[s]
    return inputs


async def run_round(
    workload: Workload, inputs: Mapping[str, Input], rnd: int, clock: Clock = "wall"
) -> dict[str, float]:
    """One round of ``workload``: every implementation once (``once`` ones in round 0 only),
    in an order rotated by ``rnd``, each the fastest of ``repeat`` checked runs. Their times
    in seconds by ``clock``, by implementation; raises CheckFailed on a wrong result."""
    timer = CLOCKS[clock]
    names = [n for n in workload.implementations if rnd == 0 or n not in workload.once]
    shift = rnd % len(names)
    times: dict[str, float] = {}
    for name in names[shift:] + names[:shift]:
        inp = inputs[name]
        runs = [await _time_one(workload, name, inp, timer) for _ in range(workload.repeat)]
        times[name] = min(runs)
    return times


async def _run(
    workloads: Sequence[Workload],
    rounds: int,
    scale: float,
    progress: Callable[[str], None] | None,
    clock: Clock,
) -> Report:
    inputs = {w.name: make_inputs(w, scale) for w in workloads}
    measurements: dict[str, dict[str, Measurement]] = {}
    for w in workloads:
        full = max(inp.nbytes for inp in inputs[w.name].values())
        measurements[w.name] = {
            name: Measurement(w, name, inputs[w.name][name].nbytes, full_nbytes=full)
            for name in w.implementations
        }
    for rnd in range(rounds):
        for w in workloads:
            times = await run_round(w, inputs[w.name], rnd, clock)
            measured = measurements[w.name]
            for name, t in times.items():
                measured[name].times.append(t)
            for name, t in times.items():
                for base in w.baselines:
                    if base != name and base in times:
                        # Per input byte: a capped implementation read fewer bytes.
                        ratio = (t / measured[name].nbytes) / (times[base] / measured[base].nbytes)
                        measured[name].time_ratios.setdefault(base, []).append(ratio)
            if progress is not None:
                progress(f"round {rnd + 1}/{rounds} {w.name}")
    return Report(rounds, scale, measurements)


def run(
    workloads: Sequence[Workload],
    *,
    rounds: int = 5,
    scale: float = 1.0,
    progress: Callable[[str], None] | None = None,
    clock: Clock = "wall",
) -> Report:
    """Run ``workloads`` for ``rounds`` interleaved rounds, timed by ``clock``; raise
    CheckFailed on a bad result."""
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    return asyncio.run(_run(workloads, rounds, scale, progress, clock))


# -- linearity ---------------------------------------------------------------------------------

#: A time ratio up to this many times the size ratio counts as linear (caches and the
#: allocator make a 4x input cost a little more than 4x; a quadratic reader costs ~16x).
LINEAR_TOLERANCE = 1.25


@dataclass(frozen=True)
class LinearityResult:
    """One implementation timed on a workload's input and on one ``factor`` times smaller."""

    workload: str
    implementation: str
    small_nbytes: int
    big_nbytes: int
    #: The least seconds over the rounds (as ``timeit`` advises: noise only adds time).
    small_time: float
    big_time: float

    @property
    def time_ratio(self) -> float:
        return self.big_time / self.small_time

    @property
    def size_ratio(self) -> float:
        return self.big_nbytes / self.small_nbytes

    @property
    def linear(self) -> bool:
        """True if the time grew no more than :data:`LINEAR_TOLERANCE` times the size."""
        return self.time_ratio <= LINEAR_TOLERANCE * self.size_ratio


async def _linearity(
    workloads: Sequence[Workload],
    scale: float,
    factor: float,
    rounds: int,
    progress: Callable[[str], None] | None,
    clock: Clock,
) -> list[LinearityResult]:
    results = []
    for w in workloads:
        big = make_inputs(w, scale)
        small = make_inputs(w, scale, shrink=factor)
        times: dict[str, tuple[list[float], list[float]]] = {
            name: ([], []) for name in w.implementations
        }
        # Round 0 warms up (first runs pay for allocations the later ones reuse): not kept.
        for rnd in range(rounds + 1):
            # Alternate which size runs first, so that drift over a round cancels out.
            sizes = [(0, small), (1, big)]
            for index, inputs in sizes if rnd % 2 == 0 else sizes[::-1]:
                for name, t in (await run_round(w, inputs, rnd, clock)).items():
                    if rnd:
                        times[name][index].append(t)
            if progress is not None:
                progress(f"linearity round {rnd}/{rounds} {w.name}")
        for name, (small_times, big_times) in times.items():
            if small_times:  # not a ``once`` implementation
                results.append(
                    LinearityResult(
                        w.name,
                        name,
                        small[name].nbytes,
                        big[name].nbytes,
                        min(small_times),
                        min(big_times),
                    )
                )
    return results


def linearity(
    workloads: Sequence[Workload],
    *,
    scale: float = 1.0,
    factor: float = 4.0,
    rounds: int = 3,
    progress: Callable[[str], None] | None = None,
    clock: Clock = "wall",
) -> list[LinearityResult]:
    """Time every implementation of ``workloads`` at ``scale`` and at ``scale / factor``.

    Capped implementations (``max_scale``) are timed at their cap and a ``factor`` smaller
    input; ``once`` implementations are left out. After a warm-up round, ``rounds`` rounds
    alternate the two sizes; each time is the least over them. Every result is checked
    (CheckFailed on a wrong one). A linear reader's time ratio is about the size ratio
    (``factor``, unless an input generator's minimum size clamps the smaller input). Times
    are taken by ``clock``.
    """
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    if factor <= 1:
        raise ValueError("factor must be above 1")
    return asyncio.run(_linearity(workloads, scale, factor, rounds, progress, clock))


def format_linearity(results: Sequence[LinearityResult], markdown: bool = False) -> str:
    """A table of linearity results: sizes, median times, time ratio, verdict."""
    header = ["workload", "implementation", "n", "larger", "ms at n", "ms larger"]
    header += ["time x", "size x", "verdict"]
    rows = [
        [
            r.workload,
            r.implementation,
            _fmt_size(r.small_nbytes),
            _fmt_size(r.big_nbytes),
            f"{r.small_time * 1e3:.1f}",
            f"{r.big_time * 1e3:.1f}",
            f"{r.time_ratio:.2f}",
            f"{r.size_ratio:.2f}",
            "linear" if r.linear else "SUPERLINEAR",
        ]
        for r in results
    ]
    title = textwrap.fill(
        "Linearity (time x: time at the larger input / time at n; size x: the larger size / n; "
        f"linear: time x about size x, within {LINEAR_TOLERANCE:g}x)",
        width=TEXT_WIDTH,
    )
    return ("### " if markdown else "") + title + "\n\n" + format_table(header, rows, markdown)


# -- tables ------------------------------------------------------------------------------------


def _fmt_ratio(r: float | None) -> str:
    return "-" if r is None else f"{r:.2f}x"


def _fmt_size(nbytes: int) -> str:
    if nbytes >= 10**6:
        return f"{nbytes / 1e6:.1f} MB"
    return f"{nbytes / 1e3:.0f} kB"


def _target_text(w: Workload, target: Target) -> str:
    sign = ">=" if w.metric == "throughput" else "<="
    return f"{sign}{target.ratio:g}x {target.baseline}"


def table_rows(
    report: Report, metric: Metric, group: str | None = None
) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the table of ``metric`` workloads (of ``group``, or of every group).

    One ratio column per baseline that the table's workloads name; targets are in
    :func:`target_rows`, so that a table stays narrow.
    """
    rows: list[list[str]] = []
    baselines: list[str] = []
    chosen = [
        (w, per_impl)
        for per_impl in report.measurements.values()
        for w in [next(iter(per_impl.values())).workload]
        if w.metric == metric and (group is None or w.group == group)
    ]
    for w, _ in chosen:
        baselines += [b for b in w.baselines if b not in baselines]
    for w, per_impl in chosen:
        for name, m in per_impl.items():
            note = " (1 run)" if name in w.once and report.rounds > 1 else ""
            if m.capped:
                note += f" (capped: {_fmt_size(m.nbytes)} input)"
            if metric == "throughput":
                # Three decimals for a capped quadratic reader's fraction of a MB/s.
                value = [f"{m.throughput:.1f}" if m.throughput >= 1 else f"{m.throughput:.3f}"]
            else:
                value = [f"{m.median_time * 1e3:.1f}"]
            rows.append(
                [w.name, name + note, *value, f"{m.spread() * 100:.0f}%"]
                + [
                    _fmt_ratio(m.ratio(b)) if b in w.baselines and b != name else ""
                    for b in baselines
                ]
            )
    if metric == "throughput":
        header = ["workload", "implementation", "MB/s", "spread"]
    else:
        header = ["workload", "implementation", "time ms", "spread"]
    return header + [f"vs {b}" for b in baselines], rows


def target_rows(report: Report) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the targets table: each target, the ratio measured, ok or MISSED."""
    rows = []
    for w in report.workloads():
        for res in report.target_results(w):
            rows.append(
                [
                    w.name,
                    res.target.subject or w.subject,
                    _target_text(w, res.target),
                    _fmt_ratio(res.ratio),
                    "ok" if res.met else "MISSED",
                ]
            )
    return ["workload", "implementation", "target", "measured", "verdict"], rows


def missed_targets(report: Report) -> list[str]:
    """One line per target ``report`` missed: workload, implementation, target and ratio."""
    return [
        f"{w.name} {res.target.subject or w.subject}: {_target_text(w, res.target)}, "
        f"measured {_fmt_ratio(res.ratio)}"
        for w in report.workloads()
        for res in report.target_results(w)
        if not res.met
    ]


def split_columns(
    header: list[str], rows: list[list[str]], first: int, width: int = TEXT_WIDTH
) -> list[tuple[list[str], list[list[str]]]]:
    """The table cut into tables of at most ``width`` columns: the first ``first`` columns,
    then as many of the others as fit, then the first two columns (workload, implementation)
    with the next ones that fit, and so on."""
    widths = [max(len(x) for x in col) for col in zip(header, *rows, strict=True)]

    def fits(columns: list[int]) -> bool:
        return sum(widths[c] for c in columns) + 2 * (len(columns) - 1) <= width

    tables = []
    columns = list(range(first))
    for column in range(first, len(header)):
        if not fits([*columns, column]) and len(columns) > 2:
            tables.append(columns)
            columns = [0, 1]
        columns.append(column)
    tables.append(columns)
    return [
        ([header[c] for c in cols], [[row[c] for c in cols] for row in rows]) for cols in tables
    ]


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


def format_report(report: Report, markdown: bool = False, judge_targets: bool = True) -> str:
    """The tables of ``report`` (one per metric and workload group), the targets, the notes.

    With ``judge_targets`` False (a run on smaller inputs than full size, where the ratios
    say little), the targets table is left out and a line says they were not judged.
    """
    titles: dict[Metric, str] = {
        "throughput": "Throughput (median MB/s; speed ratio: times faster, >1 is faster)",
        "time": "Time (median ms; time ratio: this time / baseline time, <1 is faster)",
    }
    heading = "### " if markdown else ""
    parts = []
    groups = list(dict.fromkeys(w.group for w in report.workloads()))
    for metric, title in titles.items():
        for group in groups:
            header, rows = table_rows(report, metric, group)
            if rows:
                parts.append(f"{heading}{title}: {group}")
                tables = [(header, rows)] if markdown else split_columns(header, rows, 4)
                parts += [format_table(h, r, markdown) for h, r in tables]
    header, rows = target_rows(report)
    if rows and judge_targets:
        missed = sum(row[-1] == "MISSED" for row in rows)
        parts.append(f"{heading}Targets: {len(rows) - missed} of {len(rows)} met")
        parts.append(format_table(header, rows, markdown))
    elif rows:
        parts.append(
            textwrap.fill(
                f"Targets: {len(rows)} not judged: the inputs are {report.scale:g} of full "
                "size, where the ratios say little (a full run, without --quick or --scale, "
                "judges them).",
                width=TEXT_WIDTH,
            )
        )
    notes = []
    for w in report.workloads():
        for impl, note in w.notes.items():
            notes.append(
                textwrap.fill(
                    f"- {w.name} / {impl}: {note}", width=TEXT_WIDTH, subsequent_indent="  "
                )
            )
    if notes:
        parts.append(("Notes:\n" if not markdown else "Notes:\n\n") + "\n".join(notes))
    return "\n\n".join(parts)
