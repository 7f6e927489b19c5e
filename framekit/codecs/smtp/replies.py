"""SMTP replies (RFC 5321 section 4.2), read strictly, and the EHLO reply's keywords.

Wire format::

    reply-line = *( reply-code "-" [ textstring ] CRLF ) reply-code [ SP textstring ] CRLF
    reply-code = %x32-35 %x30-35 %x30-39

The first digit is 2 to 5, the second 0 to 5, the third 0 to 9. After the code comes ``-``
(more lines follow), a space (the last line) or the line's CRLF (a last line with no text,
``250\\r\\n``). Every line of a reply carries the same code. Anything else is a
:class:`~framekit.errors.MalformedError` at the offending byte: ``2500``, ``250Xok``, ``+25``,
``650``, a space before the code, a multi-line reply whose lines change code (smtplib and
aiosmtplib take the last code seen), a control character other than HTAB in the text (bytes
from 0x80 are allowed: RFC 6531's UTF-8 text). A line ends at CRLF only; a bare LF or CR is
malformed unless ``bare_lf=True``, which also takes a lone LF as a line's end (a lone CR is
malformed still).

A :class:`Reply` is the code, the text of each line, and the RFC 3463 enhanced status code
(``class.subject.detail``, class 2, 4 or 5, subject and detail 1 to 3 digits) when the text
of the first line starts with one (RFC 2034): its class must be the reply code's first digit,
on every line that has one, or the reply is malformed. Several replies in one read (a
pipelined group) are as many frames.

Limits, each a :class:`~framekit.errors.LimitExceededError` at the first byte of the line or
reply that passed it:

``max_line_length``
    The longest reply line, its code and CRLF included. Default 8192 (smtplib's and
    aiosmtplib's ``_MAXLINE``); RFC 5321 4.5.3.1.5 says 512 (:data:`RFC_MAX_REPLY_LINE`),
    which strict clients may ask for.
``max_lines``
    The most lines in one reply. Default 1000.
``max_reply_size``
    The most bytes in one reply, line endings included. Default 64 KiB.

Every error is final: after a reply the client cannot read, it cannot know which command
the next one answers, so the decoder raises the same error on every later call (close the
connection). EOF inside a reply is a :class:`~framekit.errors.TruncatedError` at its first
byte.

The encoder (what a server writes) checks what the decoder would refuse, and raises
ValueError for it.
"""

from __future__ import annotations

import re

import attrs

from framekit.codecs._options import int_in, is_bool
from framekit.errors import FramingError, LimitExceededError, MalformedError, TruncatedError

__all__ = [
    "DEFAULT_MAX_REPLY_LINE",
    "RFC_MAX_REPLY_LINE",
    "Ehlo",
    "Replies",
    "Reply",
    "ReplyDecoder",
    "ReplyEncoder",
    "parse_ehlo",
]

#: Default ``Replies.max_line_length``: 8192, as smtplib's and aiosmtplib's ``_MAXLINE``.
DEFAULT_MAX_REPLY_LINE = 8192
#: RFC 5321 4.5.3.1.5: a reply line is at most 512 octets, code and CRLF included.
RFC_MAX_REPLY_LINE = 512

_CODE = re.compile(rb"[2-5][0-5][0-9]")
# Text: HTAB, SP, printable ASCII, and bytes from 0x80 (RFC 6531). A CR or LF is found first.
_BAD_TEXT = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_ENHANCED = re.compile(rb"([245])\.([0-9]{1,3})\.([0-9]{1,3})(?: |$)")
_LF_RE = re.compile(rb"\n")
# A whole reply, every line of the same code (the backreference), text without CR or LF.
_TEXT = rb"[\t\x20-\x7e\x80-\xff]*"
# A line whose text starts with a digit and a dot may have an enhanced status code, whose
# class is checked line by line: such a reply is not taken whole.
_PLAIN = rb"(?![0-9]\.)" + _TEXT
_WHOLE_REPLY = re.compile(
    rb"([2-5][0-5][0-9])(?:-" + _PLAIN + rb"\r\n\1)*(?: " + _PLAIN + rb")?\r\n"
)
_match_whole_reply = _WHOLE_REPLY.match
_CR = 13
_SP = 32
_DASH = 45


