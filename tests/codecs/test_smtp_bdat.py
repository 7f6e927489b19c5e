"""BDAT (RFC 3030): chunks passed through exactly, LAST, limits that still consume the chunk."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import framekit
from framekit.codecs.smtp import Bdat, parse_bdat
from framekit.errors import LimitExceededError, MalformedError, TruncatedError
from framekit.testing import assert_bytes_round_trip, check_byte_codec, splits_of


def test_chunks_pass_through_raw_until_last() -> None:
    wire = b"BDAT 5\r\n.\r\n\n\rBDAT 3 LAST\r\nxyzQUIT\r\n"
    check = check_byte_codec(Bdat(), wire)
    assert check.data == b".\r\n\n\rxyz" and check.chunk_ends == [5, 8]
    assert check.done and check.leftover == b"QUIT\r\n"


def test_bdat_0_last_ends_the_message() -> None:
    check = check_byte_codec(Bdat(), b"BDAT 4\r\nabcdbdat 0 last\r\nNOOP\r\n")
    assert check.data == b"abcd" and check.done and check.leftover == b"NOOP\r\n"


def test_first_chunk_whose_command_was_already_read() -> None:
    check = check_byte_codec(Bdat(first_chunk=parse_bdat(b"3")), b"abcBDAT 1 LAST\r\nd")
    assert check.data == b"abcd" and check.done


def test_chunk_over_the_limit_is_consumed_whole_then_raised() -> None:
    wire = b"BDAT 2\r\nabBDAT 5 LAST\r\n12345RSET\r\n"
    check = check_byte_codec(Bdat(max_chunk_size=4), wire)
    assert [(type(e), e.offset) for e in check.errors] == [(LimitExceededError, 10)]
    assert check.data == b"ab"


def test_after_a_rejected_chunk_the_source_is_at_the_next_command() -> None:
    async def main() -> None:
        root = framekit.StreamReader()
        root.feed_data(b"BDAT 5 LAST\r\n12345RSET\r\n")
        layer = root.layer(Bdat(max_message=4))
        with pytest.raises(LimitExceededError):
            await layer.read()
        assert await root.readline() == b"RSET\r\n"

    asyncio.run(main())


def test_message_limit_counts_every_chunk() -> None:
    wire = b"BDAT 3\r\nabcBDAT 2 LAST\r\nde"
    assert check_byte_codec(Bdat(max_message=5), wire).done
    check = check_byte_codec(Bdat(max_message=4), wire)
    assert [(type(e), e.offset) for e in check.errors] == [(LimitExceededError, 11)]


def test_another_command_where_bdat_is_expected_is_left_in_the_source() -> None:
    async def main() -> None:
        root = framekit.StreamReader()
        root.feed_data(b"BDAT 1\r\naRSET\r\n")
        layer = root.layer(Bdat())
        assert await layer.readexactly(1) == b"a"
        with pytest.raises(MalformedError):
            await layer.read()
        assert await root.readline() == b"RSET\r\n"

    asyncio.run(main())


@pytest.mark.parametrize(
    "wire", [b"BDAT x\r\n", b"BDAT 1 FIRST\r\n", b"BDAT -1\r\n", b"BDAT 1\n", b"BDAT  1\r\n"]
)
def test_broken_command_is_malformed(wire: bytes) -> None:
    assert [type(e) for e in check_byte_codec(Bdat(), wire).errors] == [MalformedError]


def test_eof_inside_a_chunk_or_before_last_is_truncated() -> None:
    for wire in (b"BDAT 3\r\nab", b"BDAT 3\r\nabc", b"BDAT 3\r\nabcBDA"):
        errors = check_byte_codec(Bdat(), wire).errors
        assert [type(e) for e in errors] == [TruncatedError], wire


def test_encoder_writes_one_chunk_per_feed_and_last_at_finish() -> None:
    encoder = Bdat().encoder()
    assert encoder.feed(b"abc") == b"BDAT 3\r\nabc"
    assert encoder.feed(b"") == b""
    assert encoder.finish() == b"BDAT 0 LAST\r\n"
    encoder = Bdat().encoder()
    assert encoder.finish(b"\r\n.\r\n") == b"BDAT 5 LAST\r\n\r\n.\r\n"


def test_encoder_refuses_a_chunk_over_the_limit() -> None:
    with pytest.raises(ValueError):
        Bdat(max_chunk_size=2).encoder().feed(b"abc")


def test_parse_bdat() -> None:
    assert parse_bdat(b"100 LAST") == (100, True)
    assert parse_bdat(b"0") == (0, False)
    with pytest.raises(MalformedError):
        parse_bdat(b"LAST")


@settings(max_examples=60, deadline=None)
@given(pieces=st.lists(st.binary(max_size=20), max_size=6), data=st.data())
def test_round_trip_under_any_split(pieces: list[bytes], data: st.DataObject) -> None:
    encoder = Bdat().encoder()
    wire = b"".join(encoder.feed(p) for p in pieces) + encoder.finish()
    assert_bytes_round_trip(Bdat(), pieces, splits=[data.draw(splits_of(wire))])
