"""Workload group ``resp``: RESP replies decoded by framekit's ``Resp`` codec, hiredis, redis-py.

The inputs are replies in the shapes redis-server 7 sends them (byte for byte what it sends
for the same data: ``*1000`` then ``$6\\r\\nitem:0\\r\\n`` ...), many replies a stream, in
64 KiB and 1460-byte pieces:

- ``resp-lrange``: LRANGE of a 1000-item list (``item:0`` .. ``item:999``), one ``*1000``
  array of short bulks a reply.
- ``resp-get``: pipelined GET replies, ``$5\\r\\nv0000\\r\\n`` .. (1000 a pipeline).
- ``resp-ok``: pipelined ``+OK`` (SET replies, 1000 a pipeline).
- ``resp-bulk-1m``: GET of a 1 MiB value, one ``$1048576`` bulk a reply.
- ``resp-map``: RESP3 maps: HGETALL of a 100-field hash (``%100``, ``field:N`` to
  ``value:N``) alternating with a CONFIG GET-like ``%192`` (option names to short values,
  some empty, as ``CONFIG GET *`` under ``HELLO 3``).

The implementations (each returns the replies it read, checked before any time counts):

- ``framekit-decoder``: ``Resp().decoder()`` driven directly over a ``framekit._buffer.Buffer``
  (the reader's buffer: a piece is kept as it is, a short remainder joined to the next piece,
  a long one grown in a bytearray): one ``decode`` per piece, ``decode_eof`` at the end. No
  event loop: the decoder's own cost.
- ``framekit``: ``root.frames(Resp())`` on a framekit ``StreamReader`` fed piece by piece
  like every reader of the other groups, ``await read()`` one reply at a time until
  ``EndOfStream`` (a client pairing replies with commands).
- ``framekit-batch``: the same with ``await read_batch()`` (a pipeline's replies at once).
- ``hiredis``: ``hiredis.Reader()``: ``feed(piece)``, then ``gets()`` until ``False``, over the
  pieces, no event loop (what the decoder rows compare with).
- ``hiredis-task``: the same loop in a task woken once per piece by the least a reader can be
  (``benchmarks.frames._Woken``: a list of pieces and a future): the least an asyncio client
  on hiredis pays per piece; the peer of ``framekit-batch``.
- ``hiredis-task-one``: ``hiredis-task`` handing out one reply per ``await read()`` (``gets()``,
  and a wait for the next piece when it says ``False``: what redis-py's asyncio client does
  with hiredis); the peer of ``framekit``.
- ``redis-py``: redis-py's pure-Python RESP3 parser (``redis._parsers.resp3._RESP3Parser``),
  and ``redis-py-resp2`` its RESP2 parser (``_RESP2Parser``, on the RESP2-shaped inputs).
  They pull bytes from a socket through redis-py's own ``SocketBuffer``; here its socket is
  an in-memory object whose ``recv()`` returns the next piece (``b""`` after the last, which
  ends the loop with redis-py's ``ConnectionError``). ``read_response()`` until then, with an
  ``Encoder`` that does not decode (bytes out, as ``decode_responses=False``).
- ``redis-py-async``: redis-py's asyncio RESP3 parser (``_AsyncRESP3Parser``, what its asyncio
  client runs without hiredis), on an asyncio ``StreamReader`` fed piece by piece as the
  readers of the other groups are: a ``readline()`` (and a ``readexactly()`` for a bulk that
  is not all in the line's piece) per element, ``read_response()`` until the end.

hiredis and redis-py return simple strings as ``bytes`` (``b"OK"``), framekit as ``str``
(``"OK"``): the check takes the peers' top-level ``bytes`` as the simple string they are on
``resp-ok`` (whose replies all are), and compares everything else as it is (bulks ``bytes``,
arrays lists, maps dicts in wire order).

``framekit-py-decoder``, ``framekit-py``, ``framekit-py-batch``: the same with decoders that do
not use the compiled scanner (``framekit.speedups.scan_resp``), framekit as pure Python in the
same run; registered only when the scanner is in use (with ``FRAMEKIT_NO_EXTENSIONS=1``, or
without the extension, the ``framekit*`` rows are pure Python themselves).

Targets (time ratios to hiredis driven as the row is: ``framekit-decoder`` to ``hiredis``,
``framekit-batch`` to ``hiredis-task``, ``framekit`` to ``hiredis-task-one``; the tables show
every row against bare hiredis too): the issue's pure-Python ones
(on the pure rows): LRANGE within 8x, pipelined small replies (GET, +OK) within 3x, the
1 MiB bulk at most 0.5x; the maps have none. With the compiled scanner (``framekit.speedups``
enabled, with a non-None attribute with ``resp`` in its name), the compiled path's on the
``framekit*`` rows: within 1.2x on every row (0.5x still for the bulk).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Sequence
from functools import lru_cache, partial
from typing import Any

from benchmarks.frames import _Woken
from benchmarks.harness import (
    Checked,
    Implementation,
    Input,
    Target,
    Workload,
    feed_and_read,
    register,
    split_pieces,
)
from benchmarks.peers import asyncio_reader, framekit_reader
from benchmarks.streams import PIECE_SIZES, _pool

__all__ = ["LIMIT", "Replies", "resp_compiled", "summarize"]

MiB = 2**20
LIMIT = 2**16

try:  # the codec, hiredis and redis-py: without any of them the group is not registered
    import hiredis
    from redis._parsers.encoders import Encoder
    from redis._parsers.resp2 import _RESP2Parser
    from redis._parsers.resp3 import _AsyncRESP3Parser, _RESP3Parser
    from redis._parsers.socket import SocketBuffer
    from redis.exceptions import ConnectionError as RedisConnectionError

    from framekit import errors, speedups
    from framekit._buffer import Buffer
    from framekit.codecs.resp import Resp
except ImportError:  # pragma: no cover - a framekit before RESP (--ab), or no peers
    AVAILABLE = False
else:
    AVAILABLE = True


# -- inputs ------------------------------------------------------------------------------------


def _bulk(value: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(value), value)


def _array(items: Sequence[bytes]) -> bytes:
    return b"*%d\r\n" % len(items) + b"".join(map(_bulk, items))


def _map(pairs: Sequence[tuple[bytes, bytes]]) -> bytes:
    return b"%%%d\r\n" % len(pairs) + b"".join(_bulk(k) + _bulk(v) for k, v in pairs)


_CONFIG_WORDS = (
    "active defrag max scan fields client output buffer limit tls cert file repl backlog "
    "size timeout lazyfree lazy eviction hash list set zset entries value compress depth "
    "notify keyspace events save dir port bind slave read only cluster node latency "
    "tracking table memory policy samples aof rewrite incremental fsync proto bulk len"
)


def _config_pairs() -> list[tuple[bytes, bytes]]:
    """192 option names and values in the shape of ``CONFIG GET *`` (redis 7.0 has 192)."""
    rng = random.Random(16)
    words = _CONFIG_WORDS.split()
    values = [
        b"yes",
        b"no",
        b"0",
        b"",
        b"1000",
        b"25",
        b"notice",
        b"128",
        b"512mb",
        b"3600 1 300 100 60 10000",
        b"normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        b"/var/lib/redis",
    ]
    pairs: dict[bytes, bytes] = {}
    while len(pairs) < 192:
        name = "-".join(rng.choice(words) for _ in range(rng.randint(1, 4))).encode()
        pairs.setdefault(name, rng.choice(values))
    return list(pairs.items())


@lru_cache(maxsize=1)
def _shapes() -> dict[str, tuple[bytes, list[Any]]]:
    """Each workload's unit: its wire bytes and the values they decode to (framekit's types)."""
    items = [b"item:%d" % i for i in range(1000)]
    gets = [b"v%04d" % i for i in range(1000)]
    big = (_pool() * 2)[:MiB]
    hgetall = [(b"field:%d" % i, b"value:%d" % i) for i in range(100)]
    config = _config_pairs()
    return {
        "lrange": (_array(items), [items]),
        "get": (b"".join(map(_bulk, gets)), list(gets)),
        "ok": (b"+OK\r\n" * 1000, ["OK"] * 1000),
        "bulk-1m": (_bulk(big), [big]),
        "map": (_map(hgetall) + _map(config), [dict(hgetall), dict(config)]),
    }


#: Units (replies, or pipelines of 1000 replies) in a full-size input, by workload.
FULL_UNITS = {"lrange": 300, "get": 300, "ok": 300, "bulk-1m": 32, "map": 200}


def resp_input(kind: str, scale: float, piece_size: int) -> Input:
    wire, values = _shapes()[kind]
    units = max(1, round(FULL_UNITS[kind] * scale))
    payload = wire * units
    return Input(split_pieces(payload, piece_size), summarize(values * units), len(payload))


# -- the check ---------------------------------------------------------------------------------


class Replies(list):  # type: ignore[type-arg]
    """A peer's replies, whose simple strings are ``bytes`` (hiredis, redis-py)."""


