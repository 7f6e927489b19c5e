"""examples/http_server.py and examples/http_client.py: the server driven by framekit's example
client, aiohttp's client and the standard library's http.client (chunked request bodies, zstd,
brotli and gzip, trailers, chunk extensions, a smuggling attempt); the client against nginx."""

from __future__ import annotations

import asyncio
import hashlib
import http.client
import importlib.util
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType

import aiohttp
import pytest

from framekit import open_connection
from framekit.codecs import Chunked
from framekit.codecs.http import Request, RequestHeads, ResponseHeads
from framekit.http import open_body
from tests.http_live.server import FILES, Nginx

EXAMPLES = Path(__file__).resolve().parent.parent.parent / "examples"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"{name}_example", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


server_example = _load("http_server")
client_example = _load("http_client")


@pytest.fixture
async def port() -> AsyncIterator[int]:
    server = await server_example.serve("127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- the example client against the example server ------------------------------------------


@pytest.mark.parametrize("accept", [b"zstd", b"br", b"gzip", None])
@pytest.mark.parametrize("pipeline", [False, True])
async def test_example_client_fetches_compressed_chunked_text_with_digest_trailers(
    port: int, accept: bytes | None, pipeline: bool
) -> None:
    sizes = [0, 1, 1000, 100_000, 300_000]
    paths = [f"/text?size={size}" for size in sizes] + ["/missing"]
    results = await client_example.fetch(
        "127.0.0.1", port, paths, pipeline=pipeline, accept_encoding=accept
    )
    assert [result.status for result in results] == [200] * 5 + [404]
    for size, result in zip(sizes, results[:5], strict=True):
        assert (result.framing, result.encoding) == ("chunked", accept)
        assert result.sha256 == sha(server_example.text(size))
        assert result.trailers == ((b"X-Sha256", result.sha256.encode()),)


async def test_example_server_sends_chunk_extensions(port: int) -> None:
    reader, writer = await open_connection("127.0.0.1", port)
    writer.write(
        RequestHeads().encoder().encode(Request(method=b"GET", target=b"/text?size=40000"))
    )
    head = await reader.frames(ResponseHeads()).read()
    body = open_body(reader, head, chunked=Chunked(keep_extensions=True))
    assert await body.reader.read() == server_example.text(40000)
    assert body.chunked is not None
    assert body.chunked.decoder.extensions == [  # type: ignore[attr-defined]
        ((b"n", b"0"),),
        ((b"n", b"1"),),
        ((b"n", b"2"),),
        (),
    ]
    writer.close()


async def test_example_client_runs_as_a_program(port: int) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLES / "http_client.py"),
        "--port",
        str(port),
        "--pipeline",
        "/text?size=5000",
        "/text?size=10",
        stdout=subprocess.PIPE,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0
    lines = out.decode().splitlines()
    assert len(lines) == 2 and lines[0].startswith("200 /text?size=5000 chunked zstd 5000 bytes")
    assert f"X-Sha256: {sha(server_example.text(10))}" in lines[1]


async def test_example_client_fetches_nginx_files_pipelined(nginx: Nginx) -> None:
    names = sorted(FILES)
    paths = [f"/fly/{name}" for name in names] + [f"/static/{name}" for name in names]
    results = await client_example.fetch(
        nginx.host, nginx.port, paths, pipeline=True, accept_encoding=b"br, gzip"
    )
    assert [result.sha256 for result in results] == [nginx.sha256(name) for name in names] * 2


# -- other clients against the example server ----------------------------------------------


async def test_aiohttp_client_gets_gzip_and_posts_a_chunked_body(port: int) -> None:
    async def pieces() -> AsyncIterator[bytes]:
        for index in range(50):
            yield b"piece %d\n" % index

    async with aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{port}"
        async with session.get(f"{url}/text?size=70000", headers={"Accept-Encoding": "gzip"}) as r:
            assert r.headers["Content-Encoding"] == "gzip"
            assert await r.read() == server_example.text(70000)
        async with session.post(f"{url}/echo", data=pieces()) as r:
            want = b"".join(b"piece %d\n" % i for i in range(50))
            assert (r.status, await r.read(), r.headers["X-Sha256"]) == (200, want, sha(want))
        async with session.get(f"{url}/nothing") as r:
            assert r.status == 404


def http_client_exchange(port: int) -> None:
    """GET, a chunked POST and HEAD on one http.client connection (blocking)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", "/text?size=12345", headers={"Accept-Encoding": "identity"})
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, server_example.text(12345))
        body = [b"one ", b"two ", b"three"]
        connection.request("POST", "/echo", body=iter(body), encode_chunked=True)
        response = connection.getresponse()
        assert response.read() == b"one two three"
        connection.request("HEAD", "/text?size=10")
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, b"")
    finally:
        connection.close()


async def test_http_client_gets_text_and_posts_a_chunked_body(port: int) -> None:
    await asyncio.to_thread(http_client_exchange, port)


def raw_exchange(port: int, data: bytes) -> bytes:
    """Send ``data``, then read until the server closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(data)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


async def test_a_smuggling_attempt_gets_400_and_a_close(port: int) -> None:
    attempt = (
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        b"GET /text?size=5 HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    received = await asyncio.to_thread(raw_exchange, port, attempt)
    assert received.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"Connection: close\r\n" in received and b"6.3.3" in received
    assert received.count(b"HTTP/1.1 ") == 1  # the smuggled request got no answer


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", b"400"),
        (b"POST /echo HTTP/1.1\r\nContent-Length: 1, 2\r\n\r\nab", b"400"),
        (b"POST /echo HTTP/1.1\r\nTransfer-Encoding: xz, chunked\r\n\r\n", b"501"),
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", b"431"),
    ],
)
async def test_bad_requests_get_their_status_and_a_close(
    port: int, request_bytes: bytes, status: bytes
) -> None:
    received = await asyncio.to_thread(raw_exchange, port, request_bytes)
    assert received.startswith(b"HTTP/1.1 " + status)
    assert b"Connection: close\r\n" in received
