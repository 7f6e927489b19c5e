"""framekit's HTTP/1.1 stack against a live nginx: heads, framing, chunked and
Content-Length bodies, gzip and brotli on the fly and precompressed, HEAD, 404, empty files,
keep-alive one by one and pipelined; every body's sha256 is the served file's."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pytest

from framekit import FrameReader, StreamWriter, open_connection
from framekit.codecs.http import Request, RequestHeads, Response, ResponseHeads
from framekit.http import Body, read_response
from tests.http_live.server import FILES, Nginx

ENCODER = RequestHeads().encoder()


def request(path: str, method: bytes = b"GET", accept: bytes | None = None) -> bytes:
    fields = [(b"Host", b"localhost"), (b"User-Agent", b"framekit-tests")]
    if accept is not None:
        fields.append((b"Accept-Encoding", accept))
    return ENCODER.encode(Request(method=method, target=path.encode(), headers=fields))


class Client:
    """One keep-alive connection to the test nginx."""

    def __init__(self, heads: FrameReader[Response], writer: StreamWriter) -> None:
        self.heads = heads
        self.writer = writer

    @classmethod
    async def open(cls, server: Nginx) -> Client:
        reader, writer = await open_connection(server.host, server.port)
        return cls(reader.frames(ResponseHeads()), writer)

    async def send(self, *requests: bytes) -> None:
        self.writer.write(b"".join(requests))
        await self.writer.drain()

    async def response(self, method: bytes = b"GET") -> tuple[Response, Body, bytes]:
        head, body = await read_response(self.heads, request_method=method)
        data = await body.reader.read()
        return head, body, data

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


@pytest.fixture
async def client(nginx: Nginx) -> Client:
    opened = await Client.open(nginx)
    yield opened  # type: ignore[misc]
    await opened.close()


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# (location, Accept-Encoding, expected Content-Encoding, expected framing)
MODES = [
    ("plain", None, None, "length"),
    ("fly", b"gzip", b"gzip", "chunked"),
    ("fly", b"br", b"br", "chunked"),
    ("static", b"gzip", b"gzip", "length"),
    ("static", b"br", b"br", "length"),
]


@pytest.mark.parametrize("name", sorted(FILES))
@pytest.mark.parametrize(("location", "accept", "encoding", "kind"), MODES)
async def test_every_file_in_every_mode_decodes_to_the_files_sha256(
    client: Client,
    nginx: Nginx,
    name: str,
    location: str,
    accept: bytes | None,
    encoding: bytes | None,
    kind: str,
) -> None:
    await client.send(request(f"/{location}/{name}", accept=accept))
    head, body, data = await client.response()
    assert head.status == 200
    assert head.headers.get("content-encoding") == encoding
    assert body.framing.kind == kind
    assert body.framing.keep_alive
    assert digest(data) == nginx.sha256(name)
    if location == "static":  # the precompressed twin, not compressed on the fly
        twin = nginx.directory / "www" / "static" / f"{name}.{'gz' if accept == b'gzip' else 'br'}"
        assert body.framing.length == twin.stat().st_size


async def test_head_has_no_body_and_the_connection_goes_on(client: Client, nginx: Nginx) -> None:
    await client.send(request("/plain/text.txt", b"HEAD"), request("/plain/small.txt"))
    head, body, data = await client.response(b"HEAD")
    assert head.headers.get("content-length") == str(len(FILES["text.txt"])).encode()
    assert (body.framing.kind, data) == ("none", b"")
    head, _, data = await client.response()
    assert digest(data) == nginx.sha256("small.txt")


async def test_head_of_a_compressed_response_has_no_body(client: Client) -> None:
    await client.send(request("/fly/text.txt", b"HEAD", b"gzip"), request("/plain/one.txt"))
    head, body, data = await client.response(b"HEAD")
    assert (head.headers.get("content-encoding"), body.framing.kind, data) == (b"gzip", "none", b"")
    assert (await client.response())[2] == b"x"


async def test_404_has_its_body_read_and_the_connection_goes_on(client: Client) -> None:
    await client.send(request("/plain/missing"), request("/plain/one.txt"))
    head, body, data = await client.response()
    assert head.status == 404 and body.framing.kind == "length"
    assert b"404" in data and len(data) == int(head.headers.get("content-length") or b"-1")
    head, _, data = await client.response()
    assert (head.status, data) == (200, b"x")


FIFTEEN = [
    (f"/{location}/{name}", accept, name)
    for location, accept, _, _ in MODES
    for name in ("empty.txt", "text.txt", "random.bin")
]
SIXTEEN = [("/plain/big.txt", None, "big.txt"), *FIFTEEN]


async def check_sixteen(client: Client, nginx: Nginx, pipelined: bool) -> None:
    assert len(SIXTEEN) == 16
    if pipelined:
        await client.send(*(request(path, accept=accept) for path, accept, _ in SIXTEEN))
    for path, accept, name in SIXTEEN:
        if not pipelined:
            await client.send(request(path, accept=accept))
        head, body, data = await client.response()
        assert head.status == 200, path
        assert body.framing.keep_alive
        assert digest(data) == nginx.sha256(name), path


async def test_sixteen_requests_one_by_one_on_one_connection(client: Client, nginx: Nginx) -> None:
    await check_sixteen(client, nginx, pipelined=False)


async def test_sixteen_requests_pipelined_on_one_connection(client: Client, nginx: Nginx) -> None:
    await check_sixteen(client, nginx, pipelined=True)


async def test_connection_close_ends_the_stream_after_the_response(client: Client) -> None:
    close = ENCODER.encode(
        Request(
            method=b"GET",
            target=b"/plain/one.txt",
            headers=[(b"Host", b"x"), (b"Connection", b"close")],
        )
    )
    await client.send(close)
    _, body, data = await client.response()
    assert (data, body.framing.keep_alive) == (b"x", False)
    assert await client.heads.read_batch() == []


def names(headers: Sequence[tuple[bytes, bytes]]) -> list[bytes]:
    return [name.lower() for name, _ in headers]


async def test_nginx_heads_are_strict_rfc_9112(client: Client) -> None:
    await client.send(request("/fly/small.txt", accept=b"gzip"))
    head, _, _ = await client.response()
    assert head.version == (1, 1) and head.reason == b"OK"
    assert b"transfer-encoding" in names(head.headers) and b"content-length" not in names(
        head.headers
    )
