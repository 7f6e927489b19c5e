"""SMTP commands (RFC 5321 section 4.1): one CRLF-ended line each, ``VERB [SP argument]``.

The encoder is the client's defence against command injection (CPython #87290, aiosmtplib's
control-character fixes): a CR, LF or NUL inside a verb or argument would let a caller's
string (an address, a HELO name) end the command and start another, so it is a ValueError, as
is a verb that is not 1 to 10 letters or digits, and a command line longer than
``max_line_length`` (512, CRLF included: RFC 5321 4.5.3.1.4; raise it for extensions that
lengthen MAIL, such as RFC 1870 SIZE or AUTH).

The decoder (a server's side) gives :class:`Command` frames. A line ends at CRLF only: a bare
CR or LF in it is a :class:`~framekit.errors.MalformedError` at that byte, and a line over
``max_line_length`` a :class:`~framekit.errors.LineTooLong` at its first byte; either way the
line is skipped to its CRLF and the next command is read (reply 500 and go on). A line that
is not ``VERB [SP argument]`` (an empty line, a verb of other bytes, a NUL) is a
MalformedError too, and skipped. EOF inside a line is a TruncatedError.
"""

from __future__ import annotations

import re

import attrs

from framekit.codecs._options import int_in
from framekit.codecs.lines import Lines
from framekit.errors import FramingError, LineTooLong, MalformedError

__all__ = ["DEFAULT_MAX_COMMAND_LINE", "Command", "CommandDecoder", "CommandEncoder", "Commands"]

#: RFC 5321 4.5.3.1.4: a command line is at most 512 octets, CRLF included.
DEFAULT_MAX_COMMAND_LINE = 512

_VERB = re.compile(rb"[A-Za-z0-9]{1,10}")
_FORBIDDEN = re.compile(rb"[\r\n\x00]")


@attrs.define(frozen=True)
class Command:
    """One command: ``verb`` in upper case (``b"MAIL"``) and ``argument``, the bytes after
    the verb's space (``b"FROM:<a@example.org>"``; ``b""`` for none)."""

    verb: bytes
    argument: bytes = b""


@attrs.define(frozen=True, kw_only=True)
class Commands:
    """SMTP command lines as :class:`Command` frames. See the module docstring."""

    max_line_length: int = attrs.field(default=DEFAULT_MAX_COMMAND_LINE, validator=int_in(8))

    def decoder(self) -> CommandDecoder:
        """A fresh decoder (a server's side) for one connection."""
        return CommandDecoder(self.max_line_length)

    def encoder(self) -> CommandEncoder:
        """A fresh encoder (a client's side)."""
        return CommandEncoder(self.max_line_length)


