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

import copy
from collections import deque
from collections.abc import Awaitable, Iterable
from typing import Any, Generic, Protocol, TypeVar

from framekit._buffer import Buffer
from framekit.codecs._base import FrameCodec, FrameDecoder, FrameEncoder, drop_frame_locals
from framekit.errors import CodecContractError, EndOfStream, FramingError, TruncatedError
from framekit.reader import StreamReader

__all__ = ["FrameReader", "FrameWriter"]

T = TypeVar("T")


class FrameReader(Generic[T]):
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

    __slots__ = (
        "_anchor",
        "_at",
        "_base",
        "_buffer",
        "_clean",
        "_codec",
        "_decoder",
        "_done",
        "_ends",
        "_frames",
        "_head",
        "_origin",
        "_produced",
        "_skipping",
        "_source",
        "_start",
        "_starved",
        "_tail",
        "_unreads",
        "_window",
    )

    def __init__(self, source: StreamReader, codec: FrameCodec[T]) -> None:
        self._source = source
        self._codec = codec
        self._decoder: FrameDecoder[T] = _frame_decoder(codec)
        buffer = self._buffer = source._buffer
        # The source's stream position of the decoder's first byte (to rebase error offsets).
        self._base = buffer.head
        # Frames decoded but not handed out, and where each one ends, counted from the first
        # byte of the batch they were decoded in: at ``_origin`` in the buffer's bytes object
        # (the fast path's count) and at ``_start`` in the stream. Their bytes are consumed
        # from the source as they are handed out.
        self._frames: deque[T] = deque()
        self._ends: deque[int] = deque()
        self._origin = 0
        self._start = 0
        # Bytes the decoder consumed after the last pending frame (skipped bytes, which count
        # as the next frame's): consumed before the next decode.
        self._tail = 0
        # Where this reader left the source's head, to notice reads made around it (while
        # ``_anchor`` is set, ``_mark``'s fields say it instead).
        self._head = buffer.head
        self._unreads = buffer.unreads
        # The buffer's state when this reader last touched it (see ``_mark``): while it is
        # unchanged, ``read()`` hands out the next frame without the full check.
        self._anchor: bytes | None = None
        self._at = 0
        self._produced = 0
        self._done = False
        # The source's ``produced`` when the decoder last said it needs more input (its
        # ``needs_input`` hint), or -1: until more bytes come, decoding again finds nothing.
        # Saves a decode call per wait: the one over the partial frame left after a batch.
        self._starved = -1
        # The skip this reader handed to the source (the rest of a rejected frame), until
        # this reader saw it end: if nobody read around it, the decoder goes on after it.
        self._skipping: _DecoderSkip | None = None
        # How many bytes a one-at-a-time decode looks at (None: all buffered). Set small when
        # frames decoded ahead were lost to a raw read, doubled by every decode: decoding far
        # ahead of a protocol that alternates frames and raw reads would be quadratic.
        self._window: int | None = None
        # The last decode took all it was given and keeps no error for the next call (its
        # ``needs_input`` hint): after reads around this reader it may go on from the new
        # head, its search forgotten (see ``_resync``).
        self._clean = False

    @property
    def source(self) -> StreamReader:
        """The reader frames are decoded from."""
        return self._source

    @property
    def decoder(self) -> FrameDecoder[T]:
        """This stream's decoder (for codec-specific counters such as skipped frames).

        A new one after the source was read around this reader (see the class docstring).
        """
        return self._decoder

    def at_eof(self) -> bool:
        """True once the end of the stream was reached by a read."""
        return self._done

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
                if buffer._data is self._anchor and (
                    buffer._pos == self._at or self._took_whole_frames(buffer._pos)
                ):
                    self._at = buffer._pos = self._origin + self._ends.popleft()
                    source = self._source
                    source._scanned = 0
                    if source._paused:
                        source._after_consume()
                    return frames.popleft()
                data = buffer._data
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
                            source = self._source
                            source._scanned = 0
                            if source._paused:
                                source._after_consume()
                            return frames.popleft()
            source = self._source
            if source._exception is not None:
                raise source._failure()
            if source._skip is not None:
                await source._finish_skip("FrameReader.read")
            self._resync()
            if frames:
                return self._hand_out()
            if self._done:
                raise EndOfStream("the frames ended: the stream is at its end")
            # No decode while the decoder needs more than the bytes it already saw.
            starved = self._starved == self._buffer.produced and self._can_wait()
            if starved or not self._decode(with_ends=True):
                await self._wait()

    async def read_batch(self) -> list[T]:
        """Return every frame decodable now, waiting for at least one; ``[]`` at the end.

        Frames that ``read()`` decoded but did not hand out yet are returned on their own
        (bytes fed after them are decoded by the next call). Raises as ``read()`` does;
        frames before an error are returned first.
        """
        source = self._source
        while True:
            if source._exception is not None:
                raise source._failure()
            if source._skip is not None:
                await source._finish_skip("FrameReader.read_batch")
            self._resync()
            if self._frames:
                batch = list(self._frames)
                self._consume(self._start + self._ends[-1] + self._tail - self._buffer.head)
                self._frames.clear()
                self._ends.clear()
                self._tail = 0
                return batch
            if self._done:
                return []
            if self._starved == self._buffer.produced and self._can_wait():
                await self._wait()
                continue
            batch = []
            if self._decode(with_ends=False, batch=batch):
                if batch:
                    return batch
            else:
                await self._wait()

    # -- internals ---------------------------------------------------------------------------

    def _resync(self) -> None:
        """Go on from the source's head if someone read around this reader."""
        buffer = self._buffer
        anchor = self._anchor
        # Where this reader left the head: with an anchor, the fast path moved it since.
        head = self._head if anchor is None else self._produced - len(anchor) + self._at
        now = buffer.head
        if now == head and buffer.unreads == self._unreads:
            return
        skip = self._skipping
        self._skipping = None
        if now > head and buffer.unreads == self._unreads:
            if skip is not None and skip.ended_at == now:
                # The source dropped the rest of the frame this reader's decoder rejected,
                # and nothing else: the decoder goes on after it.
                self._mark()
                return
            if skip is None and self._resume_at(now):
                return
            if skip is None and not self._frames and not self._tail and self._clean:
                # The decoder had handed out everything it decoded and waits for the rest of
                # a frame, with no error in store: the read took bytes it had only searched.
                # Its search starts again at the new head, and its offsets move with it.
                self._decoder.reset_search()
                self._base += now - head
                self._starved = -1
                self._mark()
                return
        if self._frames:
            # Frames decoded past the read around this reader are lost (``_resume_at`` left
            # only those): decode only a little ahead for a while (``_decode``), or a
            # protocol alternating frames and raw reads would pay for them again and again.
            self._window = _FIRST_WINDOW
        self._frames.clear()
        self._ends.clear()
        self._tail = 0
        self._done = False
        self._starved = -1
        self._decoder = self._codec.decoder()
        self._base = self._head = now
        self._unreads = buffer.unreads
        self._mark()

    def _took_whole_frames(self, pos: int) -> bool:
        """Whether a read around this reader, which moved the offset in the bytes object the
        pending frames are in to ``pos``, took whole frames and left some pending: a header
        line handed out, then ``readexactly`` of a payload ending in CRLF, as RESP's bulk
        strings. The frames it took are dropped; True if the next one can be handed out.

        In the same bytes object the offset only moves forward (see ``read``). A landing on
        the last pending frame, or anywhere else, is left to ``_resync``.
        """
        frames = self._frames
        ends = self._ends
        target = pos - self._origin
        while ends and ends[0] < target:
            ends.popleft()
            frames.popleft()
        if len(ends) < 2 or ends[0] != target:
            return False
        ends.popleft()
        frames.popleft()
        return True

    def _resume_at(self, now: int) -> bool:
        """Keep the decoder and the frames after stream position ``now`` if a frame ends
        there: a read around this reader took whole frames (and nothing else). True if so.

        Frames before ``now`` are dropped either way; the scan is paid for by them.
        """
        frames = self._frames
        ends = self._ends
        target = now - self._start
        while ends and ends[0] < target:
            ends.popleft()
            frames.popleft()
        if not ends or ends[0] != target:
            return False
        ends.popleft()
        frames.popleft()
        self._mark()
        return True

    def _hand_out(self) -> T:
        self._consume(self._start + self._ends.popleft() - self._buffer.head)
        return self._frames.popleft()

    def _consume(self, n: int) -> None:
        if n:
            self._buffer.drop(n)
            self._source._after_consume()
        self._mark()

    def _mark(self) -> None:
        """Remember where this reader left the source's buffer."""
        buffer = self._buffer
        self._head = buffer.head
        self._unreads = buffer.unreads
        data = buffer._data
        # Only an immutable bytes object tells by its identity that it was not changed.
        self._anchor = data if type(data) is bytes else None
        self._at = buffer._pos
        self._produced = buffer.produced
        # Pending frames' ends count from the batch's first byte, at stream position
        # ``_start``: where that byte is (or would be) in this bytes object. A feed may have
        # replaced the object the batch was decoded from.
        self._origin = buffer._pos - (self._head - self._start)

    def _hand_skip_to_source(self) -> None:
        """Let the source drop the rest of a frame the decoder rejected (or is skipping), so
        whoever reads the source next reads what follows it."""
        self._skipping = _DecoderSkip(self._decoder)
        self._source.begin_skip(self._skipping)
        self._mark()

    def _decode(self, *, with_ends: bool, batch: list[T] | None = None) -> bool:
        """Run the decoder once over the source's buffer. True if it made progress.

        With ``with_ends``, frames become pending and are consumed as they are handed out;
        otherwise they go to ``batch`` and their bytes are consumed at once.
        """
        source = self._source
        if self._tail:
            self._consume(self._tail)
            self._tail = 0
            self._hand_skip_to_source()
            return True
        eof = source.is_eof()
        frames: list[T] = [] if batch is None else batch
        ends: list[int] | None = [] if with_ends else None
        decoder = self._decoder
        buffer = self._buffer
        window = self._window if with_ends else None
        while True:
            # Look at ``bound`` bytes (None: all); never ``decode_eof`` on a part.
            bound = window if window is not None and window < len(buffer) else None
            try:
                with buffer.view() as view:
                    if bound is not None:
                        with view[:bound] as part:
                            consumed = decoder.decode(part, frames, ends)
                    elif eof:
                        consumed = decoder.decode_eof(view, frames, ends)
                    else:
                        consumed = decoder.decode(view, frames, ends)
            except FramingError as error:
                # The decoder may keep the error (to raise again): it must not keep a view
                # of the source's bytes alive with it.
                drop_frame_locals(error)
                if eof and isinstance(error, TruncatedError):
                    self._done = True
                else:
                    self._hand_skip_to_source()
                raise self._rebased(error) from None
            if bound is None or frames or consumed:
                break
            # The window held no whole frame: look further (the decoder resumes its search).
            window = self._window = 2 * bound
        whole = bound is None
        if window is not None:
            self._window = None if whole else 2 * window
        if ends is not None and len(ends) != len(frames):
            raise CodecContractError(
                f"{type(decoder).__name__}.decode() appended {len(frames)} frames and "
                f"{len(ends)} ends: given an ends list, a frame decoder appends one end per "
                "frame (the offset just past its bytes)"
            )
        self._clean = whole and not eof and bool(getattr(decoder, "needs_input", False))
        self._starved = buffer.produced if self._clean else -1
        if ends is not None and frames:
            self._start = buffer.head  # ``_mark`` below sets ``_origin`` from it
            self._ends.extend(ends)
            self._frames.extend(frames)
            self._tail = consumed - ends[-1]
            self._mark()
            return True
        self._consume(consumed)
        if consumed and not frames:
            # Bytes consumed for no frame belong to a frame being skipped: the source
            # finishes the skip, whoever reads it next.
            self._hand_skip_to_source()
            return True
        if frames or consumed:
            return True
        if eof:
            self._done = True
            return True
        return False

    def _rebased(self, error: FramingError) -> FramingError:
        """``error`` with its offset counted in the source's stream."""
        if error.offset is None or not self._base:
            return error.with_traceback(error.__traceback__)
        # A copy: the decoder may raise the same error again (a malformed length is
        # sticky), and its offset must not be rebased twice.
        rebased = copy.copy(error)
        rebased.offset = error.offset + self._base
        return rebased.with_traceback(error.__traceback__)

    def _can_wait(self) -> bool:
        """True if the source may still bring bytes (no EOF, no exception): a wait ends."""
        source = self._source
        return not source._eof and source._exception is None

    async def _wait(self) -> None:
        source = self._source
        await source._fill("FrameReader.read", wanted=len(self._buffer) + 1)
        if source._exception is not None:
            raise source._failure()


