"""The ``needs_input`` hint: what decoders promise with it, and the calls drivers save by it.

A decoder's ``needs_input`` (see ``framekit/codecs/_base.py``) says that its last ``decode``
stopped only because the input ran out: called again with the bytes it left, it does nothing.
Frame readers and layers then wait for new input instead of decoding again. Here every codec
that sets the hint is checked against that promise over random (valid and broken) inputs in
random splits, and the readers are checked to make the saving (and to stay correct without it).
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framekit import MalformedError, StreamReader
from framekit._buffer import Buffer
from framekit.codecs import (
    Chunked,
    Delimited,
    LengthPrefixed,
    Limited,
    Lines,
    Netstring,
    OctetCounted,
    TextLines,
)
from framekit.codecs._base import BaseFrameDecoder, decode_byte_pieces, decode_frame_pieces
from framekit.errors import CodecContractError, FramingError
from framekit.sync import SyncReader, decode_bytes
from tests.codecs.ends import comparable
from tests.toy_codecs import Hexchunks, Semicolons

FRAME_CODECS: list[Any] = [
    Lines(),
    Lines(max_length=8),
    Lines(ending="crlf", max_length=12),
    Lines(ending="any", keep_ending=True),
    Lines(strip_cr=False, on_too_long="skip", max_length=6),
    TextLines(max_length=10),
    Delimited(delimiters=(b"||", b";"), max_length=9),
    Delimited(delimiters=(b"\r\n",), keep_delimiter=True, on_too_long="skip", max_length=5),
    LengthPrefixed(),
    LengthPrefixed(length_field_length=2, max_frame_length=12),
    LengthPrefixed(length_field_length="varint", on_too_long="skip", max_frame_length=20),
    LengthPrefixed(length_field_offset=1, length_field_length=1, initial_bytes_to_strip=0),
    Netstring(max_length=10),
    OctetCounted(max_length=10),
]


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


def wire(codec: Any, frames: list[bytes], noise: list[tuple[int, bytes]]) -> bytes:
    """Encoded ``frames`` with ``noise`` bytes inserted at places (errors of every kind)."""
    encoder = codec.encoder()
    parts: list[bytes] = []
    for frame in frames:
        try:
            parts.append(encoder.encode(frame.decode("ascii") if codec_is_text(codec) else frame))
        except (ValueError, FramingError):
            parts.append(frame)  # not encodable (too long, say): raw bytes, more noise
    for at, junk in noise:
        parts.insert(at % (len(parts) + 1), junk)
    return b"".join(parts)


def codec_is_text(codec: Any) -> bool:
    return isinstance(codec, TextLines)


class CheckedFrames:
    """A frame decoder that, whenever the decoder says it needs input, calls it again with the
    bytes it left and fails unless that call does nothing."""

    needs_input = False  # the wrapper itself promises nothing

    def __init__(self, decoder: Any) -> None:
        self.decoder = decoder
        self.checks = 0

    def decode(self, data: memoryview, frames: list[Any], ends: list[int] | None = None) -> int:
        consumed: int = self.decoder.decode(data, frames, ends)
        if self.decoder.needs_input:
            extra: list[Any] = []
            with data[consumed:] as rest:
                assert self.decoder.decode(rest, extra, []) == 0
            assert extra == []
            self.checks += 1
        return consumed

    def decode_eof(self, data: memoryview, frames: list[Any], ends: list[int] | None = None) -> int:
        consumed: int = self.decoder.decode_eof(data, frames, ends)
        return consumed

    def reset_search(self) -> None:
        self.decoder.reset_search()

    def discard(self, data: memoryview, eof: bool) -> tuple[int, bool]:
        result: tuple[int, bool] = self.decoder.discard(data, eof)
        return result


@settings(max_examples=300, deadline=None)
@given(
    codec=st.sampled_from(FRAME_CODECS),
    frames=st.lists(st.binary(max_size=14).map(lambda b: b.replace(b"\x80", b"a")), max_size=8),
    noise=st.lists(
        st.tuples(st.integers(0, 9), st.sampled_from([b"\n", b"\r", b"9", b":", b"\xff", b"x"])),
        max_size=2,
    ),
    cuts=st.lists(st.integers(0, 200), max_size=12),
)
def test_frame_decoders_needing_input_do_nothing_when_asked_again(
    codec: Any, frames: list[bytes], noise: list[tuple[int, bytes]], cuts: list[int]
) -> None:
    if codec_is_text(codec):
        frames = [bytes(b % 128 for b in frame) for frame in frames]
    pieces = split(wire(codec, frames, noise), cuts)
    checked = CheckedFrames(codec.decoder())
    # The extra calls changed nothing: the same frames and errors as a plain run.
    assert comparable(decode_frame_pieces(checked, pieces)) == comparable(
        decode_frame_pieces(codec.decoder(), pieces)
    )


def test_frame_decoders_say_they_need_input_after_a_partial_frame() -> None:
    for codec, partial in [
        (Lines(), b"abc\ndef"),
        (Delimited(delimiters=(b";",)), b"a;b"),
        (LengthPrefixed(), b"\x00\x00\x00\x01a\x00\x00\x00\x03ab"),
        (Netstring(), b"1:a,3:ab"),
        (OctetCounted(), b"1 a3 ab"),
    ]:
        decoder = codec.decoder()
        frames: list[Any] = []
        with memoryview(partial) as view:
            decoder.decode(view, frames)
        assert len(frames) == 1 and decoder.needs_input, codec


def test_a_decoder_with_an_error_for_the_next_call_does_not_need_input() -> None:
    decoder = Lines(ending="crlf").decoder()
    frames: list[Any] = []
    with memoryview(b"ok\r\nbad\nline\r\n") as view:
        consumed = decoder.decode(view, frames)
    assert frames == [b"ok"] and consumed == 4
    assert not decoder.needs_input
    with memoryview(b"bad\nline\r\n") as view, pytest.raises(MalformedError):
        decoder.decode(view, frames)


class CheckedBytes:
    """A byte decoder wrapper checking the ``needs_input`` promise after every call."""

    needs_input = False  # the wrapper itself promises nothing

    def __init__(self, decoder: Any) -> None:
        self.decoder = decoder
        self.checks = 0

    @property
    def done(self) -> bool:
        return bool(self.decoder.done)

    def decode(self, data: memoryview, out: Any, budget: int) -> int:
        consumed: int = self.decoder.decode(data, out, budget)
        if self.decoder.needs_input:
            assert not self.decoder.done
            probe = Buffer()
            with data[consumed:] as rest:
                assert self.decoder.decode(rest, probe, budget) == 0
            assert probe.produced == 0 and not self.decoder.done
            self.checks += 1
        return consumed

    def decode_eof(self, data: memoryview, out: Any, budget: int) -> int:
        consumed: int = self.decoder.decode_eof(data, out, budget)
        return consumed


def byte_results(decoder: Any, pieces: list[bytes], budget: int) -> tuple[Any, ...]:
    try:
        out, rest = decode_byte_pieces(decoder, pieces, budget=budget)
    except FramingError as error:
        return ("error", type(error), error.offset, str(error))
    return (out.take_all(), rest)


@settings(max_examples=300, deadline=None)
@given(
    chunks=st.lists(st.binary(min_size=1, max_size=40), max_size=6),
    noise=st.lists(
        st.tuples(st.integers(0, 400), st.sampled_from([b"\n", b"\r", b"g", b" ", b";x"])),
        max_size=2,
    ),
    lenient=st.booleans(),
    budget=st.integers(1, 64),
    cuts=st.lists(st.integers(0, 500), max_size=12),
)
def test_chunked_needing_input_does_nothing_when_asked_again(
    chunks: list[bytes],
    noise: list[tuple[int, bytes]],
    lenient: bool,
    budget: int,
    cuts: list[int],
) -> None:
    codec = Chunked(lenient=lenient)
    encoder = codec.encoder()
    data = bytearray(b"".join(encoder.feed(c) for c in chunks) + encoder.finish() + b"next")
    for at, junk in noise:
        at %= len(data) + 1
        data[at:at] = junk
    pieces = split(bytes(data), cuts)
    checked = CheckedBytes(codec.decoder())
    assert byte_results(checked, pieces, budget) == byte_results(codec.decoder(), pieces, budget)


@settings(max_examples=100, deadline=None)
@given(
    body=st.binary(max_size=60),
    length=st.integers(0, 80),
    budget=st.integers(1, 30),
    cuts=st.lists(st.integers(0, 100), max_size=8),
)
def test_limited_needing_input_does_nothing_when_asked_again(
    body: bytes, length: int, budget: int, cuts: list[int]
) -> None:
    pieces = split(body, cuts)
    checked = CheckedBytes(Limited(length).decoder())
    assert byte_results(checked, pieces, budget) == byte_results(
        Limited(length).decoder(), pieces, budget
    )


# -- what the readers save, and that they stay right without the hint -----------------------


class CountingCodec:
    """Wraps a codec; counts its decoders' ``decode`` calls (the hint passes through)."""

    def __init__(self, codec: Any) -> None:
        self.codec = codec
        self.calls = 0

    def decoder(self) -> Any:
        counter = self
        inner = self.codec.decoder()

        class Decoder:
            @property
            def done(self) -> bool:
                return bool(inner.done)

            @property
            def needs_input(self) -> bool:
                return bool(inner.needs_input)

            def decode(self, *args: Any) -> int:
                counter.calls += 1
                result: int = inner.decode(*args)
                return result

            def decode_eof(self, *args: Any) -> int:
                result: int = inner.decode_eof(*args)
                return result

            def reset_search(self) -> None:
                inner.reset_search()

            def discard(self, data: memoryview, eof: bool) -> tuple[int, bool]:
                result: tuple[int, bool] = inner.discard(data, eof)
                return result

        return Decoder()

    def encoder(self) -> Any:
        return self.codec.encoder()


