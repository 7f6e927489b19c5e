"""Line framing: frames end at a line ending (LF, strict CRLF, or any of LF, CRLF and CR).

:class:`Lines` gives ``bytes`` frames and :class:`TextLines` decoded ``str`` frames; both take
the same options:

``ending``
    ``"lf"`` (default): a line ends at LF. With ``strip_cr=True`` (default) a CR just before
    the LF belongs to the ending, as in Go's ``ReadLine`` and tokio's ``LinesCodec``, so
    ``b"a\\r\\n"`` and ``b"a\\n"`` both give ``b"a"``. ``"crlf"``: strict, as RFC 5321 asks of
    SMTP: a line ends at CRLF only, and a bare LF *or* a bare CR inside a line is a
    :class:`~framekit.errors.MalformedError` at the offset of that byte (the defence against
    SMTP smuggling, where ``\\n.\\n`` or ``\\r.\\r\\n`` end the DATA for one server and not for
    another). ``"any"``: LF, CRLF and a lone CR each end a line. A CR at the end of the
    buffered bytes is held until the next byte shows whether an LF follows, so a CRLF split
    across feeds is one ending, never an extra empty line (Netty #13088); at EOF a final CR
    ends the last line.
``keep_ending``
    False (default): frames exclude their ending. True: frames end with the ending bytes as
    they were on the wire.
``max_length``
    The longest line accepted, not counting its ending. Default 64 KiB, asyncio's and Go
    ``bufio.Scanner``'s default: far above any text protocol's line (SMTP 1000, HTTP 8 KiB,
    Redis inline 64 KiB), and it bounds what one connection can make the server buffer.
``on_too_long``
    ``"raise"`` (default): a longer line raises :class:`~framekit.errors.LineTooLong` once
    (``limit``, ``offset`` of the line's first byte), as soon as more than ``max_length``
    bytes of it are buffered without an ending; the line is then skipped to its ending, even
    if the ending arrives later, and the next call returns the next line. ``"skip"``: the line
    is skipped silently and counted in the decoder's ``skipped_frames``.
``at_eof``
    What a final line without an ending is at EOF: ``"deliver"`` (default; like asyncio's
    ``readline``, tokio's ``LinesCodec`` and Go's ``Scanner``, since files often lack a final
    newline) gives it as a frame; ``"error"`` raises :class:`~framekit.errors.TruncatedError`
    at the offset of its first byte.

:class:`TextLines` adds ``encoding`` (default ``"utf-8"``; it must be ASCII-compatible so
that line endings are found in the bytes) and ``errors`` (default ``"strict"``). A line that
does not decode is a ``MalformedError`` whose offset is the first undecodable byte (the
line's first byte, for a codec that does not say where: idna); the line is skipped and
decoding goes on with the next line. An ``errors`` handler that ``encoding`` does not take
(idna takes only ``"strict"``) is a ValueError at construction.

The encoders append the ending (LF for ``"lf"`` and ``"any"``, CRLF for ``"crlf"``), or with
``keep_ending=True`` check that the frame is one line ending in an ending. They raise
``ValueError`` for a frame that would not decode back to itself (an ending inside it, a
trailing CR that ``strip_cr`` would eat) or that is longer than ``max_length``.
"""

from __future__ import annotations

import codecs
import re
from itertools import accumulate, chain, repeat
from operator import add
from typing import Any, Generic, Literal, TypeVar, cast

import attrs

from framekit.codecs._options import ON_TOO_LONG, as_bytes, int_in, is_bool, one_of
from framekit.errors import FramingError, LineTooLong, MalformedError, TruncatedError
from framekit.speedups import split_crlf_lines as _compiled_crlf_lines

__all__ = ["DEFAULT_MAX_LINE_LENGTH", "LineDecoder", "LineEncoder", "Lines", "TextLines"]

T = TypeVar("T", bytes, str)

#: Default ``max_length``: 64 KiB, as asyncio's ``StreamReader`` and Go's ``bufio.Scanner``.
DEFAULT_MAX_LINE_LENGTH = 64 * 1024