@attrs.define(frozen=True)
class Reply:
    """One SMTP reply: ``code`` (250) and ``lines``, the text of each line (after the code
    and its ``-`` or space; ``b""`` for none), in order.

    ``enhanced`` is the RFC 3463 status code of the first line as ``(class, subject,
    detail)``, or None; ``text`` the lines without their enhanced codes, joined by LF.
    """

    code: int
    lines: tuple[bytes, ...] = (b"",)

    @property
    def enhanced(self) -> tuple[int, int, int] | None:
        """The first line's enhanced status code ``(class, subject, detail)``, or None."""
        match = _ENHANCED.match(self.lines[0]) if self.lines else None
        if match is None:
            return None
        return int(match[1]), int(match[2]), int(match[3])

    @property
    def text(self) -> bytes:
        """The text of the lines, each without a leading enhanced status code, joined by LF."""
        return b"\n".join(_without_enhanced(line) for line in self.lines)

    @property
    def is_positive(self) -> bool:
        """True for a 2xx or 3xx reply (the command was accepted, or input is wanted)."""
        return self.code < 400


def _without_enhanced(line: bytes) -> bytes:
    match = _ENHANCED.match(line)
    return line if match is None else line[match.end() :]


@attrs.define(frozen=True, kw_only=True)
class Replies:
    """SMTP replies as :class:`Reply` frames. See the module docstring for the options."""

    max_line_length: int = attrs.field(default=DEFAULT_MAX_REPLY_LINE, validator=int_in(6))
    max_lines: int = attrs.field(default=1000, validator=int_in(1))
    max_reply_size: int = attrs.field(default=64 * 1024, validator=int_in(6))
    bare_lf: bool = attrs.field(default=False, validator=is_bool)

    def decoder(self) -> ReplyDecoder:
        """A fresh decoder for one connection's replies."""
        return ReplyDecoder(self)

    def encoder(self) -> ReplyEncoder:
        """A fresh encoder (a server's side)."""
        return ReplyEncoder(self)


