"""A small Redis client on framekit's RESP codec, run against a redis-server you started.

    python examples/redis_client.py --port N [--host 127.0.0.1] [--big-mb 100]

:class:`RedisClient` says ``HELLO 3`` and stays on RESP2 when the server answers it with an
error (Redis before 6). Commands are written as they come (``execute``) or many at once
(``pipeline``), and one reader task pairs the replies with the commands in order, while RESP3
pushes (pub/sub messages, client-tracking invalidations) go to ``client.pushes``, an
``asyncio.Queue`` of their own, so a push never takes a command's reply. Replies with a string
longer than ``stream_threshold`` come in event mode (``StringStart``, ``StringChunk``...,
``StringEnd``): ``stream(sink, "GET", key)`` hands each chunk to ``sink`` and never holds the
value whole. The demo pipelines 1000 commands, subscribes and tracks keys on a second
connection, and writes and reads back a 100 MB value in chunks, comparing SHA-256 digests.
Exits 0 when every check passed.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import sys
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

# Run from a checkout without installing: use the framekit next to this file.
_CHECKOUT = Path(__file__).resolve().parent.parent
if (_CHECKOUT / "framekit").is_dir():
    sys.path.insert(0, str(_CHECKOUT))

from framekit.codecs.resp import (  # noqa: E402
    AggregateEnd,
    AggregateStart,
    Push,
    ReplyError,
    ReplyTracker,
    Resp,
    StringChunk,
    StringEnd,
    StringStart,
    encode_command,
    encode_commands,
)
from framekit.connection import open_connection  # noqa: E402
from framekit.errors import EndOfStream  # noqa: E402

Arg = bytes | str | int | float
_PARTS = (AggregateStart, StringStart, StringChunk, StringEnd, AggregateEnd)


class _Reply:
    """A command waiting for its reply: a future, and where the chunks of a streamed one go."""

    def __init__(self, future: asyncio.Future[Any], sink: Callable[[bytes], object] | None):
        self.future, self.sink = future, sink
        self.parts: list[object] = []  # event-mode parts, when there is no sink
        self.size = 0
        self.tracker = ReplyTracker()  # says which part ends the reply

    def whole(self, value: object) -> None:
        """The reply came as one value."""
        if self.sink is not None and type(value) is bytes:
            self.sink(value)
            value = len(value)
        self.future.set_result(value)

    def add_part(self, part: object) -> bool:
        """Take one event-mode part of the reply; True when the reply is complete."""
        if isinstance(part, StringChunk) and self.sink is not None:
            self.size += len(part.data)
            self.sink(part.data)
        else:
            self.parts.append(part)
        return self.tracker.feed(part)

    def result(self) -> object:
        """A streamed string: its size with a sink, else its bytes; else the parts as they came."""
        if self.sink is not None:
            return self.size
        if all(isinstance(p, (StringStart, StringChunk, StringEnd)) for p in self.parts):
            return b"".join(p.data for p in self.parts if isinstance(p, StringChunk))
        return self.parts


class RedisClient:
    """One connection to a Redis server; make it with ``await RedisClient.connect(host, port)``."""

    def __init__(self, reader: Any, writer: Any, *, stream_threshold: int = 1 << 20) -> None:
        self.protocol = 2
        self.pushes: asyncio.Queue[object] = asyncio.Queue()
        self._frames = reader.frames(Resp(stream_threshold=stream_threshold))
        self._writer = writer
        self._waiting: deque[_Reply] = deque()
        self._router = asyncio.create_task(self._route())

    @classmethod
    async def connect(cls, host: str, port: int, **options: Any) -> RedisClient:
        """Connect and say HELLO 3; on an error reply (an old server) stay on RESP2."""
        client = cls(*await open_connection(host, port), **options)
        hello = await client.execute("HELLO", 3)
        client.protocol = 2 if isinstance(hello, ReplyError) else 3
        return client

    def _expect(self, sink: Callable[[bytes], object] | None = None) -> asyncio.Future[Any]:
        reply = _Reply(asyncio.get_running_loop().create_future(), sink)
        self._waiting.append(reply)
        return reply.future

    async def execute(self, *args: Arg) -> object:
        """Send one command; return its reply (a ReplyError is returned, not raised)."""
        future = self._expect()
        self._writer.write(encode_command(*args))
        await self._writer.drain()
        return await future

    async def pipeline(self, commands: Sequence[Sequence[Arg]]) -> list[object]:
        """Write every command at once; return their replies, in order."""
        futures = [self._expect() for _ in commands]
        self._writer.write(encode_commands(commands))
        await self._writer.drain()
        return list(await asyncio.gather(*futures))

    async def stream(self, sink: Callable[[bytes], object], *args: Arg) -> object:
        """Send a command whose reply is a string; hand it to ``sink`` chunk by chunk.

        Returns the byte count (a short string comes whole: one call of ``sink``), or the
        reply itself when it is no string (None for a missing key, a ReplyError).
        """
        future = self._expect(sink)
        self._writer.write(encode_command(*args))
        await self._writer.drain()
        return await future

    async def set_from_chunks(self, key: Arg, chunks: Iterable[bytes], length: int) -> object:
        """SET ``key`` to the ``length`` bytes of ``chunks``, written as they come."""
        future = self._expect()
        head = encode_command("SET", key, b"")[: -len(b"$0\r\n\r\n")]  # up to the value
        self._writer.write(head + b"$%d\r\n" % length)
        for chunk in chunks:
            self._writer.write(chunk)
            await self._writer.drain()
        self._writer.write(b"\r\n")
        return await future

    async def subscribe(self, *channels: str) -> None:
        """SUBSCRIBE (RESP3 only): its confirmations and messages arrive on ``pushes``."""
        self._writer.write(encode_command("SUBSCRIBE", *channels))
        await self._writer.drain()

    async def unsubscribe(self, *channels: str) -> None:
        """UNSUBSCRIBE (RESP3 only): its confirmations, too, arrive on ``pushes``."""
        self._writer.write(encode_command("UNSUBSCRIBE", *channels))
        await self._writer.drain()

    async def _route(self) -> None:
        """Pair each reply with the oldest waiting command; pushes go to ``pushes``."""
        current: _Reply | None = None
        pushing = False
        try:
            while True:
                item = await self._frames.read()
                if current is None:
                    if isinstance(item, Push):
                        self.pushes.put_nowait(item)
                        continue
                    if not isinstance(item, _PARTS):
                        self._waiting.popleft().whole(item)
                        continue
                    pushing = isinstance(item, AggregateStart) and item.type == ">"
                    if pushing:  # a huge push: its parts go to the queue (len: chunks not kept)
                        current = _Reply(asyncio.get_running_loop().create_future(), len)
                    else:
                        current = self._waiting.popleft()
                if pushing:
                    self.pushes.put_nowait(item)
                if current.add_part(item):
                    if not pushing:
                        current.future.set_result(current.result())
                    current = None
        except EndOfStream:
            error: BaseException = ConnectionError("the server closed the connection")
        except Exception as exc:  # a decoding error: the connection is unusable
            error = exc
        for reply in self._waiting:
            if not reply.future.done():
                reply.future.set_exception(error)

    async def close(self) -> None:
        self._writer.close()
        await self._writer.wait_closed()
        await self._router


def _chunks(seed: int, size: int, chunk: int = 1 << 20) -> Iterable[bytes]:
    rng = random.Random(seed)
    for start in range(0, size, chunk):
        yield rng.randbytes(min(chunk, size - start))


async def demo(host: str, port: int, big: int) -> list[str]:
    """Run the demonstration; return the failed checks (none when all is well)."""
    failed: list[str] = []

    def check(ok: bool, what: str) -> None:
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failed.append(what)

    client = await RedisClient.connect(host, port)
    other = await RedisClient.connect(host, port)
    check(client.protocol == 3, f"HELLO 3 accepted: RESP{client.protocol}")
    sets = [["SET", f"demo:{i}", f"value {i}"] for i in range(500)]
    gets = [["GET", f"demo:{i}"] for i in range(500)]
    replies = await client.pipeline(sets + gets)
    want = ["OK"] * 500 + [f"value {i}".encode() for i in range(500)]
    check(replies == want, "1000 pipelined commands, every reply paired with its command")

    await client.subscribe("demo:news")
    subscribed = await _next_push(client)
    await other.execute("PUBLISH", "demo:news", "hello")
    pong = await client.execute("PING")
    message = await _next_push(client)
    check(
        subscribed == [b"subscribe", b"demo:news", 1] and pong == "PONG",
        "SUBSCRIBE confirmed on the push queue; PING still answered",
    )
    check(message == [b"message", b"demo:news", b"hello"], "the message came as a push")
    await client.unsubscribe("demo:news")
    unsubscribed = await _next_push(client)
    check(unsubscribed == [b"unsubscribe", b"demo:news", 0], "UNSUBSCRIBE confirmed")

    await client.execute("CLIENT", "TRACKING", "ON")
    await client.execute("GET", "demo:tracked")
    await other.execute("SET", "demo:tracked", "changed")
    pong = await client.execute("PING")
    invalidate = await _next_push(client)
    check(
        invalidate == [b"invalidate", [b"demo:tracked"]] and pong == "PONG",
        "client tracking: the invalidation is a push, PING's reply still pairs",
    )

    sent = hashlib.sha256()
    stored = await client.set_from_chunks("demo:big", _tee(_chunks(16, big), sent), big)
    received = hashlib.sha256()
    size = await client.stream(received.update, "GET", "demo:big")
    check(
        stored == "OK" and size == big and received.digest() == sent.digest(),
        f"a {big / 1e6:.0f} MB value written and read back in chunks, SHA-256 equal",
    )
    await client.execute("DEL", "demo:big", "demo:tracked", *(f"demo:{i}" for i in range(500)))
    await client.close()
    await other.close()
    return failed


async def _next_push(client: RedisClient) -> list[object]:
    push = await asyncio.wait_for(client.pushes.get(), 30)
    assert isinstance(push, Push), push
    return list(push)


def _tee(chunks: Iterable[bytes], digest: Any) -> Iterable[bytes]:
    for chunk in chunks:
        digest.update(chunk)
        yield chunk


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--big-mb", type=int, default=100, help="the large value's size (100)")
    args = parser.parse_args(argv)
    failed = asyncio.run(demo(args.host, args.port, args.big_mb * 1000 * 1000))
    print(f"redis_client: {len(failed)} check(s) failed" if failed else "redis_client: all ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
