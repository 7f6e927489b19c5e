from __future__ import annotations

import gzip
import itertools
import os
import random
import subprocess
import sys
import textwrap
import time
import zlib
from collections.abc import Iterator, Sequence

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framekit import speedups
from framekit._buffer import Buffer
from framekit.codecs._base import ByteCodec, decode_byte_pieces
from framekit.codecs.compression import (
    Brotli,
    Deflate,
    Gzip,
    RawDeflate,
    Zstd,
    content_decoding,
)
from framekit.errors import (
    FramingError,
    LimitExceededError,
    MalformedError,
    TruncatedError,
    UnsupportedEncodingError,
)
from framekit.reader import StreamReader
from framekit.sync import decode_bytes

brotli = pytest.importorskip("brotli")
zstandard = pytest.importorskip("zstandard")


CODECS: dict[str, ByteCodec] = {
    "gzip-zlib": Gzip(backend="zlib"),
    "gzip-isal": Gzip(backend="isal"),
    "gzip-zlib-ng": Gzip(backend="zlib-ng"),
    "deflate": Deflate(),
    "deflate-zlib": Deflate(backend="zlib"),
    "raw-deflate": RawDeflate(),
    "brotli": Brotli(),
    "zstd": Zstd(),
}
codecs = pytest.mark.parametrize("codec", list(CODECS.values()), ids=list(CODECS))

TEXT = b"".join(b"line %d of a body that compresses well\n" % i for i in range(3000))


def encode(codec: ByteCodec, data: bytes, piece: int = 1000) -> bytes:
    encoder = codec.encoder()
    parts = [encoder.feed(data[i : i + piece]) for i in range(0, len(data), piece)]
    return b"".join(parts) + encoder.finish()


def split_at(wire: bytes, cuts: Sequence[int]) -> list[bytes]:
    cuts = sorted(cuts)
    return [wire[a:b] for a, b in zip([0, *cuts], [*cuts, len(wire)], strict=True)]


def decode(
    codec: ByteCodec, wire: bytes | Sequence[bytes], *, budget: int = 64 * 1024
) -> tuple[bytes, bytes]:
    """(decoded output, leftover input) of ``wire`` (one piece or a list of pieces)."""
    decoder = codec.decoder()
    pieces = [wire] if isinstance(wire, bytes) else wire
    out, leftover = decode_byte_pieces(decoder, pieces, budget=budget)
    assert decoder.done
    return out.take_all(), leftover


def error_of(
    codec: ByteCodec, wire: bytes | Sequence[bytes], *, budget: int = 64 * 1024
) -> FramingError:
    pieces = [wire] if isinstance(wire, bytes) else wire
    with pytest.raises(FramingError) as info:
        decode_byte_pieces(codec.decoder(), pieces, budget=budget)
    return info.value


def corrupt(codec: ByteCodec, wire: bytes) -> bytes:
    """``wire`` with damage its format detects."""
    if isinstance(codec, Gzip):
        return wire[:-5] + bytes([wire[-5] ^ 0xFF]) + wire[-4:]  # CRC-32
    if isinstance(codec, Deflate):
        return wire[:-1] + bytes([wire[-1] ^ 0xFF])  # Adler-32
    if isinstance(codec, RawDeflate):
        return b"\x07" + wire[1:]  # final block of reserved type 3
    if isinstance(codec, Zstd):
        # the first block header becomes reserved type 3
        header = 6 if wire[4] & 0x20 == 0 else 5
        return wire[:header] + bytes([wire[header] | 0x06]) + wire[header + 1 :]
    return wire[:4] + b"\xff" * 8 + wire[12:]  # brotli: garbage in the first meta-block


# -- every codec ---------------------------------------------------------------------------


@codecs
@settings(max_examples=25, deadline=None)
@given(data=st.binary(max_size=3000), piece=st.integers(1, 700))
def test_decoding_what_the_encoder_wrote_gives_the_input(
    codec: ByteCodec, data: bytes, piece: int
) -> None:
    assert decode(codec, encode(codec, data, piece)) == (data, b"")


@codecs
@settings(max_examples=25, deadline=None)
@given(
    cuts=st.lists(st.integers(0, 10**6), max_size=8),
    budget=st.sampled_from([1, 7, 4096, 65536]),
)
def test_any_split_of_the_input_gives_the_same_output(
    codec: ByteCodec, cuts: list[int], budget: int
) -> None:
    wire = encode(codec, TEXT[:20000])
    cuts = [c % (len(wire) + 1) for c in cuts]
    assert decode(codec, split_at(wire, cuts), budget=budget) == (TEXT[:20000], b"")


