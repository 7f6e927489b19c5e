"""Build framekit's optional compiled fast paths (``framekit._speedups``).

Everything else is in pyproject.toml. The extension is optional: without a C compiler, or with
``FRAMEKIT_NO_EXTENSIONS=1`` set, framekit installs as pure Python and does the same work there.
"""

import hashlib
import os
from pathlib import Path

from setuptools import Extension, setup

SOURCE = "framekit/_speedups.c"

extensions = []
if not os.environ.get("FRAMEKIT_NO_EXTENSIONS"):
    # The module records the hash of the source it was built from, so framekit.speedups can
    # refuse an in-place build of other C code (left behind by a checkout of another commit).
    digest = hashlib.sha256((Path(__file__).parent / SOURCE).read_bytes()).hexdigest()
    extensions.append(
        Extension(
            "framekit._speedups",
            [SOURCE],
            define_macros=[("FRAMEKIT_SOURCE_SHA256", f'"{digest}"')],
            optional=True,
        )
    )

setup(ext_modules=extensions)
