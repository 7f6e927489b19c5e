"""``python -m fuzz``: fuzz every framekit codec for a bounded time. See fuzz/README.md.

    python -m fuzz --seconds 120           every target, 120 s in all (what CI runs)
    python -m fuzz gzip --seconds 3600     one target for an hour
    python -m fuzz gzip --replay FILE...   run inputs (a crash file) through a target
    python -m fuzz gzip --hex 00ff...      run one input given in hex

Exits 1 when an input breaks an invariant that no known issue explains, after printing the
input and the command that replays it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _instrumented_imports() -> None:
    """For an atheris child: import framekit with coverage instrumentation, before anything
    else imports it (fuzz's own modules do)."""
    import atheris  # type: ignore[import-untyped]

    with atheris.instrument_imports(include=["framekit"]):
        import framekit
        import framekit.codecs
        import framekit.sync  # noqa: F401


def _parse(argv: list[str]) -> argparse.Namespace:
    from fuzz.targets import TARGETS

    parser = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__.split("\n")[0])
    parser.add_argument("target", nargs="?", choices=sorted(TARGETS), help="one target (all)")
    parser.add_argument("--seconds", type=float, default=120.0, help="total time (120)")
    parser.add_argument(
        "--engine",
        choices=("auto", "atheris", "hypothesis"),
        default="auto",
        help="atheris (coverage-guided) when installed, else hypothesis (auto)",
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="the engine's random seed (default: the date)"
    )
    parser.add_argument("--corpus", type=Path, default=None, help="atheris corpus folder")
    parser.add_argument("--crash-dir", type=Path, default=None, help="where failing inputs go")
    parser.add_argument("--replay", type=Path, nargs="+", help="run these input files only")
    parser.add_argument("--hex", help="run this input (in hex, as a failure prints it) only")
    parser.add_argument(
        "--no-known", action="store_true", help="fail on known issues too (see fuzz/known.py)"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    if "--child" in argv:
        _instrumented_imports()
    from fuzz import engine, known
    from fuzz.targets import TARGETS

    args = _parse(argv)
    use_known = not args.no_known
    if args.replay or args.hex:
        if args.target is None:
            print("--replay and --hex need a target", file=sys.stderr)
            return 2
        paths = list(args.replay or [])
        if args.hex:
            path = Path(tempfile.mkdtemp(prefix="framekit-fuzz-")) / "input"
            path.write_bytes(bytes.fromhex(args.hex))
            paths.append(path)
        return 1 if engine.replay(args.target, paths, use_known=use_known) else 0

    crash_dir = args.crash_dir or Path(tempfile.mkdtemp(prefix="framekit-fuzz-"))
    crash_dir.mkdir(parents=True, exist_ok=True)
    engine.known_dir = crash_dir / "known"
    name = args.engine
    if name == "auto":
        name = "atheris" if engine.atheris_available() else "hypothesis"
    if args.child:  # one atheris target in this process
        corpus = args.corpus or crash_dir / f"corpus-{args.target}"
        engine.run_atheris_child(
            args.target, args.seconds, corpus, crash_dir, seed=args.seed or 0, use_known=use_known
        )
        return 0

    from fuzz.run import compiled_available

    names = [args.target] if args.target else list(TARGETS)
    seed = args.seed if args.seed is not None else int(time.strftime("%Y%m%d"))
    stop = time.monotonic() + args.seconds
    print(
        f"== fuzz: {len(names)} target(s), {args.seconds:.0f} s in all, engine {name}, "
        f"seed {seed} (--seed)"
        + f", compiled paths {'compared' if compiled_available() else 'not built'}"
        + f", known issues {'filtered' if use_known else 'not filtered'}",
        flush=True,
    )
    failed = []
    for index, target in enumerate(names):
        start = time.monotonic()
        share = (stop - start) / (len(names) - index)
        try:
            if name == "hypothesis":  # (atheris starts from the seeds and kept crashes itself)
                engine.run_seeds(target, use_known=use_known)
        except engine.Failure as failure:
            engine.report(failure, crash_dir)
            failed.append(target)
            continue
        left = max(1.0, share - (time.monotonic() - start))
        if name == "atheris":  # about a second goes to the child's start and instrumentation
            ok, detail = _atheris(target, max(1.0, left - 1), seed, args, crash_dir, use_known)
        else:
            try:
                count = engine.run_hypothesis(target, left, seed, use_known=use_known)
            except engine.Failure as failure:
                engine.report(failure, crash_dir)
                ok, detail = False, "failed"
            else:
                ok, detail = True, f"{count} inputs"
        matched = dict(known.matched) if name == "hypothesis" else _known_counts(crash_dir, target)
        known.matched.clear()
        print(
            f"   {target}: {'ok' if ok else 'FAILED'}, {detail}, "
            f"{time.monotonic() - start:.0f} s"
            + (f", known issues matched: {matched}" if matched else ""),
            flush=True,
        )
        if not ok:
            failed.append(target)
    if failed:
        print(f"== fuzz: FAILED in {', '.join(failed)} (inputs in {crash_dir})", flush=True)
        return 1
    print("== fuzz: no failures", flush=True)
    return 0


def _known_counts(crash_dir: Path, target: str) -> dict[str, int]:
    path = crash_dir / f"{target}.known.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _atheris(
    target: str,
    seconds: float,
    seed: int,
    args: argparse.Namespace,
    crash_dir: Path,
    use_known: bool,
) -> tuple[bool, str]:
    """Fuzz one target in a child process (libFuzzer ends its process); its log is printed
    only when it fails."""
    command = [sys.executable, "-m", "fuzz", target, "--child", "--engine", "atheris"]
    command += ["--seconds", str(seconds), "--crash-dir", str(crash_dir), "--seed", str(seed)]
    if args.corpus:
        command += ["--corpus", str(args.corpus / target)]
    if not use_known:
        command.append("--no-known")
    log = crash_dir / f"{target}.log"
    with log.open("w") as out:
        code = subprocess.call(command, stdout=out, stderr=subprocess.STDOUT, env=os.environ)
    text = log.read_text(errors="replace")
    runs = [line for line in text.splitlines() if line.startswith("Done ")]
    detail = runs[-1] if runs else f"exit {code}"
    if code != 0:  # the failure's report, else the end of libFuzzer's log
        at = text.find("==== fuzz failure")
        print(text[at:] if at >= 0 else "\n".join(text.splitlines()[-60:]), flush=True)
        return False, detail
    return True, detail


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
