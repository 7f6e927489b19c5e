"""zstd (RFC 8878): framekit walks the frames and blocks (window sizes, skippable frames,
the output cap per block) and the library decodes them. Needs the ``zstd`` extra. See
:mod:`framekit.codecs.compression`.
"""

from __future__ import annotations

from typing import Any, Protocol, cast

import attrs

from framekit.codecs._base import ByteDecoder, ByteEncoder, Bytes, OutputSink
from framekit.codecs.compression._common import (
    DEFAULT_MAX_WINDOW_SIZE,
    TrailingData,
    _count_output,
    _import_extra,
    _int_in,
    _optional_size,
    _trailing,
    _trailing_validator,
)
from framekit.errors import (
    FramingError,
    LimitExceededError,
    MalformedError,
    TruncatedError,
)

__all__ = ["Zstd"]


# The library's shape, typed here (brotli has no stubs, and every extra is optional).
class _ZstdDecompressObj(Protocol):
    @property
    def eof(self) -> bool: ...
    def decompress(self, data: Bytes) -> bytes: ...


class _ZstdDecompressor(Protocol):
    def decompressobj(self) -> _ZstdDecompressObj: ...


# -- zstd -------------------------------------------------------------------------------------

_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_SKIPPABLE_MAGIC_TAIL = b"\x2a\x4d\x18"  # magic 0x184D2A50-0x184D2A5F, little endian
_ZSTD_BLOCK_MAX = 128 * 1024

# What the zstd decoder expects next.
_FRAME, _HEADER, _BLOCK_HEADER, _BLOCK, _CHECKSUM, _SKIP = range(6)


def _zstd_window(header: memoryview) -> tuple[int, int]:
    """(window size, header length) of a frame header; raise MalformedError on reserved bits.

    RFC 8878 3.1.1.1: descriptor byte, optional window byte, dictionary ID, content size.
    """
    descriptor = header[4]
    single_segment = descriptor >> 5 & 1
    size_flag = descriptor >> 6
    content_size_length = (1 if single_segment else 0, 2, 4, 8)[size_flag]
    dict_id_length = (0, 1, 2, 4)[descriptor & 3]
    length = 5 + (0 if single_segment else 1) + dict_id_length + content_size_length
    if len(header) < length:
        return -1, length
    if single_segment:
        start = 5 + dict_id_length
        window = int.from_bytes(header[start : start + content_size_length], "little")
        if content_size_length == 2:
            window += 256
    else:
        exponent, mantissa = header[5] >> 3, header[5] & 7
        base = 1 << (10 + exponent)
        window = base + (base >> 3) * mantissa
    return window, length


