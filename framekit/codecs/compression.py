"""Decompressing byte codecs: gzip, deflate (zlib or raw), brotli and zstd.

Each codec is an immutable configuration making decoders that keep the byte-decoder contract
(see :mod:`framekit.codecs._base`): they consume compressed bytes from the source's view,
write at most ``budget`` decoded bytes per call, and leave every byte after the end of the
compressed stream in the source. Memory per step is bounded by the budget plus the library's
own state (the deflate window, brotli's ring buffer, one zstd block of at most 128 KiB), so a
1 GiB bomb read 64 KiB at a time never holds more than that. ``max_output_size`` stops it: every
byte up to the cap is written, whatever the budget, and the next call raises
:class:`~framekit.errors.LimitExceededError` (at once if nothing was left to write under it).

Where the cap is passed, and whether a corrupt stream is over the cap or corrupt first, does not
depend on the split of the input nor on the backend, because the libraries are handed the input
in fixed units and the error names the unit's start:

- **zstd**: the offset is where the block whose output passed the cap starts (framekit walks the
  blocks; a block decodes whole, or is corrupt whole).
- **deflate** (gzip, zlib, raw): the deflate data goes to the backend in 16 KiB steps counted
  from where each stream's (or member's) deflate data starts. The step in which the output
  passes the cap is decoded to its end, its output discarded: MalformedError if that finds it
  corrupt, else LimitExceededError at the step's start. (Backends decode ahead of the output
  asked for by different amounts, isal by tens of KiB; no backend reads past a step it was not
  given, and they agree on what a given prefix decodes to.) At most about 16 MiB of output is
  decoded past the cap (deflate expands at most 1032:1).
- **brotli**: the library gets whole 16 KiB steps of input at fixed offsets (the last one at
  EOF), so under a cap its output lags the input by up to 16 KiB; the offset is the start of
  the step whose output passed the cap. Without a cap, input is handed on as it comes.

What the decoders decide, the same way for every format:

- **Empty input is empty content.** Zero bytes at EOF decode to zero bytes, without error: a
  ``Content-Length: 0`` response labelled ``Content-Encoding: gzip`` is empty (RFC 9110; curl,
  aiohttp and browsers agree). A stream that starts and then stops is truncated.
- **A stream cut short** raises ``TruncatedError`` at EOF, at the offset where input ended.
- **Corrupt data** raises :class:`~framekit.errors.MalformedError`. zlib and brotli do not say
  where inside a stream they failed, so the offset is where the corrupt gzip member, zlib or
  brotli stream, or zstd frame started; a checksum that does not match (gzip FHCRC, CRC-32 or
  ISIZE, zlib Adler-32, zstd content checksum) is reported there too, as it says the whole is
  corrupt, not where. Errors framekit finds itself in a header (bad magic, a reserved bit, a
  zlib FDICT, bytes after the end) carry their exact offset. Either way the offset does not
  depend on how the input was split into feeds. framekit reads the gzip and zlib wrappers and
  checks their trailers itself, so every backend sees raw deflate only and the messages name
  framekit's rules, not a backend's words. One difference remains on corrupt deflate data:
  isal accepts some invalid Huffman code sets that zlib and zlib-ng reject (gzip and zlib then
  fail on the checksum instead, or on a truncation), so for a damaged stream the error may
  differ on isal; valid streams and every error framekit finds itself do not.
- **Bytes after the end**: ``trailing_data="error"`` (the default) fails on them, and the
  decoder is done only at EOF; ``trailing_data="leave"`` stops at the end of the stream and
  leaves them in the source (for a next message). Brotli can only ``"error"``: the library
  does not say where a stream ended inside the bytes it was given.
- Errors are fatal: a decoder that raised raises the same error on every later call.

Gzip reads concatenated members by default (like Go's ``gzip.Reader.Multistream``). Deciding
whether bytes after a member start another one takes the two magic bytes ``1f 8b`` only, and a
first byte that is not ``1f`` fails (or stops) at once, so a live stream never stalls on a few
stray bytes (async-compression #488).
"""

from __future__ import annotations

import importlib
import zlib
from collections.abc import Callable
from typing import Any, Literal, Protocol, TypeAlias, cast

import attrs

from framekit.codecs._base import ByteDecoder, ByteEncoder, Bytes, OutputSink
from framekit.errors import (
    FramingError,
    LimitExceededError,
    MalformedError,
    TruncatedError,
    UnsupportedEncodingError,
)

__all__ = [
    "DEFAULT_MAX_BROTLI_WINDOW_SIZE",
    "DEFAULT_MAX_CODINGS",
    "DEFAULT_MAX_WINDOW_SIZE",
    "Brotli",
    "Deflate",
    "Gzip",
    "RawDeflate",
    "Zstd",
    "content_decoding",
]

