"""The codecs without an event loop: frames and decoded bytes from files, sockets and iterables.

A *source* is where the bytes come from, read in pieces as they are needed:

- a binary file object (``readinto`` is used when it has one, else ``read``): an open file,
  ``io.BytesIO``, ``sys.stdin.buffer``, a pipe; an empty read is its end;
- a socket (``recv_into``): an empty read is the peer's end (its ``shutdown`` or ``close``);
- an iterable of bytes-like pieces (a list, a generator, a ``requests`` body iterator): its
  end is the end of the iteration; empty pieces are skipped;
- a bytes-like object: one piece.

Sources must be blocking: a read waits until bytes arrive. Whatever a read raises (a socket
timeout, an interrupted pipe) reaches the caller unchanged, and the reader lost nothing: the
same call can be made again (the next ``next()`` of an iterator goes on where it was). An
iterable that raised is not asked again (a generator that raised has ended, and its end is not
the stream's): every later read raises the same error. Nothing ever ends as if the stream were
complete after an error.

Frames: :func:`decode` decodes a bytes object in one call; :func:`iter_frames` iterates over the
frames of a source; :class:`SyncReader` reads a source with the core reader's read calls and
hands out :class:`SyncFrameReader` objects over it, so a protocol can read some frames, take
raw bytes (a payload, the rest of the stream), and frame again with the same codec or another.
Bytes: :func:`decode_bytes` and :func:`iter_decoded` run byte codecs (chunked, gzip, ...),
stacked in order, over a bytes object or a source.

Everything keeps the async readers' semantics. A decoder is called once per piece read (not
once per frame), on the bytes it has not consumed with the new piece appended, so it resumes
its search where it stopped. Frames handed out one at a time are consumed one at a time.
Errors are the codec's (see :mod:`framekit.errors`), with offsets counted from the first byte
of the source; a frame over its maximum is raised once and skipped, and iterating goes on
with the next frame.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any, Protocol, TypeAlias, TypeVar

from framekit._buffer import Buffer
from framekit._driver import ByteDriver, FrameDriver, _byte_decoder
from framekit._port import Skip
from framekit.codecs._base import (
    DEFAULT_BUDGET,
    ByteCodec,
    FrameCodec,
    drop_frame_locals,
)
from framekit.errors import EndOfStream, FramingError, MalformedError, TruncatedError

__all__ = [
    "DEFAULT_READ_SIZE",
    "Source",
    "SyncFrameReader",
    "SyncReader",
    "decode",
    "decode_bytes",
    "iter_decoded",
    "iter_frames",
]

T = TypeVar("T")

Bytes: TypeAlias = bytes | bytearray | memoryview

#: How many bytes a read from a file or a socket asks for at most.
DEFAULT_READ_SIZE = 64 * 1024


class _ReadsInto(Protocol):
    def readinto(self, buffer: Any, /) -> int | None: ...


class _Reads(Protocol):
    def read(self, size: int, /) -> bytes | None: ...


class _ReceivesInto(Protocol):
    def recv_into(self, buffer: Any, nbytes: int = ..., /) -> int: ...


#: What the readers accept as a source of bytes (see the module docstring).
Source: TypeAlias = "_ReadsInto | _Reads | _ReceivesInto | Iterable[Bytes] | Bytes"


# -- one call ---------------------------------------------------------------------------------


def decode(data: Bytes, codec: FrameCodec[T]) -> list[T]:
    """Return the frames ``codec`` decodes from ``data``, which is the whole input.

    The end of ``data`` is the end of the input: a final frame without its ending is a frame or
    a TruncatedError as the codec says (``at_eof`` for lines). Raises the first error the codec
    meets (offsets count from ``data[0]``).
    """
    return list(SyncReader(data).frames(codec))


def decode_bytes(data: Bytes, *codecs: ByteCodec, budget: int = DEFAULT_BUDGET) -> bytes:
    """Return ``data`` decoded by ``codecs`` in order: ``decode_bytes(body, Chunked(), Gzip())``.

    ``data`` is the whole input, and each encoding must end exactly at the end of its input.
    Raises the codec's errors (TruncatedError if an encoding is cut short), and MalformedError
    for bytes after the end of an encoding (for a codec that stops there, as chunked does).
    Offsets count in the input of the codec that raised: ``data`` for the first, the first's
    output for the second, and so on. ``budget`` bounds the output of each decoding step: the
    stages stream into each other a step at a time, as the async layers do, so only the final
    output is held whole (a codec's ``max_output_size`` stops it as it grows).
    """
    stages = _ByteStages(_once(data), codecs, budget)
    parts = []
    while piece := stages.next_output():
        parts.append(piece)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _trailing(codec: ByteCodec, offset: int, count: int) -> MalformedError:
    return MalformedError(
        f"{count} bytes after the end of the {type(codec).__name__} encoding", offset=offset
    )


# -- sources ----------------------------------------------------------------------------------


def _piece_reader(source: Source, read_size: int) -> Callable[[], Bytes]:
    """A function returning the source's next piece, ``b""`` at its end (and after it).

    Files are read with ``readinto1`` (or ``read1``) when they have it: one read of the
    underlying file, so a pipe or a socket's file delivers what has arrived instead of
    waiting for ``read_size`` bytes.
    """
    if read_size <= 0:
        raise ValueError(f"read_size must be positive, got {read_size}")
    if isinstance(source, (bytes, bytearray, memoryview)):
        return _once(source)
    scratch = memoryview(bytearray(read_size))
    readinto = getattr(source, "readinto1", None) or getattr(source, "readinto", None)
    if readinto is not None:

        def read_file() -> Bytes:
            n = readinto(scratch)
            if n is None:
                raise BlockingIOError("the source is non-blocking and has no bytes ready")
            return scratch[:n]

        return read_file
    recv_into = getattr(source, "recv_into", None)
    if recv_into is not None:
        return lambda: scratch[: recv_into(scratch, read_size)]
    read = getattr(source, "read1", None) or getattr(source, "read", None)
    if read is not None:

        def read_bytes() -> Bytes:
            data = read(read_size)
            if data is None:
                raise BlockingIOError("the source is non-blocking and has no bytes ready")
            return data  # type: ignore[no-any-return]

        return read_bytes
    if isinstance(source, Iterable):
        pieces = iter(source)
        failed: list[tuple[BaseException, TracebackType | None]] = []

        def next_piece() -> Bytes:
            if failed:
                # Raised again with the traceback it had, which must not grow with each raise.
                error, traceback = failed[0]
                raise error.with_traceback(traceback)
            try:
                for piece in pieces:
                    if piece:
                        return piece
            except BaseException as error:
                failed.append((error, error.__traceback__))
                raise
            return b""

        return next_piece
    raise TypeError(
        "a source is a binary file, a socket, an iterable of bytes or a bytes object, "
        f"not {type(source).__name__}"
    )


def _once(data: Bytes) -> Callable[[], Bytes]:
    pieces = [data]

    def next_piece() -> Bytes:
        return pieces.pop() if pieces else b""

    return next_piece


# -- frames -----------------------------------------------------------------------------------


def iter_frames(
    source: Source, codec: FrameCodec[T], *, read_size: int = DEFAULT_READ_SIZE
) -> SyncFrameReader[T]:
    """Return an iterator over the frames ``codec`` decodes from ``source``.

    ``for frame in iter_frames(sock, LengthPrefixed()):`` reads the source in pieces of at
    most ``read_size`` bytes as frames are needed, and stops at the source's end after the
    codec's last frame. It is a :class:`SyncFrameReader`: iteration may go on after an error
    (see there), and it can hand the bytes after the last frame to the caller.
    """
    return SyncReader(source, read_size=read_size).frames(codec)


class SyncReader:
    """Reads a blocking ``source`` (see the module docstring) in pieces, keeping what is left.

    The read calls follow the core reader's: ``read(n)``, ``readexactly(n)``,
    ``read_nowait(n)``; ``frames(codec)`` makes a :class:`SyncFrameReader` starting at the
    first byte not yet read. Frame readers and read calls can take turns: a frame reader goes
    on after bytes read around it, and a read call after frames gets the bytes after the last
    frame handed out (or, after an over-long frame was reported, the bytes after it). Offsets
    in errors count from the source's first byte.
    """

    __slots__ = ("_buffer", "_eof", "_next_piece", "_skip")

    def __init__(self, source: Source, *, read_size: int = DEFAULT_READ_SIZE) -> None:
        self._next_piece = _piece_reader(source, read_size)
        # The bytes read and not yet consumed, in the core reader's buffer (stream positions,
        # resumable frames, the same frame driver).
        self._buffer = Buffer()
        self._eof = False
        # What is being skipped (the rest of a frame a frame reader rejected), or None.
        self._skip: Skip | None = None

    @property
    def buffer(self) -> Buffer:
        """The bytes read and not yet consumed (the port's view for a frame driver; see
        :mod:`framekit._port`), the same object for this reader's life."""
        return self._buffer

    @property
    def position(self) -> int:
        """How many bytes of the source were consumed (by read calls and frames handed out)."""
        return self._buffer.head

    def at_eof(self) -> bool:
        """True when the source has ended and every byte read from it was consumed."""
        return self._eof and not self._buffer and self._skip is None

    def is_eof(self) -> bool:
        """True when the source has ended (bytes read from it may still be buffered)."""
        return self._eof

    def frames(self, codec: FrameCodec[T]) -> SyncFrameReader[T]:
        """A reader of the frames ``codec`` decodes from here on. See SyncFrameReader."""
        return SyncFrameReader(self, codec)

    def begin_skip(self, skip: Skip) -> None:
        """Drop what ``skip`` claims (the rest of a frame already reported) before any read,
        as ``StreamReader.begin_skip`` does. Raises RuntimeError if a skip is under way."""
        if self._skip is not None:
            raise RuntimeError("begin_skip() while another skip is under way")
        self._skip = skip
        self._buffer.held = True
        self._discard_skipped()

    def read(self, n: int = -1) -> bytes:
        """Read up to ``n`` bytes; with ``n=-1`` (the default), every byte until the end.

        Waits for one piece from the source when nothing is buffered. Returns fewer than ``n``
        bytes if fewer are buffered, and ``b""`` at the end. Raises what the source raises.
        """
        self._finish_skip()
        if n == 0:
            return b""
        if n < 0:
            while self._fill():
                pass
            return self._buffer.take_all()
        if not self._buffer and not self._fill():
            return b""
        return self._buffer.take(n)

    def readexactly(self, n: int) -> bytes:
        """Read exactly ``n`` bytes, waiting for as many pieces as that takes.

        Raises TruncatedError (at the offset where the source ended) if it ends first; the
        bytes that did arrive are left in place for the next read.
        """
        if n < 0:
            raise ValueError("readexactly size can not be less than zero")
        self._finish_skip()
        buffer = self._buffer
        while len(buffer) < n:
            if not self._fill():
                raise TruncatedError(
                    f"input ended {n - len(buffer)} bytes short of a {n}-byte read",
                    offset=buffer.produced,
                )
        return buffer.take(n)

    def read_nowait(self, n: int = -1) -> bytes:
        """Return up to ``n`` buffered bytes (all with ``n=-1``) without reading the source.

        The bytes read from the source but not yet handed out: after frames, those after the
        last frame, for a protocol that takes the source over (a TLS wrap of the socket).
        ``b""`` while an over-long frame's rest is still to be skipped.
        """
        if self._skip is not None:
            self._discard_skipped()
            if self._skip is not None:
                return b""
        if n < 0:
            n = len(self._buffer)
        return self._buffer.take(n)

    # -- internals ---------------------------------------------------------------------------

    def _discard_skipped(self) -> None:
        skip = self._skip
        assert skip is not None
        if skip.discard(self._buffer, self._eof):
            self._skip = None
            self._buffer.held = False

    def _finish_skip(self) -> None:
        """Read pieces until the skip under way (if any) is over."""
        while self._skip is not None:
            self._discard_skipped()
            if self._skip is not None:
                self._fill()

    def _fill(self) -> bool:
        """Append the source's next piece; False (and nothing read) at its end."""
        if self._eof:
            return False
        piece = self._next_piece()
        if not piece:
            self._eof = True
            self._buffer.ended = True
            if self._skip is not None:
                self._discard_skipped()
            return False
        self._buffer.write(piece)
        if self._skip is not None:
            self._discard_skipped()  # a skipped frame's bytes are dropped as they arrive
        return True


class SyncFrameReader(FrameDriver[T]):
    """Reads the frames ``codec`` decodes from a :class:`SyncReader`.

    Made by ``reader.frames(codec)`` or :func:`iter_frames`. ``read()`` returns the next frame
    and raises :class:`~framekit.errors.EndOfStream` at the end (the source's end, after the
    codec's last frame); ``for frame in frames`` iterates until then, and ``read_batch()``
    returns every frame the bytes read so far hold (``[]`` at the end). Each waits for pieces
    from the source until it has a frame.

    Codec errors are raised by the read (or the ``next``) that meets them, with offsets from the
    source's first byte. A frame over its maximum is raised once and skipped, by the
    SyncReader, so reading or iterating goes on with the next frame, with this frame reader or
    any other read; an error a codec cannot recover from (a malformed length) is raised again
    by every later read. A frame cut short by the end is a TruncatedError, after which the
    reader is at its end. Whatever the source raises passes through, and the same read can be
    retried.

    Frames are consumed as they are handed out: after any frame, the bytes that follow are
    still in the SyncReader for its read calls or another frame reader. It is driven as the
    async FrameReader is (the same :class:`~framekit._driver.FrameDriver`): frames decoded
    past a read around it are kept where that read took whole frames, and decoding starts
    again at the reader's position otherwise, in linear time either way.
    """

    __slots__ = ()

    def __init__(self, reader: SyncReader, codec: FrameCodec[T]) -> None:
        super().__init__(reader, codec)
        self._source: SyncReader = reader

    @property
    def reader(self) -> SyncReader:
        """The reader frames are decoded from (for raw reads between frames)."""
        return self._source

    def __iter__(self) -> SyncFrameReader[T]:
        return self

    def __next__(self) -> T:
        try:
            return self.read()
        except EndOfStream:
            raise StopIteration from None

    def read(self) -> T:
        """Return the next frame.

        Reads pieces from the source until a whole frame is there. Raises EndOfStream at the
        end of the stream (and on every later call), the codec's errors (a frame too long is
        raised once and skipped), TruncatedError if the stream ends inside a frame the codec
        cannot deliver, and what the source raises.
        """
        frames = self._frames
        source = self._source
        while True:
            # The fast path, as the async reader's: the buffer is as this reader left it.
            buffer = self._buffer
            if frames and buffer.data is self._anchor and buffer.pos == self._at:
                self._at = buffer.pos = self._origin + self._ends.popleft()
                return frames.popleft()
            source._finish_skip()
            self._resync()
            if frames:
                return self._hand_out()
            if self._done:
                raise EndOfStream("the frames ended: the stream is at its end")
            if not self._decode(with_ends=True):
                source._fill()

    def read_batch(self) -> list[T]:
        """Return every frame the bytes read so far hold, reading pieces until there is one.

        Returns ``[]`` at the end. Raises as ``read()`` does; frames before an error are
        returned first.
        """
        source = self._source
        while True:
            source._finish_skip()
            self._resync()
            if self._frames:
                return self._take_pending()
            if self._done:
                return []
            batch: list[T] = []
            if self._decode(with_ends=False, batch=batch):
                if batch:
                    return batch
            else:
                source._fill()


# -- bytes ------------------------------------------------------------------------------------


class _Output:
    """A byte decoder's output sink for one step (chunk ends are not kept here)."""

    __slots__ = ("parts",)

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: Bytes) -> None:
        # A copy unless it is ``bytes``: a view may be of the decoder's input, or reused.
        self.parts.append(data if type(data) is bytes else bytes(data))

    def write_marked(self, data: bytes, marks: list[int]) -> None:
        self.parts.append(data)

    def mark_chunk_end(self) -> None:
        pass

    def take(self) -> bytes:
        parts = self.parts
        return parts[0] if len(parts) == 1 else b"".join(parts)


