"""``python -m benchmarks``: run the registered workloads and print the tables.

A full run (full-size inputs, 5 rounds) takes about ``FULL_RUN_MINUTES`` minutes on a 2-core
machine, judges every target and exits 1 if one is missed; ``--quick`` (seconds) and
``--scale`` run smaller inputs, where ratios say little, and judge none. ``--json FILE``
also writes the run's results as one JSON document (benchmarks/results.py).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.ab import AB_THRESHOLD, format_ab, run_ab, worker_main
from benchmarks.harness import (
    CheckFailed,
    Clock,
    format_linearity,
    format_report,
    linearity,
    missed_targets,
    run,
    select,
)
from benchmarks.results import framekit_summary, results_document, write_results

#: ``--quick``: inputs this fraction of full size, and this many rounds.
QUICK_SCALE = 1 / 64
QUICK_ROUNDS = 2
#: ``--ab --quick``: rounds (each pairs an old and a new time), and runs per turn.
AB_QUICK_ROUNDS = 8
AB_QUICK_REPEAT = 2
#: How long a full run takes on a 2-core x86-64 machine (measured: 585 s with --clock cpu on
#: 2026-12-02, all groups; said by --help and at start).
FULL_RUN_MINUTES = 10


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="framekit and its peers on the same workloads, interleaved, in one process. "
        f"A full run (no --quick) takes about {FULL_RUN_MINUTES} minutes on a 2-core machine, "
        "judges every target, and exits 1 if one is missed; --quick takes seconds and judges "
        "none (ratios at 1/64 size say little).",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"small inputs (1/{int(1 / QUICK_SCALE)} size), {QUICK_ROUNDS} rounds: a smoke run "
        "in seconds; targets are not judged",
    )
    parser.add_argument("--rounds", type=int, help="rounds (default 5, or 2 with --quick)")
    parser.add_argument(
        "--scale",
        type=float,
        help="input size as a fraction of full size (default 1; below 1, targets are not judged)",
    )
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="run only workloads whose name or group matches (shell pattern; repeatable)",
    )
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument(
        "--json",
        type=Path,
        metavar="FILE",
        help="also write the run's results to FILE as JSON (date, machine, framekit version "
        "and commit, options, and per workload and implementation the times, MB/s, ratios and "
        "target verdicts); written only when every result passed its check",
    )
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        help="time by the wall clock or by this process's CPU time (steadier on a busy "
        "machine); default wall, cpu with --ab and --linearity",
    )
    parser.add_argument(
        "--linearity",
        action="store_true",
        help="time each implementation at the input size and at a quarter of it, and print "
        "the time ratio (linear: about 4) instead of the usual tables",
    )
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    parser.add_argument(
        "--ab",
        metavar="REV",
        help="A/B: run the workloads with framekit at git revision REV (or in directory REV) "
        "and with this checkout's, in two interleaved worker processes, and print new/old "
        f"time ratios (rows slower by more than {(AB_THRESHOLD - 1) * 100:g}%% flagged)",
    )
    parser.add_argument(
        "--ab-repeat",
        type=int,
        metavar="K",
        help=f"A/B: each turn runs a workload K times and keeps the least time (default "
        f"{AB_QUICK_REPEAT} with --quick, 1 otherwise)",
    )
    parser.add_argument("--ab-worker", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(arguments)
    if args.ab_worker:
        return worker_main(args.scale or 1.0, args.clock or "cpu")
    if args.ab and args.linearity:
        raise SystemExit("--ab and --linearity do not go together")
    if args.json and (args.ab or args.linearity or args.list):
        raise SystemExit("--json writes a run's tables: not with --ab, --linearity or --list")
    workloads = select(args.only)
    if args.list:
        for w in workloads:
            print(f"{w.name:24} [{w.group}] {w.description}")
        return 0
    quick_rounds = AB_QUICK_ROUNDS if args.ab else QUICK_ROUNDS
    rounds = args.rounds or (quick_rounds if args.quick else 5)
    scale = args.scale or (QUICK_SCALE if args.quick else 1.0)
    clock: Clock = args.clock or ("cpu" if args.ab or args.linearity else "wall")

    def progress(message: str) -> None:
        print(f"  {message}", file=sys.stderr, flush=True)

    judge_targets = not args.quick and scale == 1.0
    if judge_targets and not args.ab and not args.linearity and not args.only:
        progress(
            f"a full run: {len(workloads)} workloads, {rounds} rounds at full size, about "
            f"{FULL_RUN_MINUTES} minutes on a 2-core machine (--quick: seconds)"
        )
    measured = framekit_summary() if args.json else {}
    started = time.monotonic()
    missed: list[str] = []
    report = None
    try:
        if args.ab:
            repeat = args.ab_repeat or (AB_QUICK_REPEAT if args.quick else 1)
            ab_report = run_ab(
                workloads,
                args.ab,
                rounds=rounds,
                scale=scale,
                repeat=repeat,
                clock=clock,
                progress=progress,
            )
            text = format_ab(ab_report, markdown=args.markdown)
        elif args.linearity:
            results = linearity(
                workloads, scale=scale, rounds=rounds, progress=progress, clock=clock
            )
            text = format_linearity(results, markdown=args.markdown)
        else:
            report = run(workloads, rounds=rounds, scale=scale, progress=progress, clock=clock)
            text = format_report(report, markdown=args.markdown, judge_targets=judge_targets)
            missed = missed_targets(report) if judge_targets else []
    except CheckFailed as e:
        print(f"CHECK FAILED: {e}", file=sys.stderr)
        return 2
    elapsed = time.monotonic() - started
    if args.json and report is not None:
        document = results_document(
            report,
            argv=arguments,
            clock=clock,
            only=args.only,
            judged=judge_targets,
            elapsed=elapsed,
            framekit=measured,
        )
        write_results(args.json, document)
        progress(f"results written to {args.json}")
    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cpus; "
        f"rounds={rounds} scale={scale:g} clock={clock}; {elapsed:.0f}s; "
        f"{time.strftime('%Y-%m-%d')}"
    )
    print()
    print(text)
    if missed:
        print(f"\n{len(missed)} target(s) missed:", file=sys.stderr)
        for line in missed:
            print(f"  MISSED {line}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
