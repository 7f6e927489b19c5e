"""RESP2/RESP3: every type, strictness, limits, event mode, encoders, splits, round trips."""

from __future__ import annotations

import asyncio
import math
import time
import tracemalloc
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framekit import StreamReader, speedups
from framekit.codecs._base import decode_frame_pieces
from framekit.codecs.resp import (
    AggregateEnd,
    AggregateStart,
    AggregateTooLong,
    Attributed,
    BulkTooLong,
    MapPairs,
    NestingTooDeep,
    Push,
    ReplyError,
    ReplyTooLarge,
    ReplyTracker,
    Resp,
    RespEncoder,
    StringChunk,
    StringEnd,
    StringStart,
    Verbatim,
    encode_command,
    encode_commands,
    encode_streamed_aggregate,
    encode_streamed_string,
)
from framekit.errors import (
    EndOfStream,
    FramingError,
    LimitExceededError,
    LineTooLong,
    MalformedError,
    TruncatedError,
)
from framekit.testing import check_frame_codec, splits_of


def decode(wire: bytes, codec: Resp | None = None, piece: int | None = None) -> list[Any]:
    """Replies and errors (an error ends the list: a RESP decoder cannot go on)."""
    codec = codec or Resp()
    pieces = [wire] if piece is None else [wire[i : i + piece] for i in range(0, len(wire), piece)]
    return decode_frame_pieces(codec.decoder(), pieces)


def key(item: Any) -> Any:
    """A comparable form: errors by class and offset, NaN as a string, types kept."""
    if isinstance(item, FramingError):
        return (type(item).__name__, item.offset)
    if isinstance(item, float) and math.isnan(item):
        return "nan"
    if isinstance(item, (list, tuple)):
        return (type(item).__name__, tuple(key(i) for i in item))
    if isinstance(item, dict):
        return ("dict", tuple((key(k), key(v)) for k, v in item.items()))
    if isinstance(item, (set, frozenset)):
        return (type(item).__name__, frozenset(key(i) for i in item))
    if isinstance(item, Attributed):
        return ("attr", key(item.value), key(item.attributes))
    return (type(item).__name__, item)


# -- every type ---------------------------------------------------------------------------

TYPES = [
    (b"+OK\r\n", "OK"),
    (b"+hello world\r\n", "hello world"),
    (b"-ERR unknown command\r\n", ReplyError("ERR unknown command")),
    (b":0\r\n", 0),
    (b":-9223372036854775808\r\n", -(2**63)),
    (b":9223372036854775807\r\n", 2**63 - 1),
    (b"$5\r\nhello\r\n", b"hello"),
    (b"$0\r\n\r\n", b""),
    (b"$12\r\nwith\r\nCRLF\r\n\r\n", b"with\r\nCRLF\r\n"),
    (b"$-1\r\n", None),
    (b"*-1\r\n", None),
    (b"*0\r\n", []),
    (b"*2\r\n$1\r\na\r\n:1\r\n", [b"a", 1]),
    (b"_\r\n", None),
    (b"#t\r\n", True),
    (b"#f\r\n", False),
    (b",1.23\r\n", 1.23),
    (b",10\r\n", 10.0),
    (b",-1.5e-3\r\n", -1.5e-3),
    (b",1E+10\r\n", 1e10),
    (b",inf\r\n", math.inf),
    (b",-inf\r\n", -math.inf),
    (
        b"(3492890328409238509324850943850943825024385\r\n",
        3492890328409238509324850943850943825024385,
    ),
    (b"(-12\r\n", -12),
    (b"!21\r\nSYNTAX invalid syntax\r\n", ReplyError("SYNTAX invalid syntax", blob=True)),
    (b"=15\r\ntxt:Some string\r\n", Verbatim("txt", b"Some string")),
    (b"=4\r\nmkd:\r\n", Verbatim("mkd", b"")),
    (b"%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n", {"first": 1, "second": 2}),
    (b"~3\r\n+orange\r\n#t\r\n:100\r\n", {"orange", True, 100}),
    (b">3\r\n+message\r\n+chan\r\n$2\r\nhi\r\n", Push(["message", "chan", b"hi"])),
    (b"$?\r\n;4\r\nHell\r\n;5\r\no wor\r\n;2\r\nld\r\n;0\r\n", b"Hello world"),
    (b"*?\r\n:1\r\n:2\r\n.\r\n", [1, 2]),
    (b"%?\r\n+a\r\n:1\r\n+b\r\n:2\r\n.\r\n", {"a": 1, "b": 2}),
    (b"~?\r\n+a\r\n+b\r\n.\r\n", {"a", "b"}),
    (b"*?\r\n.\r\n", []),
]