Backend: TypeAlias = Literal["auto", "zlib", "isal", "zlib-ng"]
TrailingData: TypeAlias = Literal["error", "leave"]
DecompressionCodec: TypeAlias = "Gzip | Deflate | RawDeflate | Brotli | Zstd"

#: zstd window a decoder accepts by default: 8 MiB, what RFC 9659 asks HTTP decoders to support.
DEFAULT_MAX_WINDOW_SIZE = 8 * 1024 * 1024
#: brotli window a decoder accepts by default: 16 MiB (WBITS 24), the largest RFC 7932 allows.
DEFAULT_MAX_BROTLI_WINDOW_SIZE = 16 * 1024 * 1024
#: Stacked content codings ``content_decoding`` accepts by default (urllib3 CVE-2025-66418).
DEFAULT_MAX_CODINGS = 5

# Compressed bytes handed to the library per call. The stdlib copies the input it did not use
# (``unconsumed_tail``) on every call, so a bounded slice keeps that copy small whatever the
# source holds; 64 KiB costs less than inflating one 64 KiB budget.
_INPUT_SLICE = 64 * 1024


# -- library shapes (typed locally: brotli has no stubs, and every extra is optional) --------


class _Inflater(Protocol):
    @property
    def unconsumed_tail(self) -> bytes: ...
    @property
    def unused_data(self) -> bytes: ...
    @property
    def eof(self) -> bool: ...
    def decompress(self, data: Bytes, max_length: int = ...) -> bytes: ...


class _ZlibModule(Protocol):
    error: type[Exception]

    def decompressobj(self, wbits: int = ...) -> _Inflater: ...
    def crc32(self, data: Bytes, value: int = ...) -> int: ...
    def adler32(self, data: Bytes, value: int = ...) -> int: ...


class _BrotliDecompressor(Protocol):
    def process(self, data: Bytes, output_buffer_limit: int = ...) -> bytes: ...
    def can_accept_more_data(self) -> bool: ...
    def is_finished(self) -> bool: ...


class _ZstdDecompressObj(Protocol):
    @property
    def eof(self) -> bool: ...
    def decompress(self, data: Bytes) -> bytes: ...


class _ZstdDecompressor(Protocol):
    def decompressobj(self) -> _ZstdDecompressObj: ...


