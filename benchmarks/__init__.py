"""framekit's benchmarks: the same workloads for framekit and its peers, one process, ratios.

Run ``python -m benchmarks`` (see ``benchmarks/README.md``). Workload groups register
themselves with :func:`benchmarks.harness.register`.
"""

try:
    import aiohttp  # noqa: F401
    import h11  # noqa: F401
    import httptools  # noqa: F401
except ModuleNotFoundError as error:  # the peers are the bench extra's
    raise SystemExit(
        f"framekit's benchmarks compare it with its peers, and {error.name} is not installed: "
        "pip install 'aioframekit[bench]' (from a clone: pip install -e '.[bench]')"
    ) from None

from benchmarks.harness import (
    Checked,
    CheckFailed,
    Implementation,
    Input,
    Prepared,
    Target,
    Workload,
    bytes_digest,
    feed_and_read,
    items_digest,
    register,
    registry,
    run,
    select,
    split_pieces,
)

__all__ = [
    "CheckFailed",
    "Checked",
    "Implementation",
    "Input",
    "Prepared",
    "Target",
    "Workload",
    "bytes_digest",
    "feed_and_read",
    "items_digest",
    "register",
    "registry",
    "run",
    "select",
    "split_pieces",
]