#: The first window of a one-at-a-time decode after frames decoded ahead were lost.
_FIRST_WINDOW = 256


class _DecoderSkip:
    """The rest of a frame a decoder rejected, dropped by the decoder's ``discard``."""

    __slots__ = ("decoder", "ended_at", "started_at")

    def __init__(self, decoder: FrameDecoder[Any]) -> None:
        self.decoder = decoder
        self.started_at = -1
        #: The stream position where the skip ended (-1 while it goes on).
        self.ended_at = -1

    def discard(self, buffer: Buffer, eof: bool) -> bool:
        if self.started_at < 0:
            self.started_at = buffer.head
        with buffer.view() as view:
            consumed, over = self.decoder.discard(view, eof)
        if consumed:
            buffer.drop(consumed)
        if over:
            self.ended_at = buffer.head
        return over


def _frame_decoder(codec: object) -> FrameDecoder[Any]:
    """``codec``'s decoder, checked to be a frame decoder (TypeError naming the mistake)."""
    make = getattr(codec, "decoder", None)
    if make is None:
        raise TypeError(
            f"{type(codec).__name__} is not a codec: a frame codec has a decoder() method"
        )
    decoder = make()
    if hasattr(decoder, "done") and not hasattr(decoder, "discard"):
        raise TypeError(
            f"{type(codec).__name__} is a byte codec (its decoder produces bytes): read it "
            "with reader.layer(codec), and frames from that layer with frames()"
        )
    missing = [name for name in ("decode", "decode_eof", "discard") if not hasattr(decoder, name)]
    if missing:
        raise TypeError(
            f"{type(decoder).__name__} is not a frame decoder: it lacks {', '.join(missing)} "
            "(see framekit.codecs.FrameDecoder)"
        )
    return decoder  # type: ignore[no-any-return]


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
