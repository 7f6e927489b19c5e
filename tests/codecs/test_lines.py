"""Lines and TextLines: endings, limits, EOF policy, split invariance, round trips."""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framekit.codecs._base import decode_frame_pieces, iter_frame_pieces
from framekit.codecs.lines import DEFAULT_MAX_LINE_LENGTH, LineDecoder, Lines, TextLines
from framekit.errors import FramingError, LineTooLong, MalformedError, TruncatedError
from tests.codecs.ends import check_ends


def results(decoder: Any, pieces: list[bytes]) -> list[Any]:
    """Frames and errors (as type, offset, message) for comparing splits."""
    out = decode_frame_pieces(decoder, pieces)
    return [
        (type(item), item.offset, str(item)) if isinstance(item, FramingError) else item
        for item in out
    ]


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def decode(codec: Lines | TextLines, data: bytes) -> list[Any]:
    return results(codec.decoder(), [data])


# -- endings ----------------------------------------------------------------------------


def test_lf_lines_are_stripped_of_their_ending() -> None:
    assert decode(Lines(), b"a\nbb\n\nccc\n") == [b"a", b"bb", b"", b"ccc"]


def test_lf_strips_cr_before_lf_by_default() -> None:
    assert decode(Lines(), b"a\r\nb\n") == [b"a", b"b"]


def test_lf_keeps_cr_when_strip_cr_is_false() -> None:
    assert decode(Lines(strip_cr=False), b"a\r\nb\n") == [b"a\r", b"b"]


def test_keep_ending_keeps_the_ending_bytes() -> None:
    assert decode(Lines(keep_ending=True), b"a\r\nb\n") == [b"a\r\n", b"b\n"]


def test_lf_cr_inside_a_line_is_data() -> None:
    assert decode(Lines(), b"a\rb\n") == [b"a\rb"]


def test_crlf_splits_on_crlf() -> None:
    assert decode(Lines(ending="crlf"), b"EHLO x\r\nQUIT\r\n") == [b"EHLO x", b"QUIT"]


def test_crlf_rejects_bare_lf_at_its_offset() -> None:
    out = decode(Lines(ending="crlf"), b"ok\r\nab\n.\ncd\r\nnext\r\n")
    assert out[0] == b"ok"
    assert out[1][0] is MalformedError and out[1][1] == 6
    assert out[2:] == [b"next"]


def test_crlf_rejects_bare_cr_at_its_offset() -> None:
    out = decode(Lines(ending="crlf"), b"a\r.\r\nb\r\n")
    assert out[0][0] is MalformedError and out[0][1] == 1
    assert "bare CR" in out[0][2]
    assert out[1:] == [b"b"]


def test_crlf_bare_lf_split_from_its_line_gives_same_error() -> None:
    whole = decode(Lines(ending="crlf"), b"ab\ncd\r\nx\r\n")
    pieces = [b"a", b"b", b"\n", b"cd\r", b"\nx\r\n"]
    assert results(Lines(ending="crlf").decoder(), pieces) == whole


def test_crlf_final_cr_at_eof_is_a_bare_cr() -> None:
    out = decode(Lines(ending="crlf"), b"a\r\nb\r")
    assert out[0] == b"a" and out[1][0] is MalformedError and out[1][1] == 4


@pytest.mark.parametrize(
    "data",
    [
        b"a\r\nb\r\n",
        b"a\r\n\r\nb\r\npartial",
        b"a\r\nb\r\nc\r",  # a CR held at the end of the batch
        b"a\r\nb\r\n\r",
        b"a\r\r\nb\r\n",  # CR then CRLF: splitlines sees two endings
        b"a\n\r\nb\r\n",
        b"a\r\nb\nc\r\n",
        b"a\r\nb\r\nc\rd",  # a stray CR after the last CRLF
        b"a\r\nb\r\nc\nd",
        b"a\r\nb\r\n\n",
        b"a\nb\r\nc\rd\n",  # mixed endings
        b"a\nb\r\nc\n\r\nd",  # mixed endings, a partial line after them
        b"a\r\nb\nc\r",  # mixed endings, a CR at the end
        b"a\nbb\r\n\rc\n",  # mixed endings, a lone CR at a line's start
        b"a\nb\rc\r",
        b"a\n\rb",
        b"\r\r\n\n\r",
    ],
)
@pytest.mark.parametrize("ending", ["crlf", "lf", "any"])
def test_batch_paths_agree_with_byte_at_a_time(data: bytes, ending: str) -> None:
    # Whole, the batch paths (for CRLF input and in "any" mode: splitlines and a length
    # check) decode every line before the last ending; a byte at a time, the careful loop
    # does. Same frames, same errors and offsets, and the same ends.
    codec = Lines(ending=ending)
    one_by_one = [data[i : i + 1] for i in range(len(data))]
    assert decode(codec, data) == results(codec.decoder(), one_by_one)
    check_ends(codec, data, [data])