_CR = 13
_LF = 10
_CR_OR_LF = re.compile(rb"[\r\n]")
_CRLF = re.compile(rb"\r\n")
_LF_ONLY = re.compile(rb"\n")
_WRITTEN_ENDING = {"lf": b"\n", "crlf": b"\r\n", "any": b"\n"}


def _extend_ends(ends: list[int], parts: list[bytes], width: int, origin: int) -> None:
    """Append where each of ``parts`` ends, each followed by a ``width``-byte ending, the first
    starting at ``origin``: C-level iterators, no Python code per part."""
    spans = accumulate(chain((origin,), map(add, map(len, parts), repeat(width))))
    next(spans)  # ``origin`` itself
    ends.extend(spans)


def _crlf_lines(buf: bytes) -> tuple[list[bytes], int] | None:
    """The lines before the last CRLF of ``buf`` and where the bytes after it start, if every
    line there ends in CRLF and no CR or LF is in them or in the bytes after the last CRLF (a
    CR at the very end aside: an LF may follow it); else None.

    ``splitlines()`` splits at CRLF, lone CR and lone LF: its parts are the lines if every
    ending it found was a CRLF, that is if the endings take two bytes per part. Checking that
    by the parts' lengths is cheaper than looking for a stray CR or LF, and ``splitlines()``
    is ~1.7x faster than ``split(b"\\r\\n")`` (a two-byte separator): 16 MiB of 10-120 byte
    lines in 64 KiB pieces decode in less time than a bare ``split(b"\\r\\n")`` loop takes.
    """
    rest = buf.rfind(b"\r\n") + 2
    if rest < 2:
        return None
    parts = buf.splitlines()
    if rest < len(buf):
        # The partial line after the last CRLF: one more part, if no CR or LF is in it.
        after = buf[rest:]
        if b"\n" in after or b"\r" in after[:-1]:
            return None
        parts.pop()
    if sum(map(len, parts)) + 2 * len(parts) != rest:
        return None  # an ending of one byte: a stray CR or LF
    return parts, rest


#: ``_crlf_lines``, compiled (``framekit.speedups``: one pass, ~0.3x its time for a 1460-byte
#: piece of 10-120 byte lines) where it is built: the same answer for every ``buf``.
_split_crlf = _compiled_crlf_lines or _crlf_lines


def _lf_or_crlf_lines(buf: bytes) -> tuple[list[bytes], int] | None:
    """The lines before the last LF of ``buf``, each without its LF or CRLF, and where the
    bytes after it start, if no lone CR is among them (a CR is content in ``"lf"`` mode);
    else None.

    ``splitlines()`` splits at CRLF, lone CR and lone LF: before the last LF, it made one part
    per LF unless a lone CR made more. One C-level split and a count, where splitting at CRLF,
    then at LF (the old way for mixed endings) took ~4x the time.
    """
    rest = buf.rfind(b"\n") + 1
    if not rest:
        return None
    parts = buf.splitlines()
    lines = buf.count(b"\n")
    if len(parts) != lines + len(buf[rest:].splitlines()):
        return None
    del parts[lines:]
    return parts, rest


def _lf_every(buf: bytes, end: int, step: int) -> bool:
    """True if each ``step`` bytes of ``buf[:end]`` (from the start) hold an LF.

    Then no two LFs there are ``2 * step`` bytes apart, so no line in ``buf[:end]`` that ends
    in an LF or CRLF is longer than ``2 * step - 2`` bytes without its ending: a few ``find``
    calls in place of measuring every line of a batch (which the batch paths do when a batch
    is longer than ``max_length``: a 64 KiB piece and the partial line before it).
    """
    find = buf.find
    return all(find(b"\n", start, min(start + step, end)) >= 0 for start in range(0, end, step))


