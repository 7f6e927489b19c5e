"""How an HTTP/1.1 message body is framed: RFC 9112 section 6.3, in order, as one pure function.

:func:`body_framing` looks at a head (for a response, also the request's method) and returns
a :class:`BodyFraming`: the kind of body, its length or transfer codings, whether the
connection must close after the message, whether it may be kept alive, and the rule that
decided (``"RFC 9112 6.3.4"``, for logs and error messages). It reads no bytes: the body
reader (:func:`framekit.http.open_body`) acts on the decision.

The rules, first match wins:

1. A response to HEAD, and every 1xx, 204 and 304 response: no body (6.3.1). A 101
   (Switching Protocols) response is a ``tunnel``: the bytes after its head are no longer
   HTTP/1.1 (RFC 9110 15.2.2).
2. A 2xx response to CONNECT: ``tunnel`` (6.3.2).
3. Transfer-Encoding and Content-Length both: Transfer-Encoding wins and the connection must
   close after the message (6.3.3); a request is refused (``error``, 400), as 6.3.3 lets a
   server do: the combination is the request-smuggling shape. ``allow_te_with_content_length``
   (llhttp's ``lenient_chunked_length``) reads such a request as the Transfer-Encoding says,
   then closes; the risk: a front end that used the Content-Length forwards the rest of the
   body as a second request.
4. Transfer-Encoding with ``chunked`` last: ``chunked``, with the codings before it in
   ``codings`` (``gzip, chunked``: decode chunked, then gzip). Not ending in chunked: a
   response is read until the connection closes, its codings still to undo (``chunked,
   gzip``: gzip, then chunked), a request is refused (400). A request coding the server does
   not know is a 501. ``chunked`` twice is an error (6.1: a sender MUST NOT apply it more
   than once). Several Transfer-Encoding fields are one list, in order. In an HTTP/1.0
   message Transfer-Encoding means the framing is faulty: it is read as the codings say, and
   the connection must close after it (6.1).
5. An invalid Content-Length (not 1*DIGIT, more than ``max_content_length_digits`` digits, or
   differing values): ``error`` (6.3.5; 400 for a request, and a client drops the
   connection). Identical values, in one field (``5, 5``) or several, are one (RFC 9110 8.6).
6. A valid Content-Length: ``length`` (6.3.6).
7. A request with neither: no body (6.3.7).
8. A response with neither: ``until-close`` (6.3.8); the connection cannot be reused.

``keep_alive`` is the connection's persistence (RFC 9112 9.3): HTTP/1.1 keeps the connection
unless a ``Connection: close`` option is sent, HTTP/1.0 closes it unless ``keep-alive`` is,
and a message whose framing needs the close (``must_close``) never keeps it.
"""

from __future__ import annotations

import re
from typing import Literal

import attrs

from framekit.codecs.http import Request, Response

__all__ = ["BodyFraming", "FramingKind", "body_framing"]

#: The kinds of body: none, Content-Length, chunked, read until the connection closes, the
#: connection becomes a tunnel, or the framing is invalid (the message cannot be read).
FramingKind = Literal["none", "length", "chunked", "until-close", "tunnel", "error"]

_DIGITS = re.compile(rb"[0-9]+")
#: The transfer codings a server can undo (with the brotli and zstd extras).
_KNOWN_CODINGS = frozenset({b"gzip", b"x-gzip", b"deflate", b"br", b"zstd"})


@attrs.define(frozen=True, kw_only=True)
class BodyFraming:
    """How a message's body is framed (see :func:`body_framing`).

    ``kind`` says how the body ends; ``length`` is the Content-Length for ``"length"``;
    ``codings`` the transfer codings to undo after the chunked coding (``chunked``) or on the
    bytes up to the close (``until-close``), lower-cased, in the order they were applied;
    ``must_close`` is True when the connection must be closed after this message;
    ``keep_alive`` whether it may carry another message; ``rule`` the rule that decided;
    ``reason`` what was wrong, for ``"error"``; ``status`` the response a server sends for
    a request that is an ``"error"`` (400, or 501 for an unknown transfer coding).
    """

    kind: FramingKind
    rule: str
    length: int | None = None
    codings: tuple[bytes, ...] = ()
    must_close: bool = False
    keep_alive: bool = True
    reason: str = ""
    status: int | None = None


