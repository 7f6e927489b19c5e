"""Gzip decoding through framekit's driver against a bare ``zlib.decompressobj`` loop.

Run: ``PYTHONPATH=. python benchmarks/compression_vs_zlib.py [MiB]``. A 64 MiB log-like body
(ratio about 4) is gzip-compressed once, cut into 64 KiB compressed pieces and decoded with a
64 KiB output budget: by ``decode_byte_pieces`` with each backend, and by the loop below with
the same library. Output goes to a byte counter in both, so only decoding is timed. Best of 5.
"""

from __future__ import annotations

import random
import sys
import time
import zlib
from collections.abc import Callable
from typing import Any

from framekit.codecs._base import decode_byte_pieces
from framekit.codecs.compression import Gzip, _zlib_module

PIECE = BUDGET = 64 * 1024


class Counter:
    """An output sink that only counts (and a stand-in for the driver's output Buffer)."""

    produced = 0

    def write(self, data: bytes) -> None:
        self.produced += len(data)

    def mark_chunk_end(self) -> None:
        pass


def body(size: int) -> bytes:
    rng = random.Random(0)
    words = [
        bytes(rng.choices(b"abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 9))) for _ in range(2000)
    ]
    lines = []
    total = 0
    while total < size:
        line = b"%d %s\n" % (rng.randrange(10**9), b" ".join(rng.choices(words, k=12)))
        lines.append(line)
        total += len(line)
    return b"".join(lines)[:size]


def bare_loop(module: Any, pieces: list[bytes]) -> int:
    inflater = module.decompressobj(31)
    produced = 0
    for piece in pieces:
        data = piece
        while data:
            produced += len(inflater.decompress(data, BUDGET))
            data = inflater.unconsumed_tail
    while not inflater.eof:
        produced += len(inflater.decompress(b"", BUDGET))
    return produced


def framekit_driver(backend: str, pieces: list[bytes]) -> int:
    out = Counter()
    decode_byte_pieces(Gzip(backend=backend).decoder(), pieces, budget=BUDGET, out=out)  # type: ignore[arg-type]
    return out.produced


def best(run: Callable[[], int], expected: int) -> float:
    times = []
    for _ in range(5):
        started = time.perf_counter()
        assert run() == expected
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    size = int(sys.argv[1]) << 20 if len(sys.argv) > 1 else 64 << 20
    data = body(size)
    wire = zlib.compress(data, 6, wbits=31)
    pieces = [wire[i : i + PIECE] for i in range(0, len(wire), PIECE)]
    print(f"{size >> 20} MiB body, {len(wire) >> 10} KiB gzip, {len(pieces)} pieces")
    stdlib = None
    for backend in ("zlib", "zlib-ng", "isal"):
        module = _zlib_module(backend)  # type: ignore[arg-type]
        bare = best(lambda m=module: bare_loop(m, pieces), size)  # type: ignore[misc]
        ours = best(lambda b=backend: framekit_driver(b, pieces), size)  # type: ignore[misc]
        stdlib = stdlib or bare
        print(
            f"{backend:8} bare loop {bare * 1000:7.1f} ms   framekit {ours * 1000:7.1f} ms   "
            f"ratio {ours / bare:.3f}   vs stdlib bare loop {stdlib / ours:.2f}x faster"
        )


if __name__ == "__main__":
    main()
