"""Decompressing byte codecs: gzip, deflate (zlib or raw), brotli and zstd.

Each codec is an immutable configuration making decoders that keep the byte-decoder contract
(see :mod:`framekit.codecs._base`): they consume compressed bytes from the source's view,
write at most ``budget`` decoded bytes per call, and leave every byte after the end of the
compressed stream in the source. Memory per step is bounded by the budget plus the library's
own state (the deflate window, brotli's ring buffer, one zstd block of at most 128 KiB), so a
1 GiB bomb read 64 KiB at a time never holds more than that. ``max_output_size`` stops it: every
byte up to the cap is written, whatever the budget, and the next call raises
:class:`~framekit.errors.LimitExceededError` (at once if nothing was left to write under it).

Where the cap is passed, and whether a corrupt stream is over the cap or corrupt first, does not
depend on the split of the input nor on the backend, because the libraries are handed the input
in fixed units and the error names the unit's start:

- **zstd**: the offset is where the block whose output passed the cap starts (framekit walks the
  blocks; a block decodes whole, or is corrupt whole).
- **deflate** (gzip, zlib, raw): the deflate data goes to the backend in 16 KiB steps counted
  from where each stream's (or member's) deflate data starts. The step in which the output
  passes the cap is decoded to its end, its output discarded: MalformedError if that finds it
  corrupt, else LimitExceededError at the step's start. (Backends decode ahead of the output
  asked for by different amounts, isal by tens of KiB; no backend reads past a step it was not
  given, and they agree on what a given prefix decodes to.) At most about 16 MiB of output is
  decoded past the cap (deflate expands at most 1032:1).
- **brotli**: the library gets whole 16 KiB steps of input at fixed offsets (the last one at
  EOF), so under a cap its output lags the input by up to 16 KiB; the offset is the start of
  the step whose output passed the cap. Without a cap, input is handed on as it comes.

What the decoders decide, the same way for every format:

- **Empty input is empty content.** Zero bytes at EOF decode to zero bytes, without error: a
  ``Content-Length: 0`` response labelled ``Content-Encoding: gzip`` is empty (RFC 9110; curl,
  aiohttp and browsers agree). A stream that starts and then stops is truncated.
- **A stream cut short** raises ``TruncatedError`` at EOF, at the offset where input ended.
- **Corrupt data** raises :class:`~framekit.errors.MalformedError`. zlib and brotli do not say
  where inside a stream they failed, so the offset is where the corrupt gzip member, zlib or
  brotli stream, or zstd frame started; a checksum that does not match (gzip FHCRC, CRC-32 or
  ISIZE, zlib Adler-32, zstd content checksum) is reported there too, as it says the whole is
  corrupt, not where. Errors framekit finds itself in a header (bad magic, a reserved bit, a
  zlib FDICT, bytes after the end) carry their exact offset. Either way the offset does not
  depend on how the input was split into feeds. framekit reads the gzip and zlib wrappers and
  checks their trailers itself, so every backend sees raw deflate only and the messages name
  framekit's rules, not a backend's words. One difference remains on corrupt deflate data:
  isal accepts some invalid Huffman code sets that zlib and zlib-ng reject (gzip and zlib then
  fail on the checksum instead, or on a truncation), so for a damaged stream the error may
  differ on isal; valid streams and every error framekit finds itself do not.
- **Bytes after the end**: ``trailing_data="error"`` (the default) fails on them, and the
  decoder is done only at EOF; ``trailing_data="leave"`` stops at the end of the stream and
  leaves them in the source (for a next message). Brotli can only ``"error"``: the library
  does not say where a stream ended inside the bytes it was given.
- Errors are fatal: a decoder that raised raises the same error on every later call.

Gzip reads concatenated members by default (like Go's ``gzip.Reader.Multistream``). Deciding
whether bytes after a member start another one takes the two magic bytes ``1f 8b`` only, and a
first byte that is not ``1f`` fails (or stops) at once, so a live stream never stalls on a few
stray bytes (async-compression #488).
"""

