"""HTTP/1.1 chunked transfer coding (RFC 9112, section 7.1), strict by default.

Wire format::

    chunked-body = *chunk last-chunk trailer-section CRLF
    chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
    last-chunk   = 1*("0") [ chunk-ext ] CRLF
    chunk-size   = 1*HEXDIG
    chunk-ext    = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )
    ext-val      = token / quoted-string
    trailer-section = *( field-line CRLF )

The decoder works line by line on its source's bytes: a chunk-size line or a trailer line is
consumed only once it is complete (its LF is in view), chunk data is passed through as it
arrives (at most ``budget`` bytes per call), and nothing after the final CRLF is consumed, so a
pipelined next message stays in the source. Any disagreement between two parsers about where
a body ends is a request-smuggling hole, so the default is the RFC's grammar with no slack:

- chunk-size is 1*HEXDIG: no sign, no ``0x``, no whitespace, no non-ASCII digits; sizes are
  unbounded integers checked against ``max_chunk_size``, never wrapped.
- every line ends in CRLF; the chunk data is followed by exactly CRLF; a CR anywhere else in a
  line is malformed.
- chunk extensions and trailer field lines are checked against their grammar (no obs-fold, no
  whitespace before the colon, no CTLs but HTAB in a field value).

``lenient=True`` accepts what real clients send and nothing that lets two parsers read one
body two ways: a bare LF ending a chunk-size line *without* extensions, a trailer line or the
final line; a bare LF instead of the CRLF after chunk data; SP/HTAB before and after the chunk
size. Still refused in lenient mode: bare CR, ``0x``, signs, non-hex digits, overflow, and a
bare LF ending a line with extensions (the CVE-2024-52304 shape: a parser that splits lines on
CRLF only would read the LF as part of the extension and the rest of the body differently).

Every error is sticky (the decoder raises it again on later calls): after bad framing the
stream is out of sync and cannot be resumed. Error offsets count from the first byte the
decoder saw; a limit error on a line points at the start of that line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TypeAlias

import attrs

from framekit.codecs._base import Bytes, OutputSink
from framekit.errors import FramingError, LimitExceededError, MalformedError, TruncatedError
from framekit.speedups import scan_chunked as _scan_chunked

__all__ = ["Chunked", "ChunkedDecoder", "ChunkedEncoder", "Extension"]

#: One chunk extension: its name and its value (None for a bare name; a quoted-string value is
#: given unquoted, with its quoted-pairs resolved).
Extension: TypeAlias = "tuple[bytes, bytes | None]"

_TOKEN = rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+"
# A quoted-string without its closing quote (where an unclosed one stops, for error offsets).
_QUOTED_OPEN = rb'"(?:[\t !#-\[\]-~\x80-\xff]|\\[\t -~\x80-\xff])*'
_QUOTED = _QUOTED_OPEN + b'"'
_EXTENSION = rb"[ \t]*;[ \t]*(" + _TOKEN + rb")(?:[ \t]*=[ \t]*(" + _TOKEN + b"|" + _QUOTED + b"))?"

# The common chunk-size line: hex digits and CRLF. Anything else goes the careful way.
_SIMPLE_SIZE_LINE = re.compile(rb"([0-9A-Fa-f]+)\r\n")
_LF = re.compile(rb"\n")
_HEX = re.compile(rb"[0-9A-Fa-f]+")
_WHITESPACE = re.compile(rb"[ \t]*")
_EXTENSIONS = re.compile(rb"(?:" + _EXTENSION + rb")*")
_ONE_EXTENSION = re.compile(_EXTENSION)
_TOKEN_RE = re.compile(_TOKEN)
_QUOTED_FULL = re.compile(_QUOTED)
_QUOTED_PREFIX = re.compile(_QUOTED_OPEN)
_SEMICOLON = ord(";")
_EQUALS = ord("=")
_QUOTE = ord('"')
_BACKSLASH = ord("\\")
_QUOTED_PAIR = re.compile(rb"\\(.)", re.DOTALL)
_BAD_VALUE_BYTE = re.compile(rb"[^\t\x20-\x7e\x80-\xff]")
_QUOTABLE = re.compile(rb"[\t\x20-\x7e\x80-\xff]*")
_FIELD_VALUE = re.compile(
    rb"(?:[\x21-\x7e\x80-\xff](?:[\t\x20-\x7e\x80-\xff]*[\x21-\x7e\x80-\xff])?)?"
)

_SIZE, _DATA, _DATA_END, _TRAILER, _DONE = range(5)
_CR, _LF_BYTE, _COLON = 13, 10, 58


def _at_least(minimum: int) -> Callable[[object, attrs.Attribute[int], int], None]:
    def check(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{attribute.name} must be an int >= {minimum}, got {value!r}")

    return check


@attrs.define(frozen=True, kw_only=True)
class Chunked:
    """HTTP/1.1 chunked transfer coding: options shared by every decoder it makes.

    - ``max_line_length`` (4096, as Go): the longest chunk-size line, extensions included,
      CRLF excluded.
    - ``max_chunk_size`` (2**63 - 1): the largest chunk size. Sizes are parsed as unbounded
      integers; above this one most peers (signed 64-bit sizes) would wrap or refuse, which is
      exactly where two parsers disagree, so framekit refuses too.
    - ``max_trailers`` (128, as aiohttp): the most trailer field lines.
    - ``max_trailer_line_length`` (8190, as aiohttp and llhttp): the longest trailer field
      line, line ending excluded.
    - ``max_trailer_size`` (64 KiB, as Twisted): the bytes of the trailer section, line endings
      and the final empty line included.
    - ``max_overhead`` (16 KiB, as Go): a cap on framing bytes that carry no data. For each
      chunk, ``len(size line) + 2 - 16 - 2 * size`` is added to a running excess floored at 0;
      passing the cap (many tiny chunks with long extensions) is an error.
    - ``lenient`` (False): accept bare LF line endings and whitespace around the size (see the
      module docstring for exactly what).
    - ``keep_extensions`` (False): record each chunk's extensions in ``decoder.extensions``.

    Every limit error is a :class:`~framekit.errors.LimitExceededError` naming its option.
    """

    max_line_length: int = attrs.field(default=4096, validator=_at_least(1))
    max_chunk_size: int = attrs.field(default=2**63 - 1, validator=_at_least(1))
    max_trailers: int = attrs.field(default=128, validator=_at_least(0))
    max_trailer_size: int = attrs.field(default=64 * 1024, validator=_at_least(2))
    max_trailer_line_length: int = attrs.field(default=8190, validator=_at_least(1))
    max_overhead: int = attrs.field(default=16 * 1024, validator=_at_least(0))
    lenient: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    keep_extensions: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))

    def decoder(self) -> ChunkedDecoder:
        """A fresh decoder for one chunked body."""
        return ChunkedDecoder(self)

    def encoder(self) -> ChunkedEncoder:
        """A fresh encoder for one chunked body."""
        return ChunkedEncoder()


class ChunkedDecoder:
    """Decodes one chunked body; see :class:`Chunked` and the module docstring.

    ``trailers`` is the list of trailer fields ``(name, value)`` in wire order (complete once
    ``done``). ``extensions`` (with ``keep_extensions=True``; empty otherwise) has one tuple of
    :data:`Extension` per chunk, the last (size 0) chunk included.
    """

    __slots__ = (
        "_compiled",
        "_error",
        "_excess",
        "_keep_extensions",
        "_lenient",
        "_max_chunk_size",
        "_max_line_length",
        "_max_overhead",
        "_max_trailer_line_length",
        "_max_trailer_size",
        "_max_trailers",
        "_offset",
        "_remaining",
        "_searched",
        "_state",
        "_trailer_bytes",
        "extensions",
        "needs_input",
        "trailers",
    )

    def __init__(self, codec: Chunked) -> None:
        self._max_line_length = codec.max_line_length
        self._max_chunk_size = codec.max_chunk_size
        self._max_trailers = codec.max_trailers
        self._max_trailer_size = codec.max_trailer_size
        self._max_trailer_line_length = codec.max_trailer_line_length
        self._max_overhead = codec.max_overhead
        self._lenient = codec.lenient
        self._keep_extensions = codec.keep_extensions
        # The compiled fast path records no extensions (it takes no line that has any).
        self._compiled = None if codec.keep_extensions else _scan_chunked
        self._state = _SIZE
        self._remaining = 0  # data bytes left in the current chunk
        self._offset = 0  # bytes consumed before the current call
        self._searched = 0  # bytes of the pending line already searched for its LF
        self._excess = 0  # non-data overhead, as for max_overhead
        self._trailer_bytes = 0
        self._error: FramingError | None = None
        self.trailers: list[tuple[bytes, bytes]] = []
        self.extensions: list[tuple[Extension, ...]] = []
        #: True after a ``decode`` that stopped because its input ran out (not at its budget,
        #: nor before an error it raises next time): without new bytes it would do nothing.
        self.needs_input = False

    def __repr__(self) -> str:
        state = ("size", "data", "data-end", "trailer", "done")[self._state]
        return f"<ChunkedDecoder {state} offset={self._offset}>"

    @property
    def done(self) -> bool:
        """True once the last chunk, the trailers and the final CRLF have been consumed."""
        return self._state == _DONE

    @property
    def verbatim(self) -> int:
        """How many of the next input bytes ``decode`` would write as they are and consume,
        with nothing else happening (rule 7): the current chunk's data but its last byte
        (which ends the chunk); 0 outside a chunk's data."""
        if self._state == _DATA and self._error is None:
            return self._remaining - 1
        return 0

    def skip_verbatim(self, n: int) -> None:
        """Count ``n`` (at most ``verbatim``) bytes the driver passed through itself."""
        self._remaining -= n
        self._offset += n
        self.needs_input = True

    def decode(self, data: memoryview, out: OutputSink, budget: int) -> int:
        """Decode from ``data``, writing at most ``budget`` bytes; return bytes consumed.

        Raises MalformedError or LimitExceededError on bad input (again on every later call).
        """
        size = len(data)
        if (
            self._state == _DATA
            and 0 < size < self._remaining
            and size <= budget
            and self._error is None
        ):
            # Inside a chunk's data, all of the input is data (a TCP segment in the middle of
            # a large chunk): written as it is, a view the sink may hand on without a copy.
            out.write(data)
            self._remaining -= size
            self._offset += size
            self.needs_input = size < budget
            return size
        scan = self._compiled
        if (
            scan is not None
            and self._error is None
            and self._state < _TRAILER
            and not self._searched
        ):
            # The compiled fast path (framekit.speedups) takes the plain run of chunks (hex
            # size, CRLF, data, CRLF) and copies their data out at once. Where it stops
            # short of the input's end, ``_decode_from`` goes on: everything that needs a
            # decision, and every error, is there.
            scanned = scan(
                data,
                self._state,
                self._remaining,
                self._excess,
                budget,
                self._max_overhead,
                self._max_chunk_size,
                self._max_line_length + 2,
            )
            if scanned is not None:
                pos, self._state, self._remaining, self._excess, output, marks, more = scanned
                if output:
                    out.write_marked(output, marks)
                if more:
                    # Stopped only because the input ran out, short of the budget.
                    self.needs_input = True
                    self._offset += pos
                    return pos
                return self._decode_from(data, out, budget, pos, len(output))
        return self._decode_from(data, out, budget, 0, 0)

    def _decode_from(
        self, data: memoryview, out: OutputSink, budget: int, pos: int, produced: int
    ) -> int:
        """``decode``, going on at ``data[pos]`` after ``produced`` bytes of output."""
        if self._error is not None:
            # The same object every time: its traceback must not grow with each raise.
            raise self._error.with_traceback(None)
        state = self._state
        if state == _DONE:
            return 0
        self.needs_input = False
        end = len(data)
        remaining = self._remaining
        excess = self._excess
        write = out.write
        # Two bytes of the chunk-size line's CRLF are allowed beyond max_line_length.
        window = self._max_line_length + 2
        keep = self._keep_extensions
        max_chunk_size = self._max_chunk_size
        mark_chunk_end = out.mark_chunk_end
        simple_size_line = _SIMPLE_SIZE_LINE.match
        try:
            while True:
                if state == _DATA:
                    n = end - pos
                    if n > remaining:
                        n = remaining
                    if n > budget - produced:
                        n = budget - produced
                    if n <= 0:
                        break
                    write(data[pos : pos + n])
                    pos += n
                    produced += n
                    remaining -= n
                    if remaining:
                        break
                    mark_chunk_end()
                    state = _DATA_END
                if state == _DATA_END:
                    if end - pos >= 2 and data[pos] == _CR and data[pos + 1] == _LF_BYTE:
                        pos += 2
                    else:
                        skip = self._data_end(data, pos, end)
                        if not skip:
                            break
                        pos += skip
                    state = _SIZE
                if state == _SIZE:
                    # One pass per chunk. When the whole chunk and its CRLF are in view (and
                    # within budget) it is written and the loop goes straight on to the next
                    # size line: for 64-byte chunks this is ~1.6x faster than going through
                    # the _DATA and _DATA_END states (16 MiB body, benchmark in the commit).
                    while True:
                        match = (
                            None if self._searched else simple_size_line(data, pos, pos + window)
                        )
                        if match is not None:
                            size = int(match[1], 16)
                            line_end = match.end()
                            extensions: tuple[Extension, ...] = ()
                        else:
                            line_end = self._find_line(data, pos, end, window, "max_line_length")
                            if line_end < 0:
                                break
                            size, extensions = self._parse_size_line(bytes(data[pos:line_end]), pos)
                        if size > max_chunk_size:
                            raise LimitExceededError(
                                f"chunk size {size} is over max_chunk_size",
                                limit=max_chunk_size,
                                offset=self._offset + pos,
                            )
                        # Go's rule: line + CRLF after the data, less 16 + twice the data.
                        excess += line_end - pos + 2 - 16 - 2 * size
                        if excess < 0:
                            excess = 0
                        elif excess > self._max_overhead:
                            raise LimitExceededError(
                                "too much chunk framing for too little data (max_overhead)",
                                limit=self._max_overhead,
                                offset=self._offset + pos,
                            )
                        if keep:
                            self.extensions.append(extensions)
                        pos = line_end
                        if not size:
                            state = _TRAILER
                            break
                        data_end = pos + size
                        if (
                            data_end + 2 > end
                            or produced + size > budget
                            or data[data_end] != _CR
                            or data[data_end + 1] != _LF_BYTE
                        ):
                            remaining = size
                            state = _DATA
                            break
                        write(data[pos:data_end])
                        mark_chunk_end()
                        produced += size
                        pos = data_end + 2
                    if state == _SIZE:
                        break
                    if state == _DATA:
                        continue
                if state == _TRAILER:
                    while True:
                        # A line stops at whichever comes first: the section's room left, or
                        # the line limit (two bytes of CRLF beyond it, as for size lines).
                        room = self._max_trailer_size - self._trailer_bytes
                        line_window = self._max_trailer_line_length + 2
                        if room < line_window:
                            line_end = self._find_line(data, pos, end, room, "max_trailer_size")
                        else:
                            line_end = self._find_line(
                                data, pos, end, line_window, "max_trailer_line_length"
                            )
                        if line_end < 0:
                            break
                        last = self._parse_trailer_line(bytes(data[pos:line_end]), pos)
                        self._trailer_bytes += line_end - pos
                        pos = line_end
                        if last:
                            state = _DONE
                            break
                    break
        except FramingError as error:
            if pos == 0:
                self._error = error
                raise
            # Hand over what came before the bad spot; the next call meets it again and raises.
        else:
            # Stopped short of the budget: every byte left is part of an incomplete line.
            self.needs_input = produced < budget and state != _DONE
        self._state = state
        self._remaining = remaining
        self._excess = excess
        self._offset += pos
        return pos

    def decode_eof(self, data: memoryview, out: OutputSink, budget: int) -> int:
        """Like ``decode``; raises TruncatedError if the input ends before the body does."""
        consumed = self.decode(data, out, budget)
        if consumed or self._state == _DONE:
            return consumed
        self._error = TruncatedError(
            "input ended inside a chunked body", offset=self._offset + len(data)
        )
        raise self._error

    # -- the careful paths ------------------------------------------------------------------

    def _find_line(self, data: memoryview, pos: int, end: int, window: int, limit: str) -> int:
        """The end (after its LF) of the line at ``pos``, or -1 if it is not all in view yet.

        Raises LimitExceededError when ``window`` bytes are in view without an LF. Remembers
        how far it searched, so a long line fed a byte at a time costs O(n).
        """
        found = _LF.search(data, pos + self._searched, pos + window)
        if found is not None:
            self._searched = 0
            return found.end()
        if end - pos >= window:
            raise LimitExceededError(
                f"line is longer than {limit}",
                limit=getattr(self, "_" + limit),
                offset=self._offset + pos,
            )
        self._searched = end - pos
        return -1

    def _malformed_at(self, content: bytes, index: int, pos: int, what: str) -> MalformedError:
        if content[index] == _CR:
            what = "bare CR: a CR must be followed by LF"
        return MalformedError(what, offset=self._offset + pos + index)

    def _parse_size_line(self, line: bytes, pos: int) -> tuple[int, tuple[Extension, ...]]:
        lenient = self._lenient
        bare_lf = not line.endswith(b"\r\n")
        content = line[:-1] if bare_lf else line[:-2]
        if len(content) > self._max_line_length:
            raise LimitExceededError(
                "line is longer than max_line_length",
                limit=self._max_line_length,
                offset=self._offset + pos,
            )
        start = _WHITESPACE.match(content).end() if lenient else 0  # type: ignore[union-attr]
        digits = _HEX.match(content, start)
        if digits is None:
            if start == len(content):
                raise MalformedError("chunk size is missing", offset=self._offset + pos + start)
            raise self._malformed_at(content, start, pos, "chunk size is not hexadecimal")
        index = digits.end()
        if lenient:
            after = _WHITESPACE.match(content, index).end()  # type: ignore[union-attr]
            if after == len(content):
                index = after
        ext_end = _EXTENSIONS.match(content, index).end()  # type: ignore[union-attr]
        if ext_end != len(content):
            first = _WHITESPACE.match(content, ext_end).end()  # type: ignore[union-attr]
            if ext_end > index or (first < len(content) and content[first] == _SEMICOLON):
                bad = _bad_extension_byte(content, index)
                if bad == len(content):
                    raise MalformedError(
                        "chunk extension cut short by the end of the line",
                        offset=self._offset + pos + bad,
                    )
                raise self._malformed_at(content, bad, pos, "invalid chunk extension")
            raise self._malformed_at(content, ext_end, pos, "junk after the chunk size")
        if bare_lf and (not lenient or ext_end > index):
            raise MalformedError(
                "bare LF: a chunk-size line must end in CRLF"
                + (" (lenient mode too, when it has extensions)" if lenient else ""),
                offset=self._offset + pos + len(line) - 1,
            )
        extensions: tuple[Extension, ...] = ()
        if self._keep_extensions and ext_end > index:
            extensions = tuple(
                (m[1], _unquote(m[2])) for m in _ONE_EXTENSION.finditer(content, index)
            )
        return int(digits[0], 16), extensions

    def _data_end(self, data: memoryview, pos: int, end: int) -> int:
        """Length of the line ending after chunk data (0: not in view yet), or raise."""
        if end == pos:
            return 0
        first = data[pos]
        if first == _LF_BYTE and self._lenient:
            return 1
        if first == _CR:
            if end - pos < 2:
                return 0
            # data[pos + 1] is not LF, or the fast path would have taken it.
            raise MalformedError(
                "bare CR: chunk data must be followed by CRLF", offset=self._offset + pos
            )
        what = "bare LF after chunk data" if first == _LF_BYTE else "chunk data is too long"
        raise MalformedError(
            f"{what}: chunk data must be followed by CRLF", offset=self._offset + pos
        )

    def _parse_trailer_line(self, line: bytes, pos: int) -> bool:
        """Record one trailer field line; return True for the final (empty) line."""
        bare_lf = not line.endswith(b"\r\n")
        content = line[:-1] if bare_lf else line[:-2]
        if len(content) > self._max_trailer_line_length:
            # Only a line ending in a bare LF gets here (CRLF lines stop in _find_line).
            raise LimitExceededError(
                "trailer line is longer than max_trailer_line_length",
                limit=self._max_trailer_line_length,
                offset=self._offset + pos,
            )
        if content:
            if len(self.trailers) >= self._max_trailers:
                raise LimitExceededError(
                    "too many trailer fields (max_trailers)",
                    limit=self._max_trailers,
                    offset=self._offset + pos,
                )
            name = _TOKEN_RE.match(content)
            colon = 0 if name is None else name.end()
            if colon == len(content):
                raise MalformedError(
                    "trailer field line has no colon", offset=self._offset + pos + colon
                )
            if content[colon] != _COLON or not colon:
                if content[colon] in b" \t":
                    what = (
                        "whitespace before the colon of a trailer field"
                        if colon
                        else "obs-fold: a trailer line must not start with whitespace"
                    )
                else:
                    what = "invalid trailer field name"
                raise self._malformed_at(content, colon, pos, what)
            bad = _BAD_VALUE_BYTE.search(content, colon + 1)
            if bad is not None:
                raise self._malformed_at(
                    content, bad.start(), pos, "control character in a trailer field value"
                )
        if bare_lf and not self._lenient:
            raise MalformedError(
                "bare LF: a trailer line must end in CRLF", offset=self._offset + pos + len(content)
            )
        if not content:
            return True
        self.trailers.append((content[:colon], content[colon + 1 :].strip(b" \t")))
        return False


