"""Known defects the fuzz run does not fail on, until their fixes land.

Each entry names one defect and matches only the violations it explains (by target,
invariant and what differs), so anything else still fails the run. When a fix lands, delete
its entry: ``python -m fuzz --no-known`` runs with none of them, and a run reports how often
each entry matched. Keep this list short; an entry is a debt, not a design.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import attrs

from framekit.codecs import Deflate, Gzip, RawDeflate
from fuzz.run import Violation


@attrs.define(frozen=True)
class KnownIssue:
    name: str
    defect: str
    matches: Callable[[str, Violation], bool]


def _error(outcome: Any) -> tuple[str, int | None] | None:
    """The error of a byte outcome ``(output, leftover, error)``, else None."""
    if isinstance(outcome, tuple) and len(outcome) == 3:
        error = outcome[2]
        return error if isinstance(error, tuple) else None
    return None


def _errors(v: Violation) -> tuple[Any, Any]:
    return _error(v.details.get("reference")), _error(v.details.get("other"))


def _wire(v: Violation) -> bytes:
    return b"".join(v.details.get("pieces") or [])


def _isal_truncated_or_malformed(target: str, v: Violation) -> bool:
    codec = v.details.get("codec")
    ref, other = _errors(v)
    return (
        isinstance(codec, (Gzip, Deflate, RawDeflate))
        and v.invariant == "backend"
        and v.details.get("backend") == "isal"
        and ref is not None
        and other is not None
        and {ref[0], other[0]} == {"MalformedError", "TruncatedError"}
    )


#: The known defects, each named for what it breaks.
KNOWN_ISSUES: list[KnownIssue] = [
    KnownIssue(
        "isal-truncated-or-malformed",
        "(new) input both corrupt and cut short: zlib and isal disagree on which they report. "
        "A gzip member cut inside its trailer with a wrong CRC-32: zlib MalformedError at the "
        "member's start, isal TruncatedError at the end; a raw deflate block header that is "
        "invalid and cut short (04 00 00 00): zlib TruncatedError, isal MalformedError",
        _isal_truncated_or_malformed,
    ),
]

#: How many violations each entry let through in this process (reported by the engines).
matched: Counter[str] = Counter()


def known_issue(target: str, violation: Violation) -> KnownIssue | None:
    """The known defect that explains ``violation``, or None (then the run fails)."""
    for issue in KNOWN_ISSUES:
        if issue.matches(target, violation):
            matched[issue.name] += 1
            return issue
    return None
