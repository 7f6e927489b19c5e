"""Byte codecs as layered readers: a reader whose bytes are its source's bytes, decoded.

A layer is a :class:`~framekit.reader.StreamReader` with the whole read API. It decodes on
demand from its source's buffer: when a read needs bytes the layer does not have, it hands the
codec's decoder a view of the source's buffered bytes, with an output budget of its own
``limit``, and consumes from the source only what the decoder took. So:

- nothing is copied out of the source that the codec did not consume: after the codec's end
  (last chunk and trailers, Content-Length reached, end of the gzip stream) every later byte is
  still in the source, and the next pipelined message reads correctly from it;
- backpressure passes through: a layer pulls only while a read waits, at most ``limit`` bytes
  per step, so a full layer stops draining its source, which pauses its transport;
- a decoder error sets the layer's exception (sticky) and leaves the source usable; bytes
  decoded before the error are still read first, and the kept error holds no view of the
  source's bytes;
- the source's EOF before the codec's end is a :class:`~framekit.errors.TruncatedError`;
- ``total_raw_bytes`` counts the bytes consumed from the source, ``total_bytes`` the bytes
  produced; ``unread_data`` and ``set_exception`` work as on any reader;
- a layer is not fed: its bytes come from its source, and its end is its codec's, so
  ``feed_data`` and ``feed_eof`` raise RuntimeError (feed the root reader instead);
- HTTP chunk marks pass through: a layer over a chunked layer decodes each chunk's bytes
  separately and marks its own output where a chunk ended, so ``readchunk()`` on a gzip layer
  over a chunked one reports the chunk ends, as aiohttp does.

Error offsets are rebased to the source's stream: an offset is the position in the source
where the bad byte was, counting from the source's first byte.
"""

from __future__ import annotations

from types import TracebackType
from typing import NoReturn

from framekit._buffer import Buffer
from framekit.codecs._base import ByteCodec, ByteDecoder, drop_frame_locals
from framekit.errors import FramingError, TruncatedError
from framekit.reader import DEFAULT_LIMIT, StreamReader

__all__ = ["LayerReader", "layer"]


_EMPTY = memoryview(b"")

# The root's end of stream, for a layer's own use at its codec's end (its public ``feed_eof``
# refuses: a layer is not fed).
_end_of_stream = StreamReader.feed_eof


class _StepOutput:
    """The sink a byte decoder writes to in one decoding step: its pieces, joined once.

    A chunked decoder writes each chunk's data as a view of the source's bytes; appending
    each to the layer's buffer grew a bytearray piece by piece (most of ``chunked-16k``'s
    time), and the read copied it out again. Here a step's large pieces are kept as they are
    (views of immutable ``bytes``; anything else is copied at once, as the decoder may reuse
    it) and joined into one ``bytes`` object when the decoder returns: one copy per byte,
    and a read of everything buffered returns that object without another. Small pieces
    (below 1 KiB) are appended to a bytearray instead: for them the copy is cheap and the
    per-piece work is what counts (``chunked-64b`` writes and marks a million 64-byte
    chunks; keeping views of them was ~15% slower, as each view is an object the garbage
    collector tracks). Chunk marks are kept as offsets in the step's output.
    """

    __slots__ = ("marks", "parts", "size", "small")

    def __init__(self) -> None:
        #: Pieces in order, then ``small``'s bytes; ``size`` counts the pieces' bytes.
        self.parts: list[bytes | bytearray | memoryview] = []
        self.small = bytearray()
        self.size = 0
        self.marks: list[int] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Keep ``data`` for the end of the step (a copy unless it views immutable bytes)."""
        if len(data) < 1024:
            self.small += data
            return
        small = self.small
        if small:
            self.parts.append(bytes(small))
            self.size += len(small)
            small.clear()
        if type(data) is not memoryview or type(data.obj) is not bytes:
            data = bytes(data)  # ``bytes(b)`` is ``b`` for a bytes object
        self.parts.append(data)
        self.size += len(data)

    def write_marked(self, data: bytes, marks: list[int]) -> None:
        """Keep ``data`` (no copy), with an HTTP chunk end at each offset in ``marks``."""
        small = self.small
        if small:
            self.parts.append(bytes(small))
            self.size += len(small)
            small.clear()
        size = self.size
        if marks:
            self.marks += [size + mark for mark in marks] if size else marks
        self.parts.append(data)
        self.size = size + len(data)

    def mark_chunk_end(self) -> None:
        """Record that an HTTP chunk ends at the current end of the step's output."""
        self.marks.append(self.size + len(self.small))

    def flush(self, out: Buffer) -> None:
        """Append the step's output (and its chunk marks) to ``out``, and start afresh."""
        parts = self.parts
        small = self.small
        start = out.produced
        if parts:
            if small:
                parts.append(small)
            first = parts[0]
            out.write(first if len(parts) == 1 and type(first) is bytes else b"".join(parts))
            parts.clear()
            self.size = 0
        elif small:
            out.write(small)
        small.clear()
        marks = self.marks
        if marks:
            out.mark_chunk_ends(map(start.__add__, marks))
            marks.clear()


