"""Length-prefixed framing: a header carries the length of what follows.

:class:`LengthPrefixed` covers Netty's ``LengthFieldBasedFrameDecoder`` and
``LengthFieldPrepender`` and tokio's ``LengthDelimitedCodec``: a length field of 1 to 8 bytes
(or a protobuf/LEB128 unsigned varint), optionally after some header bytes, optionally
adjusted, with the header stripped or kept.

How a frame is read. The *header* is ``length_field_offset`` bytes, then the length field
(``H = length_field_offset + length_field_length`` bytes in all). The bytes after the header
number ``value + length_adjustment``, less ``H`` when ``length_includes_header`` is True. The
whole frame on the wire is therefore ``H + value + length_adjustment (- H)`` bytes, and the
decoded frame is that, less its first ``initial_bytes_to_strip`` bytes (default: ``H``, the
whole header, like tokio's ``num_skip``; Netty's default is 0, which keeps the header).

The default: 4-byte big-endian length, header stripped::

    on the wire (11 bytes)            decoded frame (7 bytes)
    +--------+----------------+       +----------------+
    |00000007| "payload"      |  ->   | "payload"      |
    +--------+----------------+       +----------------+

``length_field_length=2, initial_bytes_to_strip=0`` (keep the header)::

    +----+----------+                 +----+----------+
    |0005| "hello"  |          ->     |0005| "hello"  |
    +----+----------+                 +----+----------+

A header before the length field: ``length_field_offset=2, length_field_length=3``
(``initial_bytes_to_strip`` defaults to 5)::

    +------+--------+----------+      +----------+
    | type | 000005 | "hello"  |  ->  | "hello"  |
    | 2 B  |  3 B   |   5 B    |      |   5 B    |
    +------+--------+----------+      +----------+

The length counts the header: ``length_field_length=2, length_includes_header=True`` (same as
Netty's ``lengthAdjustment=-2``)::

    +----+----------+                 +----------+
    |0007| "hello"  |          ->     | "hello"  |
    +----+----------+                 +----------+

An adjustment for a trailer the length does not count: ``length_field_length=1,
length_adjustment=2`` (a 2-byte checksum after the payload)::

    +--+---------+----+               +---------+----+
    |05| "hello" | CK |          ->   | "hello" | CK |
    +--+---------+----+               +---------+----+

``length_field_length="varint"``: an unsigned LEB128 varint (7 bits a byte, least significant
group first, high bit set on every byte but the last), as protobuf's delimited streams. At most
10 bytes and a value below 2**64; more is a :class:`~framekit.errors.MalformedError`. With a
varint, ``initial_bytes_to_strip`` must be left at its default (the header length varies) and
``length_includes_header`` must be False.

Limits and bad input. ``max_frame_length`` (default 8 MiB, tokio's default) bounds the whole
frame on the wire, header included: what the decoder must buffer. A longer frame fails fast,
as soon as its header is read (a varint: as soon as its first bytes prove it, later bytes only
adding to it): :class:`~framekit.errors.FrameTooLong` (``limit``, ``offset`` of the frame's
first byte) is raised once, then the frame's announced bytes are skipped as they arrive, never
buffered, and the next call returns the next frame. With ``on_too_long="skip"``
such frames are skipped silently and counted in the decoder's ``skipped_frames``. A length that
makes no sense (the bytes after the header below zero, or a frame shorter than
``initial_bytes_to_strip``) is a ``MalformedError``; the stream cannot be resynchronised, so the
decoder raises it again on every later call. EOF inside a frame is a
:class:`~framekit.errors.TruncatedError` at the frame's first byte (EOF inside a frame that is
being skipped is not reported again).

The encoder is the decoder's mirror: ``encode(frame)`` takes what the decoder gives back and
writes the wire bytes, so ``decode(encode(frame)) == frame``. It computes the length field;
bytes of the wire that the decoded frame does not carry (the stripped ones: the header before
the length field, or any payload bytes stripped beyond it) are written as zeros. When the
frame carries (part of) the length field, as with ``initial_bytes_to_strip=0``, those bytes
must already hold the right value. ``ValueError`` for a frame the format cannot carry: too
long for ``max_frame_length`` or for the field, too short for the header.
"""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Callable
from typing import Any, Literal

import attrs

from framekit.codecs._counted import CountedDecoder
from framekit.codecs._options import ON_TOO_LONG, as_bytes, int_in, is_bool, one_of
from framekit.errors import FrameTooLong, MalformedError, TruncatedError
from framekit.speedups import split_fixed as _split_fixed

