"""The benchmark harness in quick mode on tiny inputs: every implementation's check passes.

Correctness only: no timing is asserted (the machine is shared and noisy).
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("aiohttp")

import benchmarks.__main__ as benchmarks_main
import benchmarks.results
import framekit
from benchmarks import resp, streams
from benchmarks.__main__ import main
from benchmarks.ab import REPO_ROOT, ABRow, prepare
from benchmarks.harness import (
    CheckFailed,
    Input,
    Prepared,
    Report,
    Target,
    Workload,
    format_linearity,
    format_report,
    items_digest,
    linearity,
    missed_targets,
    registry,
    run,
    select,
)

TINY = 0.002  # 32 MiB workloads become ~64 kB; the 400 kB line becomes 800 bytes


@pytest.fixture(scope="module")
def tiny_report() -> Report:
    """Every registered workload, 2 rounds at TINY scale (a run is checked as it goes)."""
    return run(select(), rounds=2, scale=TINY)


def test_every_registered_implementation_passes_its_check(tiny_report: Report) -> None:
    workloads = select()
    assert workloads
    report = tiny_report
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
    for kind in ("lines-lf", "lines-crlf", "frames-len4", "bulk-4", "bulk-100", "bulk-1000"):
        assert {f"{kind}/64k", f"{kind}/1460"} <= names
    assert "long-line-1byte" in names
    for w in select(["stream"]):
        extra = {"framekit-frames"} if w.name.startswith("bulk-") else set()
        assert set(w.implementations) == {"framekit", "asyncio", "aiohttp"} | extra
        assert list(w.baselines) == ["asyncio", "aiohttp"]


def test_bulk_replies_read_the_same_bodies_with_every_reader() -> None:
    inp = streams.bulk_input(TINY, full_size=4 * 2**20, body_size=100, piece_size=7)
    assert inp.expected.count > 10
    (w,) = select(["bulk-100/1460"])
    for name, impl in w.implementations.items():
        bodies = asyncio.run(impl(inp.pieces))
        assert items_digest(bodies) == inp.expected, name
        assert all(len(body) == 102 and body.endswith(b"\r\n") for body in bodies), name


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


def test_resp_group_is_complete() -> None:
    pytest.importorskip("hiredis")
    pytest.importorskip("redis")
    names = {w.name for w in select(["resp"])}
    kinds = ("resp-lrange", "resp-get", "resp-ok", "resp-bulk-1m", "resp-map")
    assert names == {f"{kind}/{label}" for kind in kinds for label in ("64k", "1460")}
    for w in select(["resp"]):
        framekit = {"framekit-decoder", "framekit", "framekit-batch"}
        assert framekit <= set(w.implementations)
        # The pure-Python rows in the same run when the compiled scanner is in use.
        pure = {name.replace("framekit", "framekit-py") for name in framekit}
        assert (pure <= set(w.implementations)) == resp.resp_compiled()
        assert {"hiredis", "hiredis-task", "hiredis-task-one", "redis-py"} <= set(w.implementations)
        assert w.baselines[0] == "hiredis"
        assert w.metric == "time"
        assert bool(w.targets) == (not w.name.startswith("resp-map") or resp.resp_compiled())


def test_resp_inputs_are_redis_server_replies_and_every_reader_reads_them() -> None:
    pytest.importorskip("hiredis")
    pytest.importorskip("redis")
    lrange = resp.resp_input("lrange", TINY, 7)
    wire = b"".join(lrange.pieces)
    assert wire.startswith(b"*1000\r\n$6\r\nitem:0\r\n$6\r\nitem:1\r\n")
    assert wire.endswith(b"$8\r\nitem:999\r\n")
    for w in select(["resp"]):
        kind = w.name.split("/")[0].removeprefix("resp-")
        inp = resp.resp_input(kind, TINY, 4093 if kind == "bulk-1m" else 7)  # odd splits
        for name, impl in w.implementations.items():
            assert w.summarize(asyncio.run(impl(inp.pieces))) == inp.expected, (w.name, name)


def test_resp_check_tells_a_simple_string_from_a_bulk_for_framekit() -> None:
    pytest.importorskip("hiredis")
    pytest.importorskip("redis")
    (w,) = select(["resp-ok/64k"])
    inp = resp.resp_input("ok", TINY, 65536)
    assert w.summarize(["OK"] * inp.expected.count) == inp.expected
    assert w.summarize([b"OK"] * inp.expected.count) != inp.expected
    assert w.summarize(resp.Replies([b"OK"] * inp.expected.count)) == inp.expected


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


def _sized_input(scale: float) -> Input:
    pieces = [b"x"] * max(1, int(100 * scale))
    return Input(pieces, items_digest(pieces), len(pieces))


async def _echo(pieces: Sequence[bytes]) -> list[bytes]:
    return list(pieces)


def test_capped_implementation_reads_a_smaller_input_and_is_compared_per_byte() -> None:
    seen: list[int] = []

    async def capped(pieces: Sequence[bytes]) -> list[bytes]:
        seen.append(len(pieces))
        return list(pieces)

    w = Workload(
        "t-cap", "t", "", _sized_input, {"a": _echo, "b": capped}, ["a"], max_scale={"b": 0.1}
    )
    report = run([w], rounds=1, scale=0.5)
    assert seen == [10]
    measured = report.measurements["t-cap"]
    assert (measured["a"].nbytes, measured["b"].nbytes) == (50, 10)
    assert measured["b"].capped and not measured["a"].capped
    a_per_byte = measured["a"].times[0] / 50
    b_per_byte = measured["b"].times[0] / 10
    assert measured["b"].ratio("a") == pytest.approx(a_per_byte / b_per_byte)
    assert "b (capped: 0 kB input)" in format_report(report)
    assert not run([w], rounds=1, scale=0.05).measurements["t-cap"]["b"].capped
    with pytest.raises(ValueError):
        Workload("t-cap-x", "t", "", _sized_input, {"a": _echo}, ["a"], max_scale={"x": 0.1})


def test_linearity_tells_a_linear_implementation_from_a_quadratic_one() -> None:
    def work(units: int) -> None:
        sum(range(units * 20_000))

    async def linear(pieces: Sequence[bytes]) -> list[bytes]:
        work(len(pieces))
        return list(pieces)

    async def quadratic(pieces: Sequence[bytes]) -> list[bytes]:
        work(len(pieces) ** 2 // 10)
        return list(pieces)

    w = Workload("t-lin", "t", "", _sized_input, {"lin": linear, "quad": quadratic}, ["lin"])
    results = {r.implementation: r for r in linearity([w], scale=0.4, rounds=2, clock="cpu")}
    assert (results["lin"].small_nbytes, results["lin"].big_nbytes) == (10, 40)
    assert results["lin"].linear and 3 < results["lin"].time_ratio < 5
    assert not results["quad"].linear and results["quad"].time_ratio > 10
    table = format_linearity(list(results.values()))
    assert "SUPERLINEAR" in table and "linear" in table


def test_cpu_clock_leaves_out_time_the_process_did_not_run() -> None:
    async def sleeps(pieces: Sequence[bytes]) -> list[bytes]:
        time.sleep(0.05)
        return list(pieces)

    w = Workload("t-clock", "t", "", _sized_input, {"a": sleeps}, ["a"])
    assert run([w], rounds=1, clock="wall").measurements["t-clock"]["a"].times[0] >= 0.05
    assert run([w], rounds=1, clock="cpu").measurements["t-clock"]["a"].times[0] < 0.03


def test_prepared_setup_runs_before_every_timed_run_and_is_not_timed() -> None:
    made: list[int] = []

    def setup(pieces: Sequence[bytes]) -> list[bytes]:
        time.sleep(0.05)
        made.append(len(pieces))
        return [piece.upper() for piece in pieces]

    async def run_prepared(prepared: list[bytes]) -> list[bytes]:
        return [piece.lower() for piece in prepared]

    impls = {"a": _echo, "b": Prepared(setup, run_prepared)}
    w = Workload("t-prep", "t", "", _sized_input, impls, ["a"], repeat=2)
    measured = run([w], rounds=2, scale=0.1, clock="wall").measurements["t-prep"]["b"]
    assert made == [10] * 4  # fresh objects for each of the 2 runs of each of the 2 rounds
    assert max(measured.times) < 0.03  # the setup's 0.05 s sleep is not counted


def test_ab_row_ratio_is_the_median_of_same_round_ratios_and_flags_over_3_percent() -> None:
    row = ABRow("w", "framekit", old_times=[1.0, 2.0, 1.0], new_times=[1.02, 2.2, 1.2])
    assert row.ratio == pytest.approx(1.1)
    assert row.slower and row.slower_every_round
    assert not ABRow("w", "framekit", [1.0, 2.0], [1.02, 2.04]).slower
    mixed = ABRow("w", "framekit", old_times=[1.0, 1.0, 1.0], new_times=[0.99, 1.05, 1.06])
    assert mixed.slower and not mixed.slower_every_round


def test_ab_refuses_what_is_neither_a_revision_nor_a_framekit_directory(tmp_path: Any) -> None:
    with pytest.raises(SystemExit, match="neither a git revision"):
        prepare("no-such-revision-h7f3")
    with pytest.raises(SystemExit, match="neither a git revision"):
        prepare(str(tmp_path))


def test_ab_mode_compares_two_framekit_directories_in_worker_processes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--ab", str(REPO_ROOT), "--scale", str(TINY), "--rounds", "2", "--ab-repeat", "1"]
    assert main([*argv, "--only", "lines-lf/64k", "--only", "bulk-4/1460"]) == 0
    out = capsys.readouterr().out
    assert f"old: {REPO_ROOT} (directory): {REPO_ROOT / 'framekit'}" in out
    assert "new: checkout " in out
    for row in ["lines-lf/64k", "bulk-4/1460"]:
        assert row in out
    assert "framekit-frames" in out
    assert "new/old" in out


def _targeted(ratio: float) -> Workload:
    """A workload whose ``b`` must be ``ratio`` times as fast as ``a`` (they are alike)."""

    def make_input(scale: float) -> Input:
        pieces = [b"a", b"bc"]
        return Input(pieces, items_digest(pieces), 3)

    return Workload(
        "t-target", "t", "", make_input, {"a": _echo, "b": _echo}, ["a"], subject="b",
        targets=[Target("a", ratio)],
    )  # fmt: skip


def test_quick_run_judges_no_target_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--quick", "--rounds", "1", "--only", "chunked-gzip"]) == 0
    out = capsys.readouterr().out
    assert "MISSED" not in out and "verdict" not in out
    assert "not judged" in out


def test_report_at_full_size_judges_every_target() -> None:
    report = run([_targeted(100.0)], rounds=1)
    text = format_report(report)
    assert "Targets: 0 of 1 met" in text and "MISSED" in text
    assert missed_targets(report) == [
        f"t-target b: >=100x a, measured {report.measurements['t-target']['b'].ratio('a'):.2f}x"
    ]
    assert missed_targets(run([_targeted(0.001)], rounds=1)) == []


def test_full_run_with_a_missed_target_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(benchmarks_main, "select", lambda patterns: [_targeted(100.0)])
    assert main(["--rounds", "1"]) == 1
    captured = capsys.readouterr()
    assert "1 target(s) missed" in captured.err and "MISSED t-target b" in captured.err
    assert (
        f"about {benchmarks_main.FULL_RUN_MINUTES} minutes" in captured.err
    )  # a full run says how long it takes
    monkeypatch.setattr(benchmarks_main, "select", lambda patterns: [_targeted(0.001)])
    assert main(["--rounds", "1"]) == 0


def test_json_option_writes_the_run_with_its_measurements_and_verdicts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(benchmarks_main, "select", lambda patterns: [_targeted(100.0)])
    path = tmp_path / "out" / "results.json"
    assert main(["--rounds", "2", "--clock", "cpu", "--json", str(path)]) == 1  # missed
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["schema"] == "framekit-benchmarks/1"
    assert document["command"] == f"python -m benchmarks --rounds 2 --clock cpu --json {path}"
    assert document["machine"]["cpu_count"] == os.cpu_count()
    assert document["machine"]["python"] == platform.python_version()
    assert document["framekit"]["version"] == framekit.__version__
    assert document["options"] == {
        "rounds": 2, "scale": 1.0, "clock": "cpu", "only": [], "judged": True,
    }  # fmt: skip
    assert document["targets"] == {"total": 1, "met": 0, "missed": 1}
    (workload,) = document["workloads"]
    assert workload["name"] == "t-target" and workload["verdict"] == "MISSED"
    (target,) = workload["targets"]
    b = next(i for i in workload["implementations"] if i["name"] == "b")
    assert target == {
        "subject": "b", "baseline": "a", "comparison": ">=", "target": 100.0,
        "measured": b["ratios"]["a"], "verdict": "MISSED",
    }  # fmt: skip
    assert len(b["times"]) == 2 and b["mb_per_s"] > 0


def test_json_names_the_commit_the_run_started_from(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A run takes minutes: a commit made meanwhile is not the code that was measured.
    head = ["1" * 40]

    async def committing(pieces: Sequence[bytes]) -> list[bytes]:
        head[0] = "2" * 40
        return list(pieces)

    w = Workload("t-commit", "t", "", _targeted(1.0).make_input, {"a": committing}, [])
    monkeypatch.setattr(benchmarks_main, "select", lambda patterns: [w])
    monkeypatch.setattr(
        benchmarks.results, "_git", lambda *args: head[0] if args[0] == "rev-parse" else ""
    )
    path = tmp_path / "results.json"
    assert main(["--rounds", "1", "--json", str(path)]) == 0
    assert head == ["2" * 40]
    framekit_run = json.loads(path.read_text(encoding="utf-8"))["framekit"]
    assert framekit_run["commit"] == "1" * 40 and framekit_run["dirty"] is False


def test_json_of_a_quick_run_says_its_targets_were_not_judged(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    assert main(["--quick", "--rounds", "1", "--only", "chunked-gzip", "--json", str(path)]) == 0
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["options"]["judged"] is False
    assert [w["name"] for w in document["workloads"]] == ["chunked-gzip", "chunked-gzip/1460"]
    for workload in document["workloads"]:
        assert workload["verdict"] == "not judged"
        assert {t["verdict"] for t in workload["targets"]} == {"not judged"}


def test_json_is_not_written_when_a_result_is_wrong(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    async def wrong(pieces: Sequence[bytes]) -> list[bytes]:
        return list(pieces)[:-1]

    bad = Workload("t-bad", "t", "", _targeted(1.0).make_input, {"a": _echo, "b": wrong}, ["a"])
    monkeypatch.setattr(benchmarks_main, "select", lambda patterns: [bad])
    path = tmp_path / "results.json"
    assert main(["--rounds", "1", "--json", str(path)]) == 2
    assert not path.exists() and list(tmp_path.iterdir()) == []


def test_json_goes_with_a_plain_run_only() -> None:
    with pytest.raises(SystemExit, match="--json"):
        main(["--linearity", "--json", "x.json"])


def test_report_lines_fit_100_columns(tiny_report: Report) -> None:
    for judged in (True, False):
        lines = format_report(tiny_report, judge_targets=judged).splitlines()
        assert max(len(line) for line in lines) <= 100, max(lines, key=len)


def test_without_a_peer_the_command_names_the_bench_extra() -> None:
    code = (
        "import sys, runpy; sys.modules['aiohttp'] = None; "
        "runpy.run_module('benchmarks', run_name='__main__')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "aioframekit[bench]" in result.stderr and "aiohttp" in result.stderr


def test_without_httptools_the_command_names_the_bench_extra() -> None:
    code = (
        "import sys, runpy; sys.modules['httptools'] = None; "
        "runpy.run_module('benchmarks', run_name='__main__')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "aioframekit[bench]" in result.stderr and "httptools" in result.stderr
