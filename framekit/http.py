"""HTTP/1.1 messages on a reader: a head, then its body as a stack of layers.

:func:`open_body` turns a head (and, for a response, the request's method) into a reader of
its body: the framing rules (:func:`framekit.codecs.http_framing.body_framing`) pick a
:class:`~framekit.codecs.limited.Limited`, :class:`~framekit.codecs.chunked.Chunked` or
until-EOF layer over the connection's reader, then the transfer codings before ``chunked`` and the
Content-Encoding codings are undone by decompressing layers, with the compression codecs'
limits. A message with no body (a response to HEAD, 1xx, 204, 304, a request without
Content-Length or Transfer-Encoding) gets an empty reader and no decoder, whatever its
Content-Encoding says. Each layer consumes only its own bytes, so once the body is read to its
end the next pipelined message is still in the connection's reader, untouched::

    heads = reader.frames(ResponseHeads())
    for method in (b"GET", b"HEAD", b"GET"):
        head, body = await read_response(heads, request_method=method)
        data = await body.reader.read()       # decoded: chunked, gzip, br, zstd undone
        body.trailers                          # chunked trailers, as Headers

:func:`read_response` skips interim (1xx) responses; :func:`read_request` is the server's
side. A framing the rules refuse raises :class:`BodyFramingError` (a
:class:`~framekit.errors.MalformedError`) carrying the decision: for a request its ``status``
is the answer to send (400, or 501) before closing.
"""

from __future__ import annotations

from typing import TypeVar

from framekit.codecs._base import ByteCodec
from framekit.codecs.chunked import Chunked, ChunkedDecoder
from framekit.codecs.compression import Backend, content_decoding
from framekit.codecs.http import Headers, Request, Response
from framekit.codecs.http_framing import BodyFraming, body_framing
from framekit.codecs.limited import Limited
from framekit.codecs.until_close import UntilClose
from framekit.errors import MalformedError
from framekit.frames import FrameReader
from framekit.layers import LayerReader
from framekit.reader import StreamReader

__all__ = ["Body", "BodyFramingError", "open_body", "read_request", "read_response"]

H = TypeVar("H", Request, Response)


class BodyFramingError(MalformedError):
    """The framing rules refuse a message (``framing`` says which rule and why; for a
    request, ``framing.status`` is the response to send before closing)."""

    def __init__(self, framing: BodyFraming) -> None:
        super().__init__(f"{framing.reason} ({framing.rule})")
        self.framing = framing


class Body:
    """A message's body: ``reader`` gives its decoded bytes, ``framing`` the decision.

    ``chunked`` is the chunked layer (None for another framing). ``trailers`` are the chunked
    trailer fields, complete once the body was read to its end (empty before, and without
    chunked).
    """

    __slots__ = ("chunked", "framing", "reader")

    def __init__(
        self, reader: StreamReader, framing: BodyFraming, chunked: LayerReader | None
    ) -> None:
        self.reader = reader
        self.framing = framing
        self.chunked = chunked

    @property
    def trailers(self) -> Headers:
        """The trailer fields of a chunked body, in wire order (see the class docstring)."""
        if self.chunked is None:
            return Headers()
        decoder = self.chunked.decoder
        assert isinstance(decoder, ChunkedDecoder)
        return Headers(decoder.trailers)

    async def discard(self) -> int:
        """Read the rest of the body and drop it; return how many decoded bytes that was."""
        total = 0
        while True:
            data = await self.reader.read(64 * 1024)
            if not data:
                return total
            total += len(data)

    def __repr__(self) -> str:
        return f"<Body {self.framing.kind} rule={self.framing.rule!r}>"


def _empty() -> StreamReader:
    reader = StreamReader()
    reader.feed_eof()
    return reader