@pytest.mark.parametrize(("wire", "value"), TYPES, ids=[repr(w[:12]) for w, _ in TYPES])
def test_every_type_decodes_to_its_value_for_any_piece_size(wire: bytes, value: Any) -> None:
    for piece in (None, 1, 2, 3, 7):
        got = decode(wire, piece=piece)
        assert [key(g) for g in got] == [key(value)], piece


def test_a_double_nan_is_a_float_nan() -> None:
    (value,) = decode(b",nan\r\n")
    assert isinstance(value, float) and math.isnan(value)


def test_reply_error_code_and_message() -> None:
    (error,) = decode(b"-WRONGTYPE Operation against a key\r\n")
    assert isinstance(error, ReplyError) and not error.blob
    assert error.code == "WRONGTYPE" and error.message == "WRONGTYPE Operation against a key"


def test_simple_strings_keep_undecodable_bytes_as_surrogates() -> None:
    (value,) = decode(b"+caf\xe9\r\n")
    assert value == "caf\udce9"
    assert RespEncoder().encode(value) == b"+caf\xe9\r\n"


def test_verbatim_keeps_its_format_and_text() -> None:
    (value,) = decode(b"=9\r\nmkd:# Hi!\r\n")
    assert value == Verbatim("mkd", b"# Hi!") and value.text == "# Hi!" and bytes(value) == b"# Hi!"


def test_a_null_reply_is_none_and_not_the_end_of_the_stream() -> None:
    async def run() -> list[Any]:
        reader = StreamReader()
        reader.feed_data(b"_\r\n$-1\r\n*-1\r\n")
        reader.feed_eof()
        frames = reader.frames(Resp())
        got = [await frames.read() for _ in range(3)]
        with pytest.raises(EndOfStream):
            await frames.read()
        return got

    assert asyncio.run(run()) == [None, None, None]


def test_pipelined_replies_come_one_per_frame_in_order() -> None:
    wire = b"+OK\r\n:1\r\n$3\r\nabc\r\n*1\r\n+x\r\n-ERR e\r\n"
    assert decode(wire) == ["OK", 1, b"abc", ["x"], ReplyError("ERR e")]


# -- maps and sets ------------------------------------------------------------------------


def test_duplicate_map_keys_last_wins_by_default_and_all_are_kept_as_pairs() -> None:
    wire = b"%3\r\n+a\r\n:1\r\n+b\r\n:2\r\n+a\r\n:3\r\n"
    assert decode(wire) == [{"a": 3, "b": 2}]
    (pairs,) = decode(wire, Resp(map_type="pairs"))
    assert type(pairs) is MapPairs and pairs == [("a", 1), ("b", 2), ("a", 3)]


def test_map_keys_and_set_elements_that_are_not_hashable_are_frozen() -> None:
    wire = b"%2\r\n*2\r\n:1\r\n:2\r\n+arr\r\n%1\r\n+k\r\n+v\r\n+map\r\n"
    assert decode(wire) == [{(1, 2): "arr", frozenset({("k", "v")}): "map"}]
    assert decode(b"~2\r\n*1\r\n:1\r\n~1\r\n:2\r\n") == [{(1,), frozenset({2})}]


def test_a_map_inside_a_set_decodes() -> None:  # hiredis-py segfaulted on it (redis-py #3274)
    assert decode(b"~1\r\n%1\r\n+a\r\n:1\r\n") == [{frozenset({("a", 1)})}]


# -- attributes and pushes ----------------------------------------------------------------


def test_attributes_attach_to_the_reply_after_them_and_are_never_a_reply_of_their_own() -> None:
    wire = (
        b"|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n"
        b"*2\r\n:2039123\r\n:9543892\r\n+NEXT\r\n"
    )
    assert decode(wire) == [
        Attributed([2039123, 9543892], {"key-popularity": {b"a": 0.1923, b"b": 0.0012}}),
        "NEXT",
    ]


def test_attributes_inside_an_aggregate_attach_to_the_next_element() -> None:
    wire = b"*3\r\n:1\r\n:2\r\n|1\r\n+ttl\r\n:3600\r\n:3\r\n"
    assert decode(wire) == [[1, 2, Attributed(3, {"ttl": 3600})]]


def test_attributes_in_a_row_nest_the_first_outermost() -> None:
    assert decode(b"|1\r\n+a\r\n:1\r\n|1\r\n+b\r\n:2\r\n+x\r\n") == [
        Attributed(Attributed("x", {"b": 2}), {"a": 1})
    ]


def test_a_push_is_its_own_type_with_a_kind() -> None:
    (push,) = decode(b">3\r\n$7\r\nmessage\r\n$4\r\nchan\r\n$2\r\nhi\r\n")
    assert (
        type(push) is Push and push.kind == "message" and list(push) == [b"message", b"chan", b"hi"]
    )