class ReplyDecoder:
    """Decodes SMTP replies; see :class:`Replies` and the module docstring.

    State between calls, all about the reply at ``data[0]`` (it stays in the source until its
    last line is in): ``_lines`` the texts of its lines read so far, which end at ``_parsed``
    in ``data``; ``_code`` their code. A long reply fed a byte at a time is read once.
    ``_offset`` is the stream position of ``data[0]``; ``_error`` the final error.
    """

    __slots__ = (
        "_bare_lf",
        "_code",
        "_error",
        "_fast",
        "_lines",
        "_max_line",
        "_max_lines",
        "_max_reply",
        "_offset",
        "_parsed",
        "_searched",
    )

    def __init__(self, codec: Replies) -> None:
        self._max_line = codec.max_line_length
        self._max_lines = codec.max_lines
        self._max_reply = codec.max_reply_size
        self._bare_lf = codec.bare_lf
        self._fast = not codec.bare_lf  # the one-match path knows CRLF endings only
        self._offset = 0
        self._error: FramingError | None = None
        self._lines: list[bytes] = []
        self._code = b""
        self._parsed = 0
        self._searched = 0

    @property
    def needs_input(self) -> bool:
        """True after a ``decode`` that stopped because its input ran out (no error waits)."""
        return self._error is None

    def reset_search(self) -> None:
        """Forget the lines read of an incomplete reply: they are read again."""
        self._lines = []
        self._code = b""
        self._parsed = 0
        self._searched = 0

    def discard(self, data: memoryview, eof: bool) -> tuple[int, bool]:
        """Nothing to drop: every error is final. ``(0, True)``."""
        return 0, True

    def decode(self, data: memoryview, frames: list[Reply], ends: list[int] | None = None) -> int:
        """Append every complete reply in ``data`` to ``frames`` (their ends to ``ends``);
        return bytes consumed. Raises MalformedError or LimitExceededError (final)."""
        return self._decode(data, frames, ends, False)

    def decode_eof(
        self, data: memoryview, frames: list[Reply], ends: list[int] | None = None
    ) -> int:
        """Like ``decode``; an incomplete reply at EOF raises TruncatedError."""
        return self._decode(data, frames, ends, True)

    def _decode(
        self, data: memoryview, frames: list[Reply], ends: list[int] | None, eof: bool
    ) -> int:
        if self._error is not None:
            raise self._error.with_traceback(None)
        n = len(data)
        start = 0  # the reply being read starts here
        pos = self._parsed  # its next line starts here
        try:
            while pos < n:
                if pos == start and not self._searched and self._fast:
                    taken = self._whole_reply(data, pos, frames, ends)
                    if taken:
                        pos = start = taken
                        continue
                line = self._next_line(data, pos, n, start)
                if line is None:
                    break
                pos += len(line)
                if self._line(line, pos - len(line), start):
                    frames.append(Reply(int(self._code), tuple(self._lines)))
                    if ends is not None:
                        ends.append(pos)
                    self._lines = []
                    self._code = b""
                    start = pos
        except FramingError as error:
            self._error = error
            self.reset_search()
            if start == 0:
                raise
            self._offset += start
            return start
        self._parsed = pos - start
        if self._searched:
            self._searched -= start
        if eof and start < n:
            self._error = TruncatedError(
                f"input ended inside a reply ({n - start} bytes of it)",
                offset=self._offset + start,
            )
            self.reset_search()
            if start == 0:
                raise self._error
        self._offset += start
        return start

    def _whole_reply(
        self, data: memoryview, pos: int, frames: list[Reply], ends: list[int] | None
    ) -> int:
        """Take the reply at ``pos`` in one match when it is all in view and plain (within
        the limits, no enhanced status code to check); return where it ends, or 0 to let the
        line-by-line path read it (and find its errors). A 20-line EHLO reply costs about a
        third of what it does line by line (benchmarks: smtp-ehlo-reply)."""
        whole = _match_whole_reply(data, pos)
        if whole is None:
            return 0
        reply, code = whole.group(0, 1)
        size = len(reply)
        if size > self._max_reply:
            return 0
        # The texts: split at each "CRLF code -", then the last line off the one before.
        texts = reply[4:-2].split(b"\r\n" + code + b"-")
        last = texts[-1]
        cut = last.find(b"\r\n")
        if cut >= 0:
            texts[-1:] = [last[:cut], last[cut + 6 :]]
        if len(texts) > self._max_lines or (
            size > self._max_line and max(map(len, texts)) + 6 > self._max_line
        ):
            return 0
        frames.append(Reply(int(code), tuple(texts)))
        if ends is not None:
            ends.append(pos + size)
        return pos + size

    def _next_line(self, data: memoryview, pos: int, n: int, start: int) -> bytes | None:
        """The line at ``pos``, its ending included, or None if its end is not in view yet.
        Raises for a line or reply over its limit, or a bare LF."""
        window = min(pos + self._max_line, start + self._max_reply)
        found = _LF_RE.search(data, max(pos, self._searched), min(n, window))
        if found is None:
            if n >= window:
                self._too_long(pos, start)
            self._searched = n
            return None
        self._searched = 0
        lf = found.start()
        if not self._bare_lf and (lf == pos or data[lf - 1] != _CR):
            raise MalformedError(
                "bare LF: a reply line must end in CRLF (RFC 5321 2.3.8)",
                offset=self._offset + lf,
            )
        return data[pos : lf + 1].tobytes()

    def _too_long(self, pos: int, start: int) -> None:
        if pos + self._max_line <= start + self._max_reply:
            raise LimitExceededError(
                f"reply line is longer than max_line_length={self._max_line} (CRLF included)",
                limit=self._max_line,
                offset=self._offset + pos,
            )
        raise LimitExceededError(
            f"reply is longer than max_reply_size={self._max_reply}",
            limit=self._max_reply,
            offset=self._offset + start,
        )

    def _line(self, line: bytes, pos: int, start: int) -> bool:
        """Check the reply line ``line`` (which starts at ``pos`` in ``data``) and record its
        text; return True if it is the reply's last line."""
        at = self._offset + pos
        end = len(line) - (2 if line.endswith(b"\r\n") else 1)
        if end < 3 or _CODE.match(line) is None:
            bad = 0
            for index, (low, high) in enumerate(((0x32, 0x35), (0x30, 0x35), (0x30, 0x39))):
                if index >= end or not low <= line[index] <= high:
                    bad = index
                    break
            what = "the line ends" if bad >= end else f"{bytes([line[bad]])!r}"
            raise MalformedError(
                "reply code must be three digits, 2-5, 0-5, 0-9 (RFC 5321 4.2); "
                f"{what} at digit {bad + 1}",
                offset=at + bad,
            )
        code = line[:3]
        if self._lines and code != self._code:
            raise MalformedError(
                f"reply line has code {code.decode()} in a {self._code.decode()} reply: every "
                "line of a reply has the same code (RFC 5321 4.2.1)",
                offset=at,
            )
        if len(self._lines) >= self._max_lines:
            raise LimitExceededError(
                f"reply has more than max_lines={self._max_lines} lines",
                limit=self._max_lines,
                offset=self._offset + start,
            )
        if end == 3:
            last = True
            text = b""
        else:
            separator = line[3]
            if separator != _SP and separator != _DASH:
                raise MalformedError(
                    f"reply code must be followed by SP, '-' or CRLF, got "
                    f"{bytes([separator])!r} (RFC 5321 4.2)",
                    offset=at + 3,
                )
            last = separator == _SP
            text = line[4:end]
            control = _BAD_TEXT.search(text)
            if control is not None:
                kind = "bare CR" if text[control.start()] == _CR else "control character"
                raise MalformedError(
                    f"{kind} in reply text (RFC 5321 4.2: HTAB, SP and printable text only)",
                    offset=at + 4 + control.start(),
                )
            enhanced = _ENHANCED.match(text)
            if enhanced is not None and enhanced[1] != code[:1]:
                raise MalformedError(
                    f"enhanced status code class {enhanced[1].decode()} does not match reply "
                    f"code {code.decode()} (RFC 3463 2, RFC 2034 4)",
                    offset=at + 4,
                )
        self._code = code
        self._lines.append(text)
        return last