def _import_extra(module: str, extra: str, coding: str) -> Any:
    """Import an optional library, or fail naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise UnsupportedEncodingError(
            f"{coding} needs the {module} package: pip install framekit[{extra}]"
        ) from None


_BACKEND_MODULES: dict[str, str] = {"isal": "isal.isal_zlib", "zlib-ng": "zlib_ng.zlib_ng"}


def _zlib_module(backend: Backend, trailing_data: TrailingData = "error") -> _ZlibModule:
    """The zlib-compatible module for ``backend``.

    "auto" tries isal, then zlib-ng, then the standard library; isal only with
    ``trailing_data="error"``: it may read a few bytes past the end of a stream into its bit
    buffer, which the decoder then holds (see ``_carry``) instead of leaving in the source.
    """
    if backend == "zlib":
        return cast(_ZlibModule, zlib)
    if backend == "auto":
        names = ("isal.isal_zlib", "zlib_ng.zlib_ng")
        for name in names if trailing_data == "error" else names[1:]:
            try:
                return cast(_ZlibModule, importlib.import_module(name))
            except ImportError:
                pass
        return cast(_ZlibModule, zlib)
    try:
        return cast(_ZlibModule, importlib.import_module(_BACKEND_MODULES[backend]))
    except ImportError:
        package = "isal (python-isal)" if backend == "isal" else backend
        raise UnsupportedEncodingError(
            f"backend={backend!r} needs the {package} package: pip install framekit[speed]"
        ) from None


# -- option validators --------------------------------------------------------------------


def _optional_size(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{attribute.name!r} must be None or an int >= 0, got {value!r}")


def _int_in(low: int, high: int) -> Callable[[object, attrs.Attribute[Any], object], None]:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ValueError(f"{attribute.name!r} must be an int in [{low}, {high}], got {value!r}")

    return check


_trailing_validator = attrs.validators.in_(("error", "leave"))


def _backend_validator(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    attrs.validators.in_(("auto", "zlib", "isal", "zlib-ng"))(instance, attribute, cast(str, value))
    if value == "isal" and instance.trailing_data == "leave":
        raise ValueError(
            "'backend'='isal' cannot be used with trailing_data='leave': isal may read a few "
            "bytes past the end of a stream, which must stay in the source"
        )
    if value in _BACKEND_MODULES:
        _zlib_module(cast(Backend, value))  # not installed: UnsupportedEncodingError now


# -- errors shared by the decoders ------------------------------------------------------------


def _over_cap(coding: str, cap: int, offset: int) -> LimitExceededError:
    return LimitExceededError(
        f"decoded {coding} output exceeds max_output_size={cap}", limit=cap, offset=offset
    )


class _Capped(Protocol):
    _decoded: int
    _max_output_size: int | None
    _failure: FramingError | None


def _count_output(decoder: _Capped, size: int, coding: str, offset: int) -> int:
    """Count ``size`` more decoded bytes; return how many fit under ``max_output_size``.

    Past the cap the decoder fails (``_failure``) with LimitExceededError at ``offset``: the
    caller writes the bytes that fit and raises on the next call, or at once if none fit.
    """
    cap = decoder._max_output_size
    decoder._decoded += size
    if cap is None or decoder._decoded <= cap:
        return size
    decoder._failure = _over_cap(coding, cap, offset)
    return size - (decoder._decoded - cap)


def _trailing(coding: str, offset: int) -> MalformedError:
    return MalformedError(
        f"data after the end of the {coding} stream (trailing_data='error')", offset=offset
    )


# -- deflate family: gzip, zlib, raw deflate --------------------------------------------------

#: With max_output_size, deflate and brotli input reaches the library in steps of this many
#: bytes (see ``_inflate_capped``): a step in which the output passes the cap is decoded to its
#: end, at most about 16 MiB of discarded deflate output (deflate expands at most 1032:1).
_CAP_STEP = 16 * 1024

_GZIP, _ZLIB, _RAW, _ZLIB_OR_RAW = 31, 15, -15, 0

# gzip header flags (RFC 1952 2.3.1); bits 5-7 are reserved.
_FHCRC, _FEXTRA, _FNAME, _FCOMMENT = 2, 4, 8, 16
# RFC 1950 2.2: FLG bit 5, a preset dictionary's Adler-32 follows the header.
_FDICT = 0x20

# What the deflate-family decoder expects next: a stream or member (or the end), the optional
# gzip header fields, deflate data (the backend's), the gzip or zlib trailer; or it failed.
_START, _FIELDS, _BODY, _TRAILER, _FAILED = range(5)


def _is_zlib_header(cmf: int, flg: int) -> bool:
    """RFC 1950: method 8, window <= 32 KiB, and the header checksum."""
    return cmf & 0x0F == 8 and cmf >> 4 <= 7 and (cmf * 256 + flg) % 31 == 0


class _InflateDecoder:
    """A gzip (multi-member), zlib or raw deflate decoder over a zlib-compatible module.

    framekit reads the gzip header (RFC 1952, its CRC-16 included) and the zlib header
    (RFC 1950) itself, hands the backend raw deflate data only, and checks the trailers (gzip
    CRC-32 and ISIZE, zlib Adler-32) with the backend's checksum functions: backends differ in
    how they take a wrapper that arrives in pieces (isal fails on a split gzip header, and
    takes a split zlib header without its FDICT), never in raw deflate. Computing the
    checksum beside the inflater costs what the backend's own check costs (16 MiB of gzip:
    within 1% for zlib, isal and zlib-ng).
    """

    __slots__ = (
        "_carry",
        "_check",
        "_checksum",
        "_coding",
        "_decoded",
        "_done",
        "_error",
        "_failure",
        "_fields",
        "_format",
        "_header_crc",
        "_inflater",
        "_max_output_size",
        "_member_size",
        "_member_start",
        "_members",
        "_module",
        "_multi_member",
        "_offset",
        "_over_step",
        "_skip",
        "_state",
        "_step_end",
        "_trailing",
    )

    def __init__(
        self,
        module: _ZlibModule,
        wbits: int,
        coding: str,
        *,
        max_output_size: int | None,
        trailing_data: TrailingData,
        multi_member: bool = False,
    ) -> None:
        self._module = module
        self._error = module.error
        self._format = wbits
        self._coding = coding
        self._max_output_size = max_output_size
        self._trailing = trailing_data
        self._multi_member = multi_member
        self._inflater: _Inflater | None = None
        self._failure: FramingError | None = None
        #: Bytes consumed from the source but not yet read (isal read them past a stream's end).
        self._carry = b""
        self._done = False
        self._state = _START
        self._members = 0
        self._member_start = 0
        self._member_size = 0
        #: The gzip header fields still to read (FLG bits), the FEXTRA bytes still to skip (-1:
        #: its length is next), the CRC-32 of the header so far.
        self._fields = 0
        self._skip = -1
        self._header_crc = 0
        #: The trailer's checksum function (None for raw deflate) and its value so far.
        self._checksum: Callable[[Bytes, int], int] | None = None
        self._check = 0
        #: Offset of the next byte to read (the carry starts there); decoded bytes so far.
        self._offset = 0
        self._decoded = 0
        #: With max_output_size: where the current step of deflate data ends, and where the
        #: step in which the output passed the cap starts (-1: not passed).
        self._step_end = 0
        self._over_step = -1

    @property
    def done(self) -> bool:
        return self._done

    def decode(self, data: memoryview, out: OutputSink, budget: int) -> int:
        return self._decode(data, out, budget, False)

    def decode_eof(self, data: memoryview, out: OutputSink, budget: int) -> int:
        return self._decode(data, out, budget, True)

    def _decode(self, data: memoryview, out: OutputSink, budget: int, eof: bool) -> int:
        if self._state == _BODY and budget > 0 and not self._carry:
            # Inside deflate data (no failure: that leaves _BODY), one backend step; without a
            # cap, inline: the steps of 1460-byte pieces are short (3% of their time on isal).
            inflater = self._inflater
            if self._max_output_size is None and inflater is not None:
                piece = data[:_INPUT_SLICE] if len(data) > _INPUT_SLICE else data
                try:
                    chunk = inflater.decompress(piece, budget)
                except self._error as exc:
                    raise self._fail(self._corrupt()) from exc
                if inflater.eof:
                    consumed = self._consumed_at_end(len(piece))
                else:
                    consumed = len(piece) - len(inflater.unconsumed_tail)
                    self._offset += consumed
                if chunk:
                    self._member_size += len(chunk)
                    checksum = self._checksum
                    if checksum is not None:
                        self._check = checksum(chunk, self._check)
                    out.write(chunk)
                elif eof and not consumed and self._inflater is not None:
                    raise self._fail(self._truncated(len(piece)))
            else:
                consumed = self._inflate(data, out, budget, eof)
            if self._state == _BODY:
                return consumed
        else:
            if self._failure is not None:
                # The same object every time: its traceback must not grow with each raise.
                raise self._failure.with_traceback(None)
            if budget <= 0:
                raise ValueError(f"budget must be > 0, got {budget}")
            consumed = 0  # bytes of data consumed in this call
        while not self._done:
            if self._state == _BODY:
                carry = self._carry
                if carry:
                    # Not seen in practice: isal reads at most a trailer's worth past an end.
                    self._carry = b""
                    used = self._inflate(memoryview(carry), out, budget, False)
                    self._carry = carry[used:] + self._carry
                else:
                    consumed += self._inflate(data[consumed:], out, budget, eof)
                if self._state == _BODY:
                    break  # the budget is spent, or the input
                continue
            carry = self._carry
            if carry:
                # A few bytes: read them with the next ones, so fixed fields stay whole.
                rest = data[consumed : consumed + 16]
                at_eof = eof and len(rest) == len(data) - consumed
                read = self._read(memoryview(carry + bytes(rest)), at_eof)
                if read is None:
                    break
                if read < len(carry):
                    self._carry = carry[read:]
                else:
                    self._carry = b""
                    consumed += read - len(carry)
            else:
                read = self._read(data[consumed:], eof)
                if read is None:
                    break
                consumed += read
        return consumed

    def _read(self, data: memoryview, eof: bool) -> int | None:
        """Read what framekit reads itself (headers, trailers, the end) from ``data``: return
        the bytes read, or None when it needs more input."""
        state = self._state
        size = len(data)
        offset = self._offset
        if state == _START:
            return self._start(data, eof)
        if state == _FIELDS:
            return self._gzip_fields(data, eof)
        # _TRAILER: gzip CRC-32 and ISIZE (little endian), or the zlib Adler-32 (big endian).
        length = 8 if self._format == _GZIP else 4
        if size < length:
            return self._wait(size, eof)
        if self._format == _GZIP:
            if int.from_bytes(data[:4], "little") != self._check:
                raise self._fail(
                    MalformedError(
                        "gzip member's CRC-32 does not match its data (RFC 1952), in the "
                        "member starting here",
                        offset=self._member_start,
                    )
                )
            if int.from_bytes(data[4:8], "little") != self._member_size & 0xFFFFFFFF:
                raise self._fail(
                    MalformedError(
                        "gzip member's ISIZE does not match its decoded size (RFC 1952), in "
                        "the member starting here",
                        offset=self._member_start,
                    )
                )
        elif int.from_bytes(data[:4], "big") != self._check:
            raise self._fail(
                MalformedError(
                    "zlib stream's Adler-32 does not match its data (RFC 1950)",
                    offset=self._member_start,
                )
            )
        self._offset = offset + length
        self._end_member()
        return length

    def _wait(self, size: int, eof: bool) -> int | None:
        """Not enough bytes for the next field: None (more input), or truncated at EOF."""
        if eof:
            raise self._fail(self._truncated(size))
        return None

    def _truncated(self, left: int) -> TruncatedError:
        """The input ended ``left`` bytes after the next byte to read."""
        return TruncatedError(
            f"{self._coding} stream ends before its end", offset=self._offset + left
        )

    def _start(self, data: memoryview, eof: bool) -> int | None:
        """Start the first stream or the next member, or finish."""
        size = len(data)
        offset = self._offset
        if self._members == 0:
            if size == 0:
                self._done = eof  # an empty body is empty content
                return None
            wbits = self._format
            if wbits == _GZIP:
                return self._gzip_header(data, eof)
            if wbits == _ZLIB_OR_RAW:
                if size < 2:
                    return self._wait(size, eof)
                if _is_zlib_header(data[0], data[1]):
                    if data[1] & _FDICT:
                        # A zlib stream compressed against a preset dictionary (RFC 1950
                        # FDICT): HTTP deflate has no way to name one, so no recipient can
                        # decode it. Malformed, not unsupported: no option or extra would
                        # make it decodable; the body is not valid "deflate" content.
                        raise self._fail(
                            MalformedError(
                                "zlib stream needs a preset dictionary (FDICT, RFC 1950), "
                                "which HTTP deflate cannot supply",
                                offset=offset + 1,
                            )
                        )
                    self._format = _ZLIB
                    self._offset = offset + 2
                    self._begin_body(self._module.adler32, 1)
                    return 2
                self._format = _RAW
            self._begin_body(None, 0)
            return 0
        # After a stream (or member): another member, the end, or trailing data.
        if size == 0:
            if eof:
                self._done = True
            return None
        if self._multi_member and data[0] == 0x1F:
            if size >= 2 and data[1] == 0x8B:
                return self._gzip_header(data, eof)
            if size == 1 and not eof:
                return None  # the next byte decides
        if self._trailing == "error":
            raise self._fail(_trailing(self._coding, offset))
        self._done = True
        return None

    def _gzip_header(self, data: memoryview, eof: bool) -> int | None:
        """The fixed part of a gzip member header (RFC 1952 2.3): ID1 ID2 CM FLG MTIME XFL OS."""
        size = len(data)
        offset = self._offset
        for index, expected in ((0, 0x1F), (1, 0x8B)):
            if size > index and data[index] != expected:
                raise self._fail(
                    MalformedError(
                        f"not a gzip member: byte {index} is {data[index]:#04x}, not "
                        f"{expected:#04x} (RFC 1952 magic 1f 8b)",
                        offset=offset + index,
                    )
                )
        if size > 2 and data[2] != 8:
            raise self._fail(
                MalformedError(
                    f"gzip compression method {data[2]} is not deflate (8)", offset=offset + 2
                )
            )
        if size > 3 and data[3] & 0xE0:
            raise self._fail(
                MalformedError(
                    f"reserved gzip header flag bits set (FLG {data[3]:#04x})", offset=offset + 3
                )
            )
        if size < 10:
            return self._wait(size, eof)
        self._member_start = offset
        self._offset = offset + 10
        self._fields = data[3] & (_FEXTRA | _FNAME | _FCOMMENT | _FHCRC)
        self._skip = -1
        self._header_crc = zlib.crc32(data[:10])
        self._state = _FIELDS
        return 10

    def _gzip_fields(self, data: memoryview, eof: bool) -> int | None:
        """The next optional gzip header field (FEXTRA, FNAME, FCOMMENT, FHCRC, in order), or
        the start of the deflate data."""
        fields = self._fields
        size = len(data)
        offset = self._offset
        if fields & _FEXTRA:
            if self._skip < 0:
                if size < 2:
                    return self._wait(size, eof)
                n = 2
                self._skip = int.from_bytes(data[:2], "little")
            else:
                n = min(self._skip, size)
                if n == 0 and self._skip:
                    return self._wait(size, eof)
                self._skip -= n
            if self._skip == 0:
                self._fields = fields & ~_FEXTRA
        elif fields & (_FNAME | _FCOMMENT):
            # Zero-terminated; read in bounded pieces so a long name costs O(n) however fed.
            piece = bytes(data[:4096])
            end = piece.find(0)
            if end < 0:
                if not piece:
                    return self._wait(size, eof)
                n = len(piece)
            else:
                n = end + 1
                self._fields = fields & ~(_FNAME if fields & _FNAME else _FCOMMENT)
        elif fields & _FHCRC:
            if size < 2:
                return self._wait(size, eof)
            if int.from_bytes(data[:2], "little") != self._header_crc & 0xFFFF:
                raise self._fail(
                    MalformedError(
                        "gzip header CRC-16 (FHCRC) does not match the header (RFC 1952), in "
                        "the member starting here",
                        offset=self._member_start,
                    )
                )
            self._offset = offset + 2
            self._begin_body(self._module.crc32, 0)
            return 2
        else:
            self._begin_body(self._module.crc32, 0)
            return 0
        self._header_crc = zlib.crc32(data[:n], self._header_crc)
        self._offset = offset + n
        return n

    def _begin_body(self, checksum: Callable[[Bytes, int], int] | None, initial: int) -> None:
        if self._format != _GZIP:
            self._member_start = self._offset if self._format == _RAW else self._offset - 2
        self._inflater = self._module.decompressobj(_RAW)
        self._step_end = self._offset + _CAP_STEP
        self._checksum = checksum
        self._check = initial
        self._member_size = 0
        self._state = _BODY

    def _end_member(self) -> None:
        self._members += 1
        self._state = _START
        if not self._multi_member and self._trailing == "leave":
            self._done = True

    def _inflate(self, data: memoryview, out: OutputSink, budget: int, eof: bool) -> int:
        """One step of the backend over raw deflate data; the bytes of ``data`` consumed."""
        cap = self._max_output_size
        if cap is not None and (
            len(data) >= self._step_end - self._offset
            or cap - self._decoded < budget
            or self._over_step >= 0
        ):
            # Near a step's end or the cap: see _inflate_capped. Elsewhere a step cannot end
            # nor the cap be passed in this call, and the plain step makes the same backend
            # call (8 MiB of gzip in 1460-byte pieces under a cap, isal: 1.22x main's time
            # with the careful loop every time, 1.11x with this).
            return self._inflate_capped(data, out, budget, eof)
        inflater = self._inflater
        assert inflater is not None
        if len(data) > _INPUT_SLICE:
            data = data[:_INPUT_SLICE]
        try:
            chunk = inflater.decompress(data, budget)
        except self._error as exc:
            raise self._fail(self._corrupt()) from exc
        if inflater.eof:
            consumed = self._consumed_at_end(len(data))
        else:
            consumed = len(data) - len(inflater.unconsumed_tail)
            self._offset += consumed
        if chunk:
            self._member_size += len(chunk)
            if cap is not None:
                self._decoded += len(chunk)
            checksum = self._checksum
            if checksum is not None:
                self._check = checksum(chunk, self._check)
            out.write(chunk)
        elif eof and not consumed and self._inflater is not None:
            raise self._fail(self._truncated(len(data)))
        return consumed

    def _inflate_capped(self, data: memoryview, out: OutputSink, budget: int, eof: bool) -> int:
        """``_inflate`` under ``max_output_size``: the deflate data goes to the backend in
        ``_CAP_STEP``-byte steps counted from its start, and a step in which the output passes
        the cap is decoded to its end (the output discarded) before the cap error is raised,
        unless that finds it corrupt. Backends agree on what a given prefix of the input
        decodes to and on whether it is corrupt, whatever the pieces; they differ in how far
        they decode ahead of the output asked for (isal by tens of KiB), which a step bounds."""
        inflater = self._inflater
        assert inflater is not None
        cap = cast(int, self._max_output_size)
        consumed = 0
        while True:
            step_end = self._step_end
            piece = data[consumed : consumed + min(step_end - self._offset, _INPUT_SLICE)]
            over = self._over_step >= 0
            room = cap - self._decoded
            limit = _INPUT_SLICE if over or room <= 0 else min(budget, room)
            try:
                chunk = inflater.decompress(piece, limit)
            except self._error as exc:
                raise self._fail(self._corrupt()) from exc
            ended = inflater.eof
            if ended:
                used = self._consumed_at_end(len(piece))
            else:
                used = len(piece) - len(inflater.unconsumed_tail)
                self._offset += used
            consumed += used
            step_done = ended or (self._offset == step_end and len(chunk) < limit)
            if chunk and not over and room > 0:
                self._decoded += len(chunk)
                self._member_size += len(chunk)
                checksum = self._checksum
                if checksum is not None:
                    self._check = checksum(chunk, self._check)
                out.write(chunk)
            elif chunk and not over:
                over = True
                self._over_step = step_end - _CAP_STEP
            if over:
                if step_done or (eof and not used and not chunk):
                    raise self._fail(_over_cap(self._coding, cap, self._over_step))
                if not used and not chunk:
                    return consumed  # the rest of the step is not here yet
                continue
            if ended:
                return consumed
            if step_done:
                self._step_end = step_end + _CAP_STEP
                if not chunk and not used:
                    continue
            if not chunk and not used:
                if eof:
                    raise self._fail(self._truncated(len(data) - consumed))
                return consumed
            return consumed

    def _consumed_at_end(self, size: int) -> int:
        """The deflate data ended in a step given ``size`` bytes: how many of them it used.
        Ends the body (the trailer is next)."""
        inflater = cast(_Inflater, self._inflater)
        # The stdlib leaves a stale unconsumed_tail at the end; unused_data is exact.
        consumed = size - len(inflater.unused_data)
        if consumed < 0:
            # isal read bytes after the end in an earlier call: they are read next.
            self._carry = inflater.unused_data[:-consumed]
            self._offset += consumed
            consumed = 0
        else:
            self._offset += consumed
        self._inflater = None
        if self._format == _RAW:
            self._end_member()
        else:
            self._state = _TRAILER
        return consumed

    def _corrupt(self) -> MalformedError:
        where = " in the member starting here" if self._format == _GZIP else ""
        return MalformedError(
            f"corrupt {self._coding} data: invalid deflate stream (RFC 1951){where}",
            offset=self._member_start,
        )

    def _fail(self, error: FramingError) -> FramingError:
        self._failure = error
        self._inflater = None
        self._state = _FAILED
        return error


class _ZlibEncoder:
    """zlib's compressobj as a ByteEncoder (gzip, zlib or raw deflate by ``wbits``)."""

    __slots__ = ("_compressor",)

    def __init__(self, wbits: int, level: int) -> None:
        self._compressor = zlib.compressobj(level, zlib.DEFLATED, wbits)

    def feed(self, data: Bytes) -> bytes:
        return self._compressor.compress(data)

    def finish(self) -> bytes:
        return self._compressor.flush()