def _tokens(values: list[bytes]) -> list[bytes]:
    return [
        item.strip(b" \t").lower()
        for value in values
        for item in value.split(b",")
        if item.strip(b" \t")
    ]


def _persistent(head: Request | Response) -> bool:
    options = _tokens(head.headers.get_all(b"connection"))
    if b"close" in options:
        return False
    if head.version >= (1, 1):
        return True
    return b"keep-alive" in options


def body_framing(
    head: Request | Response,
    *,
    request_method: bytes | None = None,
    allow_te_with_content_length: bool = False,
    max_content_length_digits: int = 19,
) -> BodyFraming:
    """The body framing of ``head`` (for a response, ``request_method`` is the method of the
    request it answers; None for GET-like). Never raises: an invalid framing is a
    :class:`BodyFraming` of kind ``"error"`` with the rule and the reason. See the module
    docstring for the rules and the options."""
    request = isinstance(head, Request)
    persistent = _persistent(head)

    def result(
        kind: FramingKind,
        rule: str,
        *,
        must_close: bool = False,
        length: int | None = None,
        codings: tuple[bytes, ...] = (),
        reason: str = "",
        status: int | None = None,
    ) -> BodyFraming:
        close = must_close or kind in ("until-close", "error")
        return BodyFraming(
            kind=kind,
            rule=rule,
            length=length,
            codings=codings,
            must_close=close,
            keep_alive=persistent and not close and kind != "tunnel",
            reason=reason,
            status=status,
        )

    def error(rule: str, reason: str, status: int = 400) -> BodyFraming:
        return result("error", rule, reason=reason, status=status if request else None)

    if isinstance(head, Response):
        status = head.status
        if status == 101:
            return result("tunnel", "RFC 9110 15.2.2")
        if request_method == b"HEAD" or 100 <= status < 200 or status in (204, 304):
            return result("none", "RFC 9112 6.3.1")
        if request_method == b"CONNECT" and 200 <= status < 300:
            return result("tunnel", "RFC 9112 6.3.2")
    headers = head.headers
    transfer = headers.get_all(b"transfer-encoding")
    lengths = headers.get_all(b"content-length")
    if transfer:
        faulty = head.version < (1, 1)  # RFC 9112 6.1: close after the message
        rule = "RFC 9112 6.3.4"
        if lengths:
            if request and not allow_te_with_content_length:
                return error(
                    "RFC 9112 6.3.3",
                    "Transfer-Encoding and Content-Length in one request (request smuggling)",
                )
            faulty = True
            rule = "RFC 9112 6.3.3"
        codings = _tokens(transfer)
        if not codings:
            return error("RFC 9112 6.1", "an empty Transfer-Encoding")
        if codings.count(b"chunked") > 1:
            return error("RFC 9112 6.1", "the chunked transfer coding applied more than once")
        if faulty and rule == "RFC 9112 6.3.4":
            rule = "RFC 9112 6.1"
        if request and codings[-1] != b"chunked":
            return error(
                "RFC 9112 6.3.4", "a request whose Transfer-Encoding does not end in chunked"
            )
        unknown = [coding for coding in codings[:-1] if coding not in _KNOWN_CODINGS]
        if request and unknown:
            return error(
                "RFC 9112 6.1", f"an unknown transfer coding {unknown[0][:40]!r}", status=501
            )
        if codings[-1] == b"chunked":
            return result("chunked", rule, codings=tuple(codings[:-1]), must_close=faulty)
        return result("until-close", "RFC 9112 6.3.4", codings=tuple(codings))
    if lengths:
        items = [item.strip(b" \t") for value in lengths for item in value.split(b",")]
        for item in items:
            if _DIGITS.fullmatch(item) is None:
                return error("RFC 9112 6.3.5", f"an invalid Content-Length {item[:40]!r}")
            if len(item) > max_content_length_digits:
                return error(
                    "RFC 9112 6.3.5",
                    f"a Content-Length of more than {max_content_length_digits} digits "
                    "(max_content_length_digits)",
                )
        values = {int(item) for item in items}
        if len(values) > 1:
            return error("RFC 9112 6.3.5", "differing Content-Length values")
        rule = "RFC 9110 8.6" if len(items) > 1 else "RFC 9112 6.3.6"
        return result("length", rule, length=values.pop())
    if request:
        return result("none", "RFC 9112 6.3.7")
    return result("until-close", "RFC 9112 6.3.8")