class ReplyEncoder:
    """Writes SMTP replies (a server's side); see :class:`Replies`."""

    __slots__ = ("_max_line", "_max_lines", "_max_reply")

    def __init__(self, codec: Replies) -> None:
        self._max_line = codec.max_line_length
        self._max_lines = codec.max_lines
        self._max_reply = codec.max_reply_size

    def encode(self, frame: Reply) -> bytes:
        """The wire bytes of ``frame``: ``code-text CRLF`` lines, then ``code SP text CRLF``.

        Raises ValueError for a code outside RFC 5321's ranges, no lines, a line with CR, LF
        or another control character but HTAB, an enhanced status code of another class, or
        a line, line count or reply size over the codec's limits.
        """
        code = b"%d" % frame.code
        if _CODE.fullmatch(code) is None:
            raise ValueError(f"reply code {frame.code} is outside 200-559 (RFC 5321 4.2)")
        lines = frame.lines
        if not lines or len(lines) > self._max_lines:
            raise ValueError(f"a reply has 1 to max_lines={self._max_lines} lines")
        out = []
        last = len(lines) - 1
        for index, text in enumerate(lines):
            text = bytes(text)
            if _BAD_TEXT.search(text) is not None or b"\r" in text:
                raise ValueError(f"reply text {text!r} has a control character")
            enhanced = _ENHANCED.match(text)
            if enhanced is not None and enhanced[1] != code[:1]:
                raise ValueError(f"enhanced status code {text[:9]!r} is not of class {code[:1]!r}")
            if index < last:
                line = code + b"-" + text + b"\r\n"
            else:
                line = code + (b" " + text if text else b"") + b"\r\n"
            if len(line) > self._max_line:
                raise ValueError(f"reply line longer than max_line_length={self._max_line}")
            out.append(line)
        wire = b"".join(out)
        if len(wire) > self._max_reply:
            raise ValueError(f"reply longer than max_reply_size={self._max_reply}")
        return wire


# -- EHLO --------------------------------------------------------------------------------------

_KEYWORD = re.compile(rb"[A-Za-z0-9][A-Za-z0-9-]*")
_PARAM = re.compile(rb"[\x21-\x7e]+")


@attrs.define(frozen=True)
class Ehlo:
    """What an EHLO reply says: the server's ``domain``, the rest of its first line
    (``greeting``), and ``extensions``, each keyword (upper case) with its parameters."""

    domain: str
    greeting: str
    extensions: dict[str, tuple[str, ...]]

    def supports(self, keyword: str) -> bool:
        """Whether the server advertised ``keyword`` (any case)."""
        return keyword.upper() in self.extensions


def parse_ehlo(reply: Reply) -> Ehlo:
    """The :class:`Ehlo` of a 250 reply to EHLO (RFC 5321 4.1.1.1).

    ``ehlo-line = ehlo-keyword *( SP ehlo-param )``, a keyword being a letter or digit then
    letters, digits and ``-``, a parameter printable ASCII without spaces. Raises
    MalformedError (no offset: the reply was already read) for another code, an empty first
    line, or an extension line breaking that grammar; a keyword said twice keeps its last
    parameters.
    """
    if reply.code != 250:
        raise MalformedError(f"an EHLO reply that lists extensions is 250, not {reply.code}")
    first = reply.lines[0].split(b" ", 1)
    if not first[0]:
        raise MalformedError("EHLO reply does not start with the server's domain (RFC 5321)")
    extensions: dict[str, tuple[str, ...]] = {}
    for line in reply.lines[1:]:
        keyword, *params = line.split(b" ")
        if _KEYWORD.fullmatch(keyword) is None or any(
            _PARAM.fullmatch(param) is None for param in params
        ):
            raise MalformedError(f"EHLO line {line!r} breaks ehlo-line (RFC 5321 4.1.1.1)")
        extensions[keyword.decode().upper()] = tuple(param.decode() for param in params)
    return Ehlo(
        domain=first[0].decode("utf-8", "replace"),
        greeting=first[1].decode("utf-8", "replace") if len(first) > 1 else "",
        extensions=extensions,
    )