class _Stage:
    """One byte decoder in a stack: its driver, its input not consumed yet, its output."""

    __slots__ = ("codec", "deferred", "driver", "ended", "input", "input_ended", "output")

    def __init__(self, codec: ByteCodec) -> None:
        self.codec = codec
        # An error met after some output of the same step: raised once that output is out.
        self.deferred: FramingError | None = None
        # Chunk ends are not kept: nothing here reports them.
        self.driver = ByteDriver(_byte_decoder(codec), keep_marks=False)
        self.input = Buffer()  # stream positions in this stage's input
        self.output = Buffer()
        self.input_ended = False  # the stage under it (or the source) has no more bytes
        self.ended = False  # the decoder is done and nothing followed its end


class _ByteStages:
    """Byte decoders stacked over a source, pulled from the top a step at a time.

    Asking for output runs the top decoder on what it holds; when it needs more input it asks
    the stage under it for one step of output, and so on down to the source, which is read
    only when the bottom decoder needs a piece. So each stage holds at most one step of its
    input beyond what its decoder left, and no stage's output is ever held whole. Whatever
    the source raises passes through with nothing changed, and the same call goes on where it
    was; a decoder's error (or bytes after the end of an encoding) is raised again by every
    later call.
    """

    __slots__ = ("_budget", "_failure", "_failure_tb", "_next_piece", "_source_ended", "_stages")

    def __init__(
        self, next_piece: Callable[[], Bytes], codecs: tuple[ByteCodec, ...], budget: int
    ) -> None:
        if budget <= 0:
            raise ValueError(f"budget must be positive, got {budget}")
        self._next_piece = next_piece
        self._stages = [_Stage(codec) for codec in codecs]
        self._budget = budget
        self._source_ended = False
        self._failure: FramingError | None = None
        self._failure_tb: TracebackType | None = None

    def next_output(self) -> bytes:
        """The next piece of the top stage's output (at most ``budget`` bytes), ``b""`` at
        the end, after which every decoder is done and the source has ended."""
        if self._failure is not None:
            raise self._failure.with_traceback(self._failure_tb)
        data = self._pull(len(self._stages))
        return data if type(data) is bytes else bytes(data)

    def _pull(self, index: int) -> Bytes:
        """One step of output of the stage below ``index`` (the source's next piece for 0)."""
        if index == 0:
            if self._source_ended:
                return b""
            piece = self._next_piece()
            if not piece:
                self._source_ended = True
            return piece
        stage = self._stages[index - 1]
        if stage.deferred is not None:
            raise self._fail(stage.deferred)
        driver = stage.driver
        source = stage.input
        while True:
            if driver.decoder.done:
                if stage.ended:
                    return b""
                if source:
                    raise self._fail(_trailing(stage.codec, source.head, len(source)))
                more = self._pull(index - 1)
                if more:
                    source.write(more)
                else:
                    stage.ended = True
                continue
            try:
                progressed = driver.pump(
                    source, stage.output, self._budget, stage.input_ended, True
                )
            except FramingError as error:
                if not stage.output:
                    raise self._fail(error) from None
                # As a layer does: the bytes decoded before the error first, then the error.
                drop_frame_locals(error)
                stage.deferred = error
                return stage.output.take_all()
            if stage.output:
                return stage.output.take_all()
            if progressed:
                continue
            more = self._pull(index - 1)  # the decoder needs more input
            if more:
                source.write(more)
            else:
                stage.input_ended = True

    def _fail(self, error: FramingError) -> FramingError:
        # Kept: its frames must not hold slices of a stage's pending bytes.
        drop_frame_locals(error)
        self._failure = error
        self._failure_tb = error.__traceback__
        return error


