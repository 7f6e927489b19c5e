"""Layered readers: the adapter's contract, with a toy codec (real codecs: tests/test_stacks.py)."""

from __future__ import annotations

import asyncio
import gzip
from typing import Any

import pytest

from framekit import FramingError, MalformedError, TruncatedError
from framekit.codecs import Chunked, Gzip
from framekit.codecs.limited import Limited
from framekit.layers import layer
from framekit.reader import StreamReader
from tests.toy_codecs import FailsHoldingASlice, Hexchunks

BODY = b"3abc5defgh2ij0"


def root(*pieces: bytes, eof: bool = True, limit: int = 2**16) -> StreamReader:
    reader = StreamReader(limit=limit)
    for piece in pieces:
        reader.feed_data(piece)
    if eof:
        reader.feed_eof()
    return reader


async def test_layer_reads_decoded_bytes() -> None:
    assert await root(BODY).layer(Hexchunks()).read() == b"abcdefghij"


async def test_layer_leaves_bytes_after_the_codec_end_in_the_source() -> None:
    source = root(BODY + b"NEXT MESSAGE")
    body = source.layer(Hexchunks())
    assert await body.read() == b"abcdefghij"
    assert body.at_eof()
    assert await source.read() == b"NEXT MESSAGE"


async def test_pipelined_bodies_read_one_after_the_other() -> None:
    source = root(BODY + b"2xy0" + b"tail")
    assert await source.layer(Hexchunks()).read() == b"abcdefghij"
    assert await source.layer(Hexchunks()).read() == b"xy"
    assert await source.read() == b"tail"


async def test_layer_counts_raw_and_decoded_bytes() -> None:
    source = root(BODY + b"rest")
    body = source.layer(Hexchunks())
    await body.read()
    assert body.total_raw_bytes == len(BODY)
    assert body.total_bytes == 10


async def test_layer_waits_for_bytes_fed_later() -> None:
    source = StreamReader()
    body = source.layer(Hexchunks())
    task = asyncio.ensure_future(body.readexactly(6))
    for piece in (b"3a", b"bc", b"5de", b"fgh0"):
        await asyncio.sleep(0)
        assert not task.done()
        source.feed_data(piece)
    assert await task == b"abcdef"


async def test_source_eof_before_codec_end_is_truncation() -> None:
    body = root(b"3abc5de").layer(Hexchunks())
    assert await body.read(3) == b"abc"
    assert await body.read(2) == b"de"
    with pytest.raises(TruncatedError):
        await body.read(10)


async def test_truncated_body_is_never_reported_complete() -> None:
    body = root(b"3abc").layer(Hexchunks())
    with pytest.raises(TruncatedError):
        await body.read()


async def test_codec_error_sets_layer_exception_and_source_stays_usable() -> None:
    source = root(b"2abZrest")
    body = source.layer(Hexchunks())
    assert await body.read(2) == b"ab"
    with pytest.raises(MalformedError) as info:
        await body.read()
    assert info.value.offset == 3
    assert isinstance(body.exception(), MalformedError)
    with pytest.raises(MalformedError):
        await body.readline()
    assert await source.read() == b"Zrest"


async def test_a_decoder_error_keeps_no_view_of_the_source_alive() -> None:
    # A bytearray with a live view cannot be resized: the stored error (and the decoder,
    # which keeps it) must not hold a slice of the source's bytes.
    source = root(b"x" * 100, b"y", eof=False)
    assert type(source._buffer.data) is bytearray
    body = source.layer(FailsHoldingASlice())
    with pytest.raises(MalformedError):
        await body.read()
    source.feed_data(b"more")
    assert source.read_nowait() == b"x" * 100 + b"ymore"
    with pytest.raises(MalformedError):
        await body.read()


async def test_a_decoder_error_leaves_the_locals_of_an_error_being_handled() -> None:
    # Read in an except block, the decoder's error has the handled one as its context: only
    # frames the decoder's call went through lose their locals.
    def fail() -> None:
        marker = "kept"
        raise KeyError(marker)

    body = root(b"x" * 100, b"y", eof=False).layer(FailsHoldingASlice())
    try:
        fail()
    except KeyError as handled:
        with pytest.raises(MalformedError) as info:
            await body.read()
        assert info.value.__context__ is handled
        assert handled.__traceback__ is not None and handled.__traceback__.tb_next is not None
        assert handled.__traceback__.tb_next.tb_frame.f_locals["marker"] == "kept"


async def test_feed_data_on_a_layer_raises_and_says_to_feed_the_root() -> None:
    source = root(b"3ab", eof=False)
    body = source.layer(Hexchunks())
    with pytest.raises(RuntimeError, match=r"feed_data\(\).*Hexchunks.*feed the root"):
        body.feed_data(b"injected")
    source.feed_data(b"c0")
    assert await body.read() == b"abc"  # nothing was injected into the decoded bytes