def test_any_accepts_lf_crlf_and_lone_cr() -> None:
    assert decode(Lines(ending="any"), b"a\nb\r\nc\rd\n") == [b"a", b"b", b"c", b"d"]


def test_any_crlf_split_across_feeds_is_one_ending() -> None:
    codec = Lines(ending="any")
    assert results(codec.decoder(), [b"a\r", b"\nb\n"]) == [b"a", b"b"]


def test_any_cr_held_at_end_of_buffer_until_next_byte() -> None:
    decoder = Lines(ending="any").decoder()
    frames: list[bytes] = []
    assert decoder.decode(memoryview(b"a\r"), frames) == 0 and frames == []
    assert decoder.decode(memoryview(b"a\rb"), frames) == 2 and frames == [b"a"]


def test_any_final_cr_at_eof_ends_the_line() -> None:
    assert decode(Lines(ending="any"), b"a\r") == [b"a"]


def test_any_cr_cr_lf_is_two_lines() -> None:
    assert decode(Lines(ending="any"), b"a\r\r\n") == [b"a", b""]


# -- EOF --------------------------------------------------------------------------------


def test_final_unterminated_line_is_delivered_by_default() -> None:
    assert decode(Lines(), b"a\nlast") == [b"a", b"last"]


def test_final_unterminated_line_with_at_eof_error_is_truncated() -> None:
    out = decode(Lines(at_eof="error"), b"a\nlast")
    assert out[0] == b"a" and out[1][0] is TruncatedError and out[1][1] == 2


def test_truncated_line_raises_from_iter_frame_pieces() -> None:
    with pytest.raises(TruncatedError):
        list(iter_frame_pieces(Lines(at_eof="error").decoder(), [b"x"]))


def test_final_cr_stripped_at_eof_with_strip_cr() -> None:
    assert decode(Lines(), b"a\r") == [b"a"]


def test_empty_input_gives_no_frames() -> None:
    assert decode(Lines(), b"") == []


# -- too long ---------------------------------------------------------------------------


def test_default_max_length_is_64_kib() -> None:
    assert Lines().max_length == DEFAULT_MAX_LINE_LENGTH == 65536


def test_line_of_exactly_max_length_is_accepted() -> None:
    assert decode(Lines(max_length=3), b"abc\r\n") == [b"abc"]


def test_too_long_line_in_the_middle_is_reported_once_and_skipped() -> None:
    out = decode(Lines(max_length=3), b"a\n" + b"x" * 10 + b"\nb\nc\n")
    assert out[0] == b"a"
    assert out[1][0] is LineTooLong and out[1][1] == 2
    assert "max_length=3" in out[1][2]
    assert out[2:] == [b"b", b"c"]


def test_too_long_fails_fast_before_the_ending_arrives() -> None:
    decoder = Lines(max_length=3).decoder()
    frames: list[bytes] = []
    assert decoder.decode(memoryview(b"abc"), frames) == 0
    with pytest.raises(LineTooLong) as info:
        decoder.decode(memoryview(b"abcd"), frames)
    assert info.value.limit == 3 and info.value.offset == 0
    assert decoder.decode(memoryview(b"abcd"), frames) == 4  # discarding
    assert decoder.decode(memoryview(b"ef\nok\n"), frames) == 6
    assert frames == [b"ok"]


def test_too_long_after_frames_is_raised_by_the_next_call() -> None:
    decoder = Lines(max_length=3).decoder()
    frames: list[bytes] = []
    data = memoryview(b"a\nxxxxx")
    assert decoder.decode(data, frames) == 2 and frames == [b"a"]
    with pytest.raises(LineTooLong) as info:
        decoder.decode(data[2:], frames)
    assert info.value.offset == 2


def test_skip_mode_counts_skipped_lines_and_raises_nothing() -> None:
    decoder = Lines(max_length=2, on_too_long="skip").decoder()
    out = results(decoder, [b"a\nxxx", b"xx\nb\nyyy\nc"])
    assert out == [b"a", b"b", b"c"]
    assert decoder.skipped_frames == 2


