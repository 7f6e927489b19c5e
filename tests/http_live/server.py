"""An nginx of the tests' own: installed when missing, configured here, loopback only.

:func:`start_nginx` writes the document root (:data:`FILES`, and for the precompressed
location their ``.gz`` and ``.br`` twins) and :data:`NGINX_CONFIG` into a directory of the
caller's, starts ``nginx -c CONF -p DIR -e LOG`` in the foreground with one process
(``daemon off; master_process off;``, its pid file, logs and temp paths in that directory) on
a free port of 127.0.0.1, and returns an :class:`Nginx`, whose ``stop()`` stops that process
by its pid. Debian's ``nginx`` and ``libnginx-mod-http-brotli-filter`` /
``libnginx-mod-http-brotli-static`` are installed when missing (tests/servers.py).

Locations: ``/plain/`` serves the files as they are (Content-Length); ``/fly/`` compresses
them on the fly with gzip or brotli, whichever the request accepts (chunked); ``/static/``
serves the precompressed twins (gzip_static, brotli_static: Content-Length).
"""

from __future__ import annotations

import gzip
import hashlib
import random
from pathlib import Path

import attrs
import brotli

from tests.servers import Server, ensure_file, ensure_program, free_port

__all__ = ["FILES", "NGINX_CONFIG", "Nginx", "start_nginx"]

MODULES = Path("/usr/lib/nginx/modules")
BROTLI_FILTER = MODULES / "ngx_http_brotli_filter_module.so"
BROTLI_STATIC = MODULES / "ngx_http_brotli_static_module.so"


def _text(size: int) -> bytes:
    words = [b"framing", b"chunked", b"gzip", b"brotli", b"nginx", b"keep-alive", b"\n"]
    rng = random.Random(size)
    out = bytearray()
    while len(out) < size:
        out += rng.choice(words) + b" "
    return bytes(out[:size])


def _binary(size: int) -> bytes:
    return random.Random(size).randbytes(size)


#: The served files: name -> content (text compresses, binary does not).
FILES: dict[str, bytes] = {
    "empty.txt": b"",
    "one.txt": b"x",
    "small.txt": _text(700),
    "text.txt": _text(300_000),
    "random.bin": _binary(200_000),
    "big.txt": _text(3_000_000),
}

NGINX_CONFIG = """\
# framekit's test nginx (tests/http_live/server.py)
load_module {brotli_filter};
load_module {brotli_static};
daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    types {{ text/plain txt; application/octet-stream bin; }}
    default_type application/octet-stream;
    keepalive_requests 10000;
    keepalive_timeout 60s;
    sendfile off;
    server {{
        listen 127.0.0.1:{port};
        root {dir}/www;
        location /plain/ {{ }}
        location /fly/ {{
            gzip on;
            gzip_types *;
            gzip_min_length 0;
            gzip_http_version 1.0;
            brotli on;
            brotli_types *;
            brotli_min_length 0;
        }}
        location /static/ {{
            gzip_static on;
            brotli_static on;
        }}
    }}
}}
"""

_START_TRIES = 3


@attrs.define(frozen=True)
class Nginx:
    """A running nginx: where it listens, the files' digests, and the process to stop."""

    host: str
    port: int
    server: Server
    directory: Path

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self.server.pid

    @staticmethod
    def sha256(name: str) -> str:
        """The hex sha256 of a served file."""
        return hashlib.sha256(FILES[name]).hexdigest()

    def stop(self) -> None:
        """Stop the server (SIGTERM to its pid, then SIGKILL) and wait for it."""
        self.server.stop()


def _write_root(directory: Path) -> None:
    for location in ("plain", "fly", "static"):
        (directory / "www" / location).mkdir(parents=True, exist_ok=True)
    for name, data in FILES.items():
        for location in ("plain", "fly", "static"):
            (directory / "www" / location / name).write_bytes(data)
        static = directory / "www" / "static"
        # Twins compressed harder than on the fly (gzip 9, brotli 9 against nginx's 1 and 6),
        # made here: brotli's 11 would take seconds on the big file.
        (static / f"{name}.gz").write_bytes(gzip.compress(data, 9, mtime=1))
        (static / f"{name}.br").write_bytes(brotli.compress(data, quality=9))
    (directory / "tmp").mkdir(exist_ok=True)


def start_nginx(directory: Path) -> Nginx:
    """Start an nginx configured by :data:`NGINX_CONFIG` in ``directory``.

    Installs the packages when missing (skips the test when it cannot: a failure in CI).
    Raises RuntimeError when the server does not come up.
    """
    program = ensure_program("nginx", "nginx")
    ensure_file(BROTLI_FILTER, "libnginx-mod-http-brotli-filter")
    ensure_file(BROTLI_STATIC, "libnginx-mod-http-brotli-static")
    directory.mkdir(parents=True, exist_ok=True)
    _write_root(directory)
    error: RuntimeError | None = None
    for attempt in range(_START_TRIES):
        port = free_port()
        config = directory / "nginx.conf"
        config.write_text(
            NGINX_CONFIG.format(
                port=port,
                dir=directory,
                brotli_filter=BROTLI_FILTER,
                brotli_static=BROTLI_STATIC,
            )
        )
        argv = [
            program,
            "-c",
            str(config),
            "-p",
            str(directory),
            "-e",
            str(directory / "error.log"),
        ]
        try:
            server = Server(argv, port, log=directory / f"nginx-{attempt}.log", cwd=directory)
        except RuntimeError as failed:  # most likely the port was taken meanwhile
            error = failed
            continue
        return Nginx("127.0.0.1", port, server, directory)
    assert error is not None
    raise error
