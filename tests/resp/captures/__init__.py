"""Replies captured from redis-server, byte for byte, with what each must decode to.

Each capture is a file ``<name>.resp`` here: the exact bytes one connection received for the
commands in its manifest entry (``manifest.json``, written by ``python -m tests.resp.capture``
against a real server). ``load_capture(name)`` returns those bytes; the one capture too large
to store (``bulk_1mib``, a GET of a 1 MiB value) is generated: :func:`generated_bulk`, whose
bytes the capture script checked equal to the server's reply.

A manifest entry::

    {"file": "debug_map.resp", "protocol": 3,          # RESP version of the connection
     "commands": [["DEBUG", "PROTOCOL", "map"]],        # what was sent (after its setup)
     "setup": [...],                                    # commands before it, replies not kept
     "other": [...],                                    # sent on a second connection meanwhile
     "replies": [<value>, ...]}                         # every top-level reply, in order

Values are JSON, tagged where JSON has no such type (RESP_API.md's value types):
a JSON string is a ``str`` (simple string), a number an ``int``, ``null`` is None,
``true``/``false`` booleans; ``{"bytes": s}`` is ``s.encode("latin-1")``;
``{"bytes_range": n}`` is :func:`bytes_range` (n bytes); ``{"double": x}`` a float (``"inf"``,
``"-inf"``, ``"nan"`` as strings); ``{"error": "ERR x", "blob": false}`` a ReplyError;
``{"verbatim": "txt", "data": s}``; ``{"array": [...]}``, ``{"set": [...]}``,
``{"push": [...]}``; ``{"map": [[key, value], ...]}`` (pairs in wire order);
``{"attributed": value, "attributes": {"map": [...]}}``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "CAPTURES",
    "bytes_range",
    "capture_names",
    "generated_bulk",
    "load_capture",
    "load_manifest",
]

#: This directory: the capture files and manifest.json.
CAPTURES = Path(__file__).resolve().parent

#: Captures that are generated rather than stored, by name: their bytes.
_GENERATED = {"bulk_1mib": lambda: generated_bulk(1 << 20)}


def bytes_range(length: int) -> bytes:
    """``length`` bytes cycling through 0..255: the value of the generated bulk captures."""
    whole, rest = divmod(length, 256)
    return bytes(range(256)) * whole + bytes(range(rest))


def generated_bulk(length: int) -> bytes:
    """The RESP bulk reply holding :func:`bytes_range` of ``length`` (``$n\\r\\n...\\r\\n``)."""
    return b"$%d\r\n" % length + bytes_range(length) + b"\r\n"


@cache
def load_manifest() -> dict[str, Any]:
    """The manifest: ``{"server": ..., "captures": {name: entry}}`` (see the module doc)."""
    manifest: dict[str, Any] = json.loads((CAPTURES / "manifest.json").read_text())
    return manifest


def capture_names() -> list[str]:
    """Every capture's name, in the manifest's order."""
    return list(load_manifest()["captures"])


def load_capture(name: str) -> bytes:
    """The bytes of capture ``name``, as redis-server sent them. KeyError for an unknown name."""
    entry = load_manifest()["captures"][name]
    if name in _GENERATED:
        return _GENERATED[name]()
    file: str = entry["file"]
    return (CAPTURES / file).read_bytes()
