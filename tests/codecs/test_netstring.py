"""Netstring and OctetCounted: syntax, limits, malformed lengths, EOF, splits, round trips."""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framekit.codecs._base import decode_frame_pieces
from framekit.codecs.netstring import Netstring, OctetCounted
from framekit.errors import FrameTooLong, MalformedError, TruncatedError
from tests.codecs.ends import check_ends, comparable


def results(decoder: Any, pieces: list[bytes]) -> list[Any]:
    """Frames and errors (as type, offset, message) for comparing splits; an error the decoder
    raises again (unrecoverable) ends the list."""
    return comparable(decode_frame_pieces(decoder, pieces))


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def decode(codec: Netstring | OctetCounted, data: bytes) -> list[Any]:
    return results(codec.decoder(), [data])


def test_netstrings_decode() -> None:
    assert decode(Netstring(), b"5:hello,0:,3:abc,") == [b"hello", b"", b"abc"]


def test_octet_counted_frames_decode() -> None:
    assert decode(OctetCounted(), b"5 hello3 abc") == [b"hello", b"abc"]


def test_defaults() -> None:
    assert Netstring().max_length == 99999
    assert OctetCounted().max_length == 8192


@pytest.mark.parametrize(
    ("wire", "offset", "reason"),
    [
        (b"05:hello,", 1, "leading zero"),
        (b":x,", 0, "expected a digit"),
        (b"5x", 1, "expected a digit or"),
        (b"5:hello;", 7, "not closed"),
    ],
)
def test_malformed_netstring_is_reported_at_the_bad_byte(
    wire: bytes, offset: int, reason: str
) -> None:
    with pytest.raises(MalformedError, match=reason) as info:
        Netstring().decoder().decode(memoryview(wire), [])
    assert info.value.offset == offset


def test_octet_count_may_not_start_with_zero() -> None:
    with pytest.raises(MalformedError, match="starts with 0"):
        OctetCounted().decoder().decode(memoryview(b"0 "), [])


def test_malformed_after_frames_is_raised_by_the_next_call_and_stays() -> None:
    decoder = Netstring().decoder()
    frames: list[bytes] = []
    assert decoder.decode(memoryview(b"1:a,x"), frames) == 4 and frames == [b"a"]
    for _ in range(2):
        with pytest.raises(MalformedError) as info:
            decoder.decode(memoryview(b"x"), frames)
        assert info.value.offset == 4


def test_truncated_netstring_at_eof() -> None:
    out = decode(Netstring(), b"1:a,5:he")
    assert out[0] == b"a" and out[1][0] is TruncatedError and out[1][1] == 4


def test_too_long_frame_in_the_middle_is_reported_once_and_skipped() -> None:
    out = results(Netstring(max_length=3).decoder(), [b"1:a,10:abc", b"defghij,2:ok,"])
    assert out[0] == b"a"
    assert out[1][0] is FrameTooLong and out[1][1] == 4
    assert out[2:] == [b"ok"]


def test_too_long_is_raised_as_soon_as_the_length_is_read() -> None:
    with pytest.raises(FrameTooLong) as info:
        OctetCounted(max_length=10).decoder().decode(memoryview(b"100 "), [])
    assert info.value.limit == 10


@pytest.mark.parametrize("codec", [Netstring(max_length=100), OctetCounted(max_length=100)])
def test_too_long_is_raised_at_the_first_digit_that_passes_max_length(codec: Any) -> None:
    # Fail fast: "1000" can only grow into a length over 100, whatever digits follow.
    decoder = codec.decoder()
    separator = b":" if isinstance(codec, Netstring) else b" "
    trailer = b"," if isinstance(codec, Netstring) else b""
    assert decoder.decode(memoryview(b"100"), []) == 0  # could still be 100
    with pytest.raises(FrameTooLong) as info:
        decoder.decode(memoryview(b"1000"), [])
    assert info.value.offset == 0 and info.value.limit == 100
    # The rest of the length comes later; the frame is skipped by it, and the next one read.
    rest = [b"1000", b"0" + separator, b"x" * 5000, b"x" * 5000 + trailer + b"2" + separator]
    frames: list[bytes] = []
    pending = b""
    for piece in rest:
        pending += piece
        pending = pending[decoder.decode(memoryview(pending), frames) :]
    pending += b"ok" + trailer
    pending = pending[decoder.decode(memoryview(pending), frames) :]
    assert frames == [b"ok"] and pending == b""


def test_too_many_digits_is_over_max_length_first_then_malformed() -> None:
    out = decode(Netstring(), b"1" * 21 + b":")
    assert out[0][0] is FrameTooLong and out[0][1] == 0
    assert out[1][0] is MalformedError and out[1][1] == 20 and "more than 20" in out[1][2]


def test_skipped_netstring_must_still_end_with_comma() -> None:
    out = decode(Netstring(max_length=1, on_too_long="skip"), b"3:abc;")
    assert out[0][0] is MalformedError and out[0][1] == 5