__all__ = [
    "DEFAULT_MAX_FRAME_LENGTH",
    "LengthPrefixed",
    "LengthPrefixedDecoder",
    "LengthPrefixedEncoder",
]

#: Default ``max_frame_length``: 8 MiB, as tokio-util's ``LengthDelimitedCodec``.
DEFAULT_MAX_FRAME_LENGTH = 8 * 1024 * 1024

_VARINT_MAX_BYTES = 10
#: ``_read_varint``'s value for a varint whose first bytes make the frame too long.
_KNOWN_TOO_LONG = -2
_STRUCT_CODES = {1: "B", 2: "H", 4: "I", 8: "Q"}


def _field_length(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value == "varint" and isinstance(value, str):
        return
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 8:
        raise ValueError(f"{attribute.name} must be an int from 1 to 8 or 'varint', got {value!r}")


@attrs.define(frozen=True, kw_only=True)
class LengthPrefixed:
    """Frames preceded by their length. See the module docstring for the layouts."""

    length_field_offset: int = attrs.field(default=0, validator=int_in(0))
    length_field_length: int | Literal["varint"] = attrs.field(default=4, validator=_field_length)
    byte_order: Literal["big", "little"] = attrs.field(
        default="big", validator=one_of("big", "little")
    )
    length_adjustment: int = attrs.field(default=0, validator=int_in(-(2**63), 2**63))
    length_includes_header: bool = attrs.field(default=False, validator=is_bool)
    initial_bytes_to_strip: int | None = attrs.field(default=None)
    max_frame_length: int = attrs.field(default=DEFAULT_MAX_FRAME_LENGTH, validator=int_in(1))
    on_too_long: Literal["raise", "skip"] = attrs.field(
        default="raise", validator=one_of(*ON_TOO_LONG)
    )

    @initial_bytes_to_strip.validator
    def _check_strip(self, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value is None:
            return
        int_in(0)(self, attribute, value)
        if self.length_field_length == "varint":
            raise ValueError(
                "initial_bytes_to_strip must be left at None (the whole header) with a varint "
                "length_field_length"
            )

    @length_includes_header.validator
    def _check_includes(self, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value and self.length_field_length == "varint":
            raise ValueError("length_includes_header must be False with a varint length field")

    @property
    def header_length(self) -> int | None:
        """Bytes before the payload (offset plus field), or None for a varint field."""
        if self.length_field_length == "varint":
            return None
        return self.length_field_offset + self.length_field_length

    def decoder(self) -> LengthPrefixedDecoder:
        """A fresh decoder for one stream."""
        return LengthPrefixedDecoder(self)

    def encoder(self) -> LengthPrefixedEncoder:
        """A fresh encoder for one stream."""
        return LengthPrefixedEncoder(self)


def _whole_bytes(data: memoryview) -> bytes:
    """``data``'s bytes as a ``bytes`` object: the object it views, when it views one whole.

    Slicing ``bytes`` makes one object where a view's slice and ``tobytes()`` make two: ~35 ns
    of ~220 ns per 16-512 byte frame in a 64 KiB batch. A reader's buffer view is the whole
    fed piece in the common case, so no copy is made then.
    """
    obj = data.obj
    if type(obj) is bytes and data.c_contiguous and data.nbytes == len(obj):
        return obj
    return data.tobytes()


def _fixed_reader(width: int, byte_order: str) -> Callable[[memoryview, int], int]:
    """A function reading a ``width``-byte unsigned integer at an index of a view."""
    code = _STRUCT_CODES.get(width)
    if code is not None:
        unpack = struct.Struct((">" if byte_order == "big" else "<") + code).unpack_from

        def read_struct(data: memoryview, at: int) -> int:
            value: int = unpack(data, at)[0]
            return value

        return read_struct
    order: Literal["big", "little"] = "big" if byte_order == "big" else "little"

    def read_bytes(data: memoryview, at: int) -> int:
        return int.from_bytes(data[at : at + width], order)

    return read_bytes


class LengthPrefixedDecoder(CountedDecoder):
    """Splits a stream into length-prefixed frames. ``skipped_frames`` counts skipped ones.

    State between calls, beyond :class:`~framekit.codecs._counted.CountedDecoder`'s: ``_skip``
    the bytes of a rejected frame still to drop. A varint length is rejected as soon as its
    first bytes prove the frame too long (later bytes only add to it); ``_rejected`` is then
    the frame's stream offset, the header bytes consumed and the value read so far, until the
    varint's last byte gives the bytes to skip.
    """

    __slots__ = (
        "_adjust",
        "_field_offset",
        "_header",
        "_max",
        "_raise",
        "_read_length",
        "_rejected",
        "_skip",
        "_split",
        "_split_args",
        "_strip",
        "_unpack",
        "_varint",
    )

    def __init__(self, codec: LengthPrefixed) -> None:
        super().__init__()
        self._field_offset = codec.length_field_offset
        self._varint = codec.length_field_length == "varint"
        width = 0 if codec.length_field_length == "varint" else codec.length_field_length
        self._header = codec.length_field_offset + width
        self._read_length = _fixed_reader(width, codec.byte_order) if width else None
        # The batch path's length reader, when a struct code fits the width: it reads the
        # length at a frame's first byte (pad bytes skip the field's offset; an offset too
        # large for a struct format goes to the general reader).
        self._unpack: Callable[[Any, int], tuple[int, ...]] | None = None
        code = _STRUCT_CODES.get(width)
        if code is not None:
            order = ">" if codec.byte_order == "big" else "<"
            with contextlib.suppress(struct.error):
                self._unpack = struct.Struct(
                    f"{order}{codec.length_field_offset}x{code}"
                ).unpack_from
        # Bytes after the length field = value + _adjust.
        self._adjust = codec.length_adjustment - (
            self._header if codec.length_includes_header else 0
        )
        self._strip = codec.initial_bytes_to_strip
        self._max = codec.max_frame_length
        self._raise = codec.on_too_long == "raise"
        self._skip = 0
        self._rejected: tuple[int, int, int] | None = None
        # The compiled batch loop (framekit.speedups) and its arguments after the view and
        # position, for a fixed-width field with the header stripped and sizes it can take:
        # (field offset, width, big-endian, span, low, high), as in ``_fixed_batch``.
        self._split: Callable[..., int] | None = None
        self._split_args: tuple[int, int, bool, int, int, int] = (0, 1, True, 0, 0, 0)
        if _split_fixed is not None and width and self._strip is None:
            span = self._header + self._adjust
            low = -self._adjust
            high = self._max - self._header - self._adjust
            bound = 1 << 62
            if self._field_offset <= bound and all(-bound <= x <= bound for x in (span, low)):
                self._split = _split_fixed
                self._split_args = (
                    self._field_offset,
                    width,
                    codec.byte_order == "big",
                    span,
                    low,
                    max(min(high, bound), -bound),
                )

    def discard(self, data: memoryview, eof: bool) -> tuple[int, bool]:
        """Consume the rest of a frame rejected by the last call; return ``(consumed, over)``.

        ``over`` is True once the frame's last byte was consumed (or ``eof``), or when its
        varint turns out malformed (the next ``decode`` raises that); with no frame being
        rejected, ``(0, True)``.
        """
        n = len(data)
        pos = 0
        if self._rejected is not None:
            pos, malformed = self._rest_of_rejected_varint(data, 0)
            if malformed is not None:
                return self._consumed(pos), True
            if self._rejected is not None:
                if eof:
                    self._rejected = None
                    return self._consumed(n), True
                return self._consumed(pos), False
        skipped = min(self._skip, n - pos)
        self._skip -= skipped
        pos += skipped
        if self._skip and eof:
            self._skip = 0
            return self._consumed(pos), True
        return self._consumed(pos), not self._skip

    def _decode(
        self, data: memoryview, frames: list[bytes], ends: list[int] | None, *, eof: bool
    ) -> int:
        self._raise_waiting()
        n = len(data)
        pos = 0
        if self._skip:
            pos = min(self._skip, n)
            self._skip -= pos
            if self._skip:
                return self._consumed(pos)
        split = self._split
        if split is not None:
            pos = split(data, pos, *self._split_args, frames, ends)
        elif self._read_length is not None and self._strip is None:
            pos = self._fixed_batch(data, pos, frames, ends)
        header = self._header
        maximum = self._max
        while pos < n:
            if self._rejected is not None:
                at, malformed = self._rest_of_rejected_varint(data, pos)
                if malformed is not None:
                    return self._fail(pos, malformed)
                pos = at
                if self._rejected is None:  # the varint ended: skip the frame's body
                    skipped = min(self._skip, n - pos)
                    self._skip -= skipped
                    pos += skipped
                continue
            if self._varint:
                parsed = self._read_varint(data, pos)
                if parsed is None:
                    break
                value, header = parsed
                if value == _KNOWN_TOO_LONG:
                    # Fail fast: the varint's first bytes already make the frame too long. The
                    # rest of it is read from the frame's first byte, by the next call when
                    # this one raises: any split of the input gives the same errors.
                    self._rejected = (self._offset + pos, 0, 0)
                    error = FrameTooLong(
                        f"frame length is over max_frame_length={maximum} (from the first "
                        "bytes of its varint)",
                        limit=maximum,
                        offset=self._offset + pos,
                    )
                    if self._raise:
                        return self._fail(pos, error)
                    self.skipped_frames += 1
                    continue
                if value < 0:
                    malformed = self._bad_varint(self._offset + pos)
                    return self._fail(pos, malformed)
            else:
                if n - pos < header:
                    break
                assert self._read_length is not None
                value = self._read_length(data, pos + self._field_offset)
            body = value + self._adjust
            total = header + body
            strip = header if self._strip is None else self._strip
            if body < 0 or total < strip:
                return self._fail(pos, self._malformed(pos, value, body, total, strip))
            if total > maximum:
                error = FrameTooLong(
                    f"frame of {total} bytes is longer than max_frame_length={maximum}",
                    limit=maximum,
                    offset=self._offset + pos,
                )
                if self._raise:
                    self._skip = total
                    return self._fail(pos, error)
                self.skipped_frames += 1
                skipped = min(total, n - pos)
                self._skip = total - skipped
                pos += skipped
                continue
            if n - pos < total:
                break
            frames.append(data[pos + strip : pos + total].tobytes())
            pos += total
            if ends is not None:
                ends.append(pos)
        if eof and pos < n:
            truncated = TruncatedError(
                f"input ended inside a frame ({n - pos} bytes of it)", offset=self._offset + pos
            )
            return self._fail(pos, truncated)
        return self._consumed(pos)

    def _fixed_batch(
        self, data: memoryview, pos: int, frames: list[bytes], ends: list[int] | None
    ) -> int:
        """The common case (fixed-width field, header stripped), in a tight loop.

        Appends each frame's end to ``ends`` when given (in the loop: ~8 ns a frame, where
        computing them afterwards from the frames' lengths in C costs ~45). Stops before
        anything unusual (an incomplete, too long or malformed frame), which the general loop
        then handles.
        """
        n = len(data)
        header = self._header
        if n - pos < header:
            return pos
        field_offset = self._field_offset
        adjust = self._adjust
        limit = self._max - header
        read_length = self._read_length
        assert read_length is not None
        # Nothing to take unless the first frame is complete: ``_whole_bytes`` copies a buffer
        # that is not one whole ``bytes`` object (a long frame arriving in small pieces grows
        # a bytearray), and a copy per piece fed is quadratic in the frame's size.
        if n - pos - header < read_length(data, pos + field_offset) + adjust:
            return pos
        buf = _whole_bytes(data)
        append = frames.append
        unpack = self._unpack
        if unpack is None:  # a width without a struct code: the general reader
            while n - pos >= header:
                body = read_length(data, pos + field_offset) + adjust
                end = pos + header + body
                if body < 0 or body > limit or end > n:
                    break
                append(buf[pos + header : end])
                pos = end
                if ends is not None:
                    ends.append(end)
            return pos
        # The checks on ``body = value + adjust`` folded into bounds on ``value`` (~25 ns of
        # ~160 a frame): ``0 <= body <= limit`` and ``end = pos + header + body``.
        low = -adjust
        high = limit - adjust
        span = header + adjust
        last = n - header  # the last position a whole header fits at
        if ends is None:
            while pos <= last:
                value = unpack(buf, pos)[0]
                end = pos + span + value
                if end > n or value > high or value < low:
                    break
                append(buf[pos + header : end])
                pos = end
            return pos
        append_end = ends.append
        while pos <= last:
            value = unpack(buf, pos)[0]
            end = pos + span + value
            if end > n or value > high or value < low:
                break
            append(buf[pos + header : end])
            pos = end
            append_end(end)
        return pos

    def _read_varint(self, data: memoryview, pos: int) -> tuple[int, int] | None:
        """``(value, header length)`` of the varint after the header's fixed bytes.

        None if the varint is not complete yet; value -1 if it is malformed;
        ``_KNOWN_TOO_LONG`` if a byte before its last already makes the frame longer than
        ``max_frame_length`` (the header is at least one byte longer, the value no smaller).
        """
        at = pos + self._field_offset
        end = min(len(data), at + _VARINT_MAX_BYTES)
        value = 0
        shift = 0
        least = self._max - self._adjust - 2 + pos  # index + value above it: too long
        for index in range(at, end):
            byte = data[index]
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return (value, index + 1 - pos) if value < 1 << 64 else (-1, 0)
            if index + value > least and value >= -self._adjust:
                # (A body still below zero might yet be malformed: not rejected early.)
                return _KNOWN_TOO_LONG, 0
            shift += 7
        return None if end - at < _VARINT_MAX_BYTES else (-1, 0)

    def _rest_of_rejected_varint(
        self, data: memoryview, pos: int
    ) -> tuple[int, MalformedError | None]:
        """Read on the header of a frame rejected from the first bytes of its varint; return
        where reading stopped, and the (fatal) error if the varint turns out malformed.

        At the varint's last byte, the frame's body becomes ``_skip`` and ``_rejected`` is
        cleared.
        """
        assert self._rejected is not None
        start, count, value = self._rejected
        n = len(data)
        while pos < n:
            byte = data[pos]
            pos += 1
            count += 1
            index = count - self._field_offset - 1  # of the byte in the varint
            if index < 0:
                continue
            value |= (byte & 0x7F) << (7 * index)
            if byte < 0x80 and value < 1 << 64:
                self._rejected = None
                self._skip = max(value + self._adjust, 0)
                return pos, None
            if byte < 0x80 or index == _VARINT_MAX_BYTES - 1:
                return pos, self._bad_varint(start)
        self._rejected = (start, count, value)
        return pos, None

    def _bad_varint(self, frame: int) -> MalformedError:
        """The (fatal) error for a malformed varint in the frame at stream offset ``frame``."""
        self._fatal = MalformedError(
            "varint length is longer than 10 bytes or above 2**64 - 1",
            offset=frame + self._field_offset,
        )
        return self._fatal

    def _malformed(self, pos: int, value: int, body: int, total: int, strip: int) -> MalformedError:
        if body < 0:
            reason = f"length {value} adjusted to {body} bytes after the header, below zero"
        else:
            reason = f"frame of {total} bytes is shorter than initial_bytes_to_strip={strip}"
        error = MalformedError(reason, offset=self._offset + pos)
        self._fatal = error
        return error


class LengthPrefixedEncoder:
    """Writes frames with their length field, mirroring the decoder's options."""

    __slots__ = ("_codec", "_field_end", "_header", "_strip", "_width")

    def __init__(self, codec: LengthPrefixed) -> None:
        self._codec = codec
        width = 0 if codec.length_field_length == "varint" else codec.length_field_length
        self._width = width
        self._header = codec.length_field_offset + width
        self._strip = (
            self._header if codec.initial_bytes_to_strip is None else codec.initial_bytes_to_strip
        )

    def encode(self, frame: bytes) -> bytes:
        """The frame's wire bytes: header (stripped parts as zeros) and length field."""
        codec = self._codec
        frame = as_bytes(frame)
        if not self._width:
            return self._encode_varint(frame)
        header = self._header
        strip = self._strip
        total = strip + len(frame)
        body = total - header
        if body < 0:
            raise ValueError(f"frame too short to hold the {header}-byte header")
        if total > codec.max_frame_length:
            raise ValueError(f"frame of {total} bytes is longer than max_frame_length")
        value = body - codec.length_adjustment + (header if codec.length_includes_header else 0)
        if not 0 <= value < 1 << (8 * self._width):
            raise ValueError(f"length {value} does not fit the {self._width}-byte length field")
        field = value.to_bytes(self._width, codec.byte_order)
        wire = bytearray(strip) + frame
        at = codec.length_field_offset
        carried = wire[max(at, strip) : header]
        if carried and carried != field[len(field) - len(carried) :]:
            raise ValueError("the frame's length field does not match its length")
        wire[at:header] = field
        return bytes(wire)

    def _encode_varint(self, frame: bytes) -> bytes:
        codec = self._codec
        value = len(frame) - codec.length_adjustment
        if value < 0 or value >= 1 << 64:
            raise ValueError(f"length {value} does not fit an unsigned varint")
        field = bytearray()
        while True:
            low = value & 0x7F
            value >>= 7
            if value:
                field.append(low | 0x80)
            else:
                field.append(low)
                break
        total = codec.length_field_offset + len(field) + len(frame)
        if total > codec.max_frame_length:
            raise ValueError(f"frame of {total} bytes is longer than max_frame_length")
        return bytes(codec.length_field_offset) + bytes(field) + frame