class _ZstdDecoder:
    """A zstd decoder that walks frames and blocks itself.

    It hands the library one block at a time (at most 128 KiB of output each), so output per
    step stays bounded, and it knows exactly where each frame ends: skippable frames are
    skipped, frames are read until EOF, and nothing after the last frame is consumed.
    """

    __slots__ = (
        "_block_start",
        "_checksum",
        "_dctx",
        "_decoded",
        "_decompressor",
        "_done",
        "_failure",
        "_frame_start",
        "_frames",
        "_last_block",
        "_max_output_size",
        "_max_window_size",
        "_offset",
        "_pending",
        "_remaining",
        "_state",
        "_trailing",
        "_zstd_error",
    )

    #: Promises nothing (the driver decodes again): the decompressor may hold output that a
    #: call with no new input still writes.
    needs_input = False

    def __init__(
        self,
        module: Any,
        *,
        max_output_size: int | None,
        max_window_size: int,
        trailing_data: TrailingData,
    ) -> None:
        #: None once the stream ended or failed: the library's state (the window) is freed then,
        #: not when the decoder is dropped.
        self._dctx: _ZstdDecompressor | None = cast(
            _ZstdDecompressor, module.ZstdDecompressor(max_window_size=max_window_size)
        )
        self._zstd_error = cast(type[Exception], module.ZstdError)
        self._max_output_size = max_output_size
        self._max_window_size = max_window_size
        self._trailing = trailing_data
        self._decompressor: _ZstdDecompressObj | None = None
        self._pending = memoryview(b"")
        self._failure: FramingError | None = None
        self._done = False
        self._state = _FRAME
        self._frames = 0
        self._frame_start = 0
        self._remaining = 0
        self._block_start = 0
        self._last_block = False
        self._checksum = False
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
        if self._failure is not None and not self._pending:
            self._release()  # past max_output_size, the state outlived the last output
            # The same object every time: its traceback must not grow with each raise.
            raise self._failure.with_traceback(None)
        if budget <= 0:
            raise ValueError(f"budget must be > 0, got {budget}")
        start = 0  # bytes of data consumed in this call
        size = len(data)
        room = budget
        while not self._done:
            pending = self._pending
            if pending:
                n = min(room, len(pending))
                out.write(pending[:n])
                self._pending = pending[n:]
                room -= n
                if not room:
                    return start  # the budget is spent, not the input
                continue
            if self._failure is not None:
                return start  # the bytes up to the cap are out: the error comes next call
            state = self._state
            available = size - start
            if state in (_BLOCK, _CHECKSUM):
                n = min(self._remaining, available)
                if n == 0:
                    break
                self._feed(data[start : start + n])
                start += n
                self._offset += n
                self._remaining -= n
                if self._remaining == 0:
                    self._end_block()
            elif state == _BLOCK_HEADER:
                if available < 3:
                    break
                header = int.from_bytes(data[start : start + 3], "little")
                last, kind, block_size = header & 1, header >> 1 & 3, header >> 3
                if kind == 3 or block_size > _ZSTD_BLOCK_MAX:
                    raise self._fail(
                        MalformedError("corrupt zstd block header", offset=self._offset)
                    )
                self._feed(data[start : start + 3])
                start += 3
                self._block_start = self._offset
                self._offset += 3
                self._last_block = bool(last)
                self._remaining = 1 if kind == 1 else block_size
                self._state = _BLOCK
                if self._remaining == 0:
                    self._end_block()
            elif state == _SKIP:
                n = min(self._remaining, available)
                if n == 0:
                    break
                start += n
                self._offset += n
                self._remaining -= n
                if self._remaining == 0:
                    self._state = _FRAME
            elif state == _HEADER:
                if available < 6:
                    break
                window, length = _zstd_window(data[start : start + min(available, 18)])
                if window < 0:
                    break
                if window > self._max_window_size:
                    raise self._fail(
                        LimitExceededError(
                            f"zstd frame needs a {window}-byte window, over max_window_size="
                            f"{self._max_window_size}",
                            limit=self._max_window_size,
                            offset=self._frame_start,
                        )
                    )
                if data[start + 4] & 0x08:
                    raise self._fail(
                        MalformedError("zstd frame header reserved bit set", offset=self._offset)
                    )
                self._checksum = bool(data[start + 4] & 0x04)
                dctx = self._dctx
                assert dctx is not None  # released only once done or failed
                self._decompressor = dctx.decompressobj()
                self._feed(data[start : start + length])
                start += length
                self._offset += length
                self._state = _BLOCK_HEADER
            elif not self._next_frame(data[start : start + 8], eof):
                break
        self._check_eof(eof, size - start)
        if self._done:
            self._release()
        return start

    def _next_frame(self, head: memoryview, eof: bool) -> bool:
        """At a frame boundary: start a frame, skip one, or end; False when waiting."""
        n = len(head)
        if n == 0:
            if eof and self._frames:
                self._done = True
            return False
        magic = bytes(head[:4])
        is_frame = _ZSTD_MAGIC.startswith(magic)
        is_skippable = magic[0] >> 4 == 5 and _SKIPPABLE_MAGIC_TAIL.startswith(magic[1:])
        if not (is_frame or is_skippable) or (n < 4 and eof):
            if not self._frames:
                if n < 4 and eof:
                    return False  # truncated: reported by _check_eof
                raise self._fail(MalformedError("not a zstd frame", offset=self._offset))
            if self._trailing == "error":
                raise self._fail(_trailing("zstd", self._offset))
            self._done = True
            return False
        self._frame_start = self._offset
        if is_frame:
            if n < 4:
                return False
            self._state = _HEADER
            return True
        if n < 8:
            return False
        self._remaining = 8 + int.from_bytes(head[4:8], "little")
        self._frames += 1
        self._state = _SKIP
        return True

    def _end_block(self) -> None:
        if not self._last_block:
            self._state = _BLOCK_HEADER
        elif self._checksum and self._state == _BLOCK:
            self._state = _CHECKSUM
            self._remaining = 4
        else:
            decompressor = self._decompressor
            if decompressor is None or not decompressor.eof:
                raise self._fail(
                    MalformedError("corrupt zstd frame: no end", offset=self._frame_start)
                )
            self._decompressor = None
            self._frames += 1
            self._state = _FRAME

    def _feed(self, piece: memoryview) -> None:
        decompressor = self._decompressor
        assert decompressor is not None
        try:
            chunk = decompressor.decompress(piece)
        except self._zstd_error as exc:
            raise self._fail(
                MalformedError(f"corrupt zstd frame ({exc})", offset=self._frame_start)
            ) from None
        if chunk:
            # At the start of the block: raw blocks come out as their bytes arrive.
            room = _count_output(self, len(chunk), "zstd", self._block_start)
            if room <= 0:
                raise cast(FramingError, self._failure)
            # Past max_output_size, the bytes up to it are written first, then the error.
            self._pending = memoryview(chunk)[:room]

    def _check_eof(self, eof: bool, left: int) -> None:
        if eof and not self._done and not self._pending and self._failure is None:
            if self._state == _FRAME and (self._frames or not self._offset) and left == 0:
                self._done = True
                return
            raise self._fail(
                TruncatedError("zstd stream ends before its end", offset=self._offset + left)
            )

    def _fail(self, error: FramingError) -> FramingError:
        self._failure = error
        self._release()
        return error

    def _release(self) -> None:
        """Free the library's state (the window) at the end of the stream or on failure."""
        self._dctx = None
        self._decompressor = None