def test_skip_mode_counts_skipped_frames() -> None:
    decoder = OctetCounted(max_length=2, on_too_long="skip").decoder()
    assert results(decoder, [b"3 abc1 x5 abc", b"de2 ok"]) == [b"x", b"ok"]
    assert decoder.skipped_frames == 2


@pytest.mark.parametrize("codec", [Netstring, OctetCounted])
def test_invalid_option_fails_at_construction_naming_it(codec: Any) -> None:
    with pytest.raises(ValueError, match="max_length"):
        codec(max_length=-1)
    with pytest.raises(ValueError, match="on_too_long"):
        codec(on_too_long="no")


def test_encoders() -> None:
    assert Netstring().encoder().encode(b"hello") == b"5:hello,"
    assert OctetCounted().encoder().encode(b"hello") == b"5 hello"
    with pytest.raises(ValueError, match="max_length"):
        Netstring(max_length=1).encoder().encode(b"ab")


CODECS = st.builds(
    lambda kind, maximum, mode: kind(max_length=maximum, on_too_long=mode),
    st.sampled_from([Netstring, OctetCounted]),
    st.integers(1, 12),
    st.sampled_from(["raise", "skip"]),
)


@settings(max_examples=300, deadline=None)
@given(
    codec=CODECS,
    frames=st.lists(st.binary(max_size=12), max_size=6),
    cuts=st.lists(st.integers(0, 200), max_size=6),
)
def test_decode_of_encode_is_identity(
    codec: Netstring | OctetCounted, frames: list[bytes], cuts: list[int]
) -> None:
    encoder = codec.encoder()
    good = []
    wire = b""
    for frame in frames:
        try:
            wire += encoder.encode(frame)
        except ValueError:
            continue
        good.append(frame)
    assert results(codec.decoder(), split(wire, cuts)) == good


WIRE = st.lists(
    st.sampled_from([b"0", b"1", b"2", b"12", b":", b",", b" ", b"a", b"3:abc,", b"3 abc"]),
    max_size=20,
)


@settings(max_examples=300, deadline=None)
@given(codec=CODECS, parts=WIRE, cuts=st.lists(st.integers(0, 200), max_size=8))
def test_any_split_gives_the_same_frames_and_errors(
    codec: Netstring | OctetCounted, parts: list[bytes], cuts: list[int]
) -> None:
    data = b"".join(parts)
    whole = results(codec.decoder(), [data])
    assert results(codec.decoder(), split(data, cuts)) == whole
    assert results(codec.decoder(), [data[i : i + 1] for i in range(len(data))]) == whole


def test_one_megabyte_netstring_fed_a_byte_at_a_time_is_linear() -> None:
    size = 1 << 20
    codec = Netstring(max_length=size)
    wire = codec.encoder().encode(b"x" * size)
    decoder = codec.decoder()
    buffer = bytearray()
    frames: list[bytes] = []
    started = time.process_time()
    for byte in wire[:-1]:
        buffer.append(byte)
        assert decoder.decode(memoryview(buffer), frames) == 0
    buffer.append(wire[-1])
    assert decoder.decode(memoryview(buffer), frames) == len(wire)
    assert frames == [b"x" * size]
    assert time.process_time() - started < 30


# -- ends -------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(codec=CODECS, parts=WIRE, cuts=st.lists(st.integers(0, 200), max_size=6))
def test_ends_give_the_same_frames_and_mark_each_frame(
    codec: Netstring | OctetCounted, parts: list[bytes], cuts: list[int]
) -> None:
    data = b"".join(parts)
    check_ends(codec, data, [data])
    check_ends(codec, data, split(data, cuts))


@settings(max_examples=200, deadline=None)
@given(
    codec=CODECS,
    frames=st.lists(st.binary(max_size=12), max_size=8),
    cuts=st.lists(st.integers(0, 200), max_size=6),
)
def test_each_frame_span_decodes_alone_to_that_frame(
    codec: Netstring | OctetCounted, frames: list[bytes], cuts: list[int]
) -> None:
    encoder = codec.encoder()
    good = []
    wire = b""
    for frame in frames:
        try:
            wire += encoder.encode(frame)
        except ValueError:
            continue
        good.append(frame)
    assert check_ends(codec, wire, [wire]) == good
    assert check_ends(codec, wire, split(wire, cuts)) == good


@pytest.mark.parametrize(
    ("codec", "data", "expected"),
    [
        (Netstring(max_length=3, on_too_long="skip"), b"1:a,5:xxxxx,2:bc,", [4, 17]),
        (OctetCounted(max_length=3, on_too_long="skip"), b"1 a5 xxxxx2 bc", [3, 14]),
    ],
)
def test_ends_count_a_skipped_too_long_frame_in_the_next_frame(
    codec: Netstring | OctetCounted, data: bytes, expected: list[int]
) -> None:
    frames: list[bytes] = []
    ends: list[int] = []
    assert codec.decoder().decode(memoryview(data), frames, ends) == len(data)
    assert frames == [b"a", b"bc"] and ends == expected
