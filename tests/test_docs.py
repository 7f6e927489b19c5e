"""The Python blocks of every page in docs/ run, in order, as one program per page.

A page's blocks build on each other (a codec defined in one block is used in the next), so
each page runs as one script whose lines are at the same numbers as in the page: a failure's
traceback points at the page's line.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import framekit.testing

ROOT = Path(__file__).resolve().parent.parent
PAGES = sorted(path for path in (ROOT / "docs").rglob("*.md") if "_build" not in path.parts)
BLOCK = re.compile(r"^```python\n(.*?)^```", flags=re.DOTALL | re.MULTILINE)


def script_of(page: Path) -> str:
    """The page's Python blocks, each at its own line numbers, everything else blank."""
    text = page.read_text(encoding="utf-8")
    lines = [""] * (text.count("\n") + 1)
    for match in BLOCK.finditer(text):
        first = text.count("\n", 0, match.start(1))
        for index, line in enumerate(match.group(1).splitlines()):
            lines[first + index] = line
    return "\n".join(lines) + "\n"


def test_there_are_pages_with_python_blocks() -> None:
    assert ROOT / "docs" / "writing-a-codec.md" in PAGES
    for page in PAGES:
        assert BLOCK.search(page.read_text(encoding="utf-8")), page.name


@pytest.mark.parametrize(
    "page", PAGES, ids=[str(page.relative_to(ROOT / "docs")) for page in PAGES]
)
def test_page_blocks_run(page: Path, tmp_path: Path) -> None:
    # A name no import can mean (a hyphen): the script's directory comes first on sys.path,
    # so a page named after a module (benchmarks.md) would otherwise shadow it.
    script = tmp_path / f"page-{page.stem}.py"
    script.write_text(script_of(page), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr.replace(str(script), str(page))


def test_the_codec_page_lists_every_rule_the_checker_enforces() -> None:
    page = (ROOT / "docs" / "writing-a-codec.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\| `([a-z-]+)` \|", page, flags=re.MULTILINE)
    assert listed == list(framekit.testing.RULES)


def test_the_readme_and_the_testing_module_link_the_codec_page() -> None:
    assert "docs/writing-a-codec.md" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/writing-a-codec.md" in (framekit.testing.__doc__ or "")
