"""Byte layers stacked as HTTP bodies are: chunked, then content codings, over one root reader.

The wire bytes are built here with the standard library (zlib, brotli, zstandard) and a
hand-written chunked framing, not with framekit's encoders, so the decoders are checked against
an independent source. Transports are simulated the way asyncio delivers data: one piece per
loop iteration, from a task of its own.
"""

from __future__ import annotations

import asyncio
import random
import zlib
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framekit.codecs.chunked import Chunked
from framekit.codecs.compression import Deflate, Gzip
from framekit.codecs.limited import Limited
from framekit.layers import LayerReader, layer
from framekit.reader import StreamReader

MSS = 1460  # bytes per TCP segment on an Ethernet path: how a transport delivers a body


# -- wire bytes ----------------------------------------------------------------------------


def text(size: int, seed: int = 0) -> bytes:
    """``size`` bytes of lines of words: compressible, but not a run of one byte."""
    rng = random.Random(seed)
    words = [
        bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(1, 9)))
        for _ in range(2000)
    ]
    lines = []
    total = 0
    number = 0
    while total < size:
        line = b"%d " % number + b" ".join(rng.choices(words, k=rng.randint(0, 14))) + b"\n"
        lines.append(line)
        total += len(line)
        number += 1
    return b"".join(lines)[:size]


def gzipped(data: bytes, level: int = 6) -> bytes:
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
    return compressor.compress(data) + compressor.flush()


def zlibbed(data: bytes) -> bytes:
    return zlib.compress(data)


def chunked(data: bytes, sizes: Sequence[int] = (4000,), trailers: bytes = b"") -> bytes:
    """``data`` as a chunked body, in chunks of ``sizes`` (cycled), then ``trailers``."""
    parts = []
    position = 0
    index = 0
    while position < len(data):
        size = sizes[index % len(sizes)]
        index += 1
        piece = data[position : position + size]
        position += len(piece)
        parts.append(b"%x\r\n" % len(piece) + piece + b"\r\n")
    return b"".join(parts) + b"0\r\n" + trailers + b"\r\n"


def chunked_at(data: bytes, cuts: Sequence[int]) -> bytes:
    """``data`` as a chunked body whose chunks end at the offsets ``cuts`` (and at the end)."""
    bounds = sorted({c for c in cuts if 0 < c < len(data)} | {len(data)})
    sizes = [b - a for a, b in zip([0, *bounds], bounds, strict=False)]
    return chunked(data, sizes) if sizes else chunked(b"")


def split_at(wire: bytes, cuts: Sequence[int]) -> list[bytes]:
    bounds = sorted(set(cuts))
    return [wire[a:b] for a, b in zip([0, *bounds], [*bounds, len(wire)], strict=True)]


def pieces_of(wire: bytes, size: int = MSS) -> list[bytes]:
    return [wire[i : i + size] for i in range(0, len(wire), size)]


async def transport(reader: StreamReader, pieces: Sequence[bytes], *, eof: bool = True) -> None:
    """Feed ``pieces`` one per loop iteration, as a transport's protocol would."""
    for piece in pieces:
        reader.feed_data(piece)
        await asyncio.sleep(0)
    if eof:
        reader.feed_eof()


BODY = text(3 * 1024 * 1024)
GZ = gzipped(BODY)
WIRE = chunked(GZ, sizes=(4096, 1000, 17, 8192))


# -- a few MiB through chunked + gzip, fed like a transport --------------------------------


async def read_all(reader: StreamReader, how: str) -> bytes:
    parts = []
    if how == "read":
        return await reader.read()
    if how == "read-n":
        while part := await reader.read(10_000):
            parts.append(part)
    elif how == "readany":
        while part := await reader.readany():
            parts.append(part)
    elif how == "readline":
        while line := await reader.readline():
            parts.append(line)
    elif how == "readexactly":
        remaining = len(BODY)
        while remaining:
            part = await reader.readexactly(min(remaining, 7777))
            parts.append(part)
            remaining -= len(part)
        assert await reader.read() == b""
    elif how == "readchunk":
        async for part, _ in reader.iter_chunks():
            parts.append(part)
    return b"".join(parts)


@pytest.mark.parametrize(
    "how", ["read", "read-n", "readany", "readline", "readexactly", "readchunk"]
)
async def test_chunked_gzip_body_fed_in_segments_reads_back_whole(how: str) -> None:
    root = StreamReader()
    body = layer(root, Chunked(), Gzip())
    feeding = asyncio.ensure_future(transport(root, pieces_of(WIRE)))
    assert await read_all(body, how) == BODY
    await feeding
    assert body.at_eof()
    assert root.at_eof()


