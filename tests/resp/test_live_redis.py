"""The RESP codec against a live redis-server, through framekit's asyncio API.

The server is the session's (tests/resp/conftest.py, tests/resp/server.py): started from the
project's own configuration on a free port of 127.0.0.1, nothing listening beyond loopback,
stopped by its pid at the end; installed with apt when missing (CI starts without it).
Commands go out with ``encode_command``/``encode_commands``; replies come from
``reader.frames(Resp())``. Nothing here is skipped.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import random
from collections.abc import Sequence

import pytest

from framekit.codecs.resp import (
    AggregateStart,
    Attributed,
    MapPairs,
    Push,
    ReplyError,
    Resp,
    StringChunk,
    StringEnd,
    StringStart,
    Verbatim,
    encode_command,
    encode_commands,
)
from framekit.connection import StreamWriter, open_connection
from framekit.frames import FrameReader
from tests.resp.captures import load_manifest
from tests.resp.server import RedisServer
from tests.resp.values import canon, canon_json

Arg = bytes | str | int | float

#: A guard against a hang, not a speed check.
TIMEOUT = 120


class Connection:
    """One connection: commands written with encode_command, replies read as frames."""

    def __init__(self, frames: FrameReader[object], writer: StreamWriter) -> None:
        self.frames = frames
        self.writer = writer

    @classmethod
    async def open(cls, server: RedisServer, codec: Resp | None = None) -> Connection:
        reader, writer = await open_connection(server.host, server.port)
        return cls(reader.frames(codec or Resp()), writer)

    async def send(self, *commands: Sequence[Arg]) -> None:
        self.writer.write(encode_commands(commands))
        await self.writer.drain()

    async def read(self) -> object:
        return await asyncio.wait_for(self.frames.read(), TIMEOUT)

    async def call(self, *args: Arg) -> object:
        self.writer.write(encode_command(*args))
        await self.writer.drain()
        return await self.read()

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


@pytest.fixture
async def flushed(redis_server: RedisServer) -> RedisServer:
    """The session's server with no keys."""
    conn = await Connection.open(redis_server)
    assert await conn.call("FLUSHALL") == "OK"
    await conn.close()
    return redis_server


async def opened(server: RedisServer, protocol: str, codec: Resp | None = None) -> Connection:
    """A connection speaking ``protocol``: "resp2" (no HELLO), "hello2" or "hello3"."""
    conn = await Connection.open(server, codec)
    if protocol != "resp2":
        hello = await conn.call("HELLO", protocol[-1])
        version = int(protocol[-1])
        if version == 3:
            assert isinstance(hello, (dict, MapPairs))
            assert (b"proto", 3) in (hello.items() if isinstance(hello, dict) else hello)
        else:
            assert isinstance(hello, list) and hello[hello.index(b"proto") + 1] == 2
    return conn


# -- RESP2 and RESP3 --------------------------------------------------------------------------

COMMANDS: list[tuple[list[Arg], object, object]] = [
    # command, RESP2 value, RESP3 value
    (["PING"], "PONG", "PONG"),
    (["SET", "s", "v"], "OK", "OK"),
    (["GET", "s"], b"v", b"v"),
    (["GET", "missing"], None, None),
    (["INCRBY", "n", 41], 41, 41),
    (["ECHO", "é"], "é".encode(), "é".encode()),
    (["HSET", "h", "f", "1", "g", "2"], 2, 2),
    (["HGETALL", "h"], [b"f", b"1", b"g", b"2"], {b"f": b"1", b"g": b"2"}),
    (["SADD", "set", "a"], 1, 1),
    (["SMEMBERS", "set"], [b"a"], {b"a"}),
    (["ZADD", "z", 1.5, "m"], 1, 1),
    (["ZRANGE", "z", 0, -1, "WITHSCORES"], [b"m", b"1.5"], [[b"m", 1.5]]),
    (["ZSCORE", "z", "m"], b"1.5", 1.5),
    (["ZADD", "zi", "+inf", "top", "-inf", "bottom"], 2, 2),
    (["ZSCORE", "zi", "top"], b"inf", math.inf),
    (["ZSCORE", "zi", "bottom"], b"-inf", -math.inf),
    (["EXISTS", "s", "missing"], 1, 1),
    (["LPOP", "missing", 2], None, None),
    (["RPUSH", "list", "a", "b"], 2, 2),
    (["LRANGE", "list", 0, -1], [b"a", b"b"], [b"a", b"b"]),
]


