"""framekit's compiled fast paths (framekit/_speedups.c) against the pure-Python code.

The compiled chunked scan takes the plain run of chunks and leaves everything else to the
Python decoder, so a decoder with it must behave exactly as one without it: the same output,
chunk marks, bytes consumed, ``needs_input`` hints, trailers and errors (class, message and
offset), call by call, for any input, split and budget. The same holds for the compiled batch
loop of length-prefixed frames (frames, their ends, bytes consumed, errors). In CI the
extension must be built (a skip fails the run there).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import types
from collections.abc import Sequence
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framekit import speedups
from framekit._buffer import Buffer
from framekit.codecs import chunked, lines
from framekit.codecs.chunked import Chunked, ChunkedDecoder
from framekit.codecs.length import LengthPrefixed
from framekit.codecs.lines import Lines
from framekit.errors import FramingError

needs_extension = pytest.mark.skipif(
    not speedups.ENABLED, reason="framekit._speedups is not built (no C compiler at install?)"
)


def pure_decoder(codec: Chunked) -> ChunkedDecoder:
    decoder = codec.decoder()
    decoder._compiled = None
    return decoder


class Recorder:
    """An output sink recording the bytes and the chunk ends written to it."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.marks: list[int] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.data += data

    def mark_chunk_end(self) -> None:
        self.marks.append(len(self.data))

    def write_marked(self, data: bytes, marks: list[int]) -> None:
        base = len(self.data)
        self.marks += [base + mark for mark in marks]
        self.data += data


def run_calls(
    decoder: ChunkedDecoder, pieces: Sequence[bytes], budgets: Sequence[int], sink: Recorder
) -> list[object]:
    """Feed ``pieces`` one call at a time (unconsumed bytes carried over), then EOF calls:
    the record of every call (consumed, output, marks, needs_input, done, or the error)."""
    record: list[object] = []
    pending = b""
    # Then EOF calls until the end, an error, or a bound (each makes progress or raises).
    calls = [(piece, False) for piece in pieces] + [(b"", True)] * (sum(map(len, pieces)) + 3)
    for i, (piece, eof) in enumerate(calls):
        pending += piece
        budget = budgets[i % len(budgets)]
        before, marks_before = len(sink.data), len(sink.marks)
        try:
            with memoryview(pending) as view:
                if eof:
                    consumed = decoder.decode_eof(view, sink, budget)
                else:
                    consumed = decoder.decode(view, sink, budget)
        except FramingError as error:
            record.append(("error", type(error), str(error), error.offset))
            break
        pending = pending[consumed:]
        record.append(
            (
                consumed,
                bytes(sink.data[before:]),
                [mark - before for mark in sink.marks[marks_before:]],
                decoder.needs_input,
                decoder.done,
            )
        )
        if decoder.done:
            break
    record.append((decoder.trailers, pending))
    return record


# -- differential: compiled against pure Python --------------------------------------------

plain_chunk = st.binary(min_size=1, max_size=40).map(lambda d: b"%x\r\n%s\r\n" % (len(d), d))
odd_piece = st.sampled_from(
    [
        b"0\r\n\r\n",  # last chunk and end
        b"0\r\nX-T: 1\r\n\r\n",  # trailers
        b"3;a=b\r\nabc\r\n",  # an extension
        b"0003\r\nabc\r\n",  # leading zeros
        b"00000000000000003\r\nabc\r\n",  # more than 15 digits
        b"1000000000000000\r\n",  # 16 digits, too large for most
        b"fffffffffffffff\r\n",  # 15 digits: over a small max_chunk_size
        b"3\nabc\r\n",  # bare LF after the size
        b"3\r\nabc\n",  # bare LF after the data
        b"3\r\nabc\r",  # bare CR after the data
        b"3\r\nabcd\r\n",  # data too long
        b" 3 \r\nabc\r\n",  # whitespace around the size (lenient only)
        b"3\r\r\nabc\r\n",  # bare CR in the size line
        b"000000000000001\r\na\r\n",  # 15 digits for 1 byte: overhead grows by 1
        b"1;" + b"e" * 30 + b"\r\na\r\n",  # overhead grows by 18 (Python's line)
        b"\r\n",
        b"\n",
        b"\r",
        b"x",
        b"",
    ]
)
wires = st.lists(st.one_of(plain_chunk, plain_chunk, odd_piece), max_size=12).map(
    lambda parts: b"".join(parts) + b"NEXT"
)
codecs = st.sampled_from(
    [
        Chunked(),
        Chunked(lenient=True),
        Chunked(max_line_length=3),
        Chunked(max_chunk_size=16),
        Chunked(max_overhead=20),
        Chunked(lenient=True, max_line_length=4, max_overhead=0),
        Chunked(max_overhead=1),
        Chunked(max_overhead=19),
    ]
)


