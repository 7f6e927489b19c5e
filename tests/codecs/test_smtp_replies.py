"""SMTP replies: RFC 5321 4.2 grammar, same code on every line, enhanced codes, limits, EHLO."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framekit.codecs.smtp import RFC_MAX_REPLY_LINE, Replies, Reply, parse_ehlo
from framekit.errors import LimitExceededError, MalformedError, TruncatedError
from framekit.testing import assert_round_trip, check_frame_codec, encoded, splits_of

EHLO = (
    b"250-mx.example.org Hello client [127.0.0.1]\r\n"
    b"250-SIZE 52428800\r\n"
    b"250-8BITMIME\r\n"
    b"250-PIPELINING\r\n"
    b"250-CHUNKING\r\n"
    b"250-STARTTLS\r\n"
    b"250 HELP\r\n"
)


def only_error(wire: bytes, codec: Replies | None = None) -> tuple[type[Exception], int | None]:
    check = check_frame_codec(codec or Replies(), wire)
    assert len(check.errors) == 1, check.results
    return type(check.errors[0]), check.errors[0].offset


def test_single_line_reply() -> None:
    check = check_frame_codec(Replies(), b"220 mx.example.org ESMTP ready\r\n")
    assert check.frames == [Reply(220, (b"mx.example.org ESMTP ready",))]


def test_bare_code_is_a_last_line_with_no_text() -> None:
    assert check_frame_codec(Replies(), b"250\r\n").frames == [Reply(250, (b"",))]


def test_multi_line_reply_is_one_frame() -> None:
    (reply,) = check_frame_codec(Replies(), EHLO).frames
    assert reply.code == 250 and len(reply.lines) == 7
    assert reply.lines[1] == b"SIZE 52428800"


def test_pipelined_replies_in_one_read_are_several_frames() -> None:
    wire = b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
    frames = check_frame_codec(Replies(), wire).frames
    assert [r.code for r in frames] == [250, 250, 354]


def test_multi_line_text_after_dash_may_start_with_a_space() -> None:
    # Exim's BDAT LAST reply.
    wire = b"250- 238 byte chunk, total 338\r\n250 OK id=1abc\r\n"
    (reply,) = check_frame_codec(Replies(), wire).frames
    assert reply.lines == (b" 238 byte chunk, total 338", b"OK id=1abc")


@pytest.mark.parametrize(
    ("wire", "offset"),
    [
        (b"2500 ok\r\n", 3),  # a fourth digit
        (b"250Xok\r\n", 3),
        (b"+25 ok\r\n", 0),
        (b" 250 ok\r\n", 0),
        (b"650 ok\r\n", 0),
        (b"160 ok\r\n", 0),
        (b"260 ok\r\n", 1),
        (b"25O ok\r\n", 2),
        (b"25\r\n", 2),
        (b"\r\n", 0),
    ],
)
def test_reply_code_outside_the_grammar_is_malformed(wire: bytes, offset: int) -> None:
    assert only_error(wire) == (MalformedError, offset)


def test_lines_with_different_codes_are_malformed() -> None:
    assert only_error(b"250-first\r\n251 second\r\n") == (MalformedError, 11)


def test_bare_lf_is_malformed_by_default() -> None:
    assert only_error(b"250-a\r\n250 b\n") == (MalformedError, 12)


def test_bare_lf_is_a_line_end_when_tolerated() -> None:
    check = check_frame_codec(Replies(bare_lf=True), b"250-a\n250 b\r\n")
    assert check.frames == [Reply(250, (b"a", b"b"))]


def test_bare_cr_in_text_is_malformed_even_when_bare_lf_is_tolerated() -> None:
    assert only_error(b"250 a\rb\r\n", Replies(bare_lf=True)) == (MalformedError, 5)


def test_control_character_in_text_is_malformed() -> None:
    assert only_error(b"250 a\x00b\r\n") == (MalformedError, 5)


def test_utf8_text_is_allowed() -> None:
    assert check_frame_codec(Replies(), "250 größe\r\n".encode()).frames[0].code == 250


def test_enhanced_status_code_is_parsed_and_left_out_of_text() -> None:
    (reply,) = check_frame_codec(Replies(), b"550-5.1.1 No such user\r\n550 5.1.1 here\r\n").frames
    assert reply.enhanced == (5, 1, 1)
    assert reply.text == b"No such user\nhere"


def test_enhanced_status_code_of_another_class_is_malformed() -> None:
    assert only_error(b"250 5.1.0 Ok\r\n") == (MalformedError, 4)
    assert only_error(b"250-2.1.0 Ok\r\n250 4.1.0 Ok\r\n") == (MalformedError, 18)


def test_text_that_only_looks_like_an_enhanced_code_is_text() -> None:
    (reply,) = check_frame_codec(Replies(), b"220 5.5.5.5 ESMTP\r\n").frames
    assert reply.enhanced is None and reply.text == b"5.5.5.5 ESMTP"


def test_line_at_the_limit_is_read_and_one_over_is_too_long() -> None:
    line = b"250 " + b"x" * (RFC_MAX_REPLY_LINE - 6) + b"\r\n"
    assert len(line) == RFC_MAX_REPLY_LINE
    strict = Replies(max_line_length=RFC_MAX_REPLY_LINE)
    assert len(check_frame_codec(strict, line).frames) == 1
    over = b"250 x" + line[4:]
    assert only_error(over, strict) == (LimitExceededError, 0)


def test_default_line_limit_is_8192() -> None:
    line = b"250 " + b"x" * 8186 + b"\r\n"
    assert len(check_frame_codec(Replies(), line, splits=[()]).frames) == 1
    assert only_error(b"250 x" + line[4:]) == (LimitExceededError, 0)


def test_lines_per_reply_limit() -> None:
    wire = b"250-x\r\n" * 3 + b"250 x\r\n"
    assert len(check_frame_codec(Replies(max_lines=4), wire).frames) == 1
    assert only_error(wire, Replies(max_lines=3)) == (LimitExceededError, 0)


def test_bytes_per_reply_limit() -> None:
    wire = b"220 ok\r\n" + b"250-xx\r\n" * 3 + b"250 x\r\n"  # a 31-byte reply at 8
    assert len(check_frame_codec(Replies(max_reply_size=31), wire).frames) == 2
    check = check_frame_codec(Replies(max_reply_size=30), wire)
    assert check.frames == [Reply(220, (b"ok",))]
    assert [(type(e), e.offset) for e in check.errors] == [(LimitExceededError, 8)]


def test_errors_are_final() -> None:
    check = check_frame_codec(Replies(), b"250 ok\r\n2500\r\n250 ok\r\n")
    assert len(check.frames) == 1 and len(check.errors) == 1


def test_eof_inside_a_reply_is_truncated_at_its_first_byte() -> None:
    check = check_frame_codec(Replies(), b"250 ok\r\n250-more\r\n250 la")
    assert [(type(e), e.offset) for e in check.errors] == [(TruncatedError, 8)]


def test_ehlo_keywords_and_parameters() -> None:
    (reply,) = check_frame_codec(Replies(), EHLO).frames
    ehlo = parse_ehlo(reply)
    assert ehlo.domain == "mx.example.org"
    assert ehlo.extensions["SIZE"] == ("52428800",)
    assert ehlo.supports("chunking") and ehlo.supports("PIPELINING")
    assert not ehlo.supports("SMTPUTF8")


def test_ehlo_line_breaking_the_grammar_is_malformed() -> None:
    with pytest.raises(MalformedError):
        parse_ehlo(Reply(250, (b"mx", b"-BAD")))
    with pytest.raises(MalformedError):
        parse_ehlo(Reply(502, (b"no",)))


@pytest.mark.parametrize(
    "reply",
    [Reply(99, (b"x",)), Reply(250, ()), Reply(250, (b"a\r\nb",)), Reply(250, (b"5.0.0 x",))],
)
def test_encoder_refuses_what_the_decoder_would_refuse(reply: Reply) -> None:
    with pytest.raises(ValueError):
        Replies().encoder().encode(reply)


texts = st.binary(max_size=20).filter(lambda b: not any(c < 32 or c == 127 for c in b))
replies = st.builds(
    Reply,
    st.sampled_from([220, 221, 250, 251, 354, 421, 450, 500, 550, 554]),
    st.lists(texts, min_size=1, max_size=5).map(tuple),
).filter(lambda r: all(not t[:1].isdigit() for t in r.lines))


@settings(max_examples=60, deadline=None)
@given(drawn=encoded(Replies(), replies, max_frames=6), data=st.data())
def test_any_split_gives_the_same_replies_and_round_trips(
    drawn: tuple[list[Reply], bytes], data: st.DataObject
) -> None:
    frames, wire = drawn
    check = check_frame_codec(Replies(), wire, splits=[data.draw(splits_of(wire))])
    assert check.frames == frames and not check.errors


reply_noise = st.lists(
    st.sampled_from([b"250", b"-", b" ", b"\r\n", b"\n", b"x", b"2.0.0"]), max_size=12
).map(b"".join)


@settings(max_examples=60, deadline=None)
@given(wire=reply_noise, data=st.data())
def test_any_split_of_any_bytes_gives_the_same_replies_and_errors(
    wire: bytes, data: st.DataObject
) -> None:
    check_frame_codec(Replies(), wire, splits=[data.draw(splits_of(wire))])


def test_round_trip() -> None:
    assert_round_trip(Replies(), [Reply(250, (b"a", b"", b"2.0.0 b")), Reply(354, (b"go",))])


def test_encoder_refuses_a_reply_over_max_reply_size() -> None:
    codec = Replies(max_reply_size=21)
    assert codec.encoder().encode(Reply(250, (b"a", b"b", b"c"))) == b"250-a\r\n250-b\r\n250 c\r\n"
    with pytest.raises(ValueError, match="max_reply_size"):
        codec.encoder().encode(Reply(250, (b"a", b"b", b"cd")))
