"""What the distribution carries: its name, version, licence and metadata, and an sdist of the
package alone (the test suite runs from a clone; MANIFEST.in says why)."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from email.parser import Parser
from importlib import metadata
from pathlib import Path

import pytest

import framekit
from framekit._version import DISTRIBUTION
from framekit.samples import SAMPLES

ROOT = Path(__file__).resolve().parent.parent


def test_version_is_the_installed_distributions() -> None:
    assert framekit.__version__ == metadata.version(DISTRIBUTION)
    assert framekit.__version__ != "0+unknown"


def test_distribution_name_is_not_the_import_name() -> None:
    assert DISTRIBUTION == "aioframekit"
    assert metadata.distribution(DISTRIBUTION).read_text("top_level.txt") in (None, "framekit\n")


def test_install_hints_name_the_distribution_not_the_import_package() -> None:
    # "framekit" on the package index is an unrelated project: a hint saying
    # `pip install framekit[zstd]` would install someone else's code.
    import re

    for path in sorted((ROOT / "framekit").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"pip install '?([A-Za-z0-9_-]+)\[", text):
            assert match.group(1) == DISTRIBUTION, f"{path.relative_to(ROOT)}: {match.group(0)}"


def test_metadata_names_license_authors_and_every_supported_python() -> None:
    meta = metadata.metadata(DISTRIBUTION)
    assert meta["License-Expression"] == "MIT"
    assert meta["Author"] or meta["Author-email"]
    classifiers = meta.get_all("Classifier") or []
    for minor in range(10, 14):
        assert f"Programming Language :: Python :: 3.{minor}" in classifiers
    assert meta["Requires-Python"] == ">=3.10"


def test_extras_include_bench_and_cli() -> None:
    extras = metadata.metadata(DISTRIBUTION).get_all("Provides-Extra") or []
    assert {"bench", "cli", "test", "brotli", "zstd", "speed"} <= set(extras)


def test_changelog_has_an_entry_for_the_version() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## [{framekit.__version__}]" in changelog


@pytest.mark.install
def test_sdist_ships_the_package_license_and_changelog_and_no_tests(
    built: dict[str, Path],
) -> None:
    sdist = built["sdist"]
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
        pkg_info = archive.extractfile(f"{sdist.name[: -len('.tar.gz')]}/PKG-INFO")
        assert pkg_info is not None
        info = Parser().parsestr(pkg_info.read().decode())
    assert info["Name"] == DISTRIBUTION
    assert {"LICENSE", "CHANGELOG.md", "README.md", "setup.py", "pyproject.toml"} <= names
    assert {"framekit/__init__.py", "framekit/_speedups.c", "framekit/py.typed"} <= names
    assert {f"framekit/samples/{sample.filename}" for sample in SAMPLES.values()} <= names
    assert not [name for name in names if name.startswith(("tests/", "benchmarks/", "fuzz/"))]
    assert not [name for name in names if name.endswith((".so", ".pyc"))]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sdist, and the wheel built from it (``python -m build``: what a release does)."""
    out = tmp_path_factory.mktemp("built")
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return {"sdist": sdist, "wheel": wheel}


def _fresh_venv_with(artifact: Path, where: Path) -> Path:
    """A new virtual environment with ``artifact`` installed; its bin directory."""
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, timeout=300)
    bin_dir = where / "bin"
    subprocess.run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(artifact)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return bin_dir


@pytest.mark.install
@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_a_fresh_install_runs_the_command_on_a_sample(
    kind: str, built: dict[str, Path], tmp_path: Path
) -> None:
    bin_dir = _fresh_venv_with(built[kind], tmp_path / "venv")

    def run(*args: str) -> subprocess.CompletedProcess[bytes]:  # outside this checkout
        return subprocess.run(args, cwd=tmp_path, capture_output=True, timeout=120)

    help_run = run(str(bin_dir / "framekit"), "--help")
    assert help_run.returncode == 0 and b"decode" in help_run.stdout
    decoded = run(str(bin_dir / "framekit"), "decode", "--sample", "http-chunked-gzip")
    assert decoded.returncode == 0, decoded.stderr
    assert decoded.stdout.count(b"\n") == 40
    version = run(str(bin_dir / "python"), "-c", "import framekit; print(framekit.__version__)")
    assert version.stdout.decode().strip() == framekit.__version__
