"""The decoder contract, and the reference drivers that run codecs over bytes.

A codec is an immutable configuration that makes a fresh decoder and encoder per stream.
Decoders are sans-IO. Two drivers run them (:mod:`framekit._driver`): ``FrameDriver``, behind
every frame reader, and ``ByteDriver``, behind every layer and byte stage. The drivers own
waiting, budgets, error offsets in the source's stream, reads around the decoder and the
source's end; a decoder keeps these rules (``docs/writing-a-codec.md`` explains each, and
:mod:`framekit.testing` checks each, by name):

1. **Given** a read-only ``memoryview`` of the source's buffered bytes (those the last call
   left, then new ones), ``decode`` consumes a prefix and returns its length. A frame decoder
   (``decode(data, frames, ends)``) appends every complete frame to ``frames`` and, when
   ``ends`` is a list, the offset just past each frame's bytes to ``ends``; a byte decoder
   (``decode(data, out, budget)``) writes at most ``budget`` bytes to ``out`` (an
   :class:`OutputSink`). Bytes not consumed stay in the source.
2. **No view of** ``data`` outlives the call (what it keeps, it copies).
3. **Only** :class:`~framekit.errors.FramingError` **escapes**, its offset counted from the
   decoder's first byte. A call that raises consumed nothing; output found before the bad
   spot is returned first, and the error raised by the next call.
4. ``needs_input`` (every decoder has one; :class:`BaseFrameDecoder` gives False) is True
   only when a second call with the bytes left, and nothing new, would do nothing.
5. **At EOF** the driver calls ``decode_eof`` instead, which finishes or raises
   TruncatedError (``decode`` never does). A frame decoder's ``decode_eof`` returning 0
   with no frame is the end; a byte decoder is finished when ``done``, and consumes nothing
   after its end.
6. **A frame decoder** skips a frame over its maximum whole after reporting it: what is left
   of it, ``discard(data, eof)`` consumes (the driver hands that call to the source, so
   whoever reads next reads past the frame). ``reset_search()`` forgets how far a search got.
7. **A byte decoder may** say how many of its next input bytes ``decode`` would write as they
   are with nothing else happening (``verbatim``: the rest of an HTTP chunk's data but its
   last byte; 0 if none) and take that many or fewer passed on without a call
   (``skip_verbatim(n)``, leaving it as ``decode`` would, ``needs_input`` True). A layer
   then hands on the very bytes it was fed. Optional: without both, decode is always called.

Encoders: ``FrameEncoder.encode(frame) -> bytes``; ``ByteEncoder.feed(data) -> bytes`` and
``finish() -> bytes``. Decoding what an encoder wrote gives back its input, for any split.
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
    """A stateful bytes-to-bytes decoder (one per stream): the module docstring's rules."""

    @property
    def done(self) -> bool:
        """True once the encoding has ended (rule 5)."""

    @property
    def needs_input(self) -> bool:
        """True only if a second call with the bytes left would do nothing (rule 4)."""

    def decode(self, data: memoryview, out: OutputSink, budget: int) -> int:
        """Write at most ``budget`` decoded bytes to ``out``; return the bytes of ``data``
        consumed (rule 1). Raises MalformedError or LimitExceededError on bad input."""

    def decode_eof(self, data: memoryview, out: OutputSink, budget: int) -> int:
        """``decode`` when no input follows ``data``; raises TruncatedError if the encoding
        cannot end (rule 5)."""


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
    """A stateful bytes-to-frames decoder (one per stream): the module docstring's rules."""

    @property
    def needs_input(self) -> bool:
        """True only if a second call with the bytes left would do nothing (rule 4)."""

    def decode(self, data: memoryview, frames: list[T], ends: list[int] | None = None) -> int:
        """Append every complete frame in ``data`` to ``frames`` (and their ends to ``ends``)
        and return the bytes consumed (rule 1). Raises MalformedError or LimitExceededError
        on bad input."""

    def decode_eof(self, data: memoryview, frames: list[T], ends: list[int] | None = None) -> int:
        """``decode`` when no input follows ``data``: the last frames, or TruncatedError
        (rule 5)."""

    def reset_search(self) -> None:
        """Forget how far the last search got: ``data`` may have changed at its head."""

    def discard(self, data: memoryview, eof: bool) -> tuple[int, bool]:
        """Consume what ``data`` holds of a frame this decoder rejected (rule 6); return
        ``(consumed, over)``. Never raises; ``(0, True)`` when nothing is being rejected."""


class BaseFrameDecoder(ABC, Generic[T]):
    """An optional base for a frame decoder: ``needs_input`` False, and ``reset_search`` and
    ``discard`` that do nothing.

    Subclasses implement ``decode`` and ``decode_eof``. The defaults suit a decoder that
    promises nothing about a second call, remembers nothing about bytes it did not consume
    and has no frame to skip after the call that rejected it. A subclass may set
    ``needs_input`` per call (an attribute or a property); one with frames over a maximum,
    skipped whole, overrides ``discard``.
    """

    __slots__ = ()

    #: Promises nothing: the driver decodes again.
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