class _DecodedIterator(Iterator[bytes]):
    """What :func:`iter_decoded` returns: ``next()`` gives the next piece of output."""

    __slots__ = ("_stages",)

    def __init__(self, stages: _ByteStages) -> None:
        self._stages = stages

    def __iter__(self) -> _DecodedIterator:
        return self

    def __next__(self) -> bytes:
        data = self._stages.next_output()
        if not data:
            raise StopIteration
        return data


def iter_decoded(
    source: Source,
    *codecs: ByteCodec,
    read_size: int = DEFAULT_READ_SIZE,
    budget: int = DEFAULT_BUDGET,
) -> Iterator[bytes]:
    """Return an iterator over ``source``'s bytes decoded by ``codecs`` in order, in pieces.

    ``for data in iter_decoded(open(path, "rb"), Chunked(), Gzip()):`` reads pieces of at
    most ``read_size`` bytes as output is needed and yields the output as it is decoded, in
    pieces of at most ``budget`` bytes; the stages stream into each other a step at a time, so
    a small file that decompresses to gigabytes is never held whole, at any stage. Raises as
    :func:`decode_bytes` does (a codec's error is raised again by every later ``next()``:
    byte codecs do not recover), and what the source raises: then the iteration can go on,
    and nothing is lost (see the module docstring). Chunk boundaries are not kept.
    """
    return _DecodedIterator(_ByteStages(_piece_reader(source, read_size), codecs, budget))
