"""The benchmark page's chart and tables (docs/_ext/benchchart.py) on the committed run.

docs/_static/benchmarks.json is what ``python -m benchmarks --json`` wrote for a full-size
run; the site draws its chart and tables from it at build time. These tests read the same
file with the same module (plain Python: no Sphinx needed) and check the drawing against the
numbers in the file.
"""

from __future__ import annotations

import copy
import math
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

import benchchart  # noqa: E402

RESULTS = ROOT / "docs" / "_static" / "benchmarks.json"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return benchchart.load(RESULTS)


def _speed(ratio: float, metric: str) -> float:
    return ratio if metric == "throughput" else 1 / ratio


def test_the_committed_results_are_a_judged_full_size_run(document: dict[str, Any]) -> None:
    assert document["options"]["scale"] == 1 and document["options"]["judged"] is True
    assert re.fullmatch(r"[0-9a-f]{40}", document["framekit"]["commit"])
    assert document["command"].startswith("python -m benchmarks ")
    assert "--json" in document["command"]
    assert document["machine"]["cpu_count"] >= 1
    verdicts = [t["verdict"] for w in document["workloads"] for t in w["targets"]]
    assert document["targets"]["total"] == len(verdicts)
    assert document["targets"]["met"] == verdicts.count("ok")


def test_every_workload_of_the_committed_run_has_its_verdicts(document: dict[str, Any]) -> None:
    for w in document["workloads"]:
        assert w["verdict"] in ("ok", "MISSED", "no target"), w["name"]
        assert all(t["verdict"] in ("ok", "MISSED") for t in w["targets"]), w["name"]
        if w["targets"]:
            missed = any(t["verdict"] == "MISSED" for t in w["targets"])
            assert w["verdict"] == ("MISSED" if missed else "ok"), w["name"]
        else:
            assert w["verdict"] == "no target", w["name"]
        for t in w["targets"]:
            met = (t["measured"] >= t["target"]) == (t["comparison"] == ">=")
            assert (t["verdict"] == "ok") == met, (w["name"], t)


def test_every_measurement_of_the_committed_run_is_of_its_rounds(
    document: dict[str, Any],
) -> None:
    rounds = document["options"]["rounds"]
    for w in document["workloads"]:
        for impl in w["implementations"]:
            times = sorted(impl["times"])
            assert len(times) == (1 if impl["once"] else rounds), (w["name"], impl["name"])
            assert impl["median_time"] == pytest.approx(times[len(times) // 2], rel=1e-5)
            mbs = impl["nbytes"] / impl["median_time"] / 1e6
            assert impl["mb_per_s"] == pytest.approx(mbs, rel=1e-4)
            assert set(impl["ratios"]) <= set(w["baselines"]) - {impl["name"]}


def test_the_chart_reads_the_schema_the_benchmarks_write() -> None:
    pytest.importorskip("aiohttp")  # the benchmarks' peers (the test extra has them)
    import benchmarks.results

    assert benchchart.SCHEMA == benchmarks.results.SCHEMA
    assert benchchart.VERDICTS == benchmarks.results.VERDICTS


def test_a_document_missing_a_verdict_is_refused(document: dict[str, Any]) -> None:
    broken = copy.deepcopy(document)
    del broken["workloads"][0]["verdict"]
    with pytest.raises(ValueError, match="verdict"):
        benchchart.check_document(broken)
    broken = copy.deepcopy(document)
    broken["schema"] = "something-else/1"
    with pytest.raises(ValueError, match="schema"):
        benchchart.check_document(broken)


def test_the_chart_has_a_bar_for_every_target_and_every_peer_of_the_subject(
    document: dict[str, Any],
) -> None:
    bars = benchchart.chart_rows(document)
    pairs = [(bar.workload, bar.subject, bar.baseline) for bar in bars]
    assert len(pairs) == len(set(pairs))
    expected = set()
    for w in document["workloads"]:
        expected |= {(w["name"], t["subject"], t["baseline"]) for t in w["targets"]}
        expected |= {(w["name"], w["subject"], b) for b in w["baselines"] if b != w["subject"]}
    assert set(pairs) == expected


@pytest.mark.parametrize("group", ["stream", "http", "http-head", "frames", "resp", "smtp"])
def test_the_svg_draws_one_labelled_bar_per_row_with_the_numbers_of_the_json(
    document: dict[str, Any], group: str
) -> None:
    assert group in benchchart.groups(document)
    bars = benchchart.chart_rows(document, group)
    svg = ET.fromstring(benchchart.render_svg(bars, title=group))
    rects = [r for r in svg.iter(f"{SVG}rect") if r.get("class") == "bar"]
    assert len(rects) == len(bars)
    labels = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "label"]
    assert labels == [f"{bar.subject} vs {bar.baseline}" for bar in bars]
    values = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "value"]
    workloads = {w["name"]: w for w in document["workloads"]}
    for rect, value in zip(rects, values, strict=True):
        w = workloads[rect.get("data-workload")]
        impl = next(i for i in w["implementations"] if i["name"] == rect.get("data-subject"))
        speed = _speed(impl["ratios"][rect.get("data-baseline")], w["metric"])
        assert float(rect.get("data-ratio", "nan")) == pytest.approx(speed, rel=1e-5)
        assert value == f"{speed:.2f}x"
    headings = [t.text for t in svg.iter(f"{SVG}text") if t.get("class") == "workload"]
    assert headings == [w["name"] for w in document["workloads"] if w["group"] == group]