async def test_readline_through_a_stack_splits_lines_as_the_plain_body_does() -> None:
    root = StreamReader()
    body = layer(root, Chunked(), Gzip())
    feeding = asyncio.ensure_future(transport(root, pieces_of(WIRE)))
    lines = [line async for line in body]
    await feeding
    assert lines == BODY.splitlines(keepends=True)


# -- pipelined messages on one root ----------------------------------------------------------

ONE = text(200_000, seed=1)
TWO = text(150_000, seed=2)
THREE = text(100_000, seed=3)
RESPONSE_ONE = chunked(gzipped(ONE), sizes=(3000, 5))
RESPONSE_TWO = chunked(gzipped(TWO), sizes=(777,), trailers=b"Digest: x\r\n")
RESPONSE_THREE = zlibbed(THREE)  # Content-Length: len(RESPONSE_THREE), Content-Encoding: deflate
TAIL = b"HTTP/1.1 200 OK\r\n"
PIPELINE = RESPONSE_ONE + RESPONSE_TWO + RESPONSE_THREE + TAIL


async def read_pipeline(root: StreamReader, lengths: Sequence[int]) -> list[bytes]:
    """Read three pipelined bodies one after the other: chunked+gzip twice, then a
    Content-Length deflate body of ``lengths[2]`` wire bytes."""
    first = layer(root, Chunked(), Gzip())
    bodies = [await first.read()]
    assert first.at_eof()
    assert first.source.at_eof()  # the chunked layer ended at its last CRLF
    assert first.source.total_raw_bytes == lengths[0]
    second = layer(root, Chunked(), Gzip())
    bodies.append(await second.read())
    assert second.at_eof()
    assert second.source.total_raw_bytes == lengths[1]
    third = layer(root, Limited(lengths[2]), Deflate())
    bodies.append(await third.read())
    assert third.at_eof()
    return bodies


async def test_pipelined_bodies_leave_the_next_message_untouched_in_the_root() -> None:
    root = StreamReader()
    root.feed_data(PIPELINE)
    root.feed_eof()
    first = layer(root, Chunked(), Gzip())
    assert await first.read() == ONE
    with root.buffer_view() as view:
        assert view == PIPELINE[len(RESPONSE_ONE) :]
    second = layer(root, Chunked(), Gzip())
    assert await second.read() == TWO
    assert isinstance(second, LayerReader) and isinstance(second.source, LayerReader)
    assert second.source.decoder.trailers == [(b"Digest", b"x")]  # type: ignore[attr-defined]
    with root.buffer_view() as view:
        assert view == RESPONSE_THREE + TAIL
    third = layer(root, Limited(len(RESPONSE_THREE)), Deflate())
    assert await third.read() == THREE
    assert await root.read() == TAIL


async def test_pipelined_bodies_fed_in_segments_read_one_after_the_other() -> None:
    root = StreamReader()
    feeding = asyncio.ensure_future(transport(root, pieces_of(PIPELINE)))
    lengths = [len(RESPONSE_ONE), len(RESPONSE_TWO), len(RESPONSE_THREE)]
    assert await read_pipeline(root, lengths) == [ONE, TWO, THREE]
    assert await root.read() == TAIL
    await feeding


SMALL = [text(3000, seed=4), text(2000, seed=5), text(1500, seed=6)]
SMALL_RESPONSES = [
    chunked(gzipped(SMALL[0]), sizes=(100, 1, 7)),
    chunked(gzipped(SMALL[1]), sizes=(50, 300)),
    zlibbed(SMALL[2]),
]
SMALL_PIPELINE = b"".join(SMALL_RESPONSES) + TAIL


@settings(max_examples=100, deadline=None)
@given(
    cuts=st.lists(st.integers(0, len(SMALL_PIPELINE)), max_size=30),
    limit=st.sampled_from([1, 7, 100, 65536]),
)
def test_pipelined_bodies_read_the_same_for_any_split_of_the_wire(
    cuts: list[int], limit: int
) -> None:
    async def main() -> tuple[list[bytes], bytes]:
        root = StreamReader(limit=limit)
        feeding = asyncio.ensure_future(transport(root, split_at(SMALL_PIPELINE, cuts)))
        bodies = await read_pipeline(root, [len(r) for r in SMALL_RESPONSES])
        tail = await root.read()
        await feeding
        return bodies, tail

    assert asyncio.run(main()) == (SMALL, TAIL)
