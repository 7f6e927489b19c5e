"""The test redis-server (tests/resp/server.py) and the stored captures, without a decoder."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from tests.resp.capture import VARYING, capture_all, server_version
from tests.resp.captures import CAPTURES, capture_names, generated_bulk, load_capture, load_manifest
from tests.resp.server import RedisServer

LOOPBACK = "127.0.0.1"


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def _listening(pid: int) -> list[tuple[str, int]]:
    """(address, port) of every TCP socket ``pid`` listens on, from /proc/net/tcp{,6}."""
    inodes = _socket_inodes(pid)
    found = []
    for table, width in (("tcp", 8), ("tcp6", 32)):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and inode in inodes:  # 0A: LISTEN
                address, port = local.split(":")
                assert len(address) == width
                if width == 8:
                    address = socket.inet_ntop(socket.AF_INET, bytes.fromhex(address)[::-1])
                else:
                    words = bytes.fromhex(address)
                    raw = b"".join(words[i : i + 4][::-1] for i in range(0, 16, 4))
                    address = socket.inet_ntop(socket.AF_INET6, raw)
                found.append((address, int(port, 16)))
    return found


def _command(port: int, data: bytes, lines: int = 1) -> bytes:
    """Send ``data`` and return what comes back, up to its ``lines``-th CRLF."""
    reply = b""
    with socket.create_connection((LOOPBACK, port), timeout=10) as sock:
        sock.sendall(data)
        while reply.count(b"\r\n") < lines:
            piece = sock.recv(65536)
            assert piece, f"the server closed the connection after {reply!r}"
            reply += piece
    return reply


def test_ping_over_a_raw_socket_gets_pong(redis_server: RedisServer) -> None:
    assert _command(redis_server.port, b"PING\r\n") == b"+PONG\r\n"


def test_server_listens_on_loopback_only(redis_server: RedisServer) -> None:
    assert _listening(redis_server.pid) == [(LOOPBACK, redis_server.port)]


def test_server_runs_the_projects_configuration(redis_server: RedisServer) -> None:
    reply = _command(
        redis_server.port,
        b"CONFIG GET bind\r\nCONFIG GET protected-mode\r\nCONFIG GET save\r\n"
        b"CONFIG GET appendonly\r\nROLE\r\n",
        lines=23,
    )
    assert reply == (
        b"*2\r\n$4\r\nbind\r\n$9\r\n127.0.0.1\r\n"
        b"*2\r\n$14\r\nprotected-mode\r\n$3\r\nyes\r\n"
        b"*2\r\n$4\r\nsave\r\n$0\r\n\r\n"
        b"*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n"
        b"*3\r\n$6\r\nmaster\r\n:0\r\n*0\r\n"
    )


def test_every_manifest_entry_has_its_capture() -> None:
    names = capture_names()
    assert len(names) == len(set(names))
    stored = {path.name for path in CAPTURES.glob("*.resp")}
    listed = {e["file"] for e in load_manifest()["captures"].values() if e["file"] is not None}
    assert stored == listed
    for name in names:
        assert load_capture(name)


def test_the_1mib_capture_is_generated() -> None:
    data = load_capture("bulk_1mib")
    assert data == generated_bulk(1 << 20)
    assert data[:11] == b"$1048576\r\n\x00" and data[-4:] == b"\xfe\xff\r\n"


def test_captures_are_what_the_server_sends_now(redis_server: RedisServer) -> None:
    manifest, received = capture_all(redis_server.port, server_version())
    assert manifest["server"] == load_manifest()["server"]
    assert received["bulk_1mib"] == load_capture("bulk_1mib")
    for name, data in received.items():
        if name not in VARYING:
            assert data == load_capture(name), name
    stored = load_manifest()["captures"]
    for name, entry in manifest["captures"].items():
        if name not in VARYING:
            assert entry == stored[name], name
