"""examples/redis_client.py: run as a program against the session's redis-server, and driven."""

from __future__ import annotations

import asyncio
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from framekit.codecs.resp import (
    AggregateStart,
    ReplyError,
    Resp,
    StringChunk,
    StringEnd,
    StringStart,
)
from framekit.connection import StreamWriter, start_server
from framekit.frames import FrameWriter
from framekit.reader import StreamReader
from tests.resp.server import RedisServer

SCRIPT = Path(__file__).resolve().parent.parent.parent / "examples" / "redis_client.py"
TIMEOUT = 120


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("redis_client_example", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


example = _load()


def test_example_runs_against_a_server_it_did_not_start(redis_server: RedisServer) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--port", str(redis_server.port)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout
    assert result.stdout.count("ok   ") == 7
    assert result.stdout.rstrip().endswith("redis_client: all ok")


async def test_client_says_hello_3(redis_server: RedisServer) -> None:
    client = await example.RedisClient.connect(redis_server.host, redis_server.port)
    try:
        assert client.protocol == 3
        assert await client.execute("DEBUG", "PROTOCOL", "map") == {0: False, 1: True, 2: False}
    finally:
        await client.close()


async def _old_server(reader: StreamReader, writer: StreamWriter) -> None:
    """A server that does not know HELLO (Redis before 6): an error, then PONGs in RESP2."""
    replies = FrameWriter(writer, Resp(protocol=2))
    async for command in reader.frames(Resp()):
        assert isinstance(command, list)
        if command[0] == b"HELLO":
            writer.write(b"-ERR unknown command 'HELLO'\r\n")
        else:
            replies.write(["PONG", command[1:]])
        await writer.drain()


async def test_client_stays_on_resp2_when_hello_is_an_error() -> None:
    server = await start_server(_old_server, "127.0.0.1", 0)
    async with server:
        port = server.sockets[0].getsockname()[1]
        client = await example.RedisClient.connect("127.0.0.1", port)
        try:
            assert client.protocol == 2
            assert await client.execute("PING", "x") == ["PONG", [b"x"]]
        finally:
            await client.close()


async def test_replies_keep_pairing_while_pushes_go_to_their_queue(
    redis_server: RedisServer,
) -> None:
    client = await example.RedisClient.connect(redis_server.host, redis_server.port)
    try:
        replies = await asyncio.wait_for(
            client.pipeline(
                [["DEBUG", "PROTOCOL", "push"], ["ECHO", "a"], ["DEBUG", "PROTOCOL", "push"]]
            ),
            TIMEOUT,
        )
        assert replies == [
            b"Some real reply following the push reply",
            b"a",
            b"Some real reply following the push reply",
        ]
        assert client.pushes.qsize() == 2
        assert list(client.pushes.get_nowait()) == [b"server-cpu-usage", 42]
    finally:
        await client.close()


async def test_stream_hands_a_short_string_to_the_sink_whole(redis_server: RedisServer) -> None:
    client = await example.RedisClient.connect(redis_server.host, redis_server.port)
    try:
        assert await client.execute("SET", "example:short", "abc") == "OK"
        got: list[bytes] = []
        assert await client.stream(got.append, "GET", "example:short") == 3
        assert got == [b"abc"]
        assert await client.stream(got.append, "GET", "example:missing") is None
        error = await client.stream(got.append, "HGET", "example:short", "f")
        assert isinstance(error, ReplyError) and error.code == "WRONGTYPE"
        assert got == [b"abc"]
    finally:
        await client.close()


async def test_a_reply_in_parts_inside_an_array_ends_where_it_ends(
    redis_server: RedisServer,
) -> None:
    client = await example.RedisClient.connect(
        redis_server.host, redis_server.port, stream_threshold=1000
    )
    try:
        big = bytes(range(256)) * 20
        await client.pipeline([["SET", "example:a", big], ["SET", "example:b", "small"]])
        parts, pong = await client.pipeline([["MGET", "example:b", "example:a"], ["PING"]])
        assert pong == "PONG"
        assert isinstance(parts, list)
        start, small, string_start, *chunks, string_end = parts
        assert isinstance(start, AggregateStart) and (start.type, start.length) == ("*", 2)
        assert small == b"small"
        assert isinstance(string_start, StringStart) and string_start.length == len(big)
        assert isinstance(string_end, StringEnd)
        assert b"".join(chunk.data for chunk in chunks) == big
        # A top-level string in parts is joined for a command without a sink.
        assert await client.execute("GET", "example:a") == big
    finally:
        await client.close()


async def test_a_push_in_parts_goes_to_the_queue_and_replies_still_pair(
    redis_server: RedisServer,
) -> None:
    subscriber = await example.RedisClient.connect(
        redis_server.host, redis_server.port, stream_threshold=1000
    )
    publisher = await example.RedisClient.connect(redis_server.host, redis_server.port)
    try:
        await subscriber.subscribe("example:news")
        assert list(await subscriber.pushes.get()) == [b"subscribe", b"example:news", 1]
        message = b"m" * 5000
        assert await publisher.execute("PUBLISH", "example:news", message) == 1
        assert await asyncio.wait_for(subscriber.execute("PING"), TIMEOUT) == "PONG"
        parts = [subscriber.pushes.get_nowait() for _ in range(subscriber.pushes.qsize())]
        start, kind, channel, string_start, *chunks, string_end = parts
        assert isinstance(start, AggregateStart) and (start.type, start.length) == (">", 3)
        assert (kind, channel) == (b"message", b"example:news")
        assert isinstance(string_start, StringStart) and isinstance(string_end, StringEnd)
        assert b"".join(chunk.data for chunk in chunks) == message
    finally:
        await subscriber.close()
        await publisher.close()


async def test_an_attributed_reply_in_parts_ends_after_the_value_it_annotates(
    redis_server: RedisServer,
) -> None:
    client = await example.RedisClient.connect(
        redis_server.host, redis_server.port, stream_threshold=20
    )
    try:
        parts, pong = await asyncio.wait_for(
            client.pipeline([["DEBUG", "PROTOCOL", "attrib"], ["PING"]]), TIMEOUT
        )
        assert pong == "PONG"
        assert isinstance(parts, list) and isinstance(parts[-1], StringEnd)
        # Only the reply's string (39 bytes) is over the threshold, not the attributes' ones.
        chunks = [part.data for part in parts if isinstance(part, StringChunk)]
        assert b"".join(chunks) == b"Some real reply following the attribute"
    finally:
        await client.close()
