"""framekit's benchmarks: the same workloads for framekit and its peers, one process, ratios.

Run ``python -m benchmarks`` (see ``benchmarks/README.md``). Workload groups register
themselves with :func:`benchmarks.harness.register`.
"""

from benchmarks.harness import (
    Checked,
    CheckFailed,
    Implementation,
    Input,
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