def test_a_push_inside_an_aggregate_is_malformed() -> None:
    (error,) = decode(b"*1\r\n>1\r\n+x\r\n")
    assert isinstance(error, MalformedError) and error.offset == 4 and "push" in error.message


# -- strictness ---------------------------------------------------------------------------

MALFORMED = [
    (b":+5\r\n", 0, "integer"),
    (b": 5\r\n", 0, "integer"),
    (b":1_000\r\n", 0, "integer"),
    (b":05\r\n", 0, "integer"),
    (b":-0\r\n", 0, "integer"),
    (b":9223372036854775808\r\n", 0, "64 bits"),
    (b"$+3\r\nabc\r\n", 0, "length"),
    (b"$03\r\nabc\r\n", 0, "length"),
    (b"$3\r\nabcXY\r\n", 7, "CRLF"),
    (b"$3\r\nabc\n\r\n", 7, "CRLF"),
    (b"*1 \r\n:1\r\n", 0, "count"),
    (b"+OK\n+X\r\n", 3, "bare CR or LF"),
    (b"+a\rb\r\n", 2, "bare CR or LF"),
    (b"-ERR\nx\r\n", 4, "bare CR or LF"),
    (b"#x\r\n", 1, "'t' or 'f'"),
    (b"#\r\n", 1, "'t' or 'f'"),
    (b"_x\r\n", 1, "null"),
    (b",.5\r\n", 0, "double"),
    (b",1.\r\n", 0, "double"),
    (b",+1\r\n", 0, "double"),
    (b",-nan\r\n", 0, "double"),
    (b",NaN\r\n", 0, "double"),
    (b",infinity\r\n", 0, "double"),
    (b"(1.5\r\n", 0, "big number"),
    (b"=3\r\ntxt\r\n", 4, "verbatim"),
    (b"=5\r\ntxt-x\r\n", 4, "verbatim"),
    (b".\r\n", 0, "end"),
    (b"*1\r\n.\r\n", 4, "end"),
    (b"%?\r\n+a\r\n.\r\n", 8, "after a key"),
    (b"$?\r\n+a\r\n", 4, "parts"),
    (b";3\r\nabc\r\n", 0, "part"),
    (b"|?\r\n", 0, "streamed"),
    (b">?\r\n", 0, "streamed"),
    (b"!-1\r\n", 0, "length"),
    (b"?\r\n", 0, "type byte"),
    (b"\r\n", 0, "empty line"),
    (b"+OK\r\n\x00\r\n", 5, "type byte"),
]


@pytest.mark.parametrize(
    ("wire", "offset", "rule"), MALFORMED, ids=[repr(w) for w, _, _ in MALFORMED]
)
def test_malformed_input_is_an_error_naming_the_rule_and_the_offset_for_any_split(
    wire: bytes, offset: int, rule: str
) -> None:
    for piece in (None, 1, 3):
        got = decode(wire, piece=piece)
        error = got[-1]
        assert isinstance(error, MalformedError), (piece, got)
        assert error.offset == offset and rule in error.message, (piece, error)


def test_legacy_nan_accepts_the_nan_spellings_of_older_servers() -> None:
    codec = Resp(legacy_nan=True)
    for spelling in (b"-nan", b"NAN", b"nan(123)", b"NaN"):
        (value,) = decode(b"," + spelling + b"\r\n", codec)
        assert math.isnan(value), spelling
    assert isinstance(decode(b",nanx\r\n", codec)[0], MalformedError)


def test_after_an_error_the_decoder_raises_it_again_and_the_replies_before_it_come_first() -> None:
    decoder = Resp().decoder()
    frames: list[Any] = []
    data = memoryview(b"+a\r\n+b\r\n:x\r\n+c\r\n")
    assert decoder.decode(data, frames) == 8 and frames == ["a", "b"]
    with pytest.raises(MalformedError) as first:
        decoder.decode(data[8:], frames)
    assert first.value.offset == 8
    with pytest.raises(MalformedError) as again:
        decoder.decode(data[8:], frames)
    assert again.value is first.value


# -- limits -------------------------------------------------------------------------------


def test_max_bulk_length_at_its_boundary_and_one_over() -> None:
    codec = Resp(max_bulk_length=10)
    assert decode(b"$10\r\n0123456789\r\n", codec) == [b"0123456789"]
    (error,) = decode(b"$11\r\n01234567890\r\n", codec)
    assert isinstance(error, BulkTooLong) and error.limit == 10 and error.offset == 0
    assert "max_bulk_length" in error.message


