"""framekit's optional compiled fast paths, or None for each when they are not available.

``framekit._speedups`` is a C extension built at install when a compiler is there (see
setup.py); the pure-Python code does the same work without it. ``FRAMEKIT_NO_EXTENSIONS=1`` in
the environment (read at import) turns it off. :data:`ENABLED` says whether it is in use.

A build records the sha256 of the C source it was built from; when that source is beside it
and differs (an in-place build left by a checkout of other C code, whose functions may take
other arguments), the build is not used and a :class:`RuntimeWarning` says how to rebuild.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Callable
from pathlib import Path

__all__ = ["ENABLED"]

#: ``framekit._speedups.scan_chunked`` (see framekit/_speedups.c), or None.
scan_chunked: Callable[..., tuple[int, int, int, int, bytes, list[int], bool] | None] | None = None

#: ``framekit._speedups.split_fixed`` (length-prefixed frames), or None.
split_fixed: Callable[..., int] | None = None

#: ``framekit._speedups.scan_resp`` (RESP's common shapes), or None.
scan_resp: Callable[..., tuple[int, int, int] | None] | None = None
#: ``framekit._speedups.scan_dot_lines`` (an SMTP DATA body's plain lines), or None.
scan_dot_lines: Callable[..., tuple[int, bytes, bool] | None] | None = None
#: ``framekit._speedups.split_crlf_lines`` (strict CRLF lines, ``Lines(ending="crlf")``), or
#: None.
split_crlf_lines: Callable[[bytes], tuple[list[bytes], int] | None] | None = None
#: ``framekit._speedups.clear_vector_upper`` (VZEROUPPER where the CPU has AVX, called after
#: python-isal's inflate, which leaves the AVX registers' upper halves dirty and every SSE
#: instruction after it slower), or None.
clear_vector_upper: Callable[[], None] | None = None


def _built_from(module: object, source: Path) -> bool:
    """True if ``module`` was built from ``source`` (or ``source`` is not there to compare).

    Warns (RuntimeWarning) and returns False for a build of other source.
    """
    try:
        text = source.read_bytes()
    except OSError:
        return True
    if getattr(module, "SOURCE_SHA256", None) == hashlib.sha256(text).hexdigest():
        return True
    warnings.warn(
        f"framekit._speedups was built from another version of {source}: the pure-Python "
        "code is used instead (rebuild it: pip install -e . in the checkout)",
        RuntimeWarning,
        stacklevel=2,
    )
    return False


if not os.environ.get("FRAMEKIT_NO_EXTENSIONS"):
    try:
        from framekit import _speedups
    except ImportError:  # not built: no compiler at install, or an unusual platform
        pass
    else:
        if _built_from(_speedups, Path(__file__).with_name("_speedups.c")):
            scan_chunked = _speedups.scan_chunked
            split_fixed = _speedups.split_fixed
            scan_resp = _speedups.scan_resp
            scan_dot_lines = _speedups.scan_dot_lines
            split_crlf_lines = _speedups.split_crlf_lines
            clear_vector_upper = _speedups.clear_vector_upper

#: True when the compiled fast paths are in use.
ENABLED: bool = scan_chunked is not None
