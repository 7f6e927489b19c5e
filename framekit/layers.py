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

import asyncio
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, NoReturn

from framekit._driver import _DONE, _FAILED, _NOTHING, ByteDriver, _byte_decoder
from framekit.codecs._base import ByteCodec, ByteDecoder
from framekit.errors import FramingError
from framekit.reader import DEFAULT_LIMIT, StreamReader

if TYPE_CHECKING:
    from framekit._buffer import Buffer

__all__ = ["LayerReader", "layer"]


# The root's end of stream, for a layer's own use at its codec's end (its public ``feed_eof``
# refuses: a layer is not fed).
_end_of_stream = StreamReader.feed_eof


class LayerReader(StreamReader):
    """A reader of ``source``'s bytes decoded by ``codec``. Made by ``source.layer(codec)``.

    ``decoder`` is the codec's decoder for this stream (a chunked decoder's ``trailers`` are
    there after EOF). ``source`` is the reader it decodes from, ``codec`` the codec.
    """

    __slots__ = ("_codec", "_deferred", "_deferred_tb", "_driver", "_source", "_src")

    def __init__(
        self, source: StreamReader, codec: ByteCodec, *, limit: int = DEFAULT_LIMIT
    ) -> None:
        super().__init__(limit=limit)
        self._source = source
        # The source's buffer (the port's view of its bytes), the same object for its life.
        self._src = source.buffer
        self._codec = codec
        # The one byte-decoder loop (budgets, chunk marks, offsets, the end, EOF).
        self._driver = ByteDriver(_byte_decoder(codec))
        # A decoder error met while decoded bytes were still buffered: raised once a read
        # needs more than those bytes, so nothing decoded before the error is lost.
        self._deferred: BaseException | None = None
        # Its traceback when the decoder raised it: ``wait_eof`` raises it again and again.
        self._deferred_tb: TracebackType | None = None

    @property
    def source(self) -> StreamReader:
        """The reader this layer decodes from."""
        return self._source

    @property
    def codec(self) -> ByteCodec:
        """The codec this layer decodes with."""
        return self._codec

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
        return self._driver.decoder

    @property
    def total_raw_bytes(self) -> int:
        """The bytes this layer consumed from its source (before decoding)."""
        return self._driver.raw

    def is_eof(self) -> bool:
        """True once the codec's end was decoded (decoded bytes may still be buffered)."""
        if not self._eof:
            self._source.pull_nowait()
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
            await self.wait_for_input("wait_eof")

    async def readany(self) -> bytes:
        """Read whatever is decoded, decoding or waiting for the source's bytes if nothing
        is; ``b""`` at the codec's end.

        The fast path (one call per piece read, as a transport hands them over): while
        nothing is buffered here, each step's output is returned as it is
        (``ByteDriver.pass_through``), not written to this layer's buffer and read back;
        anything else (buffered bytes, an exception, chunk marks in the source, its end,
        the codec's end) takes the general path, whose results are the same
        (the pass-through property test in ``tests/test_stacks.py``).
        """
        source = self._source
        buffer = self._buffer
        src = self._src
        driver = self._driver
        over_root = type(source) is StreamReader
        chunk: bytes | None
        while (
            len(buffer.data) == buffer.pos
            and self._exception is None
            and self._deferred is None
            and self._skip is None
            and not self._eof
            and not src.held
            and self._waiter is None
        ):
            # The pass-through's own first check, before the call: nothing new since the
            # decoder asked for more input (once per piece, before its wait).
            if (
                len(src.data) - src.pos == driver.starved_size
                and src.produced == driver.starved_at
                and not src.ended
                and not src.marks
            ):
                chunk = b""  # ``_starved``, inlined (once per piece, before its wait)
            else:
                # ``_pass(driver.pass_through)``, inlined (once per piece).
                try:
                    chunk = driver.pass_through(src, buffer, self._limit)
                except FramingError as error:
                    self._fail(error)
                    break  # the general path raises it
                finally:
                    if src.on_consume is not None:
                        src.on_consume()
                if chunk:
                    return chunk
                if chunk is None:
                    if driver.finished and not self._eof:
                        _end_of_stream(self)
                    break
            if over_root:
                # Nothing decoded: wait for the root's next bytes (``_wait_root``, inlined).
                waiter = self._waiter = source.begin_wait(
                    "readany", wanted=len(src.data) - src.pos + 1
                )
                try:
                    await waiter
                except FramingError as error:
                    self._fail(error)
                finally:
                    self._waiter = None
                    source.end_wait(waiter)
                continue
            if type(source) is LayerReader and source._passable():
                # Over a layer over the root, both empty (``chunked-gzip``): the root's bytes
                # pass through the source's decoder into its buffer, then through this one's,
                # one wait on the root for the two of them.
                step = source._pass_step()
                if step is True:
                    continue
                if step is not False:
                    # One future, the root's, the source's and this layer's waiter at once:
                    # the root's feed_data, feed_eof, set_exception, and each layer's
                    # set_exception and unread_data, wake the read.
                    self._waiter = step
                    try:
                        await step
                    except FramingError as error:
                        if self._exception is None:
                            source._pass_failed(error)
                    finally:
                        self._waiter = None
                        source._end_pass_wait(step)
                    continue
            # Over a layer: wait until it has more for the pass-through (it decodes its own
            # source, waiting for that one's input as needed).
            await self._wait_layer(source, "readany")
        return await StreamReader.readany(self)

    def _starved(self) -> bool:
        """True if the decoder said it needs more input and nothing came since: a step
        would do nothing (``ByteDriver``'s memo, read before the call)."""
        src = self._src
        driver = self._driver
        return (
            len(src.data) - src.pos == driver.starved_size
            and src.produced == driver.starved_at
            and not src.ended
            and not src.marks
        )

    def _pass(self, step: Callable[[Buffer, Buffer, int], bytes | None]) -> bytes | None:
        """One pass-through ``step`` (``ByteDriver.pass_through`` or ``pass_into``) over the
        source's buffer: its output, ``b""`` if none came, or None where the general path
        must decide (a decoder error, now this layer's; the source's end; the codec's end,
        now this layer's EOF)."""
        src = self._src
        try:
            chunk = step(src, self._buffer, self._limit)
        except FramingError as error:
            self._fail(error)
            return None
        finally:
            if src.on_consume is not None:
                src.on_consume()
        if chunk is None and self._driver.finished and not self._eof:
            _end_of_stream(self)
        return chunk

    def _passable(self) -> bool:
        """True if this layer, over the root, may be decoded by ``_pass_step``: nothing
        buffered, no exception, end or wait, its source's bytes free to read."""
        buffer = self._buffer
        src = self._src
        return (
            len(buffer.data) == buffer.pos
            and self._exception is None
            and self._deferred is None
            and self._skip is None
            and not self._eof
            and self._waiter is None
            and type(self._source) is StreamReader
            and not src.held
            and not src.ended
        )

    def _pass_step(self) -> asyncio.Future[None] | bool:
        """For the layer over this one, in its ``readany`` (``_passable`` first): decode the
        root's bytes into this layer's buffer with the pass-through
        (``ByteDriver.pass_into``) and return True to look again; if there are none to
        decode, begin a wait on the root and return its future (this layer's waiter too;
        ``_end_pass_wait`` ends it). Returns False where the general path must decide (a
        decoder error, the source's end, a chunk end, the codec's end): the layer over this
        one then waits on it as usual, which does so.
        """
        if self._starved():
            src = self._src
            waiter = self._waiter = self._source.begin_wait(
                "readany", wanted=len(src.data) - src.pos + 1
            )
            return waiter
        return self._pass(self._driver.pass_into) is not None

    def _pass_failed(self, error: FramingError) -> None:
        """The wait ``_pass_step`` began raised ``error``: the root's (or this layer's own)."""
        if self._exception is None:
            self._fail(error)

    def _end_pass_wait(self, waiter: asyncio.Future[None]) -> None:
        """End the wait ``_pass_step`` began (whether or not ``waiter`` is done)."""
        self._waiter = None
        self._source.end_wait(waiter)

    def pull_nowait(self) -> None:
        """Decode what the source has buffered, up to ``limit`` bytes of output."""
        self._source.pull_nowait()  # a layer source decodes what its own source holds
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
            source.wake()

    def _fail(self, error: BaseException) -> None:
        if self._buffer:
            self._deferred = error
            self._deferred_tb = error.__traceback__
        else:
            self.set_exception(error)

    async def wait_for_input(self, caller: str = "wait_for_input", wanted: int = 0) -> None:
        """Decode more from the source, waiting for its input if the decoder needs it.

        Like the root's, returns when something changed and raises the layer's exception.
        """
        if self._waiter is not None:
            raise RuntimeError(
                f"{caller}() called while another coroutine is already waiting for incoming data"
            )
        if self._deferred is not None:
            self._raise_deferred()
        if not self._pump():
            source = self._source
            if type(source) is StreamReader:
                await self._wait_root(source, caller)
                self._pump()
                if self._exception is not None:
                    raise self._failure()
                return
            await self._wait_layer(source, caller)
            self._pump()
        if self._exception is not None:
            raise self._failure()

    async def _wait_layer(self, source: StreamReader, caller: str) -> None:
        """Wait until a layer source has more (it decodes its own source, waiting for its
        input as needed), this layer's waiter set meanwhile, so that this layer's
        ``set_exception`` and ``unread_data`` wake the read (``_wake_source``)."""
        marker = self._waiter = self._future()
        try:
            # The decoder needs more input than the source holds: ask for at least one
            # byte more, without letting the source pause while it waits.
            await source.wait_for_input(caller, wanted=len(self._src) + 1)
        except FramingError as error:
            # The source's own decoder failed: this layer cannot go on either.
            self._fail(error)
        finally:
            self._waiter = None
            if marker.done() and not marker.cancelled():
                marker.exception()  # retrieved: set_exception raced with the source's wait

    async def _wait_root(self, source: StreamReader, caller: str) -> None:
        """Wait for a root source's next bytes: one future (``begin_wait``), the root's and
        this layer's waiter at once, so the root's ``feed_data``, ``feed_eof`` and
        ``set_exception`` and this layer's ``set_exception`` all wake the read."""
        # At least one byte more, without letting the source pause while it waits.
        waiter = self._waiter = source.begin_wait(caller, wanted=len(self._src) + 1)
        try:
            await waiter
        except FramingError as error:
            # Set on the root or on this layer: this layer cannot go on either way.
            self._fail(error)
        finally:
            self._waiter = None
            source.end_wait(waiter)

    def _pump(self, force: bool = True) -> bool:
        """Decode what the source has buffered, up to ``limit`` bytes of output.

        With ``force`` (a read is waiting for more), decode at least one step even if the
        buffer already holds ``limit`` bytes. Returns True if anything changed that a waiting
        read should look at: new output, the codec's end, or an exception.
        """
        if self._eof or self._exception is not None or self._deferred is not None:
            return True
        source = self._source
        src = self._src
        if src.held:
            failure = source.exception()
            if failure is not None:
                self._fail(failure)
                return True
            if not source.discard_skipped():
                # The rest of a frame a reader of the source rejected: not this layer's input.
                return False
        driver = self._driver
        available = len(src.data) - src.pos
        ended = src.ended
        if (
            available == driver.starved_size
            and src.produced == driver.starved_at
            and not src.marks
            and not ended
        ):
            # The pump's own first check, before the call: a read that waits asks once per
            # piece with nothing new (~3% of chunked-gzip/1460's time for the call alone).
            return False
        try:
            progress = driver.pump(src, self._buffer, self._limit, ended, force)
        except FramingError as error:
            progress = _FAILED
            self._fail(error)
        if src.on_consume is not None and len(src.data) - src.pos != available:
            # Bytes were consumed (nothing is fed while the driver runs): flow control.
            src.on_consume()
        if progress == _DONE:
            _end_of_stream(self)
        return progress != _NOTHING


def layer(source: StreamReader, *codecs: ByteCodec, limit: int | None = None) -> StreamReader:
    """Stack ``codecs`` over ``source`` in order; return the outermost reader.

    ``layer(root, Chunked(), Gzip())`` reads a chunked, gzipped HTTP body. With
    :func:`framekit.codecs.compression.content_decoding`, ``layer(root, *codecs)`` undoes a
    whole ``Content-Encoding`` header. ``limit`` (default: each source's limit) is every layer's
    buffer limit and output budget per step.
    """
    reader = source
    for codec in codecs:
        reader = LayerReader(reader, codec, limit=reader.limit if limit is None else limit)
    return reader