def _hash_value(h: Any, value: Any) -> None:
    t = type(value)
    if t is bytes:
        h.update(b"$%d:" % len(value))
        h.update(value)
    elif t is str:
        raw = value.encode("utf-8", "surrogateescape")
        h.update(b"+%d:" % len(raw))
        h.update(raw)
    elif t is list:
        h.update(b"*%d:" % len(value))
        for item in value:
            _hash_value(h, item)
    elif t is dict:
        h.update(b"%%%d:" % len(value))
        for key, item in value.items():
            _hash_value(h, key)
            _hash_value(h, item)
    elif t is int:
        h.update(b":%d:" % value)
    elif value is None:
        h.update(b"_")
    else:
        raise AssertionError(f"unexpected reply type {t.__name__}: {value!r}")


def summarize(replies: Sequence[Any]) -> Checked:
    """Count and hash of decoded replies, types included (``str`` apart from ``bytes``)."""
    h = hashlib.blake2b(digest_size=16)
    for reply in replies:
        _hash_value(h, reply)
    return Checked(len(replies), h.hexdigest())


def summarize_simple(replies: Sequence[Any]) -> Checked:
    """:func:`summarize` for a workload whose replies are all simple strings: a peer's
    (``Replies``) top-level ``bytes`` are taken as the simple strings they are."""
    if isinstance(replies, Replies):
        replies = [r.decode("utf-8", "surrogateescape") if type(r) is bytes else r for r in replies]
    return summarize(replies)