async def feed_slowly(reader: StreamReader, pieces: list[bytes]) -> None:
    for piece in pieces:
        await asyncio.sleep(0)
        reader.feed_data(piece)
    await asyncio.sleep(0)
    reader.feed_eof()


@pytest.mark.parametrize("batches", [False, True])
async def test_frame_reader_decodes_once_per_piece(batches: bool) -> None:
    encoder = LengthPrefixed().encoder()
    frames = [bytes([65 + i % 26]) * (i % 50) for i in range(300)]
    pieces = split(b"".join(map(encoder.encode, frames)), list(range(37, 20000, 37)))
    root = StreamReader()
    codec = CountingCodec(LengthPrefixed())
    reader = root.frames(codec)
    feeding = asyncio.ensure_future(feed_slowly(root, pieces))
    got: list[bytes] = []
    if batches:
        while batch := await reader.read_batch():
            got.extend(batch)
    else:
        async for frame in reader:
            got.append(frame)
    await feeding
    assert got == frames
    # One decode per piece fed (the reader runs after each): without the hint, two.
    assert codec.calls <= len(pieces) + 1


async def test_chunked_layer_decodes_once_per_piece() -> None:
    encoder = Chunked().encoder()
    body = bytes(range(256)) * 64
    wire = b"".join(encoder.feed(body[i : i + 1000]) for i in range(0, len(body), 1000))
    pieces = split(wire + encoder.finish(), list(range(700, 20000, 700)))
    root = StreamReader()
    codec = CountingCodec(Chunked())
    body_reader = root.layer(codec)
    feeding = asyncio.ensure_future(feed_slowly(root, pieces))
    got = b""
    while chunk := await body_reader.readany():
        got += chunk
    await feeding
    assert got == body
    assert codec.calls <= len(pieces) + 1


