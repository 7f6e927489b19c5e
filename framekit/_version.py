"""framekit's version, read from the installed distribution's metadata (pyproject.toml).

The distribution is ``aioframekit`` on the package index (``framekit`` there is an unrelated
project); the import package is ``framekit``. Run from a source tree that is not installed,
the version is ``0+unknown``.
"""

from __future__ import annotations

from importlib import metadata

#: The name framekit is published under on the package index.
DISTRIBUTION = "aioframekit"


def _read_version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "0+unknown"


__version__: str = _read_version()
