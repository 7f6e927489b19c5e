"""The values a RESP decoder returns that Python has no type of its own for.

Most RESP values are plain Python objects (see :mod:`framekit.codecs.resp`): a bulk string is
``bytes``, an integer or a big number ``int``, a double ``float``, a boolean ``bool``, a
simple string ``str``, a null ``None``, an array ``list``, a map ``dict``, a set ``set``.
This module has the rest: errors (a reply, not an exception raised), verbatim strings (with
their format), pushes (out-of-band data, routed away from replies), values with attributes,
maps with every pair kept, and the parts of a reply decoded in event mode.
"""

from __future__ import annotations

from typing import Any

import attrs

__all__ = [
    "AggregateEnd",
    "AggregateStart",
    "Attributed",
    "MapPairs",
    "Push",
    "ReplyError",
    "StringChunk",
    "StringEnd",
    "StringStart",
    "Verbatim",
]


class ReplyError(Exception):
    """An error reply (``-ERR ...`` or the blob error ``!``): a value the decoder returns.

    It is an exception so a client can raise it for the command that got it, but the decoder
    never raises it: the stream is fine, the server said no. ``message`` is the whole text
    (``"WRONGTYPE Operation against a key ..."``), ``code`` its first word (``"WRONGTYPE"``),
    ``blob`` whether it came as a blob error. Equal when message and blob are.
    """

    def __init__(self, message: str, *, blob: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.blob = blob

    @property
    def code(self) -> str:
        """The error code: the message's first word (``"ERR"``, ``"WRONGTYPE"``, ...)."""
        return self.message.split(" ", 1)[0]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ReplyError):
            return NotImplemented
        return self.message == other.message and self.blob == other.blob

    def __hash__(self) -> int:
        return hash((ReplyError, self.message, self.blob))

    def __repr__(self) -> str:
        blob = ", blob=True" if self.blob else ""
        return f"ReplyError({self.message!r}{blob})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_error, (self.message, self.blob))


def _rebuild_error(message: str, blob: bool) -> ReplyError:
    return ReplyError(message, blob=blob)


@attrs.frozen
class Verbatim:
    """A verbatim string (``=``): text meant for a human, with its 3-byte ``format``
    (``"txt"`` plain text, ``"mkd"`` markdown) and its ``data`` bytes."""

    format: str
    data: bytes

    @property
    def text(self) -> str:
        """``data`` decoded as UTF-8 (undecodable bytes replaced)."""
        return self.data.decode("utf-8", "replace")

    def __bytes__(self) -> bytes:
        return self.data


class Push(list):  # type: ignore[type-arg]
    """Out-of-band data the server pushes (``>``): pub/sub messages, client-side caching
    invalidations. A list whose first element names its kind; never a reply to a command,
    so a client routes it away from the replies it pairs with commands."""

    __slots__ = ()

    @property
    def kind(self) -> str:
        """The push's kind (``"message"``, ``"invalidate"``, ...): its first element as text."""
        if not self:
            return ""
        first = self[0]
        if isinstance(first, bytes):
            return first.decode("utf-8", "replace")
        return str(first)

    def __repr__(self) -> str:
        return f"Push({list.__repr__(self)})"


class MapPairs(list):  # type: ignore[type-arg]
    """A map as the list of its ``(key, value)`` pairs, in wire order, duplicates kept
    (``Resp(map_type="pairs")``)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"MapPairs({list.__repr__(self)})"


@attrs.frozen
class Attributed:
    """A value with the attributes (``|``) the server sent before it.

    Attributes are auxiliary data about a value (key popularity, ...), never a reply of their
    own: the decoder attaches them to the value that follows.
    """

    value: Any
    attributes: Any  # a dict, or a MapPairs with map_type="pairs"


# -- event mode ---------------------------------------------------------------------------


@attrs.frozen
class AggregateStart:
    """Event mode: an aggregate begins. ``type`` is its wire byte (``"*"`` array, ``"%"``
    map, ``"~"`` set, ``">"`` push, ``"|"`` attributes: its values annotate the value after
    them); ``length`` its declared count (pairs for a map), None
    when it is streamed (it ends with :class:`AggregateEnd`). A counted aggregate has no end
    event: its ``length`` values (``2 * length`` for a map) follow, each a value or parts."""

    type: str
    length: int | None


@attrs.frozen
class AggregateEnd:
    """Event mode: a streamed aggregate (``*?``, ``%?``, ``~?``) ended."""


@attrs.frozen
class StringStart:
    """Event mode: a string too long to hand out whole begins. ``type`` is its wire byte
    (``"$"`` bulk, ``"!"`` blob error, ``"="`` verbatim, whose first :class:`StringChunk`
    bytes begin with the 4-byte ``fmt:`` prefix); ``length`` its declared length in bytes,
    None when it is streamed (``$?``). :class:`StringChunk` events follow, then
    :class:`StringEnd`."""

    type: str
    length: int | None


@attrs.frozen
class StringChunk:
    """Event mode: the next bytes of the string being handed out in parts."""

    data: bytes


@attrs.frozen
class StringEnd:
    """Event mode: the string being handed out in parts ended."""
