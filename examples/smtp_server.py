"""A small receiving SMTP server on framekit: EHLO, STARTTLS, MAIL, RCPT, DATA, BDAT, QUIT.

    python examples/smtp_server.py PORT MAILDIR [DOMAIN]

Mail for DOMAIN (default ``framekit.test``) is stored in MAILDIR, one file per message, byte
for byte as received; nothing is relayed. Commands are frames of ``Commands()`` (a bad line is
answered and skipped); the DATA body is read through a ``Data()`` layer, which ends only at
CRLF.CRLF and refuses a lone CR or LF (SMTP smuggling: the reply is 550, then the connection
is closed); BDAT chunks through a ``Bdat()`` layer, which takes exactly the bytes announced.
"""

from __future__ import annotations

import asyncio
import itertools
import ssl
import sys
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent
if (_CHECKOUT / "framekit").is_dir():
    sys.path.insert(0, str(_CHECKOUT))

from framekit.codecs import smtp  # noqa: E402
from framekit.connection import StreamWriter, start_server  # noqa: E402
from framekit.errors import EndOfStream, FramingError, LimitExceededError  # noqa: E402
from framekit.frames import FrameWriter  # noqa: E402
from framekit.reader import StreamReader  # noqa: E402

MAX_MESSAGE = 32 * 1024 * 1024
_serial = itertools.count(1)