def test_max_bulk_length_bounds_a_streamed_string_in_all() -> None:
    codec = Resp(max_bulk_length=6)
    assert decode(b"$?\r\n;3\r\nabc\r\n;3\r\ndef\r\n;0\r\n", codec) == [b"abcdef"]
    got = decode(b"$?\r\n;3\r\nabc\r\n;4\r\ndefg\r\n;0\r\n", codec)
    assert isinstance(got[-1], LimitExceededError) and got[-1].offset == 13


def test_max_line_length_at_its_boundary_and_one_over_for_any_split() -> None:
    codec = Resp(max_line_length=10)
    ok = b"+" + b"x" * 9 + b"\r\n"
    assert decode(ok, codec) == ["x" * 9]
    over = b"+" + b"x" * 10 + b"\r\n"
    for piece in (None, 1, 4):
        (error,) = decode(over, codec, piece)
        assert isinstance(error, LineTooLong) and error.limit == 10 and error.offset == 0, piece


def test_a_line_that_never_ends_is_refused_once_past_max_line_length() -> None:
    decoder = Resp(max_line_length=100).decoder()
    frames: list[Any] = []
    assert decoder.decode(memoryview(b"+" + b"x" * 100), frames) == 0
    with pytest.raises(LineTooLong):
        decoder.decode(memoryview(b"+" + b"x" * 102), frames)


def test_max_aggregate_length_at_its_boundary_and_one_over() -> None:
    codec = Resp(max_aggregate_length=2)
    assert decode(b"*2\r\n:1\r\n:2\r\n", codec) == [[1, 2]]
    assert decode(b"%2\r\n:1\r\n:2\r\n:3\r\n:4\r\n", codec) == [{1: 2, 3: 4}]
    for wire in (b"*3\r\n", b"~3\r\n", b"%3\r\n", b">3\r\n", b"|3\r\n"):
        (error,) = decode(wire, codec)
        assert isinstance(error, AggregateTooLong) and error.limit == 2, wire


def test_a_huge_declared_count_allocates_nothing_up_front() -> None:
    """hiredis-py allocates from the declared count: 26 GB from 12 bytes (its issue #247)."""
    decoder = Resp().decoder()
    frames: list[Any] = []
    tracemalloc.start()
    try:
        assert decoder.decode(memoryview(b"*4294967295\r\n:1\r\n:2\r\n"), frames) == 0
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20 and decoder.needs_input


def test_max_depth_at_its_boundary_and_one_over_without_recursion() -> None:
    codec = Resp(max_depth=1024)
    deep = b"*1\r\n" * 1024 + b":1\r\n"
    (value,) = decode(deep, codec)
    for _ in range(1024):
        value = value[0]
    assert value == 1
    (error,) = decode(b"*1\r\n" * 1025 + b":1\r\n", codec)
    assert isinstance(error, NestingTooDeep) and error.limit == 1024 and error.offset == 4096


def test_a_hostile_nesting_far_past_the_recursion_limit_decodes_when_allowed() -> None:
    """redis-py raises RecursionError on a deep reply (its issue #4116); this is iterative."""
    depth = 50_000
    (value,) = decode(b"*1\r\n" * depth + b"_\r\n", Resp(max_depth=depth))
    for _ in range(depth):
        value = value[0]
    assert value is None


def test_max_reply_size_at_its_boundary_and_one_over() -> None:
    wire = b"*2\r\n$3\r\nabc\r\n:1\r\n"  # 17 bytes
    assert decode(wire + b"+OK\r\n", Resp(max_reply_size=17)) == [[b"abc", 1], "OK"]
    got = decode(b"+OK\r\n" + wire, Resp(max_reply_size=16))
    assert got[0] == "OK" and isinstance(got[1], ReplyTooLarge) and got[1].offset == 5
    got = decode(b"+OK\r\n" + wire, Resp(max_reply_size=16), piece=3)
    assert got[0] == "OK" and isinstance(got[1], LimitExceededError) and got[1].offset == 5


def test_truncation_is_a_truncated_error_at_the_first_byte_of_the_reply() -> None:
    wire = b"+OK\r\n*2\r\n$3\r\nabc\r\n:1\r\n"
    for cut in range(6, len(wire)):
        got = decode(wire[:cut])
        assert got[0] == "OK" and isinstance(got[1], TruncatedError), cut
        assert got[1].offset == 5, cut


# -- event mode ---------------------------------------------------------------------------


def test_event_mode_hands_out_a_long_bulk_in_chunks_of_stream_chunk_size() -> None:
    codec = Resp(stream_threshold=10, stream_chunk_size=4)
    wire = b"$10\r\nshort-ok!!\r\n$11\r\nhello world\r\n+next\r\n"
    want = [
        b"short-ok!!",
        StringStart("$", 11),
        StringChunk(b"hell"),
        StringChunk(b"o wo"),
        StringChunk(b"rld"),
        StringEnd(),
        "next",
    ]
    for piece in (None, 1, 2, 5):
        assert decode(wire, codec, piece) == want, piece


