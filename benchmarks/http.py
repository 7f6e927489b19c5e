"""Workload group ``http``: HTTP/1.1 body decoding (chunked, gzip) against aiohttp, h11, zlib.

Every input is an HTTP response body on the wire, cut into 64 KiB pieces (1460-byte pieces,
one TCP segment's payload, for the ``/1460`` rows, at a quarter of the size) and fed piece by
piece (:func:`~benchmarks.harness.feed_and_read`); every implementation reads the decoded body
until its end and returns the chunks it got (checked: length and hash of their concatenation).

- ``chunked-16k``: a 64 MiB body in 16 KiB chunks.
- ``chunked-64b``: a 64 MiB body in 64-byte chunks (about a million chunks).
- ``gzip``: a 64 MiB body, gzip-compressed (log-like lines, about 4:1), not chunked.
- ``chunked-gzip``: the same gzip stream sent chunked, in 8 KiB chunks.

The body is log-like text (a number and 12 words a line), deterministic.

The implementations:

- ``framekit``: a root ``StreamReader`` fed the pieces, ``layer(root, Chunked())`` (with
  ``Gzip()`` on top for gzip; ``Gzip()`` alone for the unchunked one), read with
  ``readany()`` until EOF. ``framekit-zlib`` is the same with ``Gzip(backend="zlib")`` (the
  default, ``"auto"``, picks isal when it is installed). The chunked decoder takes its
  compiled fast path (``framekit.speedups``) when the extension is built; ``framekit-py`` (on
  the chunked-only inputs) is the same without it, framekit as pure Python.
- ``framekit-http``, ``framekit-http-zlib`` (``chunked-gzip``): the whole message the way a
  client reads it, the head by ``frames(ResponseHeads())`` and the body by the layers
  ``framekit.http.read_response`` stacks from it (chunked, then gzip: auto and zlib backends).
- ``aiohttp-c``: aiohttp's C parser (llhttp), ``aiohttp._http_parser.HttpResponseParser``, fed
  the pieces with ``feed_data``; the body is read from the payload ``StreamReader`` it returns,
  with ``readany()`` until EOF.
- ``aiohttp-py``: aiohttp's pure-Python ``HttpPayloadParser``, body parser only (it is given
  ``chunked=True`` / ``length``, ``compression``), feeding an aiohttp ``StreamReader`` read
  with ``readany()``.
- ``h11``: a client ``h11.Connection`` (a GET sent first), a reading task doing
  ``receive_data`` then ``next_event()`` until ``NEED_DATA``, collecting ``Data`` events.
- ``zlib``: the ceiling for gzip: a bare ``zlib.decompressobj(wbits=31)`` loop over the gzip
  pieces, ``decompress(data, 65536)`` and ``unconsumed_tail`` (the same 64 KiB output bound as
  every reader here), with no event loop at all.

The head. ``aiohttp-c``, ``h11`` and framekit (on the chunked inputs) parse an HTTP response
head first; it is fed as one extra piece before the body pieces (framekit reads it with
``readuntil(b"\\r\\n\\r\\n")``, then layers). ``aiohttp-py`` and ``zlib`` take the body only.
The head costs microseconds against the body's hundreds of milliseconds.

Every reader has the same 64 KiB ``limit`` and a no-op transport/protocol: nothing pauses.
aiohttp decompresses with the standard library's zlib (its default backend).
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import zlib
from collections import deque
from collections.abc import Callable, Sequence
from functools import lru_cache, partial
from typing import Any, cast

import aiohttp
import h11
from aiohttp._http_parser import HttpResponseParser as CHttpResponseParser
from aiohttp.base_protocol import BaseProtocol
from aiohttp.http_parser import HeadersParser, HttpPayloadParser

from benchmarks.harness import (
    Implementation,
    Input,
    Target,
    Workload,
    bytes_digest,
    feed_and_read,
    register,
    split_pieces,
)
from benchmarks.peers import MinimalProtocol, framekit_reader
from framekit.codecs.chunked import Chunked, ChunkedDecoder
from framekit.codecs.compression import Backend, Gzip
from framekit.codecs.http import ResponseHeads
from framekit.http import read_response
from framekit.layers import layer

__all__ = ["BODY_SIZE", "LIMIT", "PIECE_SIZE", "log_body"]

MiB = 2**20
BODY_SIZE = 64 * MiB
LIMIT = PIECE_SIZE = 2**16

# -- inputs ------------------------------------------------------------------------------------


@lru_cache(maxsize=2)
def log_body(size: int) -> bytes:
    """``size`` bytes of log-like lines (compresses about 4:1), deterministic."""
    rng = random.Random(0)
    words = [
        bytes(rng.choices(b"abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 9))) for _ in range(2000)
    ]
    lines = []
    total = 0
    while total < size:
        line = b"%d %s\n" % (rng.randrange(10**9), b" ".join(rng.choices(words, k=12)))
        lines.append(line)
        total += len(line)
    return b"".join(lines)[:size]


@lru_cache(maxsize=2)
def _gzipped(size: int) -> bytes:
    # zlib.compress takes wbits from Python 3.11 on; a compressobj gives the same bytes on 3.10.
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    return compressor.compress(log_body(size)) + compressor.flush()


def _chunk(payload: bytes, chunk_size: int) -> bytes:
    """``payload`` in the chunked transfer coding, ``chunk_size``-byte chunks, no trailers."""
    parts = [
        b"%x\r\n%s\r\n" % (len(c), c)
        for c in (payload[i : i + chunk_size] for i in range(0, len(payload), chunk_size))
    ]
    parts.append(b"0\r\n\r\n")
    return b"".join(parts)


def _size(scale: float) -> int:
    return max(4096, int(BODY_SIZE * scale))


def chunked_input(scale: float, chunk_size: int) -> Input:
    body = log_body(_size(scale))
    wire = _chunk(body, chunk_size)
    return Input(split_pieces(wire, PIECE_SIZE), bytes_digest([body]), len(wire))


def gzip_input(scale: float) -> Input:
    size = _size(scale)
    wire = _gzipped(size)
    return Input(split_pieces(wire, PIECE_SIZE), bytes_digest([log_body(size)]), len(wire))


def chunked_gzip_input(scale: float) -> Input:
    size = _size(scale)
    wire = _chunk(_gzipped(size), 8192)
    return Input(split_pieces(wire, PIECE_SIZE), bytes_digest([log_body(size)]), len(wire))


CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
CHUNKED_GZIP_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)


def _length_gzip_head(length: int) -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\n"
        b"Content-Length: %d\r\n\r\n" % length
    )


# -- the readers -------------------------------------------------------------------------------


async def read_all(reader: Any) -> list[bytes]:
    """``readany()`` until EOF (the same loop for framekit's and aiohttp's readers)."""
    out: list[bytes] = []
    append = out.append
    readany = reader.readany
    while True:
        chunk = await readany()
        if not chunk:
            return out
        append(chunk)


def framekit_impl(codecs: Callable[[], tuple[Any, ...]], head: bytes | None) -> Implementation:
    async def consume(root: Any) -> list[bytes]:
        if head is not None:
            await root.readuntil(b"\r\n\r\n")
        return await read_all(layer(root, *codecs()))

    async def impl(pieces: Sequence[bytes]) -> list[bytes]:
        fed = pieces if head is None else [head, *pieces]
        return await feed_and_read(framekit_reader(LIMIT), fed, consume)

    return impl


def framekit_http_impl(backend: Backend) -> Implementation:
    """The head by the head codec, the body by the layers ``read_response`` stacks."""

    async def consume(root: Any) -> list[bytes]:
        _, body = await read_response(root.frames(ResponseHeads()), backend=backend)
        return await read_all(body.reader)

    async def impl(pieces: Sequence[bytes]) -> list[bytes]:
        return await feed_and_read(framekit_reader(LIMIT), [CHUNKED_GZIP_HEAD, *pieces], consume)

    return impl


class _AiohttpCFeed:
    """A protocol-like feeder: each piece goes to llhttp; the payload reader comes with the head."""

    def __init__(self) -> None:
        loop = asyncio.get_running_loop()
        self.payload: asyncio.Future[aiohttp.StreamReader] = loop.create_future()
        self.parser = CHttpResponseParser(MinimalProtocol(), loop, LIMIT)

    def feed_data(self, data: bytes) -> None:
        messages, _upgraded, _tail = self.parser.feed_data(data)
        if messages:
            self.payload.set_result(messages[0][1])

    def feed_eof(self) -> None:
        self.parser.feed_eof()


async def _read_c_payload(feed: _AiohttpCFeed) -> list[bytes]:
    return await read_all(await feed.payload)


def aiohttp_c_impl(head: Callable[[Sequence[bytes]], bytes]) -> Implementation:
    async def impl(pieces: Sequence[bytes]) -> list[bytes]:
        return await feed_and_read(_AiohttpCFeed(), [head(pieces), *pieces], _read_c_payload)

    return impl


class _AiohttpPyFeed:
    """aiohttp's pure-Python body parser feeding an aiohttp StreamReader."""

    def __init__(self, length: int | None, compression: str | None) -> None:
        protocol = cast(BaseProtocol, MinimalProtocol())
        self.payload = aiohttp.StreamReader(protocol, LIMIT, loop=asyncio.get_running_loop())
        self.parser = HttpPayloadParser(
            self.payload,
            length=length,
            chunked=length is None,
            compression=compression,
            headers_parser=HeadersParser(),
            limit=LIMIT,
        )

    def feed_data(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def feed_eof(self) -> None:
        if not self.parser.done:
            self.parser.feed_eof()


async def _read_py_payload(feed: _AiohttpPyFeed) -> list[bytes]:
    return await read_all(feed.payload)


def aiohttp_py_impl(compression: str | None, chunked: bool) -> Implementation:
    async def impl(pieces: Sequence[bytes]) -> list[bytes]:
        length = None if chunked else sum(map(len, pieces))
        return await feed_and_read(_AiohttpPyFeed(length, compression), pieces, _read_py_payload)

    return impl


class _Inbox:
    """What a reading task awaits pieces from: fed like a reader, drained by ``get()``."""

    def __init__(self) -> None:
        self._pieces: deque[bytes] = deque()
        self._eof = False
        self._waiter: asyncio.Future[None] | None = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None
            waiter.set_result(None)

    def feed_data(self, data: bytes) -> None:
        self._pieces.append(data)
        self._wake()

    def feed_eof(self) -> None:
        self._eof = True
        self._wake()

    async def get(self) -> bytes:
        """The next piece; b"" at EOF."""
        while not self._pieces:
            if self._eof:
                return b""
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        return self._pieces.popleft()


async def _read_h11(inbox: _Inbox) -> list[bytes]:
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="GET", target="/", headers=[("Host", "example.com")]))
    conn.send(h11.EndOfMessage())
    out: list[bytes] = []
    append = out.append
    next_event = conn.next_event
    need_data = h11.NEED_DATA
    data_type = h11.Data
    while True:
        event = next_event()
        if event is need_data:
            conn.receive_data(await inbox.get())
        elif type(event) is data_type:
            append(event.data)
        elif isinstance(event, h11.EndOfMessage):
            return out
        elif not isinstance(event, h11.Response):
            raise AssertionError(f"unexpected h11 event {event!r}")