class Session:
    """One connection: reads commands, answers them, stores the messages it accepts."""

    def __init__(self, reader: StreamReader, writer: StreamWriter, maildir: Path,
                 domain: str, tls: ssl.SSLContext | None) -> None:  # fmt: skip
        self.reader, self.writer, self.maildir = reader, writer, maildir
        self.domain, self.tls = domain, tls
        self.replies = FrameWriter(writer, smtp.Replies())
        self.reset()

    def reset(self, sender: bytes | None = None) -> None:
        """A new mail transaction (none, until MAIL gives its ``sender``)."""
        self.sender: bytes | None = sender
        self.recipients: list[bytes] = []
        self.chunks: list[bytes] = []  # BDAT chunks before the LAST one

    def reply(self, code: int, *lines: str) -> None:
        self.replies.write(smtp.Reply(code, tuple(line.encode() for line in lines)))

    async def run(self) -> None:
        commands = self.reader.frames(smtp.Commands())
        self.reply(220, f"mx.{self.domain} ESMTP framekit")
        while True:
            await self.replies.drain()
            try:
                command = await commands.read()
            except EndOfStream:
                return
            except FramingError as error:  # the line was skipped: answer and go on
                self.reply(500, f"5.5.2 {error.message}")
                continue
            handler = getattr(self, "do_" + command.verb.decode(), None)
            if handler is None:
                self.reply(502, "5.5.1 command not implemented")
            elif await handler(command) is False:
                await self.replies.drain()
                return  # the connection is closed by start_server

    async def do_EHLO(self, command: smtp.Command) -> None:
        self.reset()
        extensions = ["PIPELINING", "8BITMIME", "CHUNKING", f"SIZE {MAX_MESSAGE}"]
        if self.tls is not None and self.writer.get_extra_info("ssl_object") is None:
            extensions.append("STARTTLS")
        self.reply(250, f"mx.{self.domain} hello {command.argument.decode(errors='replace')}",
                   *extensions)  # fmt: skip

    async def do_STARTTLS(self, command: smtp.Command) -> None:
        if self.tls is None or self.writer.get_extra_info("ssl_object") is not None:
            return self.reply(503, "5.5.1 TLS not available")
        self.reply(220, "2.0.0 go ahead")
        await self.replies.drain()
        await self.writer.start_tls(self.tls)  # the same reader (and command frames) go on
        self.reset()

    async def do_MAIL(self, command: smtp.Command) -> None:
        address = _address(command.argument, b"FROM:")
        if address is None:
            return self.reply(501, "5.5.4 syntax: MAIL FROM:<address>")
        self.reset(address)
        self.reply(250, "2.1.0 sender ok")

    async def do_RCPT(self, command: smtp.Command) -> None:
        address = _address(command.argument, b"TO:")
        if self.sender is None:
            return self.reply(503, "5.5.1 MAIL first")
        if address is None or not address.lower().endswith(b"@" + self.domain.encode()):
            return self.reply(550, "5.7.1 relaying denied")
        self.recipients.append(address)
        self.reply(250, "2.1.5 recipient ok")

    async def do_DATA(self, command: smtp.Command) -> bool:
        if not self.recipients:
            self.reply(503, "5.5.1 RCPT first")
            return True
        self.reply(354, "end data with <CR><LF>.<CR><LF>")
        await self.replies.drain()
        return await self.receive(self.reader.layer(smtp.Data(max_message=MAX_MESSAGE)), bdat=False)

    async def do_BDAT(self, command: smtp.Command) -> bool:
        try:
            size, last = smtp.parse_bdat(command.argument)
        except FramingError:
            self.reply(501, "5.5.4 syntax: BDAT size [LAST]")
            return False  # the size is unknown: the rest of the stream cannot be read
        # One chunk per command (taken as the last of this layer, so it stops after it),
        # even when it is refused: RFC 3030 wants its bytes read all the same.
        room = MAX_MESSAGE - sum(map(len, self.chunks))
        body = self.reader.layer(smtp.Bdat(first_chunk=(size, True), max_message=room))
        if not self.recipients:
            while await body.read(1 << 16):
                pass
            self.reply(503, "5.5.1 RCPT first")
            return True
        if last:
            return await self.receive(body, bdat=True)
        try:
            self.chunks.append(await body.read())
        except FramingError as error:
            return self.refuse(error, bdat=True)
        self.reply(250, f"2.0.0 {size} octets received")
        return True

    def refuse(self, error: FramingError, *, bdat: bool) -> bool:
        """Answer a message the decoder refused; return whether the session can go on."""
        self.reply(552 if isinstance(error, LimitExceededError) else 550, f"5.6.0 {error.message}")
        self.reset()
        # Only a BDAT chunk over a limit leaves the stream in sync (it was consumed).
        return bdat and isinstance(error, LimitExceededError)

    async def receive(self, body: StreamReader, *, bdat: bool) -> bool:
        """Read a message (or its last BDAT chunk) from a layer, store it, answer; False to
        hang up."""
        try:
            data = await body.read()  # a message is at most MAX_MESSAGE bytes
        except FramingError as error:
            return self.refuse(error, bdat=bdat)
        path = self.maildir / f"{next(_serial):06d}.eml"
        path.write_bytes(b"".join(self.chunks) + data)
        self.reset()
        self.reply(250, f"2.0.0 queued as {path.name}")
        return True

    async def do_RSET(self, command: smtp.Command) -> None:
        self.reset()
        self.reply(250, "2.0.0 ok")

    async def do_NOOP(self, command: smtp.Command) -> None:
        self.reply(250, "2.0.0 ok")

    async def do_QUIT(self, command: smtp.Command) -> bool:
        self.reply(221, "2.0.0 bye")
        return False


def _address(argument: bytes, prefix: bytes) -> bytes | None:
    """The address in ``FROM:<address> [parameters]``, or None."""
    if not argument.upper().startswith(prefix):
        return None
    path = argument[len(prefix):].lstrip().split(b" ", 1)[0]  # fmt: skip
    return path[1:-1] if path.startswith(b"<") and path.endswith(b">") else None


async def serve(port: int, maildir: Path, domain: str = "framekit.test",
                tls: ssl.SSLContext | None = None) -> asyncio.Server:  # fmt: skip
    """Listen on 127.0.0.1:``port`` (0: any free port); return the asyncio server."""

    async def handle(reader: StreamReader, writer: StreamWriter) -> None:
        await Session(reader, writer, maildir, domain, tls).run()

    return await start_server(handle, "127.0.0.1", port)


async def main(port: int, maildir: Path, domain: str) -> None:
    maildir.mkdir(parents=True, exist_ok=True)
    server = await serve(port, maildir, domain)
    print("listening on", server.sockets[0].getsockname())
    await server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    asyncio.run(main(int(sys.argv[1]), Path(sys.argv[2]), *sys.argv[3:4] or ["framekit.test"]))
