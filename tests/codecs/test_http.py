"""HTTP/1.1 heads: values, strictness with offsets, lenient options, limits, splits, round trips."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framekit import StreamReader
from framekit.codecs._base import decode_frame_pieces
from framekit.codecs.http import (
    Headers,
    HeadTooLarge,
    Request,
    RequestHeads,
    Response,
    ResponseHeads,
)
from framekit.errors import (
    EndOfStream,
    FramingError,
    LineTooLong,
    MalformedError,
    TruncatedError,
)
from framekit.testing import assert_round_trip, check_frame_codec, splits_of

Codec = RequestHeads | ResponseHeads


def decode(wire: bytes, codec: Codec | None = None, piece: int | None = None) -> list[Any]:
    codec = codec or RequestHeads()
    pieces = [wire] if piece is None else [wire[i : i + piece] for i in range(0, len(wire), piece)]
    return decode_frame_pieces(codec.decoder(), pieces)  # type: ignore[arg-type]


def only_error(wire: bytes, codec: Codec | None = None) -> FramingError:
    """The error a wire gives, the same whole, byte by byte and in every checked split."""
    check = check_frame_codec(codec or RequestHeads(), wire)
    assert len(check.errors) == 1, check.results
    assert decode(wire, codec, piece=1)[-1].offset == check.errors[0].offset
    return check.errors[0]


REQUEST = (
    b"GET /index.html?q=1 HTTP/1.1\r\n"
    b"Host: example.com\r\n"
    b"Accept: */*\r\n"
    b"X-Empty:\r\n"
    b"Set-Cookie: a=1\r\n"
    b"set-cookie:   b=2  \r\n"
    b"\r\n"
)


# -- values -------------------------------------------------------------------------------


def test_request_head_decodes_to_method_target_version_and_raw_headers() -> None:
    [head] = decode(REQUEST)
    assert head == Request(
        method=b"GET",
        target=b"/index.html?q=1",
        version=(1, 1),
        headers=[
            (b"Host", b"example.com"),
            (b"Accept", b"*/*"),
            (b"X-Empty", b""),
            (b"Set-Cookie", b"a=1"),
            (b"set-cookie", b"b=2"),
        ],
    )


def test_response_head_decodes_to_version_status_reason_and_headers() -> None:
    wire = b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n"
    assert decode(wire, ResponseHeads()) == [
        Response(
            status=404, reason=b"Not Found", version=(1, 0), headers=[(b"Content-Length", b"0")]
        )
    ]


def test_status_line_without_reason_gives_an_empty_reason() -> None:
    for wire in (b"HTTP/1.1 204\r\n\r\n", b"HTTP/1.1 204 \r\n\r\n"):
        [head] = decode(wire, ResponseHeads())
        assert (head.status, head.reason) == (204, b"")


def test_header_lookup_ignores_case_and_joins_repeated_fields() -> None:
    [head] = decode(REQUEST)
    headers = head.headers
    assert headers.get("HOST") == b"example.com"
    assert headers.get(b"set-COOKIE") == b"a=1, b=2"
    assert headers.get_all("Set-Cookie") == [b"a=1", b"b=2"]
    assert headers.get("missing") is None
    assert "accept" in headers and b"x-empty" in headers and "nope" not in headers
    assert [name for name, _ in headers] == [
        b"Host",
        b"Accept",
        b"X-Empty",
        b"Set-Cookie",
        b"set-cookie",
    ]


def test_headers_compare_by_fields_in_order() -> None:
    assert Headers([(b"a", b"1"), (b"b", b"2")]) == Headers([(b"a", b"1"), (b"b", b"2")])
    assert Headers([(b"a", b"1"), (b"b", b"2")]) != Headers([(b"b", b"2"), (b"a", b"1")])


def test_pipelined_heads_decode_one_by_one_and_leave_the_body_in_the_source() -> None:
    wire = b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello"
    decoder = RequestHeads().decoder()
    frames: list[Request] = []
    assert decoder.decode(memoryview(wire), frames) == len(wire) - 5
    assert len(frames) == 1


async def test_frame_reader_reads_a_head_then_the_source_reads_the_body() -> None:
    reader = StreamReader()
    reader.feed_data(
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 204 No Content\r\n\r\n"
    )
    reader.feed_eof()
    heads = reader.frames(ResponseHeads())
    assert (await heads.read()).status == 200
    assert await reader.readexactly(3) == b"abc"
    assert (await heads.read()).status == 204
    with pytest.raises(EndOfStream):
        await heads.read()


def test_empty_lines_before_a_request_line_are_ignored() -> None:
    [head] = decode(b"\r\n\r\nGET / HTTP/1.1\r\n\r\n")
    assert head.method == b"GET"


def test_empty_lines_alone_at_eof_are_the_end() -> None:
    assert check_frame_codec(RequestHeads(), b"GET / HTTP/1.1\r\n\r\n\r\n").frames == [
        Request(method=b"GET", target=b"/")
    ]


def test_eof_inside_a_head_is_truncated_at_the_heads_first_byte() -> None:
    wire = b"GET / HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n"
    check = check_frame_codec(RequestHeads(), wire)
    assert len(check.frames) == 1
    [error] = check.errors
    assert isinstance(error, TruncatedError) and error.offset == 18


# -- strictness: each rule, with its offset ---------------------------------------------------

STRICT_REQUESTS = [
    # (wire, offset, words in the message)
    (b"GET / HTTP/1.1\nHost: x\r\n\r\n", 14, "bare LF"),
    (b"GET / HTTP/1.1\r\nHost: x\n\r\n", 23, "bare LF"),
    (b"GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 23, "CR inside"),
    (b"GET / HTTP/1.1\r\nHost: a\x00b\r\n\r\n", 23, "0x00"),
    (b"GET / HTTP/1.1\r\nHost: a\x01b\r\n\r\n", 23, "0x01"),
    (b"GET / HTTP/1.1\r\nHost: a\x7fb\r\n\r\n", 23, "0x7f"),
    (b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 20, "and its colon"),
    (b"GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", 20, "and its colon"),
    (b"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", 22, "obs-fold"),
    (b"GET / HTTP/1.1\r\n A: b\r\n\r\n", 16, "first field"),
    (b"GET / HTTP/1.1\r\n: b\r\n\r\n", 16, "field name"),
    (b"GET / HTTP/1.1\r\nA\r\n\r\n", 17, "colon"),
    (b"GET / HTTP/1.1\r\nA(b): c\r\n\r\n", 17, "colon"),
    (b"G@T / HTTP/1.1\r\n\r\n", 1, "one SP"),
    (b"(GET) / HTTP/1.1\r\n\r\n", 0, "token"),
    (b"GET  / HTTP/1.1\r\n\r\n", 4, "request-target"),
    (b"GET /a b HTTP/1.1\r\n\r\n", 7, "HTTP/DIGIT.DIGIT"),
    (b"GET /\xe9 HTTP/1.1\r\n\r\n", 5, "request-target"),
    (b"GET / HTTP/2.0\r\n\r\n", 6, "not HTTP/1.x"),
    (b"GET / HTTP/1.10\r\n\r\n", 6, "HTTP/DIGIT.DIGIT"),
    (b"GET / http/1.1\r\n\r\n", 6, "HTTP/DIGIT.DIGIT"),
    (b"GET / HTTP/1.1 \r\n\r\n", 6, "HTTP/DIGIT.DIGIT"),
]


@pytest.mark.parametrize(("wire", "offset", "words"), STRICT_REQUESTS)
def test_strict_request_heads_refuse_with_rule_and_offset(
    wire: bytes, offset: int, words: str
) -> None:
    error = only_error(wire)
    assert isinstance(error, MalformedError)
    assert error.offset == offset
    assert words in error.message
    assert "RFC 9112" in error.message or "RFC 9110" in error.message or "HTTP/1.x" in error.message


STRICT_RESPONSES = [
    (b"HTTP/1.1 99 Low\r\n\r\n", 9, "status code"),
    (b"HTTP/1.1 1000 High\r\n\r\n", 12, "followed by SP"),
    (b"HTTP/1.1 20a OK\r\n\r\n", 9, "status code"),
    (b"HTTP/1.1 099 OK\r\n\r\n", 9, "status code"),
    (b"HTTP/1.1  200 OK\r\n\r\n", 9, "status code"),
    (b"HTTP/1.1 200 O\x01K\r\n\r\n", 14, "reason"),
    (b"HTTP/1.1\t200 OK\r\n\r\n", 8, "one SP"),
    (b"\r\nHTTP/1.1 200 OK\r\n\r\n", 0, "before the status line"),
    (b"HTTP/3.0 200 OK\r\n\r\n", 0, "not HTTP/1.x"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n chunked\r\n\r\n", 37, "obs-fold"),
]


@pytest.mark.parametrize(("wire", "offset", "words"), STRICT_RESPONSES)
def test_strict_response_heads_refuse_with_rule_and_offset(
    wire: bytes, offset: int, words: str
) -> None:
    error = only_error(wire, ResponseHeads())
    assert isinstance(error, MalformedError)
    assert error.offset == offset
    assert words in error.message


def test_an_error_ends_the_stream_and_is_raised_again() -> None:
    decoder = RequestHeads().decoder()
    wire = memoryview(b"GET / HTTP/1.1\r\nA : b\r\n\r\nGET / HTTP/1.1\r\n\r\n")
    for _ in range(2):
        with pytest.raises(MalformedError) as raised:
            decoder.decode(wire, [])
        assert raised.value.offset == 17


def test_offsets_count_from_the_streams_first_byte() -> None:
    first = b"GET / HTTP/1.1\r\n\r\n"
    results = decode(first + b"GET / HTTP/1.1\r\nA : b\r\n\r\n")
    assert results[-1].offset == len(first) + 17


# -- lenient options ---------------------------------------------------------------------------


def test_allow_bare_lf_accepts_lf_line_ends() -> None:
    [head] = decode(b"GET / HTTP/1.1\nHost: x\n\n", RequestHeads(allow_bare_lf=True))
    assert head.headers.get("host") == b"x"
    [head] = decode(b"GET / HTTP/1.1\nHost: x\r\n\n", RequestHeads(allow_bare_lf=True))
    assert head.headers.get("host") == b"x"


def test_allow_bare_lf_still_refuses_a_bare_cr() -> None:
    error = only_error(b"GET / HTTP/1.1\rHost: x\n\n", RequestHeads(allow_bare_lf=True))
    assert isinstance(error, MalformedError) and error.offset == 14


def test_unfold_obs_fold_joins_the_continuation_with_one_space() -> None:
    codec = ResponseHeads(unfold_obs_fold=True)
    wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n chunked\r\nX: a\r\n\t b \r\n\r\n"
    [head] = decode(wire, codec)
    assert head.headers.fields == ((b"Transfer-Encoding", b"chunked"), (b"X", b"a b"))


def test_strip_space_before_colon_removes_it() -> None:
    [head] = decode(
        b"GET / HTTP/1.1\r\nHost \t: x\r\n\r\n", RequestHeads(strip_space_before_colon=True)
    )
    assert head.headers.fields == ((b"Host", b"x"),)


def test_relaxed_field_values_accept_controls_but_not_nul() -> None:
    codec = RequestHeads(relaxed_field_values=True)
    [head] = decode(b"GET / HTTP/1.1\r\nA: x\x01y\x7f\r\n\r\n", codec)
    assert head.headers.get("a") == b"x\x01y\x7f"
    assert only_error(b"GET / HTTP/1.1\r\nA: x\x00y\r\n\r\n", codec).offset == 20


def test_any_version_accepts_other_major_versions() -> None:
    [head] = decode(b"GET / HTTP/2.0\r\n\r\n", RequestHeads(any_version=True))
    assert head.version == (2, 0)


# -- limits: at the boundary and one over, whole or in pieces ------------------------------------


def request_line(length: int) -> bytes:
    line = b"GET /" + b"a" * (length - 14) + b" HTTP/1.1"
    assert len(line) == length
    return line


@pytest.mark.parametrize("piece", [None, 1000])
def test_request_line_of_max_line_length_passes_and_one_more_is_refused(piece: int | None) -> None:
    assert decode(request_line(8190) + b"\r\n\r\n", piece=piece)[0].method == b"GET"
    [error] = decode(request_line(8191) + b"\r\n\r\n", piece=piece)
    assert isinstance(error, LineTooLong)
    assert (error.offset, error.limit) == (0, 8190)
    assert "max_line_length" in error.message


@pytest.mark.parametrize("piece", [None, 1000])
def test_field_line_of_max_field_length_passes_and_one_more_is_refused(piece: int | None) -> None:
    start = b"GET / HTTP/1.1\r\n"
    field = b"X: " + b"v" * (8190 - 3)
    assert decode(start + field + b"\r\n\r\n", piece=piece)[0].headers.get("x") == b"v" * 8187
    [error] = decode(start + field + b"v\r\n\r\n", piece=piece)
    assert isinstance(error, LineTooLong)
    assert (error.offset, error.limit) == (len(start), 8190)
    assert "max_field_length" in error.message


def test_an_incomplete_over_long_line_is_refused_before_its_end_arrives() -> None:
    decoder = RequestHeads().decoder()
    with pytest.raises(LineTooLong):
        decoder.decode(memoryview(b"GET /" + b"a" * 9000), [])


@pytest.mark.parametrize("piece", [None, 100])
def test_max_fields_fields_pass_and_one_more_is_refused(piece: int | None) -> None:
    start = b"GET / HTTP/1.1\r\n"
    fields = b"".join(b"F%03d: v\r\n" % i for i in range(128))
    assert len(decode(start + fields + b"\r\n", piece=piece)[0].headers) == 128
    [error] = decode(start + fields + b"F128: v\r\n\r\n", piece=piece)
    assert isinstance(error, HeadTooLarge)
    assert (error.offset, error.limit) == (len(start) + len(fields), 128)
    assert "max_fields" in error.message


def head_of_size(size: int) -> bytes:
    start = b"GET / HTTP/1.1\r\n"
    fields = b"".join(b"F%02d: " % i + b"v" * 8000 + b"\r\n" for i in range(8))
    rest = size - len(start) - len(fields) - 2 - len(b"Z: \r\n")
    wire = start + fields + b"Z: " + b"z" * rest + b"\r\n\r\n"
    assert len(wire) == size
    return wire


@pytest.mark.parametrize("piece", [None, 4096])
def test_head_of_max_head_size_passes_and_one_more_is_refused(piece: int | None) -> None:
    assert len(decode(head_of_size(65536), piece=piece)[0].headers) == 9
    [error] = decode(head_of_size(65537), piece=piece)
    assert isinstance(error, HeadTooLarge)
    assert (error.offset, error.limit) == (0, 65536)
    assert "max_head_size" in error.message


def test_a_complete_huge_head_in_one_piece_is_refused() -> None:
    wire = b"GET / HTTP/1.1\r\n" + b"".join(b"F%d: %s\r\n" % (i, b"v" * 1000) for i in range(1000))
    [error] = decode(wire + b"\r\n")
    assert isinstance(error, HeadTooLarge)


def test_limits_are_options() -> None:
    codec = RequestHeads(max_fields=1, max_line_length=20, max_field_length=10, max_head_size=100)
    assert isinstance(decode(b"GET / HTTP/1.1\r\nA: b\r\nC: d\r\n\r\n", codec)[0], HeadTooLarge)
    with pytest.raises(ValueError, match="max_fields"):
        RequestHeads(max_fields=-1)
    with pytest.raises(TypeError, match="allow_bare_lf"):
        RequestHeads(allow_bare_lf=1)  # type: ignore[arg-type]


# -- contract, splits, round trips ------------------------------------------------------------


@pytest.mark.parametrize(
    "wire",
    [
        REQUEST + REQUEST,
        REQUEST + b"GET / HTTP/1.1\r\nA : b\r\n\r\n",
        b"\r\n" + REQUEST + b"GET / HTTP/1.1\r\n",
        b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 200 + b"\r\n",
    ],
)
def test_request_codec_keeps_the_contract(wire: bytes) -> None:
    check_frame_codec(RequestHeads(), wire)


def test_response_codec_keeps_the_contract() -> None:
    wire = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nA: b\r\n\r\nHTTP/1.1 2"
    check = check_frame_codec(ResponseHeads(), wire)
    assert [head.status for head in check.frames] == [100, 200]
    assert isinstance(check.errors[0], TruncatedError)


tokens = st.text(
    "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    min_size=1,
    max_size=12,
).map(str.encode)
values = st.binary(max_size=30).map(
    lambda raw: bytes(b for b in raw if b == 9 or 32 <= b <= 126 or b >= 128).strip(b" \t")
)
fields = st.lists(st.tuples(tokens, values), max_size=8)
targets = st.binary(min_size=1, max_size=30).map(lambda raw: bytes(33 + b % 94 for b in raw))
requests = st.builds(
    Request,
    method=tokens,
    target=targets,
    version=st.tuples(st.just(1), st.integers(0, 9)),
    headers=fields,
)
responses = st.builds(
    Response,
    status=st.integers(100, 999),
    reason=values,
    version=st.tuples(st.just(1), st.integers(0, 9)),
    headers=fields,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(heads=st.lists(requests, min_size=1, max_size=4), data=st.data())
def test_requests_round_trip_for_any_split(heads: list[Request], data: st.DataObject) -> None:
    wire = b"".join(RequestHeads().encoder().encode(head) for head in heads)
    assert_round_trip(RequestHeads(), heads, splits=[data.draw(splits_of(wire, max_pieces=8))])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(heads=st.lists(responses, min_size=1, max_size=4), data=st.data())
def test_responses_round_trip_for_any_split(heads: list[Response], data: st.DataObject) -> None:
    wire = b"".join(ResponseHeads().encoder().encode(head) for head in heads)
    assert_round_trip(ResponseHeads(), heads, splits=[data.draw(splits_of(wire, max_pieces=8))])


@settings(max_examples=80, deadline=None)
@given(
    head=requests,
    junk=st.binary(min_size=1, max_size=3),
    at=st.integers(0, 200),
    data=st.data(),
)
def test_any_damaged_head_gives_the_same_result_for_any_split(
    head: Request, junk: bytes, at: int, data: st.DataObject
) -> None:
    wire = RequestHeads().encoder().encode(head)
    at %= len(wire)
    damaged = wire[:at] + junk + wire[at:] + wire
    for codec in (RequestHeads(), RequestHeads(allow_bare_lf=True, unfold_obs_fold=True)):
        check_frame_codec(codec, damaged, splits=[data.draw(splits_of(damaged, max_pieces=6))])


@pytest.mark.parametrize(
    ("head", "words"),
    [
        (Request(method=b"G T", target=b"/"), "token"),
        (Request(method=b"GET", target=b"/a b"), "target"),
        (Request(method=b"GET", target=b"/", version=(2, 0)), "HTTP/1.x"),
        (Request(method=b"GET", target=b"/", headers=[(b"A b", b"c")]), "token"),
        (Request(method=b"GET", target=b"/", headers=[(b"A", b"c\r\nX: y")]), "control"),
        (Request(method=b"GET", target=b"/", headers=[(b"A", b" c")]), "whitespace"),
        (Response(status=99), "100 to 999"),
        (Response(status=200, reason=b"O\nK"), "control"),
        (Request(method=b"GET", target=b"/" * 9000), "max_line_length"),
        (Request(method=b"GET", target=b"/", headers=[(b"A", b"b")] * 129), "max_fields"),
    ],
)
def test_encoder_refuses_what_the_decoder_would_refuse(head: Any, words: str) -> None:
    codec = RequestHeads() if isinstance(head, Request) else ResponseHeads()
    with pytest.raises(ValueError, match=words):
        codec.encoder().encode(head)


def test_encoder_writes_crlf_and_name_colon_space_value() -> None:
    head = Response(status=200, reason=b"OK", headers=[(b"Content-Length", b"3"), (b"X", b"")])
    assert ResponseHeads().encoder().encode(head) == (
        b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nX:\r\n\r\n"
    )


# -- the whole-head path and the line-by-line path ---------------------------------------------


def assert_paths_agree(codec: Codec, wire: bytes, strict: bool) -> None:
    """The whole-head path gives what the line-by-line path gives, or leaves the head to it."""
    fast = codec.decoder()._fast(memoryview(wire))
    try:
        slow = codec.decoder()._careful(memoryview(wire))
    except FramingError:
        slow = None
    if strict:
        assert fast is not None  # every strict head in one piece goes the fast way
    if fast is not None:  # and it never accepts what the grammar refuses
        assert fast == slow


#: Bytes that matter to the grammar, to damage a head with.
grammar_bytes = st.lists(st.sampled_from(b"\r\n \t:/\x00\x7f\x80a"), max_size=3).map(bytes)


@settings(max_examples=100, deadline=None)
@given(head=requests, junk=st.binary(max_size=3) | grammar_bytes, at=st.integers(0, 300))
def test_the_whole_head_path_agrees_with_the_line_by_line_path(
    head: Request, junk: bytes, at: int
) -> None:
    wire = RequestHeads().encoder().encode(head)
    at %= len(wire)
    assert_paths_agree(RequestHeads(), wire[:at] + junk + wire[at:], strict=not junk)


@settings(max_examples=100, deadline=None)
@given(head=responses, junk=st.binary(max_size=3) | grammar_bytes, at=st.integers(0, 300))
def test_the_whole_head_path_agrees_with_the_line_by_line_path_on_responses(
    head: Response, junk: bytes, at: int
) -> None:
    wire = ResponseHeads().encoder().encode(head)
    at %= len(wire)
    assert_paths_agree(ResponseHeads(), wire[:at] + junk + wire[at:], strict=not junk)


def test_a_strict_head_in_one_piece_takes_the_whole_head_path() -> None:
    assert RequestHeads().decoder()._fast(memoryview(REQUEST)) is not None
    wire = b"HTTP/1.1 200 OK\r\nA:  b \r\nB:\r\n\r\n"
    found = ResponseHeads().decoder()._fast(memoryview(wire))
    assert found is not None and found[0].headers.fields == ((b"A", b"b"), (b"B", b""))


# -- linear time ------------------------------------------------------------------------------


def test_a_full_size_head_fed_a_byte_at_a_time_is_searched_once() -> None:
    fields = b"".join(b"F%03d: %s\r\n" % (i, b"v" * 400) for i in range(120))
    wire = b"GET / HTTP/1.1\r\n" + fields + b"\r\n"
    assert len(wire) < 65536
    started = time.process_time()
    [head] = decode(wire, piece=1)
    assert len(head.headers) == 120
    assert time.process_time() - started < 30  # searching from the head's start: minutes


def test_a_long_line_fed_a_byte_at_a_time_is_searched_once() -> None:
    wire = b"GET /" + b"a" * 8000 + b" HTTP/1.1\r\n\r\n"
    started = time.process_time()
    assert len(decode(wire, piece=1)[0].target) == 8001
    assert time.process_time() - started < 30


def test_an_over_long_line_ending_in_a_bare_lf_is_over_long_for_any_split() -> None:
    # Found by the fuzzer: whole, the bare LF was reported; fed in pieces, the length first.
    codec = RequestHeads(max_line_length=1)
    error = only_error(b"GET / HTTP/1.1\nHost: x\n\n", codec)
    assert isinstance(error, LineTooLong) and error.offset == 0


def test_a_whole_head_with_a_bare_cr_after_long_whitespace_is_refused_in_linear_time() -> None:
    # A bare CR and a bare LF look like one CRLF once the field bytes are taken out: the
    # whole-head check must then refuse the line without retrying every split of its
    # whitespace and value (quadratic: seconds for this head).
    wire = b"GET / HTTP/1.1\r\nX:" + b" " * 12000 + b"a" * 12000 + b"\rb\nY: c\r\n\r\n"
    started = time.process_time()
    with pytest.raises(MalformedError, match="bare LF") as caught:
        RequestHeads(max_field_length=65536).decoder().decode(memoryview(wire), [])
    assert time.process_time() - started < 1
    assert caught.value.offset == wire.index(b"\n", 16)
