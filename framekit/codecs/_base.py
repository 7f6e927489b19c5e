"""The contract every codec keeps, and the reference drivers that run codecs over bytes.

The guide to writing a codec of your own is ``docs/writing-a-codec.md``.

A codec is an immutable configuration (an attrs frozen class with validated keyword options)
that makes fresh stateful decoders and encoders, one per stream. Decoders are sans-IO: no
asyncio, no sockets, no readers. They work on the bytes their source has buffered:

**Byte decoders** (chunked, limited, gzip, ...) turn bytes into bytes::

    consumed = decoder.decode(data, out, budget)

``data`` is a read-only ``memoryview`` of the source's buffered bytes, starting where the last
call left off. The decoder consumes a prefix of it, writes at most ``budget`` decoded bytes to
``out`` (an :class:`OutputSink`), and returns how many bytes of ``data`` it consumed. Bytes it
did not consume stay in the source untouched, so leftovers after the codec's end (a pipelined
message) cost nothing. A call that neither consumes nor writes means "need more input". A
decoder may be called with empty ``data`` (it may hold output of its own, such as a
decompressor's pending bytes). When the encoding ends (last chunk and trailers, Content-Length
reached, end of the compressed stream) the decoder sets ``done``; it consumes nothing after
that. At the source's EOF the driver calls ``decode_eof(data, out, budget)`` instead, with
whatever is left, until ``done``: each call either makes progress, finishes, or raises
:class:`~framekit.errors.TruncatedError` (a truncated body is never reported as complete).

**Frame decoders** (lines, length-prefixed, ...) turn bytes into frames::

    consumed = decoder.decode(data, frames, ends)

They append every complete frame in ``data`` to the list ``frames`` (a batch per call) and
return how many bytes they consumed; bytes of an incomplete frame stay in the source. Every
frame has bytes (a call that appends frames consumes), and no decoder keeps a view of
``data`` once its call returned (what it keeps, it copies: ``data[a:b].tobytes()``): the
source's buffer changes under it.

``ends`` is None (the fast batch path) or a list. When it is a list, the decoder appends one
offset per frame it appends, in the same order: the offset in ``data`` just past that frame's
bytes (its delimiter, header or line ending included). Within one call the ends strictly
increase from past 0 and the last is at most ``consumed``. Bytes a decoder skipped before a
frame (an over-long frame it dropped, after raising or silently) count as that frame's own, so
frame ``i`` spans ``data[ends[i - 1]:ends[i]]`` (from 0 for the first); bytes consumed after
the last end (an over-long frame being skipped, not yet over) belong to whatever frame comes
next. Passing ``ends`` changes nothing else: the same frames and the same errors in the same
order. With the ends, a driver that hands out frames one at a time consumes them one at a time,
so a protocol that stops framing after any frame finds every later byte still in the source.
``decode_eof(data, frames, ends)`` takes ``ends`` the same way.

A decoder that found no complete frame may remember how far it searched, so a long frame fed
one byte at a time costs O(n). That memory is only right while the driver passes the bytes of
the previous call, less what was consumed, plus new bytes at the end. When a driver cannot
promise that (someone else read from or unread into the source between two calls), it either
calls ``reset_search()`` first, or throws the decoder away and starts over at the source's head
with a fresh one from the codec. framekit's one frame driver (:mod:`framekit._driver`, behind
the async and the blocking frame readers) does the first when the decoder had handed out all
it decoded and keeps no error (its ``needs_input`` hint), and the second otherwise, which also
drops what the old decoder knew about bytes it had consumed (an error found after the last
frame handed out, its offset count): a decoder must not count on living as long as the
stream. At EOF the driver calls ``decode_eof`` until it returns
0 with no frame: it delivers the remaining frames, a final unterminated frame where the codec
allows it, or raises ``TruncatedError`` (which only ``decode_eof`` raises). Returning 0 with no
frame is the end: no bytes are left (they would vanish unreported), and a call after it returns
0 again. :mod:`framekit.testing` checks a codec against these rules, naming the one it breaks.

**Byte decoders have no** ``reset_search``: they keep no promise about bytes they have not
consumed except one, that the next call starts with them. A chunked decoder remembers how far
it searched for the end of a size or trailer line, and every byte decoder counts its offsets
from the bytes it consumed. So a source must not be read from, or have bytes unread into it,
by anyone but its layer from the layer's first decode until its decoder is done: the layer
does not notice (unlike a FrameReader), its decoder takes unread bytes as the next bytes of the
encoding and never sees bytes taken around it, and ``total_raw_bytes`` and error offsets then
no longer match the source's stream. Once the decoder is done (or failed) the layer never
touches its source again, and the source is free for the next message. ``unread_data`` on the layer
itself is always fine: it puts back decoded bytes, which no decoder sees again.

``needs_input`` (required: :class:`BaseFrameDecoder` gives False). Every decoder has a
boolean ``needs_input``, read by drivers after a ``decode`` call that returned normally; a
driver refuses a decoder without it (:class:`~framekit.errors.CodecContractError`). True means
the call stopped only because its input ran out, so a second call with the bytes it left (and
nothing new) would consume nothing, produce nothing, raise nothing and not finish. A driver
may then skip decoding until new input arrives or the source ends (a frame reader after
handing out the last frame of a batch; a layer after a step that took everything). False
promises nothing: the driver calls again. A decoder that stopped at its
budget, still holds output (a decompressor), or has an error to raise on the next call (see
below) says False.

**Skipping survives the reader.** A frame reader that gets a recoverable error (or sees a
decoder consume bytes past its last frame: a frame being skipped) hands the decoder's
``discard`` to its source (``StreamReader.begin_skip``): every later read of the source, by
any reader, first lets it drop the rest of the rejected frame.

**Errors and what they consume.** When a decoder raises, the driver treats the call as having
consumed nothing. A decoder that meets bad input after it already produced frames or output in
the same call returns those first (consuming up to the bad spot) and raises on the next call.
Recoverable errors (a frame over its maximum) leave the decoder in a state that skips the
offending frame whole on later calls, so the stream stays in sync; offsets in errors count from
the first byte the decoder ever saw.

**Encoders**: ``FrameEncoder.encode(frame) -> bytes``; ``ByteEncoder.feed(data) -> bytes`` and
``ByteEncoder.finish() -> bytes``. For every codec, decoding what the encoder wrote gives back
the input, however the encoded bytes are split into feeds.
"""