@pytest.mark.parametrize("group", ["stream", "resp"])
def test_the_svg_marks_each_target_where_the_json_puts_it(
    document: dict[str, Any], group: str
) -> None:
    bars = benchchart.chart_rows(document, group)
    svg = ET.fromstring(benchchart.render_svg(bars))
    marks = [line for line in svg.iter(f"{SVG}line") if line.get("class") == "target"]
    targets = [
        _speed(t["target"], w["metric"])
        for w in document["workloads"]
        if w["group"] == group
        for t in w["targets"]
    ]
    assert sorted(float(m.get("data-target", "nan")) for m in marks) == pytest.approx(
        sorted(targets)
    )
    rects = [r for r in svg.iter(f"{SVG}rect") if r.get("class") == "bar"]
    colours = {r.get("data-verdict"): r.get("fill") for r in rects}
    assert colours.get("ok") != colours.get("MISSED")


def test_bars_start_at_1x_and_grow_with_the_log_of_the_ratio() -> None:
    bars = [
        benchchart.Bar("w", "framekit", "fast", 4.0, None, ""),
        benchchart.Bar("w", "framekit", "slow", 0.5, 2.0, "MISSED"),
        benchchart.Bar("w", "framekit", "even", 2.0, 1.0, "ok"),
    ]
    svg = ET.fromstring(benchchart.render_svg(bars))
    rects = {r.get("data-baseline"): r for r in svg.iter(f"{SVG}rect") if r.get("class")}
    fast, slow, even = rects["fast"], rects["slow"], rects["even"]
    one = float(fast.get("x", "nan"))
    assert float(even.get("x", "nan")) == one  # both start at 1x, to the right
    assert float(slow.get("x", "nan")) + float(slow.get("width", "nan")) == pytest.approx(one)
    width = {name: float(r.get("width", "nan")) for name, r in rects.items()}
    assert width["fast"] == pytest.approx(2 * width["even"], rel=0.01)  # log 4 = 2 log 2
    assert width["slow"] == pytest.approx(width["even"], rel=0.01)  # log 0.5 = -log 2
    assert not math.isnan(one)


def test_the_results_table_has_a_row_per_implementation_with_the_json_numbers(
    document: dict[str, Any],
) -> None:
    for group in benchchart.groups(document):
        for metric in ("throughput", "time"):
            chosen = [
                w for w in document["workloads"] if w["group"] == group and w["metric"] == metric
            ]
            header, rows = benchchart.table_rows(document, group, metric)
            implementations = [(w, i) for w in chosen for i in w["implementations"]]
            assert len(rows) == len(implementations)
            for row, (w, impl) in zip(rows, implementations, strict=True):
                assert row[0] == w["name"] and row[1].startswith(impl["name"])
                if metric == "throughput":
                    assert header[2] == "MB/s"
                    assert float(row[2]) == pytest.approx(impl["mb_per_s"], abs=0.051)
                else:
                    assert header[2] == "time ms"
                    assert float(row[2]) == pytest.approx(impl["median_time"] * 1e3, abs=0.051)
                for column, cell in zip(header[4:-1], row[4:-1], strict=True):
                    ratio = impl["ratios"].get(column.removeprefix("vs "))
                    assert cell == ("" if ratio is None else f"{ratio:.2f}x")