async def h11_impl(pieces: Sequence[bytes]) -> list[bytes]:
    return await feed_and_read(_Inbox(), [CHUNKED_HEAD, *pieces], _read_h11)


async def zlib_loop(pieces: Sequence[bytes]) -> list[bytes]:
    """The ceiling: a bare inflate loop with a 64 KiB output bound, no event loop."""
    inflater = zlib.decompressobj(wbits=31)
    decompress = inflater.decompress
    out: list[bytes] = []
    append = out.append
    for piece in pieces:
        data = piece
        while data:
            append(decompress(data, LIMIT))
            data = inflater.unconsumed_tail
    while not inflater.eof:
        chunk = decompress(b"", LIMIT)
        if not chunk:
            raise AssertionError("truncated gzip stream")
        append(chunk)
    return out


# -- registration ------------------------------------------------------------------------------


class PythonChunked(Chunked):
    """``Chunked()`` without framekit's compiled fast path (``framekit.speedups``): what
    framekit does as pure Python, for ``framekit-py``."""

    def decoder(self) -> ChunkedDecoder:
        decoder = super().decoder()
        decoder._compiled = None
        return decoder


#: The 64 KiB workloads, by name (their /1460 variants are made from them, below).
_WORKLOADS: dict[str, Workload] = {}

