"""Frame codecs as readers and writers of messages: lines, length-prefixed frames, ...

A :class:`FrameReader` decodes frames from any framekit reader (a root or a layer) with a
frame codec. It works on the reader's buffer in place: a decode call takes every complete
frame the buffer holds (one call per batch, not one coroutine per frame), and bytes of an
incomplete frame stay in the source. Frames handed out one at a time are consumed one at a
time, so a protocol can stop framing after any frame (SMTP ``DATA``, ``STARTTLS``, raw mode
after a line protocol, a payload after a text header), read on with the reader's own API,
losing nothing, and frame again, with this reader or a new one. Every decision is the one
frame driver's (:class:`~framekit._driver.FrameDriver`, shared with the blocking
:class:`~framekit.sync.SyncFrameReader`); this module adds the waiting and the fast paths,
through the reader's port (:mod:`framekit._port`) and nothing private of it.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Iterable
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from framekit._driver import FrameDriver
from framekit.codecs._base import FrameCodec, FrameEncoder
from framekit.errors import EndOfStream

if TYPE_CHECKING:
    from framekit.reader import StreamReader

__all__ = ["FrameReader", "FrameWriter"]

T = TypeVar("T")


class FrameReader(FrameDriver[T]):
    """Reads the frames ``codec`` decodes from ``source``. Made by ``source.frames(codec)``.

    ``await frames.read()`` returns the next frame and raises
    :class:`~framekit.errors.EndOfStream` at the end of the stream (the source's EOF, after
    the codec's last frame): a frame may be None (a RESP null) and still be told from the end.
    ``async for frame in frames`` iterates until the end. ``await frames.read_batch()``
    returns every frame the buffer already holds (waiting for at least one), ``[]`` at the
    end. Codec errors are raised by the read that meets them; a frame over its maximum is
    reported once and skipped, and the next read, by this or any other reader of the source,
    returns what follows it. Error offsets count in the source's stream, from its first byte.
    Reads are cancel-safe: a cancelled read consumed no frame. (Bytes of an over-long frame
    being skipped are dropped as they arrive, so memory stays bounded, whether or not the read
    that drops them is then cancelled: they belong to a frame already reported or skipped.)

    When the source is read from (or unread into) around this reader, frames decoded but not
    yet handed out stay valid if the read ended where one of them ends (a header line, then
    ``readexactly`` of a payload that ends in a line ending); otherwise they are forgotten
    and decoding starts again at the source's head with a fresh decoder, looking only a
    little ahead at first, so frames alternating with raw reads cost linear time either way.
    """

    __slots__ = ("_plain_wait",)

    def __init__(self, source: StreamReader, codec: FrameCodec[T]) -> None:
        super().__init__(source, codec)
        self._source: StreamReader = source
        # Imported here: framekit.reader imports this module.
        from framekit.reader import StreamReader

        # The source waits as the core reader does (a root: it does not override
        # ``wait_for_input``): ``read_batch`` awaits the future of ``begin_wait`` itself, two
        # coroutine frames fewer per piece waited for (~0.3 us of a 1460-byte piece's ~8).
        self._plain_wait = type(source).wait_for_input is StreamReader.wait_for_input

    @property
    def source(self) -> StreamReader:
        """The reader frames are decoded from."""
        return self._source

    def __aiter__(self) -> FrameReader[T]:
        return self

    async def __anext__(self) -> T:
        try:
            return await self.read()
        except EndOfStream:
            raise StopAsyncIteration from None

    async def read(self) -> T:
        """Return the next frame.

        Waits until a whole frame is buffered. Raises EndOfStream at the end of the stream
        (and on every later call), the codec's errors (a frame too long is raised once and
        skipped), TruncatedError if the stream ends inside a frame the codec cannot deliver,
        and the source's exception (which wins over frames already decoded).
        """
        frames = self._frames
        while True:
            if frames:
                # The fast path, one frame of a decoded batch, inlined (it runs once per
                # frame): the buffer is as this reader left it (the same bytes object and
                # offset: nobody read, unread or fed around it), so handing out a frame is
                # moving the offset to its end. Comparing the head position and unread count instead
                # costs ~45 ns a frame more, a fifth of a frame's time (LF lines in 64 KiB
                # pieces). Bytes cannot be written behind the pending frames' bytes without
                # replacing the bytes object (``Buffer.write`` and ``feed_data`` keep an
                # object only when the buffer is empty), and ``_anchor`` keeps the old one
                # alive, so its identity cannot be reused. ``set_exception`` empties the
                # buffer, so no frame is handed out after it. A decode below comes back here.
                buffer = self._buffer
                if buffer.data is self._anchor and (
                    buffer.pos == self._at or self._took_whole_frames(buffer.pos)
                ):
                    self._at = buffer.pos = self._origin + self._ends.popleft()
                    buffer.scanned = 0
                    if buffer.on_consume is not None:
                        buffer.on_consume()  # a paused source resumes its input
                    return frames.popleft()
                data = buffer.data
                if type(data) is bytearray and self._anchor is None:
                    # The same for a bytearray buffer, which a reader fallen behind its input
                    # gets (bytes fed behind a longer remainder are appended to one): nobody
                    # read or unread around this reader if the head is where it left it (with
                    # no anchor, ``_head`` says where), and a bytearray drops its first bytes
                    # in place: ~270 ns a frame, against ~680 on the general path below and
                    # ~150 from a bytes buffer. The last buffered frame goes the general way
                    # (it leaves the buffer empty: ``Buffer.drop``).
                    head = self._head
                    if buffer.produced - len(data) == head and buffer.unreads == self._unreads:
                        size = self._start + self._ends[0] - head
                        if size < len(data):
                            del data[:size]
                            self._head = head + size
                            self._ends.popleft()
                            buffer.scanned = 0
                            if buffer.on_consume is not None:
                                buffer.on_consume()
                            return frames.popleft()
            source = self._source
            if self._buffer.held:
                # The source's exception (which wins over frames decoded), or a skip.
                source.raise_if_failed()
                await source.finish_skip("FrameReader.read")
            self._resync()
            if frames:
                return self._hand_out()
            if self._done:
                raise EndOfStream("the frames ended: the stream is at its end")
            # No decode while the decoder needs more than the bytes it already saw.
            starved = self._starved == self._buffer.produced and self._can_wait()
            if starved or not self._decode(with_ends=True):
                # Not ``read_batch``'s inlined wait: each local and block it adds to this
                # coroutine is paid for once per frame (~5% of a RESP reply read one at a
                # time), the wait only once per piece.
                await self._wait("FrameReader.read")

    async def read_batch(self) -> list[T]:
        """Return every frame decodable now, waiting for at least one; ``[]`` at the end.

        Frames that ``read()`` decoded but did not hand out yet are returned on their own
        (bytes fed after them are decoded by the next call). Raises as ``read()`` does;
        frames before an error are returned first.
        """
        source = self._source
        buffer = self._buffer
        while True:
            if buffer.held:
                source.raise_if_failed()
                await source.finish_skip("FrameReader.read_batch")
            self._resync()
            if self._frames:
                return self._take_pending()
            if self._done:
                return []
            # No decode while the decoder needs more than the bytes it already saw (and the
            # source may bring more: ``_can_wait``, inlined).
            if self._starved != buffer.produced or buffer.ended or buffer.held:
                batch: list[T] | None = []
                if self._decode(with_ends=False, batch=batch):
                    if batch:
                        return batch
                    continue
            if self._plain_wait:
                # At least one byte more than buffered (``len(buffer)``, inlined).
                wanted = len(buffer.data) - buffer.pos + 1
                waiter = source.begin_wait("FrameReader.read_batch", wanted)
                try:
                    await waiter
                finally:
                    source.end_wait(waiter)
            else:
                await self._wait("FrameReader.read_batch")
            # Most often only bytes were fed: decoded here, with fewer checks (or None).
            batch = self._decode_fed()
            if batch:
                return batch

    # -- internals ---------------------------------------------------------------------------

    def _can_wait(self) -> bool:
        """True if the source may still bring bytes (no EOF, no exception): a wait ends."""
        buffer = self._buffer
        return not (buffer.ended or buffer.held)

    async def _wait(self, caller: str) -> None:
        # An exception set while it waits is raised here; one set otherwise, by the next
        # look at ``buffer.held``. (``read_batch`` inlines a root's wait: ``_plain_wait``.)
        await self._source.wait_for_input(caller, wanted=len(self._buffer) + 1)


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
        """Encode ``frames`` and queue them in one write. Nothing is written if one fails
        (and the encoder is left as it was: it may remember the last frame it encoded)."""
        encoder = self._encoder
        saved = copy.copy(encoder)
        try:
            data = b"".join([encoder.encode(frame) for frame in frames])
        except BaseException:
            self._encoder = saved
            raise
        self._writer.write(data)

    async def drain(self) -> None:
        """Wait until the writer's buffer is below its limit (the writer's own ``drain``)."""
        await self._writer.drain()
