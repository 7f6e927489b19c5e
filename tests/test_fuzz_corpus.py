"""The fuzz harness's seeds and kept crash inputs, replayed: every invariant of fuzz/ holds.

``fuzz/crashes/TARGET/`` keeps inputs that once broke an invariant (the file name starts with
the invariant). An input explained by an entry of ``fuzz/known.py`` (a defect not fixed yet)
passes here while that entry is listed; deleting the entry makes its inputs fail again.
The timing checks are left to ``python -m fuzz`` (they need a quiet machine to mean much).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from fuzz import engine, scaling, seeds
from fuzz.targets import TARGETS


@pytest.fixture(autouse=True)
def no_timing_checks() -> Iterator[None]:
    rate = scaling.RATE
    scaling.RATE = 0.0
    yield
    scaling.RATE = rate


@pytest.mark.parametrize("target", list(TARGETS))
def test_every_seed_input_keeps_the_invariants(target: str) -> None:
    for data in seeds.seeds(target):
        engine.check(target, data)


KEPT = [(target, path) for target in TARGETS for path, _ in seeds.crashes(target)]


@pytest.mark.parametrize(("target", "path"), KEPT, ids=[f"{t}/{p.name}" for t, p in KEPT] or None)
def test_a_kept_crash_input_passes_or_is_a_named_known_issue(target: str, path: object) -> None:
    issue = engine.check(target, path.read_bytes())  # type: ignore[attr-defined]
    if issue is not None:
        assert issue.name in path.name, f"{path} is explained by {issue.name}"  # type: ignore[attr-defined]
