"""A small HTTP/1.1 server on framekit's head codec, framing rules and body layers.

    python examples/http_server.py [--host 127.0.0.1] [--port 8080]

Each connection reads requests one after another (pipelined ones too) with
:func:`framekit.http.read_request`: the head, then the body through the layers the framing
rules pick (Content-Length or chunked). A request the rules refuse (Transfer-Encoding with
Content-Length: the smuggling shape; a bad Content-Length) gets the status the rules name
(400, 501) and the connection is closed; so does a malformed head (400) or one over a limit
(431), since after such bytes nobody knows where the next request starts.

Routes:

- ``GET /text?size=N``: N bytes of text, sent chunked (each chunk with a ``;n=I``
  extension), compressed with the best of ``zstd``, ``br``, ``gzip`` the request accepts,
  with an ``X-Sha256`` trailer holding the digest of the uncompressed text;
- ``POST /echo``: the request body (chunked or not, its Content-Encoding undone) sent back
  with a Content-Length, and its digest in ``X-Sha256``;
- ``HEAD`` of either: the same head, no body; anything else: 404.

Responses keep the connection open unless the request asked to close it (RFC 9112 9.3).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
from pathlib import Path

# Run from a checkout without installing: use the framekit next to this file.
_CHECKOUT = Path(__file__).resolve().parent.parent
if (_CHECKOUT / "framekit").is_dir():
    sys.path.insert(0, str(_CHECKOUT))

from framekit import (  # noqa: E402
    EndOfStream,
    FramingError,
    LimitExceededError,
    StreamReader,
    StreamWriter,
    start_server,
)
from framekit.codecs import Brotli, Chunked, Gzip, Zstd  # noqa: E402
from framekit.codecs.http import Request, RequestHeads, Response, ResponseHeads  # noqa: E402
from framekit.http import BodyFramingError, read_request  # noqa: E402

HEADS = ResponseHeads().encoder()
CODINGS = {b"zstd": Zstd, b"br": Brotli, b"gzip": Gzip}
REASONS = {
    200: b"OK",
    400: b"Bad Request",
    404: b"Not Found",
    431: b"Request Header Fields Too Large",
    501: b"Not Implemented",
}


def text(size: int) -> bytes:
    """``size`` bytes of text (the same for the same size)."""
    line = b"framekit serves this line of text, compressed or not.\n"
    return (line * (size // len(line) + 1))[:size]


def accepted(request: Request) -> bytes | None:
    """The best coding of ``CODINGS`` the request's Accept-Encoding allows (q=0 refuses)."""
    offered = set()
    for item in (request.headers.get(b"accept-encoding") or b"").split(b","):
        name, _, params = item.strip().partition(b";")
        if params.replace(b" ", b"") not in (b"q=0", b"q=0.0", b"q=0.00", b"q=0.000"):
            offered.add(name.strip().lower())
    return next((coding for coding in CODINGS if coding in offered), None)


def head(status: int, fields: list[tuple[bytes, bytes]], close: bool) -> bytes:
    if close:
        fields.append((b"Connection", b"close"))
    return HEADS.encode(Response(status=status, reason=REASONS.get(status, b""), headers=fields))


def simple(status: int, body: bytes, close: bool, *, with_body: bool = True) -> bytes:
    fields = [(b"Content-Type", b"text/plain"), (b"Content-Length", b"%d" % len(body))]
    return head(status, fields, close) + (body if with_body else b"")


def chunked_text(request: Request, size: int, close: bool) -> bytes:
    """The ``/text`` response: chunked, compressed as accepted, with a digest trailer."""
    data = text(size)
    fields = [(b"Content-Type", b"text/plain"), (b"Transfer-Encoding", b"chunked")]
    coding = accepted(request)
    if coding is not None:
        fields.append((b"Content-Encoding", coding))
    fields.append((b"Trailer", b"X-Sha256"))
    if request.method == b"HEAD":
        return head(200, fields, close)
    compress = CODINGS[coding]().encoder() if coding is not None else None
    chunks = Chunked().encoder()
    out = [head(200, fields, close)]
    for number, start in enumerate(range(0, len(data), 16384)):
        piece = data[start : start + 16384]
        if compress is not None:
            piece = compress.feed(piece)
        if piece:
            out.append(chunks.feed(piece, extensions=[(b"n", b"%d" % number)]))
    if compress is not None:
        out.append(chunks.feed(compress.finish()))
    digest = hashlib.sha256(data).hexdigest().encode()
    out.append(chunks.finish(trailers=[(b"X-Sha256", digest)]))
    return b"".join(out)


async def respond(request: Request, body: bytes, close: bool) -> bytes:
    path, _, query = request.target.partition(b"?")
    with_body = request.method != b"HEAD"
    if path == b"/text" and request.method in (b"GET", b"HEAD"):
        size = 1000
        for pair in query.split(b"&"):
            name, _, value = pair.partition(b"=")
            if name == b"size" and value.isdigit():
                size = int(value)
        return chunked_text(request, size, close)
    if path == b"/echo" and request.method == b"POST":
        fields = [
            (b"Content-Length", b"%d" % len(body)),
            (b"X-Sha256", hashlib.sha256(body).hexdigest().encode()),
        ]
        return head(200, fields, close) + body
    return simple(404, b"not found\n", close, with_body=with_body)


async def handle(reader: StreamReader, writer: StreamWriter) -> None:
    """Serve one connection until the client closes it, asks to, or sends a bad request."""
    heads = reader.frames(RequestHeads())
    while True:
        try:
            request, body = await read_request(heads, decode_content=True)
            data = await body.reader.read()
        except EndOfStream:
            return
        except BodyFramingError as error:
            status = error.framing.status or 400
            writer.write(simple(status, f"{error.message}\n".encode(), True))
            await writer.drain()
            return
        except LimitExceededError as error:
            writer.write(simple(431, f"{error}\n".encode(), True))
            await writer.drain()
            return
        except FramingError as error:  # a malformed head or body, or one cut short
            writer.write(simple(400, f"{error}\n".encode(), True))
            await writer.drain()
            return
        close = not body.framing.keep_alive
        writer.write(await respond(request, data, close))
        await writer.drain()
        if close:
            return


async def serve(host: str, port: int) -> asyncio.Server:
    """Start the server (``port=0``: a free one); return the listening asyncio.Server."""
    return await start_server(handle, host, port)


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args(argv)
    server = await serve(args.host, args.port)
    host, port = server.sockets[0].getsockname()[:2]
    print(f"serving on http://{host}:{port}/", flush=True)
    async with server:
        await server.serve_forever()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except KeyboardInterrupt:
        sys.exit(0)
