"""SMTP commands: the encoder refuses injection and long lines; the decoder reads strict lines."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framekit.codecs.smtp import Command, Commands
from framekit.errors import LineTooLong, MalformedError, TruncatedError
from framekit.testing import assert_round_trip, check_frame_codec, encoded, splits_of


@pytest.mark.parametrize(
    "command",
    [
        Command(b"MAIL", b"FROM:<a@example.org>\r\nRCPT TO:<b@example.org>"),
        Command(b"RCPT", b"TO:<b@example.org>\n"),
        Command(b"HELO", b"a\rb"),
        Command(b"HELO", b"a\x00b"),
        Command(b"HE\nLO"),
    ],
)
def test_encoder_refuses_cr_lf_and_nul(command: Command) -> None:
    with pytest.raises(ValueError, match="injection"):
        Commands().encoder().encode(command)


def test_encoder_writes_verb_space_argument_crlf() -> None:
    encoder = Commands().encoder()
    assert encoder.encode(Command(b"MAIL", b"FROM:<a@b>")) == b"MAIL FROM:<a@b>\r\n"
    assert encoder.encode(Command(b"DATA")) == b"DATA\r\n"


def test_command_line_of_512_bytes_and_one_over() -> None:
    encoder = Commands().encoder()
    argument = b"x" * (512 - len(b"HELO \r\n"))
    assert len(encoder.encode(Command(b"HELO", argument))) == 512
    with pytest.raises(ValueError, match="512"):
        encoder.encode(Command(b"HELO", argument + b"x"))


def test_decoder_upper_cases_the_verb() -> None:
    check = check_frame_codec(Commands(), b"ehlo client\r\nQuit\r\n")
    assert check.frames == [Command(b"EHLO", b"client"), Command(b"QUIT")]


def test_decoder_skips_bad_lines_and_goes_on() -> None:
    wire = b"NOOP\r\n\r\nA\nB\r\nBAD!\r\nx\x00\r\n" + b"N" * 600 + b"\r\nQUIT\r\n"
    check = check_frame_codec(Commands(), wire)
    assert check.frames == [Command(b"NOOP"), Command(b"QUIT")]
    assert [(type(e), e.offset) for e in check.errors] == [
        (MalformedError, 6),
        (MalformedError, 9),
        (MalformedError, 16),
        (MalformedError, 20),
        (LineTooLong, 23),
    ]


def test_decoder_eof_inside_a_line_is_truncated() -> None:
    check = check_frame_codec(Commands(), b"QUIT\r\nNO")
    assert [type(e) for e in check.errors] == [TruncatedError]


argument = st.binary(max_size=30).filter(lambda b: not any(c in b for c in b"\r\n\x00"))
commands = st.builds(Command, st.sampled_from([b"EHLO", b"MAIL", b"RCPT", b"DATA"]), argument)


@settings(max_examples=50, deadline=None)
@given(drawn=encoded(Commands(), commands, max_frames=6), data=st.data())
def test_round_trip_under_any_split(
    drawn: tuple[list[Command], bytes], data: st.DataObject
) -> None:
    frames, wire = drawn
    check = check_frame_codec(Commands(), wire, splits=[data.draw(splits_of(wire))])
    assert check.frames == frames


def test_round_trip() -> None:
    assert_round_trip(Commands(), [Command(b"EHLO", b"me"), Command(b"QUIT")])


def test_errors_name_the_command_codecs_own_limit_and_rule() -> None:
    check = check_frame_codec(Commands(max_line_length=20), b"HELO " + b"x" * 20 + b"\r\nA\rB\r\n")
    too_long, bare_cr = check.errors
    assert isinstance(too_long, LineTooLong) and too_long.limit == 20
    assert "max_line_length=20" in str(too_long) and "RFC 5321" in str(too_long)
    assert isinstance(bare_cr, MalformedError) and "RFC 5321" in str(bare_cr)
