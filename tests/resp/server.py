"""A redis-server of the tests' own: installed when missing, configured here, loopback only.

:func:`start_redis` writes :data:`REDIS_CONFIG` into a directory of the caller's (a pytest
tmp dir, or a temporary one for ``python -m tests.resp.capture``), starts ``redis-server``
with it on a free port of 127.0.0.1 (:func:`tests.servers.free_port`) and returns a
:class:`RedisServer`, whose ``stop()`` stops that process by its pid. The server binds
127.0.0.1 only, keeps protected mode on, saves nothing (no RDB, no AOF, its working directory
is the given one), has no replication, and allows ``DEBUG`` from local connections only
(``DEBUG PROTOCOL`` sends every RESP3 type).
"""

from __future__ import annotations

from pathlib import Path

import attrs

from tests.servers import Server, ensure_program, free_port

__all__ = ["REDIS_CONFIG", "RedisServer", "start_redis"]

#: The configuration every test server runs with; ``{port}`` and ``{dir}`` are filled in.
REDIS_CONFIG = """\
# framekit's test redis-server (tests/resp/server.py)
bind 127.0.0.1
protected-mode yes
port {port}
daemonize no
logfile ""
dir {dir}
save ""
appendonly no
enable-debug-command local
enable-protected-configs no
enable-module-command no
databases 1
"""

#: How many times a start is tried with a new port when another process took the one picked.
_START_TRIES = 3


@attrs.define(frozen=True)
class RedisServer:
    """A running redis-server: where it listens, and the process to stop."""

    host: str
    port: int
    server: Server

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self.server.pid

    def stop(self) -> None:
        """Stop the server (SIGTERM to its pid, then SIGKILL) and wait for it."""
        self.server.stop()


def start_redis(directory: Path) -> RedisServer:
    """Start a redis-server configured by :data:`REDIS_CONFIG` in ``directory``.

    Installs the ``redis-server`` package when the program is missing (skips the test when it
    cannot: a failure in CI). Raises RuntimeError when the server does not come up.
    """
    program = ensure_program("redis-server", "redis-server")
    directory.mkdir(parents=True, exist_ok=True)
    error: RuntimeError | None = None
    for attempt in range(_START_TRIES):
        port = free_port()
        config = directory / "redis.conf"
        config.write_text(REDIS_CONFIG.format(port=port, dir=directory))
        try:
            server = Server(
                [program, str(config)],
                port,
                log=directory / f"redis-{attempt}.log",
                cwd=directory,
            )
        except RuntimeError as failed:  # most likely the port was taken meanwhile
            error = failed
            continue
        return RedisServer("127.0.0.1", port, server)
    assert error is not None
    raise error
