"""ASCII-length framing: netstrings and RFC 6587 octet counting (syslog over TCP).

:class:`Netstring` reads djb's netstrings, ``5:hello,``: decimal length digits (no leading
zero, except the length ``0`` itself), ``:``, the bytes, ``,``. :class:`OctetCounted` reads RFC
6587 octet-counted frames, ``5 hello``: ``NONZERO-DIGIT *DIGIT``, a space, the bytes, nothing
after. Both give the bytes as frames.

Options (both):

``max_length``
    The longest payload accepted. ``Netstring`` default 99999, as Twisted's
    ``NetstringReceiver`` (netstrings carry small messages: SCGI headers, qmail, QMTP; 100 kB
    bounds what one connection can make the server buffer). ``OctetCounted`` default 8192, the
    size RFC 5425 says receivers SHOULD accept, and rsyslog's default ``maxMessageSize``.
``on_too_long``
    ``"raise"`` (default): a longer frame raises :class:`~framekit.errors.FrameTooLong` once
    (``limit``, ``offset`` of its first byte) as soon as the digits of its length read so far
    pass ``max_length`` (more digits only make it larger); the rest of its length and its
    bytes are then skipped as they arrive, never buffered, and the next call returns the next
    frame. A syntax error later in that length is still a MalformedError (below).
    ``"skip"``: skipped silently and counted in the decoder's ``skipped_frames``.

A length that breaks the syntax (a non-digit, a forbidden leading zero, an empty length, more
than 20 digits) or a netstring not closed by ``,`` is a
:class:`~framekit.errors.MalformedError` at the offending byte. The stream cannot be
resynchronised after one, so the decoder raises it again on every later call. EOF inside a
frame is a :class:`~framekit.errors.TruncatedError` at the frame's first byte (EOF inside a
frame already reported too long, or skipped as such, is not reported again).

The encoders write the length and the frame (and ``,``); ``ValueError`` for a frame over
``max_length``.
"""

from __future__ import annotations

from typing import Literal

import attrs

from framekit.codecs._counted import CountedDecoder
from framekit.codecs._options import ON_TOO_LONG, int_in, one_of
from framekit.errors import FrameTooLong, MalformedError, TruncatedError

__all__ = [
    "DEFAULT_MAX_NETSTRING_LENGTH",
    "DEFAULT_MAX_OCTET_COUNTED_LENGTH",
    "AsciiLengthDecoder",
    "AsciiLengthEncoder",
    "Netstring",
    "OctetCounted",
]

#: Default ``Netstring.max_length``: 99999, as Twisted's ``NetstringReceiver.MAX_LENGTH``.
DEFAULT_MAX_NETSTRING_LENGTH = 99999
#: Default ``OctetCounted.max_length``: 8192 (RFC 5425 section 4.3.1; rsyslog's default).
DEFAULT_MAX_OCTET_COUNTED_LENGTH = 8192

_MAX_DIGITS = 20
_ZERO = ord("0")


@attrs.define(frozen=True, kw_only=True)
class Netstring:
    """Netstrings, ``5:hello,``. See the module docstring."""

    max_length: int = attrs.field(default=DEFAULT_MAX_NETSTRING_LENGTH, validator=int_in(0))
    on_too_long: Literal["raise", "skip"] = attrs.field(
        default="raise", validator=one_of(*ON_TOO_LONG)
    )

    def decoder(self) -> AsciiLengthDecoder:
        """A fresh decoder for one stream."""
        return AsciiLengthDecoder(b":", b",", self.max_length, self.on_too_long)

    def encoder(self) -> AsciiLengthEncoder:
        """A fresh encoder for one stream."""
        return AsciiLengthEncoder(b":", b",", self.max_length)


@attrs.define(frozen=True, kw_only=True)
class OctetCounted:
    """RFC 6587 octet counting, ``5 hello``. See the module docstring."""

    max_length: int = attrs.field(default=DEFAULT_MAX_OCTET_COUNTED_LENGTH, validator=int_in(1))
    on_too_long: Literal["raise", "skip"] = attrs.field(
        default="raise", validator=one_of(*ON_TOO_LONG)
    )

    def decoder(self) -> AsciiLengthDecoder:
        """A fresh decoder for one stream."""
        return AsciiLengthDecoder(b" ", b"", self.max_length, self.on_too_long)

    def encoder(self) -> AsciiLengthEncoder:
        """A fresh encoder for one stream."""
        return AsciiLengthEncoder(b" ", b"", self.max_length)