_chunked_impls: dict[str, Implementation] = {
    "framekit": framekit_impl(lambda: (Chunked(),), head=CHUNKED_HEAD),
    "framekit-py": framekit_impl(lambda: (PythonChunked(),), head=CHUNKED_HEAD),
    "aiohttp-c": aiohttp_c_impl(lambda pieces: CHUNKED_HEAD),
    "aiohttp-py": aiohttp_py_impl(None, chunked=True),
    "h11": h11_impl,
}

_WORKLOADS["chunked-16k"] = register(
    Workload(
        name="chunked-16k",
        group="http",
        description="64 MiB body in 16 KiB HTTP chunks, 64 KiB pieces, readany()",
        make_input=partial(chunked_input, chunk_size=16384),
        implementations=_chunked_impls,
        baselines=["aiohttp-c", "aiohttp-py", "h11"],
        summarize=bytes_digest,
        targets=[Target("aiohttp-c", 1.0)],
        repeat=5,
    )
)
_WORKLOADS["chunked-64b"] = register(
    Workload(
        name="chunked-64b",
        group="http",
        description="64 MiB body in 64-byte HTTP chunks, 64 KiB pieces, readany()",
        make_input=partial(chunked_input, chunk_size=64),
        implementations=_chunked_impls,
        baselines=["aiohttp-c", "aiohttp-py", "h11"],
        summarize=bytes_digest,
        targets=[Target("aiohttp-py", 3.0), Target("aiohttp-c", 0.5)],
    )
)
_WORKLOADS["gzip"] = register(
    Workload(
        name="gzip",
        group="http",
        description="64 MiB log-like body, gzip (about 4:1), 64 KiB pieces, readany()",
        make_input=gzip_input,
        implementations={
            "framekit": framekit_impl(lambda: (Gzip(),), head=None),
            "framekit-zlib": framekit_impl(lambda: (Gzip(backend="zlib"),), head=None),
            "zlib": zlib_loop,
            "aiohttp-c": aiohttp_c_impl(lambda pieces: _length_gzip_head(sum(map(len, pieces)))),
            "aiohttp-py": aiohttp_py_impl("gzip", chunked=False),
        },
        baselines=["zlib", "aiohttp-c", "aiohttp-py"],
        summarize=bytes_digest,
        targets=[Target("zlib", 1.0), Target("zlib", 0.91, subject="framekit-zlib")],
    )
)
_WORKLOADS["chunked-gzip"] = register(
    Workload(
        name="chunked-gzip",
        group="http",
        description="the gzip body sent in 8 KiB HTTP chunks, 64 KiB pieces, readany()",
        make_input=chunked_gzip_input,
        implementations={
            "framekit": framekit_impl(lambda: (Chunked(), Gzip()), head=CHUNKED_GZIP_HEAD),
            "framekit-zlib": framekit_impl(
                lambda: (Chunked(), Gzip(backend="zlib")), head=CHUNKED_GZIP_HEAD
            ),
            "framekit-http": framekit_http_impl("auto"),
            "framekit-http-zlib": framekit_http_impl("zlib"),
            "aiohttp-c": aiohttp_c_impl(lambda pieces: CHUNKED_GZIP_HEAD),
            "aiohttp-py": aiohttp_py_impl("gzip", chunked=True),
        },
        baselines=["aiohttp-c", "aiohttp-py"],
        summarize=bytes_digest,
        targets=[Target("aiohttp-c", 1.0), Target("aiohttp-c", 1.0, subject="framekit-http-zlib")],
    )
)


