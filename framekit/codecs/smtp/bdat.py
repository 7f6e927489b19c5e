"""RFC 3030 CHUNKING: a message sent as ``BDAT size [LAST]`` commands, each followed by
exactly ``size`` raw bytes (no dot-stuffing, no line rules).

Wire format::

    bdat-cmd   = "BDAT" SP chunk-size [ SP end-marker ] CRLF
    chunk-size = 1*DIGIT
    end-marker = "LAST"

The decoder (a server's side, a byte codec: ``reader.layer(Bdat())``) reads BDAT commands and
passes their chunks through, marking each chunk's end (``readchunk()`` on the layer says
``end_of_chunk``: reply 250 to it), until the chunk of the ``LAST`` command; nothing after it
is consumed. A server that already read the first BDAT command itself (with
:class:`~framekit.codecs.smtp.commands.Commands`) passes its size and ``LAST`` flag as
``first_chunk=parse_bdat(command.argument)``.

A chunk over ``max_chunk_size``, or one that takes the message over ``max_message``, is
still consumed to its last byte (RFC 3030 3: the bytes follow the command whatever the reply;
go-smtp #315), dropped unwritten, and then a
:class:`~framekit.errors.LimitExceededError` is raised at the offset of its command: the
source is then at the next command, in sync. A command that breaks the grammar is a
:class:`~framekit.errors.MalformedError` (the size cannot be known: close the connection);
a command other than BDAT where one is expected (``RSET``, ``QUIT``) is a MalformedError
with nothing of it consumed, so the server reads it next from the source. Every error is
final. EOF before the last chunk ends is a :class:`~framekit.errors.TruncatedError`.

The encoder writes one chunk per ``feed`` (the caller chooses the chunk size by what it
feeds; an empty piece writes nothing) and the ``LAST`` chunk at ``finish`` (``BDAT 0 LAST``
when it has no bytes).
"""

from __future__ import annotations

import re
from typing import Any

import attrs

from framekit.codecs._base import Bytes, OutputSink
from framekit.codecs._options import int_in
from framekit.errors import FramingError, LimitExceededError, MalformedError, TruncatedError

__all__ = ["DEFAULT_MAX_BDAT_MESSAGE", "Bdat", "BdatDecoder", "BdatEncoder", "parse_bdat"]

#: Default ``Bdat.max_message`` and ``max_chunk_size``: 32 MiB.
DEFAULT_MAX_BDAT_MESSAGE = 32 * 1024 * 1024
_MAX_COMMAND = 512  # RFC 5321 4.5.3.1.4, CRLF included

_ARGUMENT = re.compile(rb"([0-9]+)(?: ([Ll][Aa][Ss][Tt]))?")
_LF = re.compile(rb"\n")


def parse_bdat(argument: Bytes) -> tuple[int, bool]:
    """The ``(size, last)`` of a BDAT command's argument (``b"1000 LAST"``).

    Raises MalformedError (no offset) if it is not ``chunk-size [SP "LAST"]``.
    """
    match = _ARGUMENT.fullmatch(bytes(argument))
    if match is None:
        raise MalformedError(
            f"BDAT argument {bytes(argument)!r} is not chunk-size [SP LAST] (RFC 3030 2)"
        )
    return int(match[1]), match[2] is not None