@codecs
@settings(max_examples=20, deadline=None)
@given(
    cuts=st.lists(st.integers(0, 10**6), max_size=6),
    kind=st.sampled_from(["corrupt", "cut", "trailing"]),
)
def test_any_split_of_bad_input_gives_the_same_error(
    codec: ByteCodec, cuts: list[int], kind: str
) -> None:
    wire = encode(codec, TEXT[:20000])
    bad = {
        "corrupt": corrupt(codec, wire),
        "cut": wire[: len(wire) // 2],
        "trailing": wire + b"junk",
    }[kind]
    whole = error_of(codec, bad)
    cuts = [c % (len(bad) + 1) for c in cuts]
    split = error_of(codec, split_at(bad, cuts), budget=4096)
    assert (type(split), split.offset) == (type(whole), whole.offset)


@codecs
@pytest.mark.parametrize("fraction", [0.001, 0.1, 0.5, 0.9, 0.999])
def test_a_stream_cut_short_is_truncated(codec: ByteCodec, fraction: float) -> None:
    wire = encode(codec, TEXT)
    cut = int(len(wire) * fraction)
    error = error_of(codec, split_at(wire[:cut], [cut // 2]))
    assert isinstance(error, TruncatedError)
    assert error.offset == cut


@codecs
def test_a_stream_missing_only_its_last_byte_is_truncated(codec: ByteCodec) -> None:
    wire = encode(codec, TEXT)
    assert isinstance(error_of(codec, wire[:-1]), TruncatedError)


@codecs
def test_corrupt_data_is_malformed(codec: ByteCodec) -> None:
    wire = encode(codec, TEXT)
    error = error_of(codec, corrupt(codec, wire))
    assert isinstance(error, MalformedError)
    assert error.offset is not None


@codecs
def test_errors_are_sticky(codec: ByteCodec) -> None:
    decoder = codec.decoder()
    bad = memoryview(corrupt(codec, encode(codec, TEXT)))
    out = Buffer()
    position = 0
    with pytest.raises(MalformedError) as first:
        for _ in range(1000):
            position += decoder.decode_eof(bad[position:], out, 65536)
    with pytest.raises(MalformedError) as again:
        decoder.decode_eof(bad[position:], out, 65536)
    assert again.value is first.value


@codecs
def test_output_per_step_stays_within_the_budget(codec: ByteCodec) -> None:
    wire = memoryview(encode(codec, bytes(1 << 20)))
    decoder = codec.decoder()
    out = Buffer()
    position = 0
    while not decoder.done:
        before = out.produced
        position += decoder.decode_eof(wire[position:], out, 1000)
        assert out.produced - before <= 1000
    assert out.produced == 1 << 20


@codecs
def test_max_output_size_stops_decoding_past_the_cap(codec: ByteCodec) -> None:
    capped = attrs_evolve(codec, max_output_size=len(TEXT) - 1)
    decoder = capped.decoder()
    out = Buffer()
    with pytest.raises(LimitExceededError) as info:
        decode_byte_pieces(decoder, [encode(codec, TEXT)], out=out, budget=4096)
    assert info.value.limit == len(TEXT) - 1
    assert info.value.offset is not None
    assert out.produced <= len(TEXT) - 1


@codecs
@pytest.mark.parametrize("budget", [1000, 4096, 65536])
def test_max_output_size_delivers_every_byte_up_to_the_cap_then_fails(
    codec: ByteCodec, budget: int
) -> None:
    # Whatever the budget steps, the output is exactly the first max_output_size bytes.
    cap = len(TEXT) - 1234
    decoder = attrs_evolve(codec, max_output_size=cap).decoder()
    out = Buffer()
    with pytest.raises(LimitExceededError) as info:
        decode_byte_pieces(decoder, [encode(codec, TEXT)], out=out, budget=budget)
    assert out.take_all() == TEXT[:cap]
    assert info.value.limit == cap
    with pytest.raises(LimitExceededError):  # and the error is sticky
        decoder.decode(memoryview(b""), Buffer(), budget)


@codecs
def test_max_output_size_error_offset_is_the_same_whole_and_byte_by_byte(
    codec: ByteCodec,
) -> None:
    capped = attrs_evolve(codec, max_output_size=50000)
    wire = encode(codec, os.urandom(30000) + TEXT)  # raw zstd blocks come out as they arrive
    whole = error_of(capped, wire)
    split = error_of(capped, pieces_of(wire, 1), budget=4096)
    assert isinstance(whole, LimitExceededError)
    assert (type(split), split.offset) == (type(whole), whole.offset)


@codecs
def test_max_output_size_allows_exactly_the_cap(codec: ByteCodec) -> None:
    capped = attrs_evolve(codec, max_output_size=len(TEXT))
    assert decode(capped, encode(codec, TEXT), budget=4096) == (TEXT, b"")


@pytest.mark.parametrize("name", ["brotli", "zstd"])
@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    cap=st.integers(0, 120000),
    cuts=st.lists(st.integers(0, 10**6), max_size=8),
    budget=st.sampled_from([100, 4096, 65536]),
)
def test_max_output_size_error_is_the_same_for_any_split_brotli_and_zstd(
    name: str, data: st.DataObject, cap: int, cuts: list[int], budget: int
) -> None:
    codec = attrs_evolve(CODECS[name], max_output_size=cap)
    body = data.draw(st.sampled_from([TEXT[:100000], os.urandom(100000)]))
    wire = encode(codec, body, 7000)
    if data.draw(st.booleans()):
        wire = corrupt(codec, wire) if data.draw(st.booleans()) else flip(wire, data)
    results = [
        outcome(codec, pieces, budget)
        for pieces in (
            [wire],
            split_at(wire, [c % (len(wire) + 1) for c in cuts]),
            pieces_of(wire, 1000),
            pieces_of(wire, 97),
        )
    ]
    errors = {error for _, error in results}
    assert len(errors) == 1, errors


def flip(wire: bytes, data: st.DataObject) -> bytes:
    at = data.draw(st.integers(0, len(wire) - 1))
    return wire[:at] + bytes([wire[at] ^ data.draw(st.integers(1, 255))]) + wire[at + 1 :]


@codecs
def test_an_empty_body_is_empty_content(codec: ByteCodec) -> None:
    # RFC 9110: Content-Length: 0 with a content coding is real traffic, and empty content.
    assert decode(codec, b"") == (b"", b"")
    assert decode(codec, []) == (b"", b"")


def test_an_empty_body_is_empty_content_through_sync_decode_bytes() -> None:
    for codec in CODECS.values():
        assert decode_bytes(b"", codec) == b""


async def test_an_empty_body_is_empty_content_through_a_layer() -> None:
    source = StreamReader()
    source.feed_eof()
    body = source.layer(Gzip())
    assert await body.read() == b""
    assert body.at_eof()


@codecs
def test_a_body_that_starts_and_stops_is_still_truncated(codec: ByteCodec) -> None:
    error = error_of(codec, encode(codec, TEXT)[:1])
    assert isinstance(error, TruncatedError)
    assert error.offset == 1


@codecs
def test_bytes_after_the_end_are_an_error_by_default(codec: ByteCodec) -> None:
    wire = encode(codec, TEXT)
    error = error_of(codec, [wire, b"junk"])
    assert isinstance(error, MalformedError)


def attrs_evolve(codec: ByteCodec, **changes: object) -> ByteCodec:
    return attrs.evolve(codec, **changes)  # type: ignore[misc]


# -- gzip ----------------------------------------------------------------------------------

GZIP_BACKENDS = pytest.mark.parametrize("backend", ["zlib", "isal", "zlib-ng"])


@GZIP_BACKENDS
def test_gzip_reads_concatenated_members(backend: str) -> None:
    wire = gzip.compress(b"first ") + gzip.compress(b"second ") + gzip.compress(b"third")
    assert decode(Gzip(backend=backend), [wire[:25], wire[25:]]) == (b"first second third", b"")  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", ["zlib", "zlib-ng"])
def test_gzip_single_member_mode_leaves_the_next_member(backend: str) -> None:
    second = gzip.compress(b"second")
    codec = Gzip(multi_member=False, trailing_data="leave", backend=backend)  # type: ignore[arg-type]
    assert decode(codec, gzip.compress(b"first") + second) == (b"first", second)


@GZIP_BACKENDS
@pytest.mark.parametrize(
    ("index", "value", "message"),
    [(3, 0x20, "reserved gzip header flag"), (3, 0x80, "reserved"), (2, 7, "method 7")],
)
@pytest.mark.parametrize("member", [0, 1])
def test_gzip_header_method_and_reserved_flags_are_checked_on_every_backend(
    backend: str, index: int, value: int, message: str, member: int
) -> None:
    """RFC 1952: a reserved FLG bit set is an error; isal alone would accept it."""
    first = gzip.compress(b"first") if member else b""
    bad = bytearray(gzip.compress(b"second"))
    bad[index] = bad[index] | value if index == 3 else value
    wire = first + bytes(bad)
    codec = Gzip(backend=backend)  # type: ignore[arg-type]
    for pieces in ([wire], [wire[i : i + 1] for i in range(len(wire))]):
        error = error_of(codec, pieces)
        assert isinstance(error, MalformedError)
        assert message in str(error)
        assert error.offset == len(first) + index


@GZIP_BACKENDS
@pytest.mark.parametrize("tail", [b"\x1f\x8b", b"\x1f\x8b\x08"])
def test_gzip_cut_inside_a_next_members_header_is_truncated(backend: str, tail: bytes) -> None:
    error = error_of(Gzip(backend=backend), gzip.compress(b"first") + tail)  # type: ignore[arg-type]
    assert isinstance(error, TruncatedError)


def test_isal_backend_is_refused_with_trailing_data_leave() -> None:
    # isal may read past a stream's end into its bit buffer; those bytes must stay in the source.
    with pytest.raises(ValueError, match="isal"):
        Gzip(backend="isal", trailing_data="leave")


@GZIP_BACKENDS
def test_gzip_member_end_read_ahead_is_not_lost(backend: str) -> None:
    # A small budget makes the member end in a call after its last bytes were consumed.
    wire = gzip.compress(TEXT[:20000]) + gzip.compress(b"second")
    codec = Gzip(backend=backend)  # type: ignore[arg-type]
    assert decode(codec, wire, budget=4096) == (TEXT[:20000] + b"second", b"")
    error = error_of(codec, gzip.compress(TEXT[:20000]) + b"junk", budget=4096)
    assert (type(error), error.offset) == (MalformedError, len(gzip.compress(TEXT[:20000])))


def test_gzip_single_member_mode_is_done_at_the_member_end_without_more_input() -> None:
    decoder = Gzip(multi_member=False, trailing_data="leave").decoder()
    wire = gzip.compress(b"first")
    out = Buffer()
    assert decoder.decode(memoryview(wire), out, 65536) == len(wire)
    assert decoder.done
    assert out.take_all() == b"first"


def test_gzip_single_member_mode_refuses_a_second_member_by_default() -> None:
    wire = gzip.compress(b"first") + gzip.compress(b"second")
    error = error_of(Gzip(multi_member=False), wire)
    assert isinstance(error, MalformedError)
    assert error.offset == len(gzip.compress(b"first"))


def test_gzip_trailing_garbage_is_malformed_at_its_offset() -> None:
    member = gzip.compress(b"body")
    error = error_of(Gzip(), [member, b"garbage"])
    assert isinstance(error, MalformedError)
    assert error.offset == len(member)


def test_gzip_leave_option_stops_at_the_trailing_bytes() -> None:
    member = gzip.compress(b"body")
    assert decode(Gzip(trailing_data="leave"), [member, b"\r\nNEXT"]) == (b"body", b"\r\nNEXT")


def test_gzip_decides_on_trailing_garbage_from_its_first_byte_without_waiting() -> None:
    # async-compression #488: no need for 10 bytes to know "x" does not start a member.
    decoder = Gzip().decoder()
    member = gzip.compress(b"body")
    out = Buffer()
    assert decoder.decode(memoryview(member), out, 65536) == len(member)
    with pytest.raises(MalformedError):
        decoder.decode(memoryview(b"x"), out, 65536)


def test_gzip_waits_for_the_second_magic_byte_only() -> None:
    decoder = Gzip(trailing_data="leave").decoder()
    out = Buffer()
    member = gzip.compress(b"body")
    decoder.decode(memoryview(member), out, 65536)
    assert decoder.decode(memoryview(b"\x1f"), out, 65536) == 0
    assert not decoder.done
    assert decoder.decode(memoryview(b"\x1fX"), out, 65536) == 0
    assert decoder.done


def test_gzip_one_stray_byte_at_eof_is_trailing_garbage() -> None:
    member = gzip.compress(b"body")
    error = error_of(Gzip(), [member, b"\x1f"])
    assert isinstance(error, MalformedError)
    assert error.offset == len(member)
    assert decode(Gzip(trailing_data="leave"), [member, b"\x1f"]) == (b"body", b"\x1f")


def test_gzip_bad_crc_is_malformed() -> None:
    wire = bytearray(gzip.compress(TEXT))
    wire[-6] ^= 1
    assert isinstance(error_of(Gzip(), bytes(wire)), MalformedError)


def test_gzip_bad_second_member_reports_the_member_offset() -> None:
    first = gzip.compress(b"ok")
    second = bytearray(gzip.compress(b"bad"))
    second[-6] ^= 1
    error = error_of(Gzip(), first + bytes(second))
    assert isinstance(error, MalformedError)
    assert error.offset == len(first)


def test_gzip_member_cut_after_its_data_but_before_crc_and_size_is_truncated() -> None:
    wire = gzip.compress(TEXT)
    assert isinstance(error_of(Gzip(), wire[:-8]), TruncatedError)


FTEXT, FHCRC, FEXTRA, FNAME, FCOMMENT = 1, 2, 4, 8, 16


def gzip_member(
    body: bytes,
    flags: int = 0,
    *,
    extra: bytes = b"ab\x02\x00xy",
    name: bytes = b"name.txt",
    comment: bytes = b"a comment",
    level: int = 6,
) -> bytes:
    """One gzip member (RFC 1952) with the optional header fields ``flags`` asks for."""
    header = b"\x1f\x8b\x08" + bytes([flags]) + b"\x00\x00\x00\x00\x00\xff"
    if flags & FEXTRA:
        header += len(extra).to_bytes(2, "little") + extra
    if flags & FNAME:
        header += name + b"\x00"
    if flags & FCOMMENT:
        header += comment + b"\x00"
    if flags & FHCRC:
        header += (zlib.crc32(header) & 0xFFFF).to_bytes(2, "little")
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    deflated = compressor.compress(body) + compressor.flush()
    trailer = zlib.crc32(body).to_bytes(4, "little") + (len(body) & 0xFFFFFFFF).to_bytes(
        4, "little"
    )
    return header + deflated + trailer


def pieces_of(wire: bytes, size: int) -> list[bytes]:
    return [wire[i : i + size] for i in range(0, len(wire), size)]


@GZIP_BACKENDS
@pytest.mark.parametrize("flags", [FHCRC, FTEXT | FHCRC | FEXTRA | FNAME | FCOMMENT])
@pytest.mark.parametrize("piece", [1, 2, 3, 5, 64 * 1024])
def test_gzip_header_with_a_header_crc_decodes_on_every_backend_for_any_split(
    backend: str, flags: int, piece: int
) -> None:
    wire = gzip_member(TEXT[:5000], flags) + gzip_member(b"second", flags)
    codec = Gzip(backend=backend)  # type: ignore[arg-type]
    assert decode(codec, pieces_of(wire, piece)) == (TEXT[:5000] + b"second", b"")


@GZIP_BACKENDS
@pytest.mark.parametrize("piece", [1, 64 * 1024])
def test_gzip_header_crc_mismatch_is_malformed_at_the_member_start(
    backend: str, piece: int
) -> None:
    first = gzip.compress(b"first")
    bad = bytearray(gzip_member(b"second", FHCRC | FNAME))
    bad[4] ^= 1  # MTIME: covered by the header CRC, ignored by every backend
    error = error_of(Gzip(backend=backend), pieces_of(first + bytes(bad), piece))  # type: ignore[arg-type]
    assert isinstance(error, MalformedError)
    assert "CRC-16" in error.message
    assert error.offset == len(first)


BACKENDS = ("zlib", "isal", "zlib-ng")


@st.composite
def deflate_family_inputs(draw: st.DrawFn) -> tuple[str, str, bytes]:
    """(format, damage, wire): gzip members with random header fields, a zlib stream or raw
    deflate; valid, with a byte changed, cut short, or followed by junk."""
    kind = draw(st.sampled_from(["gzip", "zlib", "raw"]))
    bodies = st.one_of(st.binary(max_size=300), st.just(TEXT[: draw(st.integers(0, 6000))]))
    level = draw(st.integers(0, 9))
    if kind == "gzip":
        members = []
        for _ in range(draw(st.integers(1, 3))):
            members.append(
                gzip_member(
                    draw(bodies),
                    draw(st.integers(0, 31)),
                    extra=draw(st.binary(max_size=20)),
                    name=draw(st.binary(max_size=20)).replace(b"\x00", b""),
                    comment=draw(st.binary(max_size=20)).replace(b"\x00", b""),
                    level=level,
                )
            )
        wire = b"".join(members)
    else:
        wbits = 15 if kind == "zlib" else -15
        compressor = zlib.compressobj(level, zlib.DEFLATED, wbits)
        wire = compressor.compress(draw(bodies)) + compressor.flush()
    damage = draw(st.sampled_from(["none", "flip", "cut", "junk"]))
    if damage == "flip":
        at = draw(st.integers(0, len(wire) - 1))
        wire = wire[:at] + bytes([wire[at] ^ draw(st.integers(1, 255))]) + wire[at + 1 :]
    elif damage == "cut":
        wire = wire[: draw(st.integers(1, len(wire) - 1))]
    elif damage == "junk":
        wire += draw(st.binary(min_size=1, max_size=12))
    return kind, damage, wire


def backends_for(damage: str) -> list[tuple[str, ...]]:
    """Groups of backends that must agree. On a changed byte inside deflate data isal may not:
    it accepts some incomplete Huffman codes that zlib and zlib-ng reject, and at EOF inside a
    block header it sees a truncation where they see the header is invalid."""
    return [("zlib", "zlib-ng"), ("isal",)] if damage == "flip" else [BACKENDS]


def outcome(codec: ByteCodec, pieces: Sequence[bytes], budget: int) -> tuple[bytes, object]:
    """(output, None) or (output before the error, (class, message, offset))."""
    out = Buffer()
    try:
        decode_byte_pieces(codec.decoder(), pieces, out=out, budget=budget)
    except FramingError as error:
        return out.take_all(), (type(error), error.message, error.offset)
    return out.take_all(), None


@settings(max_examples=300, deadline=None)
@given(
    sample=deflate_family_inputs(),
    cuts=st.lists(st.integers(0, 10**6), max_size=8),
    piece=st.integers(1, 7),
    budget=st.sampled_from([1, 100, 65536]),
)
def test_deflate_family_results_are_the_same_for_every_backend_and_split(
    sample: tuple[str, str, bytes], cuts: list[int], piece: int, budget: int
) -> None:
    kind, damage, wire = sample
    makes = {"gzip": [Gzip], "zlib": [Deflate], "raw": [Deflate, RawDeflate]}[kind]
    for make, backends in itertools.product(makes, backends_for(damage)):
        results = []
        for backend in backends:
            codec = make(backend=backend)  # type: ignore[arg-type]
            for pieces in (
                [wire],
                split_at(wire, [c % (len(wire) + 1) for c in cuts]),
                pieces_of(wire, piece),
            ):
                results.append(outcome(codec, pieces, budget))
        errors = {error for _, error in results}
        assert len(errors) == 1, errors
        outputs = sorted((output for output, _ in results), key=len)
        if errors == {None}:
            assert len(set(outputs)) == 1
        else:
            # Output before an error is a prefix of the stream's, of a length that may vary.
            assert all(outputs[-1].startswith(output) for output in outputs)


@settings(max_examples=300, deadline=None)
@given(
    sample=deflate_family_inputs(),
    cap=st.integers(0, 8000),
    cuts=st.lists(st.integers(0, 10**6), max_size=8),
    piece=st.integers(1, 7),
    budget=st.sampled_from([1, 100, 65536]),
)
def test_max_output_size_error_is_the_same_for_every_backend_and_split(
    sample: tuple[str, str, bytes], cap: int, cuts: list[int], piece: int, budget: int
) -> None:
    # Valid or corrupt, the same class and offset: where the cap is passed does not depend on
    # how much input a backend had, nor whether it met a corruption just past the cap first.
    kind, damage, wire = sample
    make = {"gzip": Gzip, "zlib": Deflate, "raw": RawDeflate}[kind]
    for backends in backends_for(damage):
        results = []
        for backend in backends:
            codec = make(backend=backend, max_output_size=cap)  # type: ignore[arg-type]
            for pieces in (
                [wire],
                split_at(wire, [c % (len(wire) + 1) for c in cuts]),
                pieces_of(wire, piece),
            ):
                results.append(outcome(codec, pieces, budget))
        errors = {error for _, error in results}
        assert len(errors) == 1, errors
        (error,) = errors
        if error is not None and error[0] is LimitExceededError:
            assert {output for output, _ in results} == {results[0][0][:cap]}
            assert len(results[0][0]) == cap


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    cap_fraction=st.floats(0, 1.01),
    damage=st.sampled_from(["none", "flip"]),
    piece=st.integers(1, 3000),
    cuts=st.lists(st.integers(0, 10**6), max_size=6),
)
def test_max_output_size_error_is_the_same_for_every_backend_over_many_input_steps(
    seed: int, cap_fraction: float, damage: str, piece: int, cuts: list[int]
) -> None:
    # Bodies compressing to several 16 KiB steps of deflate data, so that where the cap is
    # passed crosses step boundaries.
    rng = random.Random(seed)
    size = rng.randrange(40000, 160000)
    noise = bytes(rng.getrandbits(8) & rng.choice([0x0F, 0x3F, 0xFF]) for _ in range(size // 4))
    body = noise + TEXT[: size // 2]
    wire = gzip_member(body, rng.randrange(32), level=rng.randrange(10))
    if damage == "flip":
        at = rng.randrange(len(wire))
        wire = wire[:at] + bytes([wire[at] ^ rng.randrange(1, 256)]) + wire[at + 1 :]
    cap = int(len(body) * cap_fraction)
    for backends in backends_for(damage):
        results = []
        for backend in backends:
            codec = Gzip(backend=backend, max_output_size=cap)  # type: ignore[arg-type]
            for pieces, budget in (
                ([wire], 65536),
                (pieces_of(wire, piece), 1000),
                (split_at(wire, [c % (len(wire) + 1) for c in cuts]), 4096),
            ):
                results.append(outcome(codec, pieces, budget)[1])
        assert len(set(results)) == 1, results


# -- deflate -------------------------------------------------------------------------------


def test_deflate_reads_a_zlib_stream() -> None:
    wire = zlib.compress(TEXT)
    assert decode(Deflate(), [wire[:1], wire[1:]]) == (TEXT, b"")


@pytest.mark.parametrize("level", [0, 1, 6, 9])
def test_deflate_falls_back_to_raw_deflate_without_a_zlib_header(level: int) -> None:
    compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
    wire = compressor.compress(TEXT) + compressor.flush()
    assert decode(Deflate(), [wire[:1], wire[1:]]) == (TEXT, b"")


@pytest.mark.parametrize("backend", ["zlib", "isal", "zlib-ng"])
def test_deflate_checks_the_zlib_header_checksum_not_only_the_method(backend: str) -> None:
    # Raw deflate: a stored block whose ignored padding bits make the first byte 0x78, a zlib
    # CMF (method 8, 32 KiB window); 78 05 fails the header checksum, so this is raw deflate.
    stored = b"\x78" + (5).to_bytes(2, "little") + (0xFFFF ^ 5).to_bytes(2, "little") + b"hello"
    wire = stored + b"\x03\x00"  # an empty final block
    assert (wire[0] * 256 + wire[1]) % 31 != 0
    assert decode(Deflate(backend=backend), split_at(wire, [1])) == (b"hello", b"")  # type: ignore[arg-type]


def test_deflate_waits_for_two_bytes_before_deciding() -> None:
    decoder = Deflate().decoder()
    out = Buffer()
    assert decoder.decode(memoryview(zlib.compress(TEXT)[:1]), out, 65536) == 0


def test_deflate_leave_option_keeps_bytes_after_the_stream() -> None:
    assert decode(Deflate(trailing_data="leave"), [zlib.compress(b"x"), b"NEXT"]) == (
        b"x",
        b"NEXT",
    )


DEFLATE_BACKENDS = pytest.mark.parametrize("backend", ["zlib", "isal", "zlib-ng"])


@DEFLATE_BACKENDS
@pytest.mark.parametrize("piece", [1, 2, 3, 6, 64 * 1024])
def test_deflate_refuses_a_zlib_stream_that_needs_a_preset_dictionary(
    backend: str, piece: int
) -> None:
    # RFC 1950 FDICT: HTTP deflate has no way to say which dictionary, so no recipient can
    # decode it. Whole or split, on every backend: the same MalformedError at the FLG byte.
    compressor = zlib.compressobj(6, zlib.DEFLATED, 15, zdict=b"hello world")
    wire = compressor.compress(b"hello world" * 10) + compressor.flush()
    assert wire[1] & 0x20
    error = error_of(Deflate(backend=backend), pieces_of(wire, piece))  # type: ignore[arg-type]
    assert isinstance(error, MalformedError)
    assert "preset dictionary" in error.message
    assert error.offset == 1


# -- brotli --------------------------------------------------------------------------------

MiB = 1 << 20


def large_window_brotli(wbits: int) -> bytes:
    """The start of a large-window brotli stream (not RFC 7932): signature 0x11, then WBITS."""
    return b"\x11" + bytes([wbits]) + b"\x00" * 8


def test_brotli_refuses_a_window_over_max_window_size_before_decoding() -> None:
    wire = brotli.compress(bytes(16 * MiB), lgwin=24)  # 14 bytes asking for a 16 MiB window
    error = error_of(Brotli(max_window_size=4 * MiB), wire)
    assert isinstance(error, LimitExceededError)
    assert (error.limit, error.offset) == (4 * MiB, 0)
    assert "max_window_size=4194304" in error.message
    assert "16777216-byte window" in error.message


def test_brotli_accepts_a_window_equal_to_max_window_size() -> None:
    assert decode(Brotli(max_window_size=4 * MiB), brotli.compress(TEXT, lgwin=22))[0] == TEXT
    error = error_of(Brotli(max_window_size=4 * MiB), brotli.compress(TEXT, lgwin=23))
    assert isinstance(error, LimitExceededError)


@pytest.mark.parametrize("wbits", [10, 15, 16, 17, 18, 22, 24])
def test_brotli_default_window_limit_accepts_every_standard_stream(wbits: int) -> None:
    assert Brotli().max_window_size == 16 * MiB
    assert decode(Brotli(), brotli.compress(TEXT, lgwin=wbits)) == (TEXT, b"")


@settings(max_examples=60, deadline=None)
@given(
    wbits=st.integers(10, 24),
    limit_log=st.integers(10, 24),
    cuts=st.lists(st.integers(0, 10**6), max_size=6),
    bytewise=st.booleans(),
)
def test_brotli_window_check_does_not_depend_on_the_feed_split(
    wbits: int, limit_log: int, cuts: list[int], bytewise: bool
) -> None:
    wire = brotli.compress(TEXT[:3000], lgwin=wbits)
    pieces = (
        [wire[i : i + 1] for i in range(len(wire))]
        if bytewise
        else split_at(wire, [c % (len(wire) + 1) for c in cuts])
    )
    codec = Brotli(max_window_size=1 << limit_log)
    if wbits > limit_log:
        error = error_of(codec, pieces, budget=4096)
        assert isinstance(error, LimitExceededError)
        assert (error.limit, error.offset) == (1 << limit_log, 0)
    else:
        assert decode(codec, pieces, budget=4096) == (TEXT[:3000], b"")


@pytest.mark.parametrize("wbits", [25, 30])
def test_brotli_large_window_stream_over_the_limit_is_refused_naming_its_window(
    wbits: int,
) -> None:
    wire = large_window_brotli(wbits)
    for pieces in ([wire], [wire[:1], wire[1:]], [wire[i : i + 1] for i in range(len(wire))]):
        error = error_of(Brotli(), pieces)
        assert isinstance(error, LimitExceededError)
        assert (error.limit, error.offset) == (16 * MiB, 0)
        assert f"{1 << wbits}-byte window" in error.message


def test_brotli_large_window_stream_within_the_limit_is_malformed() -> None:
    # Within the limit, the library decides: it decodes RFC 7932 streams only.
    error = error_of(Brotli(), [b"\x11", large_window_brotli(20)[1:]])
    assert isinstance(error, MalformedError)
    assert error.offset == 0


def test_brotli_waits_for_the_second_byte_of_a_large_window_header() -> None:
    decoder = Brotli().decoder()
    out = Buffer()
    assert decoder.decode(memoryview(b"\x11"), out, 4096) == 0
    assert out.take_all() == b""
    with pytest.raises(LimitExceededError):
        decoder.decode(memoryview(large_window_brotli(26)), out, 4096)


@pytest.mark.parametrize("value", [0, 1023, True, 1 << 40, "16M"])
def test_brotli_max_window_size_is_validated(value: object) -> None:
    with pytest.raises(ValueError, match="max_window_size"):
        Brotli(max_window_size=value)  # type: ignore[arg-type]


# -- zstd ----------------------------------------------------------------------------------


def skippable(payload: bytes, nibble: int = 0) -> bytes:
    return bytes([0x50 | nibble]) + b"\x2a\x4d\x18" + len(payload).to_bytes(4, "little") + payload


def test_zstd_reads_every_frame() -> None:
    compressor = zstandard.ZstdCompressor()
    wire = compressor.compress(b"one ") + compressor.compress(b"two ") + encode(Zstd(), b"three")
    assert decode(Zstd(), split_at(wire, [3, 20])) == (b"one two three", b"")


def test_zstd_skips_skippable_frames() -> None:
    compressor = zstandard.ZstdCompressor()
    wire = skippable(b"meta", 3) + compressor.compress(b"body") + skippable(b"x" * 100, 15)
    assert decode(Zstd(), split_at(wire, [2, 9, 30])) == (b"body", b"")


def test_zstd_verifies_the_content_checksum() -> None:
    wire = bytearray(zstandard.ZstdCompressor(write_checksum=True).compress(TEXT))
    wire[-1] ^= 1
    error = error_of(Zstd(), bytes(wire))
    assert isinstance(error, MalformedError)
    assert error.offset == 0


def test_zstd_refuses_a_huge_window_before_allocating() -> None:
    # Frame header: descriptor 0 (no content size, window byte present), window byte for
    # 2 GiB (exponent 21, 10 + 21 = 31), then a block header that never arrives.
    header = b"\x28\xb5\x2f\xfd" + b"\x00" + bytes([21 << 3])
    started = time.process_time()
    error = error_of(Zstd(), [header, b"\x01\x00\x00"])
    assert isinstance(error, LimitExceededError)
    assert error.limit == 8 * 1024 * 1024
    assert error.offset == 0
    assert time.process_time() - started < 0.1


def test_zstd_refuses_a_frame_from_a_long_window_encoder() -> None:
    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=24)
    compressor = zstandard.ZstdCompressor(compression_params=params).compressobj()
    wire = compressor.compress(TEXT) + compressor.flush()
    assert isinstance(error_of(Zstd(), wire), LimitExceededError)
    assert decode(Zstd(max_window_size=1 << 24), encode(Zstd(), TEXT))[0] == TEXT


def test_zstd_leave_option_keeps_bytes_after_the_last_frame() -> None:
    wire = encode(Zstd(), b"body")
    assert decode(Zstd(trailing_data="leave"), [wire, b"NEXT"]) == (b"body", b"NEXT")
    assert decode(Zstd(trailing_data="leave"), [wire, b"\x28\xb5"]) == (b"body", b"\x28\xb5")


def test_zstd_garbage_instead_of_a_first_frame_is_malformed() -> None:
    error = error_of(Zstd(), b"not zstd at all")
    assert isinstance(error, MalformedError)
    assert error.offset == 0


def long_window_zstd(data: bytes, window_log: int) -> bytes:
    """One zstd frame of ``data`` whose header asks for a 2**window_log-byte window."""
    params = zstandard.ZstdCompressionParameters.from_level(3, window_log=window_log)
    compressor = zstandard.ZstdCompressor(compression_params=params).compressobj()
    return compressor.compress(data) + compressor.flush()


def test_zstd_refuses_a_later_frame_whose_window_is_over_the_limit() -> None:
    first = encode(Zstd(), b"first frame")
    second = long_window_zstd(TEXT, 24)
    head = first + skippable(b"meta", 7)
    decoder = Zstd().decoder()
    out = Buffer()
    with pytest.raises(LimitExceededError) as info:
        decode_byte_pieces(
            decoder, split_at(head + second, [len(first) + 3, len(head) + 5]), out=out
        )
    assert out.take_all() == b"first frame"
    assert (info.value.limit, info.value.offset) == (8 * MiB, len(head))
    assert "16777216-byte window" in info.value.message
    assert "max_window_size=8388608" in info.value.message


def test_zstd_single_segment_window_is_the_content_size() -> None:
    # Descriptor 0xA0: Single_Segment_Flag and a 4-byte Frame_Content_Size, no window byte.
    header = b"\x28\xb5\x2f\xfd\xa0" + (8 * MiB + 1).to_bytes(4, "little")
    error = error_of(Zstd(), [header, b"\x01\x00\x00"])
    assert isinstance(error, LimitExceededError)
    assert f"{8 * MiB + 1}-byte window" in error.message
    small = b"\x28\xb5\x2f\xfd\xa0" + (8 * MiB).to_bytes(4, "little")
    assert isinstance(error_of(Zstd(), small), TruncatedError)  # within the limit: read on


@settings(max_examples=60, deadline=None)
@given(
    window_log=st.integers(10, 25),
    limit_log=st.integers(10, 25),
    cuts=st.lists(st.integers(0, 10**6), max_size=6),
    bytewise=st.booleans(),
)
def test_zstd_window_check_does_not_depend_on_the_feed_split(
    window_log: int, limit_log: int, cuts: list[int], bytewise: bool
) -> None:
    wire = long_window_zstd(TEXT[:3000], window_log)
    wire = skippable(b"x", 1) + wire + wire  # the window of every frame is checked
    pieces = (
        [wire[i : i + 1] for i in range(len(wire))]
        if bytewise
        else split_at(wire, [c % (len(wire) + 1) for c in cuts])
    )
    codec = Zstd(max_window_size=1 << limit_log)
    if window_log > limit_log:
        error = error_of(codec, pieces, budget=4096)
        assert isinstance(error, LimitExceededError)
        assert (error.limit, error.offset) == (1 << limit_log, len(skippable(b"x", 1)))
    else:
        assert decode(codec, pieces, budget=4096) == (TEXT[:3000] * 2, b"")


@settings(max_examples=200, deadline=None)
@given(
    descriptor=st.integers(0, 255).map(lambda d: d & ~0x08),  # the reserved bit clear
    rest=st.binary(min_size=13, max_size=13),
    limit_log=st.integers(10, 31),
)
def test_zstd_refuses_exactly_the_frames_the_library_finds_too_large(
    descriptor: int, rest: bytes, limit_log: int
) -> None:
    header = b"\x28\xb5\x2f\xfd" + bytes([descriptor]) + rest
    try:
        window = zstandard.get_frame_parameters(header).window_size
    except zstandard.ZstdError:  # a window past the library's maximum (2 GiB)
        window = 1 << 42
    error = error_of(Zstd(max_window_size=1 << limit_log), header)
    assert isinstance(error, LimitExceededError) == (window > 1 << limit_log)


def test_zstd_library_also_enforces_the_window_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # A backstop: were framekit's header check to miss a window, the library refuses it.
    from framekit.codecs.compression import zstd as compression

    real = compression._zstd_window
    monkeypatch.setattr(compression, "_zstd_window", lambda h: (1024, real(h)[1]))
    error = error_of(Zstd(), long_window_zstd(TEXT, 24))
    assert isinstance(error, MalformedError)
    assert "too much memory" in error.message


# -- extras --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "make", "extra"),
    [("brotli", Brotli, "aioframekit[brotli]"), ("zstandard", Zstd, "aioframekit[zstd]")],
)
def test_a_missing_extra_is_unsupported_and_named(
    monkeypatch: pytest.MonkeyPatch, module: str, make: type, extra: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(UnsupportedEncodingError, match=extra.replace("[", r"\[")):
        make()
    with pytest.raises(UnsupportedEncodingError, match=extra.replace("[", r"\[")):
        content_decoding("br" if module == "brotli" else "zstd")


def test_auto_backend_falls_back_to_the_standard_library(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "isal.isal_zlib", None)
    monkeypatch.setitem(sys.modules, "zlib_ng.zlib_ng", None)
    assert decode(Gzip(), gzip.compress(TEXT)) == (TEXT, b"")
    for make in (Gzip, Deflate, RawDeflate):
        for backend in ("isal", "zlib-ng"):
            # At construction, as a missing brotli or zstd extra: not at the first stream.
            with pytest.raises(UnsupportedEncodingError, match=backend):
                make(backend=backend)


@pytest.mark.parametrize(
    ("make", "option", "value"),
    [
        (Gzip, "max_output_size", -1),
        (Gzip, "trailing_data", "ignore"),
        (Gzip, "backend", "fast"),
        (Deflate, "level", 10),
        (Brotli, "quality", 12),
        (Zstd, "max_window_size", 0),
    ],
)
def test_invalid_options_fail_at_construction_naming_the_option(
    make: type, option: str, value: object
) -> None:
    with pytest.raises((ValueError, TypeError), match=option):
        make(**{option: value})


# -- content_decoding ----------------------------------------------------------------------


def test_content_decoding_undoes_codings_in_reverse_order() -> None:
    codecs = content_decoding("gzip, br")
    assert [type(c) for c in codecs] == [Brotli, Gzip]


def test_content_decoding_skips_identity_and_knows_x_gzip() -> None:
    codecs = content_decoding(" identity ,X-GZIP,\tDeflate , zstd")
    assert [type(c) for c in codecs] == [Zstd, Deflate, Gzip]
    assert content_decoding("identity") == []


def test_content_decoding_caps_the_final_output_and_every_stage_before_it() -> None:
    codecs = content_decoding("deflate, br, gzip", max_output_size=10 << 20)
    margin = (10 << 20) // 1024 + 1024  # what an encoding may add to incompressible input
    assert [c.max_output_size for c in codecs] == [(10 << 20) + margin] * 2 + [10 << 20]


def test_content_decoding_without_a_cap_caps_no_stage() -> None:
    assert [c.max_output_size for c in content_decoding("gzip, gzip")] == [None, None]


def test_content_decoding_margin_covers_incompressible_output_at_the_cap() -> None:
    # A final output exactly at the cap, of random bytes: the stage before it (the inner
    # gzip stream) is larger than the cap, and must still pass.
    body = random.Random(3).randbytes(1 << 20)
    wire = gzip.compress(gzip.compress(body))
    assert len(gzip.compress(body)) > len(body)
    assert decode_bytes(wire, *content_decoding("gzip, gzip", max_output_size=1 << 20)) == body


def test_content_decoding_stack_decodes_the_body() -> None:
    body = encode(Brotli(), encode(Gzip(), TEXT))  # Content-Encoding: gzip, br
    data = body
    for codec in content_decoding("gzip, br"):
        data, leftover = decode(codec, data)
        assert leftover == b""
    assert data == TEXT


def test_content_decoding_refuses_an_unknown_coding_by_name() -> None:
    with pytest.raises(UnsupportedEncodingError, match="'compress'"):
        content_decoding("gzip, compress")


def test_content_decoding_refuses_too_many_stacked_codings() -> None:
    with pytest.raises(LimitExceededError) as info:
        content_decoding(", ".join(["gzip"] * 6))
    assert info.value.limit == 5
    assert len(content_decoding(", ".join(["gzip"] * 5))) == 5


def test_content_decoding_sets_the_window_limit_on_brotli_and_zstd() -> None:
    assert [c.max_window_size for c in content_decoding("br, zstd")] == [8 * MiB, 16 * MiB]
    codecs = content_decoding("br, zstd", max_window_size=MiB)
    assert [c.max_window_size for c in codecs] == [MiB, MiB]


# -- bombs ---------------------------------------------------------------------------------

BOMB_SIZE = 1 << 30

# Decode a 1 GiB zero bomb with a 64 KiB budget into a sink that only counts, in a child
# process, and print how much its peak RSS grew (KiB) and the decoded size.
BOMB_CHILD = textwrap.dedent(
    """
    import sys
    from framekit.codecs.compression import Brotli, Gzip, Zstd
    codec = {"gzip": Gzip(), "brotli": Brotli(), "zstd": Zstd()}[sys.argv[1]]
    wire = memoryview(open(sys.argv[2], "rb").read())
    budget = int(sys.argv[3])
    keep = int(sys.argv[4])  # bytes of output to retain (the control case)

    class Counter:
        produced = 0
        kept = []
        def write(self, data):
            if self.produced < keep:
                self.kept.append(bytes(data))
            self.produced += len(data)
        def mark_chunk_end(self):
            pass

    decoder = codec.decoder()
    sink = Counter()
    position = 0
    def status(field):
        for line in open("/proc/self/status"):
            if line.startswith(field):
                return int(line.split()[1])

    # Reset the peak (VmHWM) to the current RSS, so that the peak after is the decode's own.
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    before = status("VmRSS:")
    while not decoder.done:
        view = wire[position : position + 65536]
        eof = position + len(view) == len(wire)
        position += (decoder.decode_eof if eof else decoder.decode)(view, sink, budget)
    after = status("VmHWM:")
    print(after - before, sink.produced)
    """
)


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    directory = tmp_path_factory.mktemp("bombs")
    zeros = bytes(1 << 20)
    paths = {}
    for name, encoder in [
        ("gzip", Gzip(level=1).encoder()),
        ("brotli", Brotli(quality=0).encoder()),
        ("zstd", Zstd(level=1).encoder()),
    ]:
        path = directory / f"bomb.{name}"
        with path.open("wb") as file:
            for _ in range(BOMB_SIZE >> 20):
                file.write(encoder.feed(zeros))
            file.write(encoder.finish())
        paths[name] = str(path)
    yield paths


def peak_rss_growth_kib(path: str, name: str, budget: int, keep: int = 0) -> int:
    """Decode the bomb at ``path`` in a child process; its peak RSS growth in KiB."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    result = subprocess.run(
        [sys.executable, "-c", BOMB_CHILD, name, path, str(budget), str(keep)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": root},
        timeout=120,
    )
    growth_kib, produced = map(int, result.stdout.split())
    assert produced == BOMB_SIZE
    return growth_kib


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs Linux /proc")
@pytest.mark.parametrize("name", ["gzip", "brotli", "zstd"])
def test_a_one_gib_bomb_decodes_in_bounded_memory(bombs: dict[str, str], name: str) -> None:
    assert peak_rss_growth_kib(bombs[name], name, 64 * 1024) < 16 * 1024


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs Linux /proc")
def test_the_memory_measurement_sees_retained_output(bombs: dict[str, str]) -> None:
    # Control: the same harness, keeping the first 128 MiB of output, must see them.
    assert peak_rss_growth_kib(bombs["gzip"], "gzip", 64 * 1024, keep=128 << 20) > 120 * 1024


def test_a_bomb_is_stopped_by_max_output_size(bombs: dict[str, str]) -> None:
    with open(bombs["gzip"], "rb") as file:
        wire = file.read()
    error = error_of(Gzip(max_output_size=10 << 20), wire)
    assert isinstance(error, LimitExceededError)
    assert error.limit == 10 << 20


# -- memory per stream ---------------------------------------------------------------------

# Decode the same small body (a full window's worth of zeros) with 20 decoders, keep them all,
# and print how much RSS grew (KiB) and whether every decoder was done.
STREAMS_CHILD = textwrap.dedent(
    """
    import sys
    import brotli, zstandard
    from framekit.codecs._base import decode_byte_pieces
    from framekit.codecs.compression import Brotli, Zstd

    if sys.argv[1] == "brotli":
        codec, wire = Brotli(), brotli.compress(bytes(16 << 20), lgwin=24)
    else:
        params = zstandard.ZstdCompressionParameters.from_level(3, window_log=23)
        compressor = zstandard.ZstdCompressor(compression_params=params).compressobj()
        codec = Zstd()
        wire = compressor.compress(bytes(8 << 20)) + compressor.flush()

    class Counter:
        def write(self, data):
            pass
        def mark_chunk_end(self):
            pass

    def rss():
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

    before = rss()
    decoders = []
    for _ in range(20):
        decoder = codec.decoder()
        view, position = memoryview(wire), 0
        while not decoder.done:
            position += decoder.decode_eof(view[position:], Counter(), 65536)
        decoders.append(decoder)
    print(rss() - before, all(d.done for d in decoders))
    """
)


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
@pytest.mark.parametrize(("name", "window_mib"), [("brotli", 16), ("zstd", 8)])
def test_a_finished_decoder_no_longer_holds_its_window(name: str, window_mib: int) -> None:
    # Twenty finished streams, decoders kept: held with the decoders, the windows came to
    # twenty times one (330 MiB for brotli). Released at the end of each stream, the allocator
    # hands a freed window to the next stream, so about one stays resident.
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    result = subprocess.run(
        [sys.executable, "-c", STREAMS_CHILD, name],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": root},
        timeout=120,
    )
    growth_kib, done = result.stdout.split()
    assert done == "True"
    assert int(growth_kib) < 4 * window_mib * 1024


@pytest.mark.parametrize("backend", ["zlib", "zlib-ng", "isal"])
@pytest.mark.parametrize("budget", [1, 17, 1000])
def test_no_call_writes_more_than_its_budget_across_gzip_members(backend: str, budget: int) -> None:
    # A member's last output and the next member's first, in one call: the budget is for the
    # call, not for each member.
    wire = gzip.compress(b"a" * 30 + b"\n" * 5, 1) + gzip.compress(b"b" * 40, 1)
    decoder = Gzip(backend=backend).decoder()  # type: ignore[arg-type]
    source = Buffer()
    source.write(wire)
    written = []

    class Sink:
        def write(self, data: bytes | bytearray | memoryview) -> None:
            written.append(len(data))

        def mark_chunk_end(self) -> None:
            pass

    out = b""
    while not decoder.done:
        written.clear()
        with source.view() as view:
            consumed = decoder.decode_eof(view, Sink(), budget)
        source.drop(consumed)
        assert sum(written) <= budget
        out += b"x" * sum(written)
        assert consumed or written or decoder.done
    assert len(out) == 75


@pytest.mark.parametrize("codec", [Gzip(backend="zlib"), Deflate(backend="zlib")])
def test_zlib_inflater_says_it_needs_input_only_when_a_call_would_do_nothing(
    codec: ByteCodec,
) -> None:
    # The checker probes every call that ended with needs_input True (a second call with the
    # bytes left must write and consume nothing), over its splits and budgets.
    from framekit.testing import check_byte_codec

    data = b"".join(b"%d %s\n" % (i, b"word " * (i % 13)) for i in range(4000))
    wire = zlib.compress(data) if isinstance(codec, Deflate) else gzip.compress(data)
    check = check_byte_codec(codec, wire, seed=3)
    assert (check.data, check.errors, check.done) == (data, [], True)
    decoder = codec.decoder()
    with memoryview(wire)[: len(wire) // 2] as half:
        consumed = decoder.decode(half, Buffer(), 2**20)
    assert consumed == len(wire) // 2 and decoder.needs_input  # the claim is made


# -- isal and the vector registers ------------------------------------------------------------
#
# python-isal's inflate returns with the upper halves of the AVX registers dirty (no
# VZEROUPPER), and every SSE instruction the process runs after it is slower until something
# clears them: measured on an AVX-512 Xeon, a pure-Python parse took 2.8x its time after one
# isal call (benchmarks/README.md, "isal and the vector registers"). A decoder on isal clears
# them when each call returns, with framekit._speedups.clear_vector_upper.

needs_extension = pytest.mark.skipif(
    speedups.clear_vector_upper is None, reason="framekit._speedups is not built"
)


class ListSink:
    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.chunks.append(bytes(data))

    def mark_chunk_end(self) -> None:
        pass

    def write_marked(self, data: bytes, marks: list[int]) -> None:
        self.chunks.append(bytes(data))


@needs_extension
def test_a_decoder_on_isal_clears_the_vector_registers_after_each_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("isal")
    calls: list[str] = []
    monkeypatch.setattr(speedups, "clear_vector_upper", lambda: calls.append("clear"))
    packed = gzip.compress(b"hello, world\n" * 1000)
    decoder = Gzip(backend="isal").decoder()
    sink = ListSink()
    decoder.decode(memoryview(packed[:100]), sink, 1 << 20)
    assert calls == ["clear"]
    decoder.decode_eof(memoryview(packed[100:]), sink, 1 << 20)
    assert calls == ["clear", "clear"]
    assert b"".join(sink.chunks) == b"hello, world\n" * 1000


def test_a_decoder_on_the_standard_zlib_clears_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(speedups, "clear_vector_upper", lambda: calls.append("clear"))
    packed = gzip.compress(b"hello, world\n")
    Gzip(backend="zlib").decoder().decode_eof(memoryview(packed), ListSink(), 1 << 20)
    assert calls == []


@needs_extension
def test_clear_vector_upper_can_be_called_anywhere() -> None:
    # VZEROUPPER only on a CPU with AVX (a no-op elsewhere); the upper halves are not kept
    # across calls by the ABI, so clearing them changes no result.
    assert speedups.clear_vector_upper is not None
    for _ in range(3):
        assert speedups.clear_vector_upper() is None
