"""Running targets: one input (replay), coverage-guided with atheris, or with hypothesis.

A failure is a :class:`~fuzz.run.Violation` no known issue explains, or any other exception
out of a target (the harness's own checks included). It is printed with the invariant, the
outcomes that differ, the input in hex, and the command that replays it, and the input is
written to the crash folder (``--crash-dir``, a temporary one by default).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from fuzz import known, scaling
from fuzz.run import Violation

#: Seconds one input may take before it counts as a hang.
INPUT_TIMEOUT = 30.0
#: Where inputs explained by a known issue are written (the first few of each), or None.
known_dir: Path | None = None


class Failure(Exception):
    def __init__(self, target: str, data: bytes, error: BaseException) -> None:
        super().__init__(f"{target}: {error}")
        self.target = target
        self.data = data
        self.error = error


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    def expire(signum: int, frame: FrameType | None) -> None:
        raise Violation("linear-time", f"one input took more than {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check(target: str, data: bytes, *, use_known: bool = True) -> known.KnownIssue | None:
    """Run ``target`` on ``data``: None if every invariant held, the known issue that
    explains a violation, or raise :class:`Failure`."""
    from fuzz.targets import TARGETS

    try:
        with _deadline(INPUT_TIMEOUT):
            TARGETS[target](data)
    except Violation as violation:
        issue = known.known_issue(target, violation) if use_known else None
        if issue is None:
            raise Failure(target, data, violation) from violation
        if known_dir is not None and known.matched[issue.name] <= 3:
            folder = known_dir / target
            folder.mkdir(parents=True, exist_ok=True)
            name = f"{violation.invariant}-{issue.name}-{hashlib.sha1(data).hexdigest()[:12]}"
            (folder / name).write_bytes(data)
        return issue
    except Exception as error:
        raise Failure(target, data, error) from error
    return None


def report(failure: Failure, crash_dir: Path) -> Path:
    """Print ``failure`` with its reproducer; write its input to ``crash_dir``; return the file."""
    folder = crash_dir / failure.target
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / hashlib.sha1(failure.data).hexdigest()[:16]
    path.write_bytes(failure.data)
    error = failure.error
    out = sys.stdout
    print(f"\n==== fuzz failure in target {failure.target!r}", file=out)
    if isinstance(error, Violation):
        print(error.describe(), file=out)
    else:
        print("".join(traceback.format_exception(error)).rstrip(), file=out)
    print(f"input ({len(failure.data)} bytes): {failure.data.hex()}", file=out)
    print(f"kept in: {path}", file=out)
    print(f"replay:  python -m fuzz {failure.target} --replay {path}", file=out)
    print(f"     or: python -m fuzz {failure.target} --hex {failure.data.hex()}", file=out)
    print(
        f"keep as a regression input: cp {path} fuzz/crashes/{failure.target}/ "
        "(tests/test_fuzz_corpus.py replays it)",
        file=out,
    )
    out.flush()
    return path


def replay(target: str, paths: list[Path], *, use_known: bool) -> int:
    """Run ``target`` on each input file; print each outcome; the number of failures."""
    failures = 0
    for path in paths:
        try:
            issue = check(target, path.read_bytes(), use_known=use_known)
        except Failure as failure:
            failures += 1
            error = failure.error
            print(f"{path}: FAIL")
            print(
                error.describe()
                if isinstance(error, Violation)
                else "".join(traceback.format_exception(error))
            )
        else:
            print(f"{path}: {'ok' if issue is None else 'known issue ' + issue.name}")
    return failures


def run_seeds(target: str, *, use_known: bool) -> None:
    """Every seed and kept crash of ``target`` (raises Failure on the first failing one)."""
    from fuzz.seeds import seeds

    for data in seeds(target):
        check(target, data, use_known=use_known)


# -- hypothesis ---------------------------------------------------------------------------


def run_hypothesis(target: str, seconds: float, seed: int, *, use_known: bool) -> int:
    """Inputs from hypothesis (raw bytes, and seeds damaged by a few random edits) until
    ``seconds`` have passed; returns the number of inputs run. Raises Failure (shrunk)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st

    from fuzz.data import mutate
    from fuzz.seeds import seeds

    corpus = seeds(target)

    def edited(base: bytes, edit_seed: int, edits: int) -> bytes:
        rng = random.Random(edit_seed)
        for _ in range(edits):
            base = mutate(rng, base)
        return base

    inputs = st.one_of(
        st.binary(max_size=600),
        st.builds(edited, st.sampled_from(corpus), st.integers(0, 2**32), st.integers(0, 8)),
    )
    stop = time.monotonic() + seconds
    count = 0
    failing: list[Failure] = []
    batch = 0
    while time.monotonic() < stop:

        @hypothesis_seed(seed + batch)
        @settings(
            max_examples=100,
            deadline=None,
            database=None,
            derandomize=False,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.generate, Phase.shrink],
        )
        @given(inputs)
        def test(data: bytes) -> None:
            nonlocal count
            if failing and time.monotonic() > stop + 60:  # shrinking too long: stop there
                return
            count += 1
            try:
                check(target, data, use_known=use_known)
            except Failure as failure:
                failing.append(failure)
                raise

        batch += 1
        try:
            test()
        except Failure:
            raise failing[-1] from None
    return count


# -- atheris ------------------------------------------------------------------------------


def atheris_available() -> bool:
    try:
        import atheris  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:
        return False
    return True


def run_atheris_child(
    target: str, seconds: float, corpus: Path, crash_dir: Path, *, seed: int, use_known: bool
) -> None:
    """Fuzz ``target`` with atheris in this process (it never returns: libFuzzer exits).

    framekit must have been imported under ``atheris.instrument_imports`` first (``python -m
    fuzz --child`` does it) for coverage to guide the search. The corpus folder starts with
    the seeds and gathers the inputs libFuzzer finds interesting.
    """
    import atheris

    from fuzz.seeds import seeds

    corpus.mkdir(parents=True, exist_ok=True)
    for data in seeds(target):
        (corpus / hashlib.sha1(data).hexdigest()).write_bytes(data)

    counts = crash_dir / f"{target}.known.json"

    def one(data: bytes) -> None:
        try:
            issue = check(target, data, use_known=use_known)
        except Failure as failure:
            report(failure, crash_dir)
            os._exit(1)
        if issue is not None:  # libFuzzer exits without Python's atexit: keep counts now
            counts.write_text(json.dumps(dict(known.matched)))

    atheris.Setup(
        [
            sys.argv[0],
            str(corpus),
            f"-max_total_time={max(1, round(seconds))}",
            f"-seed={seed % 2**32}",
            "-timeout=0",
            "-rss_limit_mb=3072",
            "-max_len=4096",
            f"-artifact_prefix={crash_dir}/",
            "-print_final_stats=1",
        ],
        one,
    )
    scaling.RATE = 1 / 40
    atheris.Fuzz()
