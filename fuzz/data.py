"""The fuzz input: one ``bytes`` object read as codec options, a seed, a mode, a payload.

Every target reads its input the same way, whatever engine made it (atheris' mutations,
hypothesis, a corpus file), so an input file reproduces a run exactly::

    bytes 0-15   options (each option reads the next byte; zeros pick the defaults' side)
    bytes 16-19  the seed of the random splits, budgets and frame cuts
    byte 20      the mode: the payload is wire bytes, or plain data to encode (and damage)
    bytes 21-    the payload

A short input reads as zeros past its end, so any input is valid.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


OPTIONS = 16
SEED = slice(16, 20)
MODE = 20
PAYLOAD = 21


class Input:
    """Reads an input in the layout above."""

    __slots__ = ("_at", "_data")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._at = 0

    def byte(self) -> int:
        """The next option byte (0 past the options or the input's end)."""
        at = self._at
        self._at += 1
        return self._data[at] if at < min(OPTIONS, len(self._data)) else 0

    def flag(self) -> bool:
        return bool(self.byte() & 1)

    def pick(self, options: Sequence[T]) -> T:
        return options[self.byte() % len(options)]

    def rng(self) -> random.Random:
        """The generator of splits, budgets and frame cuts."""
        return random.Random(int.from_bytes(self._data[SEED].ljust(4, b"\0"), "big"))

    def mode(self) -> int:
        return self._data[MODE] if len(self._data) > MODE else 0

    def payload(self) -> bytes:
        return self._data[PAYLOAD:]


class Header:
    """Builds inputs in :class:`Input`'s layout (for seeds)."""

    def __init__(self, *options: int, seed: int = 0, mode: int = 0) -> None:
        self._head = bytes(options).ljust(OPTIONS, b"\0") + seed.to_bytes(4, "big") + bytes([mode])

    def __call__(self, payload: bytes) -> bytes:
        return self._head + payload


def splits(rng: random.Random, data: bytes, count: int) -> list[list[bytes]]:
    """``count`` ways to cut ``data`` into feeds: few cuts, many small pieces, one byte each."""
    result: list[list[bytes]] = []
    n = len(data)
    for i in range(count):
        if n == 0:
            result.append([])
            continue
        kind = i % 3
        if kind == 0:
            cuts = sorted(rng.sample(range(1, n + 1), min(n, rng.randint(1, 4))))
        elif kind == 1:
            cuts, at = [], 0
            while at < n:
                at += rng.randint(1, 9)
                cuts.append(min(at, n))
        else:
            if n > 600:
                cuts = sorted(rng.sample(range(1, n + 1), min(n, 64)))
            else:
                cuts = list(range(1, n + 1))
        pieces = [data[a:b] for a, b in zip([0, *cuts], cuts, strict=False)]
        if cuts[-1] != n:
            pieces.append(data[cuts[-1] :])
        result.append([p for p in pieces if p])
    return result


def cut_frames(rng: random.Random, payload: bytes, limit: int = 24) -> list[bytes]:
    """The payload cut into up to ``limit`` frames (empty ones included) for round trips."""
    if not payload:
        return [b""] if rng.random() < 0.5 else []
    count = rng.randint(1, limit)
    cuts = sorted(rng.randint(0, len(payload)) for _ in range(count - 1))
    return [payload[a:b] for a, b in zip([0, *cuts], [*cuts, len(payload)], strict=True)]


def mutate(rng: random.Random, wire: bytes) -> bytes:
    """``wire`` with one small change: a byte flipped, a cut, bytes inserted or appended."""
    if not wire:
        return bytes([rng.randrange(256)])
    kind = rng.randrange(5)
    at = rng.randrange(len(wire))
    if kind == 0:
        return wire[:at] + bytes([wire[at] ^ (1 << rng.randrange(8))]) + wire[at + 1 :]
    if kind == 1:
        return wire[:at]
    if kind == 2:
        return wire[:at] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 4))) + wire[at:]
    if kind == 3:
        return wire + bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
    return wire[:at] + wire[at + rng.randint(1, 8) :]