async def test_decoders_whose_hint_promises_nothing_are_asked_again() -> None:
    # The toy codecs' ``needs_input`` is always False: readers decode again, nothing changes.
    root = StreamReader()
    lines = root.frames(Semicolons())
    feeding = asyncio.ensure_future(feed_slowly(root, [b"a;b", b"c;", b"d;e;"]))
    assert [frame async for frame in lines] == [b"a", b"bc", b"d", b"e"]
    await feeding
    root = StreamReader()
    body = root.layer(Hexchunks())
    feeding = asyncio.ensure_future(feed_slowly(root, [b"3a", b"bc2", b"de0"]))
    assert await body.read() == b"abcde"
    await feeding


# -- a layer waiting on a root waits on the root's own waiter ------------------------------


async def test_layer_set_exception_wakes_a_read_waiting_on_the_root() -> None:
    root = StreamReader()
    body = root.layer(Chunked())
    task = asyncio.ensure_future(body.readany())
    await asyncio.sleep(0)
    body.set_exception(ConnectionAbortedError("gone"))
    with pytest.raises(ConnectionAbortedError):
        await task
    root.feed_data(b"3\r\nabc\r\n")  # the root is still usable
    assert root.read_nowait() == b"3\r\nabc\r\n"


async def test_root_framing_error_while_a_layer_waits_fails_the_layer() -> None:
    root = StreamReader()
    body = root.layer(Chunked())
    task = asyncio.ensure_future(body.readany())
    await asyncio.sleep(0)
    error = MalformedError("bad below", offset=3)
    root.set_exception(error)
    with pytest.raises(MalformedError):
        await task
    assert body.exception() is error


