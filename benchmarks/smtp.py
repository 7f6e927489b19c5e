"""Workload group ``smtp``: DATA encoding and decoding, and EHLO reply parsing, against the
Python SMTP libraries' own code.

- ``smtp-data-encode``: a 2 MiB message (lines of 10-120 bytes, every 7th starting with
  ``.``), given in 64 KiB pieces, dot-stuffed and ended with ``.CRLF``. ``framekit``: a
  ``Data()`` encoder fed the pieces (strict: it also checks that no CR or LF is lone).
  ``aiosmtplib``: what ``SMTPProtocol.execute_data_command`` does to the whole message (its
  ``normalize_message_line_endings`` and ``PERIOD_REGEX``). ``smtplib-quotedata``:
  ``smtplib.quotedata``'s two regular expressions, on bytes (the ``str`` function itself would
  add a decode and an encode), as ``SMTP.data`` stuffs with ``_quote_periods``. The peers
  need the message whole; joining the pieces is counted in their time.
- ``smtp-data-decode``: the same message stuffed, with ``.CRLF`` and a next command after it,
  fed in 64 KiB pieces as a transport does. ``framekit``: ``root.layer(Data())`` read with
  ``readany()`` until the end (streamed: nothing holds the whole message). ``aiosmtpd``: the
  read loop of aiosmtpd 1.4's ``SMTP.smtp_DATA`` (one ``readuntil(b"\\r\\n")`` per line on an
  asyncio ``StreamReader``, its size and line checks, then un-stuffing and joining), copied
  here without its error branches, which this input never takes.
- ``smtp-ehlo-reply``: 2000 EHLO replies of 20 lines each, one reply per piece (as each comes
  in its own read), parsed sans-IO. ``framekit``: a ``Replies()`` decoder called on each
  piece. ``aiosmtplib``: ``SMTPProtocol._read_response_from_buffer`` itself, called as its
  ``data_received`` does, on a ``bytearray`` the piece was appended to.

Every implementation's output is checked (the wire, the message, the replies' codes and text)
before any time is kept.
"""

from __future__ import annotations

import asyncio
import re
import smtplib
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from benchmarks.harness import (
    Checked,
    Implementation,
    Input,
    Target,
    Workload,
    bytes_digest,
    feed_and_read,
    items_digest,
    register,
    split_pieces,
)
from benchmarks.peers import asyncio_reader, framekit_reader
from benchmarks.streams import _pool

__all__ = ["ehlo_input", "message", "stuffed"]

MiB = 2**20
PIECE = 64 * 1024
LIMIT = 2**16
EHLO_REPLIES = 2000
_EMPTY_BARR = bytearray()  # aiosmtpd.smtp.EMPTY_BARR


@lru_cache(maxsize=4)
def message(size: int) -> bytes:
    """``size`` bytes (about) of CRLF lines of 10-120 bytes, every 7th starting with a dot."""
    pool = _pool().replace(b"\r", b"").replace(b"\n", b"").replace(b".", b"")
    lines = []
    total = 0
    i = 0
    pos = 0
    while total < size:
        length = 10 + (i * 37) % 111
        if pos + length > len(pool):
            pos = 0
        line = (b"." if i % 7 == 0 else b"") + pool[pos : pos + length] + b"\r\n"
        pos += length
        lines.append(line)
        total += len(line)
        i += 1
    return b"".join(lines)


def stuffed(body: bytes) -> bytes:
    """``body`` as DATA sends it: every line starting with a dot gets another, then ``.CRLF``
    (the reference the outputs are checked against, made line by line)."""
    lines = body.split(b"\r\n")
    assert lines[-1] == b""
    return b"".join((b"." + x if x[:1] == b"." else x) + b"\r\n" for x in lines[:-1]) + b".\r\n"


def _size(scale: float) -> int:
    return max(4096, int(2 * MiB * scale))


