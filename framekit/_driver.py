"""The one driver of frame decoders, shared by the async and the blocking frame readers.

A :class:`FrameDriver` runs one frame decoder over the receive buffer of a *source*: the core
:class:`~framekit.reader.StreamReader` (and so any layer) for
:class:`~framekit.frames.FrameReader`, or a :class:`~framekit.sync.SyncReader` for
:class:`~framekit.sync.SyncFrameReader`. It is sans-IO: the readers add waiting (an await, or
a blocking read of the source) and their fast paths; every decision is made here.

What it uses of a source is the port (:mod:`framekit._port`; ``FrameSource``): its
``buffer``, whose ``head`` position and ``unreads`` count tell the driver, with one compare,
whether anyone read or unread around it, and whose ``on_consume`` it calls after taking bytes
(flow control); ``begin_skip`` (the rest of a rejected frame, dropped by the source before
any read); and ``is_eof``.

What the driver owns, so no reader and no decoder has to:

- **Offsets.** A decoder counts from its own first byte; errors are rebased to the source's
  stream (``_rebased``), on a copy, as a sticky error is raised again.
- **Errors in order.** A decoder returns the frames before a bad spot and raises on the next
  call; the driver hands those frames out first. The source's exception wins over frames
  decoded (the async reader checks it before any decision).
- **EOF.** At the source's end the driver calls ``decode_eof``; a call that finds nothing ends
  the frames, and a TruncatedError ends them after it is raised.
- **Skips.** After a recoverable error, or a decode that consumed bytes past its last frame,
  the decoder's ``discard`` is handed to the source (``_hand_skip_to_source``): whoever reads
  the source next reads what follows the rejected frame. If nobody else read, this driver
  goes on with the same decoder after the skip.
- **Reads around it.** Frames decoded past a read that took whole frames are kept
  (``_resume_at``); a decoder that had handed out everything goes on after a read that took
  bytes it had only searched (its search reset); otherwise a fresh decoder starts at the head,
  and a one-at-a-time decode looks ahead only in a window that doubles from
  ``_FIRST_WINDOW``, so frames alternating with raw reads cost linear time.
- **The contract's checks.** A decoder given an ``ends`` list appends one end per frame
  (else :class:`~framekit.errors.CodecContractError`); a codec of the wrong kind is refused
  when the reader is made, and so is a decoder without ``needs_input``. That attribute, read
  after each decode, saves a decode call per wait.
"""

from __future__ import annotations

import copy
from collections import deque
from typing import Any, Generic, TypeVar

from framekit._buffer import Buffer
from framekit._port import FrameSource
from framekit.codecs._base import ByteDecoder, FrameCodec, FrameDecoder, drop_frame_locals
from framekit.errors import CodecContractError, FramingError, TruncatedError

__all__ = ["ByteDriver", "FrameDriver", "FrameSource"]

T = TypeVar("T")


