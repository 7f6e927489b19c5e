"""Workload group ``http-head``: HTTP/1.1 head parsing against h11, httptools and aiohttp.

Each input is a list of complete heads, one per piece, every one parsed by a parser made for it
(as a server parses the first head of each connection; picohttpparser's ``bench.c`` does the
same), with no event loop in the way: the cost of the parse is all that is timed.

- ``head-request``: picohttpparser's ``bench.c`` request (703 bytes, 9 fields, a long cookie).
- ``head-response``: an nginx response head (8 fields, 240 bytes).

Every implementation returns, per head, its method and target (or status), its number of
fields and its last field (so each one must have found every field; built at the same small
cost for all):

- ``framekit``: ``RequestHeads().decoder()`` / ``ResponseHeads().decoder()``, one
  ``decode`` per head (a :class:`~framekit.codecs.http.Request` with its ``Headers``).
- ``httptools``: ``HttpRequestParser`` / ``HttpResponseParser`` (llhttp) with ``on_url``,
  ``on_header`` and ``on_status`` callbacks collecting the parts.
- ``aiohttp-c``, ``aiohttp-py``: aiohttp's ``HttpRequestParser`` / ``HttpResponseParser``, the
  C one (llhttp) and the pure-Python one, ``feed_data(head)``.
- ``h11``: what a user of h11 runs. Requests: a server ``h11.Connection`` per head (made in
  the timed loop, as framekit's decoder and aiohttp's parser are), ``receive_data`` then
  ``next_event()``. Responses: a client ``h11.Connection`` per head that has sent its
  request (``Request`` and ``EndOfMessage``), made by a :class:`~benchmarks.harness.Prepared`
  setup outside the timing (a client has sent its request before the response arrives; the
  sending is not head parsing), then ``receive_data`` and ``next_event()``, timed. This row
  leaves out h11's connection set-up where framekit's row counts its decoder's: the
  comparison leans towards h11, not framekit.
- ``h11-reader`` (responses): h11's response-head reader alone
  (``h11._readers.maybe_read_from_SEND_RESPONSE_server`` over a ``ReceiveBuffer``), without
  the connection's state machine: shown for where h11's time goes, not judged (the ``h11``
  target is against the ``h11`` row, the connection).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, cast

import h11
import httptools
from aiohttp import http_parser
from aiohttp._http_parser import HttpRequestParser as CHttpRequestParser
from aiohttp._http_parser import HttpResponseParser as CHttpResponseParser
from aiohttp.base_protocol import BaseProtocol
from h11._readers import maybe_read_from_SEND_RESPONSE_server
from h11._receivebuffer import ReceiveBuffer

from benchmarks.harness import (
    Implementation,
    Input,
    Prepared,
    Target,
    Workload,
    items_digest,
    register,
)
from framekit.codecs.http import RequestHeads, ResponseHeads

__all__ = ["REQUEST", "RESPONSE"]

#: picohttpparser's bench.c request.
REQUEST = (
    b"GET /wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg HTTP/1.1\r\n"
    b"Host: www.kittyhell.com\r\n"
    b"User-Agent: Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10.6; ja-JP-mac; rv:1.9.2.3) "
    b"Gecko/20100401 Firefox/3.6.3 Pathtraq/0.9\r\n"
    b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    b"Accept-Language: ja,en-us;q=0.7,en;q=0.3\r\n"
    b"Accept-Encoding: gzip,deflate\r\n"
    b"Accept-Charset: Shift_JIS,utf-8;q=0.7,*;q=0.7\r\n"
    b"Keep-Alive: 115\r\n"
    b"Connection: keep-alive\r\n"
    b"Cookie: wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx; "
    b"__utma=xxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.x; "
    b"__utmz=xxxxxxxxx.xxxxxxxxxx.x.x.utmccn=(referral)|utmcsr=reader.livedoor.com"
    b"|utmcct=/reader/|utmcmd=referral\r\n"
    b"\r\n"
)

#: A response head as nginx sends it.
RESPONSE = (
    b"HTTP/1.1 200 OK\r\n"
    b"Server: nginx/1.22.1\r\n"
    b"Date: Wed, 02 Dec 2026 11:19:12 GMT\r\n"
    b"Content-Type: text/plain\r\n"
    b"Last-Modified: Wed, 02 Dec 2026 11:18:55 GMT\r\n"
    b"Transfer-Encoding: chunked\r\n"
    b"Connection: keep-alive\r\n"
    b'ETag: W/"6b0ffe9f-2bc"\r\n'
    b"Content-Encoding: gzip\r\n"
    b"\r\n"
)

#: Heads per input at full scale.
COUNT = 20_000


def _item(first: bytes, fields: Sequence[tuple[bytes, bytes]]) -> bytes:
    # Cheap, so the parse is what is timed: how many fields, and the last one whole.
    name, value = fields[-1]
    return b"%s|%d|%s:%s" % (first, len(fields), name, value)


def _expected(head: bytes) -> bytes:
    lines = head[:-4].split(b"\r\n")
    start = lines[0].split(b" ")
    first = start[1] if head.startswith(b"HTTP/") else start[0] + b" " + start[1]
    fields = [line.split(b": ", 1) for line in lines[1:]]
    return _item(first, [(name, value) for name, value in fields])


def _input(head: bytes, scale: float) -> Input:
    count = max(10, int(COUNT * scale))
    pieces = [head] * count
    return Input(pieces, items_digest([_expected(head)] * count), len(head) * count)


# -- the implementations ------------------------------------------------------------------------


async def framekit_requests(pieces: Sequence[bytes]) -> list[bytes]:
    codec = RequestHeads()
    out = []
    for piece in pieces:
        frames: list[Any] = []
        codec.decoder().decode(memoryview(piece), frames)
        head = frames[0]
        out.append(_item(head.method + b" " + head.target, head.headers))
    return out


async def framekit_responses(pieces: Sequence[bytes]) -> list[bytes]:
    codec = ResponseHeads()
    out = []
    for piece in pieces:
        frames: list[Any] = []
        codec.decoder().decode(memoryview(piece), frames)
        head = frames[0]
        out.append(_item(b"%d" % head.status, head.headers))
    return out


class _Collect:
    def __init__(self) -> None:
        self.url = b""
        self.fields: list[tuple[bytes, bytes]] = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.fields.append((name, value))


async def httptools_requests(pieces: Sequence[bytes]) -> list[bytes]:
    out = []
    for piece in pieces:
        collect = _Collect()
        parser = httptools.HttpRequestParser(collect)
        parser.feed_data(piece)
        out.append(_item(parser.get_method() + b" " + collect.url, collect.fields))
    return out


async def httptools_responses(pieces: Sequence[bytes]) -> list[bytes]:
    out = []
    for piece in pieces:
        collect = _Collect()
        parser = httptools.HttpResponseParser(collect)
        parser.feed_data(piece)
        out.append(_item(b"%d" % parser.get_status_code(), collect.fields))
    return out


class _Protocol:
    transport = None


def _aiohttp(parser_class: Any, request: bool) -> Implementation:
    async def impl(pieces: Sequence[bytes]) -> list[bytes]:
        loop = asyncio.get_running_loop()
        protocol = cast(BaseProtocol, _Protocol())
        out = []
        for piece in pieces:
            parser = parser_class(protocol, loop, 2**16, max_line_size=8190, max_field_size=8190)
            messages, _, _ = parser.feed_data(piece)
            message = messages[0][0]
            raw = message.raw_headers
            if request:
                first = message.method.encode() + b" " + message.path.encode()
            else:
                first = b"%d" % message.code
            out.append(_item(first, raw))
        return out

    return impl


async def h11_requests(pieces: Sequence[bytes]) -> list[bytes]:
    out = []
    for piece in pieces:
        connection = h11.Connection(h11.SERVER)
        connection.receive_data(piece)
        event = connection.next_event()
        assert isinstance(event, h11.Request)
        out.append(_item(event.method + b" " + event.target, event.headers.raw_items()))
    return out


def _h11_clients(pieces: Sequence[bytes]) -> list[tuple[h11.Connection, bytes]]:
    # Untimed: each client has sent its request, so the response head is what it reads next.
    prepared = []
    for piece in pieces:
        connection = h11.Connection(h11.CLIENT)
        connection.send(h11.Request(method="GET", target="/", headers=[("Host", "example.com")]))
        connection.send(h11.EndOfMessage())
        prepared.append((connection, piece))
    return prepared


async def h11_responses(prepared: Sequence[tuple[h11.Connection, bytes]]) -> list[bytes]:
    out = []
    for connection, piece in prepared:
        connection.receive_data(piece)
        event = connection.next_event()
        assert isinstance(event, h11.Response)
        out.append(_item(b"%d" % event.status_code, event.headers.raw_items()))
    return out


async def h11_reader_responses(pieces: Sequence[bytes]) -> list[bytes]:
    out = []
    for piece in pieces:
        buffer = ReceiveBuffer()
        buffer += piece
        event = maybe_read_from_SEND_RESPONSE_server(buffer)
        assert isinstance(event, h11.Response)
        out.append(_item(b"%d" % event.status_code, event.headers.raw_items()))
    return out


TARGETS = [
    Target("aiohttp-py", 3.0),
    Target("h11", 4.0),
    Target("httptools", 0.2),
]

register(
    Workload(
        name="head-request",
        group="http-head",
        description="the 703-byte bench.c request head, a fresh parser per head",
        make_input=lambda scale: _input(REQUEST, scale),
        implementations={
            "framekit": framekit_requests,
            "httptools": httptools_requests,
            "aiohttp-c": _aiohttp(CHttpRequestParser, request=True),
            "aiohttp-py": _aiohttp(http_parser.HttpRequestParserPy, request=True),
            "h11": h11_requests,
        },
        baselines=["httptools", "aiohttp-c", "aiohttp-py", "h11"],
        targets=TARGETS,
    )
)
register(
    Workload(
        name="head-response",
        group="http-head",
        description="a 240-byte nginx response head, a fresh parser per head",
        make_input=lambda scale: _input(RESPONSE, scale),
        implementations={
            "framekit": framekit_responses,
            "httptools": httptools_responses,
            "aiohttp-c": _aiohttp(CHttpResponseParser, request=False),
            "aiohttp-py": _aiohttp(http_parser.HttpResponseParserPy, request=False),
            "h11": Prepared(_h11_clients, h11_responses),
            "h11-reader": h11_reader_responses,
        },
        baselines=["httptools", "aiohttp-c", "aiohttp-py", "h11", "h11-reader"],
        targets=TARGETS,
    )
)