def encode_input(scale: float) -> Input:
    body = message(_size(scale))
    return Input(split_pieces(body, PIECE), bytes_digest([stuffed(body)]), len(body))


def decode_input(scale: float) -> Input:
    body = message(_size(scale))
    wire = stuffed(body) + b"QUIT\r\n"
    return Input(split_pieces(wire, PIECE), bytes_digest([body]), len(wire))


_EHLO = b"".join(
    [b"250-mx.example.org Hello client.example.org [192.0.2.1]\r\n"]
    + [
        b"250-%s\r\n" % keyword
        for keyword in [
            b"SIZE 52428800", b"8BITMIME", b"PIPELINING", b"PIPECONNECT", b"CHUNKING",
            b"SMTPUTF8", b"STARTTLS", b"ENHANCEDSTATUSCODES", b"DSN", b"BINARYMIME",
            b"AUTH PLAIN LOGIN CRAM-MD5", b"DELIVERBY 3600", b"ETRN", b"MT-PRIORITY MIXER",
            b"REQUIRETLS", b"LIMITS RCPTMAX=100 MAILMAX=50", b"FUTURERELEASE 604800 2012-01-01",
            b"X-EXPS GSSAPI NTLM",
        ]
    ]
    + [b"250 HELP\r\n"]
)  # fmt: skip
assert _EHLO.count(b"\r\n") == 20


def _reply_key(code: int, text: bytes) -> bytes:
    return b"%d %s" % (code, text)


def ehlo_input(scale: float) -> Input:
    count = max(2, int(EHLO_REPLIES * scale))
    lines = [line[4:] for line in _EHLO.split(b"\r\n")[:-1]]
    key = _reply_key(250, b"\n".join(lines))
    return Input([_EHLO] * count, items_digest([key] * count), len(_EHLO) * count)


def _replies_digest(output: Any) -> Checked:
    keys = []
    for reply in output:
        if hasattr(reply, "lines"):  # framekit's Reply
            keys.append(_reply_key(reply.code, reply.text))
        else:  # aiosmtplib's SMTPResponse
            keys.append(_reply_key(reply.code, reply.message.encode("utf-8", "surrogateescape")))
    return items_digest(keys)


# -- encoding -----------------------------------------------------------------------------------


async def framekit_encode(pieces: Sequence[bytes]) -> list[bytes]:
    from framekit.codecs.smtp import Data

    encoder = Data().encoder()
    feed = encoder.feed
    out = [feed(piece) for piece in pieces]
    out.append(encoder.finish())
    return out


async def aiosmtplib_encode(pieces: Sequence[bytes]) -> list[bytes]:
    from aiosmtplib.protocol import PERIOD_REGEX, normalize_message_line_endings

    data = normalize_message_line_endings(b"".join(pieces))
    return [PERIOD_REGEX.sub(b"..", data) + b".\r\n"]


_SMTPLIB_EOLS = re.compile(rb"(?:\r\n|\n|\r(?!\n))")  # quotedata's first expression


async def smtplib_encode(pieces: Sequence[bytes]) -> list[bytes]:
    data = _SMTPLIB_EOLS.sub(b"\r\n", b"".join(pieces))
    quoted = smtplib._quote_periods(data)  # type: ignore[attr-defined]
    if quoted[-2:] != b"\r\n":
        quoted += b"\r\n"
    return [quoted + b".\r\n"]


# -- decoding -----------------------------------------------------------------------------------


async def framekit_decode(pieces: Sequence[bytes]) -> list[bytes]:
    from framekit.codecs.smtp import Data

    async def consume(root: Any) -> list[bytes]:
        body = root.layer(Data())
        out: list[bytes] = []
        append = out.append
        readany = body.readany
        while chunk := await readany():
            append(chunk)
        if await root.readline() != b"QUIT\r\n":  # the next command is still there
            raise AssertionError("the command after the message was lost")
        return out

    return await feed_and_read(framekit_reader(LIMIT), pieces, consume)


