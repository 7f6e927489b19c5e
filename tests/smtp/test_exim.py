"""framekit's SMTP codecs (through examples/smtp_client.py) against Exim: EHLO, PIPELINING,
dot lines, 8BITMIME, 10 MB, BDAT, STARTTLS; every stored message byte-identical to the sent."""

from __future__ import annotations

import socket

import pytest

from framekit.codecs.smtp import Command, Commands, Replies, parse_ehlo
from framekit.connection import open_connection
from tests.smtp.conftest import Exim, Mailbox, Tls, load_example

client_module = load_example("smtp_client")
SmtpClient = client_module.SmtpClient
pieces = client_module.pieces

SENDER = "sender@framekit.test"
RECIPIENT = "rcpt@framekit.test"
MESSAGE = (
    b"From: sender@framekit.test\r\n"
    b"To: rcpt@framekit.test\r\n"
    b"Subject: dots\r\n"
    b"\r\n"
    b".a line starting with a dot\r\n"
    b"..two dots\r\n"
    b".\r\n"
    b"middle\r\n"
    b". \r\n"
)


def big_message(size: int) -> bytes:
    head = b"From: sender@framekit.test\r\nTo: rcpt@framekit.test\r\nSubject: big\r\n\r\n"
    lines = []
    total = len(head)
    i = 0
    while total < size:
        line = (b"." if i % 7 == 0 else b"") + b"line %d " % i + b"x" * (i % 70) + b"\r\n"
        lines.append(line)
        total += len(line)
        i += 1
    return head + b"".join(lines)


async def send(
    exim: Exim, message: bytes, *, bdat: bool, tls: Tls | None = None, size: int = 1 << 20
) -> None:
    context = tls.client_context() if tls is not None else None
    client = await SmtpClient.connect(
        "127.0.0.1", exim.port, name="client.framekit.test", tls=context
    )
    if tls is not None:
        assert client.writer.get_extra_info("ssl_object") is not None
    reply = await client.send(SENDER, [RECIPIENT], pieces(message, size), bdat=bdat)
    assert reply.code == 250
    await client.quit()


async def test_ehlo_reply_is_multi_line_with_the_extensions(exim: Exim) -> None:
    client = await SmtpClient.connect("127.0.0.1", exim.port, name="client.framekit.test")
    for keyword in ("PIPELINING", "CHUNKING", "8BITMIME", "STARTTLS", "SIZE"):
        assert client.ehlo.supports(keyword), client.ehlo
    assert client.ehlo.domain == "mx.framekit.test"
    assert client.ehlo.extensions["SIZE"] == ("52428800",)
    await client.quit()


async def test_pipelined_commands_get_their_replies_in_order(exim: Exim) -> None:
    reader, writer = await open_connection("127.0.0.1", exim.port)
    replies = reader.frames(Replies())
    commands = Commands().encoder()
    assert (await replies.read()).code == 220
    writer.write(commands.encode(Command(b"EHLO", b"client.framekit.test")))
    assert parse_ehlo(await replies.read()).supports("PIPELINING")
    batch = [
        Command(b"MAIL", b"FROM:<%s>" % SENDER.encode()),
        Command(b"RCPT", b"TO:<%s>" % RECIPIENT.encode()),
        Command(b"RCPT", b"TO:<someone@elsewhere.example>"),
        Command(b"RSET"),
        Command(b"NOOP"),
    ]
    writer.write(b"".join(commands.encode(c) for c in batch))
    codes = [(await replies.read()).code for _ in batch]
    assert codes == [250, 250, 550, 250, 250]  # the relay attempt refused
    writer.write(commands.encode(Command(b"QUIT")))
    assert (await replies.read()).code == 221
    writer.close()


async def test_dot_lines_via_data_are_stored_byte_identical(exim: Exim, exim_mail: Mailbox) -> None:
    await send(exim, MESSAGE, bdat=False, size=7)
    assert exim_mail.wait_for(1) == [MESSAGE]


async def test_dot_lines_via_bdat_are_stored_byte_identical(exim: Exim, exim_mail: Mailbox) -> None:
    await send(exim, MESSAGE, bdat=True, size=13)  # several BDAT chunks
    assert exim_mail.wait_for(1) == [MESSAGE]


async def test_8bit_message_is_stored_byte_identical(exim: Exim, exim_mail: Mailbox) -> None:
    message = MESSAGE + "Grüße, ½ €\r\n".encode() + bytes(range(0x80, 0x100)) + b"\r\n"
    await send(exim, message, bdat=False)
    assert exim_mail.wait_for(1) == [message]


@pytest.mark.parametrize("bdat", [False, True], ids=["data", "bdat"])
async def test_10_mb_message_is_stored_byte_identical(
    exim: Exim, exim_mail: Mailbox, bdat: bool
) -> None:
    message = big_message(10 * 1024 * 1024)
    await send(exim, message, bdat=bdat, size=65536)
    assert exim_mail.wait_for(1, timeout=60) == [message]


@pytest.mark.parametrize("bdat", [False, True], ids=["data", "bdat"])
async def test_starttls_keeps_the_reader_and_the_message_is_identical(
    exim: Exim, exim_mail: Mailbox, tls: Tls, bdat: bool
) -> None:
    await send(exim, MESSAGE, bdat=bdat, tls=tls)
    assert exim_mail.wait_for(1) == [MESSAGE]


async def test_client_refuses_to_send_a_smuggling_end_of_data(exim: Exim) -> None:
    client = await SmtpClient.connect("127.0.0.1", exim.port, name="client.framekit.test")
    smuggling = b"Subject: x\r\n\r\nhi\n.\nMAIL FROM:<evil@framekit.test>\r\n"
    with pytest.raises(ValueError, match="lone LF"):
        await client.send(SENDER, [RECIPIENT], [smuggling], bdat=False)
    client.writer.close()


def test_the_distributions_own_exim_does_not_listen(exim: Exim) -> None:
    # Installing exim4-daemon-light must not leave Debian's service on port 25.
    try:
        with socket.create_connection(("127.0.0.1", 25), timeout=2) as sock:
            banner = sock.recv(512)
    except OSError:
        return
    assert b"Exim" not in banner, banner