from __future__ import annotations

import contextlib
import inspect
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from types import FrameType
from typing import TYPE_CHECKING, Generic, Protocol, TypeAlias, TypeVar, runtime_checkable

from framekit._buffer import Buffer
from framekit.errors import FramingError, TruncatedError

if TYPE_CHECKING:
    from framekit.sync import SyncFrameReader

__all__ = [
    "DEFAULT_BUDGET",
    "BaseFrameDecoder",
    "ByteCodec",
    "ByteDecoder",
    "ByteEncoder",
    "FrameCodec",
    "FrameDecoder",
    "FrameEncoder",
    "OutputSink",
    "decode_byte_pieces",
    "decode_frame_pieces",
    "drop_frame_locals",
    "iter_frame_pieces",
]

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)

Bytes: TypeAlias = bytes | bytearray | memoryview

#: Output budget per decode step used by the synchronous drivers (the layers use their limit).
DEFAULT_BUDGET = 64 * 1024


class OutputSink(Protocol):
    """Where a byte decoder writes its output."""

    def write(self, data: Bytes) -> None:
        """Append decoded bytes."""

    def mark_chunk_end(self) -> None:
        """Record that an HTTP chunk's data ends at the current end of the output."""

    def write_marked(self, data: bytes, marks: list[int]) -> None:
        """Append ``data`` with an HTTP chunk end at each offset in ``marks`` (increasing,
        from 0 to ``len(data)``): what ``write`` and ``mark_chunk_end`` calls in turn would
        record. ``data`` is a fresh ``bytes`` object, which the sink may keep."""


@runtime_checkable
class ByteDecoder(Protocol):
    """A stateful bytes-to-bytes decoder (one per stream). See the module docstring."""

    @property
    def done(self) -> bool:
        """True once the encoding has ended; nothing after its end is consumed."""

    @property
    def needs_input(self) -> bool:
        """True only if the last ``decode`` stopped because its input ran out (see the
        module docstring); False promises nothing."""

    def decode(self, data: memoryview, out: OutputSink, budget: int) -> int:
        """Decode from ``data``, writing at most ``budget`` bytes to ``out``; return bytes
        consumed (0 with no output: more input is needed). Raises MalformedError or
        LimitExceededError on bad input."""

    def decode_eof(self, data: memoryview, out: OutputSink, budget: int) -> int:
        """Like ``decode``, knowing no input follows ``data``: each call makes progress or
        finishes (``done``), or raises TruncatedError."""


class ByteEncoder(Protocol):
    """A stateful bytes-to-bytes encoder."""

    def feed(self, data: Bytes) -> bytes:
        """Encode ``data``; return the encoded bytes ready to send (possibly empty)."""

    def finish(self) -> bytes:
        """End the encoding; return the final bytes."""