@attrs.define(frozen=True, kw_only=True)
class Gzip:
    """gzip (RFC 1952): concatenated members by default, each member's CRC and size checked.

    Header fields (FEXTRA, FNAME, FCOMMENT) are skipped and a header CRC-16 (FHCRC) is checked,
    however the header is split into feeds. ``max_output_size`` caps the decoded size:
    LimitExceededError once it is passed (the module docs say at which offset).
    ``multi_member=False`` reads one member only. ``trailing_data`` says what bytes after the
    last member (bytes that do not start with the gzip magic ``1f 8b``) mean: ``"error"``
    (MalformedError at their offset) or ``"leave"`` (the decoder is done at the end of the
    last member and they stay in the source). With ``multi_member=False, trailing_data="leave"``
    the decoder is done at the end of the first member, without waiting for more input.
    ``backend`` picks the inflate implementation: python-isal or zlib-ng when installed
    ("auto"), else the standard library; naming one that is not installed ("isal",
    "zlib-ng") raises UnsupportedEncodingError here. ``level`` (0-9) is the encoder's.
    """

    max_output_size: int | None = attrs.field(default=None, validator=_optional_size)
    multi_member: bool = attrs.field(default=True, validator=attrs.validators.instance_of(bool))
    trailing_data: TrailingData = attrs.field(default="error", validator=_trailing_validator)
    backend: Backend = attrs.field(default="auto", validator=_backend_validator)
    level: int = attrs.field(default=6, validator=_int_in(0, 9))

    def decoder(self) -> ByteDecoder:
        """A fresh gzip decoder for one stream."""
        return _InflateDecoder(
            _zlib_module(self.backend, self.trailing_data),
            _GZIP,
            "gzip",
            max_output_size=self.max_output_size,
            trailing_data=self.trailing_data,
            multi_member=self.multi_member,
        )

    def encoder(self) -> ByteEncoder:
        """A fresh encoder writing one gzip member."""
        return _ZlibEncoder(_GZIP, self.level)