def _ascii_compatible(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    try:
        codecs.lookup(value)
        compatible = "a\r\n".encode(value) == b"a\r\n" and b"a\r\n".decode(value) == "a\r\n"
    except (LookupError, TypeError, UnicodeError):
        raise ValueError(f"{attribute.name} must be a known text encoding, got {value!r}") from None
    if not compatible:
        raise ValueError(f"{attribute.name} must be ASCII-compatible, got {value!r}")


def _error_handler(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    try:
        codecs.lookup_error(value)
    except (LookupError, TypeError):
        raise ValueError(f"{attribute.name} must be a codec error handler, got {value!r}") from None
    # Run after ``encoding`` was checked. Some codecs take only some handlers (idna only
    # "strict"), and say so only when they decode: found here, not at every line.
    encoding = instance.encoding
    try:
        b"a\r\n".decode(encoding, value)
        "a\r\n".encode(encoding, value)
    except UnicodeError as exc:
        raise ValueError(
            f"{attribute.name}={value!r} does not work with encoding {encoding!r}: {exc}"
        ) from None


@attrs.define(frozen=True, kw_only=True)
class _LineOptions:
    ending: Literal["lf", "crlf", "any"] = attrs.field(
        default="lf", validator=one_of("lf", "crlf", "any")
    )
    strip_cr: bool = attrs.field(default=True, validator=is_bool)
    keep_ending: bool = attrs.field(default=False, validator=is_bool)
    max_length: int = attrs.field(default=DEFAULT_MAX_LINE_LENGTH, validator=int_in(0))
    on_too_long: Literal["raise", "skip"] = attrs.field(
        default="raise", validator=one_of(*ON_TOO_LONG)
    )
    at_eof: Literal["deliver", "error"] = attrs.field(
        default="deliver", validator=one_of("deliver", "error")
    )


@attrs.define(frozen=True, kw_only=True)
class Lines(_LineOptions):
    """Lines as ``bytes`` frames. See the module docstring for the options."""

    def decoder(self) -> LineDecoder[bytes]:
        """A fresh decoder for one stream."""
        return LineDecoder(self, None, "strict")

    def encoder(self) -> LineEncoder[bytes]:
        """A fresh encoder for one stream."""
        return LineEncoder(self, None, "strict")


@attrs.define(frozen=True, kw_only=True)
class TextLines(_LineOptions):
    """Lines as ``str`` frames, decoded with ``encoding``. See the module docstring."""

    encoding: str = attrs.field(default="utf-8", validator=_ascii_compatible)
    errors: str = attrs.field(default="strict", validator=_error_handler)

    def decoder(self) -> LineDecoder[str]:
        """A fresh decoder for one stream."""
        return LineDecoder(self, self.encoding, self.errors)

    def encoder(self) -> LineEncoder[str]:
        """A fresh encoder for one stream."""
        return LineEncoder(self, self.encoding, self.errors)


class LineDecoder(Generic[T]):
    """Splits a stream into lines. ``skipped_frames`` counts lines skipped as too long.

    State between calls: ``_offset`` is the stream position of ``data[0]``; ``_scan_pos``
    the stream position before which the current partial line is known to hold no ending (nor,
    in ``"crlf"`` mode, a stray CR or LF), so a long line fed a byte at a time is searched once;
    ``_discarding`` means the bytes up to the next ending belong to a rejected line (its end
    is ``_discard_end`` when already known); ``_pending`` is an error found after frames were
    produced in the same call, raised by the next call.
    """

    __slots__ = (
        "_deliver_at_eof",
        "_discard_end",
        "_discarding",
        "_encoding",
        "_ending",
        "_errors",
        "_keep",
        "_max",
        "_offset",
        "_pending",
        "_plain",
        "_scan_pos",
        "_skip",
        "_strip_cr",
        "needs_input",
        "skipped_frames",
    )

    def __init__(self, options: _LineOptions, encoding: str | None, errors: str) -> None:
        self._ending = options.ending
        self._strip_cr = options.strip_cr and options.ending == "lf"
        self._keep = options.keep_ending
        self._max = options.max_length
        self._skip = options.on_too_long == "skip"
        self._deliver_at_eof = options.at_eof == "deliver"
        # Endings stripped, frames as bytes: ``decode`` may take its one-step path for LF
        # or CRLF endings (the ending's width: 1 or 2).
        plain = not options.keep_ending and encoding is None
        self._plain = {"lf": 1, "crlf": 2}.get(options.ending, 0) if plain else 0
        self._encoding = encoding
        self._errors = errors
        #: Lines skipped (not raised) because they were longer than ``max_length``.
        self.skipped_frames = 0
        self._offset = 0
        self._scan_pos = 0
        self._discarding = False
        self._discard_end: int | None = None
        self._pending: FramingError | None = None
        #: True after a ``decode`` that stopped because its input ran out (no error waits
        #: for the next call): called again without new bytes, it would find nothing. An
        #: attribute kept with ``_pending`` (``_pending is None``), not a property: the
        #: driver reads it after every decode.
        self.needs_input = True

    def decode(self, data: memoryview, frames: list[T], ends: list[int] | None = None) -> int:
        """Append every complete line in ``data`` to ``frames`` (and where each ends in
        ``data`` to ``ends``, when given); return bytes consumed."""
        plain = self._plain
        if plain and self._pending is None and not self._discarding:
            # The common case in one step (what ``_lines`` and ``_split_batch`` would do, less
            # their calls: ~8% of a 1460-byte piece of lines): LF or CRLF endings stripped,
            # bytes frames, a view of a whole bytes object no longer than ``max_length`` (so
            # no line in it is too long) whose partial line, if already searched, is no longer
            # than the rest (``_lines`` would search it again whole too).
            obj = data.obj
            n = len(data)
            if (
                type(obj) is bytes
                and len(obj) == n
                and n <= self._max
                and 2 * (self._scan_pos - self._offset) <= n
            ):
                found = None
                if plain == 1:  # "lf"
                    # ``_CR in obj``, an int: one memchr (~20 ns a 1460-byte piece, where
                    # ``b"\r" in obj`` takes ~145).
                    if not (self._strip_cr and _CR in obj):
                        parts = obj.split(b"\n")
                        rest = n - len(parts.pop())
                        found = (parts, rest) if rest else None
                        searched = n
                else:  # "crlf"
                    found = _split_crlf(obj)
                    # A CR at the very end may start a CRLF: it is searched again.
                    searched = n - (obj[-1:] == b"\r")
                if found is not None:
                    # ``_deliver``, inlined: no line is longer than n <= max_length, no text;
                    # each ends in ``plain`` bytes.
                    parts, rest = found
                    frames += parts  # type: ignore[arg-type]
                    if ends is not None:
                        _extend_ends(ends, parts, plain, 0)
                    offset = self._offset
                    self._scan_pos = offset + searched
                    self._offset = offset + rest
                    return rest
        return self._decode(data, cast("list[Any]", frames), ends, eof=False)

    def decode_eof(self, data: memoryview, frames: list[T], ends: list[int] | None = None) -> int:
        """Decode the rest at EOF: the final unterminated line is delivered or truncated."""
        return self._decode(data, cast("list[Any]", frames), ends, eof=True)

    def reset_search(self) -> None:
        """Forget how far the last search got."""
        self._scan_pos = 0
        self._discard_end = None

    def discard(self, data: memoryview, eof: bool) -> tuple[int, bool]:
        """Consume the rest of a line rejected by the last call; return ``(consumed, over)``.

        ``over`` is True once the line's ending was consumed (or ``eof``: the line ends with
        the stream); with no line being rejected, ``(0, True)``.
        """
        if not self._discarding:
            return 0, True
        end = self._end_of_discarded(data, 0, eof)
        if end < 0:
            n = len(data)
            if eof:
                self._discarding = False
                return self._consumed(n), True
            held = n > 0 and self._ending != "lf" and data[n - 1] == _CR
            return self._consumed(n - held), False
        self._discarding = False
        self._discard_end = None
        return self._consumed(end), True

    # -- the state machine ------------------------------------------------------------------

    def _decode(
        self, data: memoryview, frames: list[Any], ends: list[int] | None, *, eof: bool
    ) -> int:
        pending = self._pending
        if pending is not None:
            self._pending = None
            self.needs_input = True
            raise pending
        pos = 0
        while True:
            if self._discarding:
                end = self._end_of_discarded(data, pos, eof)
                if end < 0:
                    n = len(data)
                    held = n > pos and not eof and self._ending != "lf" and data[n - 1] == _CR
                    return self._consumed(n - held)
                self._discarding = False
                self._discard_end = None
                pos = end
            pos, error, end = self._lines(data, pos, frames, ends, eof)
            if error is None:
                return self._consumed(pos)
            self._discarding = True
            self._discard_end = None if end < 0 else self._offset + end
            if self._skip and isinstance(error, LineTooLong):
                self.skipped_frames += 1
                continue
            if pos == 0:
                raise error
            self._pending = error
            self.needs_input = False
            return self._consumed(pos)

    def _consumed(self, count: int) -> int:
        self._offset += count
        return count

    def _end_of_discarded(self, data: memoryview, pos: int, eof: bool) -> int:
        """Index just after the ending of the line being discarded, or -1 if not in ``data``."""
        if self._discard_end is not None:
            return self._discard_end - self._offset
        ending = self._ending
        if ending == "lf":
            match = _LF_ONLY.search(data, pos)
            return -1 if match is None else match.end()
        if ending == "crlf":
            match = _CRLF.search(data, pos)
            return -1 if match is None else match.end()
        match = _CR_OR_LF.search(data, pos)
        if match is None:
            return -1
        k = match.start()
        if data[k] == _LF:
            return k + 1
        if k + 1 < len(data):
            return k + 2 if data[k + 1] == _LF else k + 1
        return k + 1 if eof else -1

    def _lines(
        self, data: memoryview, pos: int, frames: list[Any], ends: list[int] | None, eof: bool
    ) -> tuple[int, FramingError | None, int]:
        """Decode lines from ``data[pos:]`` (appending each line's end in ``data`` to ``ends``
        when it is a list).

        Returns ``(start, error, end)``: ``start`` is where the unconsumed bytes begin (a
        partial line, or the bad line when ``error`` is set); ``end`` is just after the bad
        line's ending if it is already in ``data``, else -1.
        """
        n = len(data)
        scan = max(pos, self._scan_pos - self._offset)
        if scan - pos <= n - scan:
            # Rescanning the partial line costs no more than the new bytes: search it all,
            # which lets the batch paths split the whole region at once.
            scan = base = pos
        else:
            base = scan - 1  # one byte of overlap, to see a CR before an LF
        obj = data.obj
        if not base and type(obj) is bytes and data.c_contiguous and data.nbytes == len(obj):
            # The view is a whole bytes object (a reader's buffer holding one fed piece, the
            # common case): search and slice it without copying it first (the copy is ~10%
            # of a batch of 10-120 byte lines in 64 KiB pieces).
            buf = obj
        else:
            buf = bytes(data[base:])
        start = pos - base  # line start in ``buf``; below 0 when the line began before base
        i = scan - base  # where the search resumes
        end = len(buf)
        encoding = self._encoding
        if start == 0 and not self._keep:
            start = i = self._split_batch(buf, frames, ends, base)
        maximum = self._max
        while True:
            found = self._find(buf, start, i, eof)
            if found is None:
                break
            content_end, next_start = found
            if content_end < 0:  # a stray CR or LF in "crlf" mode, at next_start
                if next_start - start > maximum:
                    return base + start, self._too_long(base + start), -1
                return (
                    base + start,
                    MalformedError(
                        f"bare {'CR' if buf[next_start] == _CR else 'LF'} inside a line "
                        "(ending='crlf' requires CRLF)",
                        offset=self._offset + base + next_start,
                    ),
                    -1,
                )
            if content_end - start > maximum:
                return base + start, self._too_long(base + start), base + next_start
            line_end = next_start if self._keep else content_end
            line = buf[start:line_end] if start >= 0 else bytes(data[pos : base + line_end])
            if encoding is not None:
                try:
                    frames.append(line.decode(encoding, self._errors))
                except UnicodeError as exc:
                    return base + start, self._undecodable(base + start, exc), base + next_start
            else:
                frames.append(line)
            if ends is not None:
                ends.append(base + next_start)
            start = i = next_start
        if start == end:
            return base + start, None, -1
        if eof:
            return self._final_line(data, buf, base, start, frames, ends)
        held = buf[-1] == _CR and (self._ending != "lf" or self._strip_cr)
        if end - start - held > maximum:
            return base + start, self._too_long(base + start), -1
        self._scan_pos = self._offset + n - (held and self._ending != "lf")
        return base + start, None, -1

    def _split_batch(
        self, buf: bytes, frames: list[Any], ends: list[int] | None, origin: int
    ) -> int:
        """Append the complete lines of ``buf`` with one ``split``, when nothing is unusual.

        Returns where the rest starts: 0 when the batch path does not apply, so the careful
        loop handles every line. Every step here is one C-level pass over ``buf``; measured
        on 32 MiB of 10-120 byte lines in 64 KiB feeds, this path runs within about 1.3x of a
        bare ``bytes.split`` loop, where a ``find`` loop per line takes about 3x.

        With ``ends`` (a list), the ends of the lines (``buf`` starts at ``origin`` in the
        caller's data) are computed from the part lengths, also in C, when every ending in
        the batch has the same width; ``"any"`` mode with CRLF mixed with lone CR or LF goes
        to the careful loop instead.
        """
        ending = self._ending
        if ending == "crlf":
            found = _split_crlf(buf)
            if found is None:
                return 0  # a stray CR or LF: the careful loop reports it
            return self._deliver(buf, *found, frames, ends, origin, 2)
        if ending == "any":
            return self._split_any(buf, frames, ends, origin)
        if ending == "lf" and self._strip_cr and _CR in buf:
            # Mostly CRLF input. All CRLF (no lone CR in the lines either): the fast split,
            # tried when the first line ends in CRLF (mixed endings would only waste it).
            first = buf.find(b"\n")
            found = _split_crlf(buf) if first > 0 and buf[first - 1] == _CR else None
            if found is not None:
                return self._deliver(buf, *found, frames, ends, origin, 2)
            # LF and CRLF endings mixed: the lines by ``splitlines()``, and their ends (which
            # the lines' lengths do not give) at each LF.
            found = _lf_or_crlf_lines(buf)
            if found is not None:
                return self._deliver_at_lfs(buf, *found, frames, ends, origin)
            # A lone CR in a line: split at CRLF, valid if no bare LF is left inside the parts.
            parts = buf.split(b"\r\n")
            last = parts.pop()
            if b"\n" in last or b"\n" in b"".join(parts):
                # The part after the last LF has no CRLF, so its length (and ``rest``) is kept.
                parts = buf.replace(b"\r\n", b"\n").split(b"\n")
                last = parts.pop()
                return self._deliver_at_lfs(buf, parts, len(buf) - len(last), frames, ends, origin)
            if parts:
                return self._deliver(buf, parts, len(buf) - len(last), frames, ends, origin, 2)
        parts = buf.split(b"\n")
        last = parts.pop()
        if not parts:
            return 0
        return self._deliver(buf, parts, len(buf) - len(last), frames, ends, origin, 1)

    def _deliver_at_lfs(
        self,
        buf: bytes,
        parts: list[bytes],
        rest: int,
        frames: list[Any],
        ends: list[int] | None,
        origin: int,
    ) -> int:
        """``_deliver`` for lines ending at each LF of ``buf``, some after a CR stripped from
        them: their ends come from a split at LF, not from their lengths."""
        rest = self._deliver(buf, parts, rest, frames, None, 0, 1)
        if rest and ends is not None:
            lines = buf.split(b"\n", len(parts))
            lines.pop()
            _extend_ends(ends, lines, 1, origin)
        return rest

    def _split_any(self, buf: bytes, frames: list[Any], ends: list[int] | None, origin: int) -> int:
        """``_split_batch`` in ``"any"`` mode: ``splitlines()`` is exactly its rule."""
        parts = buf.splitlines()
        rest = len(buf)
        if buf[-1:] != b"\n" and parts:
            # The last part is a partial line, or a line whose final CR is held (an LF may
            # follow it): both are left for the next call.
            rest -= len(parts.pop()) + (buf[-1:] == b"\r")
        if not parts:
            return 0
        width = 1
        if ends is not None:
            # The ends are computed from the lengths when every ending has the same width.
            endings = rest - sum(map(len, parts))
            if endings != len(parts):
                if endings != 2 * len(parts):
                    return 0  # CRLF mixed with lone CR or LF: the careful loop
                width = 2
        return self._deliver(buf, parts, rest, frames, ends, origin, width)

    def _deliver(
        self,
        buf: bytes,
        parts: list[bytes],
        rest: int,
        frames: list[Any],
        ends: list[int] | None,
        origin: int,
        width: int,
    ) -> int:
        """Append ``parts``, the lines of ``buf[:rest]`` (converted), unless one is too long or
        undecodable; return ``rest`` on success, 0 to hand the batch to the careful loop. With
        ``ends``, also append where each part ends (each is followed by a ``width``-byte
        ending; the first starts at ``origin``)."""
        maximum = self._max
        if (
            rest > maximum
            # Else measure the lines (~10 us per 64 KiB). The quick test takes a find call
            # per ``maximum / 2`` bytes: not for a small maximum.
            and (rest > 8 * maximum or not _lf_every(buf, rest, maximum // 2 + 1))
            and max(map(len, parts)) > maximum
        ):
            return 0
        encoding = self._encoding
        if encoding is None:
            frames.extend(parts)
        else:
            try:
                texts = [part.decode(encoding, self._errors) for part in parts]
            except UnicodeError:
                return 0
            frames.extend(texts)
        if ends is not None:
            _extend_ends(ends, parts, width, origin)
        return rest

    def _find(self, buf: bytes, start: int, i: int, eof: bool) -> tuple[int, int] | None:
        """The next line ending in ``buf`` searching from ``i``: ``(content_end, next_start)``.

        ``content_end`` is -1 for a stray CR or LF (``"crlf"`` mode) at ``next_start``.
        None: no ending yet.
        """
        ending = self._ending
        if ending == "lf":
            k = buf.find(b"\n", i)
            if k < 0:
                return None
            if self._strip_cr and k > start and buf[k - 1] == _CR:
                return k - 1, k + 1
            return k, k + 1
        if ending == "crlf":
            k = buf.find(b"\r\n", i)
            stop = k if k >= 0 else len(buf) - (not eof and buf[-1:] == b"\r")
            stray = _CR_OR_LF.search(buf, i, stop)
            if stray is not None:
                return -1, stray.start()
            return None if k < 0 else (k, k + 2)
        match = _CR_OR_LF.search(buf, i)
        if match is None:
            return None
        k = match.start()
        if buf[k] == _LF:
            return k, k + 1
        if k + 1 < len(buf):
            return k, (k + 2 if buf[k + 1] == _LF else k + 1)
        return (k, k + 1) if eof else None

    def _final_line(
        self,
        data: memoryview,
        buf: bytes,
        base: int,
        start: int,
        frames: list[Any],
        ends: list[int] | None,
    ) -> tuple[int, FramingError | None, int]:
        """The bytes after the last ending, at EOF (not empty; no stray, no ending in them)."""
        end = len(buf)
        line = buf[start:] if start >= 0 else bytes(data[base + start :])
        content = line[:-1] if self._strip_cr and line[-1] == _CR else line
        if len(content) > self._max:
            return base + start, self._too_long(base + start), base + end
        if not self._deliver_at_eof:
            return (
                base + start,
                TruncatedError(
                    f"input ended inside a line ({len(line)} bytes without an ending)",
                    offset=self._offset + base + start,
                ),
                base + end,
            )
        if not self._keep:
            line = content
        if self._encoding is not None:
            try:
                frames.append(line.decode(self._encoding, self._errors))
            except UnicodeError as exc:
                return base + start, self._undecodable(base + start, exc), base + end
        else:
            frames.append(line)
        if ends is not None:
            ends.append(base + end)
        return base + end, None, -1

    def _too_long(self, start: int) -> LineTooLong:
        return LineTooLong(
            f"line longer than max_length={self._max}",
            limit=self._max,
            offset=self._offset + start,
        )

    def _undecodable(self, start: int, exc: UnicodeError) -> MalformedError:
        # Some codecs (idna) raise a bare UnicodeError, without a position: the line's start.
        if isinstance(exc, UnicodeDecodeError):
            return MalformedError(
                f"line is not valid {self._encoding}: {exc.reason}",
                offset=self._offset + start + exc.start,
            )
        return MalformedError(
            f"line is not valid {self._encoding}: {exc}", offset=self._offset + start
        )


class LineEncoder(Generic[T]):
    """Writes one frame as one line."""

    __slots__ = (
        "_after_cr",
        "_encoding",
        "_ending",
        "_errors",
        "_keep",
        "_max",
        "_strip_cr",
        "_written",
    )

    def __init__(self, options: _LineOptions, encoding: str | None, errors: str) -> None:
        self._ending = options.ending
        self._written = _WRITTEN_ENDING[options.ending]
        self._strip_cr = options.strip_cr and options.ending == "lf"
        self._keep = options.keep_ending
        self._max = options.max_length
        self._encoding = encoding
        self._errors = errors
        # The last line written ended in a lone CR (``"any"``, ``keep_ending``): an LF next
        # would make it one CRLF line.
        self._after_cr = False

    def encode(self, frame: T) -> bytes:
        """The line's wire bytes; ValueError if it would not decode back to ``frame``.

        With ``ending="any"`` and ``keep_ending=True``, a line that is just an LF ending is
        refused right after a line ending in a lone CR: written together they read as one
        CRLF line. (This encoder is for one stream: it remembers the last line it encoded.)
        """
        if isinstance(frame, str):
            if self._encoding is None:
                raise TypeError("Lines frames are bytes; use TextLines for str frames")
            line = frame.encode(self._encoding, self._errors)
            if self._errors != "strict" and line.decode(self._encoding, self._errors) != frame:
                # A lossy handler (replace, ignore, ...) wrote something else than the frame.
                raise ValueError(
                    f"the line would not decode back to the frame: {self._encoding!r} cannot "
                    f"encode it, and errors={self._errors!r} changes it"
                )
        else:
            line = as_bytes(frame)
        if self._keep:
            content = self._without_ending(line)
            ending = line[len(content) :]
        else:
            content, ending = line, self._written
        if self._ending == "lf":
            if _LF in content or (self._strip_cr and content[-1:] == b"\r"):
                raise ValueError("a line frame must not contain LF or end with CR")
        elif _CR in content or _LF in content:
            raise ValueError(f"a line frame must not contain CR or LF (ending={self._ending!r})")
        if len(content) > self._max:
            raise ValueError(f"line longer than max_length={self._max}")
        if self._after_cr and not content and ending == b"\n":
            raise ValueError(
                "an empty LF line right after a line ending in a lone CR would read as one "
                "CRLF line (ending='any')"
            )
        self._after_cr = ending == b"\r"
        return content + ending

    def _without_ending(self, line: bytes) -> bytes:
        if self._ending == "crlf":
            if not line.endswith(b"\r\n"):
                raise ValueError("with keep_ending=True a frame must end with CRLF")
            return line[:-2]
        if self._ending == "any" and line.endswith((b"\r\n", b"\r")):
            return line[:-2] if line.endswith(b"\r\n") else line[:-1]
        if not line.endswith(b"\n"):
            raise ValueError("with keep_ending=True a frame must end with a line ending")
        if self._strip_cr and line.endswith(b"\r\n"):
            return line[:-2]
        return line[:-1]
