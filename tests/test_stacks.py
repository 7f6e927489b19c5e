"""Byte layers stacked as HTTP bodies are: chunked, then content codings, over one root reader.

The wire bytes are built here with the standard library (zlib, brotli, zstandard) and a
hand-written chunked framing, not with framekit's encoders, so the decoders are checked against
an independent source. Transports are simulated the way asyncio delivers data: one piece per
loop iteration, from a task of its own.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import random
import subprocess
import sys
import textwrap
import zlib
from collections.abc import Callable, Sequence
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framekit.codecs._base import ByteCodec
from framekit.codecs.chunked import Chunked, ChunkedDecoder
from framekit.codecs.compression import Brotli, Deflate, Gzip, Zstd, content_decoding
from framekit.codecs.limited import Limited
from framekit.errors import FramingError, LimitExceededError, MalformedError, TruncatedError
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


def stack(root: StreamReader, *codecs: ByteCodec, limit: int | None = None) -> LayerReader:
    """``stack(root, *codecs)``, typed as the LayerReader it is."""
    reader = layer(root, *codecs, limit=limit)
    assert isinstance(reader, LayerReader)
    return reader


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
    body = stack(root, Chunked(), Gzip())
    feeding = asyncio.ensure_future(transport(root, pieces_of(WIRE)))
    assert await read_all(body, how) == BODY
    await feeding
    assert body.at_eof()
    assert root.at_eof()


async def test_readline_through_a_stack_splits_lines_as_the_plain_body_does() -> None:
    root = StreamReader()
    body = stack(root, Chunked(), Gzip())
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
    first = stack(root, Chunked(), Gzip())
    bodies = [await first.read()]
    assert first.at_eof()
    assert first.source.at_eof()  # the chunked layer ended at its last CRLF
    assert first.source.total_raw_bytes == lengths[0]
    second = stack(root, Chunked(), Gzip())
    bodies.append(await second.read())
    assert second.at_eof()
    assert second.source.total_raw_bytes == lengths[1]
    third = stack(root, Limited(lengths[2]), Deflate())
    bodies.append(await third.read())
    assert third.at_eof()
    return bodies


async def test_pipelined_bodies_leave_the_next_message_untouched_in_the_root() -> None:
    root = StreamReader()
    root.feed_data(PIPELINE)
    root.feed_eof()
    first = stack(root, Chunked(), Gzip())
    assert await first.read() == ONE
    with root.buffer_view() as view:
        assert view == PIPELINE[len(RESPONSE_ONE) :]
    second = stack(root, Chunked(), Gzip())
    assert await second.read() == TWO
    chunks = second.source
    assert isinstance(chunks, LayerReader) and isinstance(chunks.decoder, ChunkedDecoder)
    assert chunks.decoder.trailers == [(b"Digest", b"x")]
    with root.buffer_view() as view:
        assert view == RESPONSE_THREE + TAIL
    third = stack(root, Limited(len(RESPONSE_THREE)), Deflate())
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


# -- byte counts -----------------------------------------------------------------------------


async def test_each_layer_counts_the_bytes_it_took_and_the_bytes_it_made() -> None:
    root = StreamReader()
    root.feed_data(PIPELINE)
    root.feed_eof()
    first = stack(root, Chunked(), Gzip())
    assert await first.read() == ONE
    chunks = first.source
    assert root.total_raw_bytes == root.total_bytes == len(PIPELINE)
    assert chunks.total_raw_bytes == len(RESPONSE_ONE)  # framing through the last CRLF
    assert chunks.total_bytes == first.total_raw_bytes == len(gzipped(ONE))
    assert first.total_bytes == len(ONE)
    second = stack(root, Chunked(), Gzip())
    assert await second.read() == TWO
    assert second.source.total_raw_bytes == len(RESPONSE_TWO)  # the trailer section too
    assert second.total_raw_bytes == second.source.total_bytes == len(gzipped(TWO))
    assert second.total_bytes == len(TWO)
    assert root.total_raw_bytes == len(PIPELINE)


async def test_byte_counts_add_up_at_every_step_of_a_read() -> None:
    # What a layer took from its source and what is still buffered there make up all the
    # source produced; unread_data changes no count.
    root = StreamReader(limit=4096)
    body = stack(root, Chunked(), Gzip())
    chunks = body.source
    feeding = asyncio.ensure_future(transport(root, pieces_of(RESPONSE_ONE + TAIL)))
    received = 0
    while part := await body.read(3000):
        received += len(part)
        assert body.total_bytes == received + body.buffered
        assert body.total_raw_bytes + chunks.buffered == chunks.total_bytes
        assert chunks.total_raw_bytes + root.buffered == root.total_bytes
        if len(part) > 10:
            body.unread_data(part[-10:])
            received -= 10
            assert body.total_bytes == received + body.buffered
    await feeding
    assert received == len(ONE)
    assert chunks.total_raw_bytes == len(RESPONSE_ONE)
    assert root.total_raw_bytes == len(RESPONSE_ONE + TAIL)


# -- HTTP chunk marks through a decompressing layer -------------------------------------------

MARKED = text(80_000, seed=7)
MARKED_GZ = gzipped(MARKED)
# Chunk ends in the compressed stream: the gzip header alone (no output), a 1-byte chunk, and
# chunks of every size up to a few KiB.
MARKED_CUTS = [10, 11, 12, 40, 41, 1000, 1001, 1002, 3000, *range(4000, len(MARKED_GZ), 2345)]


INFLATERS = {"zlib": "zlib", "zlib-ng": "zlib_ng.zlib_ng", "isal": "isal.isal_zlib"}


def decoded_at(backend: str, compressed: bytes, cuts: Sequence[int]) -> list[int]:
    """How much ``backend`` has decoded of a gzip stream after each of ``cuts`` bytes of it
    (given all of them at once, without an output limit), and at its end."""
    inflater = importlib.import_module(INFLATERS[backend]).decompressobj(31)
    sizes = []
    produced = 0
    position = 0
    for cut in [*cuts, len(compressed)]:
        produced += len(inflater.decompress(compressed[position:cut]))
        position = cut
        sizes.append(produced)
    return sizes


def ends_of(chunks: Sequence[tuple[bytes, bool]]) -> list[int]:
    """The output positions where ``readchunk()`` said a chunk ended."""
    ends = []
    position = 0
    for data, end_of_chunk in chunks:
        position += len(data)
        if end_of_chunk:
            ends.append(position)
    return ends


async def test_readchunk_on_a_chunked_layer_ends_at_each_http_chunk() -> None:
    root = StreamReader()
    body = root.layer(Chunked())
    feeding = asyncio.ensure_future(transport(root, pieces_of(chunked_at(MARKED, MARKED_CUTS))))
    chunks = [chunk async for chunk in body.iter_chunks()]
    await feeding
    assert b"".join(data for data, _ in chunks) == MARKED
    assert ends_of(chunks) == [*MARKED_CUTS, len(MARKED)]


async def chunk_ends_through_gzip(
    data: bytes, cuts: Sequence[int], backend: str, limit: int
) -> None:
    """Read gzipped ``data`` sent in HTTP chunks ending at ``cuts`` (compressed offsets) with
    readchunk(), and check where it reports chunk ends.

    aiohttp's rule (DeflateBuffer and end_http_chunk_receiving): at the end of each HTTP chunk,
    the decompressed output so far ends a chunk, unless no output came since the last end.
    framekit's gzip layer decodes from its source up to the next chunk end and marks its
    output there, so the ends are where the decompressor has decoded each chunk's last byte:
    exactly what the same library gives when fed the chunks one by one.
    """
    pytest.importorskip(INFLATERS[backend])
    compressed = gzipped(data)
    root = StreamReader(limit=limit)
    body = stack(root, Chunked(), Gzip(backend=backend))  # type: ignore[arg-type]
    feeding = asyncio.ensure_future(transport(root, pieces_of(chunked_at(compressed, cuts))))
    chunks = [chunk async for chunk in body.iter_chunks()]
    await feeding
    assert b"".join(piece for piece, _ in chunks) == data
    assert ends_of(chunks) == sorted(set(decoded_at(backend, compressed, cuts)) - {0})


@pytest.mark.parametrize("backend", INFLATERS)
async def test_readchunk_through_gzip_ends_where_each_http_chunk_was_decoded(backend: str) -> None:
    # Each chunk decodes to less than one step of the layer's budget.
    await chunk_ends_through_gzip(MARKED, MARKED_CUTS, backend, limit=65536)


@pytest.mark.parametrize("backend", INFLATERS)
async def test_readchunk_through_gzip_with_small_steps_and_small_chunks(backend: str) -> None:
    # A chunk's output spans several budget steps: the end is marked after the last of them.
    await chunk_ends_through_gzip(MARKED, MARKED_CUTS, backend, limit=1000)


@pytest.mark.parametrize("backend", INFLATERS)
async def test_readchunk_through_gzip_when_a_chunk_decodes_to_more_than_a_step(
    backend: str,
) -> None:
    # The decoder consumes a chunk's last byte while it still holds output decoded from it
    # (zlib: a pending match; isal: it takes the whole input at once): the layer drains it
    # before marking the chunk end.
    zeros = bytes(2_000_000)  # every 97-byte chunk of its gzip stream decodes to ~100 KB
    cuts = range(20, len(gzipped(zeros)), 97)
    await chunk_ends_through_gzip(zeros, cuts, backend, limit=1000)


def _brotli_pair() -> tuple[bytes, Callable[[bytes], bytes]]:
    brotli = pytest.importorskip("brotli")
    return brotli.compress(bytes(1_000_000) + MARKED), brotli.Decompressor().process


def _zstd_pair() -> tuple[bytes, Callable[[bytes], bytes]]:
    zstandard = pytest.importorskip("zstandard")
    compressed = zstandard.ZstdCompressor().compress(bytes(1_000_000) + MARKED)
    return compressed, zstandard.ZstdDecompressor().decompressobj().decompress


@pytest.mark.parametrize(
    ("codec", "pair"), [(Brotli(), _brotli_pair), (Zstd(), _zstd_pair)], ids=["br", "zstd"]
)
async def test_readchunk_through_brotli_and_zstd_ends_after_each_chunks_output(
    codec: ByteCodec, pair: Callable[[], tuple[bytes, Callable[[bytes], bytes]]]
) -> None:
    compressed, decompress = pair()
    cuts = list(range(7, len(compressed), 31))
    expected = []
    produced = position = 0
    for cut in [*cuts, len(compressed)]:
        produced += len(decompress(compressed[position:cut]))
        position = cut
        expected.append(produced)
    root = StreamReader(limit=1000)
    body = stack(root, Chunked(), codec)
    feeding = asyncio.ensure_future(transport(root, pieces_of(chunked_at(compressed, cuts))))
    chunks = [chunk async for chunk in body.iter_chunks()]
    await feeding
    assert b"".join(piece for piece, _ in chunks) == bytes(1_000_000) + MARKED
    ends = ends_of(chunks)
    wanted = sorted(set(expected) - {0})
    assert ends == sorted(set(ends))
    assert ends[-1] == len(bytes(1_000_000) + MARKED)
    if isinstance(codec, Zstd):
        # zstd may need the next chunk's bytes to finish a block header (the layer then lets
        # the decoder read past the chunk end, and that end is not reported): every reported
        # end is one of the library's, and most are reported.
        assert set(ends) <= set(wanted)
        assert len(ends) >= len(wanted) // 2
    else:
        # brotli, asked for bounded output, hands over a metablock's output in other steps
        # than when asked for all of it: the ends fall elsewhere, one per chunk with output.
        assert len(ends) == len(wanted)


# -- a decompression bomb through a stack -----------------------------------------------------

BOMB_SIZE = 1 << 30

# Read a chunked+gzip bomb (the wire in the file argv[1]) through a stack 64 KiB at a time,
# fed 1460 bytes per loop iteration; print the peak RSS growth (KiB) during the read and the
# bytes read. argv[2] bytes of output are kept, and reading stops after them if non-zero (the
# control case, which must see them).
BOMB_CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from framekit.codecs.chunked import Chunked
    from framekit.codecs.compression import Gzip
    from framekit.layers import layer
    from framekit.reader import StreamReader

    wire = open(sys.argv[1], "rb").read()
    keep = int(sys.argv[2])

    def status(field):
        for line in open("/proc/self/status"):
            if line.startswith(field):
                return int(line.split()[1])

    async def feed(root):
        for i in range(0, len(wire), 1460):
            root.feed_data(wire[i : i + 1460])
            await asyncio.sleep(0)
        root.feed_eof()

    async def main():
        root = StreamReader()
        body = layer(root, Chunked(), Gzip())
        feeding = asyncio.ensure_future(feed(root))
        kept = []
        total = 0
        while piece := await body.read(65536):
            total += len(piece)
            if keep:
                kept.append(piece)
                if total >= keep:
                    feeding.cancel()
                    break
        return total

    # Reset the peak (VmHWM) to the current RSS, so that the peak after is the read's own.
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    before = status("VmRSS:")
    total = asyncio.run(main())
    print(status("VmHWM:") - before, total)
    """
)


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, int]:
    """A chunked body holding 1 GiB of zeros gzipped, written to a file a piece at a time:
    (its path, the length of the gzip stream inside)."""
    path = tmp_path_factory.mktemp("stack-bomb") / "bomb.chunked-gzip"
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    compressed = 0
    with path.open("wb") as file:
        for index in range((BOMB_SIZE >> 20) + 1):
            piece = compressor.compress(zeros) if index < BOMB_SIZE >> 20 else compressor.flush()
            if piece:
                compressed += len(piece)
                file.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
        file.write(b"0\r\n\r\n")
    return str(path), compressed


