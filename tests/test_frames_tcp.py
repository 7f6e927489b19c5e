"""FrameReader and FrameWriter over a real loopback TCP connection, both ways at once."""

from __future__ import annotations

import asyncio
import random

from framekit.codecs.length import LengthPrefixed
from framekit.connection import StreamWriter, open_connection, start_server
from framekit.frames import FrameWriter
from framekit.reader import StreamReader

FRAMES = 100_000
BATCH = 500


async def echo_frames(reader: StreamReader, writer: StreamWriter) -> None:
    """Echo every length-prefixed frame, a batch at a time, until the client's EOF."""
    frames = reader.frames(LengthPrefixed())
    replies = FrameWriter(writer, LengthPrefixed())
    while batch := await frames.read_batch():
        replies.write_many(batch)
        await replies.drain()
    writer.write_eof()


def varied_frames(count: int, seed: int) -> list[bytes]:
    """``count`` frames of 0 to 2000 bytes (each size about equally likely), deterministic."""
    rng = random.Random(seed)
    pool = rng.randbytes(4096)
    frames = []
    for i in range(count):
        size = rng.randrange(2001)
        start = rng.randrange(len(pool) - size + 1)
        # The index in front makes a frame that came back out of order fail the comparison.
        frames.append(i.to_bytes(4, "big") + pool[start : start + size])
    return frames


async def test_length_prefixed_echo_round_trips_100k_frames_in_order() -> None:
    server = await start_server(echo_frames, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    sent = varied_frames(FRAMES, seed=4)
    async with server:
        reader, writer = await open_connection("127.0.0.1", port)
        requests = FrameWriter(writer, LengthPrefixed())
        replies = reader.frames(LengthPrefixed())

        async def send() -> None:
            for start in range(0, len(sent), BATCH):
                requests.write_many(sent[start : start + BATCH])
                await requests.drain()
            writer.write_eof()

        async def receive() -> list[bytes]:
            return [frame async for frame in replies]

        # A guard against a hang, not a speed check: the test takes a few seconds.
        _, received = await asyncio.wait_for(asyncio.gather(send(), receive()), 120)
        writer.close()
        await writer.wait_closed()
    assert len(received) == len(sent)
    assert received == sent