# -- framekit ----------------------------------------------------------------------------------


def framekit_decoder(codec: Any) -> Implementation:
    async def impl(pieces: Sequence[bytes]) -> list[Any]:
        """``codec.decoder()`` over a reader's buffer: one ``decode`` per piece, then EOF."""
        decoder = codec.decoder()
        decode = decoder.decode
        buffer = Buffer()
        write = buffer.write
        view = buffer.view
        drop = buffer.drop
        frames: list[Any] = []
        for piece in pieces:
            write(piece)
            with view() as data:
                consumed = decode(data, frames)
            if consumed:
                drop(consumed)
        with view() as data:
            consumed = decoder.decode_eof(data, frames)
        drop(consumed)
        if buffer:
            raise AssertionError(f"{len(buffer)} bytes left after the last reply")
        return frames

    return impl


def read_one_at_a_time(codec: Any) -> Callable[[Any], Any]:
    async def consume(root: Any) -> list[Any]:
        out: list[Any] = []
        append = out.append
        read = root.frames(codec).read
        try:
            while True:
                append(await read())
        except errors.EndOfStream:
            return out

    return consume


def read_batches(codec: Any) -> Callable[[Any], Any]:
    async def consume(root: Any) -> list[Any]:
        out: list[Any] = []
        extend = out.extend
        read_batch = root.frames(codec).read_batch
        while batch := await read_batch():
            extend(batch)
        return out

    return consume


def framekit_frames(consume: Callable[[Any], Any]) -> Implementation:
    async def impl(pieces: Sequence[bytes]) -> list[Any]:
        return await feed_and_read(framekit_reader(LIMIT), pieces, consume)  # type: ignore[no-any-return]

    return impl


