"""Test-session settings shared by the whole suite."""

from __future__ import annotations

import os

import pytest

#: Set by ``.ci/run``: in CI every test must run, so a skipped test fails the session.
NO_SKIPS = os.environ.get("FRAMEKIT_NO_SKIPS") == "1"

_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append(report.nodeid)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.skipped:  # a module-level importorskip
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if NO_SKIPS and _skipped and exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if NO_SKIPS and _skipped:
        terminalreporter.write_line(
            f"FRAMEKIT_NO_SKIPS=1: {len(_skipped)} skipped test(s) fail the run: "
            + ", ".join(_skipped[:10]),
            red=True,
        )