async def aiosmtpd_decode(pieces: Sequence[bytes]) -> list[bytes]:
    async def consume(reader: asyncio.StreamReader) -> list[bytes]:
        # aiosmtpd 1.4.6 SMTP.smtp_DATA, its NOMINAL path.
        data: list[bytearray] = []
        num_bytes = 0
        limit = 32 * MiB
        line_length_limit = 1001
        line_fragments: list[bytes] = []
        while True:
            line = await reader.readuntil(b"\r\n")
            if not line_fragments and line == b".\r\n":
                break
            num_bytes += len(line)
            if limit and num_bytes > limit:
                raise AssertionError("too much data")
            line_fragments.append(line)
            if line.endswith(b"\r\n"):
                joined = _EMPTY_BARR.join(line_fragments)
                if len(joined) > line_length_limit:
                    raise AssertionError("line too long")
                data.append(_EMPTY_BARR.join(line_fragments))
                line_fragments *= 0
        for text in data:
            if text.startswith(b"."):
                del text[0]
        original_content = b"".join(data)
        if await reader.readline() != b"QUIT\r\n":
            raise AssertionError("the command after the message was lost")
        return [original_content]

    return await feed_and_read(asyncio_reader(LIMIT), pieces, consume)


# -- replies ------------------------------------------------------------------------------------


async def framekit_replies(pieces: Sequence[bytes]) -> list[Any]:
    from framekit.codecs.smtp import Replies

    decode = Replies().decoder().decode
    frames: list[Any] = []
    for piece in pieces:
        if decode(memoryview(piece), frames) != len(piece):
            raise AssertionError("a reply was not taken whole")
    return frames


class _Buffered:
    """What ``SMTPProtocol._read_response_from_buffer`` reads: ``self._buffer``."""

    def __init__(self) -> None:
        self._buffer = bytearray()


async def aiosmtplib_replies(pieces: Sequence[bytes]) -> list[Any]:
    from aiosmtplib.protocol import SMTPProtocol

    parse = SMTPProtocol._read_response_from_buffer
    state = _Buffered()
    buffer = state._buffer
    out = []
    for piece in pieces:
        buffer.extend(piece)  # data_received
        response = parse(state)  # type: ignore[arg-type]
        if response is None:
            raise AssertionError("a reply was not taken whole")
        out.append(response)
    return out


# -- registration -------------------------------------------------------------------------------


def _workload(
    name: str,
    description: str,
    make_input: Any,
    impls: dict[str, Implementation],
    targets: Sequence[Target],
    summarize: Any = bytes_digest,
) -> None:
    register(
        Workload(
            name=name,
            group="smtp",
            description=description,
            make_input=make_input,
            implementations=impls,
            baselines=[b.baseline for b in targets],
            summarize=summarize,
            targets=targets,
        )
    )


_workload(
    "smtp-data-encode",
    "a 2 MiB message (every 7th line dotted) in 64 KiB pieces, dot-stuffed for DATA",
    encode_input,
    {
        "framekit": framekit_encode,
        "aiosmtplib": aiosmtplib_encode,
        "smtplib-quotedata": smtplib_encode,
    },
    [Target("aiosmtplib", 2.5), Target("smtplib-quotedata", 2.5)],
)
_workload(
    "smtp-data-decode",
    "the same message stuffed, fed in 64 KiB pieces, read to CRLF.CRLF",
    decode_input,
    {"framekit": framekit_decode, "aiosmtpd": aiosmtpd_decode},
    [Target("aiosmtpd", 5.0)],
)
_workload(
    "smtp-ehlo-reply",
    f"{EHLO_REPLIES} EHLO replies of 20 lines, one per piece, parsed",
    ehlo_input,
    {"framekit": framekit_replies, "aiosmtplib": aiosmtplib_replies},
    [Target("aiosmtplib", 2.0)],
    summarize=_replies_digest,
)