def test_cr_held_back_does_not_count_toward_max_length() -> None:
    assert results(Lines(max_length=2).decoder(), [b"ab\r", b"\n"]) == [b"ab"]


# -- text -------------------------------------------------------------------------------


def test_text_lines_are_str() -> None:
    assert decode(TextLines(), "é\nx\n".encode()) == ["é", "x"]


def test_undecodable_line_is_malformed_at_the_bad_byte_and_skipped() -> None:
    out = decode(TextLines(), b"ok\nab\xffc\nnext\n")
    assert out[0] == "ok"
    assert out[1][0] is MalformedError and out[1][1] == 5
    assert out[2:] == ["next"]


def test_text_lines_reject_ascii_incompatible_encoding() -> None:
    with pytest.raises(ValueError, match="encoding"):
        TextLines(encoding="utf-16")


def test_text_lines_reject_an_error_handler_the_encoding_does_not_support() -> None:
    with pytest.raises(ValueError, match="errors") as info:
        TextLines(encoding="idna", errors="replace")
    assert "'idna'" in str(info.value) and "'replace'" in str(info.value)


def test_text_lines_take_idna_with_strict_errors() -> None:
    assert decode(TextLines(encoding="idna"), b"example.com\n") == ["example.com"]


@pytest.mark.parametrize("pieces", [[b"ok\nxn--abc\nnext\n"], [b"ok\nxn--", b"abc\nnext\n"]])
def test_line_the_encoding_refuses_without_a_position_is_malformed_at_its_start(
    pieces: list[bytes],
) -> None:
    # idna raises a bare UnicodeError (no position) for a bad punycode label.
    out = results(TextLines(encoding="idna").decoder(), pieces)
    assert out[0] == "ok"
    assert out[1][:2] == (MalformedError, 3) and "idna" in out[1][2]
    assert out[2:] == ["next"]


def test_final_line_the_encoding_refuses_is_malformed_at_its_start() -> None:
    out = decode(TextLines(encoding="idna"), b"ok\nxn--abc")
    assert out[0] == "ok"
    assert out[1][:2] == (MalformedError, 3)
    assert len(out) == 2


@settings(max_examples=200, deadline=None)
@given(
    parts=st.lists(st.sampled_from([b"xn--", b"abc", b"-3ya", b".", b"\n", b"\xff"]), max_size=20),
    cuts=st.lists(st.integers(0, 100), max_size=8),
)
def test_idna_lines_give_only_frames_and_framekit_errors_for_any_split(
    parts: list[bytes], cuts: list[int]
) -> None:
    data = b"".join(parts)
    codec = TextLines(encoding="idna")
    whole = results(codec.decoder(), [data])
    assert all(isinstance(item, str) or item[0] is MalformedError for item in whole)
    assert results(codec.decoder(), split(data, cuts)) == whole
    assert results(codec.decoder(), [data[i : i + 1] for i in range(len(data))]) == whole


# -- options ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ({"ending": "cr"}, "ending"),
        ({"max_length": -1}, "max_length"),
        ({"max_length": 1.5}, "max_length"),
        ({"on_too_long": "ignore"}, "on_too_long"),
        ({"at_eof": "drop"}, "at_eof"),
        ({"keep_ending": 1}, "keep_ending"),
    ],
)
def test_invalid_option_fails_at_construction_naming_it(options: dict[str, Any], name: str) -> None:
    with pytest.raises((ValueError, TypeError), match=name):
        Lines(**options)


def test_options_are_keyword_only_and_frozen() -> None:
    with pytest.raises(TypeError):
        Lines("lf")  # type: ignore[misc]
    codec = Lines()
    with pytest.raises(AttributeError):
        codec.max_length = 3  # type: ignore[misc]


# -- encoder ----------------------------------------------------------------------------


def test_encoder_appends_the_ending() -> None:
    assert Lines().encoder().encode(b"a") == b"a\n"
    assert Lines(ending="crlf").encoder().encode(b"a") == b"a\r\n"


@pytest.mark.parametrize("frame", [b"a\nb", b"a\r"])
def test_encoder_rejects_frames_that_would_not_round_trip(frame: bytes) -> None:
    with pytest.raises(ValueError):
        Lines().encoder().encode(frame)


