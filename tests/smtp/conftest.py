"""Real SMTP servers for tests/smtp: Exim (Debian's exim4-daemon-light, a configuration of the
project's own), aiosmtpd in-process, and examples/smtp_server.py; a certificate made by trustme.

Every server listens on 127.0.0.1 only, accepts mail for ``framekit.test`` only (nothing is
relayed) and stores each message byte for byte, one file per message, in a folder of the test.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.servers import Server, ensure_program, free_port

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent.parent / "examples"
DOMAIN = "framekit.test"


def load_example(name: str) -> ModuleType:
    """The module ``examples/<name>.py``."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@dataclass
class Tls:
    """A test CA and a certificate for 127.0.0.1 and mx.framekit.test."""

    ca: Any
    cert: Any

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.cert.configure_cert(context)
        return context


@pytest.fixture(scope="session")
def tls() -> Tls:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    return Tls(ca, ca.issue_cert("127.0.0.1", "mx.framekit.test", "localhost"))


@dataclass
class Mailbox:
    """Where a server stores messages: one file each."""

    folder: Path

    def wait_for(self, count: int, timeout: float = 30.0) -> list[bytes]:
        """The stored messages, oldest first, once there are ``count`` of them."""
        deadline = time.monotonic() + timeout
        while True:
            files = sorted(self.folder.glob("*.eml"), key=lambda p: (p.stat().st_mtime, p.name))
            if len(files) >= count:
                time.sleep(0.05)  # a file being written
                return [path.read_bytes() for path in files]
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(files)} messages stored, expected {count}")
            time.sleep(0.02)


@dataclass
class Exim:
    port: int
    mailbox: Mailbox
    server: Server


def _exim_user() -> str:
    for name in ("Debian-exim", "exim", "mail"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    pytest.skip("no exim user on this machine")


def _keep_distribution_exim_quiet() -> None:
    """Stop and disable the package's own exim service, if it runs (a machine where it was
    installed before policy-rc.d kept it from starting): it would listen on port 25."""
    if not Path("/etc/init.d/exim4").exists():
        return
    pid_file = Path("/run/exim4/exim.pid")
    running = False
    if pid_file.exists():
        with contextlib.suppress(ValueError, OSError):
            os.kill(int(pid_file.read_text().split()[0]), 0)
            running = True
    for argv in (["update-rc.d", "exim4", "disable"], ["systemctl", "disable", "exim4"]):
        if shutil.which(argv[0]):
            subprocess.run(argv, check=False, capture_output=True)
    if running:
        for argv in (["systemctl", "stop", "exim4"], ["/etc/init.d/exim4", "stop"]):
            if shutil.which(argv[0]) or Path(argv[0]).exists():
                subprocess.run(argv, check=False, capture_output=True)


@pytest.fixture(scope="session")
def exim(tls: Tls) -> Iterator[Exim]:
    """Exim on a free port of 127.0.0.1, run in the foreground by the tests, with STARTTLS,
    CHUNKING and PIPELINING. Root runs it; a configuration given with ``-C`` makes Exim drop
    root for its own user, so its folder is one that user can read and write."""
    program = ensure_program("exim", "exim4-daemon-light")
    _keep_distribution_exim_quiet()
    user = _exim_user()
    entry = pwd.getpwnam(user)
    folder = Path(tempfile.mkdtemp(prefix="framekit-exim-"))
    try:
        folder.chmod(0o755)
        for name in ("mail", "spool", "log"):
            (folder / name).mkdir()
            os.chown(folder / name, entry.pw_uid, entry.pw_gid)
        tls.cert.private_key_pem.write_to_path(str(folder / "key.pem"))
        tls.cert.private_key_and_cert_chain_pem.write_to_path(str(folder / "cert.pem"))
        for name in ("key.pem", "cert.pem"):
            os.chown(folder / name, entry.pw_uid, entry.pw_gid)
        template = (HERE / "exim.conf").read_text()
        config = folder / "exim.conf"
        config.write_text(template.replace("@DIR@", str(folder)).replace("@USER@", user))
        config.chmod(0o644)
        port = free_port()
        argv = [program, "-C", str(config), "-bdf", "-oX", str(port)]
        server = Server(argv, port, log=folder / "exim.out")
        try:
            yield Exim(port, Mailbox(folder / "mail"), server)
        finally:
            server.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def exim_mail(exim: Exim) -> Iterator[Mailbox]:
    """Exim's mailbox, emptied for this test."""
    for path in exim.mailbox.folder.glob("*.eml"):
        path.unlink()
    yield exim.mailbox


@dataclass
class Aiosmtpd:
    port: int
    mailbox: Mailbox


class _Store:
    """An aiosmtpd handler storing each message's bytes as received, one file each, and
    refusing recipients outside framekit.test."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if not address.lower().endswith("@" + DOMAIN):
            return "550 5.7.1 relaying denied"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        (self.folder / f"{self.count:06d}.eml").write_bytes(envelope.original_content)
        return "250 OK"


@pytest.fixture
def aiosmtpd_server(tmp_path: Path, tls: Tls) -> Iterator[Aiosmtpd]:
    """aiosmtpd (its own thread and event loop) on a free port of 127.0.0.1, STARTTLS on."""
    controller_module = pytest.importorskip("aiosmtpd.controller")
    folder = tmp_path / "aiosmtpd"
    folder.mkdir()
    port = free_port()
    controller = controller_module.Controller(
        _Store(folder),
        hostname="127.0.0.1",
        port=port,
        tls_context=tls.server_context(),
        data_size_limit=32 * 1024 * 1024,
    )
    controller.start()
    try:
        yield Aiosmtpd(port, Mailbox(folder))
    finally:
        controller.stop()


@dataclass
class ExampleServer:
    port: int
    mailbox: Mailbox


@pytest.fixture
async def example_server(tmp_path: Path, tls: Tls) -> Any:
    """examples/smtp_server.py on a free port of 127.0.0.1 (this test's event loop)."""
    server_module = load_example("smtp_server")
    folder = tmp_path / "example"
    folder.mkdir()
    server = await server_module.serve(0, folder, tls=tls.server_context())
    try:
        yield ExampleServer(server.sockets[0].getsockname()[1], Mailbox(folder))
    finally:
        server.close()
        await server.wait_closed()
