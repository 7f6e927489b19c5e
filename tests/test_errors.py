import pickle

import pytest

from framekit.errors import (
    FramingError,
    LimitExceededError,
    LineTooLong,
    MalformedError,
    TruncatedError,
    UnsupportedEncodingError,
)


def test_message_names_the_offset() -> None:
    error = MalformedError("chunk size is not hexadecimal", offset=12)
    assert str(error) == "chunk size is not hexadecimal (at byte offset 12)"
    assert error.offset == 12


def test_message_without_offset_is_the_bare_message() -> None:
    assert str(FramingError("bad")) == "bad"


def test_families_share_one_base_and_stdlib_bases() -> None:
    assert issubclass(LineTooLong, LimitExceededError)
    assert issubclass(MalformedError, ValueError)
    assert issubclass(TruncatedError, EOFError)
    for family in (LimitExceededError, MalformedError, TruncatedError, UnsupportedEncodingError):
        assert issubclass(family, FramingError)


def test_limit_error_carries_the_limit() -> None:
    error = LineTooLong("line longer than max_line_length=10", limit=10, offset=3)
    assert error.limit == 10
    assert "max_line_length=10" in str(error)


@pytest.mark.parametrize(
    "error",
    [
        LineTooLong("too long", limit=5, offset=1),
        TruncatedError("eof inside a chunk", offset=9),
        FramingError("x"),
    ],
)
def test_errors_pickle(error: FramingError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.__dict__ == error.__dict__
