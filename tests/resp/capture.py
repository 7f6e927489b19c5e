"""Capture replies from a real redis-server into tests/resp/captures/ (files + manifest.json).

    python -m tests.resp.capture [--check]

Starts a redis-server of its own (tests/resp/server.py: loopback only, a temporary
directory, stopped by its pid at the end), sends each capture's commands over a plain
socket, and stores the exact bytes the connection received as ``captures/<name>.resp``, with
a manifest entry naming the commands, the protocol version and the values the replies must
decode to (the value format: tests/resp/captures/__init__.py). ``--check`` compares with the
stored files instead of writing them (exit 1 on a difference).

To know where a capture's bytes end without decoding them, each step is followed by
``PING <token>``, whose reply (a bulk, or ``*2 pong <token>`` on a RESP2 subscriber) is
cut off: a capture holds only the replies (and pushes) to its own commands. Every capture
starts with ``FLUSHALL`` on a connection of its own (``HELLO 3`` first on RESP3 ones), and
its setup commands' replies are read and dropped. The 1 MiB bulk is not stored: it is
compared with :func:`~tests.resp.captures.generated_bulk`, which the loader returns.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from tests.resp.captures import CAPTURES, bytes_range, generated_bulk
from tests.resp.server import start_redis
from tests.servers import ensure_program

Arg = bytes | str | int
Command = Sequence[Arg]
Json = Any


# -- the manifest's value notation (tests/resp/captures/__init__.py) -----------------------------


def b(text: str) -> Json:
    return {"bytes": text}


def array(*items: Json) -> Json:
    return {"array": list(items)}


def rset(*items: Json) -> Json:
    return {"set": list(items)}


def push(*items: Json) -> Json:
    return {"push": list(items)}


def rmap(*pairs: tuple[Json, Json]) -> Json:
    return {"map": [list(pair) for pair in pairs]}


def double(value: float | str) -> Json:
    return {"double": value}


def error(message: str) -> Json:
    return {"error": message, "blob": False}


def verbatim(fmt: str, data: str) -> Json:
    return {"verbatim": fmt, "data": data}


# -- the wire -----------------------------------------------------------------------------------


def encode(command: Command) -> bytes:
    """A command as RESP: an array of bulks (the capture's own, independent of framekit)."""
    parts = [b"*%d\r\n" % len(command)]
    for arg in command:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


class Connection:
    """A plain socket to the server that collects received bytes up to a PING token's reply."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)

    def send(self, commands: Sequence[Command]) -> None:
        self.sock.sendall(b"".join(encode(command) for command in commands))

    def collect(self) -> bytes:
        """Everything received before the reply to a PING sent now (that reply dropped)."""
        token = uuid.uuid4().hex.encode()
        self.send([["PING", token]])
        # The longer first: the plain reply is a suffix of the subscriber's.
        ends = (b"*2\r\n$4\r\npong\r\n$32\r\n%s\r\n" % token, b"$32\r\n%s\r\n" % token)
        received = bytearray()
        while True:
            for end in ends:
                if received.endswith(end):
                    return bytes(received[: -len(end)])
            data = self.sock.recv(1 << 20)
            if not data:
                raise RuntimeError(f"the server closed the connection; got {bytes(received)!r}")
            received += data

    def run(self, commands: Sequence[Command]) -> bytes:
        self.send(commands)
        return self.collect()

    def close(self) -> None:
        self.sock.close()


@attrs.define
class Context:
    """What a capture's expected values may depend on."""

    version: str  # redis-server's version, "7.0.15"
    client_id: int  # the capturing connection's CLIENT ID


@attrs.define
class Spec:
    """One capture: commands on a connection of ``protocol``, and the replies they must give."""

    name: str
    protocol: int
    commands: list[list[Arg]]
    replies: Callable[[Context], list[Json]]
    setup: list[list[Arg]] = attrs.field(factory=list)
    other: list[list[Arg]] = attrs.field(factory=list)
    other_after: int = 0  # the other connection's commands run after this many commands
    note: str = ""
    generated: str | None = None  # the loader's generator, for a capture not stored


def _always(replies: list[Json]) -> Callable[[Context], list[Json]]:
    return lambda ctx: replies


def _debug(kind: str) -> list[Arg]:
    return ["DEBUG", "PROTOCOL", kind]


def _hello_map(ctx: Context, protocol: int) -> list[tuple[Json, Json]]:
    return [
        (b("server"), b("redis")),
        (b("version"), b(ctx.version)),
        (b("proto"), protocol),
        (b("id"), ctx.client_id),
        (b("mode"), b("standalone")),
        (b("role"), b("master")),
        (b("modules"), array()),
    ]


ITEMS = 1000
FIELDS = 100
HASH_FIELDS = [x for i in range(FIELDS) for x in (f"field:{i}", f"value:{i}")]
MIB = 1 << 20
VERBATIM = "This is a verbatim\nstring"
ATTRIB_REPLY = "Some real reply following the attribute"
BIGNUM = 1234567999999999999999999999999999999


def specs() -> list[Spec]:
    """Every capture, in the manifest's order."""
    hello3 = Spec(
        "hello3",
        3,
        [["HELLO", "3"]],
        lambda ctx: [rmap(*_hello_map(ctx, 3))],
        note="the server's version and the connection id are this capture's",
    )
    hello2 = Spec(
        "hello2",
        2,
        [["HELLO", "2"]],
        lambda ctx: [array(*(x for pair in _hello_map(ctx, 2) for x in pair))],
    )
    resp3: list[tuple[str, list[Json]]] = [
        ("string", [b("Hello World")]),
        ("integer", [12345]),
        ("double", [double(3.141)]),
        ("bignum", [BIGNUM]),
        ("null", [None]),
        ("array", [array(0, 1, 2)]),
        ("set", [rset(0, 1, 2)]),
        ("map", [rmap((0, False), (1, True), (2, False))]),
        ("verbatim", [verbatim("txt", VERBATIM)]),
        ("true", [True]),
        ("false", [False]),
    ]
    resp2: list[tuple[str, list[Json]]] = [
        ("double", [b("3.141")]),
        ("bignum", [b(str(BIGNUM))]),
        ("null", [None]),
        ("set", [array(0, 1, 2)]),
        ("map", [array(0, 0, 1, 1, 2, 0)]),
        ("verbatim", [b(VERBATIM)]),
        ("true", [1]),
        ("false", [0]),
    ]
    out = [hello3, hello2]
    for kind, replies in resp3:
        out.append(Spec(f"debug_{kind}", 3, [_debug(kind)], _always(replies)))
    out += [
        Spec(
            "debug_attrib",
            3,
            [_debug("attrib"), ["PING"]],
            lambda ctx: [
                {
                    "attributed": b(ATTRIB_REPLY),
                    "attributes": rmap((b("key-popularity"), array(b("key:123"), 90))),
                },
                "PONG",
            ],
            note="the attribute belongs to the reply after it; PING's reply still pairs",
        ),
        Spec(
            "debug_push",
            3,
            [_debug("push"), ["PING"]],
            lambda ctx: [
                push(b("server-cpu-usage"), 42),
                b("Some real reply following the push reply"),
                "PONG",
            ],
            note="DEBUG PROTOCOL push sends a push, then its reply",
        ),
    ]
    for kind, replies in resp2:
        out.append(Spec(f"resp2_debug_{kind}", 2, [_debug(kind)], _always(replies)))
    out += [
        Spec(
            "resp2_debug_attrib",
            2,
            [_debug("attrib"), ["PING"]],
            lambda ctx: [b(ATTRIB_REPLY), "PONG"],
            note="RESP2 has no attributes: the server leaves it out",
        ),
        Spec(
            "resp2_debug_push",
            2,
            [_debug("push")],
            lambda ctx: [error("ERR RESP2 is not supported by this command")],
        ),
        Spec(
            "error_replies",
            3,
            [["NOSUCH", "a"], ["GET", "alist"]],
            lambda ctx: [
                error("ERR unknown command 'NOSUCH', with args beginning with: 'a' "),
                error("WRONGTYPE Operation against a key holding the wrong kind of value"),
            ],
            setup=[["RPUSH", "alist", "x"]],
        ),
        Spec(
            "lrange_1000",
            3,
            [["LRANGE", "list", 0, -1]],
            lambda ctx: [array(*(b(f"item:{i}") for i in range(ITEMS)))],
            setup=[["RPUSH", "list", *(f"item:{i}" for i in range(ITEMS))]],
            note="the same bytes in RESP2",
        ),
        Spec(
            "pipelined_get_1000",
            3,
            [["GET", f"key:{i}"] for i in range(ITEMS)],
            lambda ctx: [b(f"value:{i}") for i in range(ITEMS)],
            setup=[["MSET", *(x for i in range(ITEMS) for x in (f"key:{i}", f"value:{i}"))]],
            note="1000 GETs written at once; the same bytes in RESP2",
        ),
        Spec(
            "bulk_1mib",
            3,
            [["GET", "big"]],
            lambda ctx: [{"bytes_range": MIB}],
            setup=[["SET", "big", bytes_range(MIB)]],
            note="not stored: the loader generates it (generated_bulk), checked equal here",
            generated=f"generated_bulk({MIB})",
        ),
        Spec(
            "hgetall_100",
            3,
            [["HGETALL", "hash"]],
            lambda ctx: [rmap(*((b(f"field:{i}"), b(f"value:{i}")) for i in range(FIELDS)))],
            setup=[
                ["HSET", "hash", *(x for i in range(FIELDS) for x in (f"field:{i}", f"value:{i}"))]
            ],
            note="a listpack hash: fields in insertion order",
        ),
        Spec(
            "resp2_hgetall_100",
            2,
            [["HGETALL", "hash"]],
            lambda ctx: [
                array(*(b(x) for i in range(FIELDS) for x in (f"field:{i}", f"value:{i}")))
            ],
            setup=[
                ["HSET", "hash", *(x for i in range(FIELDS) for x in (f"field:{i}", f"value:{i}"))]
            ],
        ),
        Spec(
            "client_trackinginfo",
            3,
            [["CLIENT", "TRACKINGINFO"]],
            lambda ctx: [
                rmap((b("flags"), rset(b("off"))), (b("redirect"), -1), (b("prefixes"), array()))
            ],
            note="a map holding a set and an empty array",
        ),
        Spec(
            "pubsub_push",
            3,
            [["SUBSCRIBE", "news"], ["PING"]],
            lambda ctx: [
                push(b("subscribe"), b("news"), 1),
                push(b("message"), b("news"), b("hello")),
                "PONG",
            ],
            other=[["PUBLISH", "news", "hello"]],
            other_after=1,
            note="PUBLISH from a second connection after SUBSCRIBE's push; then PING",
        ),
        Spec(
            "resp2_pubsub",
            2,
            [["SUBSCRIBE", "news"], ["PING"]],
            lambda ctx: [
                array(b("subscribe"), b("news"), 1),
                array(b("message"), b("news"), b("hello")),
                array(b("pong"), b("")),
            ],
            other=[["PUBLISH", "news", "hello"]],
            other_after=1,
            note="RESP2 subscribers get arrays, and PING answers *2 pong",
        ),
        Spec(
            "tracking_invalidate",
            3,
            [["CLIENT", "TRACKING", "ON"], ["GET", "tracked"], ["PING"]],
            lambda ctx: ["OK", None, push(b("invalidate"), array(b("tracked"))), "PONG"],
            other=[["SET", "tracked", "1"]],
            other_after=2,
            note="SET from a second connection invalidates the key read; the push comes first",
        ),
    ]
    return out


def capture(spec: Spec, port: int, version: str) -> tuple[bytes, list[Json]]:
    """Run ``spec`` against the server on ``port``: the bytes received and the replies due."""
    main = Connection(port)
    other = Connection(port)
    try:
        main.run([["FLUSHALL"]])
        if spec.protocol == 3 and spec.commands[0][0] != "HELLO":
            main.run([["HELLO", "3"]])
        ident = re.fullmatch(rb":(\d+)\r\n", main.run([["CLIENT", "ID"]]))
        assert ident is not None
        if spec.setup:
            main.run(spec.setup)
        received = main.run(spec.commands[: spec.other_after] if spec.other else spec.commands)
        if spec.other:
            other.run(spec.other)
            received += main.run(spec.commands[spec.other_after :])
        return received, spec.replies(Context(version, int(ident.group(1))))
    finally:
        main.close()
        other.close()


def capture_all(port: int, version: str) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Every capture against the server on ``port``: the manifest and each capture's bytes."""
    manifest: dict[str, Any] = {"server": f"redis-server {version}", "captures": {}}
    received: dict[str, bytes] = {}
    for spec in specs():
        data, replies = capture(spec, port, version)
        entry: dict[str, Any] = {
            "file": None if spec.generated else f"{spec.name}.resp",
            "protocol": spec.protocol,
            "commands": spec.commands,
            "replies": replies,
        }
        if len(spec.commands) > 3:  # a long pipeline: say what it is
            entry["commands"] = [*spec.commands[:2], ["..."]]
            entry["command_count"] = len(spec.commands)
        if spec.setup:
            entry["setup"] = [_short(command) for command in spec.setup]
        if spec.other:
            entry["other"] = spec.other
            entry["other_after"] = spec.other_after
        if spec.generated:
            entry["generated"] = spec.generated
        if spec.note:
            entry["note"] = spec.note
        manifest["captures"][spec.name] = entry
        received[spec.name] = data
    return manifest, received


def server_version() -> str:
    """The version of the redis-server program (installing it when missing)."""
    program = ensure_program("redis-server", "redis-server")
    out = subprocess.run([program, "--version"], capture_output=True, text=True, check=True)
    match = re.search(r"v=(\S+)", out.stdout)
    if match is None:
        raise RuntimeError(f"no version in {out.stdout!r}")
    return match.group(1)


#: Captures whose bytes hold the connection's id, which depends on the connections before it.
VARYING = frozenset({"hello3", "hello2"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    version = server_version()
    with tempfile.TemporaryDirectory(prefix="framekit-redis-") as tmp:
        server = start_redis(Path(tmp))
        try:
            manifest, received = capture_all(server.port, version)
        finally:
            server.stop()
    differ = 0
    for name, data in received.items():
        entry = manifest["captures"][name]
        print(f"{name}: {len(data)} bytes")
        if entry["file"] is None:
            if data != generated_bulk(MIB):  # the only generated one
                print(f"{name}: the server's bytes differ from {entry['generated']}")
                differ += 1
        elif args.check:
            if name not in VARYING and data != (CAPTURES / entry["file"]).read_bytes():
                print(f"{name}: differs from the stored capture")
                differ += 1
        else:
            (CAPTURES / entry["file"]).write_bytes(data)
    if not args.check:
        (CAPTURES / "manifest.json").write_text(_dump(manifest))
    return 1 if differ else 0


def _dump(manifest: dict[str, Any]) -> str:
    """The manifest as JSON, one line per capture (diffs stay readable)."""
    lines = [f'{{"server": {json.dumps(manifest["server"])}, "captures": {{']
    entries = list(manifest["captures"].items())
    for i, (name, entry) in enumerate(entries):
        comma = "," if i < len(entries) - 1 else ""
        lines.append(f" {json.dumps(name)}: {json.dumps(entry, ensure_ascii=False)}{comma}")
    lines.append("}}")
    return "\n".join(lines) + "\n"


def _short(command: Sequence[Arg]) -> list[Arg]:
    """A setup command for the manifest: long ones described, not copied."""
    args: list[Arg] = [f"<bytes_range({len(a)})>" if isinstance(a, bytes) else a for a in command]
    if len(args) > 8:
        return [*args[:5], f"... ({len(args)} arguments in all)"]
    return args


if __name__ == "__main__":
    sys.exit(main())
