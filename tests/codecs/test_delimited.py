"""Delimited: earliest-end rule, strip longest, limits, EOF, split invariance, round trips."""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framekit.codecs._base import decode_frame_pieces
from framekit.codecs.delimited import Delimited
from framekit.errors import FramingError, LineTooLong, TruncatedError
from tests.codecs.ends import check_ends


def results(decoder: Any, pieces: list[bytes]) -> list[Any]:
    return [
        (type(item), item.offset, str(item)) if isinstance(item, FramingError) else item
        for item in decode_frame_pieces(decoder, pieces)
    ]


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def decode(codec: Delimited, data: bytes) -> list[Any]:
    return results(codec.decoder(), [data])


def test_default_delimiters_are_crlf_and_lf() -> None:
    assert decode(Delimited(), b"a\r\nb\nc\r\n") == [b"a", b"b", b"c"]


def test_crlf_split_before_lf_strips_the_whole_crlf() -> None:
    assert results(Delimited().decoder(), [b"a\r", b"\n"]) == [b"a"]


def test_earliest_ending_delimiter_wins_not_the_earliest_starting() -> None:
    # Netty (shortest frame / earliest start) would give b"" here.
    assert decode(Delimited(delimiters=(b"abc", b"b")), b"abcabc") == [b"a", b"ca", b"c"]


def test_longest_delimiter_ending_at_the_same_place_is_stripped() -> None:
    assert decode(Delimited(delimiters=(b"\n", b"x\n")), b"ax\n") == [b"a"]


def test_multi_byte_delimiter_split_across_feeds() -> None:
    codec = Delimited(delimiters=(b"--END--",))
    assert results(codec.decoder(), [b"one--E", b"ND", b"--two--END--"]) == [b"one", b"two"]


def test_keep_delimiter_keeps_the_matched_delimiter() -> None:
    assert decode(Delimited(keep_delimiter=True), b"a\r\nb\n") == [b"a\r\n", b"b\n"]


def test_final_frame_without_delimiter_is_delivered_by_default() -> None:
    assert decode(Delimited(delimiters=(b"\0",)), b"a\0b") == [b"a", b"b"]


def test_final_frame_without_delimiter_with_at_eof_error_is_truncated() -> None:
    out = decode(Delimited(delimiters=(b"\0",), at_eof="error"), b"a\0b")
    assert out[0] == b"a" and out[1][0] is TruncatedError and out[1][1] == 2


def test_too_long_frame_in_the_middle_is_reported_once_and_skipped() -> None:
    out = decode(Delimited(max_length=2), b"a\nxxxxxx\r\nb\n")
    assert out[0] == b"a"
    assert out[1][0] is LineTooLong and out[1][1] == 2
    assert out[2:] == [b"b"]


def test_too_long_fails_fast_with_room_for_the_longest_delimiter() -> None:
    decoder = Delimited(max_length=2).decoder()
    assert decoder.decode(memoryview(b"ab\r"), []) == 0  # could still be b"ab\r\n"
    with pytest.raises(LineTooLong) as info:
        decoder.decode(memoryview(b"ab\rx"), [])
    assert info.value.offset == 0 and info.value.limit == 2


def test_skip_mode_counts_skipped_frames() -> None:
    decoder = Delimited(max_length=1, on_too_long="skip").decoder()
    assert results(decoder, [b"a\nbbb", b"b\nc\ndd\n"]) == [b"a", b"c"]
    assert decoder.skipped_frames == 2


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"delimiters": ()}, "delimiters"),
        ({"delimiters": (b"",)}, "delimiters"),
        ({"delimiters": ("\n",)}, "delimiters"),
        ({"delimiters": (b"\n", b"\n")}, "delimiters"),
        ({"max_length": -1}, "max_length"),
        ({"on_too_long": "x"}, "on_too_long"),
        ({"at_eof": "x"}, "at_eof"),
    ],
)
def test_invalid_option_fails_at_construction_naming_it(options: dict[str, Any], name: str) -> None:
    with pytest.raises((ValueError, TypeError), match=name):
        Delimited(**options)


def test_encoder_writes_the_first_delimiter() -> None:
    assert Delimited().encoder().encode(b"a") == b"a\r\n"


@pytest.mark.parametrize("frame", [b"a\nb", b"a\r"])
def test_encoder_rejects_frames_that_would_not_round_trip(frame: bytes) -> None:
    with pytest.raises(ValueError):
        Delimited(delimiters=(b"\n", b"\r\n")).encoder().encode(frame)


DELIMITER_SETS = st.sampled_from(
    [
        (b"\r\n", b"\n"),
        (b"\n", b"\r\n", b"\r"),
        (b"abc", b"b"),
        (b"aa",),
        (b"aba", b"ab", b"ba"),
        (b"\0",),
        (b"--", b"-x-"),
    ]
)
OPTIONS = st.builds(
    dict,
    delimiters=DELIMITER_SETS,
    keep_delimiter=st.booleans(),
    max_length=st.integers(0, 6),
    on_too_long=st.sampled_from(["raise", "skip"]),
    at_eof=st.sampled_from(["deliver", "error"]),
)
WIRE = st.lists(st.sampled_from([b"a", b"b", b"c", b"\r", b"\n", b"-", b"x", b"\0"]), max_size=30)


