"""``python -m benchmarks --ab REV``: the same workloads with two framekit versions, interleaved.

Two packages named ``framekit`` cannot share a process, so each version runs in a worker
process of its own (``python -m benchmarks --ab-worker``), a fresh pair every round: a worker
builds its inputs, then runs one round of one workload per request (JSON lines on its stdin
and stdout) while the other waits. The parent asks them in turns, old then new, then new then
old for the next workload (so that a drift of the machine's speed falls on both), and reports
per row the median over rounds of new time / old time, both from the same round. The
benchmark code is this checkout's for both; only ``framekit`` differs.

"old" is framekit at git revision ``REV``: ``git archive REV`` unpacked in a temporary
directory and installed there with ``pip install --no-deps --target`` (which builds its C
extension), cached by commit and Python version under ``$TMPDIR/framekit-ab-<uid>/``. ``REV``
may also be a directory holding a ``framekit`` package (another checkout), used as it is.
"new" is this checkout's ``framekit``, with the extension built in place (a warning says when
a ``.c`` file is newer than its build).
"""

from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.machinery import EXTENSION_SUFFIXES, ExtensionFileLoader
from pathlib import Path
from typing import IO, Any

from benchmarks.harness import (
    TEXT_WIDTH,
    CheckFailed,
    Clock,
    Input,
    Workload,
    format_table,
    make_inputs,
    run_round,
)

__all__ = ["AB_THRESHOLD", "ABReport", "ABRow", "format_ab", "prepare", "run_ab", "worker_main"]

#: A row is flagged when new time / old time is above this.
AB_THRESHOLD = 1.03

REPO_ROOT = Path(__file__).resolve().parent.parent


# -- the two versions --------------------------------------------------------------------------


def _git(*args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(REPO_ROOT), *args], capture_output=True, text=True, check=False
    )
    if result.returncode:
        raise SystemExit(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout.strip()


def prepare(rev: str) -> tuple[Path, str]:
    """A directory whose ``framekit`` package is framekit at ``rev``, and a label for it.

    ``rev`` is a directory holding a ``framekit`` package (returned as it is) or a git
    revision of this repository (unpacked and installed with its C extension, or taken from
    the cache). Raises SystemExit if the revision is unknown or the install fails.
    """
    path = Path(rev)
    if (path / "framekit" / "__init__.py").is_file():
        return path.resolve(), f"{rev} (directory)"
    try:
        sha = _git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except SystemExit:
        raise SystemExit(
            f"--ab {rev}: neither a git revision nor a directory with a framekit package"
        ) from None
    label = f"{rev} ({sha[:10]})"
    cache = Path(tempfile.gettempdir()) / f"framekit-ab-{os.getuid()}"
    site = cache / f"{sha[:16]}-{sys.implementation.cache_tag}"
    if (site / "framekit" / "__init__.py").is_file():
        return site, label
    cache.mkdir(parents=True, exist_ok=True)
    print(f"building framekit at {label} in {site}", file=sys.stderr, flush=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "archive", "--format=tar", sha],
        capture_output=True,
        check=True,
    ).stdout
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        tree = Path(tmp) / "tree"
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            if hasattr(tarfile, "data_filter"):  # Python 3.10.12 and later
                tar.extractall(tree, filter="data")
            else:
                tar.extractall(tree)  # this repository's own archive
        built = Path(tmp) / "site"
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"]
        install = subprocess.run(
            [*pip, "--target", str(built), str(tree)],
            capture_output=True,
            text=True,
            check=False,
        )
        if install.returncode:
            raise SystemExit(f"pip could not install framekit at {label}:\n{install.stderr}")
        try:
            built.rename(site)
        except OSError:  # another run built it meanwhile
            if not (site / "framekit" / "__init__.py").is_file():
                raise
    return site, label


def stale_extensions(root: Path) -> list[str]:
    """The ``.c`` files under ``root/framekit`` with no build newer than themselves."""
    stale = []
    for source in sorted((root / "framekit").rglob("*.c")):
        builds = [source.with_name(source.stem + suffix) for suffix in EXTENSION_SUFFIXES]
        mtimes = [b.stat().st_mtime for b in builds if b.exists()]
        if not mtimes or max(mtimes) < source.stat().st_mtime:
            stale.append(str(source.relative_to(root)))
    return stale


# -- the worker --------------------------------------------------------------------------------


def _compiled_modules() -> list[str]:
    return sorted(
        name
        for name, module in list(sys.modules.items())
        if name.split(".")[0] == "framekit"
        and isinstance(
            getattr(getattr(module, "__spec__", None), "loader", None), ExtensionFileLoader
        )
    )


def _send(out: IO[str], message: dict[str, Any]) -> None:
    out.write(json.dumps(message) + "\n")
    out.flush()


