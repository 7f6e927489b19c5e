"""Sans-IO codecs, one module per wire format; see :mod:`framekit.codecs._base` for the contract.

Byte codecs (stacked as layers with ``reader.layer(codec)``):
:class:`~framekit.codecs.chunked.Chunked`, :class:`~framekit.codecs.limited.Limited`,
:class:`~framekit.codecs.until_close.UntilClose`, :class:`~framekit.codecs.compression.Gzip`,
:class:`~framekit.codecs.compression.Deflate`, :class:`~framekit.codecs.compression.RawDeflate`,
:class:`~framekit.codecs.compression.Brotli`, :class:`~framekit.codecs.compression.Zstd`, and
:func:`~framekit.codecs.compression.content_decoding` for a ``Content-Encoding`` header.
Frame codecs (read with ``reader.frames(codec)``): :class:`~framekit.codecs.lines.Lines`,
:class:`~framekit.codecs.lines.TextLines`, :class:`~framekit.codecs.delimited.Delimited`,
:class:`~framekit.codecs.length.LengthPrefixed`, :class:`~framekit.codecs.netstring.Netstring`,
:class:`~framekit.codecs.netstring.OctetCounted`, and the protocol codecs
:class:`~framekit.codecs.resp.Resp` (RESP2/RESP3 replies and values;
:mod:`framekit.codecs.resp`) and :class:`~framekit.codecs.http.RequestHeads` /
:class:`~framekit.codecs.http.ResponseHeads` (HTTP/1.1 message heads;
:mod:`framekit.codecs.http`, with the body-framing rules in :mod:`framekit.codecs.http_framing`
and the body readers in :mod:`framekit.http`). SMTP's replies, commands, DATA and BDAT bodies
are in :mod:`framekit.codecs.smtp`. To write one:
``docs/writing-a-codec.md``, :class:`BaseFrameDecoder` and :mod:`framekit.testing`.
"""

from framekit.codecs._base import (
    BaseFrameDecoder,
    ByteCodec,
    ByteDecoder,
    ByteEncoder,
    FrameCodec,
    FrameDecoder,
    FrameEncoder,
    OutputSink,
)
from framekit.codecs.chunked import Chunked
from framekit.codecs.compression import (
    Brotli,
    Deflate,
    Gzip,
    RawDeflate,
    Zstd,
    content_decoding,
)
from framekit.codecs.delimited import Delimited
from framekit.codecs.http import RequestHeads, ResponseHeads
from framekit.codecs.length import LengthPrefixed
from framekit.codecs.limited import Limited
from framekit.codecs.lines import Lines, TextLines
from framekit.codecs.netstring import Netstring, OctetCounted
from framekit.codecs.resp import Resp
from framekit.codecs.until_close import UntilClose

__all__ = [
    "BaseFrameDecoder",
    "Brotli",
    "ByteCodec",
    "ByteDecoder",
    "ByteEncoder",
    "Chunked",
    "Deflate",
    "Delimited",
    "FrameCodec",
    "FrameDecoder",
    "FrameEncoder",
    "Gzip",
    "LengthPrefixed",
    "Limited",
    "Lines",
    "Netstring",
    "OctetCounted",
    "OutputSink",
    "RawDeflate",
    "RequestHeads",
    "Resp",
    "ResponseHeads",
    "TextLines",
    "UntilClose",
    "Zstd",
    "content_decoding",
]
