"""RESP values compared exactly: with a manifest's notation, and with what peers return.

:func:`canon` turns a decoded value (RESP_API.md's types) into a tagged tree that compares
exactly: a ``str`` is not ``bytes``, ``True`` is not ``1``, a ``list`` is not a ``Push``, a
ReplyError compares by message, code and blob, and a set by its elements (frozen keys and
set elements are the only places a tuple or frozenset may be). :func:`canon_json` gives the
same tree from the manifest notation (tests/resp/captures/__init__.py), so
``canon(decoded) == canon_json(expected)`` says the value is exactly the expected one.

:func:`peer_agrees` says whether a peer's parse (hiredis-py, redis-py's pure parsers) is the
same value in the peer's own representation: bytes for simple strings, verbatim data
without its format, lists for sets, errors as their exception objects.
"""

from __future__ import annotations

import math
from typing import Any

from framekit.codecs.resp import Attributed, MapPairs, Push, ReplyError, Verbatim
from tests.resp.captures import bytes_range

Tree = Any


def canon(value: object, *, frozen: bool = False) -> Tree:
    """The exact tagged tree of a decoded value; TypeError for a type the API does not have.

    ``frozen`` is set inside map keys and set elements, where arrays are tuples, sets are
    frozensets and maps are frozensets of their items.
    """
    if value is None:
        return ("null",)
    kind = type(value)
    if kind is bool:
        return ("bool", value)
    if kind is int:
        return ("int", value)
    if kind is float:
        assert isinstance(value, float)
        return ("double", "nan" if math.isnan(value) else repr(value))
    if kind is str:
        return ("str", value)
    if kind is bytes:
        return ("bytes", value)
    if isinstance(value, ReplyError):
        assert kind is ReplyError, kind
        assert value.code == value.message.split(" ", 1)[0], (value.code, value.message)
        return ("error", value.message, value.blob)
    if isinstance(value, Verbatim):
        return ("verbatim", value.format, value.data)
    if isinstance(value, Attributed):
        return ("attributed", canon(value.value), canon(value.attributes))
    if isinstance(value, Push):
        assert not frozen
        assert value.kind == (value[0].decode() if isinstance(value[0], bytes) else value[0])
        return ("push", tuple(canon(item) for item in value))
    if isinstance(value, MapPairs):
        assert not frozen
        return ("map", tuple((canon(k, frozen=True), canon(v)) for k, v in value))
    if kind is list and not frozen:
        assert isinstance(value, list)
        return ("array", tuple(canon(item) for item in value))
    if kind is tuple and frozen:
        assert isinstance(value, tuple)
        return ("array", tuple(canon(item, frozen=True) for item in value))
    if (kind is set and not frozen) or (kind is frozenset and frozen):
        assert isinstance(value, (set, frozenset))
        return ("set", frozenset(canon(item, frozen=True) for item in value))
    if kind is dict and not frozen:
        assert isinstance(value, dict)
        return ("map", tuple((canon(k, frozen=True), canon(v)) for k, v in value.items()))
    raise TypeError(f"not a RESP value here (frozen={frozen}): {kind.__name__} {value!r:.80}")


def canon_json(value: Any) -> Tree:
    """The tagged tree of a value in the manifest notation (as :func:`canon` gives it)."""
    if value is None:
        return ("null",)
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return ("int", value)
    if isinstance(value, str):
        return ("str", value)
    assert isinstance(value, dict), value
    if "bytes" in value:
        return ("bytes", value["bytes"].encode("latin-1"))
    if "bytes_range" in value:
        return ("bytes", bytes_range(value["bytes_range"]))
    if "double" in value:
        number = float(value["double"])
        return ("double", "nan" if math.isnan(number) else repr(number))
    if "error" in value:
        return ("error", value["error"], value["blob"])
    if "verbatim" in value:
        return ("verbatim", value["verbatim"], value["data"].encode())
    if "attributed" in value:
        return ("attributed", canon_json(value["attributed"]), canon_json(value["attributes"]))
    if "array" in value:
        return ("array", tuple(canon_json(item) for item in value["array"]))
    if "push" in value:
        return ("push", tuple(canon_json(item) for item in value["push"]))
    if "set" in value:
        return ("set", frozenset(canon_json(item) for item in value["set"]))
    if "map" in value:
        return ("map", tuple((canon_json(k), canon_json(v)) for k, v in value["map"]))
    raise ValueError(f"not a manifest value: {value!r}")


def peer_agrees(ours: object, theirs: object, *, bignum_as_bytes: bool) -> bool:
    """Whether a peer's parse ``theirs`` is our decoded ``ours`` in the peer's representation.

    ``bignum_as_bytes``: the peer gives big numbers as their digits (hiredis). An
    :class:`Attributed` value never agrees: no peer attaches attributes to a value.
    """

    def same(a: object, b: object) -> bool:
        if a is None or type(a) is bool:
            return b is a
        if type(a) is int:
            assert isinstance(a, int)
            if type(b) is int:
                return b == a
            return bignum_as_bytes and not -(2**63) <= a < 2**63 and b == str(a).encode()
        if type(a) is float:
            assert isinstance(a, float)
            return type(b) is float and (b == a or (math.isnan(a) and math.isnan(b)))
        if type(a) is str:
            assert isinstance(a, str)
            return type(b) is bytes and b == a.encode("utf-8", "surrogateescape")
        if type(a) is bytes:
            return type(b) is bytes and b == a
        if isinstance(a, ReplyError):
            message = a.message
            short = message[4:] if message.startswith("ERR ") else message
            return isinstance(b, Exception) and str(b) in (message, short)
        if isinstance(a, Verbatim):
            return type(b) is bytes and b == a.data
        if isinstance(a, Attributed):
            return False
        if isinstance(a, (set, frozenset)):
            if not isinstance(b, (list, set, frozenset)) or len(b) != len(a):
                return False
            left = list(b)
            for item in a:
                match = next((i for i, other in enumerate(left) if same(item, other)), None)
                if match is None:
                    return False
                del left[match]
            return True
        if isinstance(a, (list, tuple)) and not isinstance(a, MapPairs):
            return (
                isinstance(b, (list, tuple))
                and len(a) == len(b)
                and all(same(x, y) for x, y in zip(a, b, strict=True))
            )
        if isinstance(a, (dict, MapPairs)):
            pairs = list(a.items()) if isinstance(a, dict) else list(a)
            return (
                isinstance(b, dict)
                and len(b) == len(pairs)
                and all(
                    same(k, tk) and same(v, tv)
                    for (k, v), (tk, tv) in zip(pairs, b.items(), strict=True)
                )
            )
        raise TypeError(f"not a RESP value: {type(a).__name__}")

    return same(ours, theirs)
