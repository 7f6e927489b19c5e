"""The session's redis-server (tests/resp/server.py): started once, stopped by its pid."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.resp.server import RedisServer, start_redis


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A redis-server on a free port of 127.0.0.1, for the whole session."""
    server = start_redis(tmp_path_factory.mktemp("redis"))
    try:
        yield server
    finally:
        server.stop()