@pytest.mark.parametrize("protocol", ["resp2", "hello2", "hello3"])
async def test_same_commands_give_the_expected_values_in_resp2_and_resp3(
    flushed: RedisServer, protocol: str
) -> None:
    conn = await opened(flushed, protocol)
    try:
        for command, resp2, resp3 in COMMANDS:
            want = resp3 if protocol == "hello3" else resp2
            assert canon(await conn.call(*command)) == canon(want), command
    finally:
        await conn.close()


async def test_one_decoder_follows_hello_switching_protocols_within_a_pipeline(
    redis_server: RedisServer,
) -> None:
    conn = await opened(redis_server, "resp2")
    try:
        map_command = ["DEBUG", "PROTOCOL", "map"]
        await conn.send(map_command, ["HELLO", "3"], map_command, ["HELLO", "2"], map_command)
        assert await conn.read() == [0, 0, 1, 1, 2, 0]
        assert isinstance(await conn.read(), dict)
        assert await conn.read() == {0: False, 1: True, 2: False}
        assert isinstance(await conn.read(), list)
        assert await conn.read() == [0, 0, 1, 1, 2, 0]
    finally:
        await conn.close()


async def test_reply_errors_are_values_and_the_connection_goes_on(flushed: RedisServer) -> None:
    conn = await opened(flushed, "hello3")
    try:
        await conn.send(["RPUSH", "l", "x"], ["GET", "l"], ["NOSUCH"], ["PING"])
        assert await conn.read() == 1
        error = await conn.read()
        assert isinstance(error, ReplyError)
        assert (error.code, error.blob) == ("WRONGTYPE", False)
        assert error.message.startswith("WRONGTYPE Operation against a key")
        unknown = await conn.read()
        assert isinstance(unknown, ReplyError) and unknown.code == "ERR"
        assert await conn.read() == "PONG"
    finally:
        await conn.close()


async def test_hello_with_an_unknown_version_is_a_reply_error(flushed: RedisServer) -> None:
    conn = await opened(flushed, "resp2")
    try:
        error = await conn.call("HELLO", 4)
        assert isinstance(error, ReplyError) and error.code == "NOPROTO"
        assert await conn.call("PING") == "PONG"
    finally:
        await conn.close()


# -- DEBUG PROTOCOL: every type redis 7.0 has -------------------------------------------------

DEBUG_CAPTURES = [
    name for name in load_manifest()["captures"] if name.startswith(("debug_", "resp2_debug_"))
]


@pytest.mark.parametrize("map_type", ["dict", "pairs"])
@pytest.mark.parametrize("name", DEBUG_CAPTURES)
async def test_debug_protocol_gives_exactly_the_values_of_its_type(
    redis_server: RedisServer, name: str, map_type: str
) -> None:
    entry = load_manifest()["captures"][name]
    protocol = "hello3" if entry["protocol"] == 3 else "resp2"
    conn = await opened(redis_server, protocol, Resp(map_type=map_type))  # type: ignore[arg-type]
    try:
        await conn.send(*entry["commands"])
        replies = [await conn.read() for _ in entry["replies"]]
        assert [canon(reply) for reply in replies] == [canon_json(v) for v in entry["replies"]]
        assert await conn.call("ECHO", "after") == b"after"  # nothing left over, nothing missing
    finally:
        await conn.close()