@needs_extension
@settings(max_examples=1500, deadline=None)
@given(wire=wires, codec=codecs, data=st.data())
def test_compiled_decoder_matches_pure_python_call_by_call(
    wire: bytes, codec: Chunked, data: st.DataObject
) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=8)))
    pieces = [wire[a:b] for a, b in zip([0, *cuts], [*cuts, len(wire)], strict=True)]
    budgets = data.draw(st.lists(st.integers(1, 80), min_size=1, max_size=4))
    compiled = codec.decoder()
    assert compiled._compiled is not None
    expected = run_calls(pure_decoder(codec), pieces, budgets, Recorder())
    assert run_calls(compiled, pieces, budgets, Recorder()) == expected


@needs_extension
@pytest.mark.parametrize("piece_size", [1, 2, 3, 7, 100, 1 << 16])
def test_compiled_decoder_matches_pure_python_on_a_long_body(piece_size: int) -> None:
    body = b"".join(b"%x\r\n%s\r\n" % (n, bytes([n % 251]) * n) for n in range(1, 300, 7))
    wire = body + b"0\r\nA: b\r\n\r\nNEXT"
    pieces = [wire[i : i + piece_size] for i in range(0, len(wire), piece_size)]
    for budgets in ([1 << 16], [5, 1000, 3]):
        expected = run_calls(pure_decoder(Chunked()), pieces, budgets, Recorder())
        assert expected[-1][0] == [(b"A", b"b")]
        assert run_calls(Chunked().decoder(), pieces, budgets, Recorder()) == expected


# -- the scan itself ------------------------------------------------------------------------