class LayerReader(StreamReader):
    """A reader of ``source``'s bytes decoded by ``codec``. Made by ``source.layer(codec)``.

    ``decoder`` is the codec's decoder for this stream (a chunked decoder's ``trailers`` are
    there after EOF). ``source`` is the reader it decodes from.
    """

    __slots__ = (
        "_base",
        "_codec",
        "_decoder",
        "_deferred",
        "_deferred_tb",
        "_mark_pending",
        "_raw",
        "_source",
        "_starved_at",
        "_starved_size",
        "_step",
    )

    def __init__(
        self, source: StreamReader, codec: ByteCodec, *, limit: int = DEFAULT_LIMIT
    ) -> None:
        super().__init__(limit=limit)
        self._source = source
        self._codec = codec
        self._decoder: ByteDecoder = _byte_decoder(codec)
        self._raw = 0
        self._base = source._buffer.head
        # A decoder error met while decoded bytes were still buffered: raised once a read
        # needs more than those bytes, so nothing decoded before the error is lost.
        self._deferred: BaseException | None = None
        # Its traceback when the decoder raised it: ``wait_eof`` raises it again and again.
        self._deferred_tb: TracebackType | None = None
        self._step = _StepOutput()
        # The source's ``produced`` and size when the decoder last said it needs more input
        # (a call that neither consumed nor wrote): it is not asked again before either
        # changes. Saves a decode call per read that waits (a tenth of chunked-16k's time).
        self._starved_at = -1
        self._starved_size = -1
        # The decoder consumed an HTTP chunk's last byte but may still hold output decoded
        # from it (a decompressor's pending match, isal's whole-input steps): the chunk end is
        # marked once the decoder, asked with no new input, writes nothing more.
        self._mark_pending = False

    @property
    def source(self) -> StreamReader:
        """The reader this layer decodes from."""
        return self._source

    def feed_data(self, data: bytes | bytearray | memoryview) -> NoReturn:
        """Raise RuntimeError: a layer decodes its source and is not fed; feed the root.

        (Bytes fed here would have been read as decoded output the codec never produced.)
        """
        raise self._not_fed("feed_data")

    def feed_eof(self) -> NoReturn:
        """Raise RuntimeError: a layer ends where its codec ends; feed EOF to the root.

        (An end fed here would have made a truncated body read as a complete one.)
        """
        raise self._not_fed("feed_eof")

    def _not_fed(self, func: str) -> RuntimeError:
        names = []
        reader: StreamReader = self
        while isinstance(reader, LayerReader):
            names.append(type(reader._codec).__name__)
            reader = reader._source
        return RuntimeError(
            f"{func}() on a layer ({' over '.join(names)}): a layer decodes its source and is "
            f"not fed; feed the root reader ({reader!r})"
        )

    @property
    def decoder(self) -> ByteDecoder:
        """This stream's decoder (for codec-specific results such as chunked trailers)."""
        return self._decoder

    @property
    def total_raw_bytes(self) -> int:
        """The bytes this layer consumed from its source (before decoding)."""
        return self._raw

    def is_eof(self) -> bool:
        """True once the codec's end was decoded (decoded bytes may still be buffered)."""
        if not self._eof:
            self._source._pull_nowait()
            self._pump(force=False)
        return self._eof

    def at_eof(self) -> bool:
        """True once the codec's end was decoded and every decoded byte was read."""
        return self.is_eof() and not self._buffer

    async def wait_eof(self) -> None:
        """Decode the rest of the source until the codec's end; the output stays buffered.

        Returns at once if the end was already decoded. Waits for the source's input as
        needed; the layer's buffer grows past its high-water mark to hold everything decoded
        before the end. Raises the decoder's error (bytes decoded before it stay readable),
        the source's exception, TruncatedError if the source ends first, and RuntimeError if
        another coroutine is waiting on this layer.
        """
        while not self.is_eof():
            if self._exception is not None:
                raise self._failure()
            if self._deferred is not None:
                raise self._deferred.with_traceback(self._deferred_tb)
            await self._fill("wait_eof")

    def _pull_nowait(self) -> None:
        self._source._pull_nowait()  # a layer source decodes what its own source holds
        self._pump(force=False)
        if self._deferred is not None and not self._buffer:
            self._raise_deferred()

    def _raise_deferred(self) -> None:
        error, self._deferred = self._deferred, None
        assert error is not None
        self.set_exception(error.with_traceback(self._deferred_tb))

    def set_exception(self, exc: BaseException) -> None:
        """Store ``exc``: the waiting read, ``wait_eof()`` and every later read raise it.

        A read waiting for input through a stack of layers is woken at once.
        """
        waiting = self._waiter is not None
        super().set_exception(exc)
        if waiting:
            self._wake_source()

    def _wake_waiter(self) -> None:
        waiting = self._waiter is not None
        super()._wake_waiter()
        if waiting:
            self._wake_source()

    def _wake_source(self) -> None:
        """Wake a read of this layer that waits for its source's input (``unread_data`` or
        ``set_exception`` here): over a root, its waiter is the root's and is already woken;
        over another layer, the wait is that layer's, woken in turn down to the root."""
        source = self._source
        if type(source) is not StreamReader:
            source._wake_waiter()

    def _fail(self, error: BaseException) -> None:
        if self._buffer:
            self._deferred = error
            self._deferred_tb = error.__traceback__
        else:
            self.set_exception(error)

    async def _fill(self, func: str, wanted: int = 0) -> None:
        """Decode more from the source, waiting for its input if the decoder needs it.

        Like the root's, returns when something changed and raises the layer's exception.
        """
        if self._waiter is not None:
            raise RuntimeError(
                f"{func}() called while another coroutine is already waiting for incoming data"
            )
        if self._deferred is not None:
            self._raise_deferred()
        if not self._pump():
            source = self._source
            if type(source) is StreamReader:
                await self._wait_root(source, func)
                self._pump()
                if self._exception is not None:
                    raise self._failure()
                return
            marker = self._waiter = self._future()
            try:
                # The decoder needs more input than the source holds: ask for at least one
                # byte more, without letting the source pause while it waits.
                await source._fill(func, wanted=len(source._buffer) + 1)
            except FramingError as error:
                # The source's own decoder failed: this layer cannot go on either.
                self._fail(error)
            finally:
                self._waiter = None
                if marker.done() and not marker.cancelled():
                    marker.exception()  # retrieved: set_exception raced with the source's wait
            self._pump()
        if self._exception is not None:
            raise self._failure()

    async def _wait_root(self, source: StreamReader, func: str) -> None:
        """Wait for a root source's next bytes (its ``_fill``, inlined): one future, the
        root's and this layer's waiter at once, so the root's ``feed_data``, ``feed_eof`` and
        ``set_exception`` and this layer's ``set_exception`` all wake the read."""
        if source._waiter is not None:
            raise RuntimeError(
                f"{func}() called while another coroutine is already waiting for incoming data"
            )
        waiter = self._waiter = source._waiter = source._future()
        # At least one byte more, without letting the source pause while it waits.
        source._wanted = len(source._buffer) + 1
        if source._paused:
            source._resume()  # after the waiter is set: resume_reading() may feed bytes
        try:
            await waiter
        except FramingError as error:
            # Set on the root or on this layer: this layer cannot go on either way.
            self._fail(error)
        finally:
            self._waiter = None
            current = source._waiter
            if current is None or current is waiter:
                source._waiter = None
                source._wanted = 0

    def _pump(self, force: bool = True) -> bool:
        """Decode what the source has buffered, up to ``limit`` bytes of output.

        With ``force`` (a read is waiting for more), decode at least one step even if the
        buffer already holds ``limit`` bytes. Returns True if anything changed that a waiting
        read should look at: new output, the codec's end, or an exception.
        """
        if self._eof or self._exception is not None or self._deferred is not None:
            return True
        source = self._source
        decoder = self._decoder
        out = self._buffer
        budget = self._limit
        progressed = False
        src = source._buffer
        while force or len(out._data) - out._pos < budget:
            force = False
            if source._exception is not None:
                self._fail(source._exception)
                return True
            if source._skip is not None:
                # The rest of a frame a reader of the source rejected: not this layer's input.
                source._discard_skipped()
                if source._skip is not None:
                    break
            available = len(src._data) - src._pos
            # Decode up to the next HTTP chunk end in the source, to carry the mark over.
            bound = src.next_chunk_end() if src._marks else None
            view_size = available if bound is None else min(bound, available)
            at_eof = source._eof and view_size == available
            if (
                available == self._starved_size
                and src.produced == self._starved_at
                and view_size == available
                and not at_eof
            ):
                break
            if not self._raw:
                # Nothing consumed yet: error offsets count from the source's head now (it may
                # have been read since this layer was made).
                self._base = src.head
            before = out.produced
            step = self._step
            try:
                if self._mark_pending:
                    try:
                        decoder.decode(_EMPTY, step, budget)
                    finally:
                        step.flush(out)
                    if out.produced != before:
                        progressed = True
                        continue
                    out.mark_chunk_end()
                    self._mark_pending = False
                with src.view() as whole:
                    try:
                        if view_size == available:
                            consumed = (decoder.decode_eof if at_eof else decoder.decode)(
                                whole, step, budget
                            )
                        else:
                            with whole[:view_size] as view:
                                consumed = decoder.decode(view, step, budget)
                    finally:
                        # Before the source changes: the step may hold views of its bytes.
                        step.flush(out)
            except FramingError as error:
                if error.offset is not None:
                    error.offset += self._base
                # Kept (and the decoder may keep it too): its frames must not hold slices
                # of the source's view, or the source's buffer could not change again.
                drop_frame_locals(error)
                self._fail(error)
                return True
            if consumed:
                src.drop(consumed)
                source._scanned = 0
                if source._paused:
                    source._after_consume()
                self._raw += consumed
                if bound is not None and consumed == bound:
                    self._mark_pending = True
            if decoder.done:
                if self._mark_pending:
                    out.mark_chunk_end()
                    self._mark_pending = False
                _end_of_stream(self)
                return True
            if consumed or out.produced != before:
                progressed = True
                if view_size == available and not at_eof and getattr(decoder, "needs_input", False):
                    # The decoder took what it could of the whole buffer: asking again
                    # before new input would do nothing (a tenth of chunked-16k's time).
                    if self._mark_pending:
                        out.mark_chunk_end()
                        self._mark_pending = False
                    self._starved_at = src.produced
                    self._starved_size = len(src._data) - src._pos
                    break
                continue
            if bound is not None and bound < available:
                # The decoder needs bytes past the chunk end to make progress: let it have them.
                src.drop_chunk_mark()
                continue
            if at_eof:
                self._fail(
                    TruncatedError(
                        f"the source ended before the end of the {type(decoder).__name__} encoding",
                        offset=self._base + self._raw,
                    )
                )
                return True
            if view_size == available:
                self._starved_at = src.produced
                self._starved_size = available
            break
        return progressed


