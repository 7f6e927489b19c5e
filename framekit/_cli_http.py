"""HTTP/1.1 message streams for the ``framekit`` command: ``http-response`` and ``http-request``.

A capture of one connection's responses (or requests), kept alive and pipelined, is read as
:mod:`framekit.http` reads a connection: each head by :class:`ResponseHeads` or
:class:`RequestHeads`, the body's framing by :func:`body_framing` (RFC 9112 6.3), the body by
:func:`open_body` (a Limited, Chunked or until-close layer, then the transfer codings before
``chunked``, then, with ``decode_content``, the Content-Encoding). The input is fed, a piece at
a time, to a :class:`StreamReader` whose pauses stop the feeding, so memory stays bounded.

Nothing here frames a body: the decisions are ``body_framing``'s and the layers
``open_body``'s. What is added is what a capture needs and a connection does not: the
interim (1xx) responses are reported, not skipped, a response stream is read as answers to
``request_methods`` (a response to HEAD has no body, and nothing in a response says it
answers HEAD), and a message after one that closes the connection is bad input.

The options of :class:`ResponseStream` and :class:`RequestStream` are the head codecs' own,
then the framing's, the chunked codec's (``chunked_``...) and the content decoding's; the
command makes each a flag (see :mod:`framekit._cli_codecs`).
"""

from __future__ import annotations

import asyncio
import re
import typing
from collections.abc import Callable
from typing import Any, ClassVar

import attrs

from framekit.codecs.chunked import Chunked
from framekit.codecs.compression import Backend
from framekit.codecs.http import (
    Headers,
    Request,
    RequestHeads,
    Response,
    ResponseHeads,
    _HeadOptions,
)
from framekit.codecs.http_framing import BodyFraming, body_framing
from framekit.codecs.until_close import UntilClose
from framekit.errors import EndOfStream, FramingError, MalformedError
from framekit.frames import FrameReader
from framekit.http import open_body
from framekit.layers import LayerReader
from framekit.reader import StreamReader

__all__ = ["BodyFailure", "MessageStream", "RequestStream", "ResponseStream"]

_TOKEN = re.compile(rb"[-!#$%&'*+.^_`|~0-9A-Za-z]+")
_CHUNKED = attrs.fields(Chunked)
_HEAD_FIELDS = tuple(field.name for field in attrs.fields(ResponseHeads))
_CHUNKED_FIELDS = tuple(field.name for field in _CHUNKED)


