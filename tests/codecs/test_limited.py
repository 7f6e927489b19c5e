from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framekit.codecs._base import decode_byte_pieces
from framekit.codecs.limited import Limited
from framekit.errors import TruncatedError


def test_decodes_exactly_length_bytes() -> None:
    out, leftover = decode_byte_pieces(Limited(5).decoder(), [b"hello"])
    assert out.take_all() == b"hello"
    assert leftover == b""


def test_leaves_bytes_after_the_body_in_the_source() -> None:
    decoder = Limited(3).decoder()
    out, leftover = decode_byte_pieces(decoder, [b"ab", b"cGET / HTTP/1.1\r\n"])
    assert decoder.done
    assert out.take_all() == b"abc"
    assert leftover == b"GET / HTTP/1.1\r\n"


def test_zero_length_is_done_at_once() -> None:
    decoder = Limited(0).decoder()
    assert decoder.done
    out, leftover = decode_byte_pieces(decoder, [b"next"])
    assert out.take_all() == b""
    assert leftover == b"next"


@pytest.mark.parametrize("cut", range(5))
def test_eof_before_length_is_truncated_at_the_end_offset(cut: int) -> None:
    with pytest.raises(TruncatedError) as info:
        decode_byte_pieces(Limited(5).decoder(), [b"hello"[:cut]])
    assert info.value.offset == cut


def test_output_respects_the_budget() -> None:
    decoder = Limited(10).decoder()
    sizes: list[int] = []

    class Sink:
        def write(self, data: bytes | bytearray | memoryview) -> None:
            sizes.append(len(data))

        def mark_chunk_end(self) -> None:
            raise AssertionError("no chunks in a Limited body")

    consumed = decoder.decode(memoryview(b"0123456789"), Sink(), 4)
    assert consumed == 4
    assert sizes == [4]


@pytest.mark.parametrize("length", [-1, 1.5, "3", True])
def test_length_must_be_a_non_negative_int(length: object) -> None:
    with pytest.raises(ValueError, match="length"):
        Limited(length)  # type: ignore[arg-type]


def test_encoder_refuses_a_short_body_at_finish() -> None:
    encoder = Limited(3).encoder()
    assert encoder.feed(b"ab") == b"ab"
    with pytest.raises(ValueError, match="shorter"):
        encoder.finish()


def test_encoder_refuses_a_long_body() -> None:
    encoder = Limited(3).encoder()
    with pytest.raises(ValueError, match="longer"):
        encoder.feed(b"abcd")


@settings(max_examples=60, deadline=None)
@given(
    pieces=st.lists(st.binary(max_size=20), max_size=8),
    trailing=st.binary(max_size=10),
    data=st.data(),
)
def test_round_trip_for_any_split(
    pieces: list[bytes], trailing: bytes, data: st.DataObject
) -> None:
    body = b"".join(pieces)
    encoder = Limited(len(body)).encoder()
    wire = b"".join(encoder.feed(p) for p in pieces) + encoder.finish() + trailing
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=6)))
    split = [wire[a:b] for a, b in zip([0, *cuts], [*cuts, len(wire)], strict=True)]
    out, leftover = decode_byte_pieces(Limited(len(body)).decoder(), split, budget=7)
    assert out.take_all() == body
    assert leftover == trailing