@needs_extension
def test_scan_takes_plain_chunks_and_copies_their_data_once() -> None:
    scan = speedups.scan_chunked
    assert scan is not None
    wire = memoryview(b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
    # Stops before the last chunk, which the Python decoder takes (trailers follow it).
    assert scan(wire, 0, 0, 0, 100, 16384, 2**63 - 1, 4098) == (
        15,
        0,
        0,
        # Go's overhead rule: (3 + 2 - 16 - 6) and (3 + 2 - 16 - 4), floored at 0.
        0,
        b"abcde",
        [3, 5],
        False,
    )


@needs_extension
@pytest.mark.parametrize(
    ("wire", "more"),
    [
        (b"", True),
        (b"1f", True),  # a plain size line cut short
        (b"1f\r", True),
        (b"1f;", False),  # an extension: Python's
        (b"1f\n", False),  # a bare LF: Python's (lenient mode takes it)
        (b" 1f", False),
        (b"0000000000000001", False),  # 16 digits: Python's
    ],
)
def test_scan_says_whether_only_more_input_can_decide(wire: bytes, more: bool) -> None:
    scan = speedups.scan_chunked
    assert scan is not None
    consumed, state, _, _, output, marks, got = scan(
        memoryview(wire), 0, 0, 0, 100, 16384, 2**63 - 1, 4098
    )
    assert (consumed, state, output, marks, got) == (0, 0, b"", [], more)


@needs_extension
@pytest.mark.parametrize(
    ("wire", "state", "window", "more"),
    [
        (b"1234", 0, 5, True),  # the line may still end in time
        (b"12345", 0, 5, False),  # a window's worth without its end: Python's limit error
        (b"123\r", 0, 5, True),
        (b"1234\r", 0, 5, False),
        (b"\r", 2, 4098, True),  # the CRLF after the data, cut short
        (b"\n", 2, 4098, False),  # a bare LF: Python's (lenient mode takes it)
        (b"x", 2, 4098, False),  # data too long: Python's error
    ],
)
def test_scan_says_more_only_where_python_would_wait(
    wire: bytes, state: int, window: int, more: bool
) -> None:
    scan = speedups.scan_chunked
    assert scan is not None
    result = scan(memoryview(wire), state, 0, 0, 100, 16384, 2**63 - 1, window)
    assert result == (0, state, 0, 0, b"", [], more)


@needs_extension
def test_scan_keeps_go_s_overhead_count() -> None:
    scan = speedups.scan_chunked
    assert scan is not None
    line = memoryview(b"000000000000001\r\na\r\n")  # adds 15 + 2 + 2 - 16 - 2 = 1
    assert scan(line, 0, 0, 18, 100, 19, 2**63 - 1, 4098) == (20, 0, 0, 19, b"a", [1], True)
    # One more would pass max_overhead: the Python decoder takes the line (and raises).
    assert scan(line, 0, 0, 19, 100, 19, 2**63 - 1, 4098) == (0, 0, 0, 19, b"", [], False)


@needs_extension
def test_scan_in_data_stops_at_the_budget_without_asking_for_input() -> None:
    scan = speedups.scan_chunked
    assert scan is not None
    wire = memoryview(b"abcdef")
    assert scan(wire, 1, 6, 0, 4, 16384, 2**63 - 1, 4098) == (4, 1, 2, 0, b"abcd", [], False)
    assert scan(wire[:3], 1, 6, 0, 4, 16384, 2**63 - 1, 4098) == (3, 1, 3, 0, b"abc", [], True)
    # The data's CRLF cut short: only more input decides.
    assert scan(memoryview(b"ab\r"), 1, 2, 0, 4, 16384, 2**63 - 1, 4098)[-1] is True


@needs_extension
@pytest.mark.parametrize(
    "args",
    [
        (0, 2**64, 0, 10, 10, 10, 10),  # remaining too large for the compiled code
        (0, 0, 0, 2**70, 10, 10, 10),
        (0, -1, 0, 10, 10, 10, 10),
        (7, 0, 0, 10, 10, 10, 10),  # not a state it knows
        (0, 0, 0, 10, 10, 10, 2),  # a window no line fits in
        (0, 0, 2**63 - 1, 10, 10, 10, 10),  # an overhead count the sum could overflow
        (0, 0, 0, 10, 10, -1, 10),  # a negative max_chunk_size
    ],
)
def test_scan_declines_arguments_out_of_its_range(args: tuple[int, ...]) -> None:
    scan = speedups.scan_chunked
    assert scan is not None
    assert scan(memoryview(b"3\r\nabc\r\n"), *args) is None


@needs_extension
def test_a_huge_remaining_chunk_goes_the_python_way() -> None:
    codec = Chunked(max_chunk_size=2**80)
    size = 2**70
    out = Buffer()
    decoder = codec.decoder()
    wire = b"%x\r\nabc" % size
    consumed = decoder.decode(memoryview(wire), out, 100)
    assert (consumed, out.take_all(), decoder._remaining) == (len(wire), b"abc", size - 3)
    assert decoder.decode(memoryview(b"defg"), out, 100) == 4
    assert out.take_all() == b"defg"


def test_keep_extensions_uses_the_python_decoder() -> None:
    assert Chunked(keep_extensions=True).decoder()._compiled is None
    assert Chunked().decoder()._compiled is speedups.scan_chunked


def test_framekit_no_extensions_turns_the_compiled_code_off() -> None:
    code = "from framekit import speedups; print(speedups.ENABLED, speedups.scan_chunked)"
    env = {**os.environ, "FRAMEKIT_NO_EXTENSIONS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["False", "None"]


@needs_extension
def test_the_extension_is_in_use() -> None:
    # In CI, this is what says the C code was built and is tested: a skip fails the run.
    assert speedups.ENABLED
    assert chunked._scan_chunked is speedups.scan_chunked


@needs_extension
def test_the_extension_says_which_source_it_was_built_from() -> None:
    from framekit import _speedups

    source = Path(speedups.__file__).with_name("_speedups.c").read_bytes()
    assert hashlib.sha256(source).hexdigest() == _speedups.SOURCE_SHA256


def test_a_build_of_other_source_is_not_used(tmp_path: Path) -> None:
    # An in-place build left behind by a checkout of other C code (the module of an older
    # framekit/_speedups.c) may take other arguments: it is refused, with a warning.
    source = tmp_path / "_speedups.c"
    source.write_bytes(b"int x;\n")
    stale = types.SimpleNamespace(SOURCE_SHA256=hashlib.sha256(b"int y;\n").hexdigest())
    with pytest.warns(RuntimeWarning, match=r"built from another version .*pip install"):
        assert not speedups._built_from(stale, source)


def test_a_build_that_does_not_say_its_source_is_not_used(tmp_path: Path) -> None:
    source = tmp_path / "_speedups.c"
    source.write_bytes(b"int x;\n")
    with pytest.warns(RuntimeWarning, match="built from another version"):
        assert not speedups._built_from(types.SimpleNamespace(), source)


def test_a_build_of_this_source_is_used(tmp_path: Path) -> None:
    source = tmp_path / "_speedups.c"
    source.write_bytes(b"int x;\n")
    built = types.SimpleNamespace(SOURCE_SHA256=hashlib.sha256(b"int x;\n").hexdigest())
    assert speedups._built_from(built, source)


def test_a_build_without_its_source_beside_it_is_used(tmp_path: Path) -> None:
    # An install that ships no C source (nothing to compare): the build is trusted.
    assert speedups._built_from(types.SimpleNamespace(), tmp_path / "_speedups.c")


# -- length-prefixed frames -------------------------------------------------------------------


def run_frame_calls(decoder: object, pieces: Sequence[bytes], with_ends: bool) -> list[object]:
    """Feed ``pieces`` one decode call each (unconsumed bytes carried over), then one
    ``decode_eof``: the record of every call (consumed, frames, ends, or the error)."""
    record: list[object] = []
    pending = b""
    calls = [(piece, False) for piece in pieces] + [(b"", True)]
    for piece, eof in calls:
        pending += piece
        frames: list[bytes] = []
        ends: list[int] | None = [] if with_ends else None
        try:
            with memoryview(pending) as view:
                method = decoder.decode_eof if eof else decoder.decode  # type: ignore[attr-defined]
                consumed = method(view, frames, ends)
        except FramingError as error:
            record.append(("error", type(error), str(error), error.offset, frames, ends))
            continue  # a too-long frame is reported once; the stream goes on
        pending = pending[consumed:]
        record.append((consumed, frames, ends))
    return record


@st.composite
def length_cases(draw: st.DrawFn) -> tuple[LengthPrefixed, bytes]:
    width = draw(st.integers(1, 8))
    includes = draw(st.booleans())
    options = {
        "length_field_length": width,
        "length_field_offset": draw(st.integers(0, 3)),
        "byte_order": draw(st.sampled_from(["big", "little"])),
        "length_adjustment": draw(st.integers(-3, 3)),
        "length_includes_header": includes,
        "max_frame_length": draw(st.integers(8, 80)),
        "on_too_long": draw(st.sampled_from(["raise", "skip"])),
    }
    codec = LengthPrefixed(**options)  # type: ignore[arg-type]
    header = options["length_field_offset"] + width
    parts = []
    for _ in range(draw(st.integers(0, 8))):
        body_length = draw(st.integers(0, 90))
        value = body_length - options["length_adjustment"] + (header if includes else 0)
        value = draw(st.one_of(st.just(value), st.integers(0, 2 ** (8 * width) - 1)))
        value %= 2 ** (8 * width)
        field = value.to_bytes(width, options["byte_order"])  # type: ignore[arg-type]
        parts.append(b"h" * options["length_field_offset"] + field + b"b" * body_length)
    return codec, b"".join(parts)


@needs_extension
@settings(max_examples=1500, deadline=None)
@given(case=length_cases(), with_ends=st.booleans(), data=st.data())
def test_compiled_length_prefixed_matches_pure_python_call_by_call(
    case: tuple[LengthPrefixed, bytes], with_ends: bool, data: st.DataObject
) -> None:
    codec, wire = case
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=6)))
    pieces = [wire[a:b] for a, b in zip([0, *cuts], [*cuts, len(wire)], strict=True)]
    compiled = codec.decoder()
    assert compiled._split is not None
    pure = codec.decoder()
    pure._split = None
    expected = run_frame_calls(pure, pieces, with_ends)
    assert run_frame_calls(compiled, pieces, with_ends) == expected


