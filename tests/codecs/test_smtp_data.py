"""The DATA body: dot-stuffing, the end only at CRLF.CRLF (SMTP smuggling), policies, limits,
streaming, leftovers, and the encoder's policies and pieces."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import framekit
from framekit.codecs.smtp import Data
from framekit.codecs.smtp import data as data_module
from framekit.errors import LimitExceededError, LineTooLong, MalformedError, TruncatedError
from framekit.testing import assert_bytes_round_trip, check_byte_codec, splits_of
from tests.codecs.compiled import with_and_without_compiled

#: Every test runs with the compiled loop for plain lines and without it.
decoder_kind = with_and_without_compiled(data_module, "_scan_dot_lines")

# Every end-of-data a receiver has been fooled by (SEC Consult's SMTP smuggling, smtpsmug,
# SMTP-Smuggling-Tools): none of them ends the message.
SMUGGLING = [
    b"\n.\n",
    b"\n.\r\n",
    b"\r\n.\n",
    b"\r.\r\n",
    b"\r.\r",
    b"\r\n.\r",
    b"\r\r\n.\r\r\n",
    b"\r\n.\r\r\n",
    b"\n\n.\n\n",
    b"\r\n\x00.\r\n",
    b"\r\n.\x00\r\n",
    b"\n.\x00\n",
]
SMUGGLED = b"MAIL FROM:<evil@example.org>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\n"
HEAD = b"From: a@example.org\r\nSubject: hi\r\n\r\nbody"
TAIL = b"\r\n.\r\nQUIT\r\n"


def decoded(wire: bytes, **options: object) -> bytes:
    check = check_byte_codec(Data(**options), wire)  # type: ignore[arg-type]
    assert not check.errors and check.done, check
    return check.data


def test_unstuffs_and_ends_at_crlf_dot_crlf() -> None:
    assert decoded(b"a\r\n..b\r\n...\r\n.c\r\n.\r\n") == b"a\r\n.b\r\n..\r\nc\r\n"


def test_empty_message_is_a_lone_dot_line() -> None:
    assert decoded(b".\r\n") == b""


def test_next_command_stays_in_the_source() -> None:
    check = check_byte_codec(Data(), b"hello\r\n.\r\nMAIL FROM:<x>\r\n")
    assert check.done and check.leftover == b"MAIL FROM:<x>\r\n"


@pytest.mark.parametrize("variant", SMUGGLING)
def test_smuggling_end_of_data_is_malformed_under_reject_or_not_an_end(variant: bytes) -> None:
    wire = HEAD + variant + SMUGGLED + TAIL
    check = check_byte_codec(Data(), wire)
    if any(byte in variant for byte in b"\r\n") and (
        variant.replace(b"\r\n", b"").count(b"\r") or variant.replace(b"\r\n", b"").count(b"\n")
    ):
        assert [type(e) for e in check.errors] == [MalformedError]
        assert not check.done
        lone = wire.replace(b"\r\n", b"..").find(b"\r")
        lone_lf = wire.replace(b"\r\n", b"..").find(b"\n")
        first = min(i for i in (lone, lone_lf) if i >= 0)
        assert check.errors[0].offset == first
    else:
        assert check.done and check.leftover == b"QUIT\r\n"
        assert SMUGGLED in check.data


@pytest.mark.parametrize("policy", ["normalize", "pass"])
@pytest.mark.parametrize("variant", SMUGGLING)
def test_smuggling_end_of_data_never_ends_the_message(policy: str, variant: bytes) -> None:
    check = check_byte_codec(Data(policy=policy), HEAD + variant + SMUGGLED + TAIL)  # type: ignore[arg-type]
    assert not check.errors and check.done
    assert check.leftover == b"QUIT\r\n"
    assert SMUGGLED in check.data


@pytest.mark.parametrize("variant", SMUGGLING)
def test_smuggling_without_a_real_end_is_truncated_under_pass(variant: bytes) -> None:
    check = check_byte_codec(Data(policy="pass"), HEAD + variant + SMUGGLED)
    assert [type(e) for e in check.errors] == [TruncatedError] and not check.done


def test_normalize_writes_lone_cr_and_lf_as_crlf() -> None:
    assert decoded(b"a\nb\rc\r\r\nd\r\n.\r\n", policy="normalize") == b"a\r\nb\r\nc\r\n\r\nd\r\n"


def test_pass_writes_lone_cr_and_lf_as_they_came() -> None:
    assert decoded(b"a\nb\rc\r\n.\r\n", policy="pass") == b"a\nb\rc\r\n"


def test_line_after_a_lone_lf_is_not_unstuffed() -> None:
    assert decoded(b"a\n..b\r\n.\r\n", policy="pass") == b"a\n..b\r\n"


def test_line_at_the_limit_and_one_over() -> None:
    line = b"x" * 998 + b"\r\n"  # 1000 with its CRLF
    assert decoded(line + b".\r\n") == line
    assert decoded(b"." + line + b".\r\n") == line  # the stuffing dot is not counted
    check = check_byte_codec(Data(), b"ok\r\nx" + line + b".\r\n")
    assert [(type(e), e.offset) for e in check.errors] == [(LineTooLong, 4)]


def test_line_limit_is_an_option() -> None:
    assert decoded(b"abc\r\n.\r\n", max_line_length=5) == b"abc\r\n"
    check = check_byte_codec(Data(max_line_length=5), b"abcd\r\n.\r\n")
    assert [(type(e), e.offset) for e in check.errors] == [(LineTooLong, 0)]


def test_message_at_the_limit_and_one_over() -> None:
    body = b"abcd\r\n" * 10
    assert decoded(body + b".\r\n", max_message=60) == body
    check = check_byte_codec(Data(max_message=59), body + b".\r\n")
    assert [(type(e), e.offset) for e in check.errors] == [(LimitExceededError, 59)]
    assert check.data == body[:58]  # a line ending is written whole or not at all


def test_eof_before_the_end_is_truncated() -> None:
    for wire in (b"", b"abc", b"abc\r\n", b"abc\r\n.", b"abc\r\n.\r"):
        check = check_byte_codec(Data(), wire)
        assert [type(e) for e in check.errors] == [TruncatedError], wire


def test_layer_streams_the_message_and_leaves_the_next_command() -> None:
    async def main() -> None:
        root = framekit.StreamReader()
        body = layer = root.layer(Data())
        root.feed_data(b"line one\r\n..dotted\r\n")
        assert await body.readline() == b"line one\r\n"  # before the end has come
        root.feed_data(b".\r\nQUIT\r\n")
        assert await layer.read() == b".dotted\r\n"
        assert await root.readline() == b"QUIT\r\n"

    asyncio.run(main())


def test_encoder_stuffs_and_ends_with_crlf_dot_crlf() -> None:
    encoder = Data().encoder()
    assert encoder.feed(b".a\r\n.b\r\nc") + encoder.finish() == b"..a\r\n..b\r\nc\r\n.\r\n"


def test_encoder_of_a_message_ending_in_crlf_adds_only_the_dot() -> None:
    encoder = Data().encoder()
    assert encoder.feed(b"a\r\n") + encoder.finish() == b"a\r\n.\r\n"


def test_encoder_of_an_empty_message() -> None:
    assert Data().encoder().finish() == b".\r\n"


@pytest.mark.parametrize("message", [b"a\nb", b"a\rb", b"a\r\r\nb", b"\n", b"a\r"])
def test_strict_encoder_refuses_a_lone_cr_or_lf(message: bytes) -> None:
    encoder = Data().encoder()
    with pytest.raises(ValueError, match="lone"):
        encoder.feed(message)
        encoder.finish()


def test_normalize_encoder_makes_every_line_end_crlf() -> None:
    encoder = Data(encode_policy="normalize").encoder()
    wire = encoder.feed(b"a\nb\rc\r\r\n.d") + encoder.finish()
    assert wire == b"a\r\nb\r\nc\r\n\r\n..d\r\n.\r\n"


def test_encoder_streams_a_line_and_a_crlf_split_across_pieces() -> None:
    encoder = Data().encoder()
    pieces = [b"ab", b"c\r", b"\n", b".", b"d\r\n", b"", b"..\r", b"\n"]
    wire = b"".join(encoder.feed(p) for p in pieces) + encoder.finish()
    assert wire == b"abc\r\n..d\r\n...\r\n.\r\n"


@pytest.mark.parametrize("policy", ["strict", "normalize"])
def test_encoder_never_writes_a_lone_cr_or_lf(policy: str) -> None:
    encoder = Data(encode_policy=policy).encoder()  # type: ignore[arg-type]
    wire = b""
    for piece in [b"a\r\n", b"b\r", b"\nc"]:
        wire += encoder.feed(piece)
    wire += encoder.finish()
    assert wire.count(b"\r") == wire.count(b"\n") == wire.count(b"\r\n")


line_st = st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
dotty = st.one_of(line_st, line_st.map(lambda b: b"." + b), st.just(b"."), st.just(b".."))
messages = st.lists(dotty, max_size=12).map(lambda lines: b"".join(x + b"\r\n" for x in lines))


@settings(max_examples=80, deadline=None)
@given(message=messages, data=st.data())
def test_round_trip_of_any_message_under_any_split(message: bytes, data: st.DataObject) -> None:
    cuts = data.draw(splits_of(message))
    pieces = [message[a:b] for a, b in zip((0, *cuts), (*cuts, len(message)), strict=True)]
    encoder = Data().encoder()
    wire = b"".join(encoder.feed(p) for p in pieces) + encoder.finish()
    assert_bytes_round_trip(Data(), pieces, splits=[data.draw(splits_of(wire))])


@settings(max_examples=80, deadline=None)
@given(
    variant=st.sampled_from(SMUGGLING),
    policy=st.sampled_from(["reject", "normalize", "pass"]),
    data=st.data(),
)
def test_no_split_makes_a_smuggling_variant_end_the_message(
    variant: bytes, policy: str, data: st.DataObject
) -> None:
    wire = HEAD + variant + SMUGGLED + TAIL
    check = check_byte_codec(Data(policy=policy), wire, splits=[data.draw(splits_of(wire))])  # type: ignore[arg-type]
    if check.done:
        assert check.leftover == b"QUIT\r\n" and SMUGGLED in check.data
    else:
        assert policy == "reject" and [type(e) for e in check.errors] == [MalformedError]


noise = st.lists(
    st.sampled_from([b"\r", b"\n", b".", b"\r\n", b"a", b"\x00", b"\r\n.\r\n"]), max_size=16
).map(b"".join)


@settings(max_examples=100, deadline=None)
@given(wire=noise, policy=st.sampled_from(["reject", "normalize", "pass"]), data=st.data())
def test_any_split_of_any_bytes_gives_the_same_message_and_errors(
    wire: bytes, policy: str, data: st.DataObject
) -> None:
    check = check_byte_codec(
        Data(policy=policy, max_line_length=6, max_message=12),  # type: ignore[arg-type]
        wire,
        splits=[data.draw(splits_of(wire))],
    )
    if check.done:
        before = wire[: len(wire) - len(check.leftover)]
        assert before.endswith(b"\r\n.\r\n") or before == b".\r\n"


def test_bytes_before_a_limit_are_written_whatever_the_budget() -> None:
    # Found by the fast-path comparison: a budget of 1 wrote them, a whole read did not.
    check = check_byte_codec(Data(max_line_length=8), b"abcxxxxxxx")
    assert check.data == b"abcxxxxx"
    assert [(type(e), e.offset) for e in check.errors] == [(LineTooLong, 0)]
    check = check_byte_codec(Data(max_message=5), b"abcdefg\r\n.\r\n")
    assert check.data == b"abcde"
    assert [(type(e), e.offset) for e in check.errors] == [(LimitExceededError, 5)]
