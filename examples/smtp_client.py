"""An SMTP client on framekit: EHLO, STARTTLS, PIPELINING, DATA or BDAT, error replies.

    python examples/smtp_client.py HOST PORT FROM TO < message.eml

One reader is kept for the whole connection, across STARTTLS too: replies are frames of
``Replies()`` (strict RFC 5321: ``2500`` or a reply whose lines change code is an error, not a
guess), commands are written by ``Commands()``'s encoder (a CR or LF in an address is refused:
no command injection), and the message goes out dot-stuffed by ``Data()``'s strict encoder (a
lone CR or LF is refused: it cannot smuggle a second message) or, when the server offers
CHUNKING, as BDAT chunks, byte for byte.
"""

from __future__ import annotations

import asyncio
import ssl
import sys
from collections.abc import Iterable
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent
if (_CHECKOUT / "framekit").is_dir():
    sys.path.insert(0, str(_CHECKOUT))

from framekit.codecs import smtp  # noqa: E402
from framekit.connection import StreamWriter, open_connection  # noqa: E402

CHUNK = 1 << 20  # BDAT chunk size, and the size of the pieces DATA is encoded in


class SmtpError(Exception):
    """The server refused a command; ``reply`` is its answer."""

    def __init__(self, command: bytes, reply: smtp.Reply) -> None:
        super().__init__(f"{command.decode()}: {reply.code} {reply.text.decode(errors='replace')}")
        self.reply = reply


class SmtpClient:
    """One SMTP session. ``await SmtpClient.connect(...)``, then ``send``, then ``quit``."""

    def __init__(self, writer: StreamWriter, host: str) -> None:
        self.replies = writer.reader.frames(smtp.Replies())  # kept across STARTTLS
        self.writer = writer
        self.host = host
        self.commands = smtp.Commands(max_line_length=2048).encoder()  # room for SIZE, AUTH ...
        self.ehlo = smtp.Ehlo("", "", {})

    @classmethod
    async def connect(
        cls, host: str, port: int, *, name: str = "localhost", tls: ssl.SSLContext | None = None
    ) -> SmtpClient:
        """Connect, read the greeting, EHLO; STARTTLS when ``tls`` is given and offered."""
        _, writer = await open_connection(host, port)
        client = cls(writer, host)
        await client.expect(b"(greeting)", await client.replies.read())
        await client.hello(name)
        if tls is not None and client.ehlo.supports("STARTTLS"):
            await client.call(b"STARTTLS")
            await writer.start_tls(tls, server_hostname=host)  # the same reader goes on
            await client.hello(name)  # RFC 3207: forget what was said in the clear
        return client

    async def hello(self, name: str) -> None:
        self.ehlo = smtp.parse_ehlo(await self.call(b"EHLO", name.encode()))

    async def call(self, verb: bytes, argument: bytes = b"") -> smtp.Reply:
        """Send one command, return its (positive) reply; SmtpError otherwise."""
        self.writer.write(self.commands.encode(smtp.Command(verb, argument)))
        return await self.expect(verb, await self.replies.read())

    async def expect(self, verb: bytes, reply: smtp.Reply) -> smtp.Reply:
        if not reply.is_positive:
            raise SmtpError(verb, reply)
        return reply

    async def send(
        self, sender: str, recipients: list[str], message: Iterable[bytes], *, bdat: bool = True
    ) -> smtp.Reply:
        """Send one message (its pieces), as BDAT chunks when offered (and ``bdat``), else
        with DATA; return the final reply. SmtpError when refused, ValueError for a message
        with a lone CR or LF sent with DATA."""
        body = b" BODY=8BITMIME" if self.ehlo.supports("8BITMIME") else b""
        envelope = [smtp.Command(b"MAIL", b"FROM:<%s>%s" % (sender.encode(), body))]
        envelope += [smtp.Command(b"RCPT", b"TO:<%s>" % r.encode()) for r in recipients]
        bdat = bdat and self.ehlo.supports("CHUNKING")
        if not bdat:
            envelope.append(smtp.Command(b"DATA"))
        if self.ehlo.supports("PIPELINING"):  # the whole envelope in one write
            self.writer.write(b"".join(self.commands.encode(c) for c in envelope))
            for command in envelope:
                await self.expect(command.verb, await self.replies.read())
        else:
            for command in envelope:
                await self.call(command.verb, command.argument)
        return await (self._bdat(message) if bdat else self._data(message))

    async def _data(self, message: Iterable[bytes]) -> smtp.Reply:
        encoder = smtp.Data().encoder()
        for piece in message:
            self.writer.write(encoder.feed(piece))
            await self.writer.drain()
        self.writer.write(encoder.finish())
        return await self.expect(b"DATA (end)", await self.replies.read())

    async def _bdat(self, message: Iterable[bytes]) -> smtp.Reply:
        encoder = smtp.Bdat().encoder()
        pipelining = self.ehlo.supports("PIPELINING")
        sent = 0
        for piece in message:
            for start in range(0, len(piece), CHUNK):
                self.writer.write(encoder.feed(piece[start : start + CHUNK]))
                await self.writer.drain()
                sent += 1
                if not pipelining:  # RFC 3030: wait for each chunk's reply
                    await self.expect(b"BDAT", await self.replies.read())
                    sent -= 1
        self.writer.write(encoder.finish())
        for _ in range(sent):
            await self.expect(b"BDAT", await self.replies.read())
        return await self.expect(b"BDAT LAST", await self.replies.read())

    async def quit(self) -> None:
        await self.call(b"QUIT")
        self.writer.close()
        await self.writer.wait_closed()


def pieces(data: bytes, size: int = CHUNK) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


async def main(host: str, port: int, sender: str, recipient: str) -> int:
    client = await SmtpClient.connect(host, port, tls=ssl.create_default_context())
    try:
        reply = await client.send(sender, [recipient], pieces(sys.stdin.buffer.read()))
    except SmtpError as error:
        print(error, file=sys.stderr)
        return 1
    print(reply.code, reply.text.decode(errors="replace"))
    await client.quit()
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 5:
        raise SystemExit(__doc__)
    raise SystemExit(asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4])))
