"""brotli (RFC 7932): the window read from the stream header before the library allocates it,
the output cap in fixed input steps. Needs the ``brotli`` extra. See
:mod:`framekit.codecs.compression`.
"""

from __future__ import annotations

from typing import Any, Protocol, cast

import attrs

from framekit.codecs._base import ByteDecoder, ByteEncoder, Bytes, OutputSink
from framekit.codecs.compression._common import (
    _CAP_STEP,
    _INPUT_SLICE,
    DEFAULT_MAX_BROTLI_WINDOW_SIZE,
    _count_output,
    _import_extra,
    _int_in,
    _optional_size,
)
from framekit.errors import (
    FramingError,
    LimitExceededError,
    MalformedError,
    TruncatedError,
)

__all__ = ["Brotli"]


# The library's shape, typed here (brotli has no stubs, and every extra is optional).
class _BrotliDecompressor(Protocol):
    def process(self, data: Bytes, output_buffer_limit: int = ...) -> bytes: ...
    def can_accept_more_data(self) -> bool: ...
    def is_finished(self) -> bool: ...


def _brotli_window_bits(head: memoryview) -> int:
    """WBITS from the first bytes of a brotli stream: 0 if invalid, -1 if a byte is missing.

    RFC 7932 9.1: 1-7 bits, read from the low bit up: 0 is 16; else three bits n, 17 + n if
    n > 0; else three bits m, 8 + m if m > 1, 17 if m = 0. m = 1 (the first byte's low seven
    bits 0x11) is invalid there and is large-window brotli's signature: a zero bit, then WBITS
    (10-30) in the next byte's low six bits.
    """
    first = head[0]
    if not first & 1:
        return 16
    if first >> 1 & 7:
        return 17 + (first >> 1 & 7)
    m = first >> 4 & 7
    if m != 1:
        return 8 + m if m else 17
    if first & 0x80:
        return 0
    if len(head) < 2:
        return -1
    wbits = head[1] & 0x3F
    return wbits if 10 <= wbits <= 30 else 0


class _BrotliDecoder:
    """A brotli decoder; output beyond the budget waits in ``_pending``.

    Before the library sees any byte, the window the stream asks for (``1 << WBITS`` bytes,
    the ring buffer the library allocates for it) is checked against ``max_window_size``.
    """

    __slots__ = (
        "_decoded",
        "_decompressor",
        "_done",
        "_error",
        "_failure",
        "_max_output_size",
        "_max_window_size",
        "_offset",
        "_pending",
        "_window_checked",
    )

    #: Promises nothing (the driver decodes again): the decompressor may hold output that a
    #: call with no new input still writes.
    needs_input = False

    def __init__(self, module: Any, max_output_size: int | None, max_window_size: int) -> None:
        #: None once the stream ended or failed: the library's state (the ring buffer) is freed
        #: then, not when the decoder is dropped.
        self._decompressor: _BrotliDecompressor | None = cast(
            _BrotliDecompressor, module.Decompressor()
        )
        self._error = cast(type[Exception], module.error)
        self._max_output_size = max_output_size
        self._max_window_size = max_window_size
        self._window_checked = False
        self._pending = memoryview(b"")
        self._failure: FramingError | None = None
        self._done = False
        self._offset = 0
        self._decoded = 0

    @property
    def done(self) -> bool:
        return self._done

    def decode(self, data: memoryview, out: OutputSink, budget: int) -> int:
        return self._decode(data, out, budget, False)

    def decode_eof(self, data: memoryview, out: OutputSink, budget: int) -> int:
        return self._decode(data, out, budget, True)

    def _decode(self, data: memoryview, out: OutputSink, budget: int, eof: bool) -> int:
        if budget <= 0:
            raise ValueError(f"budget must be > 0, got {budget}")
        pending = self._pending
        if pending:
            # Output beyond the last budget (or up to the cap) comes before anything else.
            out.write(pending[:budget])
            self._pending = pending[budget:]
            return 0
        if self._failure is not None:
            # The same object every time: its traceback must not grow with each raise.
            raise self._failure.with_traceback(None)
        if self._done:
            return 0
        if eof and not data and not self._offset:
            self._done = True  # an empty body is empty content
            self._decompressor = None
            return 0
        if not self._window_checked and data:
            wbits = _brotli_window_bits(data)
            if wbits < 0 and not eof:
                return 0  # a large-window header: the next byte holds its WBITS
            self._window_checked = True
            if wbits > 0 and 1 << wbits > self._max_window_size:
                raise self._fail(
                    LimitExceededError(
                        f"brotli stream needs a {1 << wbits}-byte window (WBITS {wbits}), over "
                        f"max_window_size={self._max_window_size}",
                        limit=self._max_window_size,
                        offset=0,
                    )
                )
        decompressor = self._decompressor
        if decompressor is None:  # the stream ended
            if data:
                # Same offset as when the library meets those bytes in the stream's last feed.
                raise self._fail(_corrupt_brotli("data after its end", 0))
            if eof:
                self._done = True
            return 0
        limit = budget
        piece = data[:_INPUT_SLICE]
        capped = self._max_output_size is not None
        if capped:
            # The library decodes ahead of the output it returns as far as its input allows, so
            # whether it meets the cap or a corruption past it first depends on the pieces it
            # is given. Under a cap it gets whole _CAP_STEP-byte steps of input at fixed
            # offsets (the last one at EOF), each only once all the output of the one before
            # is out, and a fixed output limit: the same calls for any split of the input.
            limit = _INPUT_SLICE
            step = _CAP_STEP - self._offset % _CAP_STEP
            piece = piece[:step] if len(piece) >= step or eof else piece[:0]
        consumed = 0
        try:
            chunk = b""
            if capped or not (piece and decompressor.can_accept_more_data()):
                # Output the library still holds (it may hold some while it accepts input).
                chunk = decompressor.process(b"", output_buffer_limit=limit)
            if not chunk and piece and decompressor.can_accept_more_data():
                chunk = decompressor.process(piece, output_buffer_limit=limit)
                consumed = len(piece)
        except self._error as exc:
            raise self._fail(_corrupt_brotli(str(exc), 0)) from None
        finished = decompressor.is_finished()  # the end, and no output left in the library
        if finished:
            self._decompressor = None
        if not chunk and not consumed:
            if eof and not finished:
                raise self._fail(
                    TruncatedError("brotli stream ends before its end", offset=self._offset)
                )
            if not eof or not finished:
                return 0
        self._offset += consumed
        if chunk:
            # Under a cap, the output comes from the last step given: its offset is the error's.
            step_start = (self._offset - 1) // _CAP_STEP * _CAP_STEP
            room = _count_output(self, len(chunk), "brotli", step_start)
            if room < len(chunk):
                # Past max_output_size: the bytes up to it first, then the error.
                self._decompressor = None
                if room <= 0:
                    raise cast(FramingError, self._failure)
                chunk = chunk[:room]
            # The library may return more than its limit: the rest waits for the next call.
            if len(chunk) > budget:
                self._pending = memoryview(chunk)[budget:]
                out.write(memoryview(chunk)[:budget])
            else:
                out.write(chunk)
        return consumed

    def _fail(self, error: FramingError) -> FramingError:
        self._failure = error
        self._decompressor = None
        return error