@needs_extension
def test_split_fixed_takes_whole_frames_and_stops_before_the_rest() -> None:
    split_fixed = speedups.split_fixed
    assert split_fixed is not None
    wire = b"\x00\x02ab\x00\x00\x00\x03cd"  # two frames, then a frame cut short
    frames: list[bytes] = []
    ends: list[int] = []
    # 2-byte big-endian field at offset 0; span 2 (header, no adjustment); values 0..100.
    assert split_fixed(memoryview(wire), 0, 0, 2, True, 2, 0, 100, frames, ends) == 6
    assert (frames, ends) == ([b"ab", b""], [4, 6])
    # A value over ``high`` stops before its frame.
    assert split_fixed(memoryview(wire), 0, 0, 2, True, 2, 0, 1, [], None) == 0
    # Little-endian, 8 bytes: a value over 2**62 stops too.
    huge = (2**63).to_bytes(8, "little") + b"x"
    assert split_fixed(memoryview(huge), 0, 0, 8, False, 8, 0, 2**62, [], None) == 0


@needs_extension
@pytest.mark.parametrize("width", range(1, 9))
@pytest.mark.parametrize("byte_order", ["big", "little"])
def test_split_fixed_reads_every_width_in_both_byte_orders(width: int, byte_order: str) -> None:
    # It must take these frames itself (a misread length would stop it at once and leave
    # them to the Python loop, which the differential test above cannot tell apart).
    split_fixed = speedups.split_fixed
    assert split_fixed is not None
    bodies = [b"x" * 200, b"", b"yz"]
    wire = b"".join(
        b"HD" + len(body).to_bytes(width, byte_order) + body  # type: ignore[arg-type]
        for body in bodies
        if width > 1 or len(body) < 256
    )
    expected = [body for body in bodies if width > 1 or len(body) < 256]
    frames: list[bytes] = []
    header = 2 + width
    args = (2, width, byte_order == "big", header, 0, 1000)
    assert split_fixed(memoryview(wire), 0, *args, frames, None) == len(wire)
    assert frames == expected


