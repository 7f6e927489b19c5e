"""A run's results as one JSON document (``python -m benchmarks --json FILE``).

The document says when and where the run was made (date, CPU count, Python, framekit's
version and git commit, the peers' versions), with which options, and per workload and
implementation the times, MB/s, ratios and target verdicts, as the tables print them. It is
written only after every result passed its check (:class:`benchmarks.harness.CheckFailed`
stops a run before), so it describes a run whose numbers are of correct readers.

The documentation site draws its chart and table from such a document
(``docs/_ext/benchchart.py`` reads the file; it does not import this module).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import framekit
from benchmarks.harness import Clock, Report, Workload
from framekit import speedups

__all__ = ["PEERS", "SCHEMA", "VERDICTS", "framekit_summary", "results_document", "write_results"]

#: The document's ``schema`` value; a reader checks it before anything else.
SCHEMA = "framekit-benchmarks/1"

#: A target's verdict: met, missed, or not judged (inputs below full size: ``--quick``).
VERDICTS = ("ok", "MISSED", "not judged")

#: Distributions whose versions the document records (the peers and their parsers).
PEERS = (
    "aiohttp",
    "h11",
    "httptools",
    "hiredis",
    "redis",
    "aiosmtpd",
    "aiosmtplib",
    "isal",
    "zlib-ng",
)

REPO_ROOT = Path(__file__).resolve().parent.parent


def _git(*args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def framekit_summary() -> dict[str, Any]:
    """framekit's version, git commit, whether tracked files differ from it, and whether its
    compiled fast paths are in use. Taken when a run starts: a commit made while it runs is
    not the code it measured."""
    commit = _git("rev-parse", "HEAD")
    # Uncommitted changes to tracked files: the numbers are of a tree no commit names.
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "version": framekit.__version__,
        "commit": commit,
        "dirty": bool(status) if status is not None else None,
        "speedups": speedups.ENABLED,
    }


def _machine_summary() -> dict[str, Any]:
    return {
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "system": platform.system(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
    }


def _peer_versions() -> dict[str, str]:
    versions = {}
    for name in PEERS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _round(value: float) -> float:
    """``value`` to 6 significant digits (timer noise is far above that)."""
    return float(f"{value:.6g}")


def _workload_document(report: Report, w: Workload, judged: bool) -> dict[str, Any]:
    measured = report.measurements[w.name]
    implementations = []
    for name, m in measured.items():
        implementations.append(
            {
                "name": name,
                "nbytes": m.nbytes,
                "capped": m.capped,
                "once": name in w.once,
                "times": [_round(t) for t in m.times],
                "median_time": _round(m.median_time),
                "mb_per_s": _round(m.throughput),
                "spread": _round(m.spread()),
                # In the workload's metric: speed ratio (throughput), time ratio (time).
                "ratios": {
                    b: _round(ratio)
                    for b in w.baselines
                    if b != name and (ratio := m.ratio(b)) is not None
                },
            }
        )
    targets = []
    for res in report.target_results(w):
        verdict = ("ok" if res.met else "MISSED") if judged else "not judged"
        targets.append(
            {
                "subject": res.target.subject or w.subject,
                "baseline": res.target.baseline,
                "comparison": ">=" if w.metric == "throughput" else "<=",
                "target": res.target.ratio,
                "measured": None if res.ratio is None else _round(res.ratio),
                "verdict": verdict,
            }
        )
    verdicts = {t["verdict"] for t in targets}
    if not targets:
        verdict = "no target"
    elif not judged:
        verdict = "not judged"
    else:
        verdict = "MISSED" if "MISSED" in verdicts else "ok"
    return {
        "name": w.name,
        "group": w.group,
        "description": w.description,
        "metric": w.metric,
        "subject": w.subject,
        "baselines": list(w.baselines),
        "verdict": verdict,
        "targets": targets,
        "implementations": implementations,
        "notes": dict(w.notes),
    }


def results_document(
    report: Report,
    *,
    argv: Sequence[str],
    clock: Clock,
    only: Sequence[str],
    judged: bool,
    elapsed: float,
    framekit: dict[str, Any],
) -> dict[str, Any]:
    """The JSON-ready document of ``report``: when, where, how, and every measurement.

    ``argv`` is the command line's arguments (recorded as the command), ``judged`` whether
    the targets were judged (a full-size run), ``elapsed`` the run's seconds, ``framekit``
    what :func:`framekit_summary` said when the run started.
    """
    workloads = [_workload_document(report, w, judged) for w in report.workloads()]
    verdicts = [t["verdict"] for w in workloads for t in w["targets"]]
    return {
        "schema": SCHEMA,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": " ".join(["python", "-m", "benchmarks", *argv]),
        "machine": _machine_summary(),
        "framekit": framekit,
        "peers": _peer_versions(),
        "options": {
            "rounds": report.rounds,
            "scale": report.scale,
            "clock": clock,
            "only": list(only),
            "judged": judged,
        },
        "elapsed_seconds": round(elapsed, 1),
        "targets": {
            "total": len(verdicts),
            "met": verdicts.count("ok"),
            "missed": verdicts.count("MISSED"),
        },
        "workloads": workloads,
    }


def write_results(path: Path, document: dict[str, Any]) -> None:
    """Write ``document`` to ``path`` as indented JSON, replacing it whole (a file that
    exists is never left half written)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as out:
            json.dump(document, out, indent=1)
            out.write("\n")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