def test_event_mode_hands_out_the_aggregates_around_a_long_string_as_parts() -> None:
    codec = Resp(stream_threshold=3)
    wire = b"*3\r\n:1\r\n*2\r\n$2\r\nab\r\n$5\r\nhello\r\n%1\r\n+k\r\n+v\r\n*1\r\n:9\r\n"
    assert decode(wire, codec) == [
        AggregateStart("*", 3),
        1,
        AggregateStart("*", 2),
        b"ab",
        StringStart("$", 5),
        StringChunk(b"hello"),
        StringEnd(),
        AggregateStart("%", 1),
        "k",
        "v",
        [9],
    ]


def test_event_mode_hands_out_a_streamed_string_part_by_part() -> None:
    codec = Resp(stream_threshold=1000, stream_chunk_size=3)
    wire = b"$?\r\n;4\r\nHell\r\n;2\r\no!\r\n;0\r\n+x\r\n"
    want = [
        StringStart("$", None),
        StringChunk(b"Hel"),
        StringChunk(b"l"),
        StringChunk(b"o!"),
        StringEnd(),
        "x",
    ]
    for piece in (None, 1, 3):
        assert decode(wire, codec, piece) == want, piece


def test_event_mode_streamed_aggregates_end_with_aggregate_end() -> None:
    codec = Resp(stream_threshold=2)
    wire = b"*?\r\n$3\r\nabc\r\n.\r\n"
    assert decode(wire, codec) == [
        AggregateStart("*", None),
        StringStart("$", 3),
        StringChunk(b"abc"),
        StringEnd(),
        AggregateEnd(),
    ]


def test_event_mode_keeps_the_limits() -> None:
    got = decode(b"$20\r\n" + b"x" * 20 + b"\r\n", Resp(stream_threshold=5, max_bulk_length=19))
    assert isinstance(got[-1], LimitExceededError)
    got = decode(b"*1\r\n*1\r\n$9\r\n123456789\r\n", Resp(stream_threshold=5, max_depth=1))
    assert isinstance(got[-1], LimitExceededError)


def test_event_mode_checks_the_crlf_after_a_long_bulk() -> None:
    got = decode(b"$6\r\nabcdefXY", Resp(stream_threshold=2))
    assert got[:2] == [StringStart("$", 6), StringChunk(b"abcdef")]
    assert isinstance(got[2], MalformedError) and got[2].offset == 10


def test_event_mode_truncation_is_at_the_first_byte_of_the_reply() -> None:
    got = decode(b"+a\r\n$6\r\nabc", Resp(stream_threshold=2, stream_chunk_size=2))
    assert got[-1].offset == 4 and isinstance(got[-1], TruncatedError)


def test_a_long_bulk_in_event_mode_is_never_held_whole() -> None:
    size = 8 << 20
    codec = Resp(stream_threshold=1 << 16)
    wire = b"$%d\r\n" % size + b"x" * size + b"\r\n"
    largest = 0
    total = 0
    for part in decode(wire, codec, piece=1460):
        if isinstance(part, StringChunk):
            largest = max(largest, len(part.data))
            total += len(part.data)
    assert total == size and largest == 1 << 16


# -- the contract, any split, round trips --------------------------------------------------


def test_the_codec_keeps_the_decoder_contract_on_every_sample() -> None:
    wire = b"".join(w for w, _ in TYPES)
    check = check_frame_codec(Resp(), wire)
    assert [key(f) for f in check.frames] == [key(v) for _, v in TYPES]
    check_frame_codec(Resp(map_type="pairs"), wire)
    # Event mode's parts are not restart points: a fresh decoder cannot start inside a reply.
    check_frame_codec(Resp(stream_threshold=2, stream_chunk_size=3), wire, restarts=0)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.binary(max_size=20),
    st.text(max_size=10).filter(lambda s: "\r" not in s and "\n" not in s),
    st.builds(ReplyError, st.text(max_size=10).filter(lambda s: "\r" not in s and "\n" not in s)),
    st.builds(lambda m: ReplyError(m, blob=True), st.text(max_size=10)),
    st.builds(Verbatim, st.sampled_from(["txt", "mkd"]), st.binary(max_size=10)),
)
hashable = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.binary(max_size=8),
    st.text(max_size=5).filter(lambda s: "\r" not in s and "\n" not in s),
)


def _values(children: Any) -> Any:
    return st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(hashable, children, max_size=3),
        st.sets(hashable, max_size=3),
        st.builds(
            Attributed, children, st.dictionaries(hashable, children, min_size=1, max_size=2)
        ),
    )


