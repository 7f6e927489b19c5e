"""RESP2 and RESP3, the Redis serialization protocol: a frame codec whose frames are replies.

``reader.frames(Resp())`` reads one value per top-level reply. One decoder reads RESP2 and
RESP3 alike (RESP2 is a subset: its null bulk ``$-1`` and null array ``*-1`` are ``None``),
so a client switching with ``HELLO 3`` keeps its decoder. Values:

============================  ==========================================================
wire                          value
============================  ==========================================================
``+OK`` simple string         ``str`` (UTF-8, undecodable bytes kept as surrogates)
``-ERR ...`` simple error     :class:`ReplyError` (a value: returned, never raised)
``!n`` blob error             :class:`ReplyError` with ``blob=True``
``:n`` integer, ``(n`` big    ``int``
``$n`` bulk, ``$?`` streamed  ``bytes``
``_``, ``$-1``, ``*-1``       ``None``
``#t`` / ``#f``               ``True`` / ``False``
``,x`` double                 ``float`` (``inf``, ``-inf``, ``nan`` included)
``=n`` verbatim               :class:`Verbatim` (``format`` kept: ``"txt"``, ``"mkd"``)
``*`` array, ``*?``           ``list``
``%`` map, ``%?``             ``dict`` (the last of duplicate keys wins), or with
                              ``map_type="pairs"`` a :class:`MapPairs` keeping every pair
``~`` set, ``~?``             ``set``
``>`` push                    :class:`Push` (a list; only at top level, never a reply)
``|`` attributes              :class:`Attributed` wrapping the value they precede
============================  ==========================================================

A map key or set element that is not hashable is frozen: an array to a ``tuple``, a set to a
``frozenset``, a map to a ``frozenset`` of its ``(key, value)`` pairs. A frame reader raises
:class:`~framekit.errors.EndOfStream` at the end, so a ``None`` reply is never taken for it.

**Strict by default.** Integers and lengths as hiredis's ``string2ll`` reads them (digits, an
optional ``-``, no ``+``, spaces, ``_`` or leading zeros; ``:`` within 64 bits); doubles by
the RESP3 grammar (digits, an optional fraction and exponent, ``inf``, ``-inf``, ``nan``; with
``legacy_nan=True`` also the NaN spellings of Redis before 7.2: ``-nan``, ``NAN``,
``nan(...)``); the CRLF after every bulk is checked (hiredis takes ``$3\\r\\nabcXY``); a CR or
LF inside a line, a ``#`` other than ``t``/``f``, a ``_`` with content, a push inside an
aggregate, a ``.`` outside a streamed aggregate are :class:`~framekit.errors.MalformedError`.
Every error names the type byte, the rule and the byte offset.

**Limits**, each its own :class:`~framekit.errors.LimitExceededError` subclass naming its
option (:class:`BulkTooLong`, :class:`~framekit.errors.LineTooLong`,
:class:`AggregateTooLong`, :class:`NestingTooDeep`, :class:`ReplyTooLarge`):
``max_bulk_length`` (512 MiB, as redis-server's ``proto-max-bulk-len``; a streamed string's
total too), ``max_line_length`` (64 KiB, redis-server's inline limit; a header, simple string,
error, number line), ``max_aggregate_length`` (2**32 - 1, as hiredis; nothing is allocated
from a declared count: containers grow as elements arrive), ``max_depth`` (1024, as hiredis;
the decoder uses no recursion), ``max_reply_size`` (None: off; the bytes of one reply).

**Errors end the stream.** RESP has no point a decoder could resynchronise at after bad
input or a passed limit, so the decoder is poisoned: it returns the replies before the bad
one, then raises the error on that call and every later one. A client drops the connection.
EOF inside a reply is a :class:`~framekit.errors.TruncatedError` at the reply's first byte.

**Event mode** (``stream_threshold=n``): a reply that holds a bulk string, blob error or
verbatim string longer than ``n`` bytes, or a streamed string, comes as parts, so a 1 GiB
value never sits whole in memory: every aggregate in that reply as :class:`AggregateStart`
(``length`` None for a streamed one, which ends with :class:`AggregateEnd`; attributes as an
aggregate of type ``"|"`` whose values precede the value they annotate), each long string as
:class:`StringStart`, :class:`StringChunk`\\ s and :class:`StringEnd`, and every other value
whole; :class:`ReplyTracker` says which frame ends a reply. Each chunk holds
``stream_chunk_size`` bytes (64 KiB), the last of a string (or of a streamed string's part)
the rest, so the parts never depend on how the bytes arrived. Replies without a long string
still come whole. The limits hold.

**Speed.** Replies are cut from the buffered bytes split at CRLF once per call: one C call
finds every line, and the common shapes (pipelined simple replies, arrays of short bulks)
cost a dictionary lookup and an append per element. A reply still arriving is not parsed
again: the decoder keeps the aggregates it is building and resumes at the next element.

The encoders: :func:`encode_command` (an array of bulks from ``bytes``, ``str``, ``int``,
``float``; what a client sends), :func:`encode_commands` (a pipeline), and
:meth:`Resp.encoder`'s :class:`RespEncoder` for any value (RESP3, or RESP2 with
``protocol=2``; attributes and pushes included), with :func:`encode_streamed_string` and
:func:`encode_streamed_aggregate` for the streamed forms. Decoding what they write gives back
the value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from itertools import accumulate
from operator import add
from typing import Any, Literal

import attrs

from framekit.codecs._base import BaseFrameDecoder, drop_frame_locals
from framekit.codecs._options import int_in, is_bool, one_of
from framekit.codecs.resp_values import (
    AggregateEnd,
    AggregateStart,
    Attributed,
    MapPairs,
    Push,
    ReplyError,
    StringChunk,
    StringEnd,
    StringStart,
    Verbatim,
)
from framekit.errors import (
    FrameTooLong,
    FramingError,
    LimitExceededError,
    LineTooLong,
    MalformedError,
    TruncatedError,
)
from framekit.speedups import scan_resp as _scan_resp

__all__ = [
    "DEFAULT_MAX_AGGREGATE_LENGTH",
    "DEFAULT_MAX_BULK_LENGTH",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_LINE_LENGTH",
    "DEFAULT_STREAM_CHUNK_SIZE",
    "AggregateEnd",
    "AggregateStart",
    "AggregateTooLong",
    "Attributed",
    "BulkTooLong",
    "MapPairs",
    "NestingTooDeep",
    "Push",
    "ReplyError",
    "ReplyTooLarge",
    "ReplyTracker",
    "Resp",
    "RespDecoder",
    "RespEncoder",
    "StringChunk",
    "StringEnd",
    "StringStart",
    "Verbatim",
    "encode_command",
    "encode_commands",
    "encode_streamed_aggregate",
    "encode_streamed_string",
]

#: Default ``max_bulk_length``: 512 MiB, redis-server's ``proto-max-bulk-len`` and Netty's.
DEFAULT_MAX_BULK_LENGTH = 512 * 1024 * 1024
#: Default ``max_line_length``: 64 KiB, redis-server's ``PROTO_INLINE_MAX_SIZE``.
DEFAULT_MAX_LINE_LENGTH = 64 * 1024
#: Default ``max_aggregate_length``: 2**32 - 1, hiredis's ``maxelements``.
DEFAULT_MAX_AGGREGATE_LENGTH = 2**32 - 1
#: Default ``max_depth``: 1024, hiredis's ``maxdepth``.
DEFAULT_MAX_DEPTH = 1024
#: Default ``stream_chunk_size``: 64 KiB.
DEFAULT_STREAM_CHUNK_SIZE = 64 * 1024

#: Bytes split at CRLF at a time; a string this long found at a window's start is taken by
#: position instead (a copy, where a search through it is ~25x slower).
_WINDOW = 64 * 1024
_LONG = 8 * 1024
#: Elements looked at together on the fast paths.
_BATCH = 64
#: A line's length to the offset after it (one CRLF), and a bulk's two lines' (two CRLFs).
_PLUS_CRLF = (2).__add__
_PLUS_2_CRLF = (4).__add__
#: An aggregate opened in Python with this many elements goes back to the compiled scanner.
_RESCAN = 32
#: The window with the compiled scanner: what it stopped at is parsed in Python, then it
#: runs again at the next window.
_SMALL_WINDOW = 4 * 1024

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


class BulkTooLong(FrameTooLong):
    """A RESP string (bulk, blob error, verbatim, or a streamed string in all) is longer
    than ``max_bulk_length``."""


class AggregateTooLong(LimitExceededError):
    """A RESP aggregate declares more elements than ``max_aggregate_length``."""


class NestingTooDeep(LimitExceededError):
    """A RESP reply nests aggregates deeper than ``max_depth``."""


class ReplyTooLarge(LimitExceededError):
    """A RESP reply is longer than ``max_reply_size``."""


@attrs.define(frozen=True, kw_only=True)
class Resp:
    """RESP2/RESP3 replies (and values). See the module docstring for the options."""

    max_bulk_length: int = attrs.field(default=DEFAULT_MAX_BULK_LENGTH, validator=int_in(0))
    max_line_length: int = attrs.field(default=DEFAULT_MAX_LINE_LENGTH, validator=int_in(1))
    max_aggregate_length: int = attrs.field(
        default=DEFAULT_MAX_AGGREGATE_LENGTH, validator=int_in(0)
    )
    max_depth: int = attrs.field(default=DEFAULT_MAX_DEPTH, validator=int_in(1))
    max_reply_size: int | None = attrs.field(default=None)
    stream_threshold: int | None = attrs.field(default=None)
    stream_chunk_size: int = attrs.field(default=DEFAULT_STREAM_CHUNK_SIZE, validator=int_in(1))
    map_type: Literal["dict", "pairs"] = attrs.field(
        default="dict", validator=one_of("dict", "pairs")
    )
    legacy_nan: bool = attrs.field(default=False, validator=is_bool)
    protocol: Literal[2, 3] = attrs.field(default=3, validator=one_of(2, 3))

    @max_reply_size.validator
    def _check_reply_size(self, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None:
            int_in(1)(self, attribute, value)

    @stream_threshold.validator
    def _check_threshold(self, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is not None:
            int_in(0)(self, attribute, value)

    def decoder(self) -> RespDecoder:
        """A fresh decoder for one stream."""
        return RespDecoder(self)

    def encoder(self) -> RespEncoder:
        """A fresh value encoder (RESP3, or RESP2 with ``protocol=2``) refusing what this
        codec's decoder would refuse (its limits)."""
        return RespEncoder(
            protocol=self.protocol,
            max_bulk_length=self.max_bulk_length,
            max_line_length=self.max_line_length,
            max_aggregate_length=self.max_aggregate_length,
            max_depth=self.max_depth,
            max_reply_size=self.max_reply_size,
        )


