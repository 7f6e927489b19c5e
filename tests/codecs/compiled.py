"""A fixture that runs a test module with framekit's compiled fast paths and without."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import pytest

from framekit import speedups


def with_and_without_compiled(module: ModuleType, attribute: str) -> Callable[..., str]:
    """An autouse fixture running every test of a module twice: with the compiled function
    ``module.attribute`` (skipped, so failing CI, if the extension is not built), and with it
    set to None, as it is without the extension."""

    @pytest.fixture(autouse=True, params=["compiled", "python"])
    def decoder_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
        if request.param == "python":
            monkeypatch.setattr(module, attribute, None)
        elif not speedups.ENABLED:
            pytest.skip("framekit._speedups is not built")
        return str(request.param)

    return decoder_kind
