"""A line-protocol echo server and client over loopback, with framekit's connection API.

    python examples/line_echo.py [--lines N]

The server (``start_server`` on a free port) answers each line with ``echo: <line>``; the
client (``open_connection``) sends N lines, reads the replies with ``readline``, half-closes
its side with ``write_eof`` and waits for the server to hang up. Prints a summary and exits
0 if every reply came back intact, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

# Run from a checkout without installing: use the framekit next to this file.
_CHECKOUT = Path(__file__).resolve().parent.parent
if (_CHECKOUT / "framekit").is_dir():
    sys.path.insert(0, str(_CHECKOUT))

from framekit.connection import StreamWriter, open_connection, start_server  # noqa: E402
from framekit.reader import StreamReader  # noqa: E402


async def echo(reader: StreamReader, writer: StreamWriter) -> None:
    """Serve one connection: echo every line until the client's EOF (then it is closed)."""
    async for line in reader:
        writer.write(b"echo: " + line)
        await writer.drain()


async def client(port: int, count: int) -> int:
    """Send ``count`` lines, check every reply; return how many came back wrong."""
    reader, writer = await open_connection("127.0.0.1", port)
    lines = [b"line %d: %s\n" % (i, b"x" * (i % 50)) for i in range(count)]
    wrong = 0
    batch = 100
    for start in range(0, count, batch):
        sent = lines[start : start + batch]
        writer.writelines(sent)
        await writer.drain()
        for line in sent:
            if await reader.readline() != b"echo: " + line:
                wrong += 1
    writer.write_eof()
    if await reader.read() != b"":  # the server hangs up after our EOF
        wrong += 1
    writer.close()
    await writer.wait_closed()
    return wrong


async def main(count: int) -> int:
    server = await start_server(echo, "127.0.0.1", 0)
    async with server:
        host, port = server.sockets[0].getsockname()[:2]
        started = time.perf_counter()
        wrong = await client(port, count)
        elapsed = time.perf_counter() - started
    status = "all intact" if not wrong else f"{wrong} WRONG"
    print(f"line_echo: {count} lines to {host}:{port} and back in {elapsed:.3f} s, {status}")
    return 1 if wrong else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000, help="lines to send (10000)")
    sys.exit(asyncio.run(main(parser.parse_args().lines)))
