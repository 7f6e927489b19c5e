"""Build framekit's optional compiled fast paths (``framekit._speedups``).

Everything else is in pyproject.toml. The extension is optional: without a C compiler, or with
``FRAMEKIT_NO_EXTENSIONS=1`` set, framekit installs as pure Python and does the same work there.
"""

import os

from setuptools import Extension, setup

extensions = []
if not os.environ.get("FRAMEKIT_NO_EXTENSIONS"):
    extensions.append(Extension("framekit._speedups", ["framekit/_speedups.c"], optional=True))

setup(ext_modules=extensions)