async def test_feed_eof_on_a_layer_raises_and_a_truncated_body_stays_truncated() -> None:
    source = root(b"x" * 5, eof=False)
    body = source.layer(Limited(10))
    assert await body.read(5) == b"x" * 5
    with pytest.raises(RuntimeError, match=r"feed_eof\(\).*Limited.*feed the root"):
        body.feed_eof()
    assert not body.is_eof()
    source.feed_eof()
    with pytest.raises(TruncatedError):
        await body.read()


async def test_feeding_a_layer_of_a_layer_names_the_root_to_feed() -> None:
    source = root(eof=False)
    top = layer(source, Chunked(), Gzip())
    with pytest.raises(RuntimeError, match=r"Gzip.*over.*Chunked.*feed the root"):
        top.feed_data(b"x")
    with pytest.raises(RuntimeError, match="feed the root"):
        top.feed_eof()


async def test_a_layer_at_its_end_still_refuses_to_be_fed() -> None:
    body = root(BODY).layer(Hexchunks())
    assert await body.read() == b"abcdefghij"
    with pytest.raises(RuntimeError, match="feed the root"):
        body.feed_eof()
    with pytest.raises(RuntimeError, match="feed the root"):
        body.feed_data(b"more")


async def test_error_offsets_count_in_the_source_stream() -> None:
    source = root(b"header|2abZ")
    assert await source.readuntil(b"|") == b"header|"
    with pytest.raises(MalformedError) as info:
        await source.layer(Hexchunks()).read()
    assert info.value.offset == 10


async def test_readchunk_reports_chunk_ends_of_the_codec() -> None:
    body = root(BODY).layer(Hexchunks())
    chunks = [c async for c in body.iter_chunks()]
    assert chunks == [(b"abc", True), (b"defgh", True), (b"ij", True)]


async def test_chunk_marks_pass_through_a_stacked_layer() -> None:
    # The inner body is itself hexchunks-encoded: "3xyz0" in two outer chunks.
    source = root(b"2" + b"3x" + b"3" + b"yz0" + b"0")
    outer = source.layer(Hexchunks())
    inner = outer.layer(Hexchunks())
    chunks = [c async for c in inner.iter_chunks()]
    assert b"".join(c for c, _ in chunks) == b"xyz"
    assert chunks[-1][1] is True


async def test_layer_output_per_step_is_bounded_by_its_limit() -> None:
    encoder = Hexchunks().encoder()
    wire = encoder.feed(b"x" * 1000) + encoder.finish()
    source = root(wire)
    body = source.layer(Hexchunks(), limit=64)
    assert await body.read(1) == b"x"
    assert body.buffered < 128
    assert source.buffered > 0


async def test_layer_readexactly_beyond_its_limit_completes() -> None:
    encoder = Hexchunks().encoder()
    wire = encoder.feed(b"y" * 1000) + encoder.finish()
    body = root(wire).layer(Hexchunks(), limit=16)
    assert await body.readexactly(1000) == b"y" * 1000


async def test_stack_with_the_layer_function() -> None:
    encoder = Hexchunks().encoder()
    inner = encoder.feed(b"nested") + encoder.finish()
    encoder = Hexchunks().encoder()
    wire = encoder.feed(inner) + encoder.finish()
    assert await layer(root(wire), Hexchunks(), Hexchunks()).read() == b"nested"


async def test_unread_data_on_a_layer() -> None:
    body = root(BODY).layer(Hexchunks())
    first = await body.read(4)
    body.unread_data(first)
    assert await body.read() == b"abcdefghij"
    assert body.total_bytes == 10


async def test_layer_readline_and_iteration() -> None:
    encoder = Hexchunks().encoder()
    wire = encoder.feed(b"one\ntwo\nthree") + encoder.finish()
    body = root(wire).layer(Hexchunks())
    assert [line async for line in body] == [b"one\n", b"two\n", b"three"]


async def test_layer_read_nowait_decodes_what_the_source_holds() -> None:
    body = root(b"3abc", eof=False).layer(Hexchunks())
    assert body.read_nowait() == b"abc"
    assert not body.is_eof()


async def test_source_exception_reaches_the_layer() -> None:
    source = StreamReader()
    body = source.layer(Hexchunks())
    task = asyncio.ensure_future(body.read())
    await asyncio.sleep(0)
    source.set_exception(ConnectionResetError("reset"))
    with pytest.raises(ConnectionResetError):
        await task


async def test_cancelled_layer_read_loses_nothing() -> None:
    source = StreamReader()
    body = source.layer(Hexchunks())
    source.feed_data(b"5ab")
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(body.readexactly(5), 0.01)
    source.feed_data(b"cde0")
    source.feed_eof()
    assert await body.read() == b"abcde"