def framekit_impls(codec: Any, suffix: str = "") -> dict[str, Implementation]:
    """The three framekit rows for ``codec``: ``framekit-decoder``, ``framekit``,
    ``framekit-batch`` (``suffix`` after ``framekit``: ``-py``)."""
    return {
        f"framekit{suffix}-decoder": framekit_decoder(codec),
        f"framekit{suffix}": framekit_frames(read_one_at_a_time(codec)),
        f"framekit{suffix}-batch": framekit_frames(read_batches(codec)),
    }


if AVAILABLE:

    class PythonResp(Resp):
        """``Resp()`` whose decoders do not use the compiled scanner (``framekit.speedups``):
        what framekit does as pure Python, for the ``framekit-py`` rows."""

        def decoder(self) -> Any:
            decoder = super().decoder()
            decoder._compiled = None
            return decoder


# -- hiredis -----------------------------------------------------------------------------------


async def hiredis_loop(pieces: Sequence[bytes]) -> Replies:
    """``feed`` a piece, ``gets()`` until ``False``, over the pieces."""
    reader = hiredis.Reader()
    feed = reader.feed
    gets = reader.gets
    out = Replies()
    append = out.append
    for piece in pieces:
        feed(piece)
        while (reply := gets()) is not False:
            append(reply)
    return out


async def _hiredis_consume(source: Any) -> Replies:
    reader = hiredis.Reader()
    feed = reader.feed
    gets = reader.gets
    readany = source.readany
    out = Replies()
    append = out.append
    while piece := await readany():
        feed(piece)
        while (reply := gets()) is not False:
            append(reply)
    return out


async def _hiredis_consume_one(source: Any) -> Replies:
    reader = hiredis.Reader()
    feed = reader.feed
    gets = reader.gets
    readany = source.readany

    async def read() -> Any:
        while (reply := gets()) is False:
            piece = await readany()
            if not piece:
                return _END
            feed(piece)
        return reply

    out = Replies()
    append = out.append
    while (reply := await read()) is not _END:
        append(reply)
    return out


_END = object()


async def hiredis_task(pieces: Sequence[bytes]) -> Replies:
    """The hiredis loop in a task woken once per piece."""
    return await feed_and_read(_Woken(), pieces, _hiredis_consume)


async def hiredis_task_one(pieces: Sequence[bytes]) -> Replies:
    """hiredis in a task woken once per piece, one reply per ``await read()``."""
    return await feed_and_read(_Woken(), pieces, _hiredis_consume_one)


# -- redis-py ----------------------------------------------------------------------------------


class PieceSocket:
    """What redis-py's ``SocketBuffer`` asks of a socket: ``recv`` gives the next piece
    (``b""`` after the last: the server closed the connection), ``settimeout`` nothing."""

    def __init__(self, pieces: Sequence[bytes]) -> None:
        self._next = iter(pieces).__next__

    def recv(self, size: int) -> bytes:
        try:
            piece = self._next()
        except StopIteration:
            return b""
        if len(piece) > size:
            raise AssertionError(f"a piece of {len(piece)} bytes for recv({size})")
        return piece

    def settimeout(self, timeout: float | None) -> None:
        pass


def redis_py(parser_class: Any) -> Implementation:
    async def impl(pieces: Sequence[bytes]) -> Replies:
        parser = parser_class(LIMIT)
        parser._buffer = SocketBuffer(PieceSocket(pieces), LIMIT, None)  # type: ignore[arg-type]
        parser.encoder = Encoder("utf-8", "strict", decode_responses=False)
        read_response = parser.read_response
        out = Replies()
        append = out.append
        try:
            while True:
                append(read_response())
        except RedisConnectionError:  # recv() gave b"": the end
            return out

    return impl