def test_encoder_rejects_frames_over_max_length() -> None:
    with pytest.raises(ValueError, match="max_length"):
        Lines(max_length=1).encoder().encode(b"ab")


# -- properties -------------------------------------------------------------------------

ALL_OPTIONS = st.builds(
    dict,
    ending=st.sampled_from(["lf", "crlf", "any"]),
    strip_cr=st.booleans(),
    keep_ending=st.booleans(),
    max_length=st.integers(0, 6),
    on_too_long=st.sampled_from(["raise", "skip"]),
    at_eof=st.sampled_from(["deliver", "error"]),
)
WIRE = st.lists(st.sampled_from([b"a", b"b", b"\r", b"\n", b"\r\n", b"\xff", b"xyz"]), max_size=30)


@settings(max_examples=300, deadline=None)
@given(options=ALL_OPTIONS, parts=WIRE, cuts=st.lists(st.integers(0, 200), max_size=8))
def test_any_split_gives_the_same_frames_and_errors(
    options: dict[str, Any], parts: list[bytes], cuts: list[int]
) -> None:
    data = b"".join(parts)
    for codec in (Lines(**options), TextLines(**options, errors="strict")):
        whole = results(codec.decoder(), [data])
        assert results(codec.decoder(), split(data, cuts)) == whole
        assert results(codec.decoder(), [data[i : i + 1] for i in range(len(data))]) == whole


@settings(max_examples=200, deadline=None)
@given(
    options=ALL_OPTIONS,
    frames=st.lists(st.binary(max_size=6), max_size=8),
    cuts=st.lists(st.integers(0, 200), max_size=6),
)
def test_decode_of_encode_is_identity(
    options: dict[str, Any], frames: list[bytes], cuts: list[int]
) -> None:
    codec = Lines(**{**options, "max_length": 6})
    encoder = codec.encoder()
    good = []
    for frame in frames:
        if codec.keep_ending:
            frame = frame + (b"\r\n" if codec.ending == "crlf" else b"\n")
        try:
            wire = encoder.encode(frame)
        except ValueError:
            continue
        good.append((frame, wire))
    data = b"".join(wire for _, wire in good)
    assert results(codec.decoder(), split(data, cuts)) == [frame for frame, _ in good]


@settings(max_examples=100, deadline=None)
@given(lines=st.lists(st.text(alphabet="aé\u20ac€x ", max_size=5), max_size=6))
def test_text_round_trip(lines: list[str]) -> None:
    codec = TextLines(ending="crlf")
    wire = b"".join(codec.encoder().encode(line) for line in lines)
    assert results(codec.decoder(), split(wire, [1, 3, 5])) == lines


@settings(max_examples=300, deadline=None)
@given(
    ending=st.sampled_from(["lf", "crlf"]),
    strip_cr=st.booleans(),
    max_length=st.sampled_from([4, 12, 64, DEFAULT_MAX_LINE_LENGTH]),
    # Stray CRs and LFs rarer than lines, so that many inputs take the one-step path; a piece
    # may end in a CR (an LF may follow it).
    parts=st.lists(
        st.sampled_from([b"a", b"bcdefgh", b"\r\n", b"a", b"bcdefgh", b"\r\n", b"\r", b"\n"]),
        max_size=60,
    ),
    tail=st.sampled_from([b"", b"\r", b"a\r"]),
    cuts=st.lists(st.integers(0, 400), max_size=8),
    at_eof=st.booleans(),
)
def test_one_step_path_agrees_with_the_general_path_call_by_call(
    ending: str,
    strip_cr: bool,
    max_length: int,
    parts: list[bytes],
    tail: bytes,
    cuts: list[int],
    at_eof: bool,
) -> None:
    """``decode``'s one-step path (LF or CRLF stripped, bytes) gives what ``_lines`` gives:
    the same consumed count, frames, ends and errors on every call, fed as a reader's buffer
    is (the unconsumed rest, then the rest and the next piece in one bytes object)."""
    codec = Lines(ending=ending, strip_cr=strip_cr, max_length=max_length)  # type: ignore[arg-type]
    fast, general = codec.decoder(), codec.decoder()
    general._plain = 0
    assert fast._plain
    data = b"".join(parts) + tail
    # With ``tail``, a cut just before its CR makes a piece that ends in one.
    pieces = split(data, [*cuts, len(data) - 1] if tail else cuts)
    rests = [b"", b""]

    def call(i: int, decoder: LineDecoder[bytes], piece: bytes, eof: bool) -> Any:
        data = rests[i] + piece
        frames: list[bytes] = []
        ends: list[int] = []
        try:
            if eof:
                consumed = decoder.decode_eof(memoryview(data), frames, ends)
            else:
                consumed = decoder.decode(memoryview(data), frames, ends)
        except FramingError as error:
            rests[i] = data  # nothing consumed: the next call gets these bytes again
            return type(error), error.offset, str(error), frames
        rests[i] = data[consumed:]
        return consumed, frames, ends

    for piece in pieces:
        assert call(0, fast, piece, False) == call(1, general, piece, False)
        # How much of the partial line is known to hold no ending (at or below 0: none).
        searched = [max(0, d._scan_pos - d._offset) for d in (fast, general)]
        assert searched[0] == searched[1]
    if at_eof:
        assert call(0, fast, b"", True) == call(1, general, b"", True)