class FrameDriver(Generic[T]):
    """Runs a frame decoder over a source's buffer: the state and every decision of a frame
    reader, without its waiting. See the module docstring."""

    __slots__ = (
        "_anchor",
        "_at",
        "_base",
        "_buffer",
        "_clean",
        "_codec",
        "_decoded_to",
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

    def __init__(self, source: FrameSource, codec: FrameCodec[T]) -> None:
        self._source = source
        self._codec = codec
        self._decoder: FrameDecoder[T] = _frame_decoder(codec)
        buffer = self._buffer = source.buffer
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
        # The stream position where the decoder's next call starts: past every byte it
        # consumed (frames handed out or pending, bytes it skipped).
        self._decoded_to = buffer.head

    @property
    def decoder(self) -> FrameDecoder[T]:
        """This stream's decoder (for codec-specific counters such as skipped frames).

        A new one after the source was read around this reader (see the class docstring).
        """
        return self._decoder

    def at_eof(self) -> bool:
        """True once the end of the stream was reached by a read."""
        return self._done

    def _take_pending(self) -> list[T]:
        """Hand out every pending frame at once (``read_batch``)."""
        batch = list(self._frames)
        self._consume(self._start + self._ends[-1] + self._tail - self._buffer.head)
        self._frames.clear()
        self._ends.clear()
        self._tail = 0
        return batch

    def _resync(self) -> None:
        """Go on from the source's head if someone read around this reader."""
        buffer = self._buffer
        anchor = self._anchor
        # Where this reader left the head: with an anchor, the fast path moved it since.
        head = self._head if anchor is None else self._produced - len(anchor) + self._at
        now = buffer.produced - len(buffer.data) + buffer.pos  # ``buffer.head``, inlined
        if now == head and buffer.unreads == self._unreads:
            return
        skip = self._skipping
        self._skipping = None
        if now > head and buffer.unreads == self._unreads:
            if skip is not None and skip.ended_at == now:
                self._decoded_to = now
                # The source dropped the rest of the frame this reader's decoder rejected,
                # and nothing else: the decoder goes on after it.
                self._mark()
                return
            if skip is None and self._resume_at(now):
                return
            if skip is None and self._clean and now >= self._decoded_to:
                # The read took every byte the decoder consumed (the frames it decoded, none
                # left pending) and maybe some it had only searched; the decoder waits for the
                # rest of a frame with no error in store. It goes on at the new head, its
                # search forgotten, its offsets moved by the bytes taken past its own.
                self._frames.clear()
                self._ends.clear()
                self._tail = 0  # the read took those bytes too
                self._decoder.reset_search()
                self._base += now - self._decoded_to
                self._decoded_to = now
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
        decoder = self._decoder = self._codec.decoder()
        _require_needs_input(decoder)
        self._base = self._head = self._decoded_to = now
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
        target = pos - self._origin
        if not self._frame_ends_at(target) or len(self._ends) < 2:
            return False
        self._ends.popleft()
        self._frames.popleft()
        return True

    def _resume_at(self, now: int) -> bool:
        """Keep the decoder and the frames after stream position ``now`` if a frame ends
        there: a read around this reader took whole frames (and nothing else). True if so.
        """
        if not self._frame_ends_at(now - self._start):
            return False
        self._ends.popleft()
        self._frames.popleft()
        self._mark()
        return True

    def _frame_ends_at(self, target: int) -> bool:
        """Drop the pending frames that end before ``target`` (an offset from the batch's
        first byte, as their ends), which a read around this reader took; True if the next
        one ends exactly there. The scan is paid for by the frames it drops."""
        frames = self._frames
        ends = self._ends
        while ends and ends[0] < target:
            ends.popleft()
            frames.popleft()
        return bool(ends) and ends[0] == target

    def _hand_out(self) -> T:
        self._consume(self._start + self._ends.popleft() - self._buffer.head)
        return self._frames.popleft()

    def _consume(self, n: int) -> None:
        if n:
            buffer = self._buffer
            buffer.drop(n)
            if buffer.on_consume is not None:
                buffer.on_consume()
        self._mark()

    def _mark(self) -> None:
        """Remember where this reader left the source's buffer."""
        buffer = self._buffer
        self._head = buffer.head
        self._unreads = buffer.unreads
        data = buffer.data
        # Only an immutable bytes object tells by its identity that it was not changed.
        self._anchor = data if type(data) is bytes else None
        self._at = buffer.pos
        self._produced = buffer.produced
        # Pending frames' ends count from the batch's first byte, at stream position
        # ``_start``: where that byte is (or would be) in this bytes object. A feed may have
        # replaced the object the batch was decoded from.
        self._origin = buffer.pos - (self._head - self._start)

    def _hand_skip_to_source(self) -> None:
        """Let the source drop the rest of a frame the decoder rejected (or is skipping), so
        whoever reads the source next reads what follows it."""
        skip = self._skipping = _DecoderSkip(self._decoder)
        self._source.begin_skip(skip)
        if skip.ended_at >= 0:
            # Over at once (the rest was buffered): the decoder goes on after it.
            self._skipping = None
            self._decoded_to = skip.ended_at
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
        whole = window is None or window >= len(buffer)
        try:
            if whole:
                if window is not None:
                    self._window = None
                with buffer.view() as view:
                    if eof:
                        consumed = decoder.decode_eof(view, frames, ends)
                    else:
                        consumed = decoder.decode(view, frames, ends)
            else:
                assert window is not None
                consumed, whole = self._decode_ahead(window, frames, ends, eof)
        except FramingError as error:
            raise self._failed(error, eof) from None
        # The decoder started at the head (nothing pending, nothing skipped left to consume).
        self._decoded_to += consumed
        clean = self._clean = whole and not eof and decoder.needs_input
        self._starved = buffer.produced if clean else -1
        if ends is not None and (frames or ends):
            if len(ends) != len(frames):
                raise CodecContractError(
                    f"{type(decoder).__name__}.decode() appended {len(frames)} frames and "
                    f"{len(ends)} ends: given an ends list, a frame decoder appends one end per "
                    "frame (the offset just past its bytes)"
                )
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

    def _decode_fed(self) -> list[T] | None:
        """``read_batch``'s step after a wait, when only feeding happened since this driver's
        last decode (the common case: once per piece fed).

        Decodes the whole buffer, as ``_decode(with_ends=False)`` does, less its general
        cases: the batch (maybe empty), or None, doing nothing, in any other state (bytes
        pending or being skipped, held or at their end, a read around this reader, a
        bytearray buffer), which ``_decode`` then handles. Raises as ``_decode`` does.
        """
        buffer = self._buffer
        data = buffer.data
        anchor = self._anchor
        produced = buffer.produced
        # Not checked, as they cannot be otherwise here or change nothing: no frames are
        # pending (``read_batch`` hands them out before it waits, and a wait adds none); a
        # window applies to one-at-a-time decodes only; and a decoder that is not clean, or
        # has no new bytes, is called as ``_decode`` would call it.
        if (
            buffer.held
            or buffer.ended
            or type(data) is not bytes
            or self._tail
            or self._skipping is not None
            or buffer.unreads != self._unreads
            # Where this reader left the head (as ``_resync`` computes it).
            or produced - len(data) + buffer.pos
            != (self._head if anchor is None else self._produced - len(anchor) + self._at)
        ):
            return None
        decoder = self._decoder
        batch: list[T] = []
        pos = buffer.pos
        try:
            # No release: a view of bytes pins nothing a write or a take could change.
            consumed = decoder.decode(memoryview(data)[pos:] if pos else memoryview(data), batch)
        except FramingError as error:
            raise self._failed(error, False) from None
        self._decoded_to += consumed
        clean = self._clean = decoder.needs_input
        self._starved = produced if clean else -1
        if consumed:
            # ``_consume``, inlined (``Buffer.drop`` of bytes, then ``_mark``).
            buffer.scanned = 0
            pos += consumed
            if pos >= len(data):
                buffer.data = data = b""
                pos = 0
            buffer.pos = pos
            if buffer.on_consume is not None or not batch:
                # The general way: a paused source resumes (maybe feeding at once), or the
                # bytes belong to a frame being skipped (see ``_decode``).
                if buffer.on_consume is not None:
                    buffer.on_consume()
                self._mark()
                if not batch:
                    self._hand_skip_to_source()
                return batch
        head = self._head = produced - len(data) + pos
        self._anchor = data
        self._at = pos
        self._produced = produced
        self._origin = pos - (head - self._start)
        return batch

    def _failed(self, error: FramingError, eof: bool) -> FramingError:
        """What a decode call that raised ``error`` raises: the error rebased, after the
        driver took note (the frames end at a truncation at EOF; else the source skips the
        rest of the rejected frame)."""
        # The decoder may keep the error (to raise again): it must not keep a view of the
        # source's bytes alive with it.
        drop_frame_locals(error)
        self._clean = False
        if eof and isinstance(error, TruncatedError):
            self._done = True
        else:
            self._hand_skip_to_source()
        return self._rebased(error)

    def _decode_ahead(
        self, window: int, frames: list[T], ends: list[int] | None, eof: bool
    ) -> tuple[int, bool]:
        """Decode the first ``window`` bytes, then twice as many, until a frame or a consumed
        byte comes or the window holds everything (``decode_eof`` only on the whole: the
        source's end is not a part's). Returns (consumed, whether the whole buffer was
        given); the next window is twice the last one."""
        buffer = self._buffer
        decoder = self._decoder
        while True:
            bound = window if window < len(buffer) else None
            with buffer.view() as view:
                if bound is None:
                    step = decoder.decode_eof if eof else decoder.decode
                    consumed = step(view, frames, ends)
                else:
                    with view[:bound] as part:
                        consumed = decoder.decode(part, frames, ends)
            window *= 2
            if bound is None or frames or consumed:
                self._window = None if bound is None else window
                return consumed, bound is None

    def _rebased(self, error: FramingError) -> FramingError:
        """``error`` with its offset counted in the source's stream."""
        if error.offset is None or not self._base:
            return error.with_traceback(error.__traceback__)
        # A copy: the decoder may raise the same error again (a malformed length is
        # sticky), and its offset must not be rebased twice.
        rebased = copy.copy(error)
        rebased.offset = error.offset + self._base
        return rebased.with_traceback(error.__traceback__)


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
    _require_needs_input(decoder)
    return decoder  # type: ignore[no-any-return]


def _require_needs_input(decoder: object) -> None:
    """Raise CodecContractError, naming the rule, if ``decoder`` has no ``needs_input``."""
    if not hasattr(decoder, "needs_input"):
        raise CodecContractError(
            f"{type(decoder).__name__} has no needs_input: every decoder has a boolean "
            "needs_input, True only when its last decode stopped because its input ran out "
            "(False promises nothing); subclass framekit.codecs.BaseFrameDecoder, or set "
            "needs_input = False (see docs/writing-a-codec.md)"
        )


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


# -- bytes ------------------------------------------------------------------------------------


_EMPTY = memoryview(b"")

#: What ``ByteDriver.pump`` says: nothing changed, something did, the end; and a failure (for
#: the adapters, which catch the error).
_NOTHING, _PROGRESS, _DONE, _FAILED = 0, 1, 2, 3


def _joined(parts: list[bytes | bytearray | memoryview]) -> bytes:
    """A step's pieces as one ``bytes`` object: a lone ``bytes`` piece itself, and a lone
    view of a whole ``bytes`` object (``_StepOutput.write`` keeps views of immutable bytes
    only) that object, without a copy: a TCP segment inside a large HTTP chunk passes a
    chunked layer as the very object fed to the root."""
    if len(parts) == 1:
        first = parts[0]
        if type(first) is bytes:
            return first
        if type(first) is memoryview:
            whole = first.obj
            if type(whole) is bytes and first.nbytes == len(whole) and first.c_contiguous:
                return whole
    return b"".join(parts)


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

    __slots__ = ("keep_marks", "marks", "parts", "size", "small")

    def __init__(self, keep_marks: bool = True) -> None:
        #: False: chunk ends are not recorded in the output (a reader that never reports them).
        self.keep_marks = keep_marks
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

    def total(self) -> int:
        """The bytes written since the step began."""
        return self.size + len(self.small)

    def flush(self, out: Buffer) -> None:
        """Append the step's output (and its chunk marks) to ``out``, and start afresh."""
        parts = self.parts
        small = self.small
        start = out.produced
        if parts:
            if small:
                parts.append(small)
            out.write(_joined(parts))
            parts.clear()
            self.size = 0
        elif small:
            out.write(small)
        small.clear()
        marks = self.marks
        if marks:
            if self.keep_marks:
                out.mark_chunk_ends(map(start.__add__, marks))
            marks.clear()

    def take(self, out: Buffer) -> bytes:
        """Return the step's output as one ``bytes`` object, counted in ``out`` as written
        and read at once (``out`` is empty; its chunk marks are recorded), and start afresh.

        ``pass_through``'s flush: what ``flush`` then a take of everything would do, without
        the buffer in between."""
        parts = self.parts
        small = self.small
        if parts:
            if small:
                parts.append(small)
            chunk = _joined(parts)
            parts.clear()
            self.size = 0
            small.clear()
        elif small:
            chunk = bytes(small)
            small.clear()
        else:
            chunk = b""
        start = out.produced
        out.produced = start + len(chunk)
        out.scanned = 0
        marks = self.marks
        if marks:
            if self.keep_marks:
                out.mark_chunk_ends(map(start.__add__, marks))
            marks.clear()
        return chunk


class ByteDriver:
    """Runs a byte decoder over a source buffer into an output buffer, a step at a time: the
    one loop behind the async layers, the blocking byte stages and the reference driver.

    What it owns: the output budget per step; decoding up to the next HTTP chunk end in the
    source, so the mark carries over to the output (after the decoder, asked with no new
    input, writes nothing more from that chunk); the ``needs_input`` memo (no decode call
    until the source changes); error offsets rebased to the source's stream (from where the
    decoder's first byte was), with the error's frames cleared of views of the source; the
    end (``decoder.done``); and EOF, where the decoder either finishes or the source ended
    inside the encoding (TruncatedError). The adapters add waiting, flow control and what to
    do with bytes after the end.
    """

    __slots__ = (
        "_base",
        "_mark_pending",
        "_step",
        "_verbatim",
        "decoder",
        "finished",
        "raw",
        "starved_at",
        "starved_size",
    )

    def __init__(self, decoder: ByteDecoder, *, keep_marks: bool = True) -> None:
        _require_needs_input(decoder)
        self.decoder = decoder
        #: Bytes consumed from the source (``total_raw_bytes``).
        self.raw = 0
        # The source's stream position of the decoder's first byte (to rebase error offsets).
        self._base = 0
        self._step = _StepOutput(keep_marks)
        #: The source's ``produced`` and size when the decoder last said it needs more input
        #: (a call that neither consumed nor wrote): it is not asked again before either
        #: changes. Saves a decode call per read that waits (a tenth of chunked-16k's time).
        self.starved_at = -1
        self.starved_size = -1
        # The decoder consumed an HTTP chunk's last byte but may still hold output decoded
        # from it (a decompressor's pending match, isal's whole-input steps): the chunk end is
        # marked once the decoder, asked with no new input, writes nothing more.
        self._mark_pending = False
        #: ``pass_through`` met the end of the encoding (``decoder.done``).
        self.finished = False
        # The decoder says how much of its input it would write as it is (rule 7 of the
        # contract: ``verbatim`` and ``skip_verbatim``): ``pass_through`` passes that much on
        # itself, without a decode call.
        self._verbatim = callable(getattr(decoder, "skip_verbatim", None)) and hasattr(
            decoder, "verbatim"
        )

    def pass_through(self, src: Buffer, out: Buffer, budget: int) -> bytes | None:
        """``pump``'s steps for a read that takes everything (``readany``) when ``out`` is
        empty: ``src``'s whole buffer decoded, and the output returned as one ``bytes``
        object instead of being written to ``out`` and read from it again. ``out`` counts it
        as written and read at once, chunk marks included. With HTTP chunk ends in ``src``,
        this is ``pump`` itself, then everything it wrote taken.

        Returns ``b""`` if nothing can come out before ``src`` changes (the ``needs_input``
        memo says so without a call). Returns None, having done nothing, where ``pump`` must
        decide (the end of ``src``, a chunk end still to mark), and None with the output
        written to ``out`` at the end of the encoding (``finished`` set). Raises as ``pump``
        does, the output before the error written to ``out``.
        """
        decoder = self.decoder
        step = self._step
        while True:
            if src.ended or self._mark_pending or self.finished:
                return None
            if src.marks:
                # Decoding to each chunk end, to carry the marks over, and on up to the budget:
                # ``pump``'s loop, so that what a read returns is what the general path's does.
                if self.pump(src, out, budget, False, True) == _DONE:
                    self.finished = True
                    return None
                return out.take_all()
            data = src.data
            pos = src.pos
            available = len(data) - pos
            if available == self.starved_size and src.produced == self.starved_at:
                return b""
            if not self.raw:
                self._base = src.head
            if (
                self._verbatim
                and type(data) is bytes
                and 0 < available < budget
                and available <= decoder.verbatim  # type: ignore[attr-defined]
            ):
                # Bytes the decoder would write as they are, with nothing else happening (an
                # HTTP chunk's data, a TCP segment's worth): passed on as the very object fed,
                # with no decode call, its output sink, or view (~0.7 us of chunked-16k's
                # ~2.5 a 1460-byte piece). What ``decode`` would leave: all consumed, and a
                # call with nothing new would do nothing.
                decoder.skip_verbatim(available)  # type: ignore[attr-defined]
                self.raw += available
                src.data = b""
                src.pos = 0
                src.scanned = 0
                out.produced += available
                out.scanned = 0
                self.starved_at = src.produced
                self.starved_size = 0
                return data[pos:] if pos else data
            # ``src.view()`` and ``src.drop()`` inlined (per piece, a tenth of the time left
            # to framekit on chunked-16k/1460). A view of ``bytes`` is not released (the
            # step's views of them may outlive it); one of a bytearray is, before it changes.
            if type(data) is bytes:
                view = memoryview(data)[pos:] if pos else memoryview(data)
                shared = False
            else:
                view = memoryview(data).toreadonly()
                shared = True
            try:
                consumed = decoder.decode(view, step, budget)
            except BaseException as error:
                step.flush(out)
                if shared:
                    view.release()
                if isinstance(error, FramingError):
                    if error.offset is not None:
                        error.offset += self._base
                    drop_frame_locals(error)
                raise
            if decoder.done:
                step.flush(out)
                chunk = None
                self.finished = True
            else:
                chunk = step.take(out)
            if consumed:
                self.raw += consumed
                if shared:
                    view.release()
                    src.drop(consumed)
                else:
                    src.scanned = 0
                    pos += consumed
                    if pos >= len(data):
                        src.data = b""
                        src.pos = 0
                    else:
                        src.pos = pos
            elif shared:
                view.release()
            if chunk is None:
                return None
            if decoder.needs_input:
                self.starved_at = src.produced
                self.starved_size = len(src.data) - src.pos
                return chunk
            if chunk:
                return chunk
            if not consumed:
                # No progress: not asked again before the source changes (as ``pump``).
                self.starved_at = src.produced
                self.starved_size = available
                return chunk

    def pass_into(self, src: Buffer, out: Buffer, budget: int) -> bytes | None:
        """``pass_through`` with its output left in ``out`` (empty before), as written and
        not yet read: for a layer's source, decoded for the layer over it to pass through in
        turn. Returns and raises as ``pass_through``."""
        chunk = self.pass_through(src, out, budget)
        if chunk:
            # ``take`` counted it as written and read: now it is buffered, marks and all.
            out.data = chunk
            out.pos = 0
        return chunk

    def pump(self, src: Buffer, out: Buffer, budget: int, eof: bool, force: bool) -> int:
        """Decode what ``src`` holds into ``out`` while ``out`` holds less than ``budget``
        bytes (with ``force``, at least one step), at most ``budget`` bytes a step.

        ``eof``: no more bytes will come into ``src``. Returns ``_DONE`` at the end of the
        encoding (``decoder.done``), ``_PROGRESS`` if anything else changed (output, bytes
        consumed), else ``_NOTHING``. Raises the decoder's error
        (its offset in ``src``'s stream), and TruncatedError if ``src`` ended before the end of
        the encoding. Consumes from ``src`` what the decoder consumed, and nothing after the
        end.
        """
        decoder = self.decoder
        step = self._step
        progressed = _NOTHING
        # The call's output stays in ``step`` until it returns or raises, and is written to
        # ``out`` once (``flush``): each step appended on its own copied what ``out`` already
        # held (two 32 KiB gzip steps per 64 KiB read: chunked-gzip). ``held`` is what ``out``
        # held when the call began; ``step.total()`` what the call decoded so far.
        held = len(out.data) - out.pos
        try:
            while force or held + step.total() < budget:
                force = False
                available = len(src.data) - src.pos
                # Decode up to the next HTTP chunk end in the source, to carry the mark over.
                bound = src.next_chunk_end() if src.marks else None
                view_size = available if bound is None else min(bound, available)
                at_eof = eof and view_size == available
                if (
                    available == self.starved_size
                    and src.produced == self.starved_at
                    and view_size == available
                    and not at_eof
                ):
                    break
                if not self.raw:
                    # Nothing consumed yet: error offsets count from the source's head now (it
                    # may have been read since the decoder was made).
                    self._base = src.head
                before = step.total()
                try:
                    if self._mark_pending:
                        decoder.decode(_EMPTY, step, budget)
                        if step.total() != before:
                            progressed = _PROGRESS
                            continue
                        step.mark_chunk_end()
                        self._mark_pending = False
                    # The step keeps its views of the source's bytes until the call returns:
                    # views of immutable ``bytes`` (``write`` copies anything else), which
                    # the source's changes leave alone, so they are not released here. A
                    # view of a bytearray is: the buffer could not change while it lives.
                    data = src.data
                    whole = view = src.view()
                    try:
                        if view_size == available:
                            consumed = (decoder.decode_eof if at_eof else decoder.decode)(
                                whole, step, budget
                            )
                        else:
                            view = whole[:view_size]
                            consumed = decoder.decode(view, step, budget)
                    finally:
                        if type(data) is not bytes:
                            view.release()
                            whole.release()
                except FramingError as error:
                    if error.offset is not None:
                        error.offset += self._base
                    # Kept (and the decoder may keep it too): its frames must not hold slices
                    # of the source's view, or the source's buffer could not change again.
                    drop_frame_locals(error)
                    raise
                if consumed:
                    src.drop(consumed)
                    self.raw += consumed
                    if bound is not None and consumed == bound:
                        self._mark_pending = True
                if decoder.done:
                    if self._mark_pending:
                        step.mark_chunk_end()
                        self._mark_pending = False
                    return _DONE
                if consumed or step.total() != before:
                    progressed = _PROGRESS
                    if self._mark_pending and decoder.needs_input:
                        # It took the chunk's last byte and promises that a call with nothing
                        # new writes nothing: the mark goes here, without that call (one
                        # decode call per HTTP chunk fewer: chunked-gzip).
                        step.mark_chunk_end()
                        self._mark_pending = False
                    if view_size == available and not at_eof and decoder.needs_input:
                        # The decoder took what it could of the whole buffer: asking again
                        # before new input would do nothing (a tenth of chunked-16k's time).
                        self.starved_at = src.produced
                        self.starved_size = len(src.data) - src.pos
                        break
                    continue
                if bound is not None and bound < available:
                    # The decoder needs bytes past the chunk end to make progress: let it have
                    # them.
                    src.drop_chunk_mark()
                    continue
                if at_eof:
                    name = type(decoder).__name__
                    raise TruncatedError(
                        f"the source ended before the end of the {name} encoding",
                        offset=self._base + self.raw,
                    )
                if view_size == available:
                    self.starved_at = src.produced
                    self.starved_size = available
                break
        finally:
            step.flush(out)
        return progressed