@needs_extension
@pytest.mark.parametrize(
    "args",
    [
        (0, 0, 9, True, 0, 0, 10),  # width over 8
        (0, 0, 0, True, 0, 0, 10),
        (-1, 0, 2, True, 0, 0, 10),
        (0, 0, 2, True, 2**63, 0, 10),  # span too large
        (0, 0, 2, True, 0, -(2**63), 10),
    ],
)
def test_split_fixed_refuses_arguments_out_of_range(args: tuple[int, ...]) -> None:
    split_fixed = speedups.split_fixed
    assert split_fixed is not None
    with pytest.raises((ValueError, OverflowError)):
        split_fixed(memoryview(b"\x00\x01a"), *args, [], None)


@needs_extension
def test_split_fixed_stops_where_a_length_sum_would_overflow() -> None:
    # Found in review: pos + span + value overflowed a C long long for a huge adjustment.
    codec = LengthPrefixed(
        length_field_length=8, length_adjustment=2**62 - 8, max_frame_length=2**64
    )
    wire = memoryview((2**62).to_bytes(8, "big") + b"abc")
    pure = codec.decoder()
    pure._split = None
    assert codec.decoder().decode(wire, []) == pure.decode(wire, []) == 0


@needs_extension
def test_split_fixed_stops_before_a_body_that_would_end_before_it_starts() -> None:
    split_fixed = speedups.split_fixed
    assert split_fixed is not None
    # span (-5) and low (0) that do not match: a negative body length is not taken.
    frames: list[bytes] = []
    assert split_fixed(memoryview(b"\x00\x05abcdefg"), 0, 0, 2, True, -5, 0, 100, frames, None) == 0
    assert frames == []