def worker_main(scale: float, clock: Clock) -> int:
    """Serve the A/B parent: one round of one workload per request line, until stdin closes.

    A request is ``{"workload": name, "round": r, "repeat": k}``: the round is run ``k``
    times, and each implementation's least time is kept. Writes a hello (where ``framekit``
    was imported from, its compiled modules), then one reply per request: ``{"times":
    {implementation: seconds}}``, or ``{"error": message}`` for a wrong result (the worker
    then stops, with status 2).
    """
    import asyncio

    import framekit
    from benchmarks.harness import registry

    out = sys.stdout
    sys.stdout = sys.stderr  # anything printed by the code measured stays off the replies
    workloads = registry()
    _send(out, {"framekit": framekit.__file__, "compiled": _compiled_modules()})
    inputs: dict[str, dict[str, Input]] = {}
    loop = asyncio.new_event_loop()
    try:
        for line in sys.stdin:
            request = json.loads(line)
            w = workloads[request["workload"]]
            if w.name not in inputs:
                inputs[w.name] = make_inputs(w, scale)
            times: dict[str, float] = {}
            try:
                for _ in range(request["repeat"]):
                    rnd = request["round"]
                    got = loop.run_until_complete(run_round(w, inputs[w.name], rnd, clock))
                    for name, t in got.items():
                        times[name] = min(t, times.get(name, t))
            except CheckFailed as e:
                _send(out, {"error": str(e)})
                return 2
            _send(out, {"times": times})
    finally:
        loop.close()
    return 0


class _Worker:
    """A worker process running this checkout's benchmarks with the framekit in ``root``."""

    def __init__(self, side: str, root: Path, scale: float, clock: Clock, cwd: str) -> None:
        self.side = side
        env = dict(os.environ)
        # The worker's cwd (first on its sys.path) is an empty directory: ``framekit`` comes
        # from ``root``, ``benchmarks`` from this checkout.
        env["PYTHONPATH"] = os.pathsep.join([str(root), str(REPO_ROOT)])
        # The same string hashes (dict and set layouts) on both sides.
        env.setdefault("PYTHONHASHSEED", "0")
        command = [sys.executable, "-m", "benchmarks", "--ab-worker", "--scale", repr(scale)]
        command += ["--clock", clock]
        self._proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=cwd
        )
        hello = self._receive()
        self.framekit = Path(hello["framekit"]).resolve()
        self.compiled: list[str] = hello["compiled"]
        if not self.framekit.is_relative_to(root.resolve()):
            self.close()
            raise SystemExit(f"{side}: framekit was imported from {self.framekit}, not {root}")

    def _receive(self) -> dict[str, Any]:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            status = self._proc.wait()
            raise SystemExit(f"the {self.side} worker exited (status {status}); see above")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def run(self, workload: str, rnd: int, repeat: int) -> dict[str, float]:
        assert self._proc.stdin is not None
        request = {"workload": workload, "round": rnd, "repeat": repeat}
        self._proc.stdin.write(json.dumps(request) + "\n")
        self._proc.stdin.flush()
        reply = self._receive()
        if "error" in reply:
            raise CheckFailed(f"{self.side}: {reply['error']}")
        times: dict[str, float] = reply["times"]
        return times

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


# -- the run -----------------------------------------------------------------------------------


@dataclass
class ABRow:
    """One implementation on one workload: its times with the old and the new framekit."""

    workload: str
    implementation: str
    #: Seconds, one per round, paired: the same round's old and new times.
    old_times: list[float] = field(default_factory=list)
    new_times: list[float] = field(default_factory=list)

    @property
    def ratios(self) -> list[float]:
        return [new / old for old, new in zip(self.old_times, self.new_times, strict=True)]

    @property
    def ratio(self) -> float:
        """Median over rounds of new time / old time (below 1: the new one is faster)."""
        return statistics.median(self.ratios)

    @property
    def slower(self) -> bool:
        """True if the median ratio is above ``AB_THRESHOLD``."""
        return self.ratio > AB_THRESHOLD

    @property
    def slower_every_round(self) -> bool:
        """True if ``slower`` and the new time was above the old one in every round.

        ``--ab HEAD`` at ``--quick`` size flags 5-10% of the rows of identical code as
        ``slower`` (runs of a few milliseconds). Slower in every round by chance: 2-3 of 113
        rows in runs of 4 rounds, none in a run of 8 (a row's chance is 1/2**rounds).
        """
        return self.slower and min(self.ratios) > 1.0


@dataclass
class ABReport:
    rounds: int
    scale: float
    repeat: int
    clock: Clock
    #: Per side ("old", "new"): its label, where framekit came from, its compiled modules.
    sides: dict[str, dict[str, Any]]
    rows: list[ABRow]