async def test_attribute_is_attached_to_its_reply_and_later_replies_still_pair(
    redis_server: RedisServer,
) -> None:
    conn = await opened(redis_server, "hello3")
    try:
        await conn.send(
            ["DEBUG", "PROTOCOL", "attrib"],
            ["ECHO", "one"],
            ["DEBUG", "PROTOCOL", "attrib"],
            ["ECHO", "two"],
        )
        first, one, second, two = [await conn.read() for _ in range(4)]
        for attributed in (first, second):
            assert isinstance(attributed, Attributed)
            assert attributed.value == b"Some real reply following the attribute"
            assert attributed.attributes == {b"key-popularity": [b"key:123", 90]}
        assert (one, two) == (b"one", b"two")
    finally:
        await conn.close()


async def test_attributed_reply_in_event_mode_keeps_the_next_reply_paired(
    redis_server: RedisServer,
) -> None:
    conn = await opened(redis_server, "hello3", Resp(stream_threshold=20))
    try:
        await conn.send(["DEBUG", "PROTOCOL", "attrib"], ["PING"])
        parts = [await conn.read()]
        while not isinstance(parts[-1], StringEnd):
            parts.append(await conn.read())
        chunks = [part.data for part in parts if isinstance(part, StringChunk)]
        assert b"".join(chunks) == b"Some real reply following the attribute"
        assert await conn.read() == "PONG"
    finally:
        await conn.close()


async def test_attributes_in_event_mode_come_as_an_aggregate_before_the_string(
    redis_server: RedisServer,
) -> None:
    """In event mode the whole reply comes as parts: the attributes as an aggregate of type
    ``"|"`` (its key, then its value, an array, as parts too), then the string they
    annotate."""
    conn = await opened(redis_server, "hello3", Resp(stream_threshold=20))
    try:
        await conn.send(["DEBUG", "PROTOCOL", "attrib"], ["PING"])
        parts = [await conn.read() for _ in range(6)]
        assert parts == [
            AggregateStart("|", 1),
            b"key-popularity",
            AggregateStart("*", 2),
            b"key:123",
            90,
            StringStart("$", 39),
        ]
    finally:
        await conn.close()


async def test_verbatim_keeps_its_format(redis_server: RedisServer) -> None:
    conn = await opened(redis_server, "hello3")
    try:
        info = await conn.call("CLIENT", "INFO")
        assert isinstance(info, Verbatim) and info.format == "txt"
        assert info.text.startswith("id=") and "resp=3" in info.text
    finally:
        await conn.close()


# -- pushes between replies -------------------------------------------------------------------


async def test_invalidation_arrives_as_a_push_and_the_next_reply_still_pairs(
    flushed: RedisServer,
) -> None:
    tracked = await opened(flushed, "hello3")
    other = await opened(flushed, "resp2")
    try:
        assert await tracked.call("CLIENT", "TRACKING", "ON") == "OK"
        assert await tracked.call("GET", "k") is None
        assert await other.call("SET", "k", "new") == "OK"
        await tracked.send(["PING"], ["GET", "k"])
        push = await tracked.read()
        assert isinstance(push, Push)
        assert (push.kind, list(push)) == ("invalidate", [b"invalidate", [b"k"]])
        assert await tracked.read() == "PONG"
        assert await tracked.read() == b"new"
    finally:
        await tracked.close()
        await other.close()