async def _redis_py_async_consume(stream: Any) -> Replies:
    parser = _AsyncRESP3Parser(LIMIT)
    parser._stream = stream
    parser.encoder = Encoder("utf-8", "strict", decode_responses=False)
    parser._connected = True
    read_response = parser.read_response
    out = Replies()
    append = out.append
    try:
        while True:
            append(await read_response())
    except RedisConnectionError:  # the stream ended (at a reply's start, or the check fails)
        return out


async def redis_py_async(pieces: Sequence[bytes]) -> Replies:
    """redis-py's asyncio RESP3 parser on an asyncio ``StreamReader`` fed piece by piece."""
    return await feed_and_read(asyncio_reader(LIMIT), pieces, _redis_py_async_consume)


# -- registration ------------------------------------------------------------------------------


def resp_compiled() -> bool:
    """True when framekit's compiled path has a RESP scanner in use."""
    return bool(
        AVAILABLE
        and speedups.ENABLED
        and any(
            "resp" in name.lower() and value is not None for name, value in vars(speedups).items()
        )
    )


#: The issue's pure-Python targets (time / hiredis's time), by workload kind.
PURE_TARGETS = {"lrange": 8.0, "get": 3.0, "ok": 3.0, "bulk-1m": 0.5}
COMPILED_TARGET = 1.2

DESCRIPTIONS = {
    "lrange": "LRANGE of 1000 items (*1000 of $6-$8 bulks), 300 replies",
    "get": "pipelined GET replies ($5 bulks), 300 x 1000",
    "ok": "pipelined +OK, 300 x 1000",
    "bulk-1m": "a 1 MiB bulk ($1048576), 32 replies",
    "map": "RESP3 maps: HGETALL of 100 fields (%100) and CONFIG GET-like (%192), 200 each",
}


#: Each framekit row against hiredis driven the same way: the decoder against the bare
#: feed + gets loop, the reader's batches against that loop in a task woken per piece, one
#: reply per ``read()`` against one reply per ``await`` (redis-py's asyncio client on hiredis).
LIKE_FOR_LIKE = {
    "framekit-decoder": "hiredis",
    "framekit-batch": "hiredis-task",
    "framekit": "hiredis-task-one",
}


def _targets(kind: str) -> list[Target]:
    """The pure targets on the pure rows (``framekit-py-*`` when the compiled scanner is in
    use, else ``framekit-*``, which then are pure), the compiled ones on ``framekit-*``;
    each row against its like (``LIKE_FOR_LIKE``)."""
    pure = PURE_TARGETS.get(kind)
    compiled = min(pure or COMPILED_TARGET, COMPILED_TARGET)
    if not resp_compiled():
        if not pure:
            return []
        return [Target(peer, pure, subject=s) for s, peer in LIKE_FOR_LIKE.items()]
    targets = [Target(peer, compiled, subject=s) for s, peer in LIKE_FOR_LIKE.items()]
    if pure:
        targets += [
            Target(peer, pure, subject=s.replace("framekit", "framekit-py"))
            for s, peer in LIKE_FOR_LIKE.items()
        ]
    return targets


def _register() -> None:
    compiled = resp_compiled()
    for kind, description in DESCRIPTIONS.items():
        for label, size in PIECE_SIZES.items():
            impls = framekit_impls(Resp())
            if compiled:
                impls.update(framekit_impls(PythonResp(), "-py"))
            impls.update(
                {
                    "hiredis": hiredis_loop,
                    "hiredis-task": hiredis_task,
                    "hiredis-task-one": hiredis_task_one,
                    "redis-py": redis_py(_RESP3Parser),
                    "redis-py-async": redis_py_async,
                }
            )
            if kind != "map":
                impls["redis-py-resp2"] = redis_py(_RESP2Parser)
            register(
                Workload(
                    name=f"resp-{kind}/{label}",
                    group="resp",
                    description=f"{description}, {size}-byte pieces",
                    make_input=partial(resp_input, kind, piece_size=size),
                    implementations=impls,
                    baselines=["hiredis", "hiredis-task", "hiredis-task-one"],
                    summarize=summarize_simple if kind == "ok" else summarize,
                    metric="time",
                    targets=_targets(kind),
                )
            )


if AVAILABLE:
    _register()