def read_bomb_in_a_child(path: str, keep: int = 0) -> tuple[int, int]:
    """(peak RSS growth in KiB, bytes read) of BOMB_CHILD reading the bomb at ``path``."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run(
        [sys.executable, "-c", BOMB_CHILD, path, str(keep)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": root},
        timeout=300,
    )
    growth, total = map(int, result.stdout.split())
    return growth, total


NEEDS_PROC = pytest.mark.skipif(
    not os.path.exists("/proc/self/clear_refs"), reason="measures peak RSS through Linux /proc"
)


@NEEDS_PROC
def test_a_one_gib_bomb_through_chunked_and_gzip_reads_in_bounded_memory(
    bomb: tuple[str, int],
) -> None:
    growth_kib, total = read_bomb_in_a_child(bomb[0])
    assert total == BOMB_SIZE
    assert growth_kib < 64 * 1024


@NEEDS_PROC
def test_the_bomb_memory_measurement_sees_output_kept(bomb: tuple[str, int]) -> None:
    # Control: the same child keeping the first 96 MiB it reads must show them.
    growth_kib, total = read_bomb_in_a_child(bomb[0], keep=96 << 20)
    assert total >= 96 << 20
    assert growth_kib > 90 * 1024


async def test_a_bomb_through_a_stack_stops_at_max_output_size(bomb: tuple[str, int]) -> None:
    path, compressed = bomb
    cap = 10 << 20
    root = StreamReader()
    with open(path, "rb") as file:
        root.feed_data(file.read())
    root.feed_eof()
    body = stack(root, Chunked(), Gzip(max_output_size=cap))
    total = 0
    with pytest.raises(LimitExceededError) as info:
        while piece := await body.read(65536):
            assert piece == bytes(len(piece))
            total += len(piece)
    assert total == cap  # every byte up to the cap, none past it
    assert info.value.limit == cap
    # The offset counts in the gzip layer's source: the compressed stream.
    assert info.value.offset is not None and 0 < info.value.offset <= compressed
    assert info.value.offset <= body.total_raw_bytes + body.source.buffered
    assert body.exception() is info.value
    # The chunked layer under it is intact: the rest of the gzip stream is still there.
    rest = await body.source.read()
    assert body.total_raw_bytes + len(rest) == compressed
    assert root.at_eof()


# -- truncated and corrupt bodies -------------------------------------------------------------


def cut_points(wire: bytes) -> dict[str, int]:
    """Places to cut RESPONSE_ONE's wire: inside chunk data, a size line, between chunks."""
    first_line = wire.index(b"\r\n") + 2
    return {
        "inside-the-gzip-header": first_line + 5,
        "inside-chunk-data": len(wire) // 2,
        "inside-a-size-line": wire.index(b"\r\n", first_line + 3000) + 3,
        "after-a-chunk": wire.index(b"\r\n", first_line + 3000) + 2,
        "before-the-last-chunk": len(wire) - len(b"0\r\n\r\n"),
        "before-the-final-crlf": len(wire) - 2,
    }


