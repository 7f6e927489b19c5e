"""HTTP/1.1 messages on a reader: head, framing, body layers, trailers, pipelining, splits;
and the differential table of the research notes, every row with the RFC's verdict."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Sequence
from typing import Any

import brotli
import pytest
import zstandard
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framekit import StreamReader
from framekit.codecs.chunked import Chunked
from framekit.codecs.http import RequestHeads, ResponseHeads
from framekit.codecs.until_close import UntilClose
from framekit.errors import (
    EndOfStream,
    FramingError,
    MalformedError,
    TruncatedError,
    UnsupportedEncodingError,
)
from framekit.http import BodyFramingError, open_body, read_request, read_response
from framekit.testing import assert_bytes_round_trip, check_byte_codec, splits_of


def chunked(data: bytes, size: int = 7, trailers: Sequence[tuple[bytes, bytes]] = ()) -> bytes:
    encoder = Chunked().encoder()
    out = b"".join(encoder.feed(data[i : i + size]) for i in range(0, len(data), size))
    return out + encoder.finish(trailers=trailers)


async def feed(reader: StreamReader, wire: bytes, cuts: Sequence[int]) -> None:
    start = 0
    for cut in [*cuts, len(wire)]:
        reader.feed_data(wire[start:cut])
        start = cut
        await asyncio.sleep(0)
    reader.feed_eof()


async def responses(
    wire: bytes,
    methods: Sequence[bytes],
    cuts: Sequence[int] = (),
    codec: ResponseHeads | None = None,
) -> list[Any]:
    """(status, kind, must_close, body, trailers) per response, or the error that ended it."""
    reader = StreamReader()
    feeder = asyncio.ensure_future(feed(reader, wire, cuts))
    heads = reader.frames(codec or ResponseHeads())
    results: list[Any] = []
    try:
        for method in methods:
            head, body = await read_response(heads, request_method=method)
            data = await body.reader.read()
            results.append(
                (
                    head.status,
                    body.framing.kind,
                    body.framing.must_close,
                    data,
                    body.trailers.fields,
                )
            )
    except (FramingError, EndOfStream) as error:
        results.append(type(error))
    finally:
        await feeder
    return results


PAYLOAD = b"The quick brown fox jumps over the lazy dog. " * 40


def pipeline() -> bytes:
    """Eight responses to GET, GET, HEAD, GET, GET, GET, GET, GET (see METHODS)."""
    gz = gzip.compress(PAYLOAD)
    br = brotli.compress(PAYLOAD)
    zs = zstandard.ZstdCompressor().compress(PAYLOAD)
    return b"".join(
        [
            b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(PAYLOAD) + PAYLOAD,
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Encoding: gzip\r\n\r\n" + chunked(gz, 100, [(b"Digest", b"x"), (b"T", b"2")]),
            b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\nContent-Encoding: gzip\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: %d\r\n\r\n" % len(br) + br,
            b"HTTP/1.1 204 No Content\r\nContent-Encoding: gzip\r\n\r\n",
            b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: zstd, chunked\r\n\r\n" + chunked(zs, 33),
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nContent-Encoding: gzip\r\n\r\n",
        ]
    )


METHODS = [b"GET", b"GET", b"HEAD", b"GET", b"GET", b"GET", b"GET", b"GET"]
EXPECTED = [
    (200, "length", False, PAYLOAD, ()),
    (200, "chunked", False, PAYLOAD, ((b"Digest", b"x"), (b"T", b"2"))),
    (200, "none", False, b"", ()),
    (200, "length", False, PAYLOAD, ()),
    (204, "none", False, b"", ()),
    (304, "none", False, b"", ()),
    (200, "chunked", False, PAYLOAD, ()),
    (200, "length", False, b"", ()),
]


async def test_pipelined_responses_each_read_with_its_framing_and_codings() -> None:
    assert await responses(pipeline(), METHODS) == EXPECTED


async def test_pipelined_responses_byte_by_byte() -> None:
    wire = pipeline()
    assert await responses(wire, METHODS, range(1, len(wire))) == EXPECTED


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
async def test_pipelined_responses_for_any_split(data: st.DataObject) -> None:
    wire = pipeline()
    cuts = data.draw(splits_of(wire, max_pieces=40))
    assert await responses(wire, METHODS, cuts) == EXPECTED


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(junk=st.binary(min_size=1, max_size=4), at=st.integers(0, 10**6), data=st.data())
async def test_a_damaged_pipeline_gives_the_same_results_for_any_split(
    junk: bytes, at: int, data: st.DataObject
) -> None:
    wire = pipeline()
    at %= len(wire)
    damaged = wire[:at] + junk + wire[at:]
    whole = await responses(damaged, METHODS)
    cuts = data.draw(splits_of(damaged, max_pieces=30))
    assert await responses(damaged, METHODS, cuts) == whole


async def test_the_stream_ends_between_responses() -> None:
    wire = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    assert await responses(wire, [b"GET", b"GET"]) == [
        (200, "length", False, b"ok", ()),
        EndOfStream,
    ]


async def test_a_body_cut_short_is_truncated_not_complete() -> None:
    for wire in (
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
        b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\nContent-Encoding: gzip\r\n\r\n\x1f\x8b\x08",
    ):
        assert await responses(wire, [b"GET"]) == [TruncatedError]


async def test_until_close_reads_to_the_end_with_its_codings() -> None:
    wire = b"HTTP/1.0 200 OK\r\nContent-Encoding: gzip\r\n\r\n" + gzip.compress(PAYLOAD)
    assert await responses(wire, [b"GET"]) == [(200, "until-close", True, PAYLOAD, ())]


async def test_a_tunnel_body_is_the_connections_reader() -> None:
    reader = StreamReader()
    reader.feed_data(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\nraw bytes")
    reader.feed_eof()
    _, body = await read_response(reader.frames(ResponseHeads()))
    assert body.framing.kind == "tunnel" and body.reader is reader
    assert await body.reader.read() == b"raw bytes"


async def test_a_request_with_te_and_cl_raises_with_status_400() -> None:
    reader = StreamReader()
    reader.feed_data(
        b"POST / HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    )
    with pytest.raises(BodyFramingError) as raised:
        await read_request(reader.frames(RequestHeads()))
    assert raised.value.framing.status == 400
    assert isinstance(raised.value, MalformedError) and "6.3.3" in str(raised.value)


async def test_pipelined_requests_with_chunked_bodies_leave_the_next_request() -> None:
    wire = (
        b"POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        + chunked(b"abcdefghij", 3)
        + b"GET /b HTTP/1.1\r\n\r\n"
        + b"PUT /c HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyz"
    )
    for cuts in ([], range(1, len(wire))):
        reader = StreamReader()
        feeder = asyncio.ensure_future(feed(reader, wire, cuts))
        heads = reader.frames(RequestHeads())
        got = []
        for _ in range(3):
            head, body = await read_request(heads)
            got.append((head.target, await body.reader.read()))
        with pytest.raises(EndOfStream):
            await heads.read()
        await feeder
        assert got == [(b"/a", b"abcdefghij"), (b"/b", b""), (b"/c", b"xyz")]


async def test_an_unknown_content_coding_is_refused_before_reading() -> None:
    reader = StreamReader()
    reader.feed_data(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Encoding: lzma\r\n\r\nab")
    heads = reader.frames(ResponseHeads())
    head = await heads.read()
    with pytest.raises(UnsupportedEncodingError):
        open_body(reader, head)
    body = open_body(reader, head, decode_content=False)
    assert await body.reader.read() == b"ab"


async def test_chunked_options_apply_to_the_body() -> None:
    reader = StreamReader()
    reader.feed_data(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n")
    reader.feed_eof()
    head = await reader.frames(ResponseHeads()).read()
    body = open_body(reader, head, chunked=Chunked(lenient=True))
    assert await body.reader.read() == b"abc"


def test_until_close_keeps_the_byte_codec_contract() -> None:
    check = check_byte_codec(UntilClose(), b"any bytes at all")
    assert check.data == b"any bytes at all" and check.done
    assert_bytes_round_trip(UntilClose(), [b"ab", b"", b"cde"])


# -- the differential table (research notes, section (c)): RFC 9112's verdict on every row ----

BODY5 = b"hello"
GZIPPED = gzip.compress(BODY5)

DIFFERENTIAL = [
    # (row, wire of a response to GET, head codec, verdict)
    (
        "TE chunked + CL 5: chunked, must close",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n"
        + chunked(BODY5),
        None,
        (200, "chunked", True, BODY5, ()),
    ),
    (
        "CL 5, CL 5 (2 fields): merged",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
        None,
        (200, "length", False, BODY5, ()),
    ),
    (
        "CL 5, CL 6: error",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        None,
        BodyFramingError,
    ),
    (
        "CL: 5, 5: merged",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello",
        None,
        (200, "length", False, BODY5, ()),
    ),
    (
        "TE: gzip, chunked: chunked then gzip",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n" + chunked(GZIPPED),
        None,
        (200, "chunked", False, BODY5, ()),
    ),
    (
        "TE: chunked, gzip: until close (gzip, then chunked, undone)",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"
        + gzip.compress(chunked(BODY5)),
        None,
        (200, "until-close", True, BODY5, ()),
    ),
    (
        "TE gzip + TE chunked (2 fields): chunked",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
        + chunked(GZIPPED),
        None,
        (200, "chunked", False, BODY5, ()),
    ),
    (
        "TE: identity: until close",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n\r\nhello",
        None,
        (200, "until-close", True, BODY5, ()),
    ),
    (
        "TE: xchunked: until close, a coding framekit cannot undo",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\nhello",
        None,
        UnsupportedEncodingError,
    ),
    (
        "Content-Length : 5: refused",
        b"HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello",
        None,
        MalformedError,
    ),
    (
        "obs-fold in TE: refused in strict mode",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n chunked\r\n\r\n" + chunked(BODY5),
        None,
        MalformedError,
    ),
    (
        "obs-fold in TE: replaced by SP, chunked (unfold_obs_fold, what a user agent MUST do)",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding:\r\n chunked\r\n\r\n" + chunked(BODY5),
        ResponseHeads(unfold_obs_fold=True),
        (200, "chunked", False, BODY5, ()),
    ),
    (
        "bare LF head: refused in strict mode (a MAY)",
        b"HTTP/1.1 200 OK\nContent-Length: 5\n\nhello",
        None,
        MalformedError,
    ),
    (
        "bare LF head: accepted with allow_bare_lf",
        b"HTTP/1.1 200 OK\nContent-Length: 5\n\nhello",
        ResponseHeads(allow_bare_lf=True),
        (200, "length", False, BODY5, ()),
    ),
    (
        "HTTP/1.0 + TE chunked: faulty framing, close after",
        b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(BODY5),
        None,
        (200, "chunked", True, BODY5, ()),
    ),
    (
        "chunk size '5 ': invalid",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n",
        None,
        MalformedError,
    ),
    (
        "chunk lines LF only: invalid",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n",
        None,
        MalformedError,
    ),
    (
        "NUL in a value: refused",
        b"HTTP/1.1 200 OK\r\nX: a\x00b\r\nContent-Length: 0\r\n\r\n",
        None,
        MalformedError,
    ),
    (
        "bare CR in a value: refused",
        b"HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n",
        None,
        MalformedError,
    ),
    (
        "204 + CL: no body",
        b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n",
        None,
        (204, "none", False, b"", ()),
    ),
    (
        "304 + TE: no body",
        b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
        None,
        (304, "none", False, b"", ()),
    ),
    (
        "100 then 200: the 1xx is skipped",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        None,
        (200, "length", False, BODY5, ()),
    ),
]


@pytest.mark.parametrize(
    ("wire", "codec", "verdict"),
    [row[1:] for row in DIFFERENTIAL],
    ids=[row[0] for row in DIFFERENTIAL],
)
async def test_differential_row_gets_the_rfc_verdict(
    wire: bytes, codec: ResponseHeads | None, verdict: Any
) -> None:
    whole = await responses(wire, [b"GET"], codec=codec)
    assert whole == [verdict]
    assert await responses(wire, [b"GET"], range(1, len(wire)), codec=codec) == [verdict]
