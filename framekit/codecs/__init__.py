"""Sans-IO codecs: one module per wire format. See :mod:`framekit.codecs._base` for the contract."""

from framekit.codecs._base import (
    ByteCodec,
    ByteDecoder,
    ByteEncoder,
    FrameCodec,
    FrameDecoder,
    FrameEncoder,
    OutputSink,
)

__all__ = [
    "ByteCodec",
    "ByteDecoder",
    "ByteEncoder",
    "FrameCodec",
    "FrameDecoder",
    "FrameEncoder",
    "OutputSink",
]
