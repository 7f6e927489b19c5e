"""framekit's optional compiled fast paths, or None for each when they are not available.

``framekit._speedups`` is a C extension built at install when a compiler is there (see
setup.py); the pure-Python code does the same work without it. ``FRAMEKIT_NO_EXTENSIONS=1`` in
the environment (read at import) turns it off. :data:`ENABLED` says whether it is in use.
"""

from __future__ import annotations

import os
from collections.abc import Callable

__all__ = ["ENABLED"]

#: ``framekit._speedups.scan_chunked`` (see framekit/_speedups.c), or None.
scan_chunked: Callable[..., tuple[int, int, int, int, bytes, list[int], bool] | None] | None = None

#: ``framekit._speedups.split_fixed`` (length-prefixed frames), or None.
split_fixed: Callable[..., int] | None = None

#: ``framekit._speedups.scan_resp`` (RESP's common shapes), or None.
scan_resp: Callable[..., tuple[int, int, int] | None] | None = None
#: ``framekit._speedups.scan_dot_lines`` (an SMTP DATA body's plain lines), or None.
scan_dot_lines: Callable[..., tuple[int, bytes, bool] | None] | None = None

if not os.environ.get("FRAMEKIT_NO_EXTENSIONS"):
    try:
        from framekit import _speedups
    except ImportError:  # not built: no compiler at install, or an unusual platform
        pass
    else:
        scan_chunked = _speedups.scan_chunked
        split_fixed = _speedups.split_fixed
        scan_resp = _speedups.scan_resp
        scan_dot_lines = _speedups.scan_dot_lines

#: True when the compiled fast paths are in use.
ENABLED: bool = scan_chunked is not None
