"""FrameReader with the core reader's API between frames, fed in any split; long frames fed
a byte at a time. Public API only."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from typing import TypeVar

from hypothesis import given, settings
from hypothesis import strategies as st

from framekit.codecs.length import LengthPrefixed
from framekit.codecs.lines import Lines
from framekit.reader import StreamReader

T = TypeVar("T")

_LINE = st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"").replace(b"\r", b""))


def wire(codec: Lines | LengthPrefixed, frames: list[bytes]) -> bytes:
    encoder = codec.encoder()
    return b"".join(encoder.encode(frame) for frame in frames)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted({min(cut, len(data)) for cut in cuts}), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


async def fed(pieces: list[bytes], consume: Callable[[StreamReader], Awaitable[T]]) -> T:
    """Run ``consume(reader)`` while the pieces are fed one per loop iteration, then EOF."""
    reader = StreamReader()

    async def feed() -> None:
        for piece in pieces:
            reader.feed_data(piece)
            await asyncio.sleep(0)
        reader.feed_eof()

    feeder = asyncio.ensure_future(feed())
    result = await consume(reader)
    await feeder
    return result


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_switching_between_frames_and_raw_reads_loses_nothing_for_any_split(
    data: st.DataObject,
) -> None:
    first_lines = data.draw(st.lists(_LINE, max_size=5), label="first lines")
    raw = data.draw(st.binary(max_size=40), label="raw")
    more_lines = data.draw(st.lists(_LINE, max_size=5), label="more lines")
    frames = data.draw(st.lists(st.binary(max_size=40), max_size=5), label="frames")
    tail = data.draw(st.binary(max_size=40), label="tail")
    stream = (
        wire(Lines(), first_lines)
        + raw
        + wire(Lines(), more_lines)
        + wire(LengthPrefixed(), frames)
        + tail
    )
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=15), label="cuts")

    async def consume(reader: StreamReader) -> tuple[list[bytes | None], ...]:
        lines = reader.frames(Lines())
        got_first = [await lines.read() for _ in first_lines]
        got_raw = [await reader.readexactly(len(raw))]
        lines = reader.frames(Lines())
        got_more = [await lines.read() for _ in more_lines]
        length_prefixed = reader.frames(LengthPrefixed())
        got_frames = [await length_prefixed.read() for _ in frames]
        got_tail = [await reader.read()]
        return got_first, got_raw, got_more, got_frames, got_tail

    got = asyncio.run(fed(split(stream, cuts), consume))
    assert got == (first_lines, [raw], more_lines, frames, [tail])


ONE_MB = 1 << 20


def one_byte_at_a_time(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def test_a_one_megabyte_line_fed_a_byte_at_a_time_is_read() -> None:
    text = bytes(b for b in range(256) if b not in b"\r\n")
    line = (text * (ONE_MB // len(text) + 1))[:ONE_MB]
    pieces = one_byte_at_a_time(line + b"\nnext\n")

    async def consume(reader: StreamReader) -> list[bytes]:
        return [frame async for frame in reader.frames(Lines(max_length=2 * ONE_MB))]

    assert asyncio.run(fed(pieces, consume)) == [line, b"next"]


def test_a_one_megabyte_length_prefixed_frame_fed_a_byte_at_a_time_is_read() -> None:
    frame = bytes(range(256)) * (ONE_MB // 256)
    pieces = one_byte_at_a_time(wire(LengthPrefixed(), [frame, b"next"]))

    async def consume(reader: StreamReader) -> list[bytes]:
        return [frame async for frame in reader.frames(LengthPrefixed())]

    assert asyncio.run(fed(pieces, consume)) == [frame, b"next"]
