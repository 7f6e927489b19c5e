"""framekit's RESP decoder against hiredis-py and redis-py's pure parsers, on the same bytes.

Every redis-server capture (tests/resp/captures) is parsed by ``hiredis.Reader`` and by
redis-py's ``_RESP3Parser`` / ``_RESP2Parser`` (over a socket stand-in that hands them the
bytes): where they are right, they agree with framekit value for value, in their own
representation (tests/resp/values.py: ``peer_agrees``). Where they are not, the
disagreement is asserted, so a peer that changes shows here:

- **Attributes** (``|``, ``DEBUG PROTOCOL attrib``): hiredis returns the attribute map as a
  reply of its own, so every later reply pairs with the wrong command (3 replies for the
  capture's 2); redis-py raises InvalidResponse. framekit attaches it to the value after
  it (``Attributed``).
- **Blob errors** (``!``): hiredis raises ProtocolError ("got "!" as reply type byte");
  framekit returns ``ReplyError(blob=True)`` (redis-py agrees: a ResponseError).
- **No CRLF after a bulk** (``$3\\r\\nabcXY``): hiredis and redis-py return ``b"abc"`` and
  go on; framekit raises MalformedError.
- **Streamed strings** (``$?``): hiredis raises ProtocolError, redis-py ValueError; framekit
  decodes them.
- **Pushes** (``>``): redis-py's parser hands a push to its handler and reads on, never
  returning it as a reply; it is compared with framekit's replies without the ``Push``
  values. (hiredis returns them, as ``PushNotification`` lists.)
- **``#f`` in hiredis**: ``Reader.gets()`` returns False for "no reply yet" too, so the
  comparison uses ``notEnoughData=`` a sentinel of its own.
"""

from __future__ import annotations

import hiredis
import pytest
from redis._parsers.encoders import Encoder
from redis._parsers.resp2 import _RESP2Parser
from redis._parsers.resp3 import _RESP3Parser
from redis._parsers.socket import SocketBuffer
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import InvalidResponse

from framekit.codecs.resp import Attributed, Push, ReplyError, Resp
from framekit.errors import MalformedError
from framekit.sync import decode
from tests.resp.captures import capture_names, load_capture, load_manifest
from tests.resp.values import peer_agrees

NOT_YET = object()

#: Captures where a peer is wrong, and the test that asserts how.
HIREDIS_WRONG = {"debug_attrib"}
REDIS_PY_WRONG = {"debug_attrib"}


def hiredis_replies(data: bytes) -> list[object]:
    """Every reply hiredis.Reader gives for ``data``; a raised error ends the list."""
    reader = hiredis.Reader(notEnoughData=NOT_YET)
    reader.feed(data)
    replies: list[object] = []
    while True:
        try:
            reply = reader.gets()
        except hiredis.ProtocolError as error:
            return [*replies, error]
        if reply is NOT_YET:
            return replies
        replies.append(reply)


class _Bytes:
    """A socket stand-in for redis-py's SocketBuffer: hands out ``data``, then EOF."""

    def __init__(self, data: bytes) -> None:
        self._pieces = [data[i : i + 65536] for i in range(0, len(data), 65536)]

    def recv(self, size: int) -> bytes:
        return self._pieces.pop(0) if self._pieces else b""

    def settimeout(self, timeout: float | None) -> None:
        pass


def redis_py_replies(data: bytes, protocol: int) -> list[object]:
    """Every reply redis-py's pure parser reads from ``data``; an error (not EOF) ends it."""
    parser = (_RESP3Parser if protocol == 3 else _RESP2Parser)(65536)
    parser._buffer = SocketBuffer(_Bytes(data), 65536, None)  # type: ignore[arg-type]
    parser.encoder = Encoder("utf-8", "strict", False)
    replies: list[object] = []
    while True:
        try:
            replies.append(parser.read_response(disable_decoding=True))
        except RedisConnectionError:  # the end of the bytes
            return replies
        except Exception as error:
            return [*replies, error]


def ours(name: str) -> list[object]:
    return decode(load_capture(name), Resp())


@pytest.mark.parametrize("name", [n for n in capture_names() if n not in HIREDIS_WRONG])
def test_hiredis_agrees_on_capture(name: str) -> None:
    mine, theirs = ours(name), hiredis_replies(load_capture(name))
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs, strict=True):
        assert peer_agrees(a, b, bignum_as_bytes=True), (a, b)


@pytest.mark.parametrize("name", [n for n in capture_names() if n not in REDIS_PY_WRONG])
def test_redis_py_agrees_on_capture_less_its_pushes(name: str) -> None:
    protocol = load_manifest()["captures"][name]["protocol"]
    mine = [value for value in ours(name) if not isinstance(value, Push)]
    theirs = redis_py_replies(load_capture(name), protocol)
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs, strict=True):
        assert peer_agrees(a, b, bignum_as_bytes=False), (a, b)


def test_hiredis_returns_an_attribute_as_a_reply_of_its_own() -> None:
    mine, theirs = ours("debug_attrib"), hiredis_replies(load_capture("debug_attrib"))
    assert len(mine) == 2 and isinstance(mine[0], Attributed) and mine[1] == "PONG"
    assert theirs == [
        [b"key-popularity", [b"key:123", 90]],
        b"Some real reply following the attribute",
        b"PONG",
    ]


def test_redis_py_rejects_an_attribute() -> None:
    theirs = redis_py_replies(load_capture("debug_attrib"), 3)
    assert len(theirs) == 1 and isinstance(theirs[0], InvalidResponse)


BLOB_ERROR = b"!21\r\nSYNTAX invalid syntax\r\n"


def test_hiredis_rejects_a_blob_error_framekit_returns_it() -> None:
    (theirs,) = hiredis_replies(BLOB_ERROR)
    assert isinstance(theirs, hiredis.ProtocolError) and '"!"' in str(theirs)
    (mine,) = decode(BLOB_ERROR, Resp())
    assert isinstance(mine, ReplyError)
    assert (mine.message, mine.code, mine.blob) == ("SYNTAX invalid syntax", "SYNTAX", True)


NO_CRLF = b"$3\r\nabcXY+OK\r\n"


def test_peers_accept_a_bulk_without_its_crlf_framekit_rejects_it() -> None:
    assert hiredis_replies(NO_CRLF)[0] == b"abc"
    assert redis_py_replies(NO_CRLF, 3)[0] == b"abc"
    with pytest.raises(MalformedError):
        decode(NO_CRLF, Resp())


STREAMED = b"$?\r\n;3\r\nabc\r\n;2\r\nde\r\n;0\r\n"


def test_peers_reject_a_streamed_string_framekit_decodes_it() -> None:
    assert isinstance(hiredis_replies(STREAMED)[0], hiredis.ProtocolError)
    assert isinstance(redis_py_replies(STREAMED, 3)[0], ValueError)
    assert decode(STREAMED, Resp()) == [b"abcde"]


def test_redis_py_does_not_return_pushes_as_replies() -> None:
    theirs = redis_py_replies(load_capture("tracking_invalidate"), 3)
    assert theirs == [b"OK", None, b"PONG"]
    assert [type(value) for value in ours("tracking_invalidate")] == [str, type(None), Push, str]


def test_hiredis_default_reader_cannot_tell_false_from_no_reply() -> None:
    reader = hiredis.Reader()
    reader.feed(b"#f\r\n")
    assert reader.gets() is False  # the reply, or "no reply yet": the same value
    assert reader.gets() is False
    assert decode(b"#f\r\n", Resp()) == [False]
