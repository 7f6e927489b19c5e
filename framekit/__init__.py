"""framekit: asyncio protocol framing with aiohttp's StreamReader API and stackable decoders.

- :class:`~framekit.reader.StreamReader`: the core reader (aiohttp's API, cancel-safe,
  linear-time search, over-long lines skipped whole, flow control).
- ``reader.layer(codec)`` / :func:`~framekit.layers.layer`: a reader of decoded bytes (HTTP
  chunked, a Content-Length body, gzip, deflate, brotli, zstd) with the same API.
- ``reader.frames(codec)`` / :class:`~framekit.frames.FrameReader`,
  :class:`~framekit.frames.FrameWriter`: messages (lines, delimited, length-prefixed,
  netstrings) read and written with a frame codec.
- :func:`~framekit.connection.open_connection`, :func:`~framekit.connection.start_server`,
  :func:`~framekit.connection.wrap`: asyncio glue.
- :mod:`framekit.http`: HTTP/1.1 messages (heads, the framing rules, body layers).
- :mod:`framekit.sync`: the same codecs over blocking files, sockets and iterables.
- :mod:`framekit.codecs`: the codecs; :mod:`framekit.errors`: the exceptions.
- :mod:`framekit.testing`: checks a codec of your own against the decoder contract.
"""

from framekit._version import __version__
from framekit.connection import (
    StreamWriter,
    open_connection,
    open_unix_connection,
    start_server,
    start_unix_server,
    wrap,
)
from framekit.errors import (
    CodecContractError,
    EndOfStream,
    FrameTooLong,
    FramingError,
    LimitExceededError,
    LineTooLong,
    MalformedError,
    TruncatedError,
    UnsupportedEncodingError,
)
from framekit.frames import FrameReader, FrameWriter
from framekit.layers import LayerReader, layer
from framekit.reader import DEFAULT_LIMIT, StreamReader

__all__ = [
    "DEFAULT_LIMIT",
    "CodecContractError",
    "EndOfStream",
    "FrameReader",
    "FrameTooLong",
    "FrameWriter",
    "FramingError",
    "LayerReader",
    "LimitExceededError",
    "LineTooLong",
    "MalformedError",
    "StreamReader",
    "StreamWriter",
    "TruncatedError",
    "UnsupportedEncodingError",
    "__version__",
    "layer",
    "open_connection",
    "open_unix_connection",
    "start_server",
    "start_unix_server",
    "wrap",
]
