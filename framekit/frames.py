"""Frame codecs as readers and writers of messages: lines, length-prefixed frames, ...

A :class:`FrameReader` decodes frames from any framekit reader (a root or a layer) with a
frame codec. It works on the reader's buffer in place: a decode call takes every complete
frame the buffer holds (one call per batch, not one coroutine per frame), and bytes of an
incomplete frame stay in the source. Frames handed out one at a time are consumed one at a
time, so a protocol can stop framing after any frame (SMTP ``DATA``, ``STARTTLS``, raw mode
after a line protocol, a payload after a text header), read on with the reader's own API,
losing nothing, and frame again, with this reader or a new one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Iterable
from typing import Any, Generic, Protocol, TypeVar

from framekit.codecs._base import FrameCodec, FrameDecoder, FrameEncoder
from framekit.errors import FramingError, TruncatedError
from framekit.reader import StreamReader

__all__ = ["FrameReader", "FrameWriter"]

T = TypeVar("T")


class FrameReader(Generic[T]):
    """Reads the frames ``codec`` decodes from ``source``. Made by ``source.frames(codec)``.

    ``await frames.read()`` returns the next frame, or None at the end of the stream (the
    source's EOF, after the codec's last frame); ``async for frame in frames`` iterates until
    then. ``await frames.read_batch()`` returns every frame the buffer already holds (waiting
    for at least one), ``[]`` at the end. Codec errors are raised by the read that meets them;
    a frame over its maximum is reported once and skipped, and the next read returns the next
    frame. Error offsets count in the source's stream, from its first byte. Reads are
    cancel-safe: a cancelled read consumed nothing.
    """

    __slots__ = ("_base", "_decoder", "_done", "_frames", "_head", "_sizes", "_source", "_tail")

    def __init__(self, source: StreamReader, codec: FrameCodec[T]) -> None:
        self._source = source
        self._decoder: FrameDecoder[T] = codec.decoder()
        buffer = source._buffer
        self._base = buffer.head
        # Frames decoded but not handed out, with the source bytes each one spans; their
        # bytes are consumed from the source as they are handed out.
        self._frames: deque[T] = deque()
        self._sizes: deque[int] = deque()
        # Bytes the decoder consumed after the last pending frame (a skipped partial).
        self._tail = 0
        # Where this reader left the source's head, to notice reads made around it.
        self._head = (buffer.head, buffer.unreads)
        self._done = False

    @property
    def source(self) -> StreamReader:
        """The reader frames are decoded from."""
        return self._source

    @property
    def decoder(self) -> FrameDecoder[T]:
        """This stream's decoder (for codec-specific counters such as skipped frames)."""
        return self._decoder

    def at_eof(self) -> bool:
        """True once the end of the stream was returned by a read."""
        return self._done

    def __aiter__(self) -> FrameReader[T]:
        return self

    async def __anext__(self) -> T:
        frame = await self.read()
        if frame is None:
            raise StopAsyncIteration
        return frame

    async def read(self) -> T | None:
        """Return the next frame; None at the end of the stream.

        Waits until a whole frame is buffered. Raises the codec's errors (a frame too long is
        raised once and skipped), TruncatedError if the stream ends inside a frame the codec
        cannot deliver, and the source's exception.
        """
        if self._frames and self._head_unchanged():
            return self._hand_out()
        while True:
            self._resync()
            if self._frames:
                return self._hand_out()
            if self._done:
                return None
            if not self._decode(with_ends=True):
                await self._wait()

    async def read_batch(self) -> list[T]:
        """Return every frame decodable now, waiting for at least one; ``[]`` at the end.

        Raises as ``read()`` does; frames before an error are returned first.
        """
        while True:
            self._resync()
            if self._frames:
                batch = list(self._frames)
                self._consume(sum(self._sizes) + self._tail)
                self._frames.clear()
                self._sizes.clear()
                self._tail = 0
                return batch
            if self._done:
                return []
            batch = []
            if self._decode(with_ends=False, batch=batch):
                if batch:
                    return batch
            else:
                await self._wait()

    # -- internals ---------------------------------------------------------------------------

    def _head_unchanged(self) -> bool:
        buffer = self._source._buffer
        return self._head == (buffer.head, buffer.unreads)

    def _resync(self) -> None:
        """Forget pending frames and search state if someone read around this reader."""
        if not self._head_unchanged():
            self._frames.clear()
            self._sizes.clear()
            self._tail = 0
            self._decoder.reset_search()
            buffer = self._source._buffer
            self._head = (buffer.head, buffer.unreads)

    def _hand_out(self) -> T:
        frame = self._frames.popleft()
        size = self._sizes.popleft()
        if not self._frames:
            size += self._tail
            self._tail = 0
        self._consume(size)
        return frame

    def _consume(self, n: int) -> None:
        if n:
            source = self._source
            source._buffer.drop(n)
            source._after_consume()
        buffer = self._source._buffer
        self._head = (buffer.head, buffer.unreads)

    def _decode(self, *, with_ends: bool, batch: list[T] | None = None) -> bool:
        """Run the decoder once over the source's buffer. True if it made progress.

        With ``with_ends``, frames become pending and are consumed as they are handed out;
        otherwise they go to ``batch`` and their bytes are consumed at once.
        """
        source = self._source
        if source._exception is not None:
            raise source._exception
        eof = source.is_eof()
        frames: list[T] = [] if batch is None else batch
        ends: list[int] | None = [] if with_ends else None
        decoder = self._decoder
        try:
            with source._buffer.view() as view:
                if eof:
                    consumed = decoder.decode_eof(view, frames, ends)
                else:
                    consumed = decoder.decode(view, frames, ends)
        except FramingError as error:
            if error.offset is not None:
                error.offset += self._base
            if eof and isinstance(error, TruncatedError):
                self._done = True
            raise
        if ends is not None and frames:
            previous = 0
            for end in ends:
                self._sizes.append(end - previous)
                previous = end
            self._frames.extend(frames)
            self._tail = consumed - previous
            return True
        self._consume(consumed)
        if frames or consumed:
            return True
        if eof:
            self._done = True
            return True
        return False

    async def _wait(self) -> None:
        source = self._source
        await source._fill("FrameReader.read", wanted=len(source._buffer) + 1)
        if source._exception is not None:
            raise source._exception