from __future__ import annotations

from typing import TypeAlias

from framekit.codecs.compression._common import (
    DEFAULT_MAX_BROTLI_WINDOW_SIZE,
    DEFAULT_MAX_CODINGS,
    DEFAULT_MAX_WINDOW_SIZE,
    Backend,
    TrailingData,
)
from framekit.codecs.compression.brotli import Brotli
from framekit.codecs.compression.deflate import Deflate, Gzip, RawDeflate
from framekit.codecs.compression.zstd import Zstd
from framekit.errors import LimitExceededError, UnsupportedEncodingError

__all__ = [
    "DEFAULT_MAX_BROTLI_WINDOW_SIZE",
    "DEFAULT_MAX_CODINGS",
    "DEFAULT_MAX_WINDOW_SIZE",
    "Backend",
    "Brotli",
    "Deflate",
    "Gzip",
    "RawDeflate",
    "TrailingData",
    "Zstd",
    "content_decoding",
]

DecompressionCodec: TypeAlias = "Gzip | Deflate | RawDeflate | Brotli | Zstd"


def content_decoding(
    header: str,
    *,
    max_codings: int = DEFAULT_MAX_CODINGS,
    max_output_size: int | None = None,
    max_window_size: int | None = None,
    backend: Backend = "auto",
) -> list[DecompressionCodec]:
    """The codecs that decode a body with this Content-Encoding, in decoding order.

    Codings are applied in the header's order, so they are undone in reverse. ``identity`` is
    skipped; ``gzip``/``x-gzip``, ``deflate``, ``br`` and ``zstd`` are known (case-insensitive,
    whitespace around items ignored). ``max_window_size`` is set on every brotli and zstd
    codec (None: their defaults, 16 MiB and 8 MiB). Raises UnsupportedEncodingError naming an
    unknown coding (or a missing extra), and LimitExceededError when more than
    ``max_codings`` are stacked.

    ``max_output_size`` caps the final decoded output, and every stage on the way to it: the
    last codec of the list gets it as its ``max_output_size``, and each codec before it gets
    ``max_output_size + max_output_size // 1024 + 1024``. A bomb inside an outer coding (a
    gzip stream whose decoded bytes are a huge inner stream: stored blocks, or thousands of
    empty members that decode to nothing) is stopped at about the cap by the stage it
    explodes in, not decoded whole first. The margin is what an encoding adds to input it
    cannot compress (deflate's stored blocks, zstd's raw blocks, brotli's uncompressed
    meta-blocks and each format's header add far less), so a body whose final output fits
    under the cap never fails at an intermediate stage.
    """
    names = [item.strip(" \t").lower() for item in header.split(",")]
    names = [name for name in names if name and name != "identity"]
    if len(names) > max_codings:
        raise LimitExceededError(
            f"{len(names)} stacked content codings, over max_codings={max_codings}",
            limit=max_codings,
        )
    codecs: list[DecompressionCodec] = []
    inner_cap = max_output_size
    if inner_cap is not None:
        inner_cap += inner_cap // 1024 + 1024  # see the docstring: the margin
    for position, name in enumerate(reversed(names)):
        cap = max_output_size if position == len(names) - 1 else inner_cap
        if name in ("gzip", "x-gzip"):
            codecs.append(Gzip(max_output_size=cap, backend=backend))
        elif name == "deflate":
            codecs.append(Deflate(max_output_size=cap, backend=backend))
        elif name == "br":
            window = DEFAULT_MAX_BROTLI_WINDOW_SIZE if max_window_size is None else max_window_size
            codecs.append(Brotli(max_output_size=cap, max_window_size=window))
        elif name == "zstd":
            window = DEFAULT_MAX_WINDOW_SIZE if max_window_size is None else max_window_size
            codecs.append(Zstd(max_output_size=cap, max_window_size=window))
        else:
            raise UnsupportedEncodingError(f"unsupported content coding {name!r}")
    return codecs