# -- linear time ------------------------------------------------------------------------


def test_one_megabyte_line_fed_a_byte_at_a_time_is_linear() -> None:
    size = 1 << 20
    for codec in (Lines(max_length=size), Lines(ending="crlf", max_length=size)):
        decoder: LineDecoder[bytes] = codec.decoder()
        buffer = bytearray()
        frames: list[bytes] = []
        started = time.process_time()
        for _ in range(size):
            buffer += b"x"
            consumed = decoder.decode(memoryview(buffer), frames)
            assert consumed == 0
        buffer += b"\r\n"
        assert decoder.decode(memoryview(buffer), frames) == size + 2
        assert frames == [b"x" * size]
        assert time.process_time() - started < 30  # quadratic would take hours


# -- ends -------------------------------------------------------------------------------

ENDS_OPTIONS = st.builds(
    dict,
    ending=st.sampled_from(["lf", "crlf", "any"]),
    strip_cr=st.booleans(),
    keep_ending=st.booleans(),
    max_length=st.sampled_from([0, 2, 6, 1000]),
    on_too_long=st.sampled_from(["raise", "skip"]),
    at_eof=st.sampled_from(["deliver", "error"]),
)


@settings(max_examples=150, deadline=None)
@given(options=ENDS_OPTIONS, parts=WIRE, cuts=st.lists(st.integers(0, 200), max_size=6))
def test_ends_give_the_same_frames_and_mark_each_frame(
    options: dict[str, Any], parts: list[bytes], cuts: list[int]
) -> None:
    data = b"".join(parts)
    for codec in (Lines(**options), TextLines(**options)):
        check_ends(codec, data, [data])
        check_ends(codec, data, split(data, cuts))


ENDINGS = {"lf": [b"\n", b"\r\n"], "crlf": [b"\r\n"], "any": [b"\n", b"\r\n", b"\r"]}


@settings(max_examples=150, deadline=None)
@given(
    options=ENDS_OPTIONS,
    frames=st.lists(st.binary(max_size=6), max_size=10),
    choices=st.lists(st.integers(0, 2), min_size=10, max_size=10),
    cuts=st.lists(st.integers(0, 200), max_size=6),
)
def test_each_frame_span_decodes_alone_to_that_frame(
    options: dict[str, Any], frames: list[bytes], choices: list[int], cuts: list[int]
) -> None:
    # Well-formed lines with mixed endings (the batch paths' hard case): every span is a line.
    codec = Lines(**{**options, "max_length": 1000})
    endings = ENDINGS[codec.ending]
    data = b"".join(
        frame.replace(b"\r", b"").replace(b"\n", b"") + endings[choice % len(endings)]
        for frame, choice in zip(frames, choices, strict=False)
    )
    results = check_ends(codec, data, split(data, cuts))
    assert all(not isinstance(item, tuple) for item in results)


def test_ends_count_a_skipped_over_long_line_in_the_next_frame() -> None:
    decoder = Lines(max_length=3, on_too_long="skip").decoder()
    frames: list[bytes] = []
    ends: list[int] = []
    assert decoder.decode(memoryview(b"a\nxxxxxx\nb\n"), frames, ends) == 11
    assert frames == [b"a", b"b"] and ends == [2, 11]


