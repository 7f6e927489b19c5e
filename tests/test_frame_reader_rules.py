"""FrameReader's promises where frames meet the rest of the reader's API.

Each test here is a rule the reader keeps whatever else reads the source: skipping an
over-long frame survives the FrameReader that reported it, frames alternating with raw reads
cost linear time, the source's exception wins over frames already decoded, the end of the
frames cannot be mistaken for a frame, and a codec that breaks the contract is told so.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

import framekit
from framekit.codecs.chunked import Chunked
from framekit.codecs.delimited import Delimited
from framekit.codecs.length import LengthPrefixed
from framekit.codecs.lines import Lines
from framekit.codecs.netstring import Netstring, OctetCounted
from framekit.errors import (
    CodecContractError,
    EndOfStream,
    FrameTooLong,
    LimitExceededError,
    MalformedError,
)
from framekit.reader import StreamReader
from tests.toy_codecs import FailsHoldingASlice, NoneFrames


def fed(*pieces: bytes, eof: bool = True) -> StreamReader:
    reader = StreamReader()
    for piece in pieces:
        reader.feed_data(piece)
    if eof:
        reader.feed_eof()
    return reader


# -- an over-long frame, once reported, is skipped whoever reads next --------------------------

#: (codec, an over-long frame's bytes, the next frame's bytes, that frame)
OVER_LONG: list[tuple[Any, bytes, bytes, bytes]] = [
    (Lines(max_length=8), b"x" * 50 + b"\n", b"next\n", b"next"),
    (Lines(ending="crlf", max_length=8), b"x" * 50 + b"\r\n", b"next\r\n", b"next"),
    (Lines(ending="any", max_length=8), b"x" * 50 + b"\r\n", b"next\r\n", b"next"),
    (Delimited(delimiters=(b";",), max_length=8), b"x" * 50 + b";", b"next;", b"next"),
    (
        LengthPrefixed(max_frame_length=16),
        (50).to_bytes(4, "big") + b"x" * 50,
        (4).to_bytes(4, "big") + b"next",
        b"next",
    ),
    (
        LengthPrefixed(length_field_length="varint", max_frame_length=16),
        bytes([0xB2, 0x01]) + b"x" * 178,
        b"\x04next",
        b"next",
    ),
    (Netstring(max_length=8), b"50:" + b"x" * 50 + b",", b"4:next,", b"next"),
    (OctetCounted(max_length=8), b"50 " + b"x" * 50, b"4 next", b"next"),
]
OVER_LONG_IDS = ["lf", "crlf", "any", "delimited", "length4", "varint", "netstring", "octet"]


@pytest.mark.parametrize(("codec", "bad", "good", "frame"), OVER_LONG, ids=OVER_LONG_IDS)
async def test_an_over_long_frame_is_not_raised_again_by_a_new_frame_reader(
    codec: Any, bad: bytes, good: bytes, frame: bytes
) -> None:
    source = fed(bad + good)
    with pytest.raises(LimitExceededError):
        await source.frames(codec).read()
    assert await source.frames(codec).read() == frame


@pytest.mark.parametrize(("codec", "bad", "good", "frame"), OVER_LONG, ids=OVER_LONG_IDS)
async def test_an_over_long_frame_arriving_in_pieces_is_skipped_for_the_next_frame_reader(
    codec: Any, bad: bytes, good: bytes, frame: bytes
) -> None:
    source = fed(bad[:20], eof=False)
    with pytest.raises(LimitExceededError):
        await source.frames(codec).read()
    for i in range(20, len(bad), 7):
        source.feed_data(bad[i : i + 7])
    source.feed_data(good)
    source.feed_eof()
    assert await source.frames(codec).read() == frame


async def test_a_core_readline_after_a_frame_error_returns_the_next_line() -> None:
    source = fed(b"x" * 5000 + b"\nnext\n")
    with pytest.raises(LimitExceededError):
        await source.frames(Lines(max_length=100)).read()
    assert await source.readline() == b"next\n"


async def test_a_frame_reader_per_message_waits_after_an_over_long_line() -> None:
    # One FrameReader per message, as a handler written without a long-lived one does: the
    # error is raised once, then the next read waits for input instead of raising again.
    source = fed(b"x" * 5000, eof=False)
    with pytest.raises(LimitExceededError):
        await source.frames(Lines(max_length=100)).read()
    read = asyncio.ensure_future(source.frames(Lines(max_length=100)).read())
    await asyncio.sleep(0)
    assert not read.done()
    source.feed_data(b"yyy\nnext\n")
    assert await asyncio.wait_for(read, 1) == b"next"


async def test_a_layer_over_the_source_sees_the_bytes_after_the_skipped_frame() -> None:
    from framekit.codecs.limited import Limited

    source = fed(b"x" * 300 + b"\nbody")
    with pytest.raises(LimitExceededError):
        await source.frames(Lines(max_length=100)).read()
    assert await source.layer(Limited(4)).read() == b"body"


@pytest.mark.parametrize(("codec", "bad", "good", "frame"), OVER_LONG, ids=OVER_LONG_IDS)
async def test_skip_mode_finishes_a_skip_begun_by_a_dropped_frame_reader(
    codec: Any, bad: bytes, good: bytes, frame: bytes
) -> None:
    skipping = attrs_evolve(codec, on_too_long="skip")
    source = fed(bad[:30], eof=False)
    reader = source.frames(skipping)
    read = asyncio.ensure_future(reader.read())
    await asyncio.sleep(0)
    read.cancel()
    with pytest.raises(asyncio.CancelledError):
        await read
    source.feed_data(bad[30:] + good)
    source.feed_eof()
    assert await source.frames(skipping).read() == frame


def attrs_evolve(codec: Any, **changes: Any) -> Any:
    import attrs

    return attrs.evolve(codec, **changes)


# -- frames alternating with raw reads are linear -----------------------------------------------
#
# Timed by this process's CPU time, as every time bound in the tests: CI runs two suites side
# by side, and the wall clock then counts the other one's turns too.


async def _header_then_payload(count: int) -> float:
    source = fed(b"$4\r\nPING\r\n" * count)
    lines = source.frames(Lines(ending="crlf"))
    started = time.process_time()
    for _ in range(count):
        assert await lines.read() == b"$4"
        assert await source.readexactly(6) == b"PING\r\n"
    elapsed = time.process_time() - started
    with pytest.raises(EndOfStream):
        await lines.read()
    return elapsed


async def test_frames_alternating_with_readexactly_take_linear_time() -> None:
    small = min([await _header_then_payload(2000) for _ in range(3)])
    large = min([await _header_then_payload(16000) for _ in range(3)])
    # Linear is 8; the quadratic path was over 60. A generous bound for a noisy machine.
    assert large / small < 24


async def _header_then_unaligned_payload(count: int) -> float:
    # The payload has no line ending of its own: the lines decoded past the header are not
    # aligned with what readexactly takes, so they cannot be kept.
    source = fed(b"H\nabcde" * count + b"\n")
    lines = source.frames(Lines())
    started = time.process_time()
    for _ in range(count):
        assert await lines.read() == b"H"
        assert await source.readexactly(5) == b"abcde"
    return time.process_time() - started


async def test_frames_alternating_with_unaligned_raw_reads_take_linear_time() -> None:
    small = min([await _header_then_unaligned_payload(2000) for _ in range(3)])
    large = min([await _header_then_unaligned_payload(16000) for _ in range(3)])
    assert large / small < 24


async def test_frames_decoded_past_a_raw_read_that_ends_on_a_frame_are_kept() -> None:
    source = fed(b"a\nb\nc\nd\n")
    lines = source.frames(Lines())
    assert await lines.read() == b"a"
    decoder = lines.decoder
    assert await source.readexactly(2) == b"b\n"
    assert await lines.read() == b"c"
    assert lines.decoder is decoder  # resumed, not decoded again from the head
    assert await lines.read() == b"d"


# -- the source's exception wins over frames already decoded -------------------------------------


@pytest.mark.parametrize("pieces", [[b"a\nb\n"], [b"a\n", b"b\n"]])
async def test_set_exception_wins_over_frames_already_buffered(pieces: list[bytes]) -> None:
    source = fed(*pieces, eof=False)
    lines = source.frames(Lines())
    assert await lines.read() == b"a"
    source.set_exception(ConnectionResetError("gone"))
    with pytest.raises(ConnectionResetError):
        await lines.read()


async def test_set_exception_wins_over_frames_of_a_bytearray_buffer() -> None:
    source = fed(b"x" * 10 + b"\n", eof=False)
    lines = source.frames(Lines())
    for _ in range(5):
        source.feed_data(b"a\n")  # behind a longer remainder: the buffer is a bytearray
    assert await lines.read() == b"x" * 10
    source.set_exception(ConnectionResetError("gone"))
    with pytest.raises(ConnectionResetError):
        await lines.read()


async def test_set_exception_wins_over_read_batch() -> None:
    source = fed(b"a\nb\n", eof=False)
    lines = source.frames(Lines())
    assert await lines.read() == b"a"
    source.set_exception(ConnectionResetError("gone"))
    with pytest.raises(ConnectionResetError):
        await lines.read_batch()


# -- the end of the frames is unmistakable ----------------------------------------------------


async def test_async_for_goes_on_past_frames_that_are_none() -> None:
    source = fed(b"n1n")
    assert [frame async for frame in source.frames(NoneFrames())] == [None, b"1", None]


async def test_read_at_the_end_raises_end_of_stream_every_time() -> None:
    source = fed(b"a\n")
    lines = source.frames(Lines())
    assert await lines.read() == b"a"
    for _ in range(2):
        with pytest.raises(EndOfStream):
            await lines.read()
    assert lines.at_eof()
    assert await lines.read_batch() == []


async def test_a_none_frame_is_returned_by_read() -> None:
    source = fed(b"n")
    frames = source.frames(NoneFrames())
    assert await frames.read() is None
    with pytest.raises(EndOfStream):
        await frames.read()


def test_end_of_stream_is_an_eof_error_and_not_a_framing_error() -> None:
    assert issubclass(EndOfStream, EOFError)
    assert not issubclass(EndOfStream, framekit.FramingError)


# -- a codec that breaks the contract is told so ----------------------------------------------


class _NoEnds:
    """A line codec that forgets ``ends``."""

    def decoder(self) -> Any:
        return _NoEndsDecoder()

    def encoder(self) -> Any:
        raise NotImplementedError


class _NoEndsDecoder:
    needs_input = False

    def decode(self, data: memoryview, frames: list[bytes], ends: list[int] | None = None) -> int:
        end = bytes(data).rfind(b"\n") + 1
        frames.extend(bytes(data[:end]).splitlines())
        return end

    def decode_eof(self, data: memoryview, frames: list[bytes], ends: Any = None) -> int:
        return self.decode(data, frames, ends)

    def reset_search(self) -> None:
        pass

    def discard(self, data: memoryview, eof: bool) -> tuple[int, bool]:
        return 0, True


async def test_a_decoder_that_forgets_ends_is_a_contract_error_naming_the_rule() -> None:
    source = fed(b"a\nb\n")
    with pytest.raises(CodecContractError, match="ends"):
        await source.frames(_NoEnds()).read()


def test_layer_refuses_a_frame_codec() -> None:
    with pytest.raises(TypeError, match=r"frame codec.*frames\(codec\)"):
        fed(b"").layer(Lines())  # type: ignore[arg-type]


def test_frames_refuses_a_byte_codec() -> None:
    with pytest.raises(TypeError, match=r"byte codec.*layer\(codec\)"):
        fed(b"").frames(Chunked())  # type: ignore[arg-type]


def test_frames_refuses_an_object_that_is_no_codec() -> None:
    with pytest.raises(TypeError, match="decoder"):
        fed(b"").frames(object())  # type: ignore[arg-type]


async def test_a_frame_too_long_error_still_names_its_limit_and_offset() -> None:
    source = fed(b"ok\n" + (50).to_bytes(4, "big"))
    assert await source.frames(Lines()).read() == b"ok"
    with pytest.raises(FrameTooLong) as info:
        await source.frames(LengthPrefixed(max_frame_length=16)).read()
    assert info.value.offset == 3
    assert info.value.limit == 16


# -- an error kept by a decoder pins nothing in the source --------------------------------------


async def test_a_frame_decoder_error_keeps_no_view_of_the_source_alive() -> None:
    # The source's bytes are a bytearray (fed behind a longer remainder): a slice of them kept
    # alive by the error, which the decoder keeps to raise again, would stop the buffer from
    # ever growing or shrinking (BufferError in feed_data, and so in the transport).
    source = fed(b"x" * 100, eof=False)
    source.feed_data(b"y")
    frames = source.frames(FailsHoldingASlice(frames=True))
    with pytest.raises(MalformedError):
        await frames.read()
    source.feed_data(b"z" * 10)
    assert await source.readexactly(111) == b"x" * 100 + b"y" + b"z" * 10