values = st.recursive(scalars, _values, max_leaves=12)
replies = st.one_of(
    values, st.builds(lambda v: Push([b"message", *v]), st.lists(values, max_size=3))
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), frames=st.lists(replies, max_size=5))
def test_decode_of_encode_is_the_value_for_any_split(
    data: st.DataObject, frames: list[Any]
) -> None:
    codec = Resp()
    wire = b"".join(codec.encoder().encode(frame) for frame in frames)
    cuts = data.draw(splits_of(wire, max_pieces=8))
    got = decode_frame_pieces(
        codec.decoder(), [wire[a:b] for a, b in zip((0, *cuts), (*cuts, len(wire)), strict=False)]
    )
    assert [key(g) for g in got] == [key(f) for f in frames]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), frames=st.lists(replies, min_size=1, max_size=4))
def test_any_split_gives_the_same_replies_and_errors_in_every_mode(
    data: st.DataObject, frames: list[Any]
) -> None:
    wire = b"".join(Resp().encoder().encode(frame) for frame in frames)
    # Damage one byte sometimes: errors must not depend on the split either.
    if data.draw(st.booleans()):
        at = data.draw(st.integers(0, len(wire) - 1))
        wire = wire[:at] + bytes([data.draw(st.sampled_from(b"\r\n:$*%?.x0-"))]) + wire[at + 1 :]
    cuts = data.draw(splits_of(wire, max_pieces=10))
    for codec in (Resp(), Resp(stream_threshold=3, stream_chunk_size=2), Resp(map_type="pairs")):
        whole = [key(g) for g in decode(wire, codec)]
        pieces = [wire[a:b] for a, b in zip((0, *cuts), (*cuts, len(wire)), strict=False)]
        assert [key(g) for g in decode_frame_pieces(codec.decoder(), pieces)] == whole


@settings(max_examples=100, deadline=None)
@given(frames=st.lists(replies, min_size=1, max_size=3), data=st.data())
def test_truncation_at_every_position_is_a_truncated_error_at_eof(
    frames: list[Any], data: st.DataObject
) -> None:
    encoder = Resp().encoder()
    wires = [encoder.encode(frame) for frame in frames]
    wire = b"".join(wires)
    cut = data.draw(st.integers(0, len(wire) - 1))
    got = decode(wire[:cut])
    starts = [sum(map(len, wires[:i])) for i in range(len(wires))]
    whole = sum(1 for s, w in zip(starts, wires, strict=False) if s + len(w) <= cut)
    assert [key(g) for g in got[:whole]] == [key(f) for f in frames[:whole]]
    if cut in starts:
        assert len(got) == whole
    else:
        assert isinstance(got[-1], TruncatedError) and got[-1].offset == starts[whole]


# -- linear time ----------------------------------------------------------------------------


def test_a_long_bulk_arriving_in_small_pieces_is_not_parsed_again_per_piece() -> None:
    size = 16 << 20
    wire = b"$%d\r\n" % size + b"x" * size + b"\r\n"
    started = time.process_time()
    (value,) = decode(wire, Resp(), piece=1024)
    assert value == b"x" * size
    assert time.process_time() - started < 60  # copying the buffered part per piece: hours


def test_a_big_array_arriving_in_small_pieces_resumes_where_it_stopped() -> None:
    items = [b"%05d" % i for i in range(100_000)]
    wire = encode_command(*items)
    started = time.process_time()
    (value,) = decode(wire, Resp(), piece=1460)
    assert value == items
    assert time.process_time() - started < 60  # parsing it again per piece: 600 times over


def test_a_long_line_fed_a_byte_at_a_time_is_searched_once() -> None:
    line = b"+" + b"x" * 60_000 + b"\r\n"
    started = time.process_time()
    assert decode(line, Resp(), piece=1) == ["x" * 60_000]
    assert time.process_time() - started < 60


# -- encoders ---------------------------------------------------------------------------------


def test_encode_command_writes_an_array_of_bulks_from_every_argument_type() -> None:
    assert encode_command("SET", b"k", 12, 1.5, bytearray(b"a"), memoryview(b"b"), "é") == (
        b"*7\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n12\r\n$3\r\n1.5\r\n$1\r\na\r\n$1\r\nb\r\n$2\r\n\xc3\xa9\r\n"
    )
    assert (
        encode_commands([["PING"], ["GET", "k"]])
        == b"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
    )


def test_encode_command_refuses_a_bool_and_other_types() -> None:
    with pytest.raises(TypeError):
        encode_command("SET", "k", True)
    with pytest.raises(TypeError):
        encode_command("SET", "k", None)


def test_the_value_encoder_refuses_what_would_not_decode_back() -> None:
    encoder = RespEncoder()
    with pytest.raises(ValueError):
        encoder.encode("a\r\nb")
    with pytest.raises(ValueError):
        encoder.encode(ReplyError("ERR\nx"))
    with pytest.raises(TypeError):
        encoder.encode(object())


