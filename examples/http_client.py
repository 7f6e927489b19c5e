"""A keep-alive HTTP/1.1 client on framekit's head codec, framing rules and body layers.

    python examples/http_client.py --port N [--host 127.0.0.1] [--pipeline]
        [--accept-encoding "zstd, br, gzip"] PATH [PATH ...]

Every PATH is fetched on one connection, one request after another's response, or with
``--pipeline`` all requests written at once and the responses read in order. Each response's
body is streamed through the layers its framing picks (Content-Length, chunked, until the
close) and its Content-Encoding (gzip, deflate, br, zstd) undone, 64 KiB at a time, into a
SHA-256 digest; chunked trailers are printed. Interim 1xx responses are skipped. A response
that needs the connection closed after it ends the run (the paths left are reported).
Prints one line per response and exits 0 when every response came.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path

import attrs

# Run from a checkout without installing: use the framekit next to this file.
_CHECKOUT = Path(__file__).resolve().parent.parent
if (_CHECKOUT / "framekit").is_dir():
    sys.path.insert(0, str(_CHECKOUT))

from framekit import open_connection  # noqa: E402
from framekit.codecs.http import Request, RequestHeads, ResponseHeads  # noqa: E402
from framekit.http import read_response  # noqa: E402


@attrs.define(frozen=True)
class Fetched:
    """One response: its status, how its body was framed, its Content-Encoding, the decoded
    body's size and SHA-256, and its trailers."""

    path: str
    status: int
    framing: str
    encoding: bytes | None
    size: int
    sha256: str
    trailers: tuple[tuple[bytes, bytes], ...]


async def fetch(
    host: str,
    port: int,
    paths: Sequence[str],
    *,
    pipeline: bool = False,
    accept_encoding: bytes | None = b"zstd, br, gzip",
    method: bytes = b"GET",
) -> list[Fetched]:
    """Fetch ``paths`` on one keep-alive connection; return the responses that came."""
    reader, writer = await open_connection(host, port)
    encoder = RequestHeads().encoder()

    def request(path: str) -> bytes:
        fields = [(b"Host", f"{host}:{port}".encode()), (b"TE", b"trailers")]
        if accept_encoding is not None:
            fields.append((b"Accept-Encoding", accept_encoding))
        return encoder.encode(Request(method=method, target=path.encode(), headers=fields))

    heads = reader.frames(ResponseHeads())
    results: list[Fetched] = []
    try:
        if pipeline:
            writer.write(b"".join(request(path) for path in paths))
        for path in paths:
            if not pipeline:
                writer.write(request(path))
            await writer.drain()
            head, body = await read_response(heads, request_method=method)
            digest = hashlib.sha256()
            size = 0
            async for data in body.reader.iter_chunked(64 * 1024):
                digest.update(data)
                size += len(data)
            results.append(
                Fetched(
                    path=path,
                    status=head.status,
                    framing=body.framing.kind,
                    encoding=head.headers.get(b"content-encoding"),
                    size=size,
                    sha256=digest.hexdigest(),
                    trailers=body.trailers.fields,
                )
            )
            if not body.framing.keep_alive:
                break
    finally:
        writer.close()
        await writer.wait_closed()
    return results


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pipeline", action="store_true")
    parser.add_argument("--accept-encoding", default="zstd, br, gzip")
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args(argv)
    results = await fetch(
        args.host,
        args.port,
        args.paths,
        pipeline=args.pipeline,
        accept_encoding=args.accept_encoding.encode() or None,
    )
    for result in results:
        trailers = ", ".join(f"{n.decode()}: {v.decode()}" for n, v in result.trailers)
        print(
            f"{result.status} {result.path} {result.framing} "
            f"{(result.encoding or b'identity').decode()} {result.size} bytes "
            f"sha256={result.sha256}" + (f" trailers: {trailers}" if trailers else "")
        )
    missing = args.paths[len(results) :]
    if missing:
        print(f"the connection closed before: {' '.join(missing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
