"""Running codecs every way framekit offers, each reduced to a comparable outcome.

An outcome is what a path made of an input: for frame codecs the list of frames with each
error in its place (class name and offset), for byte codecs the output, the bytes left after
the encoding's end, and the error if any. Two paths agree when their outcomes are equal.
Anything but a :class:`~framekit.errors.FramingError` raised by a decoder is a
:class:`Violation` of the first invariant, whichever path met it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from framekit import sync
from framekit._buffer import Buffer
from framekit.codecs import chunked, length, resp
from framekit.codecs._base import ByteCodec, FrameCodec
from framekit.codecs.smtp import data as smtp_data
from framekit.errors import FramingError, TruncatedError
from framekit.reader import StreamReader

#: An error as outcomes compare it: class name and offset.
ErrorKey = tuple[str, int | None]
FrameOutcome = list[Any]
ByteOutcome = tuple[bytes, bytes, ErrorKey | None]

#: Most decode calls one run may make before it counts as a hang (a decoder making no
#: progress): far more than any fuzz input needs (one call per byte, and a few per frame).
MAX_CALLS = 200_000


class Violation(Exception):
    """An invariant does not hold. ``invariant`` names it; ``details`` say for which input."""

    def __init__(self, invariant: str, message: str, **details: Any) -> None:
        super().__init__(f"[{invariant}] {message}")
        self.invariant = invariant
        self.message = message
        self.details = details

    def describe(self) -> str:
        lines = [f"invariant: {self.invariant}", f"what: {self.message}"]
        lines += [f"{key}: {value!r}"[:2000] for key, value in self.details.items()]
        return "\n".join(lines)


def key(error: FramingError) -> ErrorKey:
    return (type(error).__name__, error.offset)


def only_framing_errors(path: str, codec: object) -> contextlib.AbstractContextManager[None]:
    """Turn anything but a FramingError escaping ``path`` into a Violation."""

    @contextlib.contextmanager
    def guard() -> Iterator[None]:
        try:
            yield
        except (FramingError, Violation):
            raise
        except RecursionError:
            raise
        except Exception as error:
            raise Violation(
                "only-framekit-errors",
                f"{type(error).__name__}: {error}",
                path=path,
                codec=codec,
            ) from error

    return guard()


# -- compiled fast paths ----------------------------------------------------------------------

#: The module attributes holding framekit's compiled functions (None: the Python path).
_COMPILED = (
    (chunked, "_scan_chunked"),
    (length, "_split_fixed"),
    (resp, "_scan_resp"),
    (smtp_data, "_scan_dot_lines"),
)


def compiled_available() -> bool:
    return all(getattr(module, name) is not None for module, name in _COMPILED)


@contextlib.contextmanager
def pure_python() -> Iterator[None]:
    """Decoders made inside run without the compiled fast paths (as tests/codecs/compiled.py)."""
    saved = [(module, name, getattr(module, name)) for module, name in _COMPILED]
    try:
        for module, name, _ in saved:
            setattr(module, name, None)
        yield
    finally:
        for module, name, value in saved:
            setattr(module, name, value)


# -- frame codecs -----------------------------------------------------------------------------


class _Collector:
    """Frames and errors in order, ending as ``decode_frame_pieces`` ends a list: at a
    TruncatedError at EOF, or at an error raised twice in a row (an unrecoverable one)."""

    def __init__(self, keep: bool = True) -> None:
        self.items: FrameOutcome = []
        self._last: ErrorKey | None = None
        self._keep = keep

    def frame(self, frame: Any) -> None:
        if self._keep:
            self.items.append(frame)
        self._last = None

    def error(self, error: FramingError, *, eof: bool) -> bool:
        """Record ``error``; True when the list ends here."""
        k = key(error)
        if k == self._last:
            return True
        self._last = k
        if self._keep:
            self.items.append(k)
        return eof and isinstance(error, TruncatedError)


def frames_driver(
    codec: FrameCodec[Any],
    pieces: Sequence[bytes],
    *,
    keep: bool = True,
    contract: bool = False,
    core_buffer: bool = False,
) -> FrameOutcome:
    """The reference driver (``_base.decode_frame_pieces``' rules), counting calls.

    With ``keep=False`` frames are dropped as they come (for timing and memory checks). With
    ``contract=True`` every call also gets an ``ends`` list, checked against the contract
    (one end per frame, strictly increasing, within what was consumed), and after a call that
    says ``needs_input``, a second call on the same bytes must do nothing. With
    ``core_buffer=True`` the bytes are held in framekit's own receive buffer, which hands the
    decoder a view of a whole fed ``bytes`` object when it can (the decoders' one-step
    paths take only those); else in a bytearray.
    """
    decoder = codec.decoder()
    out = _Collector(keep)
    buffer: bytearray | _CoreBuffer = _CoreBuffer() if core_buffer else bytearray()
    frames: list[Any] = []
    calls = 0

    def run(eof: bool) -> bool:
        nonlocal calls
        step = decoder.decode_eof if eof else decoder.decode
        while True:
            calls += 1
            if calls > MAX_CALLS:
                raise Violation("linear-time", f"more than {MAX_CALLS} decode calls", codec=codec)
            ends: list[int] | None = [] if contract else None
            try:
                with _view(buffer) as view:
                    consumed = step(view, frames, ends)
            except FramingError as error:
                if out.error(error, eof=eof):
                    return True
                continue
            if consumed < 0 or consumed > len(buffer):
                raise Violation("contract", f"consumed {consumed} of {len(buffer)}", codec=codec)
            if ends is not None:
                _check_ends(codec, ends, len(frames), consumed)
            del buffer[:consumed]
            for frame in frames:
                out.frame(frame)
            if contract and not eof and decoder.needs_input:
                _check_needs_input(codec, decoder, buffer)
            if frames:
                frames.clear()
            elif consumed == 0:
                return False

    with only_framing_errors("frames_driver", codec):
        for piece in pieces:
            buffer.extend(piece)
            if run(eof=False):
                return out.items
        run(eof=True)
    return out.items


class _CoreBuffer:
    """framekit's Buffer with the few bytearray operations ``frames_driver`` uses."""

    def __init__(self) -> None:
        self._buffer = Buffer()

    def __len__(self) -> int:
        return len(self._buffer)

    def extend(self, piece: bytes) -> None:
        self._buffer.write(piece)

    def __delitem__(self, index: slice) -> None:
        self._buffer.drop(index.stop)

    def view(self) -> memoryview:
        return self._buffer.view()


def _view(buffer: bytearray | _CoreBuffer) -> memoryview:
    if isinstance(buffer, _CoreBuffer):
        return buffer.view()
    return memoryview(buffer).toreadonly()


def _check_ends(codec: object, ends: list[int], count: int, consumed: int) -> None:
    if (
        len(ends) != count
        or any(b <= a for a, b in itertools.pairwise(ends))
        or (ends and (ends[0] <= 0 or ends[-1] > consumed))
    ):
        raise Violation(
            "contract",
            f"ends {ends[:20]} for {count} frames and {consumed} bytes consumed",
            codec=codec,
        )


def _check_needs_input(codec: object, decoder: Any, buffer: bytearray | _CoreBuffer) -> None:
    """A decoder that said ``needs_input`` must, called again on the same bytes, do nothing."""
    frames: list[Any] = []
    try:
        with _view(buffer) as view:
            consumed = decoder.decode(view, frames)
    except FramingError as error:
        raise Violation(
            "contract", f"needs_input was True, and the next call raised {error!r}", codec=codec
        ) from error
    if consumed or frames:
        raise Violation(
            "contract",
            f"needs_input was True, and the next call consumed {consumed} bytes and made "
            f"{len(frames)} frames",
            codec=codec,
        )


def frames_sync_decode(codec: FrameCodec[Any], data: bytes) -> FrameOutcome:
    """``framekit.sync.decode``: the frames, or the first error alone."""
    with only_framing_errors("sync.decode", codec):
        try:
            return list(sync.decode(data, codec))
        except FramingError as error:
            return [key(error)]


def frames_iter(codec: FrameCodec[Any], pieces: Sequence[bytes]) -> FrameOutcome:
    """``framekit.sync.iter_frames`` over the pieces, going on after each error."""
    out = _Collector()
    it = sync.iter_frames(list(pieces), codec)
    with only_framing_errors("sync.iter_frames", codec):
        for _ in range(MAX_CALLS):
            try:
                frame = next(it)
            except StopIteration:
                return out.items
            except FramingError as error:
                if out.error(error, eof=isinstance(error, TruncatedError)):
                    return out.items
                continue
            out.frame(frame)
    raise Violation("linear-time", "sync.iter_frames did not end", codec=codec)


_loop: asyncio.AbstractEventLoop | None = None


def run_async(coroutine: Any) -> Any:
    """Run on one event loop kept for the process (a loop per input costs more than it)."""
    global _loop
    if _loop is None:
        _loop = asyncio.new_event_loop()
    return _loop.run_until_complete(coroutine)


async def _feed(reader: StreamReader, pieces: Sequence[bytes]) -> None:
    for piece in pieces:
        reader.feed_data(piece)
        await asyncio.sleep(0)
    reader.feed_eof()


def frames_async(codec: FrameCodec[Any], pieces: Sequence[bytes]) -> FrameOutcome:
    """``StreamReader.frames(codec)``: a FrameReader fed piece by piece from a task."""

    async def main() -> FrameOutcome:
        source = StreamReader()
        feeder = asyncio.ensure_future(_feed(source, pieces))
        frames = source.frames(codec)
        out = _Collector()
        try:
            for _ in range(MAX_CALLS):
                # ``async for``'s step: the end is StopAsyncIteration whether ``read()``
                # returns None or raises EndOfStream there.
                try:
                    frame = await frames.__anext__()
                except StopAsyncIteration:
                    return out.items
                except FramingError as error:
                    if out.error(error, eof=isinstance(error, TruncatedError)):
                        return out.items
                    continue
                out.frame(frame)
            raise Violation("linear-time", "FrameReader did not end", codec=codec)
        finally:
            feeder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feeder

    with only_framing_errors("StreamReader.frames", codec):
        result: FrameOutcome = run_async(main())
        return result


def first_error_prefix(outcome: FrameOutcome) -> FrameOutcome:
    """What ``sync.decode`` returns for an input whose full outcome is ``outcome``."""
    for i, item in enumerate(outcome):
        if isinstance(item, tuple):
            return [outcome[i]]
    return outcome


# -- byte codecs ------------------------------------------------------------------------------


class CountingSink:
    """An OutputSink that keeps the output (or only counts it) and each step's size."""

    def __init__(self, keep: bool = True) -> None:
        self.parts: list[bytes] = []
        self.size = 0
        self.step = 0
        self.keep = keep

    def write(self, data: Any) -> None:
        n = len(memoryview(data).cast("B"))
        self.size += n
        self.step += n
        if self.keep:
            self.parts.append(bytes(data))

    def write_marked(self, data: bytes, marks: list[int]) -> None:
        self.write(data)

    def mark_chunk_end(self) -> None:
        pass

    def data(self) -> bytes:
        return b"".join(self.parts)


def bytes_driver(
    codec: ByteCodec,
    pieces: Sequence[bytes],
    budget: int,
    *,
    cap: int | None = None,
    keep: bool = True,
    contract: bool = False,
) -> ByteOutcome:
    """Run a byte decoder over ``pieces`` then EOF, checking the budget per call and the cap.

    Returns (output, leftover, error). The leftover is every byte after the decoder's end.
    With ``contract=True``, after a call that says ``needs_input``, a second call on the same
    bytes must consume nothing, write nothing, raise nothing and not finish.
    """
    with only_framing_errors("bytes_driver", codec):
        decoder = codec.decoder()
    sink = CountingSink(keep)
    buffer = bytearray()
    calls = 0
    done_at: int | None = None

    def run(eof: bool) -> None:
        nonlocal calls
        step = decoder.decode_eof if eof else decoder.decode
        while not decoder.done:
            calls += 1
            if calls > MAX_CALLS:
                raise Violation("linear-time", f"more than {MAX_CALLS} decode calls", codec=codec)
            sink.step = 0
            with memoryview(buffer).toreadonly() as view:
                consumed = step(view, sink, budget)
            if sink.step > budget:
                raise Violation(
                    "bounded-memory",
                    f"one call wrote {sink.step} bytes, over its budget of {budget}",
                    codec=codec,
                )
            if cap is not None and sink.size > cap:
                raise Violation(
                    "bounded-memory",
                    f"{sink.size} bytes decoded, over max_output_size={cap}",
                    codec=codec,
                )
            if consumed < 0 or consumed > len(buffer):
                raise Violation("contract", f"consumed {consumed} of {len(buffer)}", codec=codec)
            del buffer[:consumed]
            if contract and not eof and decoder.needs_input:
                _check_byte_needs_input(codec, decoder, buffer, budget)
            if consumed == 0 and sink.step == 0 and not decoder.done:
                if eof:
                    raise Violation(
                        "contract", "no progress at EOF and not done", codec=codec, budget=budget
                    )
                return

    with only_framing_errors("bytes_driver", codec):
        try:
            for index, piece in enumerate(pieces):
                buffer += piece
                run(eof=False)
                if decoder.done:
                    done_at = index
                    break
            else:
                run(eof=True)
        except FramingError as error:
            return (b"", b"", key(error))
    rest = b"".join(pieces[done_at + 1 :]) if done_at is not None else b""
    return (sink.data(), bytes(buffer) + rest, None)


def _check_byte_needs_input(codec: object, decoder: Any, buffer: bytearray, budget: int) -> None:
    probe = CountingSink(keep=False)
    try:
        with memoryview(buffer).toreadonly() as view:
            consumed = decoder.decode(view, probe, budget)
    except FramingError as error:
        raise Violation(
            "contract", f"needs_input was True, and the next call raised {error!r}", codec=codec
        ) from error
    if consumed or probe.size or decoder.done:
        raise Violation(
            "contract",
            f"needs_input was True, and the next call consumed {consumed} bytes, wrote "
            f"{probe.size} and done={decoder.done}",
            codec=codec,
        )


def bytes_sync_decode(codec: ByteCodec, data: bytes, budget: int) -> ByteOutcome:
    """``framekit.sync.decode_bytes``: bytes after the end are its MalformedError."""
    with only_framing_errors("sync.decode_bytes", codec):
        try:
            return (sync.decode_bytes(data, codec, budget=budget), b"", None)
        except FramingError as error:
            return (b"", b"", key(error))


def bytes_iter(codec: ByteCodec, pieces: Sequence[bytes], budget: int) -> ByteOutcome:
    """``framekit.sync.iter_decoded`` over the pieces; each output piece within ``budget``."""
    parts: list[bytes] = []
    with only_framing_errors("sync.iter_decoded", codec):
        try:
            for part in sync.iter_decoded(list(pieces), codec, budget=budget):
                if len(part) > budget:
                    raise Violation(
                        "bounded-memory",
                        f"iter_decoded yielded {len(part)} bytes, over budget={budget}",
                        codec=codec,
                    )
                parts.append(bytes(part))
        except FramingError as error:
            return (b"", b"", key(error))
    return (b"".join(parts), b"", None)


def bytes_async(codec: ByteCodec, pieces: Sequence[bytes], limit: int) -> ByteOutcome:
    """``StreamReader.layer(codec)`` read to its end; the leftover read from the source."""

    async def main() -> ByteOutcome:
        source = StreamReader(limit=limit)
        feeder = asyncio.ensure_future(_feed(source, pieces))
        parts: list[bytes] = []
        try:
            layer = source.layer(codec)
            try:
                for _ in range(MAX_CALLS):
                    part = await layer.readany()
                    if not part:
                        break
                    parts.append(part)
                else:
                    raise Violation("linear-time", "layer did not end", codec=codec)
            except FramingError as error:
                return (b"", b"", key(error))
            await feeder
            return (b"".join(parts), await source.read(), None)
        finally:
            feeder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feeder

    with only_framing_errors("StreamReader.layer", codec):
        result: ByteOutcome = run_async(main())
        return result


def as_sync_decode_bytes(outcome: ByteOutcome, data: bytes, codec: ByteCodec) -> ByteOutcome:
    """What ``sync.decode_bytes`` returns for an input whose full outcome is ``outcome``."""
    output, leftover, error = outcome
    if error is None and leftover:
        return (b"", b"", ("MalformedError", len(data) - len(leftover)))
    return (output, b"", error)


def compare(
    invariant: str,
    reference: Any,
    other: Any,
    *,
    short: Callable[[Any], Any] = lambda x: x,
    **details: Any,
) -> None:
    if reference != other:
        raise Violation(
            invariant,
            "outcomes differ",
            reference=short(reference),
            other=short(other),
            **details,
        )


def shorten(outcome: Any, width: int = 120) -> Any:
    """An outcome for a report: long bytes cut to their length and head."""
    if isinstance(outcome, (bytes, str)) and len(outcome) > width:
        return f"<{len(outcome)} long: {outcome[:width]!r}...>"
    if isinstance(outcome, list):
        if len(outcome) > 40:
            return [shorten(x) for x in outcome[:40]] + [f"... {len(outcome) - 40} more"]
        return [shorten(x) for x in outcome]
    if isinstance(outcome, tuple):
        return tuple(shorten(x) for x in outcome)
    return outcome