class ByteCodec(Protocol):
    """An immutable configuration making byte decoders and encoders."""

    def decoder(self) -> ByteDecoder:
        """A fresh decoder for one stream."""

    def encoder(self) -> ByteEncoder:
        """A fresh encoder for one stream."""


class FrameDecoder(Protocol[T]):
    """A stateful bytes-to-frames decoder (one per stream). See the module docstring."""

    @property
    def needs_input(self) -> bool:
        """True only if the last ``decode`` stopped because its input ran out (see the
        module docstring); False promises nothing."""

    def decode(self, data: memoryview, frames: list[T], ends: list[int] | None = None) -> int:
        """Append every complete frame in ``data`` to ``frames`` and return bytes consumed.

        With ``ends`` (a list), also append for each frame the offset in ``data`` just past
        its bytes (see the module docstring). Raises the codec's errors (MalformedError,
        LimitExceededError); frames found before the bad spot are returned first.
        """

    def decode_eof(self, data: memoryview, frames: list[T], ends: list[int] | None = None) -> int:
        """Decode what remains at EOF: the remaining frames and a final unterminated frame
        where the codec allows it (their ends to ``ends``, as ``decode``), or raise
        TruncatedError."""

    def reset_search(self) -> None:
        """Forget how far the last search got: ``data`` may have changed at its head.

        A driver may instead replace the decoder with a fresh one (FrameReader does).
        """

    def discard(self, data: memoryview, eof: bool) -> tuple[int, bool]:
        """Consume the rest of a frame this decoder rejected; return ``(consumed, over)``.

        Called by a driver after ``decode`` raised a recoverable error (a frame over its
        maximum), or consumed bytes past its last frame, with the bytes that follow: the
        decoder consumes those that belong to the rejected frame and says whether that frame
        is over (with ``eof``, it is). Never raises: an error found on the way (a malformed
        length) is raised by the next ``decode``. With nothing being rejected, ``(0, True)``.
        The driver hands this call to the source, so whoever reads the source next gets the
        bytes after the rejected frame.
        """


class BaseFrameDecoder(ABC, Generic[T]):
    """An optional base for a frame decoder: ``needs_input`` False, and ``reset_search`` and
    ``discard`` that do nothing.

    Subclasses implement ``decode`` and ``decode_eof``. The defaults are right for a decoder
    that promises nothing about a second call (``needs_input`` False: the driver calls again),
    remembers nothing about bytes it did not consume (``reset_search`` has nothing to forget)
    and never consumes bytes of a frame it rejected or is skipping after the call that
    rejected it (``discard`` has nothing to drop, and says so: ``(0, True)``). A subclass may
    set ``needs_input`` per call (an attribute or a property), and a decoder with recoverable
    errors (a frame over its maximum, skipped whole) overrides ``discard``.
    """

    __slots__ = ()

    #: False: promises nothing, so the driver decodes again (see the module docstring).
    needs_input: bool = False

    @abstractmethod
    def decode(self, data: memoryview, frames: list[T], ends: list[int] | None = None) -> int:
        """See :meth:`FrameDecoder.decode`."""

    @abstractmethod
    def decode_eof(self, data: memoryview, frames: list[T], ends: list[int] | None = None) -> int:
        """See :meth:`FrameDecoder.decode_eof`."""

    def reset_search(self) -> None:
        """Nothing to forget: every call searches its bytes from the first."""

    def discard(self, data: memoryview, eof: bool) -> tuple[int, bool]:
        """Nothing is being rejected: ``(0, True)``."""
        return 0, True


class FrameEncoder(Protocol[T_contra]):
    """A frame encoder."""

    def encode(self, frame: T_contra) -> bytes:
        """The wire bytes of one frame."""


class FrameCodec(Protocol[T]):
    """An immutable configuration making frame decoders and encoders."""

    def decoder(self) -> FrameDecoder[T]:
        """A fresh decoder for one stream."""

    def encoder(self) -> FrameEncoder[T]:
        """A fresh encoder for one stream."""


# -- errors a driver keeps ------------------------------------------------------------------

# Frames that can be suspended: clearing one closes its generator or coroutine.
_SUSPENDABLE = (
    inspect.CO_GENERATOR
    | inspect.CO_COROUTINE
    | inspect.CO_ASYNC_GENERATOR
    | inspect.CO_ITERABLE_COROUTINE
)


