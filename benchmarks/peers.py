"""The readers compared: framekit's StreamReader and its peers, built the same way.

Each factory takes the ``limit`` (the same number for every reader) and returns a fresh
reader wired to a no-op transport, so that every reader runs its flow-control code (pause
above the high-water mark, resume below the low one) as it would on a socket.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeAlias, cast

import aiohttp
from aiohttp.base_protocol import BaseProtocol

from framekit.reader import StreamReader as FramekitReader

__all__ = ["READERS", "ReaderFactory", "aiohttp_reader", "asyncio_reader", "framekit_reader"]

ReaderFactory: TypeAlias = Callable[[int], Any]


class NullTransport(asyncio.ReadTransport):
    """A transport whose ``pause_reading``/``resume_reading`` do nothing."""

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def is_reading(self) -> bool:
        return True


class MinimalProtocol:
    """What aiohttp's StreamReader asks of its protocol, and nothing more.

    aiohttp's own ``BaseProtocol.resume_reading`` (called on every read below the low-water
    mark) does a little more work than this; the benchmark errs in aiohttp's favour.
    """

    connected = True

    def pause_reading(self) -> None:
        pass

    def resume_reading(self, resume_parser: bool = True) -> None:
        pass


def asyncio_reader(limit: int) -> asyncio.StreamReader:
    reader = asyncio.StreamReader(limit=limit)
    reader.set_transport(NullTransport())
    return reader


def aiohttp_reader(limit: int) -> aiohttp.StreamReader:
    protocol = cast(BaseProtocol, MinimalProtocol())
    return aiohttp.StreamReader(protocol, limit, loop=asyncio.get_running_loop())


def framekit_reader(limit: int) -> FramekitReader:
    return FramekitReader(limit=limit, flow=NullTransport())


#: The readers of the stream-reader workloads, by the name used in tables.
READERS: dict[str, ReaderFactory] = {
    "framekit": framekit_reader,
    "asyncio": asyncio_reader,
    "aiohttp": aiohttp_reader,
}
