"""The body-framing rules (RFC 9112 6.3 in order, 6.1, RFC 9110 8.6) as one pure function."""

from __future__ import annotations

import pytest

from framekit.codecs.http import Request, Response
from framekit.codecs.http_framing import BodyFraming, body_framing

Fields = list[tuple[bytes, bytes]]


def response(status: int, fields: Fields, version: tuple[int, int] = (1, 1)) -> Response:
    return Response(status=status, reason=b"X", version=version, headers=fields)


def request(fields: Fields, version: tuple[int, int] = (1, 1)) -> Request:
    return Request(method=b"POST", target=b"/", version=version, headers=fields)


TE_CHUNKED = (b"Transfer-Encoding", b"chunked")
CL5 = (b"Content-Length", b"5")


# -- rule 1 and 2: no body, tunnel --------------------------------------------------------


@pytest.mark.parametrize("status", [100, 102, 103, 199, 204, 304])
def test_1xx_204_304_have_no_body_whatever_their_framing_headers_say(status: int) -> None:
    framing = body_framing(response(status, [CL5, TE_CHUNKED]))
    assert (framing.kind, framing.rule) == ("none", "RFC 9112 6.3.1")
    assert framing.keep_alive


def test_a_response_to_head_has_no_body() -> None:
    framing = body_framing(response(200, [CL5]), request_method=b"HEAD")
    assert (framing.kind, framing.rule) == ("none", "RFC 9112 6.3.1")


def test_101_switching_protocols_is_a_tunnel() -> None:
    framing = body_framing(response(101, [(b"Upgrade", b"websocket")]))
    assert (framing.kind, framing.keep_alive) == ("tunnel", False)


def test_a_2xx_response_to_connect_is_a_tunnel() -> None:
    framing = body_framing(response(200, [CL5]), request_method=b"CONNECT")
    assert (framing.kind, framing.rule) == ("tunnel", "RFC 9112 6.3.2")
    assert body_framing(response(407, [CL5]), request_method=b"CONNECT").kind == "length"


# -- rule 3: Transfer-Encoding and Content-Length --------------------------------------------


def test_te_and_cl_in_a_response_is_chunked_and_must_close() -> None:
    framing = body_framing(response(200, [TE_CHUNKED, CL5]))
    assert (framing.kind, framing.rule, framing.must_close) == ("chunked", "RFC 9112 6.3.3", True)
    assert not framing.keep_alive


def test_te_and_cl_in_a_request_is_refused_with_400() -> None:
    framing = body_framing(request([CL5, TE_CHUNKED]))
    assert (framing.kind, framing.rule, framing.status) == ("error", "RFC 9112 6.3.3", 400)
    assert framing.must_close and "smuggling" in framing.reason


def test_allow_te_with_content_length_reads_the_request_chunked_then_closes() -> None:
    framing = body_framing(request([CL5, TE_CHUNKED]), allow_te_with_content_length=True)
    assert (framing.kind, framing.must_close) == ("chunked", True)


# -- rule 4: Transfer-Encoding ----------------------------------------------------------------


def test_te_ending_in_chunked_is_chunked_with_the_codings_before_it() -> None:
    framing = body_framing(response(200, [(b"Transfer-Encoding", b"GZip, chunked")]))
    assert (framing.kind, framing.codings, framing.rule) == (
        "chunked",
        (b"gzip",),
        "RFC 9112 6.3.4",
    )
    assert framing.keep_alive and not framing.must_close


def test_several_te_fields_are_one_list_in_order() -> None:
    fields = [(b"Transfer-Encoding", b"gzip"), (b"transfer-encoding", b"chunked")]
    assert body_framing(response(200, fields)).codings == (b"gzip",)
    assert body_framing(response(200, fields)).kind == "chunked"


def test_a_response_te_not_ending_in_chunked_is_read_until_close_with_its_codings() -> None:
    framing = body_framing(response(200, [(b"Transfer-Encoding", b"chunked, gzip")]))
    assert (framing.kind, framing.codings) == ("until-close", (b"chunked", b"gzip"))
    assert framing.must_close and not framing.keep_alive


def test_a_request_te_not_ending_in_chunked_is_refused_with_400() -> None:
    framing = body_framing(request([(b"Transfer-Encoding", b"gzip")]))
    assert (framing.kind, framing.status, framing.rule) == ("error", 400, "RFC 9112 6.3.4")


