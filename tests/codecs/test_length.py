"""LengthPrefixed: layouts, limits, malformed lengths, EOF, split invariance, round trips."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framekit import StreamReader
from framekit.codecs import length
from framekit.codecs._base import decode_frame_pieces
from framekit.codecs.length import DEFAULT_MAX_FRAME_LENGTH, LengthPrefixed
from framekit.errors import FrameTooLong, MalformedError, TruncatedError
from framekit.sync import iter_frames
from tests.codecs.compiled import with_and_without_compiled
from tests.codecs.ends import check_ends, comparable

# Every test here runs with the compiled batch loop (framekit.speedups) and without.
decoder_kind = with_and_without_compiled(length, "_split_fixed")


def results(decoder: Any, pieces: list[bytes]) -> list[Any]:
    """Frames and errors (as type, offset, message) for comparing splits; an error the decoder
    raises again (unrecoverable) ends the list."""
    return comparable(decode_frame_pieces(decoder, pieces))


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def decode(codec: LengthPrefixed, data: bytes) -> list[Any]:
    return results(codec.decoder(), [data])


# -- layouts ----------------------------------------------------------------------------


def test_default_is_4_byte_big_endian_with_header_stripped() -> None:
    assert decode(LengthPrefixed(), b"\x00\x00\x00\x02hi\x00\x00\x00\x00") == [b"hi", b""]


def test_defaults_match_tokio() -> None:
    codec = LengthPrefixed()
    assert codec.max_frame_length == DEFAULT_MAX_FRAME_LENGTH == 8 * 1024 * 1024
    assert codec.header_length == 4 and codec.byte_order == "big"


def test_little_endian_3_byte_field() -> None:
    codec = LengthPrefixed(length_field_length=3, byte_order="little")
    assert decode(codec, b"\x02\x00\x00hi") == [b"hi"]


def test_initial_bytes_to_strip_zero_keeps_the_header() -> None:
    codec = LengthPrefixed(length_field_length=2, initial_bytes_to_strip=0)
    assert decode(codec, b"\x00\x05hello") == [b"\x00\x05hello"]


def test_header_before_the_length_field_is_stripped_by_default() -> None:
    codec = LengthPrefixed(length_field_offset=2, length_field_length=3)
    assert decode(codec, b"\xca\xfe\x00\x00\x05hello") == [b"hello"]


def test_length_includes_header() -> None:
    codec = LengthPrefixed(length_field_length=2, length_includes_header=True)
    assert decode(codec, b"\x00\x07hello") == [b"hello"]


def test_length_adjustment_for_a_trailer() -> None:
    codec = LengthPrefixed(length_field_length=1, length_adjustment=2)
    assert decode(codec, b"\x05helloCK") == [b"helloCK"]


def test_varint_length() -> None:
    codec = LengthPrefixed(length_field_length="varint")
    payload = b"x" * 300
    assert decode(codec, b"\xac\x02" + payload + b"\x00") == [payload, b""]


# -- bad input --------------------------------------------------------------------------


def test_negative_adjusted_length_is_malformed_and_sticky() -> None:
    codec = LengthPrefixed(length_field_length=1, length_adjustment=-3)
    decoder = codec.decoder()
    frames: list[bytes] = []
    assert decoder.decode(memoryview(b"\x04x\x02"), frames) == 2 and frames == [b"x"]
    for _ in range(2):
        with pytest.raises(MalformedError) as info:
            decoder.decode(memoryview(b"\x02"), frames)
        assert info.value.offset == 2


def test_frame_shorter_than_initial_bytes_to_strip_is_malformed() -> None:
    codec = LengthPrefixed(length_field_length=1, initial_bytes_to_strip=4)
    with pytest.raises(MalformedError, match="initial_bytes_to_strip=4"):
        codec.decoder().decode(memoryview(b"\x01x"), [])


def test_varint_longer_than_10_bytes_is_malformed() -> None:
    codec = LengthPrefixed(length_field_length="varint")
    with pytest.raises(MalformedError, match="varint") as info:
        codec.decoder().decode(memoryview(b"\x80" * 10 + b"\x01"), [])
    assert info.value.offset == 0


def test_varint_above_64_bits_is_too_long_first_then_malformed() -> None:
    # Its first bytes already pass max_frame_length (fail fast); the last makes it malformed.
    out = decode(LengthPrefixed(length_field_length="varint"), b"\xff" * 9 + b"\x7f")
    assert out[0][0] is FrameTooLong and out[0][1] == 0
    assert out[1][0] is MalformedError and out[1][1] == 0 and "2**64" in out[1][2]


def test_varint_with_a_body_still_below_zero_is_not_rejected_early() -> None:
    # max 1 < the header: every byte passes the limit, but a body of 0 - 2 bytes is malformed,
    # and the first bytes of the varint cannot yet tell which: the whole varint decides.
    codec = LengthPrefixed(length_field_length="varint", max_frame_length=1, length_adjustment=-2)
    out = decode(codec, b"\x80\x80\x80\x00\x01x")
    assert out[0][0] is MalformedError and out[0][1] == 0 and "below zero" in out[0][2]


@pytest.mark.parametrize("split", [False, True])
def test_varint_too_long_is_raised_at_the_first_byte_that_proves_it(split: bool) -> None:
    # max 100: 0xe5 (101 so far, more to come) is already too long, whatever follows.
    codec = LengthPrefixed(length_field_length="varint", max_frame_length=100)
    decoder = codec.decoder()
    frames: list[bytes] = []
    assert decoder.decode(memoryview(b"\x01x\xe5"), frames) == 2 and frames == [b"x"]
    with pytest.raises(FrameTooLong) as info:  # the next call, with the same byte
        decoder.decode(memoryview(b"\xe5"), frames)
    assert info.value.offset == 2
    # The rest of the varint (0xe5 0x01: 229 bytes) and the body are skipped as they come.
    wire = b"\x01x\xe5\x01" + b"y" * 229 + b"\x02ok"
    pieces = [wire[i : i + 7] for i in range(0, len(wire), 7)] if split else [wire]
    assert results(codec.decoder(), pieces) == [b"x", results(codec.decoder(), [wire])[1], b"ok"]
    assert results(codec.decoder(), pieces)[1][:2] == (FrameTooLong, 2)


def test_truncated_frame_at_eof_is_truncated_error_at_its_start() -> None:
    out = decode(LengthPrefixed(), b"\x00\x00\x00\x01a\x00\x00\x00\x05abc")
    assert out[0] == b"a"
    assert out[1][0] is TruncatedError and out[1][1] == 5


def test_truncated_header_at_eof_is_truncated_error() -> None:
    out = decode(LengthPrefixed(), b"\x00\x00")
    assert out[0][0] is TruncatedError and out[0][1] == 0


def test_too_long_frame_fails_fast_once_the_header_is_read() -> None:
    decoder = LengthPrefixed(length_field_length=2, max_frame_length=10).decoder()
    with pytest.raises(FrameTooLong) as info:
        decoder.decode(memoryview(b"\x03\xe8"), [])
    assert info.value.limit == 10 and info.value.offset == 0


def test_too_long_frame_in_the_middle_is_reported_once_and_skipped_unbuffered() -> None:
    codec = LengthPrefixed(length_field_length=1, max_frame_length=5)
    decoder = codec.decoder()
    wire = b"\x01a" + b"\x09" + b"z" * 9 + b"\x01b\x00"
    out = results(decoder, [wire[:5], wire[5:8], wire[8:]])
    assert out[0] == b"a"
    assert out[1][0] is FrameTooLong and out[1][1] == 2
    assert out[2:] == [b"b", b""]


def test_skipped_bytes_are_consumed_as_they_arrive() -> None:
    decoder = LengthPrefixed(length_field_length=1, max_frame_length=5).decoder()
    with pytest.raises(FrameTooLong):
        decoder.decode(memoryview(b"\x09zz"), [])
    assert decoder.decode(memoryview(b"\x09zz"), []) == 3
    assert decoder.decode(memoryview(b"zzzzzzz\x01k"), (frames := [])) == 9
    assert frames == [b"k"]


def test_skip_mode_counts_skipped_frames() -> None:
    codec = LengthPrefixed(length_field_length=1, max_frame_length=3, on_too_long="skip")
    decoder = codec.decoder()
    assert results(decoder, [b"\x01a\x05zzzzz\x01b\x09zz"]) == [b"a", b"b"]
    assert decoder.skipped_frames == 2


def test_max_frame_length_counts_the_header() -> None:
    codec = LengthPrefixed(length_field_length=1, max_frame_length=3)
    assert decode(codec, b"\x02ab") == [b"ab"]
    assert decode(codec, b"\x03abc")[0][0] is FrameTooLong


# -- options ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"length_field_length": 0}, "length_field_length"),
        ({"length_field_length": 9}, "length_field_length"),
        ({"length_field_length": "leb"}, "length_field_length"),
        ({"length_field_offset": -1}, "length_field_offset"),
        ({"byte_order": "native"}, "byte_order"),
        ({"initial_bytes_to_strip": -1}, "initial_bytes_to_strip"),
        ({"length_field_length": "varint", "initial_bytes_to_strip": 0}, "initial_bytes_to_strip"),
        ({"length_field_length": "varint", "length_includes_header": True}, "includes_header"),
        ({"max_frame_length": 0}, "max_frame_length"),
        ({"on_too_long": "drop"}, "on_too_long"),
    ],
)
def test_invalid_option_fails_at_construction_naming_it(options: dict[str, Any], name: str) -> None:
    with pytest.raises((ValueError, TypeError), match=name):
        LengthPrefixed(**options)


# -- encoder ----------------------------------------------------------------------------


def test_encoder_writes_zeros_for_the_stripped_header() -> None:
    codec = LengthPrefixed(length_field_offset=1, length_field_length=2)
    assert codec.encoder().encode(b"hi") == b"\x00\x00\x02hi"


def test_encoder_checks_a_carried_length_field() -> None:
    encoder = LengthPrefixed(length_field_length=1, initial_bytes_to_strip=0).encoder()
    assert encoder.encode(b"\x02hi") == b"\x02hi"
    with pytest.raises(ValueError, match="length field"):
        encoder.encode(b"\x05hi")


def test_encoder_rejects_a_length_the_field_cannot_hold() -> None:
    with pytest.raises(ValueError, match="fit"):
        LengthPrefixed(length_field_length=1).encoder().encode(b"x" * 256)


def test_encoder_rejects_frames_over_max_frame_length() -> None:
    with pytest.raises(ValueError, match="max_frame_length"):
        LengthPrefixed(max_frame_length=5).encoder().encode(b"xx")


# -- properties -------------------------------------------------------------------------

FIXED_OPTIONS = st.builds(
    dict,
    length_field_offset=st.integers(0, 2),
    length_field_length=st.integers(1, 8),
    byte_order=st.sampled_from(["big", "little"]),
    length_adjustment=st.integers(-3, 3),
    length_includes_header=st.booleans(),
    initial_bytes_to_strip=st.none() | st.integers(0, 12),
    max_frame_length=st.integers(1, 24),
    on_too_long=st.sampled_from(["raise", "skip"]),
)
VARINT_OPTIONS = st.builds(
    dict,
    length_field_length=st.just("varint"),
    length_field_offset=st.integers(0, 2),
    length_adjustment=st.integers(-3, 3),
    max_frame_length=st.integers(1, 300),
    on_too_long=st.sampled_from(["raise", "skip"]),
)
OPTIONS = FIXED_OPTIONS | VARINT_OPTIONS


def valid_frame(codec: LengthPrefixed, frame: bytes) -> bytes:
    """``frame`` with the length field it carries (if any) set to its right value."""
    width = codec.length_field_length
    strip = codec.initial_bytes_to_strip
    if width == "varint" or strip is None:
        return frame
    offset = codec.length_field_offset
    header = offset + width
    if strip >= header or len(frame) + strip < header:
        return frame
    body = strip + len(frame) - header
    value = body - codec.length_adjustment + (header if codec.length_includes_header else 0)
    if not 0 <= value < 1 << (8 * width):
        return frame
    wire = bytearray(strip) + frame
    wire[offset:header] = value.to_bytes(width, codec.byte_order)
    return bytes(wire[strip:])


@settings(max_examples=300, deadline=None)
@given(
    options=OPTIONS,
    frames=st.lists(st.binary(max_size=20), max_size=6),
    cuts=st.lists(st.integers(0, 300), max_size=6),
)
def test_decode_of_encode_is_identity(
    options: dict[str, Any], frames: list[bytes], cuts: list[int]
) -> None:
    codec = LengthPrefixed(**options)
    encoder = codec.encoder()
    good = []
    wire = b""
    for frame in frames:
        frame = valid_frame(codec, frame)
        try:
            wire += encoder.encode(frame)
        except ValueError:
            continue
        good.append(frame)
    assert results(codec.decoder(), split(wire, cuts)) == good


@settings(max_examples=300, deadline=None)
@given(options=OPTIONS, data=st.binary(max_size=60), cuts=st.lists(st.integers(0, 300), max_size=8))
def test_any_split_gives_the_same_frames_and_errors(
    options: dict[str, Any], data: bytes, cuts: list[int]
) -> None:
    codec = LengthPrefixed(**options)
    whole = results(codec.decoder(), [data])
    assert results(codec.decoder(), split(data, cuts)) == whole
    assert results(codec.decoder(), [data[i : i + 1] for i in range(len(data))]) == whole


# -- linear time ------------------------------------------------------------------------


def test_one_megabyte_frame_fed_a_byte_at_a_time_is_linear() -> None:
    size = 1 << 20
    decoder = LengthPrefixed().decoder()
    wire = LengthPrefixed().encoder().encode(b"x" * size)
    buffer = bytearray()
    frames: list[bytes] = []
    started = time.process_time()
    for byte in range(len(wire) - 1):
        buffer.append(wire[byte])
        assert decoder.decode(memoryview(buffer), frames) == 0
    buffer.append(wire[-1])
    assert decoder.decode(memoryview(buffer), frames) == len(wire)
    assert frames == [b"x" * size]
    assert time.process_time() - started < 30  # quadratic would take hours


BIG = 16 << 20


@pytest.mark.parametrize("codec", [LengthPrefixed(max_frame_length=BIG + 4)], ids=["default"])
async def test_a_big_frame_arriving_in_small_pieces_is_not_copied_per_piece(
    codec: LengthPrefixed,
) -> None:
    """Through a FrameReader and framekit.sync: a 16 MiB frame in 1 KiB pieces. Copying the
    buffered part of the frame at each piece (the fast path once did) copies 128 GiB."""
    wire = codec.encoder().encode(b"x" * BIG)
    pieces = [wire[i : i + 1024] for i in range(0, len(wire), 1024)]
    started = time.process_time()
    reader = StreamReader(limit=BIG)
    read = asyncio.ensure_future(reader.frames(codec).read())
    for piece in pieces:
        reader.feed_data(piece)
        await asyncio.sleep(0)  # the read decodes what it has
    reader.feed_eof()
    assert await read == b"x" * BIG
    assert list(iter_frames(pieces, codec)) == [b"x" * BIG]
    decoder = codec.decoder()
    buffer = bytearray()
    out: list[bytes] = []
    for piece in pieces:
        buffer += piece
        del buffer[: decoder.decode(memoryview(buffer), out)]
    assert out == [b"x" * BIG]
    assert time.process_time() - started < 5  # copying per piece: a minute or more


# -- ends -------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(options=OPTIONS, data=st.binary(max_size=60), cuts=st.lists(st.integers(0, 300), max_size=6))
def test_ends_give_the_same_frames_and_mark_each_frame(
    options: dict[str, Any], data: bytes, cuts: list[int]
) -> None:
    codec = LengthPrefixed(**options)
    check_ends(codec, data, [data])
    check_ends(codec, data, split(data, cuts))


@settings(max_examples=200, deadline=None)
@given(
    options=OPTIONS,
    frames=st.lists(st.binary(max_size=20), max_size=8),
    cuts=st.lists(st.integers(0, 300), max_size=6),
)
def test_each_frame_span_decodes_alone_to_that_frame(
    options: dict[str, Any], frames: list[bytes], cuts: list[int]
) -> None:
    codec = LengthPrefixed(**options)
    encoder = codec.encoder()
    good = []
    wire = b""
    for frame in frames:
        frame = valid_frame(codec, frame)
        try:
            wire += encoder.encode(frame)
        except ValueError:
            continue
        good.append(frame)
    assert check_ends(codec, wire, [wire]) == good
    assert check_ends(codec, wire, split(wire, cuts)) == good


def test_ends_count_a_skipped_too_long_frame_in_the_next_frame() -> None:
    codec = LengthPrefixed(length_field_length=1, max_frame_length=4, on_too_long="skip")
    decoder = codec.decoder()
    frames: list[bytes] = []
    ends: list[int] = []
    assert decoder.decode(memoryview(b"\x01a\x05xxxxx\x02bc"), frames, ends) == 11
    assert frames == [b"a", b"bc"] and ends == [2, 11]


def test_ends_after_a_raised_too_long_frame_start_at_the_skip() -> None:
    decoder = LengthPrefixed(length_field_length=1, max_frame_length=4).decoder()
    frames: list[bytes] = []
    ends: list[int] = []
    data = b"\x01a\x05xxxxx\x02bc"
    assert decoder.decode(memoryview(data), frames, ends) == 2 and ends == [2]
    with pytest.raises(FrameTooLong):
        decoder.decode(memoryview(data[2:]), frames, ends)
    frames.clear()
    ends.clear()
    assert decoder.decode(memoryview(data[2:]), frames, ends) == 9
    assert frames == [b"bc"] and ends == [9]


def test_ends_of_the_kept_header_layout_count_the_header() -> None:
    decoder = LengthPrefixed(length_field_length=2, initial_bytes_to_strip=0).decoder()
    frames: list[bytes] = []
    ends: list[int] = []
    assert decoder.decode(memoryview(b"\x00\x01a\x00\x02bc\x00"), frames, ends) == 7
    assert frames == [b"\x00\x01a", b"\x00\x02bc"] and ends == [3, 7]


def test_a_sticky_error_raised_again_does_not_grow_its_traceback() -> None:
    import traceback

    decoder = LengthPrefixed(length_adjustment=-10).decoder()
    depths = []
    for _ in range(50):
        with pytest.raises(MalformedError) as caught:
            decoder.decode(memoryview(b"\x00\x00\x00\x01x"), [])
        depths.append(len(traceback.extract_tb(caught.value.__traceback__)))
    assert depths[-1] == depths[1]


def test_a_field_offset_too_large_for_a_struct_format_still_decodes() -> None:
    # The batch path reads the length with a struct format whose pad bytes skip the offset;
    # an offset no format can hold takes the general reader.
    decoder = LengthPrefixed(length_field_offset=2**63, length_field_length=2).decoder()
    frames: list[bytes] = []
    assert decoder.decode(memoryview(b"abc"), frames) == 0
    assert frames == []
