"""examples/smtp_server.py driven by aiosmtplib, smtplib and framekit's own client: mail stored
byte-identical, BDAT, STARTTLS, relaying refused, a smuggling attempt refused."""

from __future__ import annotations

import asyncio
import smtplib

import pytest

from framekit.codecs.smtp import Command, Commands, Replies
from framekit.connection import open_connection
from tests.smtp.conftest import ExampleServer, Tls, load_example
from tests.smtp.test_exim import MESSAGE, RECIPIENT, SENDER, big_message

client_module = load_example("smtp_client")


async def test_aiosmtplib_message_is_stored_byte_identical(example_server: ExampleServer) -> None:
    aiosmtplib = pytest.importorskip("aiosmtplib")
    await aiosmtplib.send(
        MESSAGE, sender=SENDER, recipients=[RECIPIENT], hostname="127.0.0.1",
        port=example_server.port, start_tls=False,
    )  # fmt: skip
    assert example_server.mailbox.wait_for(1) == [MESSAGE]


async def test_aiosmtplib_over_starttls(example_server: ExampleServer, tls: Tls) -> None:
    aiosmtplib = pytest.importorskip("aiosmtplib")
    await aiosmtplib.send(
        MESSAGE, sender=SENDER, recipients=[RECIPIENT], hostname="127.0.0.1",
        port=example_server.port, start_tls=True, tls_context=tls.client_context(),
    )  # fmt: skip
    assert example_server.mailbox.wait_for(1) == [MESSAGE]


def _smtplib_send(port: int, message: bytes) -> dict[str, tuple[int, bytes]]:
    with smtplib.SMTP("127.0.0.1", port) as client:
        return client.sendmail(SENDER, [RECIPIENT], message)


async def test_smtplib_message_is_stored_byte_identical(example_server: ExampleServer) -> None:
    message = big_message(2 * 1024 * 1024)
    assert await asyncio.to_thread(_smtplib_send, example_server.port, message) == {}
    assert example_server.mailbox.wait_for(1) == [message]


@pytest.mark.parametrize("bdat", [False, True], ids=["data", "bdat"])
async def test_framekit_client_message_is_stored_byte_identical(
    example_server: ExampleServer, tls: Tls, bdat: bool
) -> None:
    client = await client_module.SmtpClient.connect(
        "127.0.0.1", example_server.port, tls=tls.client_context()
    )
    assert client.writer.get_extra_info("ssl_object") is not None
    assert client.ehlo.supports("CHUNKING") and client.ehlo.supports("PIPELINING")
    reply = await client.send(SENDER, [RECIPIENT], client_module.pieces(MESSAGE, 9), bdat=bdat)
    assert reply.code == 250
    await client.quit()
    assert example_server.mailbox.wait_for(1) == [MESSAGE]


async def test_relaying_is_refused(example_server: ExampleServer) -> None:
    client = await client_module.SmtpClient.connect("127.0.0.1", example_server.port)
    with pytest.raises(client_module.SmtpError) as caught:
        await client.send(SENDER, ["someone@elsewhere.example"], [MESSAGE])
    assert caught.value.reply.code == 550
    client.writer.close()


@pytest.mark.parametrize("end", [b"\n.\n", b"\n.\r\n", b"\r\n.\n", b"\r.\r\n"])
async def test_smuggling_attempt_is_refused_and_nothing_is_stored(
    example_server: ExampleServer, end: bytes
) -> None:
    reader, writer = await open_connection("127.0.0.1", example_server.port)
    replies = reader.frames(Replies())
    commands = Commands().encoder()
    assert (await replies.read()).code == 220
    envelope = [
        Command(b"EHLO", b"client"),
        Command(b"MAIL", b"FROM:<%s>" % SENDER.encode()),
        Command(b"RCPT", b"TO:<%s>" % RECIPIENT.encode()),
        Command(b"DATA"),
    ]
    writer.write(b"".join(commands.encode(c) for c in envelope))
    assert [(await replies.read()).code for _ in envelope] == [250, 250, 250, 354]
    smuggled = (
        b"MAIL FROM:<evil@framekit.test>\r\nRCPT TO:<%s>\r\nDATA\r\nSubject: smuggled\r\n"
        % RECIPIENT.encode()
    )
    writer.write(b"Subject: hi\r\n\r\nhi" + end + smuggled + b"\r\n.\r\nQUIT\r\n")
    reply = await replies.read()
    assert reply.code == 550 and b"bare" in reply.text
    assert await reader.read() == b""  # the server hung up: no command was read from the body
    writer.close()
    assert list(example_server.mailbox.folder.iterdir()) == []


async def test_oversized_bdat_chunk_is_consumed_and_the_session_goes_on(
    example_server: ExampleServer,
) -> None:
    reader, writer = await open_connection("127.0.0.1", example_server.port)
    replies = reader.frames(Replies())
    assert (await replies.read()).code == 220
    size = 32 * 1024 * 1024 + 1
    writer.write(b"EHLO c\r\nMAIL FROM:<a@framekit.test>\r\nRCPT TO:<b@framekit.test>\r\n")
    writer.write(b"BDAT %d LAST\r\n" % size)
    chunk = b"x" * (1 << 20)
    for start in range(0, size, len(chunk)):
        writer.write(chunk[: size - start])
        await writer.drain()
    writer.write(b"NOOP\r\n")
    codes = [(await replies.read()).code for _ in range(5)]
    assert codes == [250, 250, 250, 552, 250]
    writer.close()
