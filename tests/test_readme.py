"""The README's Python blocks run as written, and its set-up commands are the ones CI uses."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)


def test_readme_has_python_blocks() -> None:
    assert len(BLOCKS) >= 4


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_block_runs(index: int, tmp_path: Path) -> None:
    script = tmp_path / f"block{index}.py"
    script.write_text(BLOCKS[index], encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_readme_test_command_is_the_one_ci_runs() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "pip install -e '.[test,docs]'" in README
    assert "pip install --quiet -e '.[test,docs]'" in ci
    assert "python -m pytest -q" in README
    assert "python -m pytest -q" in ci


def test_readme_main_job_runs_the_command_on_a_shipped_sample() -> None:
    setup = "python3 -m venv .venv && .venv/bin/pip install -e . && "
    (command,) = [line for line in README.splitlines() if line.startswith(setup)]
    assert "/framekit decode --sample " in command
    sample = command.split("--sample", 1)[1].split()[0]
    result = subprocess.run(
        [sys.executable, "-m", "framekit", "decode", "--sample", sample],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(b"\n") > 0


def test_readme_line_echo_example_exists() -> None:
    assert "examples/line_echo.py" in README
    assert (ROOT / "examples" / "line_echo.py").is_file()