def drop_frame_locals(error: BaseException) -> None:
    """Clear the local variables of the finished frames ``error`` went through, before a
    driver keeps it; likewise for the errors chained to it that were caught in those frames
    (a library's error a decoder turned into a framekit one).

    A decoder that raised may have had slices of its input view in its frames, and a stored
    error keeps its traceback's frames, and so those slices, alive: the source's buffer, when
    it is a ``bytearray``, could then never grow or shrink again (``BufferError``). Frames
    still running (the driver's own) and generator or coroutine frames are left as they are,
    and so is an error the caller was handling when it called the driver (it is chained as
    the context, but was not caught in the decoder). The traceback itself (file, line,
    function) is unchanged.
    """
    walked: set[FrameType] = set()
    seen: set[int] = set()
    errors: list[BaseException] = [error]
    while errors:
        current = errors.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        tb = current.__traceback__
        while tb is not None:
            frame = tb.tb_frame
            walked.add(frame)
            if not frame.f_code.co_flags & _SUSPENDABLE:
                with contextlib.suppress(RuntimeError):  # still running
                    frame.clear()
            tb = tb.tb_next
        for chained in (current.__cause__, current.__context__):
            if chained is None:
                continue
            chained_tb = chained.__traceback__
            if chained_tb is not None and chained_tb.tb_frame in walked:
                errors.append(chained)


# -- reference drivers ---------------------------------------------------------------------


def decode_byte_pieces(
    decoder: ByteDecoder,
    pieces: Iterable[Bytes],
    *,
    budget: int = DEFAULT_BUDGET,
    out: Buffer | None = None,
) -> tuple[Buffer, bytes]:
    """Run a byte decoder over ``pieces`` (fed one at a time), then EOF if it did not end.

    Returns ``(output, leftover)``: the output buffer (with chunk marks) and the input bytes
    after the decoder's end. Raises what the decoder raises (TruncatedError if the input ends
    before the encoding does). Driven by :class:`~framekit._driver.ByteDriver`, the one byte
    driver, with ``budget`` per step.
    """
    from framekit._driver import ByteDriver  # framekit._driver imports this module

    if out is None:
        out = Buffer()
    source = Buffer()
    driver = ByteDriver(decoder)
    iterator = iter(pieces)
    for piece in iterator:
        source.write(piece)
        while driver.pump(source, out, budget, False, True) and not decoder.done:
            pass
        if decoder.done:
            rest = b"".join(bytes(p) for p in iterator)
            return out, source.take_all() + rest
    while not decoder.done:
        driver.pump(source, out, budget, True, True)
    return out, source.take_all()


def iter_frame_pieces(decoder: FrameDecoder[T], pieces: Iterable[Bytes]) -> Iterator[T]:
    """Yield the frames a frame decoder finds in ``pieces``, then those at EOF.

    Driven by :class:`~framekit.sync.SyncFrameReader` (the one frame driver). Raises the first
    error the decoder raises (after yielding every frame before it).
    """
    yield from _frames_of(decoder, pieces)


def decode_frame_pieces(
    decoder: FrameDecoder[T], pieces: Iterable[Bytes]
) -> list[T | FramingError]:
    """Decode ``pieces`` to a list of frames, with each recoverable error in its place.

    A ``FramingError`` the decoder raises is put in the list and decoding goes on (the bad
    frame is skipped), so any two splits of the same input can be compared whole. A
    TruncatedError at EOF ends the list. An error a decoder cannot recover from surfaces as the
    same error raised again: when the same error class at the same offset is raised twice in a
    row, the list ends with it (once). Driven by :class:`~framekit.sync.SyncFrameReader`.
    """
    frames = _frames_of(decoder, pieces)
    results: list[T | FramingError] = []
    last: tuple[type[FramingError], int | None] | None = None
    while True:
        try:
            batch = frames.read_batch()
        except FramingError as error:
            key = (type(error), error.offset)
            if key == last:
                return results
            last = key
            results.append(error)
            if isinstance(error, TruncatedError):
                return results
            continue
        if not batch:
            return results
        results.extend(batch)
        last = None


class _Given(Generic[T]):
    """A codec whose decoder is one already made (the reference drivers take a decoder)."""

    def __init__(self, decoder: FrameDecoder[T]) -> None:
        self._decoder = decoder

    def decoder(self) -> FrameDecoder[T]:
        return self._decoder

    def encoder(self) -> FrameEncoder[T]:
        raise NotImplementedError


def _frames_of(decoder: FrameDecoder[T], pieces: Iterable[Bytes]) -> SyncFrameReader[T]:
    from framekit.sync import SyncReader  # framekit.sync imports this module

    return SyncReader(pieces).frames(_Given(decoder))