@attrs.define(frozen=True, kw_only=True)
class Deflate:
    """HTTP "deflate": a zlib stream (RFC 1950), or raw deflate (RFC 1951) as some servers send.

    The decoder reads a zlib stream when its first two bytes are a valid zlib header (method
    8, window at most 32 KiB, header checksum), and raw deflate otherwise; it decides once two
    bytes are available. A zlib stream that needs a preset dictionary (FDICT) is refused with
    MalformedError at its FLG byte: HTTP has no way to name the dictionary. The encoder writes
    a zlib stream. Options as for :class:`Gzip`.
    """

    max_output_size: int | None = attrs.field(default=None, validator=_optional_size)
    trailing_data: TrailingData = attrs.field(default="error", validator=_trailing_validator)
    backend: Backend = attrs.field(default="auto", validator=_backend_validator)
    level: int = attrs.field(default=6, validator=_int_in(0, 9))

    def decoder(self) -> ByteDecoder:
        """A fresh zlib-or-raw deflate decoder for one stream."""
        return _InflateDecoder(
            _zlib_module(self.backend, self.trailing_data),
            _ZLIB_OR_RAW,
            "deflate",
            max_output_size=self.max_output_size,
            trailing_data=self.trailing_data,
        )

    def encoder(self) -> ByteEncoder:
        """A fresh encoder writing one zlib stream."""
        return _ZlibEncoder(_ZLIB, self.level)


