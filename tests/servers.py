"""Real servers for the tests that talk to one (redis-server, Exim, ...).

A test that needs a server installs it when it is missing (Debian's ``apt-get``, as root),
starts it on a free port of 127.0.0.1 with a configuration of the project's own, and stops it
by the pid it started. Where the server cannot be installed the test is skipped, which fails
the session in CI (``FRAMEKIT_NO_SKIPS=1``, tests/conftest.py): CI never runs without it.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

__all__ = ["Server", "ensure_file", "ensure_program", "free_port", "wait_for_port"]

_apt_updated = False

#: Debian's hook that invoke-rc.d asks before a package starts its service (exit 101: no).
POLICY_RC_D = Path("/usr/sbin/policy-rc.d")

#: Held while apt runs: CI runs two suites side by side, and apt takes one install at a time
#: (the second would fail on dpkg's lock, or run while the first removed its policy-rc.d).
APT_LOCK = Path(tempfile.gettempdir()) / "framekit-tests-apt.lock"


def ensure_program(program: str, apt_package: str) -> str:
    """The path of ``program``, installing ``apt_package`` first when it is missing.

    Skips the test (a failure in CI) when the program is missing and cannot be installed.
    """
    path = shutil.which(program) or shutil.which(program, path="/usr/sbin:/usr/bin:/sbin")
    if path is not None:
        return path
    stderr = _apt_install(program, apt_package)
    path = shutil.which(program) or shutil.which(program, path="/usr/sbin:/usr/bin:/sbin")
    if path is None:
        pytest.skip(f"could not install {apt_package}: {stderr.strip()[-500:]}")
    return path


def ensure_file(path: Path, apt_package: str) -> Path:
    """``path`` (a file a package installs: a server's module), installing ``apt_package``
    first when it is missing. Skips the test (a failure in CI) when it cannot be installed."""
    if path.exists():
        return path
    stderr = _apt_install(str(path), apt_package)
    if not path.exists():
        pytest.skip(f"could not install {apt_package}: {stderr.strip()[-500:]}")
    return path


def _apt_install(what: str, apt_package: str) -> str:
    """Install ``apt_package`` with apt-get (no service started); return apt-get's stderr.
    Skips the test when apt-get as root is not available."""
    global _apt_updated
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        pytest.skip(f"{what} is not installed (and apt-get as root is not available)")
    with APT_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _apt_install_locked(apt_package)


def _apt_install_locked(apt_package: str) -> str:
    global _apt_updated
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if not _apt_updated:
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env, capture_output=True)
        _apt_updated = True
    # Installing would start the distribution's own service on its default port (the
    # package's postinst runs invoke-rc.d): the tests start their own, so a policy-rc.d that
    # says no is in place while apt runs, unless the machine has one already.
    policy = None
    if not POLICY_RC_D.exists():
        POLICY_RC_D.write_text("#!/bin/sh\nexit 101\n")
        POLICY_RC_D.chmod(0o755)
        policy = POLICY_RC_D
    try:
        result = subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", apt_package],
            check=False,
            env=env,
            capture_output=True,
            text=True,
        )
    finally:
        if policy is not None:
            policy.unlink(missing_ok=True)
    return result.stderr


def free_port() -> int:
    """A TCP port of 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(
    port: int, timeout: float = 20.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Wait until 127.0.0.1:``port`` accepts connections; RuntimeError after ``timeout``
    seconds or when ``process`` exits first."""
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1.0):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on 127.0.0.1:{port}") from None
            time.sleep(0.05)


class Server:
    """A server process started by a test, stopped by its pid.

    ``Server(argv, port, log=path)`` starts ``argv`` (its output to ``log``) and waits for
    ``port`` to accept connections; ``stop()`` sends SIGTERM to that pid, then SIGKILL after
    ``grace`` seconds.
    """

    def __init__(
        self,
        argv: Sequence[str],
        port: int,
        *,
        log: Path,
        cwd: Path | None = None,
        timeout: float = 20.0,
    ) -> None:
        self.port = port
        self.log = log
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            list(argv), stdout=self._log_file, stderr=subprocess.STDOUT, cwd=cwd
        )
        self.pid = self.process.pid
        try:
            wait_for_port(port, timeout, self.process)
        except RuntimeError as error:
            self.stop()
            raise RuntimeError(f"{error}; its log:\n{log.read_text(errors='replace')}") from None

    def stop(self, grace: float = 10.0) -> None:
        """Stop the process this object started (by its pid) and wait for it."""
        if self.process.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.process.wait(grace)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.process.wait()
        self._log_file.close()
