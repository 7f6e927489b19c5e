"""Validators shared by the frame codecs' options (each names the option it rejects), and
the encoders' frame-to-bytes helper."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

Validator = Callable[[Any, "attrs.Attribute[Any]", Any], None]

#: What a codec does with a frame over its maximum: raise once, or skip it silently and count it.
ON_TOO_LONG = ("raise", "skip")


def one_of(*choices: object) -> Validator:
    """The option must be one of ``choices``."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value not in choices:
            allowed = ", ".join(repr(choice) for choice in choices)
            raise ValueError(f"{attribute.name} must be one of {allowed}, got {value!r}")

    return check


def int_in(low: int, high: int | None = None) -> Validator:
    """The option must be an int (not a bool) in ``[low, high]``."""

    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{attribute.name} must be an int, got {value!r}")
        if value < low or (high is not None and value > high):
            bound = f">= {low}" if high is None else f"between {low} and {high}"
            raise ValueError(f"{attribute.name} must be {bound}, got {value!r}")

    return check


def is_bool(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
    """The option must be a bool."""
    if not isinstance(value, bool):
        raise TypeError(f"{attribute.name} must be a bool, got {value!r}")


def as_bytes(frame: Any) -> bytes:
    """The bytes of a frame to encode: a ``bytes`` object as it is, any other bytes-like
    object copied. TypeError for anything else (``bytes(5)`` would be five NUL bytes)."""
    if type(frame) is bytes:
        return frame
    try:
        return memoryview(frame).tobytes()
    except TypeError:
        raise TypeError(f"a frame must be bytes-like, not {type(frame).__name__}") from None