@attrs.define(frozen=True, kw_only=True)
class RawDeflate:
    """Raw deflate (RFC 1951), without header or checksum. Options as for :class:`Gzip`."""

    max_output_size: int | None = attrs.field(default=None, validator=_optional_size)
    trailing_data: TrailingData = attrs.field(default="error", validator=_trailing_validator)
    backend: Backend = attrs.field(default="auto", validator=_backend_validator)
    level: int = attrs.field(default=6, validator=_int_in(0, 9))

    def decoder(self) -> ByteDecoder:
        """A fresh raw deflate decoder for one stream."""
        return _InflateDecoder(
            _zlib_module(self.backend, self.trailing_data),
            _RAW,
            "raw deflate",
            max_output_size=self.max_output_size,
            trailing_data=self.trailing_data,
        )

    def encoder(self) -> ByteEncoder:
        """A fresh encoder writing one raw deflate stream."""
        return _ZlibEncoder(_RAW, self.level)


# -- brotli -----------------------------------------------------------------------------------


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
    """brotli (RFC 7932); needs the ``brotli`` package (``pip install framekit[brotli]``).

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
    """zstd (RFC 8878); needs the ``zstandard`` package (``pip install framekit[zstd]``).

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


def content_decoding(
    header: str,
    *,
    max_codings: int = DEFAULT_MAX_CODINGS,
    max_output_size: int | None = None,
    max_window_size: int | None = None,
    backend: Backend = "auto",
) -> list[DecompressionCodec]:
    """The codecs that decode a body with this Content-Encoding, in decoding order.

    Codings are applied in the header's order, so they are undone in reverse. ``identity`` is
    skipped; ``gzip``/``x-gzip``, ``deflate``, ``br`` and ``zstd`` are known (case-insensitive,
    whitespace around items ignored). ``max_window_size`` is set on every brotli and zstd
    codec (None: their defaults, 16 MiB and 8 MiB). Raises UnsupportedEncodingError naming an
    unknown coding (or a missing extra), and LimitExceededError when more than
    ``max_codings`` are stacked.

    ``max_output_size`` caps the final decoded output, and every stage on the way to it: the
    last codec of the list gets it as its ``max_output_size``, and each codec before it gets
    ``max_output_size + max_output_size // 1024 + 1024``. A bomb inside an outer coding (a
    gzip stream whose decoded bytes are a huge inner stream: stored blocks, or thousands of
    empty members that decode to nothing) is stopped at about the cap by the stage it
    explodes in, not decoded whole first. The margin is what an encoding adds to input it
    cannot compress (deflate's stored blocks, zstd's raw blocks, brotli's uncompressed
    meta-blocks and each format's header add far less), so a body whose final output fits
    under the cap never fails at an intermediate stage.
    """
    names = [item.strip(" \t").lower() for item in header.split(",")]
    names = [name for name in names if name and name != "identity"]
    if len(names) > max_codings:
        raise LimitExceededError(
            f"{len(names)} stacked content codings, over max_codings={max_codings}",
            limit=max_codings,
        )
    codecs: list[DecompressionCodec] = []
    inner_cap = max_output_size
    if inner_cap is not None:
        inner_cap += inner_cap // 1024 + 1024  # see the docstring: the margin
    for position, name in enumerate(reversed(names)):
        cap = max_output_size if position == len(names) - 1 else inner_cap
        if name in ("gzip", "x-gzip"):
            codecs.append(Gzip(max_output_size=cap, backend=backend))
        elif name == "deflate":
            codecs.append(Deflate(max_output_size=cap, backend=backend))
        elif name == "br":
            window = DEFAULT_MAX_BROTLI_WINDOW_SIZE if max_window_size is None else max_window_size
            codecs.append(Brotli(max_output_size=cap, max_window_size=window))
        elif name == "zstd":
            window = DEFAULT_MAX_WINDOW_SIZE if max_window_size is None else max_window_size
            codecs.append(Zstd(max_output_size=cap, max_window_size=window))
        else:
            raise UnsupportedEncodingError(f"unsupported content coding {name!r}")
    return codecs