# -- TCP-segment-sized pieces ----------------------------------------------------------------
#
# The same bodies cut into 1460-byte pieces (one TCP segment's payload), as a transport hands
# them over from a socket read at a time on a fast connection: the cost per piece (a decode
# step, a wake-up) weighs more than at 64 KiB. At a quarter of the size of the 64 KiB rows.

SEGMENT = 1460


def _segments(inp: Input) -> Input:
    return Input(split_pieces(b"".join(inp.pieces), SEGMENT), inp.expected, inp.nbytes)


def _segment_input(make: Callable[[float], Input]) -> Callable[[float], Input]:
    return lambda scale: _segments(make(scale / 4))


def _register_segments(name: str, body: str, aiohttp_peer: str, *also: str) -> None:
    """Register ``name/1460``: the workload ``name`` (registered above) at a quarter of its
    size in 1460-byte pieces, with its implementations, and the target >= 1x aiohttp's C
    parser for ``aiohttp_peer`` (the framekit implementation with the same zlib)."""
    base = _WORKLOADS[name]
    register(
        dataclasses.replace(
            base,
            name=f"{name}/1460",
            description=f"{body}, 1460-byte pieces, readany()",
            make_input=_segment_input(base.make_input),
            targets=[Target("aiohttp-c", 1.0, subject=peer) for peer in (aiohttp_peer, *also)],
            repeat=1,
        )
    )


_register_segments("chunked-16k", "16 MiB body in 16 KiB HTTP chunks", "framekit")
_register_segments("chunked-64b", "16 MiB body in 64-byte HTTP chunks", "framekit")
_register_segments("gzip", "16 MiB log-like body, gzip", "framekit-zlib")
_register_segments(
    "chunked-gzip", "the gzip body in 8 KiB HTTP chunks", "framekit-zlib", "framekit-http-zlib"
)