def run_ab(
    workloads: Sequence[Workload],
    rev: str,
    *,
    rounds: int = 5,
    scale: float = 1.0,
    repeat: int = 1,
    clock: Clock = "cpu",
    progress: Callable[[str], None] | None = None,
) -> ABReport:
    """Run ``workloads`` with framekit at ``rev`` ("old") and this checkout's ("new").

    Each turn of a side runs a workload's round ``repeat`` times and keeps each
    implementation's least time (noise only adds time: short runs on a busy machine need a
    few). Times are taken by ``clock`` (default: CPU time). Raises CheckFailed if either side
    reads a wrong result, SystemExit if a side cannot be prepared or started.
    """
    if rounds < 1 or repeat < 1:
        raise ValueError("rounds and repeat must be at least 1")
    old_root, old_label = prepare(rev)
    new_label = "checkout " + _git("describe", "--always", "--dirty")
    for root, side in ((REPO_ROOT, "new"), (old_root, "old")):
        for source in stale_extensions(root):
            print(f"warning: {side}: {source} is newer than its build", file=sys.stderr)
    rows: dict[tuple[str, str], ABRow] = {}
    sides: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as cwd:
        for rnd in range(rounds):
            # Fresh processes every round: a process's memory layout can make everything in it
            # a few percent faster or slower for its whole life (seen: 2-3%, peers included,
            # changing sign from run to run); over rounds that becomes noise the median takes.
            old = _Worker("old", old_root, scale, clock, cwd)
            try:
                new = _Worker("new", REPO_ROOT, scale, clock, cwd)
            except BaseException:
                old.close()
                raise
            try:
                for index, w in enumerate(workloads):
                    pair = (old, new) if (rnd + index) % 2 == 0 else (new, old)
                    times = {worker.side: worker.run(w.name, rnd, repeat) for worker in pair}
                    for name in times["old"]:
                        row = rows.setdefault((w.name, name), ABRow(w.name, name))
                        row.old_times.append(times["old"][name])
                        row.new_times.append(times["new"][name])
                    if progress is not None:
                        progress(f"round {rnd + 1}/{rounds} {w.name}")
            finally:
                old.close()
                new.close()
            for worker, label in ((old, old_label), (new, new_label)):
                sides[worker.side] = {
                    "label": label,
                    "framekit": str(worker.framekit),
                    "compiled": worker.compiled,
                }
    return ABReport(rounds, scale, repeat, clock, sides, list(rows.values()))


def _flag(row: ABRow) -> str:
    if row.slower_every_round:
        return f"SLOWER (>{(AB_THRESHOLD - 1) * 100:g}%, every round)"
    return "slower?" if row.slower else ""


def format_ab(report: ABReport, markdown: bool = False) -> str:
    """The A/B table: per row the median old and new times and their median ratio, flagged
    when the new one is slower by more than ``AB_THRESHOLD``: ``SLOWER`` if it was slower in
    every round, ``slower?`` if not (which the noise of short runs gives)."""
    lines = []
    for side, info in report.sides.items():
        compiled = ", ".join(info["compiled"]) or "none"
        lines.append(f"{side}: {info['label']}: {info['framekit']} (compiled: {compiled})")
    header = ["workload", "implementation", "old ms", "new ms", "new/old", "range", "flag"]
    rows = []
    for r in report.rows:
        ratios = r.ratios
        rows.append(
            [
                r.workload,
                r.implementation,
                f"{statistics.median(r.old_times) * 1e3:.1f}",
                f"{statistics.median(r.new_times) * 1e3:.1f}",
                f"{r.ratio:.3f}",
                f"{min(ratios):.2f}-{max(ratios):.2f}",
                _flag(r),
            ]
        )
    slower = [r for r in report.rows if r.slower]
    firm = [r for r in slower if r.slower_every_round]
    own = [r for r in firm if r.implementation.startswith("framekit")]
    title = textwrap.fill(
        "A/B (time ratio new/old: median over rounds of the same round's times, each the "
        f"least of {report.repeat}, {report.clock} time; <1 is faster)",
        width=TEXT_WIDTH,
    )
    summary = textwrap.fill(
        f"{len(slower)} of {len(report.rows)} rows slower by more than "
        f"{(AB_THRESHOLD - 1) * 100:g}% (median); {len(firm)} of them in every round "
        f"({len(own)} of those framekit's). The peers' rows run the same code on both sides: "
        "their spread is the noise floor.",
        width=TEXT_WIDTH,
    )
    table = format_table(header, rows, markdown)
    return (
        "\n".join(lines)
        + "\n\n"
        + ("### " if markdown else "")
        + title
        + "\n\n"
        + table
        + ("\n\n" + summary)
    )
