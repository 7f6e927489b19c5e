"""The session's nginx (tests/http_live/server.py): started once, stopped by its pid."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.http_live.server import Nginx, start_nginx


@pytest.fixture(scope="session")
def nginx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nginx]:
    """An nginx on a free port of 127.0.0.1, for the whole session."""
    server = start_nginx(tmp_path_factory.mktemp("nginx"))
    try:
        yield server
    finally:
        server.stop()
