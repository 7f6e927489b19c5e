"""gzip, zlib and raw deflate: one decoder, ``_InflateDecoder``, over a zlib-compatible backend
(the standard library, zlib-ng or python-isal), and the three codecs that configure it.

framekit reads the gzip (RFC 1952) and zlib (RFC 1950) wrappers and checks their trailers
itself; the backend sees raw deflate only. See :mod:`framekit.codecs.compression`.
"""

from __future__ import annotations

import importlib
import zlib
from collections.abc import Callable
from typing import Any, Protocol, cast

import attrs

from framekit import speedups
from framekit.codecs._base import ByteDecoder, ByteEncoder, Bytes, OutputSink
from framekit.codecs.compression._common import (
    _CAP_STEP,
    _INPUT_SLICE,
    Backend,
    TrailingData,
    _int_in,
    _optional_size,
    _over_cap,
    _trailing,
    _trailing_validator,
)
from framekit.errors import (
    FramingError,
    MalformedError,
    TruncatedError,
    UnsupportedEncodingError,
)

__all__ = ["Deflate", "Gzip", "RawDeflate"]


# The library's shape, typed here (brotli has no stubs, and every extra is optional).
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
            f"backend={backend!r} needs the {package} package: pip install aioframekit[speed]"
        ) from None


def _backend_validator(instance: Any, attribute: attrs.Attribute[Any], value: object) -> None:
    attrs.validators.in_(("auto", "zlib", "isal", "zlib-ng"))(instance, attribute, cast(str, value))
    if value == "isal" and instance.trailing_data == "leave":
        raise ValueError(
            "'backend'='isal' cannot be used with trailing_data='leave': isal may read a few "
            "bytes past the end of a stream, which must stay in the source"
        )
    if value in _BACKEND_MODULES:
        _zlib_module(cast(Backend, value))  # not installed: UnsupportedEncodingError now


# -- the decoder and the codecs -------------------------------------------------------------

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
        "_drains",
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
        "_settle",
        "_skip",
        "_state",
        "_step_end",
        "_trailing",
        "_written",
        "needs_input",
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
        #: Called when each call returns (isal: the AVX registers' upper halves cleared, or
        #: every SSE instruction the process runs after an isal inflate is slower), or None.
        self._settle: Callable[[], None] | None = (
            speedups.clear_vector_upper if cast(Any, module).__name__.startswith("isal") else None
        )
        # The standard library's inflater writes all it can of its input in one call: output
        # short of the limit, with no input left, means a call with nothing new writes
        # nothing (CPython's zlib loops inflate() while the output is full). Other backends
        # promise nothing: isal may hold output decoded from input it took.
        self._drains = module is cast(Any, zlib)
        #: True after a call in deflate data that took all its input and wrote less than its
        #: budget, with the standard library's zlib: a call with nothing new does nothing (one
        #: decode call a piece fewer: gzip/1460). False promises nothing.
        self.needs_input = False
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
        # Every byte of output written (the budget of a call counts from it).
        self._written = 0
        #: With max_output_size: where the current step of deflate data ends, and where the
        #: step in which the output passed the cap starts (-1: not passed).
        self._step_end = 0
        self._over_step = -1

    @property
    def done(self) -> bool:
        return self._done

    def decode(self, data: memoryview, out: OutputSink, budget: int) -> int:
        try:
            return self._decode(data, out, budget, False)
        finally:
            if self._settle is not None:
                self._settle()

    def decode_eof(self, data: memoryview, out: OutputSink, budget: int) -> int:
        try:
            return self._decode(data, out, budget, True)
        finally:
            if self._settle is not None:
                self._settle()

    def _decode(self, data: memoryview, out: OutputSink, budget: int, eof: bool) -> int:
        # Output written by this call, across members: every backend step gets what is left.
        written = self._written
        self.needs_input = False
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
                    if self._drains and consumed == len(data) and len(chunk) < budget:
                        self.needs_input = True
                if chunk:
                    self._member_size += len(chunk)
                    self._written += len(chunk)
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
                left = budget - (self._written - written)
                if left <= 0:
                    break  # the budget is spent (by an earlier member's end)
                carry = self._carry
                if carry:
                    # Not seen in practice: isal reads at most a trailer's worth past an end.
                    self._carry = b""
                    used = self._inflate(memoryview(carry), out, left, False)
                    self._carry = carry[used:] + self._carry
                else:
                    consumed += self._inflate(data[consumed:], out, left, eof)
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
        size = len(data)
        if size > _INPUT_SLICE:
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
            if self._drains and consumed == size and len(chunk) < budget:
                self.needs_input = True
        if chunk:
            self._member_size += len(chunk)
            self._written += len(chunk)
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
                self._written += len(chunk)
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