async def test_second_waiting_layer_read_is_a_runtime_error() -> None:
    source = StreamReader()
    body = source.layer(Hexchunks())
    first = asyncio.ensure_future(body.read(1))
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError):
        await body.read(1)
    source.feed_data(b"1z0")
    assert await first == b"z"


async def test_backpressure_passes_through_a_layer() -> None:
    class Flow:
        paused = False

        def pause_reading(self) -> None:
            self.paused = True

        def resume_reading(self) -> None:
            self.paused = False

    flow = Flow()
    source = StreamReader(limit=32, flow=flow)
    body = source.layer(Hexchunks(), limit=32)
    encoder = Hexchunks().encoder()
    source.feed_data(encoder.feed(b"z" * 300))
    assert flow.paused
    assert await body.read(10) == b"z" * 10
    # The layer pulled only its budget: the source is still above its low-water mark.
    assert flow.paused
    total = 10
    while total < 300:
        total += len(await body.read(1000))
    assert not flow.paused


async def test_layer_wait_eof_decodes_to_the_codec_end() -> None:
    source = root(BODY + b"rest")
    body = source.layer(Hexchunks())
    await body.wait_eof()
    assert body.is_eof()
    assert await body.read() == b"abcdefghij"
    assert await source.read() == b"rest"


async def test_layer_wait_eof_waits_for_bytes_fed_later() -> None:
    source = StreamReader()
    body = source.layer(Hexchunks())
    task = asyncio.ensure_future(body.wait_eof())
    for piece in (b"3a", b"bc", b"5de", b"fgh"):
        await asyncio.sleep(0)
        assert not task.done()
        source.feed_data(piece)
    source.feed_data(b"0")
    await task
    assert await body.read() == b"abcdefgh"


async def test_layer_wait_eof_holds_more_than_the_limit() -> None:
    source = root(b"f" + b"x" * 15 + b"f" + b"y" * 15 + b"0", limit=4)
    body = source.layer(Hexchunks(), limit=4)
    await body.wait_eof()
    assert await body.read() == b"x" * 15 + b"y" * 15


async def test_layer_wait_eof_raises_truncation() -> None:
    body = root(b"3abc").layer(Hexchunks())
    with pytest.raises(TruncatedError):
        await body.wait_eof()


async def test_layer_wait_eof_raises_a_codec_error_after_the_bytes_before_it() -> None:
    body = root(b"2abZ").layer(Hexchunks())
    with pytest.raises(MalformedError):
        await body.wait_eof()
    assert await body.read(2) == b"ab"
    with pytest.raises(MalformedError):
        await body.read()


class _ScratchDecoder:
    """Writes each input byte through one reused bytearray (a sink must copy it at once)."""

    needs_input = False

    def __init__(self) -> None:
        self.done = False
        self._scratch = bytearray(1)

    def decode(self, data: memoryview, out: Any, budget: int) -> int:
        n = min(len(data), budget)
        for i in range(n):
            self._scratch[0] = data[i]
            out.write(self._scratch)
        return n

    def decode_eof(self, data: memoryview, out: Any, budget: int) -> int:
        n = self.decode(data, out, budget)
        if n == len(data):
            self.done = True
        return n


class _Scratch:
    def decoder(self) -> _ScratchDecoder:
        return _ScratchDecoder()

    def encoder(self) -> Any:
        raise NotImplementedError


async def test_layer_output_written_from_a_reused_buffer_is_kept_as_written() -> None:
    body = root(b"abcdef").layer(_Scratch())
    assert await body.read() == b"abcdef"


async def test_layer_decodes_from_a_source_fed_in_small_pieces() -> None:
    source = StreamReader()
    source.feed_data(b"f" + b"x" * 15)
    for byte in b"3abc0":
        source.feed_data(bytes([byte]))  # behind a longer remainder: a bytearray buffer
    source.feed_eof()
    body = source.layer(Hexchunks())
    assert await body.read() == b"x" * 15 + b"abc"
    assert source.at_eof()


# -- stacks: waking, reading without waiting, error offsets ------------------------------------


def _gzip_in_chunks(body: bytes) -> bytes:
    data = gzip.compress(body)
    return b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data)


@pytest.mark.parametrize("depth", [2, 3])  # over a root: tests/test_needs_input.py
async def test_set_exception_on_the_top_of_a_stack_wakes_its_waiting_read(depth: int) -> None:
    root = StreamReader()
    top = layer(root, *[Chunked(), Gzip(), Gzip()][:depth])
    task = asyncio.ensure_future(top.read(10))
    await asyncio.sleep(0)
    top.set_exception(ConnectionAbortedError("aborted"))
    with pytest.raises(ConnectionAbortedError):
        await asyncio.wait_for(task, 5)
    root.feed_data(b"still usable")
    assert root.read_nowait() == b"still usable"


