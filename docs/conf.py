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
# framekit.sync.Source is shown by its name in signatures, not expanded to the union of its
# private protocols.
autodoc_type_aliases = {"Source": "framekit.sync.Source"}

# Every cross-reference must name something documented here; the exceptions, each for a reason:
nitpicky = True
nitpick_ignore_regex = [
    # The standard library: no intersphinx inventory (the docs build offline).
    (r"py:(class|obj)", r"(abc|collections\.abc|asyncio(\.\w+)?|_asyncio|ssl)\.\w+"),
    # Third-party: hypothesis's strategies (framekit.testing's return types; hypothesis is
    # imported there for type checking only, so those hints stay unevaluated, Bytes with them).
    (r"py:class", r"(hypothesis\.strategies\.)?SearchStrategy|Bytes"),
    # Type variables: autodoc documents none, so a signature's T names no entry.
    (r"py:(class|obj)", r"(framekit(\.\w+)*\.)?(T|T_contra|H)"),
    # Private insides that public pages name and that have no public name: the port between
    # the reader and its adapters (framekit._port), the receive buffer it hands out, the frame
    # driver the frame readers are built on, and the private bases of public classes.
    (r"py:mod", r"framekit\.(_port|_buffer|_driver)"),
    (r"py:class", r"framekit\._buffer\.Buffer|framekit\._driver\.FrameDriver"),
    (r"py:class", r"framekit\.codecs\._counted\.CountedDecoder"),
    (r"py:class", r"(framekit\.codecs\.lines\.)?_LineOptions"),
    (r"py:class", r"(framekit\.codecs\.http\.)?_HeadOptions"),
]

html_theme = "furo"
html_title = f"framekit {release}"