def _byte_decoder(codec: object) -> ByteDecoder:
    """``codec``'s decoder, checked to be a byte decoder (TypeError naming the mistake)."""
    make = getattr(codec, "decoder", None)
    if make is None:
        raise TypeError(
            f"{type(codec).__name__} is not a codec: a byte codec has a decoder() method"
        )
    decoder = make()
    if not hasattr(decoder, "done"):
        kind = (
            "a frame codec (its decoder produces frames)"
            if hasattr(decoder, "discard")
            else ("not a byte codec (its decoder has no done)")
        )
        raise TypeError(
            f"{type(codec).__name__} is {kind}: read its frames with reader.frames(codec)"
        )
    return decoder  # type: ignore[no-any-return]


def layer(source: StreamReader, *codecs: ByteCodec, limit: int | None = None) -> StreamReader:
    """Stack ``codecs`` over ``source`` in order; return the outermost reader.

    ``layer(root, Chunked(), Gzip())`` reads a chunked, gzipped HTTP body. With
    :func:`framekit.codecs.compression.content_decoding`, ``layer(root, *codecs)`` undoes a
    whole ``Content-Encoding`` header. ``limit`` (default: each source's limit) is every layer's
    buffer limit and output budget per step.
    """
    reader = source
    for codec in codecs:
        reader = LayerReader(reader, codec, limit=reader._limit if limit is None else limit)
    return reader