def test_the_resp2_encoder_writes_resp2_forms() -> None:
    encoder = Resp(protocol=2).encoder()
    assert encoder.encode(None) == b"$-1\r\n"
    assert encoder.encode(True) == b":1\r\n"
    assert encoder.encode({b"a": 1}) == b"*2\r\n$1\r\na\r\n:1\r\n"
    assert encoder.encode(1.5) == b"$3\r\n1.5\r\n"
    assert encoder.encode(Push([b"message"])) == b"*1\r\n$7\r\nmessage\r\n"
    with pytest.raises(ValueError):
        encoder.encode(Attributed(1, {"a": 1}))


def test_streamed_encoders_write_what_the_decoder_reads_back() -> None:
    wire = b"".join(encode_streamed_string([b"Hell", b"", b"o"]))
    assert wire == b"$?\r\n;4\r\nHell\r\n;1\r\no\r\n;0\r\n" and decode(wire) == [b"Hello"]
    wire = b"".join(encode_streamed_aggregate("%", [(b"a", 1), (b"b", [2])]))
    assert decode(wire) == [{b"a": 1, b"b": [2]}]
    assert decode(b"".join(encode_streamed_aggregate("~", [1, 2]))) == [{1, 2}]


def test_deep_values_encode_without_recursion() -> None:
    value: Any = None
    for _ in range(50_000):
        value = [value]
    wire = RespEncoder().encode(value)
    assert wire == b"*1\r\n" * 50_000 + b"_\r\n"


# -- windows: replies are split at CRLF 64 KiB at a time ---------------------------------------


def test_replies_far_longer_than_a_window_decode_the_same_whole_and_in_pieces() -> None:
    import random

    rng = random.Random(7)
    encoder = RespEncoder()
    values: list[Any] = []
    for i in range(300):
        size = rng.choice([0, 3, 100, 8191, 8192, 20_000, 70_000])
        blob = bytes(rng.choice(b"ab\r\n") for _ in range(size))
        values.append(
            rng.choice(
                [
                    blob,
                    [blob, i, [b"x" * 5] * rng.randint(0, 50)],
                    {b"k%d" % i: blob, b"n": [blob]},
                    "simple",
                    Attributed(blob, {"i": i}),
                ]
            )
        )
    wire = b"".join(encoder.encode(value) for value in values)
    assert len(wire) > 4 << 20
    want = [key(value) for value in values]
    for piece in (None, 1460, 65536, 100_000):
        assert [key(g) for g in decode(wire, Resp(), piece)] == want, piece
    # Through a bytearray-backed view too (the reader's buffer after small writes).
    decoder = Resp().decoder()
    frames: list[Any] = []
    assert decoder.decode(memoryview(bytearray(wire)), frames) == len(wire)
    assert [key(f) for f in frames] == want


def test_an_array_of_200000_bulks_in_one_piece_decodes() -> None:
    items = [b"v%06d" % i for i in range(200_000)]
    assert decode(encode_command(*items)) == [items]


@settings(max_examples=60, deadline=None)
@given(
    replies=st.lists(
        st.sampled_from(["OK", "PONG", b"hello", b"abc", 1, b"x" * 5000]), max_size=400
    ),
    inside=st.lists(st.sampled_from([b"v", b"value", b"", 7, "s", b"a\r\nb"]), max_size=400),
    data=st.data(),
)
def test_the_batched_fast_paths_give_what_one_at_a_time_gives(
    replies: list[Any], inside: list[Any], data: st.DataObject
) -> None:
    """Runs of 64 alike replies (and array elements) are taken together; any other element
    breaks a run. The same values come whatever the mix and the split."""
    values = [*replies, inside, *replies]
    wire = b"".join(RespEncoder().encode(value) for value in values)
    cuts = data.draw(splits_of(wire, max_pieces=6))
    pieces = [wire[a:b] for a, b in zip((0, *cuts), (*cuts, len(wire)), strict=True)]
    want = [key(value) for value in values]
    assert [key(g) for g in decode_frame_pieces(Resp().decoder(), pieces)] == want
    check = check_frame_codec(Resp(), wire, splits=[cuts])
    assert [key(f) for f in check.frames] == want


# -- the compiled scanner against the Python decoder, call by call ----------------------------

needs_extension = pytest.mark.skipif(
    not speedups.ENABLED, reason="framekit._speedups is not built (no C compiler at install?)"
)