def open_body(
    source: StreamReader,
    head: Request | Response,
    *,
    request_method: bytes | None = None,
    framing: BodyFraming | None = None,
    chunked: Chunked | None = None,
    decode_content: bool = True,
    max_output_size: int | None = None,
    backend: Backend = "auto",
    limit: int | None = None,
) -> Body:
    """The body of ``head``, read from ``source`` (the reader its head came from, positioned
    just after the head).

    ``framing`` (default: :func:`~framekit.codecs.http_framing.body_framing` of the head and
    ``request_method``) decides the layers; ``chunked`` is the chunked codec to use (its
    limits and leniency; default ``Chunked()``); ``decode_content=False`` leaves the
    Content-Encoding on the bytes; ``max_output_size`` caps every decompressing layer (see
    :func:`~framekit.codecs.compression.content_decoding`), ``backend`` picks the deflate
    library (as there); ``limit`` is each layer's buffer limit. A ``"tunnel"`` body is
    ``source`` itself. Raises BodyFramingError when the framing is ``"error"`` and
    UnsupportedEncodingError for a coding framekit cannot undo (the source is then
    untouched).
    """
    if framing is None:
        framing = body_framing(head, request_method=request_method)
    kind = framing.kind
    if kind == "error":
        raise BodyFramingError(framing)
    if kind == "none":
        return Body(_empty(), framing, None)
    if kind == "tunnel":
        return Body(source, framing, None)
    # Every codec first (a coding framekit cannot undo fails before anything is read).
    steps: list[ByteCodec] = []
    if kind == "length":
        assert framing.length is not None
        steps.append(Limited(framing.length))
    elif kind == "chunked":
        steps.append(chunked or Chunked())
    else:
        steps.append(UntilClose())
    for coding in reversed(framing.codings):
        if coding == b"chunked":
            steps.append(chunked or Chunked())
        else:
            steps.extend(
                content_decoding(
                    coding.decode("latin-1"), max_output_size=max_output_size, backend=backend
                )
            )
    if decode_content:
        encoding = head.headers.get(b"content-encoding")
        if encoding is not None:
            steps.extend(
                content_decoding(
                    encoding.decode("latin-1"), max_output_size=max_output_size, backend=backend
                )
            )
    reader = source
    chunked_layer: LayerReader | None = None
    for codec in steps:
        reader = reader.layer(codec, limit=limit)
        if chunked_layer is None and isinstance(codec, Chunked):
            chunked_layer = reader
    return Body(reader, framing, chunked_layer)


async def read_response(
    heads: FrameReader[Response],
    *,
    request_method: bytes = b"GET",
    chunked: Chunked | None = None,
    decode_content: bool = True,
    max_output_size: int | None = None,
    backend: Backend = "auto",
) -> tuple[Response, Body]:
    """The next final response on ``heads`` (interim 1xx responses other than 101 are
    skipped) and its body (:func:`open_body`). Read the body to its end before the next
    call. Raises what the head codec and :func:`open_body` raise, and EndOfStream when the
    connection ended between responses."""
    while True:
        head = await heads.read()
        if 100 <= head.status < 200 and head.status != 101:
            continue
        body = open_body(
            heads.source,
            head,
            request_method=request_method,
            chunked=chunked,
            decode_content=decode_content,
            max_output_size=max_output_size,
            backend=backend,
        )
        return head, body


async def read_request(
    heads: FrameReader[Request],
    *,
    chunked: Chunked | None = None,
    decode_content: bool = False,
    max_output_size: int | None = None,
    backend: Backend = "auto",
) -> tuple[Request, Body]:
    """The next request on ``heads`` and its body (Content-Encoding left on the bytes unless
    ``decode_content``). Raises BodyFramingError (answer ``error.framing.status``, then close),
    the head codec's errors, and EndOfStream when the client closed between requests."""
    head = await heads.read()
    body = open_body(
        heads.source,
        head,
        chunked=chunked,
        decode_content=decode_content,
        max_output_size=max_output_size,
        backend=backend,
    )
    return head, body