def _bad_extension_byte(content: bytes, pos: int) -> int:
    """Where the chunk extension starting at ``content[pos]`` stops following the grammar: the
    first byte that cannot continue it (whitespace for whitespace before the end of the line),
    or ``len(content)`` if the line ends inside it. For error offsets only."""
    n = len(content)
    while True:
        space = pos
        pos = _WHITESPACE.match(content, pos).end()  # type: ignore[union-attr]
        if pos == n:
            return space  # trailing whitespace, or the end: a missing name or value
        if content[pos] != _SEMICOLON:
            return pos
        pos = _WHITESPACE.match(content, pos + 1).end()  # type: ignore[union-attr]
        name = _TOKEN_RE.match(content, pos)
        if name is None:
            return pos
        pos = name.end()
        after = _WHITESPACE.match(content, pos).end()  # type: ignore[union-attr]
        if after == n or content[after] != _EQUALS:
            continue
        pos = _WHITESPACE.match(content, after + 1).end()  # type: ignore[union-attr]
        value = _TOKEN_RE.match(content, pos) or _QUOTED_FULL.match(content, pos)
        if value is None:
            # Not a token, not a whole quoted-string: where a quoted-string's prefix stops.
            if pos < n and content[pos] == _QUOTE:
                stop = _QUOTED_PREFIX.match(content, pos).end()  # type: ignore[union-attr]
                # At a backslash, the byte it escapes is the bad one (or the line ended).
                return stop + 1 if stop < n and content[stop] == _BACKSLASH else stop
            return pos
        pos = value.end()


