"""framekit: asyncio protocol framing with aiohttp's StreamReader API and stackable decoders."""

from framekit.errors import (
    FrameTooLong,
    FramingError,
    LimitExceededError,
    LineTooLong,
    MalformedError,
    TruncatedError,
    UnsupportedEncodingError,
)

__all__ = [
    "FrameTooLong",
    "FramingError",
    "LimitExceededError",
    "LineTooLong",
    "MalformedError",
    "TruncatedError",
    "UnsupportedEncodingError",
]