@settings(max_examples=400, deadline=None)
@given(options=OPTIONS, parts=WIRE, cuts=st.lists(st.integers(0, 100), max_size=8))
def test_any_split_gives_the_same_frames_and_errors(
    options: dict[str, Any], parts: list[bytes], cuts: list[int]
) -> None:
    codec = Delimited(**options)
    data = b"".join(parts)
    whole = results(codec.decoder(), [data])
    assert results(codec.decoder(), split(data, cuts)) == whole
    assert results(codec.decoder(), [data[i : i + 1] for i in range(len(data))]) == whole


@settings(max_examples=200, deadline=None)
@given(
    options=OPTIONS,
    frames=st.lists(st.binary(max_size=5), max_size=6),
    cuts=st.lists(st.integers(0, 100), max_size=6),
)
def test_decode_of_encode_is_identity(
    options: dict[str, Any], frames: list[bytes], cuts: list[int]
) -> None:
    codec = Delimited(**{**options, "max_length": 6})
    encoder = codec.encoder()
    good = []
    wire = b""
    for frame in frames:
        if codec.keep_delimiter:
            frame += codec.delimiters[0]
        try:
            wire += encoder.encode(frame)
        except ValueError:
            continue
        good.append(frame)
    assert results(codec.decoder(), split(wire, cuts)) == good


def test_one_megabyte_frame_fed_a_byte_at_a_time_is_linear() -> None:
    size = 1 << 20
    codec = Delimited(delimiters=(b"\r\n", b"\n", b"--END--"), max_length=size)
    decoder = codec.decoder()
    buffer = bytearray()
    frames: list[bytes] = []
    started = time.process_time()
    for _ in range(size):
        buffer += b"x"
        assert decoder.decode(memoryview(buffer), frames) == 0
    buffer += b"--END--"
    assert decoder.decode(memoryview(buffer), frames) == size + 7
    assert frames == [b"x" * size]
    assert time.process_time() - started < 30  # quadratic would take hours


def test_many_frames_with_a_rare_delimiter_stay_linear() -> None:
    # One delimiter never occurs: its find must not rescan the buffer for every frame.
    codec = Delimited(delimiters=(b"\n", b"NEVER"))
    data = b"ab\n" * 200_000
    started = time.process_time()
    frames: list[bytes] = []
    assert codec.decoder().decode(memoryview(data), frames) == len(data)
    assert len(frames) == 200_000
    assert time.process_time() - started < 2


# -- ends -------------------------------------------------------------------------------

ENDS_OPTIONS = st.builds(
    dict,
    delimiters=DELIMITER_SETS,
    keep_delimiter=st.booleans(),
    max_length=st.sampled_from([0, 3, 6, 1000]),
    on_too_long=st.sampled_from(["raise", "skip"]),
    at_eof=st.sampled_from(["deliver", "error"]),
)


@settings(max_examples=200, deadline=None)
@given(options=ENDS_OPTIONS, parts=WIRE, cuts=st.lists(st.integers(0, 100), max_size=6))
def test_ends_give_the_same_frames_and_mark_each_frame(
    options: dict[str, Any], parts: list[bytes], cuts: list[int]
) -> None:
    codec = Delimited(**options)
    data = b"".join(parts)
    check_ends(codec, data, [data])
    check_ends(codec, data, split(data, cuts))


@settings(max_examples=150, deadline=None)
@given(
    options=ENDS_OPTIONS,
    frames=st.lists(st.binary(max_size=5), max_size=8),
    choices=st.lists(st.integers(0, 2), min_size=8, max_size=8),
    cuts=st.lists(st.integers(0, 100), max_size=6),
)
def test_each_frame_span_decodes_alone_to_that_frame(
    options: dict[str, Any], frames: list[bytes], choices: list[int], cuts: list[int]
) -> None:
    codec = Delimited(**{**options, "max_length": 1000})
    delimiters = codec.delimiters
    wire = b""
    expected: list[bytes] = []
    for frame, choice in zip(frames, choices, strict=False):
        candidate = frame + delimiters[choice % len(delimiters)]
        alone: list[bytes] = []
        # Keep it if it is one whole frame (no earlier delimiter inside it).
        consumed = codec.decoder().decode(memoryview(candidate), alone)
        if consumed == len(candidate) and len(alone) == 1:
            wire += candidate
            expected += alone
    assert check_ends(codec, wire, split(wire, cuts)) == expected


def test_ends_count_a_skipped_over_long_frame_in_the_next_frame() -> None:
    decoder = Delimited(max_length=2, on_too_long="skip").decoder()
    frames: list[bytes] = []
    ends: list[int] = []
    assert decoder.decode(memoryview(b"a\nxxxxx\r\nb\r\n"), frames, ends) == 12
    assert frames == [b"a", b"b"] and ends == [2, 12]


def test_ends_include_the_final_frame_at_eof() -> None:
    decoder = Delimited(delimiters=(b"--END--",)).decoder()
    frames: list[bytes] = []
    ends: list[int] = []
    assert decoder.decode_eof(memoryview(b"a--END--last"), frames, ends) == 12
    assert frames == [b"a", b"last"] and ends == [8, 12]


def test_ends_with_a_delimiter_split_across_feeds() -> None:
    decoder = Delimited().decoder()
    frames: list[bytes] = []
    ends: list[int] = []
    assert decoder.decode(memoryview(b"ab\r"), frames, ends) == 0 and ends == []
    assert decoder.decode(memoryview(b"ab\r\nc\nd"), frames, ends) == 6
    assert frames == [b"ab", b"c"] and ends == [4, 6]
