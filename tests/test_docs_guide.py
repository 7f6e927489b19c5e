"""The guide's tables and lists agree with the code: limits and their defaults, error classes."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path
from typing import Any

import attrs
import pytest

import framekit.codecs
import framekit.codecs.smtp
import framekit.errors

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "guide"
#: A row of the limits table: | `where` | `option` | `default` | what it bounds |
LIMIT_ROW = re.compile(r"^\| `([\w.]+)` \| `(\w+)` \| `([^`]+)` \|", flags=re.MULTILINE)


def limit_rows() -> list[tuple[str, str, str]]:
    return LIMIT_ROW.findall((GUIDE / "limits.md").read_text(encoding="utf-8"))


def resolve(dotted: str) -> Any:
    """The object a dotted name names: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            target: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            target = getattr(target, name)
        return target
    raise ImportError(dotted)


def default_of(where: Any, option: str) -> Any:
    """The default of ``option``: an attrs field's, or a parameter's of a callable."""
    if inspect.isclass(where) and attrs.has(where):
        return attrs.fields_dict(where)[option].default
    parameter = inspect.signature(where).parameters[option]
    assert parameter.default is not inspect.Parameter.empty, f"{option} has no default"
    return parameter.default


def test_the_limits_table_has_rows() -> None:
    assert len(limit_rows()) > 40


@pytest.mark.parametrize(("where", "option", "default"), limit_rows())
def test_each_limit_in_the_table_has_the_default_of_the_code(
    where: str, option: str, default: str
) -> None:
    expected = eval(default, {"__builtins__": {}}, {"None": None})
    assert default_of(resolve(where), option) == expected


def codec_classes() -> list[tuple[str, type]]:
    found = []
    for module, prefix in (
        (framekit.codecs, "framekit.codecs"),
        (framekit.codecs.smtp, "framekit.codecs.smtp"),
    ):
        for name in module.__all__:
            value = getattr(module, name)
            if inspect.isclass(value) and attrs.has(value):
                found.append((f"{prefix}.{name}", value))
    return found


def test_the_limits_table_lists_every_max_option_of_every_codec() -> None:
    listed = {(where, option) for where, option, _ in limit_rows()}
    missing = [
        (where, field.name)
        for where, cls in codec_classes()
        for field in attrs.fields(cls)
        if field.name.startswith("max_") and (where, field.name) not in listed
    ]
    assert missing == []


def error_classes() -> list[type]:
    """framekit.errors' classes, and the exception classes the codec modules and
    framekit.http export."""
    modules = [framekit.errors, importlib.import_module("framekit.http")]
    for info in pkgutil.walk_packages(framekit.codecs.__path__, "framekit.codecs."):
        if not info.name.rsplit(".", 1)[-1].startswith("_"):
            modules.append(importlib.import_module(info.name))
    classes = []
    for module in modules:
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            is_error = inspect.isclass(value) and issubclass(value, BaseException)
            if is_error and value not in classes:
                classes.append(value)
    return classes


def test_the_errors_page_names_every_public_error_class() -> None:
    page = (GUIDE / "errors.md").read_text(encoding="utf-8")
    classes = error_classes()
    assert framekit.errors.FramingError in classes
    missing = [cls.__name__ for cls in classes if not re.search(rf"\b{cls.__name__}\b", page)]
    assert missing == []


def test_the_errors_page_tree_is_the_class_hierarchy() -> None:
    page = (GUIDE / "errors.md").read_text(encoding="utf-8")
    tree = page.split("```text\n", 1)[1].split("```", 1)[0].splitlines()
    known = {cls.__name__: cls for cls in error_classes()}
    known.update(
        Exception=Exception,
        EOFError=EOFError,
        RuntimeError=RuntimeError,
        ContractViolation=importlib.import_module("framekit.testing").ContractViolation,
    )
    parents: list[tuple[int, type]] = [(-1, known[tree[0].strip()])]
    listed = []
    for line in tree[1:]:
        depth = line.index("+-- ")
        cls = known[line[depth + 4 :].split()[0]]
        while parents[-1][0] >= depth:
            parents.pop()
        assert cls.__mro__[1] is parents[-1][1], cls
        parents.append((depth, cls))
        listed.append(cls)
    assert set(known.values()) - {Exception, EOFError, RuntimeError} - set(listed) == {
        known["ReplyError"]
    }
