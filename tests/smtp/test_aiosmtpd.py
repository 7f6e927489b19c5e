"""framekit's SMTP codecs (through examples/smtp_client.py) against aiosmtpd: multi-line EHLO,
dot lines, 8BITMIME, 10 MB, STARTTLS; every stored message byte-identical to the sent."""

from __future__ import annotations

import pytest

from tests.smtp.conftest import Aiosmtpd, Tls, load_example
from tests.smtp.test_exim import MESSAGE, RECIPIENT, SENDER, big_message

client_module = load_example("smtp_client")


async def send(
    server: Aiosmtpd, message: bytes, *, tls: Tls | None = None, size: int = 1 << 20
) -> None:
    context = tls.client_context() if tls is not None else None
    client = await client_module.SmtpClient.connect("127.0.0.1", server.port, tls=context)
    if tls is not None:
        assert client.writer.get_extra_info("ssl_object") is not None
    assert not client.ehlo.supports("CHUNKING")  # aiosmtpd has no BDAT: DATA it is
    reply = await client.send(SENDER, [RECIPIENT], client_module.pieces(message, size))
    assert reply.code == 250
    await client.quit()


async def test_ehlo_reply_is_multi_line(aiosmtpd_server: Aiosmtpd) -> None:
    client = await client_module.SmtpClient.connect("127.0.0.1", aiosmtpd_server.port)
    assert client.ehlo.supports("8BITMIME") and client.ehlo.supports("STARTTLS")
    assert client.ehlo.extensions["SIZE"] == (str(32 * 1024 * 1024),)
    await client.quit()


async def test_dot_lines_are_stored_byte_identical(aiosmtpd_server: Aiosmtpd) -> None:
    await send(aiosmtpd_server, MESSAGE, size=5)
    assert aiosmtpd_server.mailbox.wait_for(1) == [MESSAGE]


async def test_8bit_message_is_stored_byte_identical(aiosmtpd_server: Aiosmtpd) -> None:
    message = MESSAGE + "Grüße, ½ €\r\n".encode() + bytes(range(0x80, 0x100)) + b"\r\n"
    await send(aiosmtpd_server, message)
    assert aiosmtpd_server.mailbox.wait_for(1) == [message]


async def test_10_mb_message_is_stored_byte_identical(aiosmtpd_server: Aiosmtpd) -> None:
    message = big_message(10 * 1024 * 1024)
    await send(aiosmtpd_server, message, size=65536)
    assert aiosmtpd_server.mailbox.wait_for(1, timeout=60) == [message]


async def test_starttls_keeps_the_reader(aiosmtpd_server: Aiosmtpd, tls: Tls) -> None:
    await send(aiosmtpd_server, MESSAGE, tls=tls)
    assert aiosmtpd_server.mailbox.wait_for(1) == [MESSAGE]


async def test_refused_recipient_is_an_error_reply(aiosmtpd_server: Aiosmtpd) -> None:
    client = await client_module.SmtpClient.connect("127.0.0.1", aiosmtpd_server.port)
    with pytest.raises(client_module.SmtpError) as caught:
        await client.send(SENDER, ["someone@elsewhere.example"], [MESSAGE])
    assert caught.value.reply.code == 550 and caught.value.reply.enhanced == (5, 7, 1)
    client.writer.close()
