"""Sans-IO codecs, one module per wire format; see :mod:`framekit.codecs._base` for the contract.

Byte codecs (stacked as layers with ``reader.layer(codec)``): :class:`Chunked`,
:class:`Limited`, :class:`Gzip`, :class:`Deflate`, :class:`RawDeflate`, :class:`Brotli`,
:class:`Zstd`, and :func:`content_decoding` for a ``Content-Encoding`` header. Frame codecs
(read with ``reader.frames(codec)``): :class:`Lines`, :class:`TextLines`, :class:`Delimited`,
:class:`LengthPrefixed`, :class:`Netstring`, :class:`OctetCounted`, and the protocol codec
:class:`Resp` (RESP2/RESP3 replies and values; :mod:`framekit.codecs.resp`). SMTP's replies,
commands, DATA and BDAT bodies are in :mod:`framekit.codecs.smtp`. To write one:
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
from framekit.codecs.length import LengthPrefixed
from framekit.codecs.limited import Limited
from framekit.codecs.lines import Lines, TextLines
from framekit.codecs.netstring import Netstring, OctetCounted
from framekit.codecs.resp import Resp

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
    "Resp",
    "TextLines",
    "Zstd",
    "content_decoding",
]