def _int_at_least(minimum: int) -> Any:
    def check(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise ValueError(f"{attribute.name} must be an int >= {minimum}, got {value!r}")

    return check


def _optional_size(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value is not None:
        _int_at_least(0)(instance, attribute, value)


def _bool(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, bool):
        raise TypeError(f"{attribute.name} must be a bool, got {value!r}")


def _backend(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if value not in typing.get_args(Backend):
        known = ", ".join(typing.get_args(Backend))
        raise ValueError(f"{attribute.name} must be one of {known}, got {value!r}")


@attrs.define(frozen=True, kw_only=True)
class _MessageOptions(_HeadOptions):
    """The head codec's options (inherited), then the body's."""

    #: RFC 9112 6.3.5: a Content-Length of more digits than this is invalid.
    max_content_length_digits: int = attrs.field(default=19, validator=_int_at_least(1))
    #: The chunked codec's options (see :class:`~framekit.codecs.Chunked`).
    chunked_max_line_length: int = attrs.field(
        default=_CHUNKED.max_line_length.default, validator=_int_at_least(1)
    )
    chunked_max_chunk_size: int = attrs.field(
        default=_CHUNKED.max_chunk_size.default, validator=_int_at_least(1)
    )
    chunked_max_trailers: int = attrs.field(
        default=_CHUNKED.max_trailers.default, validator=_int_at_least(0)
    )
    chunked_max_trailer_size: int = attrs.field(
        default=_CHUNKED.max_trailer_size.default, validator=_int_at_least(2)
    )
    chunked_max_trailer_line_length: int = attrs.field(
        default=_CHUNKED.max_trailer_line_length.default, validator=_int_at_least(1)
    )
    chunked_max_overhead: int = attrs.field(
        default=_CHUNKED.max_overhead.default, validator=_int_at_least(0)
    )
    chunked_lenient: bool = attrs.field(default=_CHUNKED.lenient.default, validator=_bool)
    #: Undo the Content-Encoding too (the transfer codings are always undone).
    decode_content: bool = attrs.field(default=False, validator=_bool)
    #: The cap on each decompressing layer's output (None: the codecs' own defaults).
    max_output_size: int | None = attrs.field(default=None, validator=_optional_size)
    backend: Backend = attrs.field(default="auto", validator=_backend)

    is_request: ClassVar[bool] = False

    def heads(self) -> RequestHeads | ResponseHeads:
        """The head codec with these options."""
        options = {name: getattr(self, name) for name in _HEAD_FIELDS}
        return RequestHeads(**options) if self.is_request else ResponseHeads(**options)

    def chunked(self) -> Chunked:
        """The chunked codec with these options."""
        options = {
            name: getattr(self, "chunked_" + name)
            for name in _CHUNKED_FIELDS
            if hasattr(self, "chunked_" + name)
        }
        return Chunked(**options)

    def framing(self, head: Request | Response, request_method: bytes | None) -> BodyFraming:
        """What :func:`body_framing` decides for ``head`` with these options."""
        return body_framing(
            head,
            request_method=request_method,
            allow_te_with_content_length=isinstance(self, RequestStream)
            and self.allow_te_with_content_length,
            max_content_length_digits=self.max_content_length_digits,
        )


def _methods(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not isinstance(value, tuple) or not value:
        raise ValueError(f"{attribute.name} must name at least one method, got {value!r}")
    for method in value:
        if not isinstance(method, bytes) or _TOKEN.fullmatch(method) is None:
            raise ValueError(f"{attribute.name}: {method!r} is not a method (a token)")


@attrs.define(frozen=True, kw_only=True)
class ResponseStream(_MessageOptions):
    """A stream of HTTP/1.1 responses (the command's ``http-response``).

    ``request_methods`` are the methods of the requests the final responses answer, in
    order; every response after the last answers the last (by default, every response
    answers a GET). A response to HEAD has no body whatever its head says (RFC 9112 6.3.1),
    and a 2xx to CONNECT makes the rest of the stream a tunnel.
    """

    request_methods: tuple[bytes, ...] = attrs.field(default=(b"GET",), validator=_methods)

    def request_method(self, index: int) -> bytes:
        """The method of the request the ``index``-th final response answers."""
        return self.request_methods[min(index, len(self.request_methods) - 1)]


@attrs.define(frozen=True, kw_only=True)
class RequestStream(_MessageOptions):
    """A stream of HTTP/1.1 requests (the command's ``http-request``).

    ``allow_te_with_content_length`` reads a request with both Transfer-Encoding and
    Content-Length as the Transfer-Encoding says (see :func:`body_framing`); by default it is
    bad input, the request-smuggling shape.
    """

    is_request: ClassVar[bool] = True

    allow_te_with_content_length: bool = attrs.field(default=False, validator=_bool)


@attrs.define
class BodyFailure:
    """Which codec of a body's layers failed; when it read another layer's output, not the
    command's input, the stream it read (``stream``) and the bytes of that stream still held
    from ``start`` on (for the hexdump)."""

    codec: str
    stream: str | None = None
    start: int = 0
    held: bytes = b""


def _text(data: bytes) -> object:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return {"hex": data.hex()}


def _fields(headers: Headers) -> list[list[object]]:
    return [[_text(name), _text(value)] for name, value in headers]


class _Flow:
    """The root reader's flow control: feeding waits while it is paused."""

    def __init__(self) -> None:
        self.resumed = asyncio.Event()
        self.resumed.set()

    def pause_reading(self) -> None:
        self.resumed.clear()

    def resume_reading(self) -> None:
        self.resumed.set()


def _codec_name(codec: object, names: dict[type, str]) -> str:
    if isinstance(codec, UntilClose):
        return "until-close"
    return names.get(type(codec), type(codec).__name__)


class _BodyPieces:
    """The records of one body's decoded pieces. A piece's record covers the input consumed
    until the next piece was read (the last one's, until the body's end), so the head and
    end records, and the decoded bytes, do not depend on how the input was split."""

    def __init__(
        self,
        record: Callable[[dict[str, object]], None] | None,
        describe: Callable[[bytes], dict[str, object]],
        start: int,
    ) -> None:
        self._record = record
        self._describe = describe
        self._pending = b""
        self.mark = start  # the input offset the next record starts at

    def add(self, piece: bytes, position: int) -> None:
        """``piece`` was read, with the input consumed up to ``position``."""
        self.flush(position)
        self._pending = piece

    def flush(self, until: int) -> None:
        """Write the pending piece's record, covering the input up to ``until``."""
        if self._pending and self._record is not None:
            fields: dict[str, object] = {"offset": self.mark, "length": until - self.mark}
            fields.update(self._describe(self._pending))
            fields["type"] = "body"
            fields["size"] = len(self._pending)
            self._record(fields)
            self.mark = until
        self._pending = b""


class MessageStream:
    """One input's messages: ``run`` reads them all, reporting each through ``record``
    (JSON fields) or ``raw`` (decoded body bytes). After a FramingError, ``failure`` says
    where it was found when that is inside a body's decoded stream (else None: the offset is
    in the input)."""

    def __init__(
        self,
        options: ResponseStream | RequestStream,
        next_piece: Callable[[], bytes | bytearray | memoryview],
        *,
        read_size: int,
        budget: int,
        codec_names: dict[type, str],
    ) -> None:
        self._options = options
        self._next_piece = next_piece
        self._read_size = read_size
        self._budget = budget
        self._names = codec_names
        self.failure: BodyFailure | None = None

    def run(
        self,
        record: Callable[[dict[str, object]], None] | None,
        raw: Callable[[bytes], None],
        describe: Callable[[bytes], dict[str, object]],
    ) -> None:
        """Read every message. Raises the FramingError that stopped it (offsets in the
        input, or see ``failure``), and what reading the input raises."""
        asyncio.run(self._run(record, raw, describe))

    async def _feed(self, root: StreamReader, flow: _Flow) -> None:
        try:
            while True:
                await flow.resumed.wait()
                piece = self._next_piece()
                if not piece:
                    root.feed_eof()
                    return
                root.feed_data(bytes(piece))  # the piece may be a view of a reused buffer
                await asyncio.sleep(0)
        except Exception as error:  # a byte codec's error under this one, or the input's
            root.set_exception(error)

    async def _run(
        self,
        record: Callable[[dict[str, object]], None] | None,
        raw: Callable[[bytes], None],
        describe: Callable[[bytes], dict[str, object]],
    ) -> None:
        flow = _Flow()
        root = StreamReader(limit=self._read_size, flow=flow)
        feeder = asyncio.ensure_future(self._feed(root, flow))
        try:
            await self._messages(root, record, raw, describe)
        finally:
            feeder.cancel()
            await asyncio.gather(feeder, return_exceptions=True)

    async def _messages(
        self,
        root: StreamReader,
        record: Callable[[dict[str, object]], None] | None,
        raw: Callable[[bytes], None],
        describe: Callable[[bytes], dict[str, object]],
    ) -> None:
        options = self._options
        heads: FrameReader[Any] = root.frames(options.heads())
        kind = "request" if options.is_request else "response"
        finals = 0  # final responses so far: the index of the request answered
        while True:
            start = root.buffer.head
            try:
                head = await heads.read()
            except EndOfStream:
                return
            head_end = root.buffer.head
            method: bytes | None = None
            fields: dict[str, object] = {"offset": start, "length": head_end - start, "type": kind}
            if isinstance(head, Request):
                fields.update(method=_text(head.method), target=_text(head.target))
            else:
                interim = 100 <= head.status < 200 and head.status != 101
                if not interim and isinstance(options, ResponseStream):
                    method = options.request_method(finals)
                    finals += 1
                fields.update(status=head.status, reason=_text(head.reason))
            fields["version"] = "{}.{}".format(*head.version)
            fields["headers"] = _fields(head.headers)
            framing = options.framing(head, method)
            fields["framing"] = framing.kind
            fields["rule"] = framing.rule
            if framing.length is not None:
                fields["content_length"] = framing.length
            if framing.codings:
                fields["transfer_codings"] = [_text(c) for c in framing.codings]
            fields["keep_alive"] = framing.keep_alive
            if (
                options.decode_content
                and framing.kind not in ("none", "tunnel", "error")
                and b"content-encoding" in head.headers
            ):
                fields["content_decoded"] = True
            if method is not None:
                fields["request_method"] = method.decode("ascii")
            if record is not None:
                record(fields)
            try:
                body = open_body(
                    root,
                    head,
                    framing=framing,
                    chunked=options.chunked(),
                    decode_content=options.decode_content,
                    max_output_size=options.max_output_size,
                    backend=options.backend,
                    limit=self._budget,
                )
            except FramingError as error:
                if error.offset is None:
                    error.offset = start  # the head that says it
                raise
            pieces = _BodyPieces(record, describe, head_end)
            size = 0
            while True:
                try:
                    piece = await body.reader.read(self._budget)
                except FramingError as error:
                    pieces.flush(root.buffer.head)
                    self.failure = self._failure(body.reader, error, kind, head_end)
                    raise
                if not piece:
                    break
                size += len(piece)
                if record is None:
                    raw(piece)
                else:
                    pieces.add(piece, root.buffer.head)
            now = root.buffer.head
            pieces.flush(now)
            if record is not None:
                record(
                    {
                        "offset": pieces.mark,
                        "length": now - pieces.mark,
                        "type": "end",
                        "body_offset": head_end,
                        "body_length": now - head_end,
                        "size": size,
                        "trailers": _fields(body.trailers),
                    }
                )
            if framing.kind == "tunnel" or framing.keep_alive:
                if framing.kind == "tunnel":
                    return
                continue
            if root.buffer or await root.fill():
                why = f"its framing, {framing.rule}" if framing.must_close else "RFC 9112 9.3"
                raise MalformedError(
                    f"bytes after a {kind} that closes the connection ({why})",
                    offset=root.buffer.head,
                )
            return

    def _failure(
        self, reader: StreamReader, error: FramingError, kind: str, body_start: int
    ) -> BodyFailure | None:
        """Which layer of a body found ``error`` (None if none did: the input's error)."""
        layers = []
        while isinstance(reader, LayerReader):
            layers.append(reader)
            reader = reader.source
        for layer in reversed(layers):  # the framing layer first
            if layer.exception() is error:
                source = layer.source
                if not isinstance(source, LayerReader):  # the framing layer: the offset is
                    return BodyFailure(_codec_name(layer.codec, self._names))  # in the input
                stream = (
                    f"the output of {_codec_name(source.codec, self._names)} in the body of "
                    f"the {kind} at offset {body_start}"
                )
                buffer = source.buffer
                with buffer.view() as view:
                    held = bytes(view)
                return BodyFailure(_codec_name(layer.codec, self._names), stream, buffer.head, held)
        return None
