"""Workload group ``stream``: the core reader's reads against asyncio's and aiohttp's.

Every input is fed piece by piece (:func:`~benchmarks.harness.feed_and_read`), with 64 KiB
pieces (a busy socket) and 1460-byte pieces (one TCP segment each), and read until EOF:

- ``lines-lf``: 32 MiB of LF-terminated lines of 10-120 bytes, with ``readline()``.
- ``lines-crlf``: 16 MiB of CRLF-terminated lines of 10-120 bytes, with ``readuntil(b"\\r\\n")``.
- ``frames-len4``: 32 MiB of frames of 16-512 bytes behind a 4-byte big-endian length, with
  ``readexactly(4)`` then ``readexactly(n)``.
- ``long-line-1byte``: one 400 kB line fed one byte per callback, read with one ``readline()``
  (the time of the whole; linear readers stay linear).
- ``bulk-4``, ``bulk-100``, ``bulk-1000``: pipelined RESP-like bulk replies, a header line
  ``$<n>\r\n`` then ``n`` bytes and CRLF (``$4\r\nPING\r\n``; 100-byte and 1000-byte bodies
  of printable bytes), 4, 16 and 32 MiB: ``readline()`` then ``readexactly(n + 2)``,
  alternating. ``framekit-frames`` reads the header with a ``FrameReader``
  (``reader.frames(Lines(ending="crlf"))``, made once and iterated, as a protocol would) and
  the body with the reader's ``readexactly``: the FrameReader keeps the lines it decoded past
  each body, as every body ends where a line does.

The content is deterministic pseudo-random printable bytes, the same on every run.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Coroutine, Sequence
from functools import lru_cache, partial
from typing import Any

from benchmarks.harness import (
    Implementation,
    Input,
    Target,
    Workload,
    feed_and_read,
    items_digest,
    register,
    split_pieces,
)
from benchmarks.peers import READERS, ReaderFactory, framekit_reader
from framekit.codecs.lines import Lines

__all__ = ["LIMIT", "LONG_LINE_LIMIT", "PIECE_SIZES"]

MiB = 2**20
#: ``limit`` given to every reader (asyncio's and aiohttp's default).
LIMIT = 2**16
#: ``limit`` for the 400 kB line: asyncio's maximum line is ``limit``, aiohttp's and
#: framekit's twice that; 512 KiB lets the line through all three.
LONG_LINE_LIMIT = 2**19
LONG_LINE_SIZE = 400_000
#: Piece sizes fed: a 64 KiB socket read, and one Ethernet TCP segment's payload.
PIECE_SIZES = {"64k": 65536, "1460": 1460}
BASELINES = ("asyncio", "aiohttp")

Consume = Callable[[Any], Coroutine[Any, Any, list[bytes]]]

# -- inputs ------------------------------------------------------------------------------------

_PRINTABLE = bytes(range(0x21, 0x7F))
_TO_PRINTABLE = bytes(_PRINTABLE[b % len(_PRINTABLE)] for b in range(256))


@lru_cache(maxsize=2)
def _pool() -> bytes:
    """1 MiB of deterministic printable bytes (no CR, no LF) to cut items from."""
    return random.Random(1).randbytes(MiB).translate(_TO_PRINTABLE)


def _items(total: int, low: int, high: int, seed: int) -> list[bytes]:
    """Items of ``low``-``high`` random bytes (deterministic), ``total`` bytes or a bit more."""
    rng = random.Random(seed)
    pool = _pool()
    span = high - low + 1
    wrap = len(pool) - high
    items: list[bytes] = []
    size = offset = 0
    while size < total:
        for b in rng.randbytes(4096):
            n = low + b % span
            items.append(pool[offset : offset + n])
            offset = (offset + 7 * n + 1) % wrap
            size += n
            if size >= total:
                break
    return items


@lru_cache(maxsize=4)
def _lines(total: int, terminator: bytes) -> tuple[bytes, list[bytes]]:
    """``total`` bytes of lines of 10-120 bytes (terminator included): payload, lines."""
    t = len(terminator)
    lines = [item + terminator for item in _items(total, 10 - t, 120 - t, seed=2)]
    return b"".join(lines), lines


@lru_cache(maxsize=2)
def _frames(total: int) -> tuple[bytes, list[bytes]]:
    """``total`` bytes of 4-byte-length-prefixed frames of 16-512 bytes: payload, frames."""
    frames = _items(total, 16, 512, seed=3)
    payload = b"".join(len(f).to_bytes(4, "big") + f for f in frames)
    return payload, frames


def _input(payload: bytes, items: Sequence[bytes], piece_size: int) -> Input:
    return Input(split_pieces(payload, piece_size), items_digest(items), len(payload))


def lines_lf_input(scale: float, piece_size: int) -> Input:
    payload, lines = _lines(max(1024, int(32 * MiB * scale)), b"\n")
    return _input(payload, lines, piece_size)


def lines_crlf_input(scale: float, piece_size: int) -> Input:
    payload, lines = _lines(max(1024, int(16 * MiB * scale)), b"\r\n")
    return _input(payload, lines, piece_size)


def frames_input(scale: float, piece_size: int) -> Input:
    payload, frames = _frames(max(1024, int(32 * MiB * scale)))
    return _input(payload, frames, piece_size)


@lru_cache(maxsize=2)
def _bulk(total: int, size: int) -> tuple[bytes, list[bytes]]:
    """Bulk replies with ``size``-byte bodies, ``total`` wire bytes or a little less (one at
    least): the wire, and each body with its CRLF (what ``readexactly(n + 2)`` returns)."""
    header = b"$%d\r\n" % size
    count = max(1, total // (len(header) + size + 2))
    if size == 4:
        bodies = [b"PING\r\n"] * count
    else:
        pool = _pool()
        wrap = len(pool) - size
        bodies = [pool[o : o + size] + b"\r\n" for o in ((i * 7919) % wrap for i in range(count))]
    return b"".join([header + body for body in bodies]), bodies


def bulk_input(scale: float, full_size: int, body_size: int, piece_size: int) -> Input:
    payload, bodies = _bulk(max(1024, int(full_size * scale)), body_size)
    return _input(payload, bodies, piece_size)


def long_line_input(scale: float) -> Input:
    size = max(100, int(LONG_LINE_SIZE * scale))
    line = _pool()[: size - 1] + b"\n"
    return Input([line[i : i + 1] for i in range(size)], items_digest([line]), size)


# -- what each reader does (the same code for every reader) ------------------------------------


async def read_lines(reader: Any) -> list[bytes]:
    """``readline()`` until EOF."""
    out: list[bytes] = []
    append = out.append
    readline = reader.readline
    while True:
        line = await readline()
        if not line:
            return out
        append(line)


async def read_crlf(reader: Any) -> list[bytes]:
    """``readuntil(b"\\r\\n")`` until EOF (asyncio raises IncompleteReadError there)."""
    out: list[bytes] = []
    append = out.append
    readuntil = reader.readuntil
    try:
        while True:
            line = await readuntil(b"\r\n")
            if not line:
                return out
            append(line)
    except asyncio.IncompleteReadError as e:
        if e.partial:
            append(e.partial)
        return out


async def read_frames(reader: Any) -> list[bytes]:
    """``readexactly(4)`` (a big-endian length n) then ``readexactly(n)``, until EOF."""
    out: list[bytes] = []
    append = out.append
    readexactly = reader.readexactly
    from_bytes = int.from_bytes
    while True:
        try:
            header = await readexactly(4)
        except asyncio.IncompleteReadError as e:
            if e.partial:
                raise
            return out
        append(await readexactly(from_bytes(header, "big")))


async def read_bulk(reader: Any) -> list[bytes]:
    """A header ``$<n>\r\n`` by ``readline()``, then ``readexactly(n + 2)``, until EOF."""
    out: list[bytes] = []
    append = out.append
    readline = reader.readline
    readexactly = reader.readexactly
    while True:
        header = await readline()
        if not header:
            return out
        append(await readexactly(int(header[1:]) + 2))  # int() ignores the CRLF


_HEADER_LINES = Lines(ending="crlf")


async def read_bulk_frames(reader: Any) -> list[bytes]:
    """``read_bulk`` with the header read by one ``FrameReader`` of CRLF lines, made once."""
    out: list[bytes] = []
    append = out.append
    readexactly = reader.readexactly
    async for header in reader.frames(_HEADER_LINES):
        append(await readexactly(int(header[1:]) + 2))
    return out


async def read_one_line(reader: Any) -> list[bytes]:
    """One ``readline()``."""
    return [await reader.readline()]


def _impl(factory: ReaderFactory, limit: int, consume: Consume) -> Implementation:
    async def impl(pieces: Sequence[bytes]) -> list[bytes]:
        return await feed_and_read(factory(limit), pieces, consume)

    return impl


def _impls(consume: Consume, limit: int = LIMIT) -> dict[str, Implementation]:
    return {name: _impl(factory, limit, consume) for name, factory in READERS.items()}


# -- registration ------------------------------------------------------------------------------

READLINE_TARGETS = (Target("asyncio", 1.2), Target("aiohttp", 1.5))
FRAMES_TARGETS = (Target("asyncio", 1.2),)

for _label, _size in PIECE_SIZES.items():
    register(
        Workload(
            name=f"lines-lf/{_label}",
            group="stream",
            description=f"32 MiB of LF lines of 10-120 bytes, readline(), {_size}-byte pieces",
            make_input=partial(lines_lf_input, piece_size=_size),
            implementations=_impls(read_lines),
            baselines=BASELINES,
            targets=READLINE_TARGETS,
        )
    )
for _label, _size in PIECE_SIZES.items():
    register(
        Workload(
            name=f"lines-crlf/{_label}",
            group="stream",
            description=f"16 MiB of CRLF lines, readuntil(b'\\r\\n'), {_size}-byte pieces",
            make_input=partial(lines_crlf_input, piece_size=_size),
            implementations=_impls(read_crlf),
            baselines=BASELINES,
        )
    )
for _label, _size in PIECE_SIZES.items():
    register(
        Workload(
            name=f"frames-len4/{_label}",
            group="stream",
            description=f"32 MiB of 4-byte-length-prefixed frames of 16-512 bytes, "
            f"readexactly(), {_size}-byte pieces",
            make_input=partial(frames_input, piece_size=_size),
            implementations=_impls(read_frames),
            baselines=BASELINES,
            targets=FRAMES_TARGETS,
        )
    )
#: Bulk replies: full size by body size.
BULK_SIZES = {4: 4 * MiB, 100: 16 * MiB, 1000: 32 * MiB}
BULK_TARGETS = (Target("asyncio", 1.5), Target("asyncio", 1.5, subject="framekit-frames"))

for _body, _full in BULK_SIZES.items():
    for _label, _size in PIECE_SIZES.items():
        _bulk_impls = _impls(read_bulk)
        _bulk_impls["framekit-frames"] = _impl(framekit_reader, LIMIT, read_bulk_frames)
        register(
            Workload(
                name=f"bulk-{_body}/{_label}",
                group="stream",
                description=f"{_full // MiB} MiB of bulk replies with {_body}-byte bodies, "
                f"readline() + readexactly(n + 2), {_size}-byte pieces",
                make_input=partial(bulk_input, full_size=_full, body_size=_body, piece_size=_size),
                implementations=_bulk_impls,
                baselines=BASELINES,
                targets=BULK_TARGETS,
            )
        )

register(
    Workload(
        name="long-line-1byte",
        group="stream",
        description="one 400 kB line fed one byte per callback, one readline()",
        make_input=long_line_input,
        implementations=_impls(read_one_line, LONG_LINE_LIMIT),
        baselines=BASELINES,
        metric="time",
        targets=(Target("asyncio", 2.0),),
        notes={
            "aiohttp": "its readuntil appends each wake-up's bytes to the partial line with "
            "bytes += (O(n^2) copying); at 400 kB that costs ~2x asyncio here, and grows with "
            "the square of the line length",
        },
    )
)