def test_ends_after_a_raised_over_long_line_start_at_the_skip() -> None:
    decoder = Lines(max_length=3).decoder()
    frames: list[bytes] = []
    ends: list[int] = []
    data = b"a\nxxxxxx\nb\n"
    assert decoder.decode(memoryview(data), frames, ends) == 2 and ends == [2]
    with pytest.raises(LineTooLong):
        decoder.decode(memoryview(data[2:]), frames, ends)
    frames.clear()
    ends.clear()
    assert decoder.decode(memoryview(data[2:]), frames, ends) == 9
    assert frames == [b"b"] and ends == [9]


def test_ends_include_the_final_unterminated_line_at_eof() -> None:
    decoder = Lines().decoder()
    frames: list[bytes] = []
    ends: list[int] = []
    assert decoder.decode_eof(memoryview(b"a\r\nlast"), frames, ends) == 7
    assert frames == [b"a", b"last"] and ends == [3, 7]


def test_ends_with_crlf_split_across_feeds_in_any_mode() -> None:
    decoder = Lines(ending="any").decoder()
    frames: list[bytes] = []
    ends: list[int] = []
    assert decoder.decode(memoryview(b"a\r"), frames, ends) == 0 and ends == []
    assert decoder.decode(memoryview(b"a\r\nb\rc"), frames, ends) == 5
    assert frames == [b"a", b"b"] and ends == [3, 5]


@pytest.mark.parametrize(
    ("options", "data", "expected"),
    [
        ({}, b"a\r\nb\nc\r\nd", [3, 5, 8]),
        ({"ending": "any"}, b"a\r\nb\rc\nd", [3, 5, 7]),
        ({"ending": "any"}, b"a\r\nbb\r\nd\r", [3, 7]),
        ({}, b"a\nbb\r\nc\nd", [2, 6, 8]),
        ({"ending": "crlf"}, b"a\r\nbb\r\nd\r", [3, 7]),
    ],
)
def test_ends_in_one_batch_with_endings_of_two_widths(
    options: dict[str, Any], data: bytes, expected: list[int]
) -> None:
    frames: list[bytes] = []
    ends: list[int] = []
    assert Lines(**options).decoder().decode(memoryview(data), frames, ends) == expected[-1]
    assert ends == expected


@settings(max_examples=200, deadline=None)
@given(
    ending=st.sampled_from(["lf", "crlf", "any"]),
    maximum=st.integers(4, 40),
    lengths=st.lists(st.integers(0, 90), min_size=1, max_size=12),
    crlf=st.booleans(),
)
def test_batch_longer_than_max_length_finds_each_line_too_long(
    ending: str, maximum: int, lengths: list[int], crlf: bool
) -> None:
    # A batch longer than max_length is checked for over-long lines by a few finds (an LF in
    # every max_length / 2 bytes) before measuring each line: same results as byte by byte.
    sep = b"\r\n" if crlf or ending == "crlf" else b"\n"
    data = b"".join(b"x" * n + sep for n in lengths) + b"tail"
    codec = Lines(ending=ending, max_length=maximum, on_too_long="skip")
    one_by_one = [data[i : i + 1] for i in range(len(data))]
    assert decode(codec, data) == results(codec.decoder(), one_by_one)
    raising = Lines(ending=ending, max_length=maximum)
    assert decode(raising, data) == results(raising.decoder(), one_by_one)


def test_lf_every_is_a_gap_bound() -> None:
    from framekit.codecs.lines import _lf_every

    for data in (b"ab\ncd\nef\n", b"abcd\n\n\n", b"\n" * 9, b"abcdefgh\n", b"a\nbcdefg\n"):
        for step in range(1, 10):
            expected = all(b"\n" in data[i : i + step] for i in range(0, len(data), step))
            assert _lf_every(data, len(data), step) is expected


@pytest.mark.parametrize("errors", ["replace", "ignore", "backslashreplace", "xmlcharrefreplace"])
def test_text_lines_encoder_refuses_a_line_its_errors_handler_would_change(errors: str) -> None:
    # The encoder's promise: ValueError for a frame that would not decode back to itself.
    encoder = TextLines(encoding="ascii", errors=errors).encoder()
    with pytest.raises(ValueError, match="decode back"):
        encoder.encode("café")
    assert encoder.encode("cafe") == b"cafe\n"


def test_text_lines_encoder_takes_what_surrogateescape_round_trips() -> None:
    codec = TextLines(encoding="ascii", errors="surrogateescape")
    line = b"caf\xe9".decode("ascii", "surrogateescape")
    assert codec.encoder().encode(line) == b"caf\xe9\n"
    assert decode(codec, codec.encoder().encode(line)) == [line]