class CommandDecoder:
    """Decodes command lines; see :class:`Commands`.

    A strict CRLF :class:`~framekit.codecs.lines.Lines` decoder underneath does the framing
    (and skips lines it rejects); this parses each line. State between calls: ``_offset``
    the stream position of ``data[0]``; ``_base`` where the line decoder started (its error
    offsets count from there); ``_skip`` the bytes of a line this decoder rejected, dropped
    by the next call (or ``discard``).
    """

    __slots__ = ("_base", "_held", "_line_ends", "_lines", "_max", "_offset", "_skip")

    def __init__(self, max_line_length: int) -> None:
        self._max = max_line_length
        self._offset = 0
        self._skip = 0
        self._held = False  # the last call stopped before a bad line (the next one raises)
        self._line_ends: list[int] = []
        self._restart()

    @property
    def needs_input(self) -> bool:
        """True after a ``decode`` that stopped because its input ran out."""
        return not self._skip and not self._held and self._lines.needs_input

    def decode(self, data: memoryview, frames: list[Command], ends: list[int] | None = None) -> int:
        """Append every complete command in ``data`` to ``frames`` (their ends to ``ends``);
        return bytes consumed. Raises MalformedError or LineTooLong (the line is skipped)."""
        return self._decode(data, frames, ends, False)

    def decode_eof(
        self, data: memoryview, frames: list[Command], ends: list[int] | None = None
    ) -> int:
        """Like ``decode``; a partial line at EOF raises TruncatedError."""
        return self._decode(data, frames, ends, True)

    def reset_search(self) -> None:
        """Forget how far the search for the line's end got."""
        self._lines.reset_search()

    def discard(self, data: memoryview, eof: bool) -> tuple[int, bool]:
        """Consume the rest of a rejected line; return ``(consumed, over)``."""
        if self._skip:
            dropped = min(self._skip, len(data))
            self._skip = 0 if eof else self._skip - dropped
            self._offset += dropped
            if not self._skip:
                self._restart()
            return dropped, not self._skip
        consumed, over = self._lines.discard(data, eof)
        self._offset += consumed
        return consumed, over

    def _restart(self) -> None:
        """A fresh line decoder from the stream position ``_offset``."""
        self._lines = Lines(ending="crlf", max_length=self._max - 2, at_eof="error").decoder()
        self._base = self._offset

    def _decode(
        self, data: memoryview, frames: list[Command], ends: list[int] | None, eof: bool
    ) -> int:
        self._held = False
        skipped = 0
        if self._skip:
            skipped = min(self._skip, len(data))
            self._skip -= skipped
            self._offset += skipped
            if self._skip:
                return skipped
            self._restart()
            # The rest of the rejected line is consumed; the lines after it, by the next call
            # (an error raised now would undo this call's consuming).
            self._held = True
            return skipped
        lines: list[bytes] = []
        line_ends = self._line_ends
        line_ends.clear()
        try:
            if eof:
                consumed = self._lines.decode_eof(data, lines, line_ends)
            else:
                consumed = self._lines.decode(data, lines, line_ends)
        except FramingError as error:
            raise self._restated(error, data) from None
        start = 0
        for index, line in enumerate(lines):
            bad = _bad_byte(line)
            if bad is not None:
                if index == 0:
                    self._skip = line_ends[0]
                    self._restart()
                    # line_ends[0] counts bytes skipped before the line (a rejected one's).
                    line_start = self._offset + line_ends[0] - len(line) - 2
                    raise MalformedError(_why(line, bad), offset=line_start + bad)
                consumed = start
                self._held = True
                break
            verb, _, argument = line.partition(b" ")
            frames.append(Command(verb.upper(), argument))
            start = line_ends[index]
            if ends is not None:
                ends.append(start)
        self._offset += consumed
        if self._held:
            self._restart()  # the bad line is read again, first, by the next call
        return consumed

    def _restated(self, error: FramingError, data: memoryview) -> FramingError:
        """The line decoder's error in this codec's terms: its option, RFC 5321's rule, the
        offset in this stream."""
        offset = None if error.offset is None else error.offset + self._base
        if isinstance(error, LineTooLong):
            return LineTooLong(
                f"command line is longer than max_line_length={self._max} (CRLF included, "
                "RFC 5321 4.5.3.1.4)",
                limit=self._max,
                offset=offset,
            )
        if isinstance(error, MalformedError) and offset is not None:
            index = offset - self._offset  # a bare CR or LF (the only malformed lines there)
            kind = "bare CR" if 0 <= index < len(data) and data[index] == 13 else "bare LF"
            return MalformedError(
                f"{kind} in a command line: it ends in CRLF only (RFC 5321 2.3.8)",
                offset=offset,
            )
        error.offset = offset
        return error


def _bad_byte(line: bytes) -> int | None:
    """Where ``line`` stops being ``VERB [SP argument]`` without NUL, or None if it is."""
    match = _VERB.match(line)
    if match is None:
        return 0
    end = match.end()
    if end < len(line) and line[end] != 0x20:
        return end
    nul = line.find(b"\x00")
    return None if nul < 0 else nul


def _why(line: bytes, index: int) -> str:
    if index < len(line) and line[index] == 0:
        return "NUL in a command line (RFC 5321 4.1.1)"
    return "a command is a verb of 1 to 10 letters or digits, then SP and its argument " + (
        "(RFC 5321 4.1.1)"
    )


class CommandEncoder:
    """Writes command lines; see :class:`Commands`."""

    __slots__ = ("_max",)

    def __init__(self, max_line_length: int) -> None:
        self._max = max_line_length

    def encode(self, frame: Command) -> bytes:
        """``VERB [SP argument] CRLF``. Raises ValueError for a CR, LF or NUL in the verb or
        argument, a verb that is not 1 to 10 letters or digits, or a line over
        ``max_line_length``."""
        verb, argument = bytes(frame.verb), bytes(frame.argument)
        if _FORBIDDEN.search(verb) or _FORBIDDEN.search(argument):
            raise ValueError(
                f"CR, LF or NUL in an SMTP command would end it early (command injection): "
                f"{verb + b' ' + argument!r}"
            )
        if _VERB.fullmatch(verb) is None:
            raise ValueError(f"an SMTP verb is 1 to 10 letters or digits, not {verb!r}")
        line = verb + b" " + argument + b"\r\n" if argument else verb + b"\r\n"
        if len(line) > self._max:
            raise ValueError(
                f"command line of {len(line)} bytes is over max_line_length={self._max} "
                "(RFC 5321 4.5.3.1.4)"
            )
        return line
