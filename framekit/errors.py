"""The exceptions framekit raises for bad input.

Every error about the bytes on the wire is a :class:`FramingError`, in one of four families:

- :class:`LimitExceededError`: a configured limit was passed (a line, a frame, a decoded size).
- :class:`MalformedError`: the bytes break the wire format (chunked syntax, corrupt gzip, ...).
- :class:`TruncatedError`: the input ended inside a frame or an encoding.
- :class:`UnsupportedEncodingError`: an encoding framekit cannot decode here.

Each carries the byte ``offset`` where the problem was found, counted in the stream of the
reader (or codec) that found it, and its message names the limit or the rule that was broken.
``MalformedError`` is also a ``ValueError`` and ``TruncatedError`` an ``EOFError``, so code
written against the standard library's families keeps working.
"""

from __future__ import annotations

__all__ = [
    "CodecContractError",
    "EndOfStream",
    "FrameTooLong",
    "FramingError",
    "LimitExceededError",
    "LineTooLong",
    "MalformedError",
    "TruncatedError",
    "UnsupportedEncodingError",
]


class FramingError(Exception):
    """Base class of every error framekit raises about its input.

    ``message`` says what rule or limit was broken; ``offset`` (when known) is the byte offset,
    in the stream of the reader or codec that raised it, where the problem was found.
    """

    def __init__(self, message: str, *, offset: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset

    def __str__(self) -> str:
        if self.offset is None:
            return self.message
        return f"{self.message} (at byte offset {self.offset})"

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[FramingError], state: dict[str, object]) -> FramingError:
    error = cls.__new__(cls)
    Exception.__init__(error, state.get("message", ""))
    error.__dict__.update(state)
    return error


class LimitExceededError(FramingError):
    """A configured limit was exceeded; ``limit`` is its value.

    Where the format allows it, the offending frame was skipped whole and the stream is still
    in sync: the next read returns the next frame.
    """

    def __init__(self, message: str, *, limit: int, offset: int | None = None) -> None:
        super().__init__(message, offset=offset)
        self.limit = limit


class LineTooLong(LimitExceededError):
    """A line (or data up to a separator) was longer than the allowed maximum."""


class FrameTooLong(LimitExceededError):
    """A frame was longer than the codec's maximum frame length."""


class MalformedError(FramingError, ValueError):
    """The input violates the wire format."""


class TruncatedError(FramingError, EOFError):
    """The input ended inside a frame or an encoding (no complete result can be formed)."""


class UnsupportedEncodingError(FramingError):
    """The encoding is unknown, or needs an optional extra that is not installed."""


class EndOfStream(EOFError):
    """A frame reader is at the end of its stream: the last frame was handed out.

    Not a :class:`FramingError`: nothing is wrong with the input. Raised by every read after
    the end, so a codec whose frames may be ``None`` (a RESP null) cannot be mistaken for the
    end. ``async for`` ends at it.
    """


class CodecContractError(RuntimeError):
    """A codec broke the decoder contract (a bug in the codec, not bad input).

    The message names the rule that was broken and the decoder that broke it.
    """