@pytest.mark.parametrize("value", [b"chunked, gzip", b"xcompress", b"chunked, xcompress"])
def test_a_request_te_not_ending_in_chunked_is_400_whatever_its_codings(value: bytes) -> None:
    # RFC 9112 6.3.4: the length cannot be determined, so 400, before any coding is looked at
    # (a chunked that is not last is not an unknown coding to answer 501 for).
    framing = body_framing(request([(b"Transfer-Encoding", value)]))
    assert (framing.kind, framing.status, framing.rule) == ("error", 400, "RFC 9112 6.3.4")


def test_a_request_with_an_unknown_transfer_coding_is_refused_with_501() -> None:
    framing = body_framing(request([(b"Transfer-Encoding", b"xcompress, chunked")]))
    assert (framing.kind, framing.status) == ("error", 501)


def test_chunked_twice_is_an_error() -> None:
    framing = body_framing(response(200, [(b"Transfer-Encoding", b"chunked, chunked")]))
    assert (framing.kind, framing.rule) == ("error", "RFC 9112 6.1")


def test_te_in_http_1_0_is_read_as_it_says_then_the_connection_closes() -> None:
    for head in (response(200, [TE_CHUNKED], (1, 0)), request([TE_CHUNKED], (1, 0))):
        framing = body_framing(head)
        assert (framing.kind, framing.rule, framing.must_close) == ("chunked", "RFC 9112 6.1", True)


# -- rules 5 and 6: Content-Length -----------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [[CL5], [CL5, CL5], [(b"Content-Length", b"5, 5")], [(b"Content-Length", b" 5 ,5")]],
)
def test_identical_content_lengths_are_one(fields: Fields) -> None:
    framing = body_framing(response(200, fields))
    assert (framing.kind, framing.length) == ("length", 5)
    assert framing.rule == (
        "RFC 9112 6.3.6" if len(fields) == 1 and b"," not in fields[0][1] else "RFC 9110 8.6"
    )


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ([CL5, (b"Content-Length", b"6")], "differing"),
        ([(b"Content-Length", b"5, 6")], "differing"),
        ([(b"Content-Length", b"+5")], "invalid"),
        ([(b"Content-Length", b"-1")], "invalid"),
        ([(b"Content-Length", b"0x5")], "invalid"),
        ([(b"Content-Length", b"")], "invalid"),
        ([(b"Content-Length", b"5,")], "invalid"),
        ([(b"Content-Length", b"1" * 20)], "19 digits"),
    ],
)
def test_invalid_content_length_is_an_error(value: Fields, words: str) -> None:
    for head in (response(200, value), request(value)):
        framing = body_framing(head)
        assert (framing.kind, framing.rule, framing.must_close) == ("error", "RFC 9112 6.3.5", True)
        assert words in framing.reason
    assert body_framing(request(value)).status == 400


def test_content_length_of_19_digits_is_a_length() -> None:
    framing = body_framing(response(200, [(b"Content-Length", b"9" * 19)]))
    assert (framing.kind, framing.length) == ("length", 10**19 - 1)


def test_max_content_length_digits_is_an_option() -> None:
    head = response(200, [(b"Content-Length", b"123")])
    assert body_framing(head, max_content_length_digits=2).kind == "error"


# -- rules 7 and 8 ------------------------------------------------------------------------------


def test_a_request_with_neither_has_no_body() -> None:
    framing = body_framing(request([]))
    assert (framing.kind, framing.rule, framing.keep_alive) == ("none", "RFC 9112 6.3.7", True)


def test_a_response_with_neither_is_read_until_close() -> None:
    framing = body_framing(response(200, []))
    assert (framing.kind, framing.rule, framing.must_close) == (
        "until-close",
        "RFC 9112 6.3.8",
        True,
    )


# -- keep-alive --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "connection", "keep_alive"),
    [
        ((1, 1), None, True),
        ((1, 1), b"close", False),
        ((1, 1), b"Keep-Alive, CLOSE", False),
        ((1, 0), None, False),
        ((1, 0), b"keep-alive", True),
        ((1, 0), b"Upgrade, Keep-Alive", True),
    ],
)
def test_keep_alive_follows_version_and_connection_options(
    version: tuple[int, int], connection: bytes | None, keep_alive: bool
) -> None:
    fields = [CL5] + ([(b"Connection", connection)] if connection else [])
    framing = body_framing(response(200, fields, version))
    assert (framing.keep_alive, framing.must_close) == (keep_alive, False)


def test_the_decision_is_a_value() -> None:
    assert body_framing(response(200, [CL5])) == BodyFraming(
        kind="length", rule="RFC 9112 6.3.6", length=5, keep_alive=True
    )