def _unquote(value: bytes | None) -> bytes | None:
    if value is None or not value.startswith(b'"'):
        return value
    return _QUOTED_PAIR.sub(rb"\1", value[1:-1])


def _quote(value: bytes) -> bytes:
    if _TOKEN_RE.fullmatch(value):
        return value
    if not _QUOTABLE.fullmatch(value):
        raise ValueError(f"chunk extension value {value!r} has control characters")
    return b'"' + value.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


class ChunkedEncoder:
    """Writes a chunked body: one chunk per ``feed``, the last chunk and trailers at ``finish``."""

    __slots__ = ("_finished",)

    def __init__(self) -> None:
        self._finished = False

    def feed(self, data: Bytes, *, extensions: Iterable[Extension] | None = None) -> bytes:
        """The wire bytes of one chunk holding ``data`` (b"" for empty data).

        Raises ValueError for an extension that is not a token name with a token or quotable
        value, and RuntimeError after ``finish``.
        """
        if self._finished:
            raise RuntimeError("feed() after finish()")
        if not data:
            return b""
        return b"%x%s\r\n%s\r\n" % (len(data), _encode_extensions(extensions), data)

    def finish(
        self,
        trailers: Iterable[tuple[Bytes, Bytes]] = (),
        *,
        extensions: Iterable[Extension] | None = None,
    ) -> bytes:
        """The last chunk, the trailer fields ``(name, value)`` in order, and the final CRLF.

        Raises ValueError for a field name that is not a token or a value with control
        characters or surrounding whitespace, and RuntimeError when called twice.
        """
        if self._finished:
            raise RuntimeError("finish() called twice")
        lines = [b"0%s\r\n" % _encode_extensions(extensions)]
        for name, value in trailers:
            name, value = bytes(name), bytes(value)
            if not _TOKEN_RE.fullmatch(name):
                raise ValueError(f"trailer field name {name!r} is not a token")
            if not _FIELD_VALUE.fullmatch(value):
                raise ValueError(
                    f"trailer field value {value!r} has control characters or surrounding "
                    "whitespace"
                )
            lines.append(b"%s: %s\r\n" % (name, value))
        lines.append(b"\r\n")
        self._finished = True
        return b"".join(lines)


def _encode_extensions(extensions: Iterable[Extension] | None) -> bytes:
    if not extensions:
        return b""
    parts = []
    for name, value in extensions:
        if not _TOKEN_RE.fullmatch(name):
            raise ValueError(f"chunk extension name {name!r} is not a token")
        parts.append(b";" + name if value is None else b";%s=%s" % (name, _quote(value)))
    return b"".join(parts)