async def test_root_read_while_a_layer_waits_is_a_runtime_error() -> None:
    root = StreamReader()
    body = root.layer(Chunked())
    task = asyncio.ensure_future(body.readany())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError):
        await root.read(1)
    root.feed_data(b"2\r\nhi\r\n")
    assert await task == b"hi"


# -- the hint is part of the contract ----------------------------------------------------------


class _WithoutHintDecoder:
    """A Semicolons decoder without ``needs_input`` (written when the hint was optional)."""

    def __init__(self) -> None:
        self._inner = Semicolons().decoder()

    def decode(self, data: memoryview, frames: list[bytes], ends: Any = None) -> int:
        return self._inner.decode(data, frames, ends)

    def decode_eof(self, data: memoryview, frames: list[bytes], ends: Any = None) -> int:
        return self._inner.decode_eof(data, frames, ends)

    def reset_search(self) -> None:
        self._inner.reset_search()

    def discard(self, data: memoryview, eof: bool) -> tuple[int, bool]:
        return self._inner.discard(data, eof)


class _WithoutHint:
    def decoder(self) -> _WithoutHintDecoder:
        return _WithoutHintDecoder()

    def encoder(self) -> Any:
        return Semicolons().encoder()


class _BytesWithoutHintDecoder:
    """A Hexchunks decoder without ``needs_input``."""

    def __init__(self) -> None:
        self._inner = Hexchunks().decoder()

    @property
    def done(self) -> bool:
        return self._inner.done

    def decode(self, data: memoryview, out: Any, budget: int) -> int:
        return self._inner.decode(data, out, budget)

    def decode_eof(self, data: memoryview, out: Any, budget: int) -> int:
        return self._inner.decode_eof(data, out, budget)


class _BytesWithoutHint:
    def decoder(self) -> _BytesWithoutHintDecoder:
        return _BytesWithoutHintDecoder()

    def encoder(self) -> Any:
        return Hexchunks().encoder()


def _assert_names_the_missing_hint(error: CodecContractError) -> None:
    message = str(error)
    assert "needs_input" in message and "every" in message, message
    assert "BaseFrameDecoder" in message or "needs_input = False" in message, message


@pytest.mark.parametrize("adapter", ["async frames", "sync frames", "reference"])
def test_a_frame_decoder_without_needs_input_is_a_contract_error_naming_the_rule(
    adapter: str,
) -> None:
    with pytest.raises(CodecContractError) as info:
        if adapter == "async frames":
            StreamReader().frames(_WithoutHint())
        elif adapter == "sync frames":
            SyncReader([b"a;"]).frames(_WithoutHint())
        else:
            decode_frame_pieces(_WithoutHintDecoder(), [b"a;"])
    _assert_names_the_missing_hint(info.value)


@pytest.mark.parametrize("adapter", ["layer", "decode_bytes", "reference"])
def test_a_byte_decoder_without_needs_input_is_a_contract_error_naming_the_rule(
    adapter: str,
) -> None:
    with pytest.raises(CodecContractError) as info:
        if adapter == "layer":
            StreamReader().layer(_BytesWithoutHint())
        elif adapter == "decode_bytes":
            decode_bytes(b"3abc0", _BytesWithoutHint())
        else:
            decode_byte_pieces(_BytesWithoutHintDecoder(), [b"3abc0"])
    _assert_names_the_missing_hint(info.value)


def test_base_frame_decoder_gives_a_needs_input_that_promises_nothing() -> None:
    class Whole(BaseFrameDecoder[bytes]):
        def decode(self, data: memoryview, frames: list[bytes], ends: Any = None) -> int:
            return 0

        def decode_eof(self, data: memoryview, frames: list[bytes], ends: Any = None) -> int:
            return 0

    assert Whole().needs_input is False


@pytest.mark.parametrize("codec", [*FRAME_CODECS, Chunked(), Limited(3)], ids=repr)
def test_every_builtin_decoder_has_a_boolean_needs_input(codec: Any) -> None:
    assert type(codec.decoder().needs_input) is bool


@pytest.mark.parametrize("name", ["Gzip", "Deflate", "RawDeflate", "Brotli", "Zstd"])
def test_every_decompressor_has_a_boolean_needs_input(name: str) -> None:
    from framekit.codecs import compression

    assert type(getattr(compression, name)().decoder().needs_input) is bool
