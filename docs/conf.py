"""Sphinx configuration of framekit's documentation site (``docs/``).

Sphinx, because framekit's docstrings are written for it (``:class:``, ``:func:`` and
``:mod:`` cross-references, reST literals), so autodoc renders the API reference from them as
they are; MyST-Parser, so the guides stay Markdown pages, whose Python blocks
tests/test_docs.py runs; Furo for the theme. Built in CI with warnings as errors:
``python -m sphinx -W --keep-going -b html docs docs/_build/html``. docs/_ext/benchsite.py
draws the benchmark page's chart and tables from a run's JSON (docs/_static/benchmarks.json).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs" / "_ext"))

import framekit  # noqa: E402

project = "framekit"
author = "The framekit developers"
copyright = "2026, The framekit developers"
version = release = framekit.__version__

extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.viewcode", "benchsite"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build"]
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}

html_theme = "furo"
html_title = f"framekit {release}"