class _ZstdEncoder:
    __slots__ = ("_compressor",)

    def __init__(self, module: Any, level: int) -> None:
        self._compressor = module.ZstdCompressor(level=level).compressobj()

    def feed(self, data: Bytes) -> bytes:
        return cast(bytes, self._compressor.compress(data))

    def finish(self) -> bytes:
        return cast(bytes, self._compressor.flush())


@attrs.define(frozen=True, kw_only=True)
class Zstd:
    """zstd (RFC 8878); needs the ``zstandard`` package (``pip install aioframekit[zstd]``).

    Reads every frame until EOF and skips skippable frames. ``trailing_data`` as for
    :class:`Gzip`; ``level`` is the encoder's (levels above 19 may need a larger window).

    ``max_window_size`` bounds the memory a stream holds: the library keeps the frame's
    window (``Window_Size`` from its header, or its content size under
    ``Single_Segment_Flag``), and a 1 KB frame can ask for, and fill, all of it. A frame
    whose window is larger, the first or any later one, is refused with LimitExceededError
    at the frame's offset before the library sees it; the library is given the same limit
    (its ``max_window_size``) as a backstop. The default, 8 MiB, is what RFC 9659 requires
    HTTP decoders to support, and encoders not to exceed; the zstd library's own default is
    128 MiB.
    """

    max_output_size: int | None = attrs.field(default=None, validator=_optional_size)
    max_window_size: int = attrs.field(
        default=DEFAULT_MAX_WINDOW_SIZE, validator=_int_in(1 << 10, 1 << 31)
    )
    trailing_data: TrailingData = attrs.field(default="error", validator=_trailing_validator)
    level: int = attrs.field(default=3, validator=_int_in(-(1 << 17), 22))

    def __attrs_post_init__(self) -> None:
        _import_extra("zstandard", "zstd", "zstd decoding")

    def decoder(self) -> ByteDecoder:
        """A fresh zstd decoder for one stream."""
        return _ZstdDecoder(
            _import_extra("zstandard", "zstd", "zstd decoding"),
            max_output_size=self.max_output_size,
            max_window_size=self.max_window_size,
            trailing_data=self.trailing_data,
        )

    def encoder(self) -> ByteEncoder:
        """A fresh encoder writing one zstd frame."""
        return _ZstdEncoder(_import_extra("zstandard", "zstd", "zstd encoding"), self.level)


# -- Content-Encoding -------------------------------------------------------------------------
