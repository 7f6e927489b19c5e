"""``python -m benchmarks``: run the registered workloads and print the tables."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Sequence

from benchmarks.harness import (
    CheckFailed,
    format_linearity,
    format_report,
    linearity,
    run,
    select,
)

#: ``--quick``: inputs this fraction of full size, and this many rounds.
QUICK_SCALE = 1 / 64
QUICK_ROUNDS = 2


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="framekit and its peers on the same workloads, interleaved, in one process.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"small inputs (1/{int(1 / QUICK_SCALE)} size), {QUICK_ROUNDS} rounds: a smoke run",
    )
    parser.add_argument("--rounds", type=int, help="rounds (default 5, or 2 with --quick)")
    parser.add_argument(
        "--scale", type=float, help="input size as a fraction of full size (default 1)"
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
        "--linearity",
        action="store_true",
        help="time each implementation at the input size and at a quarter of it, and print "
        "the time ratio (linear: about 4) instead of the usual tables",
    )
    parser.add_argument("--list", action="store_true", help="list the workloads and exit")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    workloads = select(args.only)
    if args.list:
        for w in workloads:
            print(f"{w.name:24} [{w.group}] {w.description}")
        return 0
    rounds = args.rounds or (QUICK_ROUNDS if args.quick else 5)
    scale = args.scale or (QUICK_SCALE if args.quick else 1.0)

    def progress(message: str) -> None:
        print(f"  {message}", file=sys.stderr, flush=True)

    started = time.monotonic()
    try:
        if args.linearity:
            results = linearity(workloads, scale=scale, rounds=rounds, progress=progress)
            text = format_linearity(results, markdown=args.markdown)
        else:
            report = run(workloads, rounds=rounds, scale=scale, progress=progress)
            text = format_report(report, markdown=args.markdown)
    except CheckFailed as e:
        print(f"CHECK FAILED: {e}", file=sys.stderr)
        return 2
    elapsed = time.monotonic() - started
    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cpus; "
        f"rounds={rounds} scale={scale:g}; {elapsed:.0f}s; {time.strftime('%Y-%m-%d')}"
    )
    print()
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