def _corrupt_brotli(reason: str, offset: int) -> MalformedError:
    return MalformedError(f"corrupt brotli stream, or data after its end ({reason})", offset=offset)


class _BrotliEncoder:
    __slots__ = ("_compressor",)

    def __init__(self, module: Any, quality: int) -> None:
        self._compressor = module.Compressor(quality=quality)

    def feed(self, data: Bytes) -> bytes:
        return cast(bytes, self._compressor.process(data))

    def finish(self) -> bytes:
        return cast(bytes, self._compressor.finish())


@attrs.define(frozen=True, kw_only=True)
class Brotli:
    """brotli (RFC 7932); needs the ``brotli`` package (``pip install aioframekit[brotli]``).

    Bytes after the end of the stream are always an error: the library does not say where the
    stream ended. ``quality`` (0-11) is the encoder's. Constructing it without the package
    raises UnsupportedEncodingError naming the extra.

    ``max_window_size`` bounds the memory a stream holds: the library keeps a ring buffer of
    up to the stream's window, ``2**WBITS`` bytes, from WBITS in its first byte (a 14-byte
    stream can ask for 16 MiB). A stream whose window is larger is refused with
    LimitExceededError (offset 0) before the library sees a byte of it; the brotli library
    has no such limit of its own. The default, 16 MiB (WBITS 24), accepts every RFC 7932
    stream: no HTTP specification narrows brotli's window (RFC 9659 does for zstd), the
    Python bindings urllib3 and aiohttp use cannot limit it, and the ``brotli`` command line
    writes WBITS 24 for inputs over 8 MiB. A server decoding many untrusted streams at once
    may lower it: 4 MiB (WBITS 22) is the brotli library's default encoder window.
    Large-window brotli (not RFC 7932; WBITS up to 30) is refused: LimitExceededError over
    the limit, else MalformedError, as the library does not decode it.
    """

    max_output_size: int | None = attrs.field(default=None, validator=_optional_size)
    max_window_size: int = attrs.field(
        default=DEFAULT_MAX_BROTLI_WINDOW_SIZE, validator=_int_in(1 << 10, 1 << 31)
    )
    quality: int = attrs.field(default=4, validator=_int_in(0, 11))

    def __attrs_post_init__(self) -> None:
        _import_extra("brotli", "brotli", "brotli decoding")

    def decoder(self) -> ByteDecoder:
        """A fresh brotli decoder for one stream."""
        return _BrotliDecoder(
            _import_extra("brotli", "brotli", "brotli decoding"),
            self.max_output_size,
            self.max_window_size,
        )

    def encoder(self) -> ByteEncoder:
        """A fresh encoder writing one brotli stream."""
        return _BrotliEncoder(_import_extra("brotli", "brotli", "brotli encoding"), self.quality)