def test_length_prefixed_takes_the_compiled_loop_where_it_can() -> None:
    expected = speedups.split_fixed
    assert LengthPrefixed().decoder()._split is expected
    assert LengthPrefixed(length_field_length=3).decoder()._split is expected
    assert LengthPrefixed(length_field_length="varint").decoder()._split is None
    assert LengthPrefixed(initial_bytes_to_strip=0).decoder()._split is None
    assert LengthPrefixed(length_field_offset=2**63).decoder()._split is None


# -- strict CRLF lines ---------------------------------------------------------------------------

CRLF_ATOMS = [b"a", b"xyz", b"\r", b"\n", b"\r\n", b"\r\n", b"\r\r\n", b"\n\r"]


@needs_extension
@settings(max_examples=3000, deadline=None)
@given(buf=st.lists(st.sampled_from(CRLF_ATOMS), max_size=20).map(b"".join))
def test_split_crlf_lines_gives_what_the_python_split_gives(buf: bytes) -> None:
    assert speedups.split_crlf_lines is not None
    assert speedups.split_crlf_lines(buf) == lines._crlf_lines(buf)


@needs_extension
def test_split_crlf_lines_splits_at_each_crlf_and_leaves_the_rest() -> None:
    split = speedups.split_crlf_lines
    assert split is not None
    assert split(b"ab\r\n\r\ncd\r") == ([b"ab", b""], 6)
    assert split(b"ab\r\ncd\r\n") == ([b"ab", b"cd"], 8)
    assert split(b"ab") is None  # no CRLF
    assert split(b"a\rb\r\n") is None  # a lone CR in a line
    assert split(b"ab\r\nc\n") is None  # a lone LF after the last CRLF
    assert split(b"ab\r\nc\rd") is None  # a lone CR after it, not at the end


@needs_extension
def test_split_crlf_lines_declines_what_is_not_bytes() -> None:
    split = speedups.split_crlf_lines
    assert split is not None
    assert split(bytearray(b"a\r\n")) is None  # type: ignore[arg-type]
    assert split(memoryview(b"a\r\n")) is None  # type: ignore[arg-type]


@needs_extension
@settings(max_examples=1500, deadline=None)
@given(
    codec=st.sampled_from(
        [
            Lines(ending="crlf", max_length=12),
            Lines(ending="crlf", max_length=12, on_too_long="skip"),
            Lines(ending="crlf", keep_ending=True, max_length=12),
            Lines(max_length=12),  # "lf" with strip_cr: CRLF input takes the same split
        ]
    ),
    wire=st.lists(st.sampled_from(CRLF_ATOMS), max_size=24).map(b"".join),
    with_ends=st.booleans(),
    data=st.data(),
)
def test_compiled_crlf_lines_match_pure_python_call_by_call(
    codec: Lines, wire: bytes, with_ends: bool, data: st.DataObject
) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=6)))
    pieces = [wire[a:b] for a, b in zip([0, *cuts], [*cuts, len(wire)], strict=True)]
    assert lines._split_crlf is speedups.split_crlf_lines
    compiled = run_frame_calls(codec.decoder(), pieces, with_ends)
    with mock.patch.object(lines, "_split_crlf", lines._crlf_lines):
        assert run_frame_calls(codec.decoder(), pieces, with_ends) == compiled
