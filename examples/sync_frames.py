"""Frames over a blocking socket with framekit.sync: no event loop, a thread per side.

    python examples/sync_frames.py [--frames N]

The server (a thread on a free loopback port) reads a text header line, ``FRAMES <n>``, then
``n`` length-prefixed frames, and answers each frame with its length as a netstring; after the
frames the client sends raw bytes, which the server takes with ``read()`` to the end and
answers with their count. One SyncReader serves the whole conversation: a line, frames, raw
bytes. Prints a summary and exits 0 if every answer was right, 1 otherwise.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from pathlib import Path

# Run from a checkout without installing: use the framekit next to this file.
_CHECKOUT = Path(__file__).resolve().parent.parent
if (_CHECKOUT / "framekit").is_dir():
    sys.path.insert(0, str(_CHECKOUT))

from framekit.codecs.length import LengthPrefixed  # noqa: E402
from framekit.codecs.lines import TextLines  # noqa: E402
from framekit.codecs.netstring import Netstring  # noqa: E402
from framekit.errors import EndOfStream  # noqa: E402
from framekit.sync import SyncReader, iter_frames  # noqa: E402


def serve(listener: socket.socket) -> None:
    """Serve one connection: a header line, its frames, then raw bytes to the end."""
    connection, _ = listener.accept()
    with connection:
        reader = SyncReader(connection)
        try:
            header = reader.frames(TextLines()).read()
        except EndOfStream:
            return
        if not header.startswith("FRAMES "):
            return
        count = int(header.removeprefix("FRAMES "))
        answers = Netstring().encoder()
        frames = reader.frames(LengthPrefixed())
        for _ in range(count):
            try:
                frame = frames.read()
            except EndOfStream:
                return
            connection.sendall(answers.encode(b"%d" % len(frame)))
        raw = reader.read()  # everything after the frames, to the client's end
        connection.sendall(answers.encode(b"raw %d" % len(raw)))


def client(port: int, count: int) -> int:
    """Send ``count`` frames and some raw bytes; return how many answers were wrong."""
    frames = [b"x" * (i % 1000) for i in range(count)]
    raw = b"raw bytes, \x00 not framed\n" * 100
    encoder = LengthPrefixed().encoder()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"FRAMES %d\n" % count)

        def send() -> None:
            # From a thread, so that answers are read while frames are still being sent.
            sock.sendall(b"".join(map(encoder.encode, frames)) + raw)
            sock.shutdown(socket.SHUT_WR)

        sender = threading.Thread(target=send)
        sender.start()
        expected = [b"%d" % len(frame) for frame in frames] + [b"raw %d" % len(raw)]
        answers = list(iter_frames(sock, Netstring()))
        sender.join()
    missing = abs(len(answers) - len(expected))
    return missing + sum(a != b for a, b in zip(answers, expected, strict=False))


def main(count: int) -> int:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        server = threading.Thread(target=serve, args=(listener,))
        server.start()
        started = time.perf_counter()
        wrong = client(port, count)
        elapsed = time.perf_counter() - started
        server.join()
    status = "all right" if not wrong else f"{wrong} WRONG"
    print(f"sync_frames: {count} frames and raw bytes in {elapsed:.3f} s, {status}")
    return 1 if wrong else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=10_000, help="frames to send (10000)")
    sys.exit(main(parser.parse_args().frames))