def _first_chunk(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if (
        not isinstance(value, tuple)
        or len(value) != 2
        or isinstance(value[0], bool)
        or not isinstance(value[0], int)
        or value[0] < 0
        or not isinstance(value[1], bool)
    ):
        raise ValueError(f"{attribute.name} must be None or (size >= 0, last), got {value!r}")


@attrs.define(frozen=True, kw_only=True)
class Bdat:
    """BDAT chunks of one message. ``max_chunk_size`` and ``max_message`` (32 MiB each)
    bound a chunk and their sum; ``first_chunk`` is ``(size, last)`` of a BDAT command
    already read, when the decoder starts at its bytes. See the module docstring."""

    max_chunk_size: int = attrs.field(default=DEFAULT_MAX_BDAT_MESSAGE, validator=int_in(0))
    max_message: int = attrs.field(default=DEFAULT_MAX_BDAT_MESSAGE, validator=int_in(0))
    first_chunk: tuple[int, bool] | None = attrs.field(default=None, validator=_first_chunk)

    def decoder(self) -> BdatDecoder:
        """A fresh decoder for one message (a server's side)."""
        return BdatDecoder(self)

    def encoder(self) -> BdatEncoder:
        """A fresh encoder for one message (a client's side)."""
        return BdatEncoder(self.max_chunk_size)


class BdatDecoder:
    """Decodes one message's BDAT chunks; see :class:`Bdat` and the module docstring.

    State between calls: ``_offset`` the stream position of ``data[0]``; ``_remaining`` the
    bytes of the current chunk still to come (``_in_chunk``), ``_last`` whether it is the
    last; ``_rejected`` the error of a chunk being dropped, raised once its bytes are
    consumed; ``_total`` the message's bytes so far; ``_error`` the final error.
    """

    __slots__ = (
        "_done",
        "_error",
        "_in_chunk",
        "_last",
        "_max_chunk",
        "_max_message",
        "_offset",
        "_rejected",
        "_remaining",
        "_size",
        "_total",
        "needs_input",
    )

    def __init__(self, codec: Bdat) -> None:
        self._max_chunk = codec.max_chunk_size
        self._max_message = codec.max_message
        self._offset = 0
        self._total = 0
        self._done = False
        self._error: FramingError | None = None
        self._rejected: LimitExceededError | None = None
        self._in_chunk = False
        self._remaining = 0
        self._size = 0
        self._last = False
        #: True after a ``decode`` that stopped only because its input ran out.
        self.needs_input = False
        if codec.first_chunk is not None:
            self._start_chunk(*codec.first_chunk, -1)

    def __repr__(self) -> str:
        return f"<BdatDecoder offset={self._offset} total={self._total} done={self._done}>"

    @property
    def done(self) -> bool:
        """True once the LAST chunk was consumed whole."""
        return self._done

    def decode(self, data: memoryview, out: OutputSink, budget: int) -> int:
        """Pass chunk bytes through (at most ``budget``), reading the BDAT commands between
        them; return bytes consumed. Raises MalformedError or LimitExceededError (final)."""
        self.needs_input = False
        if self._error is not None:
            raise self._error.with_traceback(None)
        n = len(data)
        pos = 0
        produced = 0
        try:
            while not self._done:
                if self._in_chunk:
                    if not self._remaining:
                        self._end_chunk(out)
                        continue
                    if self._rejected is not None:
                        take = min(self._remaining, n - pos)
                    else:
                        take = min(self._remaining, n - pos, budget - produced)
                        if take:
                            out.write(data[pos : pos + take])
                            produced += take
                    if not take:
                        break
                    pos += take
                    self._remaining -= take
                    continue
                line = self._command(data, pos)
                if line is None:
                    break
                pos += line
        except FramingError as error:
            self._error = error
            if pos == 0 and produced == 0:
                raise
            self._offset += pos
            return pos
        self.needs_input = not self._done and produced < budget
        self._offset += pos
        return pos

    def decode_eof(self, data: memoryview, out: OutputSink, budget: int) -> int:
        """Like ``decode``; raises TruncatedError if the input ends before the last chunk."""
        consumed = self.decode(data, out, budget)
        if consumed or self._done:
            return consumed
        self._error = TruncatedError(
            "input ended inside a BDAT chunk" if self._in_chunk else "input ended before BDAT LAST",
            offset=self._offset + len(data),
        )
        raise self._error

    def _end_chunk(self, out: OutputSink) -> None:
        """The current chunk is consumed: mark it, raise its rejection, or finish."""
        self._in_chunk = False
        rejected = self._rejected
        if rejected is not None:
            self._rejected = None
            raise rejected
        if self._size:
            out.mark_chunk_end()
        if self._last:
            self._done = True

    def _start_chunk(self, size: int, last: bool, at: int) -> None:
        self._in_chunk = True
        self._remaining = self._size = size
        self._last = last
        where = None if at < 0 else self._offset + at
        if size > self._max_chunk:
            self._rejected = LimitExceededError(
                f"BDAT chunk of {size} bytes is over max_chunk_size={self._max_chunk}",
                limit=self._max_chunk,
                offset=where,
            )
        elif self._total + size > self._max_message:
            self._rejected = LimitExceededError(
                f"BDAT chunks are over max_message={self._max_message} bytes",
                limit=self._max_message,
                offset=where,
            )
        else:
            self._total += size

    def _command(self, data: memoryview, pos: int) -> int | None:
        """Read the BDAT command at ``pos``; return its length, or None if it is not all in
        view. Raises MalformedError for another command or a broken one."""
        n = len(data)
        head = data[pos : pos + 5].tobytes().upper()
        if not b"BDAT ".startswith(head[: n - pos]):
            raise MalformedError(
                "expected a BDAT command (RFC 3030 2: chunks until BDAT LAST)",
                offset=self._offset + pos,
            )
        found = _LF.search(data, pos, min(n, pos + _MAX_COMMAND))
        if found is None:
            if n - pos >= _MAX_COMMAND:
                raise MalformedError(
                    f"BDAT command line longer than {_MAX_COMMAND} bytes (RFC 5321 4.5.3.1.4)",
                    offset=self._offset + pos,
                )
            return None
        lf = found.start()
        if data[lf - 1] != 13:
            raise MalformedError("bare LF: a BDAT command ends in CRLF", offset=self._offset + lf)
        argument = data[pos + 5 : lf - 1].tobytes()
        match = _ARGUMENT.fullmatch(argument)
        if match is None:
            raise MalformedError(
                f"BDAT argument {argument[:40]!r} is not chunk-size [SP LAST] (RFC 3030 2)",
                offset=self._offset + pos + 5,
            )
        self._start_chunk(int(match[1]), match[2] is not None, pos)
        return lf + 1 - pos


class BdatEncoder:
    """Writes BDAT commands and their chunks; see :class:`Bdat`."""

    __slots__ = ("_finished", "_max_chunk")

    def __init__(self, max_chunk_size: int) -> None:
        self._max_chunk = max_chunk_size
        self._finished = False

    def feed(self, data: Bytes) -> bytes:
        """``BDAT n CRLF`` and the ``n`` bytes of ``data`` (b"" for empty data). Raises
        ValueError for a chunk over ``max_chunk_size``, RuntimeError after ``finish``."""
        if self._finished:
            raise RuntimeError("feed() after finish()")
        if not data:
            return b""
        return self._chunk(bytes(data), b"")

    def finish(self, data: Bytes = b"") -> bytes:
        """``BDAT n LAST CRLF`` and ``data`` (``BDAT 0 LAST`` for none). Raises ValueError
        for a chunk over ``max_chunk_size``, RuntimeError when called twice."""
        if self._finished:
            raise RuntimeError("finish() called twice")
        chunk = self._chunk(bytes(data), b" LAST")
        self._finished = True
        return chunk

    def _chunk(self, data: bytes, last: bytes) -> bytes:
        if len(data) > self._max_chunk:
            raise ValueError(f"BDAT chunk of {len(data)} bytes over max_chunk_size")
        return b"BDAT %d%s\r\n%s" % (len(data), last, data)