class SupportsWrite(Protocol):
    """What a frame writer writes to: framekit's or asyncio's ``StreamWriter``."""

    def write(self, data: bytes) -> Any:
        """Queue ``data`` for sending."""

    def drain(self) -> Awaitable[Any]:
        """Wait until it is appropriate to write more."""


class FrameWriter(Generic[T]):
    """Encodes frames with ``codec`` and writes them to ``writer``.

    ``writer`` is anything with ``write(bytes)`` and an awaitable ``drain()``: framekit's or
    asyncio's ``StreamWriter``.
    """

    __slots__ = ("_encoder", "_writer")

    def __init__(self, writer: SupportsWrite, codec: FrameCodec[T]) -> None:
        self._writer = writer
        self._encoder: FrameEncoder[T] = codec.encoder()

    def encode(self, frame: T) -> bytes:
        """The wire bytes of ``frame`` (raises the codec's error for a frame it cannot encode)."""
        return self._encoder.encode(frame)

    def write(self, frame: T) -> None:
        """Encode ``frame`` and queue it for sending (does not wait: ``drain`` does)."""
        self._writer.write(self._encoder.encode(frame))

    def write_many(self, frames: Iterable[T]) -> None:
        """Encode ``frames`` and queue them in one write. Nothing is written if one fails."""
        encode = self._encoder.encode
        self._writer.write(b"".join([encode(frame) for frame in frames]))

    async def drain(self) -> None:
        """Wait until the writer's buffer is below its limit (the writer's own ``drain``)."""
        await self._writer.drain()