# -- small tables ------------------------------------------------------------------------

_SIMPLE = {b"+OK": "OK", b"+PONG": "PONG", b"+QUEUED": "QUEUED"}


def _small_table(prefix: bytes, low: int, high: int) -> dict[bytes, int]:
    return {prefix + str(i).encode(): i for i in range(low, high)}


def _limited(table: dict[Any, Any], limit: int, largest: int, max_line: int) -> dict[Any, Any]:
    """``table`` (whose largest value is ``largest``, its longest key 7 bytes) without the
    entries over ``limit`` or whose line is longer than ``max_line``."""
    if largest <= limit and max_line >= 7:
        return table
    return {
        key: value
        for key, value in table.items()
        if (not isinstance(value, int) or value <= limit) and len(key) <= max_line
    }


# ``$n`` headers of strict lengths 0..4095 (a lookup both checks and reads them), ``*n`` of
# counts 0..1023, ``:n`` of integers -1..1023.
_BULK_LENGTHS = _small_table(b"$", 0, 4096)
_ARRAY_LENGTHS = _small_table(b"*", 0, 1024)
_SMALL_INTS = _small_table(b":", -1, 1024)

_STRICT_INT = re.compile(rb"0|-?[1-9][0-9]*")
_STRICT_DOUBLE = re.compile(rb"-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_LEGACY_NAN = re.compile(rb"[+-]?nan(?:\([0-9A-Za-z_]*\))?", re.IGNORECASE)

_NAMES = {
    ord("+"): "simple string",
    ord("-"): "simple error",
    ord(":"): "integer",
    ord("$"): "bulk string",
    ord("*"): "array",
    ord("_"): "null",
    ord(","): "double",
    ord("#"): "boolean",
    ord("!"): "blob error",
    ord("="): "verbatim string",
    ord("("): "big number",
    ord("%"): "map",
    ord("~"): "set",
    ord("|"): "attribute",
    ord(">"): "push",
    ord(";"): "streamed string part",
    ord("."): "end of a streamed aggregate",
}

_STRINGS = frozenset(b"$!=")
_AGGREGATES = frozenset(b"*%~>|")
_DOLLAR, _STAR, _PERCENT, _TILDE, _PUSH, _ATTR = b"$*%~>|"
#: The aggregates whose elements the compiled scanner reads when it resumes inside one.
_SCANNED = (_STAR, _PERCENT, _TILDE)
_PART, _END, _BANG, _EQUALS = b";.!="


def _what(t: int) -> str:
    name = _NAMES.get(t)
    return f"{name} ({chr(t)!r})" if name else f"type byte {bytes([t])!r}"


def _decode_text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


def _freeze(value: Any) -> Any:
    """A hashable stand-in for a map key or set element that is not hashable."""
    if isinstance(value, list):
        return tuple(_freeze(item) for item in value)
    if isinstance(value, dict):
        return frozenset((_freeze(k), _freeze(v)) for k, v in value.items())
    if isinstance(value, (set, frozenset)):
        return frozenset(_freeze(item) for item in value)
    if isinstance(value, Attributed):
        return Attributed(_freeze(value.value), _freeze(value.attributes))
    return value


def _build(t: int, items: list[Any], pairs: bool) -> Any:
    """The value of a finished aggregate of type ``t`` from its items in wire order."""
    if t == _STAR:
        return items
    if t in (_PERCENT, _ATTR):
        it = iter(items)
        if pairs:
            return MapPairs(zip(it, it, strict=False))
        try:
            return dict(zip(it, it, strict=False))
        except TypeError:
            it = iter(items)
            return {_freeze(k): v for k, v in zip(it, it, strict=False)}
    if t == _TILDE:
        try:
            return set(items)
        except TypeError:
            return {_freeze(item) for item in items}
    return Push(items)


# -- the decoder -------------------------------------------------------------------------


class _Wait(Exception):
    """The parse ran out of input (internal)."""


class _ToEvents(Exception):
    """Event mode: the reply being parsed holds a long string (internal)."""


class _Resplit(Exception):
    """A string went past the lines of the window (internal): ``value`` is it."""

    def __init__(self, value: Any) -> None:
        self.value = value


class RespDecoder(BaseFrameDecoder[Any]):
    """Decodes RESP2/RESP3 replies; made by :meth:`Resp.decoder`. See the module docstring.

    State between calls: the stream offset of ``data[0]``, the error that poisoned it, and for
    a reply still arriving the aggregates being built (``_stack``, their items so far), the
    offset of the next element (``_resume``), how far the line there was searched, and the
    input length that anything new needs (``_need``: a long bulk's end). Nothing of a reply is
    consumed before it is whole (in event mode: before each part is handed out).
    """

    __slots__ = (
        "_array_table",
        "_attrs",
        "_bulk_max",
        "_bulk_table",
        "_chunk",
        "_compiled",
        "_error",
        "_events",
        "_legacy_nan",
        "_max_agg",
        "_max_bulk",
        "_max_depth",
        "_max_line",
        "_max_reply",
        "_need",
        "_offset",
        "_pairs",
        "_resume",
        "_scanned",
        "_simple",
        "_stack",
        "_threshold",
        "_window_size",
        "needs_input",
    )

    def __init__(self, codec: Resp) -> None:
        self._max_bulk = codec.max_bulk_length
        self._max_line = codec.max_line_length
        self._max_agg = codec.max_aggregate_length
        self._max_depth = codec.max_depth
        self._max_reply = codec.max_reply_size
        self._threshold = codec.stream_threshold
        self._chunk = codec.stream_chunk_size
        self._pairs = codec.map_type == "pairs"
        self._legacy_nan = codec.legacy_nan
        # Lookup tables of the headers within the limits (and the event-mode threshold).
        bulk_max = self._max_bulk
        if self._threshold is not None:
            bulk_max = min(bulk_max, self._threshold)
        self._bulk_table: dict[bytes, int] = _limited(_BULK_LENGTHS, bulk_max, 4095, self._max_line)
        self._array_table: dict[bytes, int] = _limited(
            _ARRAY_LENGTHS, self._max_agg, 1023, self._max_line
        )
        self._simple: dict[bytes, str] = _limited(_SIMPLE, 0, 0, self._max_line)
        # Replies are split at CRLF a window at a time (so a long string found in a window
        # costs at most a window of search); every line fits in one.
        self._window_size = max(_WINDOW, self._max_line + 3)
        #: The compiled scanner of the common shapes (framekit.speedups), or None.
        self._compiled = _scan_resp
        #: The longest string taken whole (longer: an error, or parts in event mode).
        self._bulk_max = bulk_max
        #: Stream offset of the first byte of the next ``data``.
        self._offset = 0
        self._error: FramingError | None = None
        #: The open aggregates of the reply being assembled: ``[type, left, items, attrs]``
        #: (``left`` -1 for a streamed one; a streamed string is ``[ord("$"), -2, parts, attrs]``).
        self._stack: list[list[Any]] = []
        #: Attributes read for the next value at the top of ``_stack``.
        self._attrs: Any = None
        #: Offset in ``data`` of the next element of the reply being assembled.
        self._resume = 0
        #: Offset in ``data`` up to which the line at ``_resume`` was searched (0: not yet).
        self._scanned = 0
        #: ``len(data)`` below which nothing can be done (a long bulk's end).
        self._need = 0
        #: Event mode's state while a reply is handed out in parts (see ``_EventState``).
        self._events: _EventState | None = None
        #: True when the last call stopped only because its input ran out.
        self.needs_input = False

    # -- the contract ------------------------------------------------------------------

    def reset_search(self) -> None:
        """Forget the reply being assembled (nothing of it was consumed): the next call
        parses it again from ``data[0]``. A reply being handed out in parts keeps its place
        (its parts so far were consumed)."""
        self._stack = []
        self._attrs = None
        self._resume = 0
        self._scanned = 0
        self._need = 0
        if self._events is not None:
            self._events.scanned = 0

    def decode(self, data: memoryview, frames: list[Any], ends: list[int] | None = None) -> int:
        """Append every complete reply in ``data`` to ``frames`` (in event mode, every part
        ready); return the bytes consumed. Raises MalformedError or a LimitExceededError
        (after returning the replies before the bad one), and the same error on every later
        call."""
        error = self._error
        if error is not None:
            raise error
        n = len(data)
        if n < self._need:
            self.needs_input = True
            return 0
        stack = self._stack
        compiled = self._compiled
        if stack and compiled is not None and self._attrs is None and self._max_reply is None:
            # Inside a long array (map, set) still arriving: its next elements in C, and
            # nothing else when it runs out of input in one (the common call, at 1460-byte
            # pieces of an LRANGE). The general path below goes on from where it stopped.
            top = stack[-1]
            if top[1] > 0 and top[0] in _SCANNED:
                start = self._resume
                result = compiled(
                    data, start, top[2], None, top[1], self._bulk_max, self._max_line, 0, False
                )
                if result is not None:
                    stop, left, need = result
                    top[1] = left
                    self._resume = stop
                    if stop > start:
                        self._scanned = 0
                    if left and (need > 0 or (not need and n - stop <= _SMALL_WINDOW)):
                        if need > 0:
                            self._need = stop + need
                        self.needs_input = True
                        return 0
        try:
            if self._max_reply is not None:
                consumed = self._decode_limited(data, frames, ends, False)
            elif self._events is not None:
                consumed = self._decode_events(data, frames, ends, 0, False)
            else:
                consumed = self._decode(data, frames, ends, False)
        except FramingError as raised:
            # The decoder keeps it: its finished frames let go of their views of ``data``,
            # or the source's buffer could never change size again.
            drop_frame_locals(raised)
            raise
        if self._error is not None:
            _forget_frames(self._error)  # kept for the next call (as above)
        return consumed

    def decode_eof(self, data: memoryview, frames: list[Any], ends: list[int] | None = None) -> int:
        """Like :meth:`decode` at the end of the stream: the complete replies, then
        TruncatedError (at the first byte of the reply cut short) if any bytes remain."""
        error = self._error
        if error is not None:
            raise error
        before = len(frames)
        try:
            if self._max_reply is not None:
                consumed = self._decode_limited(data, frames, ends, True)
            elif self._events is not None:
                consumed = self._decode_events(data, frames, ends, 0, True)
            else:
                consumed = self._decode(data, frames, ends, True)
        except FramingError as raised:
            drop_frame_locals(raised)  # kept by the decoder (see ``decode``)
            raise
        if self._error is not None:
            _forget_frames(self._error)
        if consumed or len(frames) > before:
            return consumed
        if len(data) or self._events is not None:
            start = self._events.reply_start if self._events is not None else self._offset
            error = TruncatedError("the stream ended inside a RESP reply", offset=start)
            self._error = error
            raise error
        return 0

    def _decode_limited(
        self, data: memoryview, frames: list[Any], ends: list[int] | None, eof: bool
    ) -> int:
        """Decode with ``max_reply_size``: the parser sees no more of a reply than the limit
        allows, so a reply that does not end within it is ReplyTooLarge (at its first byte)
        however its bytes arrived, and an error inside the limit still comes first."""
        limit = self._max_reply
        assert limit is not None
        total = 0
        n = len(data)
        while True:
            state = self._events
            room = limit - (self._offset - state.reply_start) if state is not None else limit
            truncated = n - total > room
            view = data[total : total + room] if truncated else data[total:]
            found: list[int] | None = [] if ends is not None else None
            count = len(frames)
            try:
                if state is not None:
                    consumed = self._decode_events(view, frames, found, 0, eof and not truncated)
                else:
                    consumed = self._decode(view, frames, found, eof and not truncated)
            except FramingError:
                if total:
                    return total  # the error (kept) comes on the next call
                raise
            if ends is not None and found:
                ends.extend(total + end for end in found)
            if consumed or len(frames) > count:
                total += consumed
                if self._error is not None or total >= n:
                    return total
                continue
            if truncated:
                start = self._events.reply_start if self._events is not None else self._offset
                error = self._reply_too_large(start - self._offset)
                self._stop(error)
                self._events = None
                if total:
                    return total
                raise error
            return total

    # -- replies assembled whole --------------------------------------------------------

    def _window(self, data: memoryview, start: int, size: int) -> bytes:
        """At most ``size`` bytes of ``data`` from ``start``, as bytes (no copy when that is
        all of a whole bytes object ``data`` views)."""
        n = len(data)
        end = start + size
        if end >= n:
            if not start:
                obj = data.obj
                if type(obj) is bytes and len(obj) == n:
                    return obj
            end = n
        return data[start:end].tobytes()

    def _decode(
        self, data: memoryview, frames: list[Any], ends: list[int] | None, eof: bool
    ) -> int:
        n = len(data)
        self._need = 0
        resume = self._resume
        scanned = self._scanned
        # The line at ``resume`` had no ending up to ``scanned``: look at new bytes only.
        if (
            scanned
            and not eof
            and (n == scanned or data[scanned - 1 : n].tobytes().find(b"\r\n") < 0)
        ):
            self._check_partial_line(data, resume, n)
            self._scanned = n
            self.needs_input = True
            return 0
        stack = self._stack
        attrs_ = self._attrs
        pairs = self._pairs
        bulk_lengths = self._bulk_table
        simple_lines = self._simple
        bulk_max = self._bulk_max
        before = len(frames)
        to_events = False
        done = 0  # the offset after the last reply handed out
        base = resume  # where the window being parsed starts
        lines: list[bytes] = []
        k = last = done_k = 0
        pos_k, pos = 0, base
        value: Any
        try:
            compiled = self._compiled
            # A window's size: smaller with the compiled scanner (it runs at each window's
            # start), larger when a line does not fit.
            wsize = _SMALL_WINDOW if compiled is not None else self._window_size
            while True:  # windows: a window of the bytes from ``base``, split at CRLF
                lines = []
                k = done_k = last = 0
                pos_k, pos = 0, base
                complete = base
                if stack and not stack[-1][1]:
                    # An aggregate the compiled scanner filled (``decode``'s fast path).
                    top = stack.pop()
                    value, attrs_, finished = self._complete(
                        _build(top[0], top[2], pairs), stack, top[3], frames
                    )
                    if finished:
                        done = base
                        if ends is not None:
                            ends.append(base)
                    continue
                if compiled is not None and attrs_ is None:
                    # The common shapes in C (the same rules; it stops at anything else).
                    result = None
                    if not stack:
                        result = compiled(
                            data, base, frames, ends, -1, bulk_max, self._max_line,
                            self._max_agg, not pairs,
                        )  # fmt: skip
                        if result is not None and result[0] > base:
                            done = base = pos = result[0]
                    elif stack[-1][0] in _SCANNED and stack[-1][1] > 0:
                        top = stack[-1]
                        result = compiled(
                            data, base, top[2], None, top[1], bulk_max, self._max_line, 0, False
                        )
                        if result is not None and result[0] > base:
                            base = pos = result[0]
                            top[1] = result[1]
                            if not top[1]:
                                stack.pop()
                                value, attrs_, finished = self._complete(
                                    _build(top[0], top[2], pairs), stack, top[3], frames
                                )
                                if finished:
                                    done = base
                                    if ends is not None:
                                        ends.append(base)
                                continue
                    if result is not None:
                        need = result[2]
                        if need > 0 or (not need and n - base <= _SMALL_WINDOW):
                            # It ran out of input inside a scalar: nothing for Python to do
                            # until more comes (a bulk's end: wait for it whole).
                            if need > 0 and not eof:
                                self._need = base + need
                            raise _Wait
                text = self._window(data, base, wsize)
                if text[:1] in b"$!=" and text:
                    # A string at the window's start: if it is long, take it by position
                    # rather than split through it (a 1 MiB bulk is a copy, not a scan).
                    taken = self._long_string(data, base, text, stack, eof)
                    if taken is not None:
                        value, base = taken
                        value, attrs_, finished = self._complete(value, stack, attrs_, frames)
                        if finished:
                            done = base
                            if ends is not None:
                                ends.append(base)
                        if base >= n:
                            pos = base
                            raise _Wait
                        continue
                lines = text.split(b"\r\n")
                last = len(lines) - 1  # lines[last] follows the last CRLF: no ending yet
                # The offset after the window's last complete line.
                complete = base + len(text) - len(lines[last])
                k = done_k = 0  # replies handed out from this window ended at line done_k
                pos_k, pos = 0, base  # a checkpoint: line pos_k starts at offset pos
                try:
                    while True:
                        value = _NOTHING
                        if stack:
                            top = stack[-1]
                            if top[0] == _STAR and attrs_ is None and top[1] > 0:
                                # Arrays of short bulks, the hot shape (LRANGE, MGET, ...).
                                left = top[1]
                                items = top[2]
                                # 64 elements at a time in C (lookups, lengths, compare)
                                # while they are all short bulks, then one at a time.
                                while left >= _BATCH and last - k >= 2 * _BATCH:
                                    end = k + 2 * _BATCH
                                    values = lines[k + 1 : end : 2]
                                    if list(map(bulk_lengths.get, lines[k:end:2])) != list(
                                        map(len, values)
                                    ):
                                        break
                                    items += values
                                    left -= _BATCH
                                    k = end
                                while left and k < last - 1:
                                    size = bulk_lengths.get(lines[k])
                                    if size is None:
                                        break
                                    value = lines[k + 1]
                                    if len(value) != size:
                                        break
                                    items.append(value)
                                    left -= 1
                                    k += 2
                                top[1] = left
                                if left:
                                    value = _NOTHING
                                else:
                                    stack.pop()
                                    value = items
                                    attrs_ = top[3]
                        elif attrs_ is None and k < last:
                            # Top level: pipelined simple replies and short bulks, by
                            # batches of 64 replies when they come all alike (their ends,
                            # when asked for, summed in C too).
                            # (Each batch is tried only where its first line can begin it:
                            # the simple replies' lookups were a tenth of pipelined GETs' time.)
                            if last - k >= 2 * _BATCH:
                                first = lines[k]
                                if first in simple_lines:
                                    end = k + _BATCH
                                    found = list(map(simple_lines.get, lines[k:end]))
                                    if None not in found:
                                        frames += found
                                        if ends is not None:
                                            pos = _advance(lines, pos_k, pos, k)
                                            line_sizes = map(_PLUS_CRLF, map(len, lines[k:end]))
                                            offsets = accumulate(line_sizes, initial=pos)
                                            next(offsets)
                                            ends += offsets
                                            pos_k, pos = end, ends[-1]
                                        k = done_k = end
                                        continue
                                elif first in bulk_lengths:
                                    end = k + 2 * _BATCH
                                    heads = lines[k:end:2]
                                    values = lines[k + 1 : end : 2]
                                    sizes = list(map(len, values))
                                    if list(map(bulk_lengths.get, heads)) == sizes:
                                        frames += values
                                        if ends is not None:
                                            pos = _advance(lines, pos_k, pos, k)
                                            heads_sizes = map(len, heads)
                                            offsets = accumulate(
                                                map(_PLUS_2_CRLF, map(add, heads_sizes, sizes)),
                                                initial=pos,
                                            )
                                            next(offsets)
                                            ends += offsets
                                            pos_k, pos = end, ends[-1]
                                        k = done_k = end
                                        continue
                            line = lines[k]
                            simple = simple_lines.get(line)
                            if simple is not None:
                                k += 1
                                frames.append(simple)
                                if ends is not None:
                                    pos_k, pos = k, _advance(lines, pos_k, pos, k)
                                    ends.append(pos)
                                done_k = k
                                continue
                            size = bulk_lengths.get(line)
                            if size is not None and k < last - 1:
                                value = lines[k + 1]
                                if len(value) == size:
                                    k += 2
                                    frames.append(value)
                                    if ends is not None:
                                        pos_k, pos = k, _advance(lines, pos_k, pos, k)
                                        ends.append(pos)
                                    done_k = k
                                    continue
                                value = _NOTHING
                        if value is _NOTHING:
                            value, k, attrs_, pos_k, pos = self._element(
                                lines, k, last, n, data, stack, attrs_, eof, pos_k, pos, complete
                            )
                            if k < 0:
                                # A string past the window's lines: complete it, then go on
                                # with a window after it.
                                raise _Resplit(value)
                            if value is _NOTHING:
                                if (
                                    compiled is not None
                                    and stack
                                    and stack[-1][1] >= _RESCAN
                                    and stack[-1][0] in _SCANNED
                                    and attrs_ is None
                                ):
                                    # A long aggregate begins: its elements go to the
                                    # compiled scanner, from a window at them.
                                    raise _Resplit(_NOTHING)
                                continue
                        # A value is complete: attach its attributes, add it to its aggregate
                        # (which may complete in turn), or hand it out.
                        while True:
                            if attrs_ is not None:
                                value = _attach(value, attrs_)
                                attrs_ = None
                            if not stack:
                                frames.append(value)
                                done_k = k
                                if ends is not None:
                                    pos_k, pos = k, _advance(lines, pos_k, pos, k)
                                    ends.append(pos)
                                break
                            top = stack[-1]
                            top[2].append(value)
                            left = top[1]
                            if left < 0:
                                break
                            left -= 1
                            top[1] = left
                            if left:
                                break
                            stack.pop()
                            value = _build(top[0], top[2], pairs)
                            attrs_ = top[3]
                            if top[0] == _ATTR:
                                attrs_ = _merge(attrs_, value)
                                break
                except _Resplit as resplit:
                    if done_k:
                        done = _line_offset(lines, 0, base, done_k, complete)
                    base = pos  # after the string
                    value, attrs_, finished = self._complete(resplit.value, stack, attrs_, frames)
                    if finished:
                        done = base
                        if ends is not None:
                            ends.append(base)
                    continue
                except _Wait:
                    at = _line_offset(lines, pos_k, pos, k, complete)
                    if not self._need and base + len(text) < n and at >= complete:
                        # The window ended, not the input: the next window starts at line k
                        # (a larger one if not even that line fitted).
                        if at == base:
                            if wsize >= self._window_size:
                                raise
                            wsize = min(2 * wsize, self._window_size)
                        if done_k:
                            done = _line_offset(lines, 0, base, done_k, complete)
                        base = at
                        continue
                    raise
        except _Wait:
            pass
        except _ToEvents:
            if done_k:
                done = _line_offset(lines, 0, base, done_k, complete)
            self._reset_reply()
            self._events = _EventState(self._offset + done)
            to_events = True
        except FramingError as error:
            self._stop(error)
            if len(frames) > before:
                if done_k:
                    done = _line_offset(lines, 0, base, done_k, complete)
                self._offset += done
                return done
            raise
        if to_events:
            # Outside the handler: an error kept from here must not chain to _ToEvents (whose
            # frames hold views of ``data``).
            return self._decode_events(data, frames, ends, done, eof)
        # Out of input (at EOF: out of complete replies).
        if done_k:
            done = _line_offset(lines, 0, base, done_k, complete)
        consumed = done
        if eof:
            self._offset += consumed
            self._reset_reply()
            self.needs_input = False
            return consumed
        resume_at = _line_offset(lines, pos_k, pos, k, complete)
        try:
            if resume_at == consumed and not stack and attrs_ is None and not self._need:
                # Nothing of the next reply parsed yet (at most a part of its first line).
                self._reset_reply()
                if consumed < n:
                    self._check_partial_line(data, consumed, n)
                    self._scanned = n - consumed
            else:
                # Keep what was built: the next call resumes at ``resume_at``.
                self._stack = stack
                self._attrs = attrs_
                self._resume = resume_at - consumed
                if self._need:
                    self._need -= consumed
                    self._scanned = 0
                else:
                    self._check_partial_line(data, resume_at, n)
                    self._scanned = n - consumed if resume_at < n else 0
        except FramingError as error:
            # Found past the replies handed out: they go first, the error on the next call.
            self._stop(error)
            self._offset += consumed
            if len(frames) > before:
                return consumed
            raise
        self._offset += consumed
        self.needs_input = True
        return consumed

    def _long_string(
        self, data: memoryview, base: int, text: bytes, stack: list[list[Any]], eof: bool
    ) -> tuple[Any, int] | None:
        """A long string at ``base`` (where a window starts): ``(value, offset after it)``,
        or None when it is not long (or not a string). Raises _Wait, _ToEvents, errors."""
        eol = text.find(b"\r\n", 0, 24)
        if eol < 0 or eol > self._max_line:
            return None  # the element path says what is wrong, in its order
        line = text[:eol]
        t = line[0]
        if stack and stack[-1][1] == -2:
            return None  # inside a streamed string: the element path says what is wrong
        size = self._length(line, t, base)
        if size < _LONG:
            return None
        if self._threshold is not None and size > self._threshold:
            raise _ToEvents
        start = base + eol + 2
        end = start + size
        if end + 2 > len(data):
            if not eof:
                self._need = end + 2
            raise _Wait
        if data[end : end + 2].tobytes() != b"\r\n":
            raise self._malformed(f"a {_what(t)} of {size} bytes is not followed by CRLF", end)
        return self._string_value(t, data[start:end].tobytes(), start), end + 2

    def _string_value(self, t: int, payload: bytes, start: int) -> Any:
        """The value of a ``$``, ``!`` or ``=`` string whose payload starts at ``start``."""
        if t == _DOLLAR:
            return payload
        if t == _BANG:
            return ReplyError(_decode_text(payload), blob=True)
        if len(payload) < 4 or payload[3:4] != b":":
            raise self._malformed(
                "a verbatim string must begin with a 3-byte format and ':'", start
            )
        return Verbatim(payload[:3].decode("ascii", "replace"), payload[4:])

    def _complete(
        self, value: Any, stack: list[list[Any]], attrs_: Any, frames: list[Any]
    ) -> tuple[Any, Any, bool]:
        """Add a finished ``value`` to its aggregate (which may finish in turn), or hand it
        out to ``frames``: ``(value, attributes waiting, whether a reply was handed out)``.
        ``_NOTHING`` (a streamed string's part) adds nothing."""
        if value is _NOTHING:
            return value, attrs_, False
        while True:
            if attrs_ is not None:
                value = _attach(value, attrs_)
                attrs_ = None
            if not stack:
                frames.append(value)
                return value, None, True
            top = stack[-1]
            top[2].append(value)
            left = top[1]
            if left < 0:
                return value, None, False
            left -= 1
            top[1] = left
            if left:
                return value, None, False
            stack.pop()
            value = _build(top[0], top[2], self._pairs)
            attrs_ = top[3]
            if top[0] == _ATTR:
                return value, _merge(attrs_, value), False

    def _element(
        self,
        lines: list[bytes],
        k: int,
        last: int,
        n: int,
        data: memoryview,
        stack: list[list[Any]],
        attrs_: Any,
        eof: bool,
        pos_k: int,
        pos: int,
        complete: int,
    ) -> tuple[Any, int, Any, int, int]:
        """Parse the element at line ``k`` (any type), given that line ``pos_k`` starts at
        offset ``pos``: ``(value, next line, attributes, line, its offset)``, the last two a
        checkpoint for :func:`_advance`. The value is ``_NOTHING`` when the element opened an
        aggregate, was attributes or a streamed string's part. A string whose bytes go past
        ``complete`` (the end of the window's last complete line) comes with line -1 and the
        offset after it: a new window starts there. Raises _Wait when its bytes have not all
        arrived, _ToEvents in event mode for a long string."""
        if k >= last:
            raise _Wait
        pos = _advance(lines, pos_k, pos, k)
        line = lines[k]
        if not line:
            raise self._malformed("an empty line where a RESP type byte belongs", pos)
        t = line[0]
        if len(line) > self._max_line:
            raise LineTooLong(
                f"a RESP {_what(t)} line is longer than max_line_length ({self._max_line})",
                limit=self._max_line,
                offset=self._offset + pos,
            )
        in_string = bool(stack) and stack[-1][1] == -2
        if in_string and t != _PART:
            raise self._malformed(
                "a streamed string ('$?') holds something other than parts (';')", pos
            )
        if t in _STRINGS or t == _PART:
            if t == _PART and not in_string:
                raise self._malformed("a streamed string part (';') outside a streamed string", pos)
            size = self._length(line, t, pos)
            if size == -1:
                return None, k + 1, attrs_, k + 1, pos + len(line) + 2
            if size == -2:  # ``$?``
                if self._threshold is not None:
                    raise _ToEvents
                self._push(stack, t, -2, attrs_, pos)
                return _NOTHING, k + 1, None, k + 1, pos + len(line) + 2
            if t == _PART:
                parts = stack[-1][2]
                total = sum(map(len, parts)) + size
                if total > self._max_bulk:
                    raise self._too_long(t, total, pos)
                if size == 0:
                    top = stack.pop()
                    return b"".join(top[2]), k + 1, top[3], k + 1, pos + len(line) + 2
            elif self._threshold is not None and size > self._threshold:
                raise _ToEvents
            start = pos + len(line) + 2  # the payload's offset
            payload = lines[k + 1] if k + 1 < last else None
            if payload is not None and len(payload) == size:
                k += 2
                at = start + size + 2
            else:
                # The payload holds CRLFs, or has not all arrived.
                end = start + size
                if end + 2 > n:
                    if not eof:
                        self._need = end + 2
                    raise _Wait
                if data[end : end + 2].tobytes() != b"\r\n":
                    raise self._malformed(
                        f"a {_what(t)} of {size} bytes is not followed by CRLF", end
                    )
                payload = data[start:end].tobytes()
                at = end + 2
                if at > complete:
                    k = -1  # past the window's lines
                else:
                    k += 1  # skip the lines the payload spans
                    line_at = start
                    while line_at < at:
                        line_at += len(lines[k]) + 2
                        k += 1
            if t == _PART:
                stack[-1][2].append(payload)
                return _NOTHING, k, attrs_, k, at
            return self._string_value(t, payload, start), k, attrs_, k, at
        after = pos + len(line) + 2
        if t in _AGGREGATES:
            count = self._count(line, t, pos)
            if t == _PUSH and stack:
                raise self._malformed(
                    "a push ('>') inside an aggregate (pushes are top-level only)", pos
                )
            if count == -1:  # RESP2's null array ``*-1``
                return None, k + 1, attrs_, k + 1, after
            if count == -2:  # streamed
                self._push(stack, t, -1, attrs_, pos)
                return _NOTHING, k + 1, None, k + 1, after
            if count == 0:
                value = _build(t, [], self._pairs)
                if t == _ATTR:
                    return _NOTHING, k + 1, _merge(attrs_, value), k + 1, after
                return value, k + 1, attrs_, k + 1, after
            self._push(stack, t, count * 2 if t in b"%|" else count, attrs_, pos)
            return _NOTHING, k + 1, None, k + 1, after
        if t == _END:
            if len(line) != 1:
                raise self._malformed("the end of a streamed aggregate ('.') has content", pos)
            if not stack or stack[-1][1] != -1:
                raise self._malformed("an end ('.') outside a streamed aggregate", pos)
            top = stack[-1]
            if top[0] in b"%|" and len(top[2]) % 2:
                raise self._malformed("a streamed map ended after a key", pos)
            if attrs_ is not None:
                raise self._malformed("attributes ('|') before an end ('.')", pos)
            stack.pop()
            value = _build(top[0], top[2], self._pairs)
            if top[0] == _ATTR:
                return _NOTHING, k + 1, _merge(top[3], value), k + 1, after
            return value, k + 1, top[3], k + 1, after
        return self._scalar(line, t, pos), k + 1, attrs_, k + 1, after

    def _reply_too_large(self, start: int) -> ReplyTooLarge:
        return ReplyTooLarge(
            f"a RESP reply is longer than max_reply_size ({self._max_reply})",
            limit=self._max_reply,  # type: ignore[arg-type]
            offset=self._offset + start,
        )

    def _check_partial_line(self, data: memoryview, start: int, n: int) -> None:
        """LineTooLong when the line at ``start`` (no ending yet) is already too long."""
        if n - start > self._max_line + 1:
            t = data[start]
            self._stop(
                LineTooLong(
                    f"a RESP {_what(t)} line is longer than max_line_length ({self._max_line})",
                    limit=self._max_line,
                    offset=self._offset + start,
                )
            )
            raise self._error  # type: ignore[misc]

    def _reset_reply(self) -> None:
        self._stack = []
        self._attrs = None
        self._resume = 0
        self._scanned = 0
        self._need = 0

    def _stop(self, error: FramingError) -> None:
        self._error = error
        self._reset_reply()
        self.needs_input = False

    def _push(self, stack: list[list[Any]], t: int, left: int, attrs_: Any, pos: int) -> None:
        if len(stack) >= self._max_depth:
            raise self._too_deep(pos)
        stack.append([t, left, [], attrs_])

    def _too_deep(self, pos: int) -> NestingTooDeep:
        return NestingTooDeep(
            f"a RESP reply nests deeper than max_depth ({self._max_depth})",
            limit=self._max_depth,
            offset=self._offset + pos,
        )

    # -- event mode ----------------------------------------------------------------------

    def _decode_events(
        self, data: memoryview, frames: list[Any], ends: list[int] | None, start: int, eof: bool
    ) -> int:
        """Hand out the parts of a reply from ``data[start:]`` (everything before ``start``
        is consumed whole replies); return the bytes consumed."""
        state = self._events
        assert state is not None
        n = len(data)
        self._need = 0
        pos = start
        before = len(frames)
        try:
            while pos < n or (state.string is not None and state.string[1] == 0):
                string = state.string
                if string is not None:
                    t, left = string
                    if left > 0:
                        take = min(left, self._chunk)
                        # A streamed string's part: its CRLF goes with its last chunk.
                        tail = 2 if t == _PART and take == left else 0
                        if n - pos < take + tail:
                            self._need = take + tail  # from ``pos``, where the next call starts
                            break
                        chunk = data[pos : pos + take].tobytes()
                        if tail and data[pos + take : pos + take + 2].tobytes() != b"\r\n":
                            raise self._malformed(
                                "a streamed string part is not followed by CRLF", pos + take
                            )
                        frames.append(StringChunk(chunk))
                        pos += take + tail
                        if ends is not None:
                            ends.append(pos)
                        state.string = None if tail else (t, left - take)
                        continue
                    if left == 0:
                        if n - pos < 2:
                            break
                        if data[pos : pos + 2].tobytes() != b"\r\n":
                            raise self._malformed(f"a {_what(t)} is not followed by CRLF", pos)
                        pos += 2
                        state.string = None
                        frames.append(StringEnd())
                        if ends is not None:
                            ends.append(pos)
                        if self._element_done(state, pos):
                            break
                        continue
                line_end = self._find_line(data, pos, n, state)
                if line_end < 0:
                    break
                line = data[pos:line_end].tobytes()
                if not line:
                    raise self._malformed("an empty line where a RESP type byte belongs", pos)
                t = line[0]
                after = line_end + 2
                if state.in_streamed_string:
                    if t != _PART:
                        raise self._malformed(
                            "a streamed string ('$?') holds something other than parts (';')", pos
                        )
                    size = self._length(line, t, pos)
                    if size < 0:
                        raise self._malformed("a streamed string part has no length", pos)
                    if state.total + size > self._max_bulk:
                        raise self._too_long(t, state.total + size, pos)
                    if size == 0:
                        pos = after
                        state.in_streamed_string = False
                        frames.append(StringEnd())
                        if ends is not None:
                            ends.append(pos)
                        if self._element_done(state, pos):
                            break
                        continue
                    first = min(size, self._chunk) + (2 if size <= self._chunk else 0)
                    if n - after < first:
                        # The header's bytes go with the part's first chunk.
                        self._need = after + first - pos
                        break
                    state.total += size
                    pos = after
                    state.string = (_PART, size)
                    continue
                if t in _STRINGS:
                    size = self._length(line, t, pos)
                    if size == -1:
                        if t != _DOLLAR:
                            raise self._malformed(f"a {_what(t)} has no null form", pos)
                        value: Any = None
                    elif size == -2:
                        if t != _DOLLAR:
                            raise self._malformed(f"a {_what(t)} cannot be streamed", pos)
                        pos = after
                        state.total = 0
                        state.in_streamed_string = True
                        frames.append(StringStart("$", None))
                        if ends is not None:
                            ends.append(pos)
                        continue
                    elif size > self._threshold:  # type: ignore[operator]
                        if t == _EQUALS and size < 4:
                            raise self._malformed(
                                "a verbatim string must begin with a 3-byte format and ':'", after
                            )
                        pos = after
                        state.string = (t, size)
                        frames.append(StringStart(chr(t), size))
                        if ends is not None:
                            ends.append(pos)
                        continue
                    else:
                        end = after + size
                        if end + 2 > n:
                            self._need = end + 2 - pos  # from ``pos``, where the next call starts
                            break
                        if data[end : end + 2].tobytes() != b"\r\n":
                            raise self._malformed(
                                f"a {_what(t)} of {size} bytes is not followed by CRLF", end
                            )
                        value = self._string_value(t, data[after:end].tobytes(), after)
                        after = end + 2
                elif t in _AGGREGATES:
                    count = self._count(line, t, pos)
                    if t == _PUSH and state.stack:
                        raise self._malformed(
                            "a push ('>') inside an aggregate (pushes are top-level only)", pos
                        )
                    if count == -1:
                        value = None
                    else:
                        if len(state.stack) >= self._max_depth:
                            raise self._too_deep(pos)
                        pos = after
                        frames.append(AggregateStart(chr(t), None if count == -2 else count))
                        if ends is not None:
                            ends.append(pos)
                        if count == -2:
                            state.stack.append([t, -1, 0])
                        elif count == 0:
                            if self._element_done(state, pos):
                                break
                        else:
                            state.stack.append([t, count * 2 if t in b"%|" else count, 0])
                        continue
                elif t == _END:
                    if len(line) != 1:
                        raise self._malformed(
                            "the end of a streamed aggregate ('.') has content", pos
                        )
                    if not state.stack or state.stack[-1][1] != -1:
                        raise self._malformed("an end ('.') outside a streamed aggregate", pos)
                    top = state.stack.pop()
                    if top[0] in b"%|" and top[2] % 2:
                        raise self._malformed("a streamed map ended after a key", pos)
                    pos = after
                    frames.append(AggregateEnd())
                    if ends is not None:
                        ends.append(pos)
                    if self._element_done(state, pos):
                        break
                    continue
                else:
                    value = self._scalar(line, t, pos)
                pos = after
                frames.append(value)
                if ends is not None:
                    ends.append(pos)
                if self._element_done(state, pos):
                    break
        except FramingError as error:
            self._error = error
            self.needs_input = False
            self._events = None
            if len(frames) > before:
                self._offset += pos
                return pos
            raise
        self._offset += pos
        if self._events is None:  # the reply ended: whole replies again
            self.needs_input = False
        else:
            state.scanned = max(state.scanned - pos, 0)
            self.needs_input = not eof
        return pos

    def _element_done(self, state: _EventState, pos: int) -> bool:
        """Count an element in its aggregate; True when the reply is over."""
        stack = state.stack
        while stack:
            top = stack[-1]
            if top[1] == -1:
                top[2] += 1
                return False
            top[1] -= 1
            if top[1]:
                return False
            stack.pop()
        self._events = None
        return True

    def _find_line(self, data: memoryview, pos: int, n: int, state: _EventState) -> int:
        """The offset of the CRLF ending the line at ``pos``, or -1 (not yet)."""
        begin = max(pos, state.scanned - 1)
        found = data[begin : min(n, pos + self._max_line + 2)].tobytes().find(b"\r\n")
        if found < 0:
            if n - pos > self._max_line + 1:
                raise LineTooLong(
                    f"a RESP {_what(data[pos])} line is longer than max_line_length"
                    f" ({self._max_line})",
                    limit=self._max_line,
                    offset=self._offset + pos,
                )
            state.scanned = n
            return -1
        end = begin + found
        state.scanned = 0
        if end - pos > self._max_line:
            raise LineTooLong(
                f"a RESP {_what(data[pos])} line is longer than max_line_length ({self._max_line})",
                limit=self._max_line,
                offset=self._offset + pos,
            )
        return end

    # -- lines ----------------------------------------------------------------------------

    def _malformed(self, rule: str, pos: int) -> MalformedError:
        return MalformedError(f"RESP: {rule}", offset=self._offset + pos)

    def _too_long(self, t: int, size: int, pos: int) -> BulkTooLong:
        return BulkTooLong(
            f"a RESP {_what(t)} of {size} bytes is longer than max_bulk_length ({self._max_bulk})",
            limit=self._max_bulk,
            offset=self._offset + pos,
        )

    def _length(self, line: bytes, t: int, pos: int) -> int:
        """The length in a ``$ ! = ;`` header: >= 0, -1 for ``$-1``, -2 for ``$?``."""
        digits = line[1:]
        if digits == b"?" and t == _DOLLAR:
            return -2
        if digits == b"-1" and t == _DOLLAR:
            return -1
        size = self._decimal(digits, t, "length", pos)
        if size > self._max_bulk:
            raise self._too_long(t, size, pos)
        return size

    def _decimal(self, digits: bytes, t: int, what: str, pos: int) -> int:
        """A length or count: decimal digits, no leading zero but ``0`` itself."""
        if not (digits.isdigit() and (digits[0] != 48 or len(digits) == 1)):
            raise self._malformed(
                f"a {_what(t)} {what} must be decimal digits, got {digits[:40]!r}", pos
            )
        return int(digits)

    def _count(self, line: bytes, t: int, pos: int) -> int:
        """The count in an aggregate header: >= 0, -1 for ``*-1``, -2 for streamed (``?``)."""
        size = self._array_table.get(line) if t == _STAR else None
        if size is not None:
            return size
        digits = line[1:]
        if digits == b"?":
            if t in (_PUSH, _ATTR):
                raise self._malformed(f"a {_what(t)} cannot be streamed", pos)
            return -2
        if digits == b"-1" and t == _STAR:
            return -1
        count = self._decimal(digits, t, "count", pos)
        if count > self._max_agg:
            raise AggregateTooLong(
                f"a RESP {_what(t)} of {count} elements is longer than max_aggregate_length"
                f" ({self._max_agg})",
                limit=self._max_agg,
                offset=self._offset + pos,
            )
        return count

    def _scalar(self, line: bytes, t: int, pos: int) -> Any:
        """The value of a one-line type (``+ - : _ , # (``)."""
        if t == 58:  # ':'
            value = _SMALL_INTS.get(line)
            if value is not None:
                return value
            digits = line[1:]
            if _STRICT_INT.fullmatch(digits) is None:
                raise self._malformed(
                    f"an integer (':') must be decimal digits, got {digits[:40]!r}", pos
                )
            number = int(digits)
            if not _INT64_MIN <= number <= _INT64_MAX:
                raise self._malformed(
                    "an integer (':') is outside 64 bits (a big number is '(')", pos
                )
            return number
        content = line[1:]
        if t == 43 or t == 45:  # '+' '-'
            if b"\r" in content or b"\n" in content:
                at = min(i for i in (content.find(b"\r"), content.find(b"\n")) if i >= 0)
                raise self._malformed(f"a bare CR or LF inside a {_what(t)}", pos + 1 + at)
            text = _decode_text(content)
            return text if t == 43 else ReplyError(text)
        if t == 95:  # '_'
            if content:
                raise self._malformed("a null ('_') has content", pos + 1)
            return None
        if t == 35:  # '#'
            if content == b"t":
                return True
            if content == b"f":
                return False
            raise self._malformed(
                f"a boolean ('#') must be 't' or 'f', got {content[:40]!r}", pos + 1
            )
        if t == 44:  # ','
            return self._double(content, pos)
        if t == 40:  # '('
            if _STRICT_INT.fullmatch(content) is None:
                raise self._malformed(
                    f"a big number ('(') must be decimal digits, got {content[:40]!r}", pos
                )
            return int(content)
        if t == _PART:
            raise self._malformed("a streamed string part (';') outside a streamed string", pos)
        raise self._malformed(f"unknown RESP type byte {bytes([t])!r}", pos)

    def _double(self, content: bytes, pos: int) -> float:
        if _STRICT_DOUBLE.fullmatch(content) is not None:
            return float(content)
        if content == b"inf":
            return math.inf
        if content == b"-inf":
            return -math.inf
        if content == b"nan":
            return math.nan
        if self._legacy_nan and _LEGACY_NAN.fullmatch(content) is not None:
            return math.nan
        raise self._malformed(
            f"a double (',') breaks the RESP3 grammar, got {content[:40]!r}"
            + ("" if self._legacy_nan else " (legacy_nan=True accepts old NaN spellings)"),
            pos,
        )


class _NothingType:
    __slots__ = ()


_NOTHING: Any = _NothingType()


def _line_offset(lines: list[bytes], k0: int, pos0: int, k: int, complete: int) -> int:
    """As :func:`_advance`; ``complete`` is the offset after the last complete line (where
    line ``len(lines) - 1`` starts): the common answer, found without a sum, and the end
    to count back from when line ``k`` is nearer to it (a reply begun at a call's end)."""
    last = len(lines) - 1
    if k == last:
        return complete
    if 0 <= last - k < k - k0:
        return complete - sum(map(len, lines[k:last])) - 2 * (last - k)
    return _advance(lines, k0, pos0, k)


def _advance(lines: list[bytes], k0: int, pos0: int, k: int) -> int:
    """The offset of line ``k`` given that line ``k0`` starts at ``pos0``."""
    if k == k0:
        return pos0
    return pos0 + sum(map(len, lines[k0:k])) + 2 * (k - k0)


def _forget_frames(error: BaseException) -> None:
    """Drop the tracebacks of an error kept after the call that found it returned (and of
    the errors chained to it): their frames, and the frames those were called from, hold
    views of the source's buffer."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.__traceback__ = None
        current = current.__cause__ or current.__context__


def _merge(old: list[Any] | None, new: Any) -> list[Any]:
    """The attributes waiting for the next value, ``new`` read after ``old``."""
    return [new] if old is None else [*old, new]


def _attach(value: Any, attributes: list[Any]) -> Attributed:
    """``value`` with the attributes read before it, the first read outermost."""
    for found in reversed(attributes):
        value = Attributed(value, found)
    return value  # type: ignore[no-any-return]


class _EventState:
    """Event mode's place in a reply being handed out in parts."""

    __slots__ = ("in_streamed_string", "reply_start", "scanned", "stack", "string", "total")

    def __init__(self, reply_start: int) -> None:
        #: Stream offset of the reply's first byte.
        self.reply_start = reply_start
        #: Open aggregates: ``[type, left, seen]`` (``left`` -1 for a streamed one).
        self.stack: list[list[int]] = []
        #: The long string (or streamed string part) being handed out: (type, bytes left).
        self.string: tuple[int, int] | None = None
        #: Inside a streamed string (``$?``), between parts.
        self.in_streamed_string = False
        #: A streamed string's bytes so far (``max_bulk_length`` bounds them).
        self.total = 0
        #: How far the line at the current offset was searched.
        self.scanned = 0


# -- event mode: where a reply ends ---------------------------------------------------------

_PARTS = (AggregateStart, AggregateEnd, StringStart, StringChunk, StringEnd)


class ReplyTracker:
    """Follows the frames of event mode and says where each reply ends.

    ``feed(frame)`` returns True when ``frame`` ends a reply: a whole value at top level, or
    the last part of a reply that came in parts (the ``StringEnd``, ``AggregateEnd`` or value
    that completes its outermost aggregate). A client pairs replies with commands by it::

        tracker = ReplyTracker()
        async for frame in reader.frames(Resp(stream_threshold=1 << 20)):
            ...  # hand the frame to the command waiting for it
            if tracker.feed(frame):
                ...  # that command's reply is complete

    Raises ValueError for a frame that cannot come where it does (a decoder never gives one).
    """

    __slots__ = ("_in_string", "_stack")

    def __init__(self) -> None:
        #: Open aggregates: [type, values still to come (-1: until AggregateEnd)].
        self._stack: list[list[Any]] = []
        self._in_string = False

    @property
    def inside(self) -> bool:
        """True between the first and the last part of a reply."""
        return bool(self._stack) or self._in_string

    def feed(self, frame: Any) -> bool:
        """Take the next frame; True if it ends a reply."""
        kind = type(frame)
        if self._in_string:
            if kind is StringChunk:
                return False
            if kind is not StringEnd:
                raise ValueError(f"{kind.__name__} inside a string's parts")
            self._in_string = False
            return self._value_done()
        if kind is StringStart:
            self._in_string = True
            return False
        if kind is AggregateStart:
            if frame.length is None:
                self._stack.append([frame.type, -1])
                return False
            count = frame.length * 2 if frame.type in ("%", "|") else frame.length
            if count:
                self._stack.append([frame.type, count])
                return False
            return frame.type != "|" and self._value_done()
        if kind is AggregateEnd:
            if not self._stack or self._stack[-1][1] != -1:
                raise ValueError("AggregateEnd outside a streamed aggregate")
            kind_byte = self._stack.pop()[0]
            return kind_byte != "|" and self._value_done()
        if kind is StringChunk or kind is StringEnd:
            raise ValueError(f"{kind.__name__} outside a string's parts")
        return self._value_done()

    def _value_done(self) -> bool:
        """A value is complete: count it in its aggregate; True if that ends the reply."""
        stack = self._stack
        while stack:
            top = stack[-1]
            if top[1] < 0:
                return False
            top[1] -= 1
            if top[1]:
                return False
            stack.pop()
            if top[0] == "|":
                return False  # attributes: the value they annotate comes next
        return True


# -- encoders ----------------------------------------------------------------------------


def _arg_bytes(arg: Any) -> bytes:
    kind = type(arg)
    if kind is bytes:
        return arg  # type: ignore[no-any-return]
    if kind is str:
        return arg.encode()  # type: ignore[no-any-return]
    if kind is int:
        return b"%d" % arg
    if kind is float:
        return repr(arg).encode()
    if isinstance(arg, (bytearray, memoryview)):
        return bytes(arg)
    if isinstance(arg, bool):
        raise TypeError("a RESP command argument cannot be a bool (send b'1' or b'0')")
    if isinstance(arg, int):
        return b"%d" % arg
    if isinstance(arg, float):
        return repr(float(arg)).encode()
    if isinstance(arg, str):
        return str(arg).encode()
    raise TypeError(
        f"a RESP command argument must be bytes, str, int or float, not {kind.__name__}"
    )


def encode_command(*args: Any) -> bytes:
    """The wire bytes of one command: an array of bulk strings, one per argument.

    Arguments may be ``bytes``, ``bytearray``, ``memoryview``, ``str`` (UTF-8), ``int`` or
    ``float`` (as redis-py writes them); TypeError for anything else (a ``bool`` included).
    """
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        raw = _arg_bytes(arg)
        out.append(b"$%d\r\n" % len(raw))
        out.append(raw)
        out.append(b"\r\n")
    return b"".join(out)


def encode_commands(commands: Iterable[Sequence[Any]]) -> bytes:
    """The wire bytes of a pipeline: each command as :func:`encode_command` writes it."""
    return b"".join(encode_command(*command) for command in commands)


def _line_safe(text: bytes, what: str) -> bytes:
    if b"\r" in text or b"\n" in text:
        raise ValueError(f"a RESP {what} cannot hold CR or LF")
    return text


class RespEncoder:
    """Encodes values as RESP3 (or RESP2: ``protocol=2``), as the decoder returns them:
    ``encode(value) -> bytes``. See the module docstring's table.

    RESP2 has no null, boolean, double, big number, verbatim, map, set, push or attribute
    types: ``None`` is the null bulk ``$-1``, booleans ``:1``/``:0``, doubles, big numbers and
    verbatim strings bulk strings, maps flat arrays of keys and values, sets and pushes arrays;
    attributes are a ValueError. Made by :meth:`Resp.encoder`, it refuses (ValueError) what
    that codec's decoder would refuse: a string over ``max_bulk_length``, a line over
    ``max_line_length``, an aggregate over ``max_aggregate_length`` or nested past
    ``max_depth``, a reply over ``max_reply_size``; made directly, it has no limits. Raises
    ValueError for what would not decode back (a ``str`` or simple error with CR or LF, a push
    inside an aggregate) and TypeError for a type RESP has no form for.
    """

    __slots__ = ("_max_agg", "_max_bulk", "_max_depth", "_max_line", "_max_reply", "protocol")

    def __init__(
        self,
        *,
        protocol: Literal[2, 3] = 3,
        max_bulk_length: int | None = None,
        max_line_length: int | None = None,
        max_aggregate_length: int | None = None,
        max_depth: int | None = None,
        max_reply_size: int | None = None,
    ) -> None:
        self.protocol = protocol
        self._max_bulk = max_bulk_length
        self._max_line = max_line_length
        self._max_agg = max_aggregate_length
        self._max_depth = max_depth
        self._max_reply = max_reply_size

    def encode(self, value: Any) -> bytes:
        """The wire bytes of ``value`` (one reply)."""
        out: list[bytes] = []
        # An explicit stack of (value, depth): deep values need no recursion.
        todo: list[tuple[Any, int]] = [(value, 0)]
        resp3 = self.protocol == 3
        while todo:
            item, depth = todo.pop()
            kind = type(item)
            if kind is bytes or kind is bytearray or kind is memoryview:
                out.append(self._string(b"$", bytes(item)))
            elif item is None:
                out.append(b"_\r\n" if resp3 else b"$-1\r\n")
            elif kind is bool:
                out.append(
                    (b"#t\r\n" if item else b"#f\r\n")
                    if resp3
                    else (b":1\r\n" if item else b":0\r\n")
                )
            elif isinstance(item, int) and not isinstance(item, bool):
                if _INT64_MIN <= item <= _INT64_MAX:
                    out.append(self._line(b":%d" % item))
                elif resp3:
                    out.append(self._line(b"(%d" % item))
                else:
                    out.append(self._string(b"$", b"%d" % item))
            elif isinstance(item, float):
                raw = _double_bytes(item)
                out.append(self._line(b"," + raw) if resp3 else self._string(b"$", raw))
            elif isinstance(item, str):
                raw = _line_safe(item.encode("utf-8", "surrogateescape"), "simple string")
                out.append(self._line(b"+" + raw))
            elif isinstance(item, ReplyError):
                raw = item.message.encode("utf-8", "surrogateescape")
                if not item.blob:
                    out.append(self._line(b"-" + _line_safe(raw, "simple error (blob=True can)")))
                elif resp3:
                    out.append(self._string(b"!", raw))
                else:
                    raise ValueError("RESP2 has no blob errors")
            elif isinstance(item, Verbatim):
                fmt = item.format.encode("ascii")
                if len(fmt) != 3:
                    raise ValueError("a verbatim string's format is 3 bytes")
                if resp3:
                    out.append(self._string(b"=", fmt + b":" + item.data))
                else:
                    out.append(self._string(b"$", item.data))
            elif isinstance(item, Attributed):
                if not resp3:
                    raise ValueError("RESP2 has no attributes")
                attributes = item.attributes
                pairs = (
                    list(attributes)
                    if isinstance(attributes, MapPairs)
                    else list(attributes.items())
                )
                out.append(self._header(b"|", len(pairs), depth))
                todo.append((item.value, depth))
                for key, val in reversed(pairs):
                    todo.append((val, depth + 1))
                    todo.append((key, depth + 1))
            elif isinstance(item, (dict, MapPairs)):
                pairs = list(item) if isinstance(item, MapPairs) else list(item.items())
                if resp3:
                    out.append(self._header(b"%", len(pairs), depth))
                else:
                    out.append(self._header(b"*", 2 * len(pairs), depth))
                for key, val in reversed(pairs):
                    todo.append((val, depth + 1))
                    todo.append((key, depth + 1))
            else:
                if isinstance(item, Push):
                    if depth:
                        raise ValueError(
                            "a push is top-level only: it cannot be inside an aggregate"
                        )
                    kind_byte = b">" if resp3 else b"*"
                elif isinstance(item, (set, frozenset)):
                    kind_byte = b"~" if resp3 else b"*"
                elif isinstance(item, (list, tuple)):
                    kind_byte = b"*"
                else:
                    raise TypeError(f"RESP has no form for {kind.__name__}")
                members = list(item)
                out.append(self._header(kind_byte, len(members), depth))
                todo.extend((member, depth + 1) for member in reversed(members))
        wire = b"".join(out)
        if self._max_reply is not None and len(wire) > self._max_reply:
            raise ValueError(f"the reply is longer than max_reply_size ({self._max_reply})")
        return wire

    def _line(self, line: bytes) -> bytes:
        if self._max_line is not None and len(line) > self._max_line:
            raise ValueError(f"a line is longer than max_line_length ({self._max_line})")
        return line + b"\r\n"

    def _string(self, kind: bytes, raw: bytes) -> bytes:
        if self._max_bulk is not None and len(raw) > self._max_bulk:
            raise ValueError(f"a string is longer than max_bulk_length ({self._max_bulk})")
        return self._line(b"%s%d" % (kind, len(raw))) + raw + b"\r\n"

    def _header(self, kind: bytes, count: int, depth: int) -> bytes:
        if self._max_agg is not None and count > self._max_agg:
            raise ValueError(f"an aggregate is longer than max_aggregate_length ({self._max_agg})")
        if count and self._max_depth is not None and depth >= self._max_depth:
            raise ValueError(f"the value nests deeper than max_depth ({self._max_depth})")
        return self._line(b"%s%d" % (kind, count))


def _double_bytes(value: float) -> bytes:
    if math.isnan(value):
        return b"nan"
    if math.isinf(value):
        return b"inf" if value > 0 else b"-inf"
    text = repr(value)
    if "e" in text and "." not in text.split("e")[0]:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}.0e{exponent}"
    return text.encode()


def encode_streamed_string(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """A streamed string (``$?``): its header, a ``;n`` part per non-empty chunk, ``;0``.

    Yields the wire bytes piece by piece, so a string of unknown length is sent as it is made.
    """
    yield b"$?\r\n"
    for chunk in chunks:
        raw = bytes(chunk)
        if raw:
            yield b";%d\r\n%s\r\n" % (len(raw), raw)
    yield b";0\r\n"


def encode_streamed_aggregate(
    kind: Literal["*", "%", "~"], items: Iterable[Any], *, protocol: Literal[2, 3] = 3
) -> Iterator[bytes]:
    """A streamed aggregate (``*?``, ``%?``, ``~?``): its header, each item (for a map,
    each ``(key, value)`` pair), and the end ``.``. Yields the wire bytes item by item."""
    if kind not in ("*", "%", "~"):
        raise ValueError(f"kind must be '*', '%' or '~', got {kind!r}")
    encoder = RespEncoder(protocol=protocol)
    yield kind.encode() + b"?\r\n"
    for item in items:
        if kind == "%":
            key, val = item
            yield encoder.encode(key) + encoder.encode(val)
        else:
            yield encoder.encode(item)
    yield b".\r\n"
