"""What the decompressing codecs share: option types, defaults and validators, the import
of an optional library, and the output cap and errors every format reports alike."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Literal, Protocol, TypeAlias

import attrs

from framekit.errors import (
    FramingError,
    LimitExceededError,
    MalformedError,
    UnsupportedEncodingError,
)

Backend: TypeAlias = Literal["auto", "zlib", "isal", "zlib-ng"]
TrailingData: TypeAlias = Literal["error", "leave"]

#: zstd window a decoder accepts by default: 8 MiB, what RFC 9659 asks HTTP decoders to support.
DEFAULT_MAX_WINDOW_SIZE = 8 * 1024 * 1024
#: brotli window a decoder accepts by default: 16 MiB (WBITS 24), the largest RFC 7932 allows.
DEFAULT_MAX_BROTLI_WINDOW_SIZE = 16 * 1024 * 1024
#: Stacked content codings ``content_decoding`` accepts by default (urllib3 CVE-2025-66418).
DEFAULT_MAX_CODINGS = 5

# Compressed bytes handed to the library per call. The stdlib copies the input it did not use
# (``unconsumed_tail``) on every call, so a bounded slice keeps that copy small whatever the
# source holds; 64 KiB costs less than inflating one 64 KiB budget.
_INPUT_SLICE = 64 * 1024


def _import_extra(module: str, extra: str, coding: str) -> Any:
    """Import an optional library, or fail naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise UnsupportedEncodingError(
            f"{coding} needs the {module} package: pip install aioframekit[{extra}]"
        ) from None


# -- option validators --------------------------------------------------------------------


def _optional_size(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{attribute.name!r} must be None or an int >= 0, got {value!r}")


def _int_in(low: int, high: int) -> Callable[[object, attrs.Attribute[Any], object], None]:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ValueError(f"{attribute.name!r} must be an int in [{low}, {high}], got {value!r}")

    return check


_trailing_validator = attrs.validators.in_(("error", "leave"))


# -- errors shared by the decoders ------------------------------------------------------------


def _over_cap(coding: str, cap: int, offset: int) -> LimitExceededError:
    return LimitExceededError(
        f"decoded {coding} output exceeds max_output_size={cap}", limit=cap, offset=offset
    )


class _Capped(Protocol):
    _decoded: int
    _max_output_size: int | None
    _failure: FramingError | None


def _count_output(decoder: _Capped, size: int, coding: str, offset: int) -> int:
    """Count ``size`` more decoded bytes; return how many fit under ``max_output_size``.

    Past the cap the decoder fails (``_failure``) with LimitExceededError at ``offset``: the
    caller writes the bytes that fit and raises on the next call, or at once if none fit.
    """
    cap = decoder._max_output_size
    decoder._decoded += size
    if cap is None or decoder._decoded <= cap:
        return size
    decoder._failure = _over_cap(coding, cap, offset)
    return size - (decoder._decoded - cap)


def _trailing(coding: str, offset: int) -> MalformedError:
    return MalformedError(
        f"data after the end of the {coding} stream (trailing_data='error')", offset=offset
    )


# -- input steps under a cap ------------------------------------------------------------------

#: With max_output_size, deflate and brotli input reaches the library in steps of this many
#: bytes (see ``_inflate_capped``): a step in which the output passes the cap is decoded to its
#: end, at most about 16 MiB of discarded deflate output (deflate expands at most 1032:1).
_CAP_STEP = 16 * 1024