@pytest.mark.parametrize("where", list(cut_points(RESPONSE_ONE)))
async def test_root_eof_inside_a_chunked_gzip_body_is_truncation_on_the_outer_layer(
    where: str,
) -> None:
    cut = cut_points(RESPONSE_ONE)[where]
    root = StreamReader()
    body = stack(root, Chunked(), Gzip())
    feeding = asyncio.ensure_future(transport(root, pieces_of(RESPONSE_ONE[:cut])))
    received = []
    with pytest.raises(TruncatedError) as info:
        while part := await body.read(5000):
            received.append(part)
    await feeding
    assert ONE.startswith(b"".join(received))  # what was decoded before the end is good
    assert info.value.offset == cut  # where the root's stream ended
    assert isinstance(body.exception(), TruncatedError)
    with pytest.raises(TruncatedError):
        await body.read()


async def test_gzip_cut_short_inside_a_whole_chunked_body_is_truncation_on_the_gzip_layer() -> None:
    compressed = gzipped(ONE)
    short = compressed[: len(compressed) // 2]
    wire = chunked(short, sizes=(3000,)) + RESPONSE_TWO
    root = StreamReader()
    root.feed_data(wire)
    root.feed_eof()
    body = stack(root, Chunked(), Gzip())
    with pytest.raises(TruncatedError) as info:
        await body.read()
    assert info.value.offset == len(short)  # in the gzip layer's source: the chunked body
    assert body.source.at_eof() and body.source.exception() is None
    # The chunked body ended where it should: the next message reads.
    assert await stack(root, Chunked(), Gzip()).read() == TWO


@pytest.mark.parametrize("damage", ["crc", "deflate-data"])
async def test_corrupt_gzip_inside_a_valid_chunked_body_leaves_the_layers_under_it_usable(
    damage: str,
) -> None:
    compressed = bytearray(gzipped(ONE))
    if damage == "crc":
        compressed[-8] ^= 0xFF
    else:
        middle = len(compressed) // 2
        compressed[middle : middle + 40] = bytes(40)
    root = StreamReader()
    feeding = asyncio.ensure_future(
        transport(root, pieces_of(chunked(bytes(compressed), sizes=(3000,)) + RESPONSE_TWO))
    )
    body = stack(root, Chunked(), Gzip(backend="zlib"))
    received = []
    with pytest.raises(MalformedError):
        while part := await body.read(5000):
            received.append(part)
    if damage == "crc":
        # Good data up to the check. (Not all of it: zlib drops the output of the call that
        # meets the bad CRC, so the last budget step's bytes are not delivered.)
        assert ONE.startswith(b"".join(received))
    assert isinstance(body.exception(), MalformedError)
    # The chunked layer is fine: it drains to its end, giving the compressed bytes the gzip
    # layer did not take, and the next message on the root reads whole.
    chunks = body.source
    rest = await chunks.read()
    assert chunks.exception() is None and chunks.at_eof()
    assert body.total_raw_bytes + len(rest) == len(compressed)
    assert rest == bytes(compressed[body.total_raw_bytes :])
    assert await stack(root, Chunked(), Gzip()).read() == TWO
    await feeding


# -- a failed layer pins nothing in its source ------------------------------------------------

BIG = 100_000  # more than a decoder's 64 KiB input slice: the decoders slice the view


def _corrupt_zstd() -> bytes:
    zstandard = pytest.importorskip("zstandard")
    frame = bytearray(zstandard.ZstdCompressor().compress(text(BIG * 3)))
    for i in range(20, len(frame) - 10, 7):
        frame[i] ^= 0x55  # corrupt inside the first block, behind a good header
    return bytes(frame)


def _broken_wire(name: str) -> tuple[ByteCodec, bytes, bool]:
    """A codec, input it fails on after taking a view of more than 64 KiB, and whether the
    failure needs the source's EOF (a truncated body)."""
    if name == "gzip":
        return Gzip(), b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + b"\xff" * BIG, False
    if name == "deflate":
        return Deflate(), b"\x78\x9c" + b"\xff" * BIG, False
    if name == "brotli":
        pytest.importorskip("brotli")
        return Brotli(), b"\xff" * BIG, False
    if name == "zstd":
        return Zstd(), _corrupt_zstd(), False
    if name == "chunked":
        return Chunked(), b"%x\r\n" % BIG + b"x" * BIG + b"\r\nZZ\r\n", False
    assert name == "limited"
    return Limited(2 * BIG), b"x" * BIG, True


def fed_as_a_bytearray(wire: bytes, *, eof: bool) -> StreamReader:
    """A root holding ``wire`` in its bytearray storage (its last byte fed behind the rest)."""
    root = StreamReader()
    root.feed_data(wire[:-1])
    root.feed_data(wire[-1:])
    assert type(root._buffer.data) is bytearray
    if eof:
        root.feed_eof()
    return root


@pytest.mark.parametrize("name", ["gzip", "deflate", "brotli", "zstd", "chunked", "limited"])
async def test_after_a_layer_error_the_root_still_feeds_and_reads(name: str) -> None:
    codec, wire, eof = _broken_wire(name)
    root = fed_as_a_bytearray(wire, eof=eof)
    body = root.layer(codec)
    with pytest.raises(FramingError):
        while await body.read(BIG):
            pass
    error = body.exception()
    assert isinstance(error, FramingError)
    left = root.buffered
    if not eof:
        root.feed_data(b"more")  # the bytearray grows: no view of it may be alive
        left += 4
    rest = await root.readexactly(left)
    assert rest.endswith(b"" if eof else b"more")
    assert body.exception() is error  # the layer's error is still there, and still sticky
    with pytest.raises(type(error)):
        await body.read()


@pytest.mark.parametrize("name", ["gzip", "zstd"])
async def test_an_error_waiting_behind_decoded_bytes_pins_nothing_in_the_root(name: str) -> None:
    """Met after decoded output, the error is kept until that output is read."""
    good = gzipped(b"good") if name == "gzip" else _zstd_pair_frame(b"good")
    codec, bad, _ = _broken_wire(name)
    root = fed_as_a_bytearray(good + bad, eof=False)
    body = root.layer(codec)
    assert await body.read(1) == b"g"  # the rest of the output, then the error, are pending
    root.feed_data(b"more")
    assert root.read_nowait().endswith(b"more")
    assert await body.read(10) == b"ood"
    with pytest.raises(MalformedError):
        await body.read()


def _zstd_pair_frame(data: bytes) -> bytes:
    zstandard = pytest.importorskip("zstandard")
    return zstandard.ZstdCompressor().compress(data)  # type: ignore[no-any-return]


# -- unread_data and backpressure through a stack ---------------------------------------------


async def test_unread_data_on_the_outer_layer_of_a_stack_is_read_again_first() -> None:
    root = StreamReader(limit=4096)
    body = stack(root, Chunked(), Gzip())
    feeding = asyncio.ensure_future(transport(root, pieces_of(RESPONSE_ONE + TAIL)))
    head = await body.readexactly(10_000)
    body.unread_data(head[-3000:])
    counts = (body.total_bytes, body.total_raw_bytes, body.source.total_raw_bytes)
    body.unread_data(b"")  # nothing
    assert (body.total_bytes, body.total_raw_bytes, body.source.total_raw_bytes) == counts
    again = await body.readexactly(3000)
    assert again == head[7000:]
    assert head[:7000] + again + await body.read() == ONE
    await feeding
    assert await root.read() == TAIL


async def test_sniffing_the_next_message_on_the_root_with_unread_data() -> None:
    # After a body's end the root is free: read the next message's first bytes, put them
    # back, and a stack built after that reads the whole message.
    root = StreamReader()
    root.feed_data(RESPONSE_ONE + RESPONSE_TWO)
    root.feed_eof()
    assert await stack(root, Chunked(), Gzip()).read() == ONE
    sniffed = await root.readexactly(5)
    assert sniffed == RESPONSE_TWO[:5]
    root.unread_data(sniffed)
    assert await stack(root, Chunked(), Gzip()).read() == TWO


class Transport:
    """Records pause_reading/resume_reading, and lets its feeder wait while paused."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.resumed = asyncio.Event()
        self.resumed.set()

    def pause_reading(self) -> None:
        self.calls.append("pause")
        self.resumed.clear()

    def resume_reading(self) -> None:
        self.calls.append("resume")
        self.resumed.set()

    async def deliver(self, reader: StreamReader, wire: bytes, buffered: list[int]) -> None:
        """Feed ``wire`` in segments, none while paused; record the root's buffer size."""
        for piece in pieces_of(wire):
            await self.resumed.wait()
            reader.feed_data(piece)
            buffered.append(reader.buffered)
            await asyncio.sleep(0)
        reader.feed_eof()


async def test_a_slow_reader_of_a_stack_pauses_the_root_and_bounds_every_buffer() -> None:
    limit = 16 * 1024
    flow = Transport()
    root = StreamReader(limit=limit, flow=flow)
    body = stack(root, Chunked(), Gzip())
    chunks = body.source
    root_sizes: list[int] = []
    layer_sizes: list[int] = []
    feeding = asyncio.ensure_future(flow.deliver(root, WIRE, root_sizes))
    received = []
    while part := await body.read(1024):
        received.append(part)
        layer_sizes.append(max(chunks.buffered, body.buffered))
        for _ in range(3):  # a slow consumer: the transport gets several turns per read
            await asyncio.sleep(0)
    await feeding
    assert b"".join(received) == BODY
    assert "pause" in flow.calls
    assert flow.calls[::2] == ["pause"] * len(flow.calls[::2])  # pause, resume, pause, ...
    assert flow.calls[1::2] == ["resume"] * len(flow.calls[1::2])
    assert max(root_sizes) <= 2 * limit + MSS
    assert max(layer_sizes) <= 2 * limit


# -- Content-Encoding stacks ------------------------------------------------------------------


def content_encoded(data: bytes, header: str) -> bytes:
    """``data`` with the codings of a Content-Encoding header applied in its order."""
    for name in (item.strip() for item in header.split(",")):
        if name == "gzip":
            data = gzipped(data)
        elif name == "deflate":
            data = zlibbed(data)
        elif name == "br":
            data = pytest.importorskip("brotli").compress(data, quality=4)
        elif name == "zstd":
            data = pytest.importorskip("zstandard").ZstdCompressor(level=3).compress(data)
    return data


@pytest.mark.parametrize("header", ["gzip, br", "br", "deflate, zstd", "zstd, gzip, deflate"])
async def test_content_decoding_stack_over_chunked_reads_the_body(header: str) -> None:
    wire = chunked(content_encoded(ONE, header), sizes=(1000, 3)) + TAIL
    root = StreamReader()
    body = layer(root, Chunked(), *content_decoding(header))
    feeding = asyncio.ensure_future(transport(root, pieces_of(wire)))
    assert await body.read() == ONE
    await feeding
    assert await root.read() == TAIL


async def test_content_decoding_cap_stops_the_final_output_of_a_stack() -> None:
    wire = chunked(content_encoded(ONE, "gzip, br"))
    root = StreamReader()
    root.feed_data(wire)
    root.feed_eof()
    body = layer(root, Chunked(), *content_decoding("gzip, br", max_output_size=50_000))
    received = []
    with pytest.raises(LimitExceededError) as info:
        while part := await body.read(4096):
            received.append(part)
    assert b"".join(received) == ONE[:50_000]
    assert info.value.limit == 50_000


# -- readany's pass-through (the fast path) against the general path ----------------------------

#: Bodies for the pass-through's comparison: each a codec stack and its wire, then a tail.
PASS_THROUGH_CASES = {
    "chunked": ((Chunked,), chunked(SMALL[0], sizes=(700, 3, 1460, 5000))),
    "gzip": ((Gzip,), gzipped(SMALL[1])),
    "chunked-gzip": ((Chunked, Gzip), chunked(gzipped(SMALL[2]), sizes=(50, 1, 300))),
    # Chunks larger than a segment: the two layers' fused pass-through inside a chunk.
    "chunked-gzip-large": (
        (Chunked, Gzip),
        chunked(gzipped(text(40_000, seed=7)), sizes=(5000, 1, 9000)),
    ),
    "limited": ((lambda: Limited(len(SMALL[0])),), SMALL[0]),
    "bad-chunk": ((Chunked,), chunked(SMALL[0], sizes=(999,))[:1500] + b"zz\r\n"),
    "bad-gzip": ((Gzip,), gzipped(SMALL[1])[:200] + bytes(100) + gzipped(SMALL[1])[300:]),
    "truncated": ((Chunked, Gzip), chunked(gzipped(SMALL[2]), sizes=(50, 300))[:-40]),
}


async def read_for_comparison(
    case: str, pieces: Sequence[bytes], limit: int, ops: Sequence[str], general: bool
) -> tuple[object, ...]:
    """Read a case's body by ``ops`` (then ``readany`` to the end), with readany's pass-through
    or with the general path (``StreamReader.readany`` on the layer): what was read, the
    error, every reader's counts, and what is left in the root."""
    codecs, _ = PASS_THROUGH_CASES[case]
    root = StreamReader(limit=limit)
    feeding = asyncio.ensure_future(transport(root, pieces))
    body = stack(root, *(make() for make in codecs), limit=limit)
    readany = (lambda: StreamReader.readany(body)) if general else body.readany
    out = bytearray()
    ends = []
    error: tuple[object, ...] = ()
    ops_left = list(ops)
    try:
        while True:
            op = ops_left.pop(0) if ops_left else "readany"
            if op == "readany":
                part = await readany()
            elif op == "read-3":
                part = await body.read(3)
            elif op == "readchunk":
                part, end = await body.readchunk()
                if end:
                    ends.append(len(out) + len(part))
            else:
                assert op == "unread"
                part = bytes(out[-2:])
                del out[-2:]
                body.unread_data(part)
                continue
            if not part and op != "readchunk":
                break
            out += part
    except FramingError as exc:
        error = (type(exc), exc.offset)
    await feeding
    counts = []
    reader: StreamReader = body
    while isinstance(reader, LayerReader):
        counts.append((reader.total_raw_bytes, reader.total_bytes, reader.is_eof()))
        reader = reader.source
    return bytes(out), ends, error, counts, await root.read()


@settings(max_examples=150, deadline=None)
@given(
    case=st.sampled_from(sorted(PASS_THROUGH_CASES)),
    cuts=st.lists(st.integers(0, 20_000), max_size=25),
    segment=st.sampled_from([0, 1, 7, 1460]),
    limit=st.sampled_from([1, 100, 1460, 65536]),
    ops=st.lists(st.sampled_from(["readany", "read-3", "readchunk", "unread"]), max_size=12),
)
def test_readany_pass_through_reads_what_the_general_path_reads(
    case: str, cuts: list[int], segment: int, limit: int, ops: list[str]
) -> None:
    _, wire = PASS_THROUGH_CASES[case]
    wire += TAIL
    pieces = pieces_of(wire, segment) if segment else split_at(wire, [c % len(wire) for c in cuts])

    def run(general: bool) -> tuple[object, ...]:
        return asyncio.run(read_for_comparison(case, pieces, limit, ops, general))

    assert run(general=False) == run(general=True)


async def test_readchunk_after_a_pass_through_readany_reports_the_chunk_end_it_reached() -> None:
    # The pass-through counts its output as written to the layer's buffer and read: a chunk
    # end at the end of what readany returned is there for readchunk, as after a buffered read.
    root = StreamReader()
    body = stack(root, Chunked())
    root.feed_data(b"5\r\nhello\r\n")
    assert await body.readany() == b"hello"
    root.feed_data(b"3\r\nabc\r\n0\r\n\r\n")
    assert await body.readchunk() == (b"", True)
    assert await body.readchunk() == (b"abc", True)
    assert await body.readchunk() == (b"", False)
    assert body.total_bytes == 8 and body.total_raw_bytes == len(
        b"5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n"
    )


async def test_a_segment_inside_a_large_chunk_is_read_as_the_very_bytes_fed() -> None:
    # Inside a chunk's data a piece is all data: the chunked layer hands it on without a copy.
    root = StreamReader()
    body = stack(root, Chunked())
    root.feed_data(b"%x\r\n" % 10_000)
    read = asyncio.ensure_future(body.readany())
    await asyncio.sleep(0)  # the size line decoded, the read waits for data
    segment = text(MSS)
    root.feed_data(segment)
    assert await read is segment
    assert body.total_raw_bytes == len(b"%x\r\n" % 10_000) + MSS
    assert body.total_bytes == MSS


# -- readany over a layer over the root: one wait for the two (the fused pass-through) ---------


async def waiting_read(
    wire_before: bytes, codecs: Sequence[ByteCodec], out: list[bytes] | None = None
) -> tuple[StreamReader, LayerReader, asyncio.Future[bytes]]:
    """A stack whose outer ``readany`` has decoded ``wire_before`` (appended to ``out``) and
    waits for the root."""
    root = StreamReader()
    body = stack(root, *codecs)
    root.feed_data(wire_before)
    first = await body.readany()
    assert first  # something came out of the bytes so far
    if out is not None:
        out.append(first)
    read = asyncio.ensure_future(body.readany())
    await asyncio.sleep(0)
    assert not read.done()
    return root, body, read


WAIT_BODY = text(200_000, seed=9)


def _wait_wire() -> tuple[bytes, bytes]:
    """``WAIT_BODY`` gzipped in one large chunk: its first 3000 bytes, and the rest."""
    wire = chunked(gzipped(WAIT_BODY), sizes=(1 << 20,))
    return wire[:3000], wire[3000:]


async def test_the_fused_wait_is_woken_by_the_root_and_reads_on() -> None:
    before, after = _wait_wire()
    read_so_far: list[bytes] = []
    root, body, read = await waiting_read(before, (Chunked(), Gzip()), read_so_far)
    root.feed_data(after[:1460])
    second = await read
    assert second
    root.feed_data(after[1460:] + TAIL)
    assert read_so_far[0] + second + await body.read() == WAIT_BODY
    root.feed_eof()
    assert await root.read() == TAIL


async def test_set_exception_on_the_outer_layer_wakes_the_fused_wait() -> None:
    before, after = _wait_wire()
    root, body, read = await waiting_read(before, (Chunked(), Gzip()))
    body.set_exception(ValueError("closed"))
    with pytest.raises(ValueError, match="closed"):
        await read
    # The root and the layer under it are untouched: their bytes still read.
    root.feed_data(after)
    assert await root.read(5) == after[:5]


async def test_set_exception_on_the_inner_layer_wakes_the_fused_wait() -> None:
    before, _ = _wait_wire()
    _, body, read = await waiting_read(before, (Chunked(), Gzip()))
    inner = body.source
    inner.set_exception(MalformedError("stop"))
    with pytest.raises(MalformedError, match="stop"):
        await read
    with pytest.raises(MalformedError, match="stop"):
        await body.readany()


async def test_an_error_set_on_the_root_ends_the_fused_wait_on_every_layer() -> None:
    before, _ = _wait_wire()
    root, body, read = await waiting_read(before, (Chunked(), Gzip()))
    root.set_exception(TruncatedError("reset"))
    with pytest.raises(TruncatedError, match="reset"):
        await read
    with pytest.raises(TruncatedError, match="reset"):
        await body.source.readany()


async def test_unread_data_on_the_outer_layer_wakes_the_fused_wait() -> None:
    before, _ = _wait_wire()
    _, body, read = await waiting_read(before, (Chunked(), Gzip()))
    body.unread_data(b"again")
    assert await read == b"again"


async def test_the_roots_end_during_the_fused_wait_is_truncation() -> None:
    before, _ = _wait_wire()
    root, _, read = await waiting_read(before, (Chunked(), Gzip()))
    root.feed_eof()
    with pytest.raises(TruncatedError):
        await read


async def test_a_cancelled_fused_wait_leaves_no_waiter_and_loses_nothing() -> None:
    before, after = _wait_wire()
    root, body, read = await waiting_read(before, (Chunked(), Gzip()))
    read.cancel()
    with pytest.raises(asyncio.CancelledError):
        await read
    root.feed_data(after)
    root.feed_eof()
    rest = await body.read()  # no "another coroutine is already waiting" from any reader
    assert WAIT_BODY.endswith(rest) and rest


async def test_a_segment_inside_a_large_chunk_is_passed_on_without_a_decode_call() -> None:
    # The chunked decoder's verbatim bytes (rule 7): no decode call for a segment of data.
    root = StreamReader()
    body = stack(root, Chunked())
    root.feed_data(b"%x\r\n" % 10_000)
    read = asyncio.ensure_future(body.readany())
    await asyncio.sleep(0)
    calls: list[int] = []
    decode = ChunkedDecoder.decode

    def counted(self: ChunkedDecoder, data: memoryview, out: Any, budget: int) -> int:
        calls.append(len(data))
        return decode(self, data, out, budget)

    segment = text(MSS)
    with mock.patch.object(ChunkedDecoder, "decode", counted):
        root.feed_data(segment)
        assert await read is segment
        assert calls == []
        root.feed_data(segment)
        assert await body.readany() is segment
        assert calls == []
    assert body.decoder.verbatim == 10_000 - 2 * MSS - 1  # type: ignore[attr-defined]
    assert body.total_raw_bytes == len(b"%x\r\n" % 10_000) + 2 * MSS
    assert body.total_bytes == 2 * MSS
