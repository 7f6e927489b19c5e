"""tests/servers.py: installing a missing server program without starting its packaged service."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests import servers


class _Apt:
    """A stand-in for apt-get: records each call and what policy-rc.d said during it."""

    def __init__(self, policy: Path) -> None:
        self.policy = policy
        self.calls: list[tuple[list[str], str | None]] = []

    def run(self, argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        text = self.policy.read_text() if self.policy.exists() else None
        self.calls.append((argv, text))
        return subprocess.CompletedProcess(argv, 0, "", "")


@pytest.fixture
def apt(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> _Apt:
    stand_in = _Apt(tmp_path / "policy-rc.d")
    installed: list[str] = []

    def which(program: str, path: str | None = None) -> str | None:
        return f"/usr/bin/{program}" if program in installed or program == "apt-get" else None

    def run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        if argv[:2] == ["apt-get", "install"]:
            installed.append("fake-server")
        return stand_in.run(argv, **kwargs)

    monkeypatch.setattr(servers.shutil, "which", which)
    monkeypatch.setattr(servers.subprocess, "run", run)
    monkeypatch.setattr(servers.os, "geteuid", lambda: 0)
    monkeypatch.setattr(servers, "POLICY_RC_D", stand_in.policy)
    monkeypatch.setattr(servers, "_apt_updated", False)
    return stand_in


def test_install_denies_service_starts_while_apt_runs_and_restores_after(apt: _Apt) -> None:
    assert servers.ensure_program("fake-server", "fake-package") == "/usr/bin/fake-server"
    install = [text for argv, text in apt.calls if argv[:2] == ["apt-get", "install"]]
    assert install == ["#!/bin/sh\nexit 101\n"]  # 101: "action forbidden by policy"
    assert not apt.policy.exists()


def test_install_leaves_an_existing_policy_rc_d_alone(apt: _Apt) -> None:
    apt.policy.write_text("#!/bin/sh\nexit 0\n")
    servers.ensure_program("fake-server", "fake-package")
    install = [text for argv, text in apt.calls if argv[:2] == ["apt-get", "install"]]
    assert install == ["#!/bin/sh\nexit 0\n"]
    assert apt.policy.read_text() == "#!/bin/sh\nexit 0\n"