class AsciiLengthDecoder(CountedDecoder):
    """Decodes ``LENGTH <separator> BYTES <trailer>`` frames. ``skipped_frames`` counts skips.

    State between calls, beyond :class:`~framekit.codecs._counted.CountedDecoder`'s: ``_skip``
    the bytes of a rejected frame still to drop, then its trailer to check when
    ``_trailer_due``. A length is rejected as soon as its first digits pass ``max_length``
    (more digits only make it larger); ``_rejected`` is then the value and the count of the
    digits read so far, until its separator gives the bytes to skip.
    """

    __slots__ = ("_max", "_raise", "_rejected", "_separator", "_skip", "_trailer", "_trailer_due")

    def __init__(self, separator: bytes, trailer: bytes, max_length: int, on_too_long: str) -> None:
        super().__init__()
        self._separator = separator
        self._trailer = trailer
        self._max = max_length
        self._raise = on_too_long == "raise"
        self._skip = 0
        self._trailer_due = False
        self._rejected: tuple[int, int] | None = None

    def discard(self, data: memoryview, eof: bool) -> tuple[int, bool]:
        """Consume the rest of a frame rejected by the last call; return ``(consumed, over)``.

        ``over`` is True once the frame (and its trailer) was consumed (or ``eof``), or when
        its length or trailer turns out malformed (the next ``decode`` raises that); with no
        frame being rejected, ``(0, True)``.
        """
        n = len(data)
        pos = 0
        if self._rejected is not None:
            pos, malformed = self._rest_of_rejected_length(data, 0)
            if malformed is not None:
                return self._consumed(pos), True
            if self._rejected is not None:
                if eof:
                    self._rejected = None
                    return self._consumed(n), True
                return self._consumed(pos), False
        if self._skip or self._trailer_due:
            dropped = min(self._skip, n - pos)
            self._skip -= dropped
            pos += dropped
            if self._skip or (self._trailer_due and pos == n):
                if eof:
                    self._skip = 0
                    self._trailer_due = False
                    return self._consumed(pos), True
                return self._consumed(pos), False
            if self._trailer_due:
                self._trailer_due = False
                if data[pos : pos + 1] != self._trailer:
                    self._bad_trailer(pos)  # fatal: raised by the next ``decode``
                    return self._consumed(pos), True
                pos += 1
        return self._consumed(pos), True

    def _decode(
        self, data: memoryview, frames: list[bytes], ends: list[int] | None, *, eof: bool
    ) -> int:
        self._raise_waiting()
        n = len(data)
        pos = 0
        separator = self._separator
        trailer = self._trailer
        while True:
            if self._rejected is not None:
                pos, malformed = self._rest_of_rejected_length(data, pos)
                if malformed is not None:
                    return self._fail(pos, malformed)
                if self._rejected is not None:
                    return self._consumed(pos)  # the length goes on in the next bytes
            if self._skip or self._trailer_due:
                dropped = min(self._skip, n - pos)
                self._skip -= dropped
                pos += dropped
                if self._skip or pos == n:
                    return self._consumed(pos)
                if self._trailer_due:
                    self._trailer_due = False
                    if data[pos : pos + 1] != trailer:
                        return self._fail(pos, self._bad_trailer(pos))
                    pos += 1
            if pos == n:
                break
            head = bytes(data[pos : pos + _MAX_DIGITS + 1])
            digits = head.find(separator)
            if not self._valid_length(head, digits):
                bad = self._header_error(head)
                good = len(head) if bad is None else bad[0]  # the digits before the bad byte
                if good and int(head[:good]) > self._max:
                    # Fail fast: these digits already pass max_length (more digits only add).
                    # The rest of the length (and a bad byte in it) is read from the frame's
                    # first digit, by the next call when this one raises: any split of the
                    # input gives the same errors.
                    self._rejected = (0, 0)
                elif bad is not None:
                    self._fatal = MalformedError(bad[1], offset=self._offset + pos + bad[0])
                    return self._fail(pos, self._fatal)
                else:
                    break  # a valid start of a length: need more bytes
            else:
                length = int(head[:digits])
                if length <= self._max:
                    end = pos + digits + 1 + length
                    if end + len(trailer) > n:
                        break
                    if trailer and data[end : end + 1] != trailer:
                        return self._fail(pos, self._bad_trailer(end))
                    frames.append(data[pos + digits + 1 : end].tobytes())
                    pos = end + len(trailer)
                    if ends is not None:
                        ends.append(pos)
                    continue
                self._skip = digits + 1 + length
                self._trailer_due = bool(trailer)
            too_long = FrameTooLong(
                f"frame length is over max_length={self._max}",
                limit=self._max,
                offset=self._offset + pos,
            )
            if self._raise:
                return self._fail(pos, too_long)
            self.skipped_frames += 1
        if eof and pos < n:
            truncated = TruncatedError(
                f"input ended inside a frame ({n - pos} bytes of it)", offset=self._offset + pos
            )
            return self._fail(pos, truncated)
        return self._consumed(pos)

    def _rest_of_rejected_length(
        self, data: memoryview, pos: int
    ) -> tuple[int, MalformedError | None]:
        """Read on the length of a frame rejected as too long; return where reading stopped,
        and the (fatal) error there if a byte is neither a digit nor the separator or the
        length has too many digits.

        At its separator, the frame's bytes become ``_skip`` and ``_rejected`` is cleared.
        """
        assert self._rejected is not None
        value, count = self._rejected
        n = len(data)
        while pos < n:
            byte = data[pos]
            if byte == self._separator[0] and count:
                self._rejected = None
                self._skip = value
                self._trailer_due = bool(self._trailer)
                return pos + 1, None
            if not 0x30 <= byte <= 0x39 or count == _MAX_DIGITS:
                reason = (
                    f"length has more than {_MAX_DIGITS} digits"
                    if count == _MAX_DIGITS and 0x30 <= byte <= 0x39
                    else f"expected a digit or {self._separator!r} in the length, "
                    f"got {bytes([byte])!r}"
                )
                self._fatal = MalformedError(reason, offset=self._offset + pos)
                self._rejected = (value, count)
                return pos, self._fatal
            value = value * 10 + byte - 0x30
            count += 1
            pos += 1
        self._rejected = (value, count)
        return pos, None

    def _valid_length(self, head: bytes, digits: int) -> bool:
        """Whether ``head[:digits]`` is a well-formed length followed by the separator."""
        if digits <= 0 or not head[:digits].isdigit():
            return False
        return head[0] != _ZERO or (digits == 1 and self._trailer != b"")

    def _header_error(self, head: bytes) -> tuple[int, str] | None:
        """The first syntax error in the length at the start of ``head``, as its index and
        reason; None if the bytes seen so far could still start a valid length."""
        netstring = self._trailer != b""
        for index, byte in enumerate(head):
            if byte == self._separator[0] and index > 0:
                # Unreachable: a valid length and its separator are taken before this.
                raise AssertionError("_header_error called on a valid length")
            reason = None
            if not 0x30 <= byte <= 0x39:
                expected = "a digit" if index == 0 else f"a digit or {self._separator!r}"
                reason = f"expected {expected} in the length, got {bytes([byte])!r}"
            elif index == 0 and byte == _ZERO and not netstring:
                reason = "length starts with 0"
            elif index == 1 and head[0] == _ZERO:
                reason = "length has a leading zero"
            elif index >= _MAX_DIGITS:
                reason = f"length has more than {_MAX_DIGITS} digits"
            if reason is not None:
                return index, reason
        return None

    def _bad_trailer(self, at: int) -> MalformedError:
        error = MalformedError(f"frame not closed by {self._trailer!r}", offset=self._offset + at)
        self._fatal = error
        return error


class AsciiLengthEncoder:
    """Writes ``LENGTH <separator> BYTES <trailer>``."""

    __slots__ = ("_max", "_separator", "_trailer")

    def __init__(self, separator: bytes, trailer: bytes, max_length: int) -> None:
        self._separator = separator
        self._trailer = trailer
        self._max = max_length

    def encode(self, frame: bytes) -> bytes:
        """The frame's wire bytes; ValueError if it is longer than ``max_length``."""
        if len(frame) > self._max:
            raise ValueError(f"frame longer than max_length={self._max}")
        if not frame and not self._trailer:
            raise ValueError("RFC 6587 octet counting cannot carry an empty message")
        return b"%d%s%s%s" % (len(frame), self._separator, frame, self._trailer)
