"""The benchmark harness in quick mode on tiny inputs: every implementation's check passes.

Correctness only: no timing is asserted (the machine is shared and noisy).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

pytest.importorskip("aiohttp")

from benchmarks.__main__ import main
from benchmarks.harness import (
    CheckFailed,
    Input,
    Workload,
    format_report,
    items_digest,
    registry,
    run,
    select,
)

TINY = 0.002  # 32 MiB workloads become ~64 kB; the 400 kB line becomes 800 bytes


def test_every_registered_implementation_passes_its_check() -> None:
    workloads = select()
    assert workloads
    report = run(workloads, rounds=2, scale=TINY)
    for w in workloads:
        measured = report.measurements[w.name]
        assert set(measured) == set(w.implementations)
        for name, m in measured.items():
            expected_runs = 1 if name in w.once else 2
            assert len(m.times) == expected_runs, (w.name, name)
        for base in w.baselines:
            for name, m in measured.items():
                if name != base:
                    assert m.ratio(base) is not None
    text = format_report(report, markdown=True)
    for w in workloads:
        assert w.name in text


def test_stream_group_is_complete() -> None:
    names = set(registry())
    for kind in ("lines-lf", "lines-crlf", "frames-len4"):
        assert {f"{kind}/64k", f"{kind}/1460"} <= names
    assert "long-line-1byte" in names
    for w in select(["stream"]):
        assert set(w.implementations) == {"framekit", "asyncio", "aiohttp"}
        assert list(w.baselines) == ["asyncio", "aiohttp"]


def test_http_group_is_complete() -> None:
    names = {w.name for w in select(["http"])}
    bodies = {"chunked-16k", "chunked-64b", "gzip", "chunked-gzip"}
    assert names == bodies | {f"{name}/1460" for name in bodies}
    for w in select(["http"]):
        assert {"framekit", "aiohttp-c", "aiohttp-py"} <= set(w.implementations)
        assert w.targets


def test_frames_group_is_complete() -> None:
    names = {w.name for w in select(["frames"])}
    for kind in ("frames-lf", "frames-crlf", "frames-length"):
        assert {f"{kind}/64k", f"{kind}/1460"} <= names
    assert "long-frame-1byte" in names
    for w in select(["frames"]):
        # One frame at a time ("framekit") runs once the codecs take ``ends``.
        assert {"framekit-batch", "asyncio"} <= set(w.implementations)


def test_a_wrong_result_aborts_the_run() -> None:
    async def right(pieces: Sequence[bytes]) -> list[bytes]:
        return list(pieces)

    async def wrong(pieces: Sequence[bytes]) -> list[bytes]:
        return list(pieces)[:-1]

    def make_input(scale: float) -> Input:
        pieces = [b"a", b"bc", b"def"]
        return Input(pieces, items_digest(pieces), 6)

    good = Workload("t-good", "t", "", make_input, {"a": right, "b": right}, ["a"])
    assert run([good], rounds=1).measurements["t-good"]["b"].ratio("a") is not None
    bad = Workload("t-bad", "t", "", make_input, {"a": right, "b": wrong}, ["a"])
    with pytest.raises(CheckFailed):
        run([bad], rounds=1)


def test_repeat_keeps_the_fastest_run_and_checks_every_run() -> None:
    calls = {"a": 0, "b": 0}

    def make_input(scale: float) -> Input:
        pieces = [b"a", b"bc"]
        return Input(pieces, items_digest(pieces), 3)

    def counting(name: str, fail_on: int = 0) -> Any:
        async def impl(pieces: Sequence[bytes]) -> list[bytes]:
            calls[name] += 1
            return list(pieces)[: -1 if calls[name] == fail_on else None]

        return impl

    w = Workload(
        "t-rep", "t", "", make_input, {"a": counting("a"), "b": counting("b")}, ["a"], repeat=3
    )
    report = run([w], rounds=2)
    assert calls == {"a": 6, "b": 6}
    assert len(report.measurements["t-rep"]["a"].times) == 2  # one (the fastest) per round
    calls.update(a=0, b=0)
    bad = Workload(
        "t-rep-bad",
        "t",
        "",
        make_input,
        {"a": counting("a"), "b": counting("b", 3)},
        ["a"],
        repeat=3,
    )
    with pytest.raises(CheckFailed):
        run([bad], rounds=1)
    with pytest.raises(ValueError):
        Workload("t-rep-0", "t", "", make_input, {"a": counting("a")}, ["a"], repeat=0)


def test_command_line_quick_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--quick", "--scale", str(TINY), "--rounds", "1", "--only", "lines-lf"]) == 0
    out = capsys.readouterr().out
    assert "lines-lf/64k" in out
    assert "lines-crlf" not in out