async def test_published_messages_arrive_as_pushes_while_the_subscriber_pings(
    flushed: RedisServer,
) -> None:
    subscriber = await opened(flushed, "hello3")
    publisher = await opened(flushed, "resp2")
    # A channel of this test's own: a subscriber another test left open cannot count.
    channel = f"news:{random.getrandbits(64):x}"
    try:
        subscribed = await subscriber.call("SUBSCRIBE", channel)
        assert isinstance(subscribed, Push)
        assert list(subscribed) == [b"subscribe", channel.encode(), 1]
        replies: list[object] = []
        for i in range(20):
            assert await publisher.call("PUBLISH", channel, f"m{i}") == 1
            await subscriber.send(["PING"])
        while len([r for r in replies if not isinstance(r, Push)]) < 20:
            replies.append(await subscriber.read())
        pushes = [r for r in replies if isinstance(r, Push)]
        pongs = [r for r in replies if not isinstance(r, Push)]
        assert pongs == ["PONG"] * 20
        assert [(p.kind, list(p)) for p in pushes] == [
            ("message", [b"message", channel.encode(), f"m{i}".encode()]) for i in range(20)
        ]
        # Message i was published (PUBLISH answered) before PING i was sent: it comes before
        # PONG i. The next PUBLISH, on another connection, may reach the server before PING i
        # does, so a message may also come before an earlier PONG.
        for k in range(1, 21):
            kth_pong = [i for i, r in enumerate(replies) if not isinstance(r, Push)][k - 1]
            assert sum(isinstance(r, Push) for r in replies[:kth_pong]) >= k, replies
    finally:
        await subscriber.close()
        await publisher.close()


# -- a 10,000-command pipeline ----------------------------------------------------------------

PIPELINE = 10_000


async def test_10000_command_pipeline_written_at_once_pairs_every_reply(
    flushed: RedisServer,
) -> None:
    commands: list[list[Arg]] = []
    wanted: list[object] = []
    for i in range(PIPELINE // 4):
        commands += [["SET", f"k:{i}", f"v:{i}"], ["GET", f"k:{i}"], ["INCR", "n"], ["GET", "no"]]
        wanted += ["OK", f"v:{i}".encode(), i + 1, None]
    conn = await opened(flushed, "hello3")
    try:
        conn.writer.write(encode_commands(commands))
        await conn.writer.drain()
        replies: list[object] = []
        while len(replies) < PIPELINE:
            replies += await asyncio.wait_for(conn.frames.read_batch(), TIMEOUT)
        assert len(replies) == PIPELINE
        assert [canon(r) for r in replies] == [canon(w) for w in wanted]
    finally:
        await conn.close()


# -- a 100 MB value ---------------------------------------------------------------------------

BIG = 100 * 1000 * 1000


@pytest.fixture(scope="module")
def big_value() -> bytes:
    return random.Random(16).randbytes(BIG)


async def _store_big(server: RedisServer, value: bytes) -> None:
    conn = await opened(server, "hello3")
    try:
        assert await conn.call("SET", "big", value) == "OK"
        assert await conn.call("STRLEN", "big") == BIG
    finally:
        await conn.close()


async def test_100mb_value_round_trips_assembled(
    redis_server: RedisServer, big_value: bytes
) -> None:
    await _store_big(redis_server, big_value)
    conn = await opened(redis_server, "hello3")
    try:
        got = await conn.call("GET", "big")
        assert type(got) is bytes and len(got) == BIG
        assert got == big_value
        assert await conn.call("PING") == "PONG"
    finally:
        await conn.close()


async def test_100mb_value_comes_in_chunks_in_event_mode(
    redis_server: RedisServer, big_value: bytes
) -> None:
    await _store_big(redis_server, big_value)
    conn = await opened(redis_server, "hello3", Resp(stream_threshold=1 << 16))
    try:
        await conn.send(["GET", "big"], ["PING"])
        start = await conn.read()
        assert isinstance(start, StringStart)
        assert (start.type, start.length) == ("$", BIG)
        digest, size, largest, chunks = hashlib.sha256(), 0, 0, 0
        while isinstance(part := await conn.read(), StringChunk):
            digest.update(part.data)
            size += len(part.data)
            largest = max(largest, len(part.data))
            chunks += 1
        assert isinstance(part, StringEnd)
        assert size == BIG
        assert digest.digest() == hashlib.sha256(big_value).digest()
        # The chunks are what arrived, not the value joined: each far below its 100 MB.
        assert chunks > 100 and largest <= 8 << 20, (chunks, largest)
        assert await conn.read() == "PONG"
    finally:
        await conn.close()
