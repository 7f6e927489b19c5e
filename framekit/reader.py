"""The core stream reader: bytes in, aiohttp's ``StreamReader`` read API out.

framekit's :class:`StreamReader` keeps the meaning of every method of aiohttp's reader (the
"Streaming API" page) and differs where aiohttp and asyncio have traps:

- **Cancel-safe.** Every read consumes only when it returns. A read cancelled while it waits
  (by ``asyncio.timeout`` or ``wait_for``) leaves every byte in the buffer. (aiohttp's
  ``readline`` and ``readexactly`` lose the bytes they had gathered.)
- **Linear.** A search that found nothing remembers how far it looked, so a long line fed one
  byte at a time costs O(n), not O(n^2).
- **Over-long lines stay in sync.** ``readline``/``readuntil`` past their maximum raise
  :class:`~framekit.errors.LineTooLong` once, as soon as the maximum is passed, and skip the
  whole line through its separator (even if the separator arrives later): the next read
  returns the next line. (asyncio and aiohttp hand back the rest of the long line as a line.)
- **More than aiohttp.** ``readuntil`` takes a tuple of separators; ``peek(n)`` waits for bytes
  without consuming them; ``buffer_view()``/``consume(n)``/``fill()`` let codec drivers work on
  the buffered bytes without copying; ``unread_data`` is supported, not deprecated.

**The port.** framekit's adapters (the frame driver, layers, frame readers) use a reader
through a small set of calls and nothing private of it (:mod:`framekit._port` lists them):

- ``buffer``: the receive buffer, a view of the buffered bytes (``buffer.view()``) with the
  consumption counter (``buffer.head``, the stream position of the first byte not consumed:
  with ``buffer.unreads`` it tells an adapter, in one compare, that someone read or unread
  around it);
- ``consume(n)``, or ``buffer.drop(n)`` then ``buffer.on_consume()`` when set (flow control:
  a paused reader resumes its input at or below its low-water mark);
- ``wait_for_input(caller, wanted)``: wait until anything changes; ``begin_wait`` and
  ``end_wait``: the same wait in two halves, for a layer sharing its root's future; ``wake()``;
- ``buffer.ended`` (no more bytes will come: EOF fed, or a layer's codec ended) and
  ``buffer.held`` (an exception is set or a skip is under way: ask before reading), two flags
  a hot path checks with one load; ``exception()``, ``raise_if_failed()``: the pending
  exception;
- ``begin_skip(skip)``, ``skipping``, ``discard_skipped()``, ``finish_skip(caller)``: the skip
  hand-over (the rest of a frame already reported, dropped before any read);
- ``pull_nowait()``: bring in what is available without waiting (a layer decodes its source).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from threading import get_ident
from types import TracebackType
from typing import TYPE_CHECKING, Generic, Protocol, TypeAlias, TypeVar

from framekit._buffer import Buffer
from framekit._port import Skip
from framekit.errors import LineTooLong
from framekit.frames import FrameReader

if TYPE_CHECKING:
    from framekit.codecs._base import ByteCodec, FrameCodec
    from framekit.layers import LayerReader

__all__ = ["DEFAULT_LIMIT", "FlowControl", "Skip", "StreamReader"]

_log = logging.getLogger("framekit")

#: The default ``limit`` (low-water mark); the high-water mark, and so the default maximum
#: line length, is twice this. asyncio's and aiohttp's client default is the same 64 KiB.
DEFAULT_LIMIT = 2**16

T = TypeVar("T")

Separator: TypeAlias = "bytes | bytearray | tuple[bytes | bytearray, ...]"


class FlowControl(Protocol):
    """What a reader asks to pause and resume its input (an asyncio transport is one)."""

    def pause_reading(self) -> None:
        """Stop delivering data until ``resume_reading``."""

    def resume_reading(self) -> None:
        """Deliver data again."""


def _separators(separator: Separator) -> tuple[bytes, ...]:
    if isinstance(separator, tuple):
        if not separator:
            raise ValueError("readuntil() needs at least one separator")
        for item in separator:
            if not isinstance(item, (bytes, bytearray)):
                raise TypeError(f"separators must be bytes, not {type(item).__name__} ({item!r})")
        seps = tuple(bytes(s) for s in separator)
    elif isinstance(separator, (bytes, bytearray)):
        seps = (bytes(separator),)
    else:
        raise TypeError(
            f"separator must be bytes or a tuple of bytes, not {type(separator).__name__}"
        )
    if not all(seps):
        raise ValueError("Separator should be at least one-byte string")
    return seps


class StreamReader:
    """A buffered reader of a byte stream, with aiohttp's ``StreamReader`` API.

    Bytes come in through the feeding side (``feed_data``, ``feed_eof``, ``set_exception``),
    usually from a transport's protocol, and go out through the reads. ``limit`` is the buffer's
    low-water mark and twice it the high-water mark: above the high mark the reader asks
    ``flow`` (anything with ``pause_reading()``/``resume_reading()``, such as an asyncio
    transport) to pause, and at or below the low mark to resume. A single read that needs more
    than the mark (``readexactly(n)`` with a large ``n``) still completes.

    The reader can be made and fed outside a running event loop; only waiting needs one. One
    coroutine may read at a time. As in asyncio and aiohttp, this is checked where a read
    waits: a read that must wait while another waits raises ``RuntimeError`` (a read the
    buffer can serve at once is not checked, to keep it fast). Once an exception is set,
    every read raises it.
    """

    __slots__ = (
        "_buffer",
        "_eof",
        "_eof_callbacks",
        "_eof_waiter",
        "_exception",
        "_exception_tb",
        "_flow",
        "_high",
        "_limit",
        "_loop",
        "_loop_thread",
        "_paused",
        "_scan_key",
        "_separator",
        "_separators",
        "_skip",
        "_waiter",
        "_wanted",
    )

    def __init__(self, *, limit: int = DEFAULT_LIMIT, flow: FlowControl | None = None) -> None:
        if not isinstance(limit, int) or limit <= 0:
            raise ValueError(f"limit must be a positive integer, not {limit!r}")
        self._buffer = Buffer()
        self._limit = limit
        self._high = 2 * limit
        self._flow = flow
        self._paused = False
        self._eof = False
        self._eof_callbacks: list[Callable[[], object]] = []
        self._eof_waiter: asyncio.Future[None] | None = None
        self._exception: BaseException | None = None
        # Its traceback when it was set: every raise starts from it (``_failure``).
        self._exception_tb: TracebackType | None = None
        self._waiter: asyncio.Future[None] | None = None
        # The loop the last wait ran in, and its thread (see ``_future``).
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread = 0
        # While a read waits for more than the high-water mark, feeding does not pause.
        self._wanted = 0
        # Resumable search: no separator of ``_scan_key`` starts in the first
        # ``_buffer.scanned`` buffered bytes. Any change at the head of the buffer resets
        # ``scanned`` to 0 (the buffer's own takes and drops, and whoever moves its head).
        self._scan_key: tuple[bytes, ...] = ()
        # What is being skipped (an over-long line or frame already reported), or None.
        self._skip: Skip | None = None
        # The last ``readuntil`` separator and its tuple: the same tuple object on every call
        # with the same separator object, so that ``_scan_key is seps`` holds between calls.
        self._separator: object = b"\n"
        self._separators: tuple[bytes, ...] = _LF

    def __repr__(self) -> str:
        info = [f"{len(self._buffer)} bytes"]
        if self._eof:
            info.append("eof")
        if self._limit != DEFAULT_LIMIT:
            info.append(f"limit={self._limit}")
        if self._waiter is not None:
            info.append("waiting")
        if self._exception is not None:
            info.append(f"exception={self._exception!r}")
        if self._paused:
            info.append("paused")
        return f"<{type(self).__name__} {' '.join(info)}>"

    # -- the feeding side --------------------------------------------------------------------

    def feed_data(self, data: bytes | bytearray | memoryview) -> None:
        """Append ``data`` to the buffer and wake the waiting read.

        Raises RuntimeError after ``feed_eof``. Pauses ``flow`` above the high-water mark,
        except while a read waits for more than that or ``wait_eof()`` waits (the input must
        keep coming for either to finish).
        """
        if self._eof:
            raise RuntimeError("feed_data() after feed_eof()")
        size = len(data)
        if not size:
            return
        buffer = self._buffer
        old = buffer.data
        pos = buffer.pos
        rest = len(old) - pos
        if type(data) is bytes and type(old) is bytes and rest <= size:
            # ``Buffer.write``'s common case, inlined (it runs once per piece): the piece is
            # kept as it is (``b"" + data`` is ``data``), or the short remainder is joined to it.
            buffer.data = old[pos:] + data if rest else data
            buffer.pos = 0
            buffer.produced += size
            size += rest  # now: the bytes buffered
        else:
            buffer.write(data)
            size = len(buffer.data) - buffer.pos
        if self._skip is not None:
            self.discard_skipped()
            size = len(buffer.data) - buffer.pos
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            # Not contextlib.suppress: this runs once per piece fed, and a with block costs
            # more than the done() check this replaces.
            try:  # noqa: SIM105
                waiter.set_result(None)
            except asyncio.InvalidStateError:
                pass  # cancelled: the read is being cancelled and will look again
        flow = self._flow
        if (
            flow is not None
            and not self._paused
            and size > self._high
            and size >= self._wanted
            and self._eof_waiter is None
        ):
            self._paused = True
            buffer.on_consume = self._after_consume
            flow.pause_reading()

    def mark_chunk_end(self) -> None:
        """Record that an HTTP chunk's data ends at the end of the bytes fed so far.

        ``readchunk()`` reports ``end_of_chunk=True`` when it returns data ending there.
        """
        self._buffer.mark_chunk_end()

    def feed_eof(self) -> None:
        """Mark the end of the stream: wake the waiting read, ``wait_eof()`` and ``on_eof``."""
        if self._eof:
            return
        self._eof = True
        self._buffer.ended = True
        if self._skip is not None:
            self.discard_skipped()
        self._wake_waiter()
        eof_waiter = self._eof_waiter
        if eof_waiter is not None:
            self._eof_waiter = None
            if not eof_waiter.done():
                eof_waiter.set_result(None)
        callbacks, self._eof_callbacks = self._eof_callbacks, []
        for callback in callbacks:
            self._call_eof_callback(callback)

    def set_exception(self, exc: BaseException) -> None:
        """Store ``exc``: the waiting read, ``wait_eof()`` and every later read raise it.

        As in aiohttp, the exception wins over buffered bytes, even after ``feed_eof``: bytes
        fed before it are no longer readable (``read_nowait`` raises too). As asyncio's
        ``Future.set_exception``, an exception class is called with no arguments and the
        instance stored, and StopIteration is refused (a coroutine raising it out of a read
        would raise RuntimeError instead). Raises TypeError, changing nothing, for
        StopIteration or anything that is not an exception instance or class.
        """
        value: object = exc
        if isinstance(value, type) and issubclass(value, BaseException):
            value = value()
        if not isinstance(value, BaseException):
            what = (
                f"the class {value.__qualname__}"
                if isinstance(value, type)
                else f"{type(value).__name__} {value!r}"
            )
            raise TypeError(f"set_exception() takes an exception instance or class, got {what}")
        if type(value) is StopIteration:
            raise TypeError(
                "set_exception() refuses StopIteration (as asyncio's futures do): raised out "
                "of a read in a coroutine, it would become a RuntimeError"
            )
        exc = value
        self._exception = exc
        self._buffer.held = True
        self._exception_tb = exc.__traceback__
        # The buffered bytes can no longer be read: dropped, which also tells frame readers
        # that remember the buffer's state (they hand out no frame decoded from them).
        self._buffer.drop(len(self._buffer))
        self._skip = None
        self._eof_callbacks.clear()
        waiters = (self._waiter, self._eof_waiter)
        self._waiter = self._eof_waiter = None
        for waiter in waiters:
            if waiter is not None and not waiter.done():
                waiter.set_exception(exc)

    def _failure(self) -> BaseException:
        """The set exception, to raise, with the traceback it had when it was set.

        Every later read raises the same object; raised as it is, its traceback would grow by
        the raising frames each time (a caller retrying in a loop keeps every one of them
        alive). asyncio's futures restore the traceback the same way.
        """
        exc = self._exception
        assert exc is not None
        return exc.with_traceback(self._exception_tb)

    def _future(self) -> asyncio.Future[None]:
        """A new future of the running loop, for a read to wait on.

        The loop is the one this reader last waited in, while that one runs in this thread
        (the one running loop a thread can have): on Python 3.11 ``asyncio.get_running_loop()``
        makes a ``getpid()`` system call (~165 ns, against ~60 for the two checks), once per
        piece a reading task waits for. Outside a running loop it raises RuntimeError, as
        ``get_running_loop()`` does.
        """
        loop = self._loop
        if loop is None or self._loop_thread != get_ident() or not loop.is_running():
            loop = self._loop = asyncio.get_running_loop()
            self._loop_thread = get_ident()
        return loop.create_future()

    def on_eof(self, callback: Callable[[], object]) -> None:
        """Call ``callback()`` at EOF (now, if EOF was already fed)."""
        if self._eof:
            self._call_eof_callback(callback)
        else:
            self._eof_callbacks.append(callback)

    @staticmethod
    def _call_eof_callback(callback: Callable[[], object]) -> None:
        try:
            callback()
        except Exception:
            _log.exception("Exception in eof callback")

    # -- state -------------------------------------------------------------------------------

    def exception(self) -> BaseException | None:
        """The exception set with ``set_exception``, or None."""
        return self._exception

    def is_eof(self) -> bool:
        """True once EOF was fed (bytes may still be buffered)."""
        return self._eof

    def at_eof(self) -> bool:
        """True once EOF was fed and every buffered byte was read."""
        return self._eof and not self._buffer

    @property
    def limit(self) -> int:
        """The low-water mark; the high-water mark is twice this."""
        return self._limit

    @property
    def total_bytes(self) -> int:
        """The bytes this reader produced: for a root reader, every byte fed to it."""
        return self._buffer.produced

    @property
    def total_raw_bytes(self) -> int:
        """The bytes this reader took from its input before decoding.

        For a root reader this equals ``total_bytes``; for a layer it counts the bytes it
        consumed from its source. ``unread_data`` changes neither.
        """
        return self._buffer.produced

    @property
    def buffered(self) -> int:
        """How many bytes are buffered now."""
        return len(self._buffer)

    # -- the port: what adapters use (see framekit._port) -----------------------------------

    @property
    def buffer(self) -> Buffer:
        """The receive buffer, the same object for this reader's life (the port's view of the
        buffered bytes and its consumption counter, ``buffer.head``; see
        :mod:`framekit._buffer`). Bytes taken from it otherwise than by ``consume`` must be
        followed by ``buffer.on_consume()`` when that is set."""
        return self._buffer

    def raise_if_failed(self) -> None:
        """Raise the exception set with ``set_exception``, if any, with the traceback it had
        when it was set; return otherwise."""
        if self._exception is not None:
            raise self._failure()

    def pull_nowait(self) -> None:
        """Bring in the bytes available without waiting (a layer decodes what its source has
        buffered); on a root reader, nothing to do."""

    async def wait_for_input(self, caller: str = "wait_for_input", wanted: int = 0) -> None:
        """Wait until something changes: new bytes, EOF, an exception, bytes unread.

        ``wanted`` is how many bytes the waiting read needs buffered: feeding does not pause
        the input while fewer than that are buffered. Raises an exception set while it waits,
        and RuntimeError (naming ``caller``) if another coroutine is already waiting. Every
        read that waits waits here; ``begin_wait`` and ``end_wait`` are the same in two
        halves (inlined here: it runs once per piece a reading task waits for).
        """
        if self._waiter is not None:
            raise RuntimeError(
                f"{caller}() called while another coroutine is already waiting for incoming data"
            )
        waiter = self._waiter = self._future()
        self._wanted = wanted
        if self._paused:
            self._resume()  # after the waiter is set: resume_reading() may feed bytes
        try:
            await waiter
        finally:
            # Only this read's own: after a wake-up (which clears ``_waiter``), another
            # coroutine may have started waiting before this one resumed.
            current = self._waiter
            if current is None or current is waiter:
                self._waiter = None
                self._wanted = 0

    def begin_wait(self, caller: str, wanted: int = 0) -> asyncio.Future[None]:
        """Start the wait of ``wait_for_input`` and return its future; after awaiting it (or
        on cancellation), call ``end_wait`` with it. A layer waiting for its root's input
        makes the future its own waiter too, so that one future wakes both readers.
        Raises RuntimeError (naming ``caller``) if another coroutine is already waiting."""
        if self._waiter is not None:
            raise RuntimeError(
                f"{caller}() called while another coroutine is already waiting for incoming data"
            )
        waiter = self._waiter = self._future()
        self._wanted = wanted
        if self._paused:
            self._resume()  # after the waiter is set: resume_reading() may feed bytes
        return waiter

    def end_wait(self, waiter: asyncio.Future[None]) -> None:
        """End a wait begun with ``begin_wait`` (whether or not ``waiter`` is done)."""
        current = self._waiter
        if current is None or current is waiter:
            self._waiter = None
            self._wanted = 0

    def wake(self) -> None:
        """Wake the read waiting in ``wait_for_input``, if any: it returns and looks again (a
        layer's ``unread_data`` or ``set_exception`` reaches a read waiting on its source)."""
        self._wake_waiter()

    def discard_skipped(self) -> bool:
        """Let the skip under way (``begin_skip``) drop what of it is buffered; return True
        once no skip is under way. A layer calls it before decoding its source."""
        skip = self._skip
        if skip is None:
            return True
        if skip.discard(self._buffer, self._eof):
            self._skip = None
            self._buffer.held = self._exception is not None
        self._after_consume()
        return self._skip is None

    async def finish_skip(self, caller: str = "finish_skip") -> None:
        """Wait until the skip under way, if any, is over (the rest of an over-long line or
        frame already reported has passed). Raises the stored exception, and RuntimeError
        (naming ``caller``) if another coroutine is already waiting."""
        while self._skip is not None:
            if self.discard_skipped():
                return
            await self.wait_for_input(caller)
            if self._exception is not None:
                raise self._failure()

    def buffer_view(self) -> memoryview:
        """A read-only view of every buffered byte, without copying.

        The view must be released (``with reader.buffer_view() as view:``) before the reader is
        fed, read or consumed from again; code that keeps a slice must copy it (``bytes()``).
        Raises the stored exception, if any.
        """
        if self._exception is not None:
            raise self._failure()
        if self._skip is not None:
            self.discard_skipped()
        return self._buffer.view()

    def consume(self, n: int) -> None:
        """Drop the first ``n`` buffered bytes (they were decoded from ``buffer_view()``).

        Raises ValueError if fewer than ``n`` bytes are buffered.
        """
        if n < 0 or n > len(self._buffer):
            raise ValueError(f"cannot consume {n} bytes: {len(self._buffer)} buffered")
        if n:
            self._buffer.drop(n)
            self._after_consume()

    def begin_skip(self, skip: Skip) -> None:
        """Drop what ``skip`` claims (the rest of a frame already reported) before any read.

        Every read of this reader, and every layer or frame reader over it, first lets
        ``skip`` drop the bytes it claims, as they arrive, until it says the skip is over:
        whoever reads next gets the bytes after the skipped frame. Raises RuntimeError if a
        skip is already under way.
        """
        if self._skip is not None:
            raise RuntimeError("begin_skip() while another skip is under way")
        self._skip = skip
        self._buffer.held = True
        self.discard_skipped()

    @property
    def skipping(self) -> bool:
        """True while a skip begun by ``begin_skip`` (or an over-long line) is under way."""
        return self._skip is not None

    async def fill(self) -> bool:
        """Wait until more bytes are buffered than now, or EOF.

        Returns True if new bytes arrived, False if the stream ended without any. Raises the
        stored exception, and RuntimeError if another coroutine is already waiting.
        """
        before = self._buffer.produced
        while True:
            if self._exception is not None:
                raise self._failure()
            if self._buffer.produced != before:
                return True
            if self._eof:
                return self._buffer.produced != before
            await self.wait_for_input("fill")

    # -- reads -------------------------------------------------------------------------------

    async def read(self, n: int = -1) -> bytes:
        """Read up to ``n`` bytes; with ``n=-1`` (the default), read until EOF.

        Returns as soon as any bytes are buffered (fewer than ``n`` if fewer are available),
        and ``b""`` at EOF. ``read(0)`` returns ``b""`` at once.
        """
        if self._exception is not None:
            raise self._failure()
        if n == 0:
            return b""
        if n < 0:
            return await self._read_all()
        while True:
            if self._skip is not None:
                await self.finish_skip("read")
            if self._buffer:
                return self._take(n)
            if self._eof:
                return b""
            await self.wait_for_input("read")

    async def _read_all(self) -> bytes:
        while not self._eof:
            if self._skip is not None:
                await self.finish_skip("read")
                continue
            await self.wait_for_input("read", wanted=sys.maxsize)
        if self._exception is not None:
            raise self._failure()
        return self._take(len(self._buffer))

    async def readany(self) -> bytes:
        """Read whatever is buffered, waiting for bytes if none are; ``b""`` at EOF."""
        # ``read(sys.maxsize)``, without the coroutine in between (one call per piece read).
        if self._exception is not None:
            raise self._failure()
        buffer = self._buffer
        while True:
            if self._skip is not None:
                await self.finish_skip("readany")
            if buffer:
                return self._take(sys.maxsize)
            if self._eof:
                return b""
            await self.wait_for_input("readany")

    async def readexactly(self, n: int) -> bytes:
        """Read exactly ``n`` bytes.

        Waits until ``n`` bytes are buffered (the buffer may grow past the high-water mark to
        hold them). Raises ``asyncio.IncompleteReadError`` (with ``.partial`` and
        ``.expected``) if the stream ends first; the partial bytes are consumed.
        """
        if n < 0:
            raise ValueError("readexactly size can not be less than zero")
        buffer = self._buffer
        # The fast path, taking from a ``bytes`` buffer (``_take`` inlined: it runs once per
        # frame or header, and a method call is a fifth of its time); the loop below does the
        # rest (a bytearray buffer, an exception, a line being skipped, EOF).
        while True:
            data = buffer.data
            if type(data) is not bytes or buffer.held:
                break
            pos = buffer.pos
            end = pos + n
            if end <= len(data):
                buffer.pos = end
                buffer.scanned = 0
                if self._paused and len(data) - end <= self._limit:
                    self._resume()
                return data[pos:end]
            if self._eof:
                break
            await self.wait_for_input("readexactly", wanted=n)
        while True:
            if self._exception is not None:
                raise self._failure()
            if self._skip is not None:
                await self.finish_skip("readexactly")
            if len(buffer) >= n:
                return self._take(n)
            if self._eof:
                partial = self._take(len(buffer))
                raise asyncio.IncompleteReadError(partial, n)
            await self.wait_for_input("readexactly", wanted=n)

    async def peek(self, n: int) -> bytes:
        """Return the first ``n`` bytes without consuming them.

        Waits until ``n`` bytes are buffered or EOF; returns fewer only at EOF.
        """
        if n < 0:
            raise ValueError("peek size can not be less than zero")
        buffer = self._buffer
        while True:
            if self._exception is not None:
                raise self._failure()
            if self._skip is not None:
                await self.finish_skip("peek")
            if len(buffer) >= n or self._eof:
                return buffer.peek(n)
            await self.wait_for_input("peek", wanted=n)

    async def readline(self, *, max_line_length: int | None = None) -> bytes:
        """Read one line, ending with ``\\n`` (included).

        Returns the partial line at EOF, and ``b""`` at EOF with nothing buffered. A line of
        more than ``max_line_length`` bytes (default: the high-water mark), ``\\n`` included,
        raises :class:`~framekit.errors.LineTooLong` as soon as that many bytes are buffered
        without a ``\\n``; the whole line is then skipped, through its ``\\n`` even if that
        arrives later, and the next read starts at the next line.
        """
        # The fast path: search a ``bytes`` buffer, take the line (``_take`` inlined: it runs
        # once per line, and a method call is a fifth of its time) or wait for more.
        # ``_readuntil`` does the rest (a bytearray buffer, an exception, a line too long or
        # being skipped, EOF).
        buffer = self._buffer
        limit = self._high if max_line_length is None else max_line_length
        while True:
            data = buffer.data
            if type(data) is not bytes or buffer.held:
                break
            pos = buffer.pos
            start = pos + buffer.scanned if self._scan_key is _LF else pos
            end = data.find(b"\n", start, pos + limit) + 1
            if end:
                buffer.pos = end
                buffer.scanned = 0
                if self._paused and len(data) - end <= self._limit:
                    self._resume()
                return data[pos:end]
            size = len(data) - pos
            if size >= limit or self._eof:
                break
            self._scan_key = _LF
            buffer.scanned = size
            await self.wait_for_input("readline", wanted=limit)
        return await self._readuntil(_LF, max_line_length, "readline", "max_line_length")

    async def readuntil(
        self, separator: Separator = b"\n", *, max_size: int | None = None
    ) -> bytes:
        """Read up to and including ``separator`` (or the first of a tuple of separators).

        With a tuple, the shortest result wins: the data ending earliest in the stream in any
        of the separators (as asyncio 3.13). A separator split across any number of feeds is
        found. Returns the partial data at EOF without a separator, and ``b""`` at EOF with
        nothing buffered. More than ``max_size`` bytes (default: the high-water mark) without
        a separator raises :class:`~framekit.errors.LineTooLong` and skips the whole
        over-long piece through its separator, as ``readline`` does.
        """
        if separator is self._separator:
            seps = self._separators
        else:
            seps = _LF if separator == b"\n" else _separators(separator)
            if type(separator) is bytes or (
                type(separator) is tuple and all(type(s) is bytes for s in separator)
            ):
                # Immutable: safe to recognise by identity next time.
                self._separator = separator
                self._separators = seps
        if len(seps) == 1:
            # The fast path for one separator, as readline's.
            buffer = self._buffer
            sep = seps[0]
            width = len(sep)
            limit = self._high if max_size is None else max_size
            while True:
                data = buffer.data
                if type(data) is not bytes or buffer.held:
                    break
                pos = buffer.pos
                start = pos + buffer.scanned if self._scan_key is seps else pos
                i = data.find(sep, start, pos + limit)
                if i >= 0:
                    end = i + width
                    buffer.pos = end
                    buffer.scanned = 0
                    if self._paused and len(data) - end <= self._limit:
                        self._resume()
                    return data[pos:end]
                size = len(data) - pos
                if size >= limit or self._eof:
                    break
                self._scan_key = seps
                buffer.scanned = max(0, size - width + 1)
                await self.wait_for_input("readuntil", wanted=limit)
        return await self._readuntil(seps, max_size, "readuntil", "max_size")

    async def _readuntil(
        self, seps: tuple[bytes, ...], max_size: int | None, func: str, option: str
    ) -> bytes:
        if max_size is None:
            max_size = self._high
        elif max_size <= 0:
            raise ValueError(f"{option} must be positive, not {max_size}")
        buffer = self._buffer
        while True:
            if self._exception is not None:
                raise self._failure()
            if self._skip is not None:
                await self.finish_skip(func)
                continue
            end = self._search(seps, max_size)
            if end >= 0:
                return self._take(end)
            size = len(buffer.data) - buffer.pos
            # ``max_size`` bytes without a separator: the line, with its separator, will be
            # longer. At EOF there is no separator to come, and ``max_size`` bytes are fine.
            if size > max_size or (size == max_size and not self._eof):
                self._line_too_long(seps, max_size, option)
            if self._eof:
                return self._take(len(buffer))
            await self.wait_for_input(func, wanted=max_size)

    def _search(self, seps: tuple[bytes, ...], max_size: int) -> int:
        """End (exclusive) of the earliest separator ending within ``max_size``, or -1."""
        buffer = self._buffer
        data = buffer.data
        pos = buffer.pos
        start = pos + buffer.scanned if self._scan_key is seps else pos
        stop = min(pos + max_size, len(data))
        if len(seps) == 1:
            sep = seps[0]
            i = data.find(sep, start, stop)
            if i >= 0:
                return i + len(sep) - pos
        else:
            # Look in a window that doubles until a separator is in it: the cost is then
            # proportional to the distance to the earliest one, not to ``max_size``. (A
            # separator of the tuple that never comes was otherwise searched for up to
            # ``max_size`` bytes ahead on every call: quadratic over many short lines.) A
            # separator wholly inside the window ends before any that crosses its end, so the
            # earliest end in the window is the earliest end; each round searches only where
            # a separator crossing the previous window's end may start.
            hi = start
            size = _FIRST_WINDOW
            while hi < stop:
                lo = hi
                hi = min(stop, hi + size)
                size *= 2
                best = -1
                for sep in seps:
                    i = data.find(sep, max(start, lo - len(sep) + 1), hi)
                    if i >= 0:
                        end = i + len(sep)
                        if best < 0 or end < best:
                            best = end
                if best >= 0:
                    return best - pos
        longest = max(len(s) for s in seps)
        self._scan_key = seps
        buffer.scanned = max(0, min(len(data) - pos, max_size) - longest + 1)
        return -1

    def _line_too_long(self, seps: tuple[bytes, ...], max_size: int, option: str) -> None:
        offset = self._buffer.head
        self.begin_skip(_SeparatorSkip(seps))
        raise LineTooLong(
            f"no separator within {option}={max_size} bytes; the line is skipped",
            limit=max_size,
            offset=offset,
        )

    async def readchunk(self) -> tuple[bytes, bool]:
        """Read a chunk of data as it was received: ``(data, end_of_chunk)``.

        On a reader fed HTTP chunk marks (a chunked layer, or ``mark_chunk_end``), the data
        stops at the end of each HTTP chunk and ``end_of_chunk`` is True there; otherwise
        ``data`` is everything buffered and ``end_of_chunk`` False. At EOF: ``(b"", False)``.
        A chunk end reached with no data before it here (an earlier read stopped exactly
        there, or a decompressing layer knew the end only after handing out the chunk's
        output) is ``(b"", True)``, as in aiohttp; a chunk that carried no data has no end.
        """
        buffer = self._buffer
        while True:
            if self._exception is not None:
                raise self._failure()
            if self._skip is not None:
                await self.finish_skip("readchunk")
            distance = buffer.chunk_end_at_or_after_head()
            if distance is not None and distance <= len(buffer):
                buffer.marks.popleft()
                return (self._take(distance) if distance else b""), True
            if buffer:
                return self._take(len(buffer)), False
            if self._eof:
                return b"", False
            await self.wait_for_input("readchunk")

    def read_nowait(self, n: int = -1) -> bytes:
        """Return up to ``n`` buffered bytes (all with ``n=-1``) without waiting.

        Returns ``b""`` if nothing is buffered. Raises RuntimeError if another coroutine is
        waiting for data, and the stored exception if one is set.
        """
        if self._waiter is not None:
            raise RuntimeError("Called while some coroutine is waiting for incoming data.")
        self.pull_nowait()
        if self._exception is not None:
            raise self._failure()
        if self._skip is not None:
            self.discard_skipped()
            if self._skip is not None:
                return b""
        if n < 0:
            n = len(self._buffer)
        return self._take(n) if n else b""

    def unread_data(self, data: bytes | bytearray | memoryview) -> None:
        """Put ``data`` back at the head of the buffer, to be read again first.

        Supported (not deprecated). ``total_bytes`` and ``total_raw_bytes`` are unchanged.
        Raises RuntimeError while an over-long line is being skipped (after ``LineTooLong``,
        until its separator arrives): the bytes would be taken for the rest of that line.
        """
        if not data:
            return
        if self._skip is not None:
            raise RuntimeError(
                "unread_data() while an over-long line is being skipped (its separator has not "
                "arrived): the bytes would be dropped as part of that line"
            )
        self._buffer.unread(data)
        self._wake_waiter()

    async def wait_eof(self) -> None:
        """Wait until EOF is fed (buffered bytes may remain to be read).

        Returns at once if EOF was already fed. While it waits, input paused above the
        high-water mark is resumed and not paused again: the bytes before EOF may be more
        than the mark. Raises the stored exception (also one set while it waits), and
        RuntimeError if another coroutine is already waiting for EOF.
        """
        if self._eof:
            return
        if self._exception is not None:
            raise self._failure()
        if self._eof_waiter is not None:
            raise RuntimeError("wait_eof() called while another coroutine is waiting for EOF")
        waiter = self._eof_waiter = self._future()
        if self._paused:
            # After the waiter is set: a flow object may feed bytes (and EOF) from
            # resume_reading().
            self._resume()
        try:
            await waiter
        finally:
            self._eof_waiter = None

    # -- iteration ---------------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[bytes]:
        """Iterate over lines (``readline``) until EOF."""
        return _Iterator(self.readline, b"")

    def iter_chunked(self, n: int) -> AsyncIterator[bytes]:
        """Iterate over pieces of at most ``n`` bytes (``read(n)``) until EOF."""
        if n <= 0:
            raise ValueError("iter_chunked() needs a positive size")

        async def read() -> bytes:
            return await self.read(n)

        return _Iterator(read, b"")

    def iter_any(self) -> AsyncIterator[bytes]:
        """Iterate over whatever is buffered each time (``readany``) until EOF."""
        return _Iterator(self.readany, b"")

    def iter_chunks(self) -> AsyncIterator[tuple[bytes, bool]]:
        """Iterate over ``readchunk()`` results until EOF (``(b"", False)``, not yielded)."""
        return _Iterator(self.readchunk, (b"", False))

    # -- composition -------------------------------------------------------------------------

    def layer(self, codec: ByteCodec, *, limit: int | None = None) -> LayerReader:
        """A reader of this reader's bytes decoded by ``codec`` (chunked, gzip, ...).

        ``limit`` (default: this reader's) is the layer's buffer limit and its output budget
        per decoding step. See :mod:`framekit.layers`.
        """
        # Imported here: a layer is a StreamReader (framekit.layers imports this module).
        from framekit.layers import LayerReader

        return LayerReader(self, codec, limit=self._limit if limit is None else limit)

    def frames(self, codec: FrameCodec[T]) -> FrameReader[T]:
        """A reader of the frames ``codec`` decodes from this reader. See ``FrameReader``."""
        return FrameReader(self, codec)

    # -- internals ---------------------------------------------------------------------------

    def _take(self, n: int) -> bytes:
        """Remove and return ``n`` bytes from the head: what every read does to consume.

        The fast paths of ``readline``, ``readuntil`` and ``readexactly`` inline it.
        """
        chunk = self._buffer.take(n)
        if self._paused and len(self._buffer) <= self._limit:
            self._resume()
        return chunk

    def _after_consume(self) -> None:
        """Bytes were taken from the head: resume a paused input at or below the low mark
        (also the buffer's ``on_consume`` while paused, for adapters)."""
        if self._paused and len(self._buffer) <= self._limit:
            self._resume()

    def _resume(self) -> None:
        self._paused = False
        self._buffer.on_consume = None
        assert self._flow is not None
        self._flow.resume_reading()

    def _wake_waiter(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            if not waiter.done():
                waiter.set_result(None)


_LF = (b"\n",)
#: The first window a search for several separators looks in (see ``_search``).
_FIRST_WINDOW = 256


class _SeparatorSkip:
    """The rest of an over-long line: everything through the earliest of ``seps``."""

    __slots__ = ("_longest", "_seps")

    def __init__(self, seps: tuple[bytes, ...]) -> None:
        self._seps = seps
        self._longest = max(len(s) for s in seps)

    def discard(self, buffer: Buffer, eof: bool) -> bool:
        best = -1
        for sep in self._seps:
            i = buffer.find(sep)
            if i >= 0 and (best < 0 or i + len(sep) < best):
                best = i + len(sep)
        if best >= 0:
            buffer.drop(best)
            return True
        if eof:
            buffer.drop(len(buffer))
            return True
        buffer.drop(max(0, len(buffer) - self._longest + 1))
        return False


class _Iterator(Generic[T]):
    """An async iterator calling ``read()`` until it returns ``end``.

    A class rather than an async generator: an exception (such as LineTooLong) does not end
    it, so iteration can go on after the caller handled the error.
    """

    __slots__ = ("_end", "_read")

    def __init__(self, read: Callable[[], Awaitable[T]], end: T) -> None:
        self._read = read
        self._end = end

    def __aiter__(self) -> _Iterator[T]:
        return self

    async def __anext__(self) -> T:
        item = await self._read()
        if item == self._end:
            raise StopAsyncIteration
        return item
