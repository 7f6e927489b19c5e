"""``python -m framekit``: the ``framekit`` command (:mod:`framekit.cli`)."""

from framekit.cli import main

raise SystemExit(main())