async def test_unread_data_on_the_top_of_a_stack_wakes_its_waiting_read() -> None:
    root = StreamReader()
    top = layer(root, Chunked(), Gzip())
    task = asyncio.ensure_future(top.readexactly(3))
    await asyncio.sleep(0)
    top.unread_data(b"abc")
    assert await asyncio.wait_for(task, 5) == b"abc"


async def test_read_nowait_and_is_eof_decode_through_a_stack() -> None:
    root = StreamReader()
    root.feed_data(_gzip_in_chunks(b"hello") + b"NEXT")
    top = layer(root, Chunked(), Gzip())
    assert top.is_eof()
    assert top.read_nowait() == b"hello"
    assert top.at_eof()
    assert root.read_nowait() == b"NEXT"


async def test_error_offsets_count_from_where_decoding_started() -> None:
    """The source may be read between making the layer and its first decode."""
    root = StreamReader()
    root.feed_data(b"PREFIX5\r\nhello\r\nZZ\r\n")
    root.feed_eof()
    body = root.layer(Chunked())
    assert await root.readexactly(6) == b"PREFIX"
    assert await body.readexactly(5) == b"hello"
    with pytest.raises(MalformedError) as caught:
        await body.read()
    assert caught.value.offset == 16  # the first Z


async def test_a_deferred_decoder_error_keeps_its_traceback_short() -> None:
    # Met after decoded bytes, the error waits for them to be read; wait_eof raises it at
    # once, again on every call, and the reads raise it after the bytes: each raise starts
    # from the traceback the decoder gave it.
    def depth(error: BaseException) -> int:
        count, tb = 0, error.__traceback__
        while tb is not None:
            count, tb = count + 1, tb.tb_next
        return count

    root = StreamReader()
    body = root.layer(Chunked())
    root.feed_data(b"5\r\nhello\r\nZZ\r\n")
    assert await body.read(1) == b"h"
    depths = []
    for _ in range(20):
        with pytest.raises(MalformedError) as info:
            await body.wait_eof()
        depths.append(depth(info.value))
    assert await body.read(10) == b"ello"
    for _ in range(20):
        with pytest.raises(MalformedError) as info:
            await body.read(1)
        depths.append(depth(info.value))
    assert max(depths) <= depths[0] + 2


def test_a_layer_names_its_source_and_its_codec() -> None:
    root = StreamReader()
    codec = Chunked(lenient=True)
    chunked = root.layer(codec)
    unzipped = chunked.layer(Gzip())
    assert chunked.source is root and chunked.codec is codec
    assert unzipped.source is chunked and isinstance(unzipped.codec, Gzip)


# -- readany's pass-through over a stack: its wait on the root's one future ------------------


async def _waiting_readany_then(
    event: str, *, general: bool
) -> tuple[object, list[object], bytes | None]:
    """A readany waiting on a gzip layer over a chunked one (the chunk's head fed, its data
    not yet), then ``event``: what the read gave (or the error's class), which readers hold
    the error set, and what the stack reads after."""
    root = StreamReader()
    top = layer(root, Chunked(), Gzip(backend="zlib"))
    middle = top.source
    wire = _gzip_in_chunks(b"hello")
    head = wire.index(b"\r\n") + 2
    root.feed_data(wire[:head])  # the chunk's size line: the middle layer has no output
    read = StreamReader.readany(top) if general else top.readany()
    task = asyncio.ensure_future(read)
    await asyncio.sleep(0)
    assert not task.done()
    error = MalformedError("bad", offset=3)
    if event == "root-fails":
        root.set_exception(error)
    elif event == "middle-fails":
        middle.set_exception(error)
    elif event == "top-fails":
        top.set_exception(error)
    elif event == "middle-unread":
        middle.unread_data(wire[head:-7])  # the gzip stream, as the middle's bytes
    elif event == "rest-fed":
        root.feed_data(wire[head:])
    else:
        assert event == "cancelled"
        task.cancel()
    try:
        got: object = await asyncio.wait_for(task, 5)
    except (FramingError, asyncio.CancelledError) as exc:
        got = type(exc)
    after = None
    if event in ("rest-fed", "cancelled"):
        if event == "cancelled":
            root.feed_data(wire[head:])
        after = await top.read()
    return got, [r.exception() is error for r in (top, middle, root)], after


@pytest.mark.parametrize(
    "event",
    ["root-fails", "middle-fails", "top-fails", "middle-unread", "rest-fed", "cancelled"],
)
async def test_pass_through_waiting_over_a_stack_ends_as_the_general_wait_does(
    event: str,
) -> None:
    fast = await _waiting_readany_then(event, general=False)
    assert fast == await _waiting_readany_then(event, general=True)
    if event in ("rest-fed", "middle-unread"):
        assert fast[0] == b"hello"
    if event == "root-fails":
        assert fast[1] == [True, True, True]