def _calls(decoder: Any, wire: bytes, cuts: tuple[int, ...], with_ends: bool) -> list[Any]:
    """Every decode call's result over a reader-like buffer fed in pieces, then EOF."""
    log: list[Any] = []
    buffer = b""
    points = [*cuts, len(wire)]
    start = 0
    for at, eof in [*((p, False) for p in points), (len(wire), True)]:
        buffer += wire[start:at]
        start = at
        while True:
            frames: list[Any] = []
            ends: list[int] | None = [] if with_ends else None
            try:
                call = decoder.decode_eof if eof else decoder.decode
                consumed = call(memoryview(buffer), frames, ends)
            except FramingError as error:
                log.append(("error", type(error).__name__, error.message, error.offset))
                return log
            log.append((consumed, [key(f) for f in frames], ends, decoder.needs_input))
            buffer = buffer[consumed:]
            if not consumed and not frames:
                break
        if eof:
            break
    return log


@needs_extension
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    frames=st.lists(
        st.one_of(
            replies,
            st.lists(st.sampled_from([b"v", b"value", b"", 7, "s", None, True]), max_size=80),
            st.dictionaries(
                st.sampled_from([b"a", b"b", "c", 1]), st.sampled_from([b"x", 2]), max_size=3
            ),
        ),
        min_size=1,
        max_size=8,
    ),
    data=st.data(),
)
def test_the_compiled_scanner_decodes_call_by_call_as_the_python_decoder(
    frames: list[Any], data: st.DataObject
) -> None:
    wire = b"".join(RespEncoder().encode(frame) for frame in frames)
    if data.draw(st.booleans()):  # damage a byte: the errors must agree too
        at = data.draw(st.integers(0, len(wire) - 1))
        wire = wire[:at] + bytes([data.draw(st.sampled_from(b"\r\n:$*%?.x0-+#_"))]) + wire[at + 1 :]
    cuts = data.draw(splits_of(wire, max_pieces=6))
    options = data.draw(
        st.sampled_from(
            [
                {},
                {"map_type": "pairs"},
                {"max_bulk_length": 3},
                {"max_line_length": 4},
                {"max_aggregate_length": 2},
                {"stream_threshold": 2},
            ]
        )
    )
    with_ends = data.draw(st.booleans())
    compiled = Resp(**options).decoder()
    assert compiled._compiled is not None
    pure = Resp(**options).decoder()
    pure._compiled = None
    assert _calls(compiled, wire, cuts, with_ends) == _calls(pure, wire, cuts, with_ends)


def test_without_extensions_the_decoder_has_no_compiled_scanner() -> None:
    import subprocess
    import sys

    code = "from framekit.codecs.resp import Resp; print(Resp().decoder()._compiled)"
    env = {**__import__("os").environ, "FRAMEKIT_NO_EXTENSIONS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "None"


@pytest.mark.parametrize(
    "codec",
    [Resp(), Resp(stream_threshold=0, stream_chunk_size=1), Resp(max_reply_size=200)],
    ids=["assembled", "events", "max-reply-size"],
)
def test_an_error_kept_for_the_next_call_does_not_pin_the_source_buffer(codec: Resp) -> None:
    """The replies before a bad one come first and the error on the next call; meanwhile the
    source's bytearray must stay resizable (a kept traceback would hold views of it)."""
    buffer = bytearray(b"+a\r\n$3\r\nab" + b"\r\n:1\r\n" + b"$3\r\nabcXY\r\n")
    decoder = codec.decoder()
    frames: list[Any] = []
    view = memoryview(buffer)
    consumed = decoder.decode(view, frames)
    view.release()
    assert frames
    del buffer[:consumed]  # BufferError if a view of the buffer is still alive
    buffer += b"more"
    view = memoryview(buffer)
    with pytest.raises(FramingError):
        while True:
            frames.clear()
            taken = decoder.decode(view, frames)
            view.release()
            del buffer[:taken]
            view = memoryview(buffer)
    view.release()
    buffer += b"again"  # and after the error was raised


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=st.lists(replies, min_size=1, max_size=6), threshold=st.sampled_from([0, 2, 5]))
def test_the_reply_tracker_ends_each_reply_where_assembled_mode_does(
    frames: list[Any], threshold: int
) -> None:
    wire = b"".join(RespEncoder().encode(frame) for frame in frames)
    parts = decode(wire, Resp(stream_threshold=threshold, stream_chunk_size=3))
    tracker = ReplyTracker()
    ends = [i for i, part in enumerate(parts) if tracker.feed(part)]
    assert len(ends) == len(frames) and ends[-1] == len(parts) - 1
    assert not tracker.inside


def test_the_reply_tracker_refuses_parts_out_of_place() -> None:
    with pytest.raises(ValueError):
        ReplyTracker().feed(StringChunk(b"x"))
    with pytest.raises(ValueError):
        ReplyTracker().feed(AggregateEnd())
