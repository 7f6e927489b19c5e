"""SMTP framing (RFC 5321, RFC 3030): replies, commands, the DATA and BDAT message bodies.

- :class:`~framekit.codecs.smtp.replies.Replies` (a frame codec, client side): strict reply
  grammar, :class:`~framekit.codecs.smtp.replies.Reply` values with RFC 3463 enhanced status
  codes, pipelined replies; :func:`~framekit.codecs.smtp.replies.parse_ehlo`.
- :class:`~framekit.codecs.smtp.commands.Commands` (a frame codec): a command encoder that
  refuses CR, LF and NUL inside a command (no command injection) and a 512-byte command line;
  its decoder (server side).
- :class:`~framekit.codecs.smtp.data.Data` (a byte codec): the DATA body, dot-stuffed, ending
  only at CRLF.CRLF; its decoder stacks as a layer (``reader.layer(Data())``) and leaves the
  next command in the source.
- :class:`~framekit.codecs.smtp.bdat.Bdat` (a byte codec): RFC 3030 BDAT chunks, their sizes
  read, their bytes taken exactly, even for a chunk over a limit.
"""

from framekit.codecs.smtp.bdat import Bdat, BdatDecoder, BdatEncoder, parse_bdat
from framekit.codecs.smtp.commands import Command, CommandDecoder, CommandEncoder, Commands
from framekit.codecs.smtp.data import Data, DataDecoder, DataEncoder
from framekit.codecs.smtp.replies import (
    DEFAULT_MAX_REPLY_LINE,
    RFC_MAX_REPLY_LINE,
    Ehlo,
    Replies,
    Reply,
    ReplyDecoder,
    ReplyEncoder,
    parse_ehlo,
)

__all__ = [
    "DEFAULT_MAX_REPLY_LINE",
    "RFC_MAX_REPLY_LINE",
    "Bdat",
    "BdatDecoder",
    "BdatEncoder",
    "Command",
    "CommandDecoder",
    "CommandEncoder",
    "Commands",
    "Data",
    "DataDecoder",
    "DataEncoder",
    "Ehlo",
    "Replies",
    "Reply",
    "ReplyDecoder",
    "ReplyEncoder",
    "parse_bdat",
    "parse_ehlo",
]
