"""framekit.sync: the codecs over files, sockets and iterables, without an event loop."""

from __future__ import annotations

import gzip
import io
import itertools
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framekit.codecs._base import decode_frame_pieces
from framekit.codecs.chunked import Chunked
from framekit.codecs.compression import Gzip, content_decoding
from framekit.codecs.delimited import Delimited
from framekit.codecs.length import LengthPrefixed
from framekit.codecs.lines import Lines, TextLines
from framekit.codecs.netstring import Netstring, OctetCounted
from framekit.errors import (
    EndOfStream,
    FrameTooLong,
    FramingError,
    LimitExceededError,
    LineTooLong,
    MalformedError,
    TruncatedError,
)
from framekit.sync import (
    SyncFrameReader,
    SyncReader,
    decode,
    decode_bytes,
    iter_decoded,
    iter_frames,
)
from tests.toy_codecs import FailsHoldingASlice

_NO_LINE_BREAK = st.binary(max_size=20).map(lambda b: b.replace(b"\n", b"").replace(b"\r", b""))

#: Every frame codec, with a strategy for frames it round-trips.
CODECS: list[tuple[str, Any, st.SearchStrategy[Any]]] = [
    ("lines-lf", Lines(), _NO_LINE_BREAK),
    ("lines-crlf", Lines(ending="crlf"), _NO_LINE_BREAK),
    ("lines-any", Lines(ending="any"), _NO_LINE_BREAK),
    ("lines-keep", Lines(keep_ending=True), _NO_LINE_BREAK.map(lambda b: b + b"\n")),
    ("text-lines", TextLines(), st.text(max_size=12).filter(lambda t: not set(t) & {"\r", "\n"})),
    ("delimited", Delimited(), _NO_LINE_BREAK),
    (
        "delimited-end",
        Delimited(delimiters=(b"--END--",)),
        st.binary(max_size=20).map(lambda b: b.replace(b"-", b"")),
    ),
    ("length4", LengthPrefixed(), st.binary(max_size=40)),
    ("varint", LengthPrefixed(length_field_length="varint"), st.binary(max_size=200)),
    ("netstring", Netstring(), st.binary(max_size=40)),
    ("octet-counted", OctetCounted(), st.binary(min_size=1, max_size=40)),
]
IDS = [name for name, _, _ in CODECS]


def wire(codec: Any, frames: list[Any]) -> bytes:
    encoder = codec.encoder()
    return b"".join(encoder.encode(frame) for frame in frames)


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    bounds = [0, *sorted({min(cut, len(data)) for cut in cuts}), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


def collect(frames: SyncFrameReader[Any]) -> list[Any]:
    """Every frame, with each error in its place as (type, offset), as decode_frame_pieces."""
    results: list[Any] = []
    last: tuple[type[FramingError], int | None] | None = None
    while True:
        try:
            frame = next(frames)
        except StopIteration:
            return results
        except FramingError as error:
            key = (type(error), error.offset)
            if key == last:  # an error the codec cannot recover from, raised again
                return results
            results.append(key)
            last = key
            continue
        results.append(frame)
        last = None


def reference(codec: Any, data: bytes) -> list[Any]:
    """What the reference driver of framekit.codecs._base gives for ``data`` in one piece."""
    return [
        (type(item), item.offset) if isinstance(item, FramingError) else item
        for item in decode_frame_pieces(codec.decoder(), [data])
    ]


# -- any split gives the frames of the one-call decode ------------------------------------


@pytest.mark.parametrize(("name", "codec", "frame"), CODECS, ids=IDS)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_frames_of_any_split_are_those_of_the_one_call_decode(
    name: str, codec: Any, frame: st.SearchStrategy[Any], data: st.DataObject
) -> None:
    frames = data.draw(st.lists(frame, max_size=8))
    encoded = wire(codec, frames)
    assert decode(encoded, codec) == frames
    cuts = data.draw(st.lists(st.integers(0, len(encoded)), max_size=10))
    assert list(iter_frames(split(encoded, cuts), codec)) == frames


@pytest.mark.parametrize(("name", "codec", "frame"), CODECS, ids=IDS)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_input_split_anyhow_gives_the_reference_frames_and_errors(
    name: str, codec: Any, frame: st.SearchStrategy[Any], data: st.DataObject
) -> None:
    # Frames, garbage and truncation mixed: the same frames and errors, at the same offsets,
    # as the reference driver, for any split and any read size.
    frames = data.draw(st.lists(frame, max_size=4))
    encoded = wire(codec, frames)
    garbage = data.draw(st.binary(max_size=12))
    at = data.draw(st.integers(0, len(encoded)))
    stream = encoded[:at] + garbage + encoded[at:]
    stream = stream[: data.draw(st.integers(0, len(stream)))]
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=10))
    expected = reference(codec, stream)
    assert collect(iter_frames(split(stream, cuts), codec)) == expected
    read_size = data.draw(st.integers(1, 8))
    assert collect(iter_frames(io.BytesIO(stream), codec, read_size=read_size)) == expected


# -- sources -------------------------------------------------------------------------------


def frames_for(codec: Any, count: int) -> list[Any]:
    if isinstance(codec, TextLines):
        return [f"frame {i} é" * (i % 7) for i in range(count)]
    if isinstance(codec, Lines) and codec.keep_ending:
        return [b"frame %d\n" % i for i in range(count)]
    return [b"frame %d " % i + b"x" * (i % 37) for i in range(count)]


@pytest.mark.parametrize(("name", "codec", "frame"), CODECS, ids=IDS)
def test_frames_from_a_file(
    name: str, codec: Any, frame: st.SearchStrategy[Any], tmp_path: Path
) -> None:
    frames = frames_for(codec, 500)
    path = tmp_path / "frames.bin"
    path.write_bytes(wire(codec, frames))
    with path.open("rb") as file:
        assert list(iter_frames(file, codec, read_size=1000)) == frames


def test_frames_from_an_unbuffered_file(tmp_path: Path) -> None:
    frames = frames_for(Lines(), 300)
    path = tmp_path / "lines.txt"
    path.write_bytes(wire(Lines(), frames))
    with path.open("rb", buffering=0) as file:
        assert list(iter_frames(file, Lines(), read_size=7)) == frames


@pytest.mark.parametrize(("name", "codec", "frame"), CODECS, ids=IDS)
def test_frames_from_a_socket(name: str, codec: Any, frame: st.SearchStrategy[Any]) -> None:
    frames = frames_for(codec, 2000)
    data = wire(codec, frames)
    ours, theirs = socket.socketpair()

    def write() -> None:
        with theirs:
            for start in range(0, len(data), 333):
                theirs.sendall(data[start : start + 333])
            theirs.shutdown(socket.SHUT_WR)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        with ours:
            assert list(iter_frames(ours, codec, read_size=4096)) == frames
    finally:
        writer.join()


def test_frames_from_a_socket_file() -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs, ours.makefile("rb") as file:
        theirs.sendall(b"one\ntwo\n")
        frames = iter_frames(file, Lines())
        # A pipe or a socket file gives what has arrived: no waiting for a full read_size.
        assert next(frames) == b"one"
        assert next(frames) == b"two"
        theirs.shutdown(socket.SHUT_WR)
        assert list(frames) == []


@pytest.mark.parametrize(("name", "codec", "frame"), CODECS, ids=IDS)
def test_frames_from_a_generator_of_pieces(
    name: str, codec: Any, frame: st.SearchStrategy[Any]
) -> None:
    frames = frames_for(codec, 200)
    data = wire(codec, frames)

    def pieces() -> Iterator[bytes | bytearray | memoryview]:
        for start in range(0, len(data), 11):
            yield b""  # skipped, not an end
            yield memoryview(bytearray(data[start : start + 11]))

    assert list(iter_frames(pieces(), codec)) == frames


def test_frames_from_a_bytes_object() -> None:
    assert list(iter_frames(b"a\nb\nc", Lines())) == [b"a", b"b", b"c"]
    assert list(iter_frames(b"", Lines())) == []


def test_an_unsupported_source_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="source"):
        iter_frames(42, Lines())  # type: ignore[arg-type]


def test_read_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="read_size"):
        iter_frames(io.BytesIO(b""), Lines(), read_size=0)


class FlakyFile:
    """A file whose every other read fails, as a socket with a timeout can."""

    def __init__(self, data: bytes) -> None:
        self._file = io.BytesIO(data)
        self._fail = True

    def readinto(self, buffer: Any) -> int:
        self._fail = not self._fail
        if not self._fail:
            raise TimeoutError("timed out")
        return self._file.readinto(memoryview(buffer)[:3])


def test_a_failed_source_read_loses_nothing_and_can_be_retried() -> None:
    frames = iter_frames(FlakyFile(b"alpha\nbeta\ngamma"), Lines())
    got = []
    failures = 0
    while True:
        try:
            frame = frames.read()
        except TimeoutError:
            failures += 1
            continue
        except EndOfStream:
            break
        got.append(frame)
    assert got == [b"alpha", b"beta", b"gamma"]
    assert failures > 3


def test_a_non_blocking_source_without_bytes_is_a_blocking_io_error() -> None:
    class NotReady:
        def readinto(self, buffer: Any) -> None:
            return None

    with pytest.raises(BlockingIOError):
        next(iter_frames(NotReady(), Lines()))


# -- decode in one call ----------------------------------------------------------------------


def test_decode_delivers_a_final_line_without_ending() -> None:
    assert decode(b"a\r\nb\nlast", Lines()) == [b"a", b"b", b"last"]


def test_decode_raises_truncated_for_a_final_line_when_at_eof_is_error() -> None:
    with pytest.raises(TruncatedError) as info:
        decode(b"a\nlast", Lines(at_eof="error"))
    assert info.value.offset == 2


def test_decode_raises_truncated_for_a_frame_cut_short() -> None:
    with pytest.raises(TruncatedError) as info:
        decode(b"\x00\x00\x00\x01a\x00\x00\x00\x05ab", LengthPrefixed())
    assert info.value.offset == 5


def test_decode_raises_the_first_error_with_its_offset() -> None:
    with pytest.raises(MalformedError) as info:
        decode(b"1:a,2:bc;", Netstring())
    assert info.value.offset == 8


def test_decode_accepts_any_bytes_like_object() -> None:
    assert decode(memoryview(b"2:hi,"), Netstring()) == [b"hi"]
    assert decode(bytearray(b"x\n"), TextLines()) == ["x"]


# -- errors while iterating ----------------------------------------------------------------

TOO_LONG = [
    (Lines(max_length=3), b"a\nxxxxxxx\nb\nc\n", LineTooLong, 2),
    (Delimited(max_length=3), b"a\r\nxxxxxxx\r\nb\r\nc\r\n", LineTooLong, 3),
    (
        LengthPrefixed(length_field_length=1, max_frame_length=4),
        b"\x01a\x07xxxxxxx\x01b\x01c",
        FrameTooLong,
        2,
    ),
    (Netstring(max_length=3), b"1:a,7:xxxxxxx,1:b,1:c,", FrameTooLong, 4),
    (OctetCounted(max_length=3), b"1 a7 xxxxxxx1 b1 c", FrameTooLong, 3),
]


@pytest.mark.parametrize(
    ("codec", "data", "error", "offset"),
    TOO_LONG,
    ids=["lines", "delimited", "length", "netstring", "octet-counted"],
)
def test_too_long_frame_is_raised_once_and_iteration_goes_on(
    codec: Any, data: bytes, error: type[Exception], offset: int
) -> None:
    for pieces in ([data], [data[i : i + 1] for i in range(len(data))]):
        frames = iter_frames(pieces, codec)
        assert next(frames) == b"a"
        with pytest.raises(error) as info:
            next(frames)
        assert info.value.offset == offset  # type: ignore[attr-defined]
        assert list(frames) == [b"b", b"c"]


def test_a_for_loop_resumed_after_an_error_gets_the_rest() -> None:
    frames = iter_frames([b"ok\n", b"x" * 10 + b"\nnext\n"], Lines(max_length=5))
    got = []
    with pytest.raises(LineTooLong):
        for frame in frames:
            got.append(frame)
    got.extend(frames)
    assert got == [b"ok", b"next"]


def test_a_sticky_error_is_raised_again_with_the_same_offset() -> None:
    frames = iter_frames([b"2:ab,", b"x:"], Netstring())
    assert frames.read() == b"ab"
    for _ in range(2):
        with pytest.raises(MalformedError) as info:
            frames.read()
        assert info.value.offset == 5


def test_truncation_at_the_end_is_raised_then_the_end() -> None:
    frames = iter_frames([b"\x00\x00\x00\x02hi\x00\x00", b"\x00\x09abc"], LengthPrefixed())
    assert next(frames) == b"hi"
    with pytest.raises(TruncatedError) as info:
        next(frames)
    assert info.value.offset == 6
    with pytest.raises(EndOfStream):
        frames.read()
    assert frames.at_eof()
    assert list(frames) == []


def test_error_offsets_count_bytes_read_before_the_frames() -> None:
    reader = SyncReader([b"HEADER", b"a\n", b"x" * 10, b"\n"])
    assert reader.readexactly(6) == b"HEADER"
    frames = reader.frames(Lines(max_length=3))
    assert frames.read() == b"a"
    with pytest.raises(LineTooLong) as info:
        frames.read()
    assert info.value.offset == 8


def test_the_end_of_the_stream_is_returned_every_time() -> None:
    frames = iter_frames([b"a\nb"], Lines())
    assert [frames.read(), frames.read()] == [b"a", b"b"]
    assert not frames.at_eof()
    with pytest.raises(EndOfStream):
        frames.read()
    with pytest.raises(EndOfStream):
        frames.read()
    assert frames.read_batch() == []
    assert frames.at_eof()


# -- efficiency ------------------------------------------------------------------------------


class CountingLines:
    """Lines, counting the decoder calls the driver makes."""

    def __init__(self) -> None:
        self.calls = 0

    def decoder(self) -> Any:
        inner = Lines(max_length=1 << 20).decoder()
        counter = self

        class Decoder:
            needs_input = False  # every call is counted: none saved

            def decode(self, data: memoryview, frames: list[bytes], ends: Any = None) -> int:
                counter.calls += 1
                return inner.decode(data, frames, ends)

            def decode_eof(self, data: memoryview, frames: list[bytes], ends: Any = None) -> int:
                counter.calls += 1
                return inner.decode_eof(data, frames, ends)

            def reset_search(self) -> None:
                inner.reset_search()

            def discard(self, data: memoryview, eof: bool) -> tuple[int, bool]:
                result: tuple[int, bool] = inner.discard(data, eof)
                return result

        return Decoder()

    def encoder(self) -> Any:
        return Lines().encoder()


def test_the_decoder_is_called_per_piece_not_per_frame() -> None:
    # A call for each piece, and one more after each batch (a codec may hold an error found
    # after the batch's frames, to raise at its next call): never one per frame.
    codec = CountingLines()
    pieces = [b"".join(b"line %d\n" % i for i in range(100)) for _ in range(50)]
    assert len(list(iter_frames(pieces, codec))) == 5000  # type: ignore[arg-type]
    assert codec.calls <= 2 * len(pieces) + 2


def test_a_long_line_fed_a_byte_at_a_time_takes_one_call_per_byte() -> None:
    codec = CountingLines()
    data = b"y" * 5000 + b"\n"
    frames = iter_frames([data[i : i + 1] for i in range(len(data))], codec)  # type: ignore[arg-type]
    assert list(frames) == [b"y" * 5000]
    assert codec.calls <= len(data) + 3


def test_read_batch_returns_every_frame_of_a_piece() -> None:
    frames = iter_frames([b"a\nb\nc", b"\nd\n"], Lines())
    assert frames.read_batch() == [b"a", b"b"]
    assert frames.read_batch() == [b"c", b"d"]
    assert frames.read_batch() == []


def test_read_batch_after_read_returns_the_rest_of_the_batch() -> None:
    frames = iter_frames([b"a\nb\nc\n"], Lines())
    assert frames.read() == b"a"
    assert frames.read_batch() == [b"b", b"c"]


# -- switching protocols ---------------------------------------------------------------------


def test_lines_then_raw_bytes_then_length_prefixed_then_the_rest() -> None:
    data = (
        b"HELLO\r\nSIZE 9\r\n"
        + b"raw\nbytes"
        + wire(LengthPrefixed(), [b"one", b"", b"three"])
        + b"the rest, \x00 unframed"
    )
    for read_size in (1, 3, 64, 100_000):
        reader = SyncReader(io.BytesIO(data), read_size=read_size)
        lines = reader.frames(Lines(ending="crlf"))
        assert lines.read() == b"HELLO"
        assert lines.read() == b"SIZE 9"
        assert reader.readexactly(9) == b"raw\nbytes"
        frames = reader.frames(LengthPrefixed())
        assert [frames.read() for _ in range(3)] == [b"one", b"", b"three"]
        assert reader.read() == b"the rest, \x00 unframed"
        assert reader.at_eof()
        assert reader.position == len(data)


def test_bytes_after_the_last_frame_handed_out_stay_in_the_reader() -> None:
    reader = SyncReader([b"HELO x\r\nDATA\r\nSTARTTLS-bytes"])
    frames = reader.frames(Lines(ending="crlf"))
    assert frames.read() == b"HELO x"
    assert frames.read() == b"DATA"
    assert reader.read_nowait() == b"STARTTLS-bytes"
    assert reader.read_nowait() == b""


def test_a_frame_reader_goes_on_after_bytes_read_around_it() -> None:
    # The bytes the protocol takes would be an error to the codec: it never sees them.
    reader = SyncReader([b"DATA\r\nbody with a bare \n\r\n.\r\nQUIT\r\n"])
    frames = reader.frames(Lines(ending="crlf"))
    assert frames.read() == b"DATA"
    body = b"body with a bare \n\r\n.\r\n"
    assert reader.readexactly(len(body)) == body
    assert frames.read() == b"QUIT"
    with pytest.raises(EndOfStream):
        frames.read()


def test_a_new_frame_reader_goes_on_where_the_last_one_stopped() -> None:
    reader = SyncReader([b"a\nb\nc\n"])
    assert reader.frames(Lines()).read() == b"a"
    assert list(reader.frames(Lines())) == [b"b", b"c"]


def test_read_with_a_size_returns_what_is_buffered_or_one_piece() -> None:
    reader = SyncReader([b"abc", b"def"])
    assert reader.read(2) == b"ab"
    assert reader.read(5) == b"c"
    assert reader.read(5) == b"def"
    assert reader.read(5) == b""
    assert reader.read(0) == b""


def test_readexactly_past_the_end_is_truncated_and_leaves_the_bytes() -> None:
    reader = SyncReader([b"ab", b"c"])
    with pytest.raises(TruncatedError) as info:
        reader.readexactly(5)
    assert info.value.offset == 3
    assert reader.read() == b"abc"


@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_switching_loses_nothing_for_any_split(data: st.DataObject) -> None:
    lines = data.draw(st.lists(_NO_LINE_BREAK, max_size=5))
    raw = data.draw(st.binary(max_size=20))
    frames = data.draw(st.lists(st.binary(max_size=20), max_size=5))
    tail = data.draw(st.binary(max_size=20))
    stream = wire(Lines(), lines) + raw + wire(LengthPrefixed(), frames) + tail
    cuts = data.draw(st.lists(st.integers(0, len(stream)), max_size=10))
    reader = SyncReader(split(stream, cuts))
    line_reader = reader.frames(Lines())
    assert [line_reader.read() for _ in lines] == lines
    assert reader.readexactly(len(raw)) == raw
    frame_reader = reader.frames(LengthPrefixed())
    assert [frame_reader.read() for _ in frames] == frames
    assert reader.read() == tail


def test_a_frame_decoder_error_keeps_no_view_of_the_read_bytes_alive() -> None:
    # The reader's bytes are a bytearray: a slice of them kept alive by the error (which the
    # decoder keeps, to raise again) would stop it from ever growing or shrinking again.
    reader = SyncReader([b"abc", b"def"])
    frames = reader.frames(FailsHoldingASlice(frames=True))
    with pytest.raises(MalformedError):
        frames.read()
    assert reader.read() == b"abcdef"
    with pytest.raises(MalformedError):
        frames.read()


# -- byte codecs ---------------------------------------------------------------------------


def chunked(data: bytes, size: int) -> bytes:
    encoder = Chunked().encoder()
    out = b"".join(encoder.feed(data[i : i + size]) for i in range(0, len(data), size))
    return out + encoder.finish()


def test_decode_bytes_through_chunked_then_gzip() -> None:
    body = b"".join(b"record %d\n" % i for i in range(2000))
    assert decode_bytes(chunked(gzip.compress(body), 100), Chunked(), Gzip()) == body


def test_decode_bytes_without_codecs_returns_the_input() -> None:
    assert decode_bytes(b"as is") == b"as is"


@settings(max_examples=50, deadline=None)
@given(
    body=st.binary(max_size=3000),
    chunk=st.integers(1, 500),
    cuts=st.lists(st.integers(0, 4000), max_size=10),
)
def test_iter_decoded_gives_the_body_for_any_split(
    body: bytes, chunk: int, cuts: list[int]
) -> None:
    wire_bytes = chunked(gzip.compress(body), chunk)
    assert decode_bytes(wire_bytes, Chunked(), Gzip()) == body
    pieces = split(wire_bytes, cuts)
    assert b"".join(iter_decoded(pieces, Chunked(), Gzip())) == body


def test_iter_decoded_from_a_file_yields_pieces_within_the_budget(tmp_path: Path) -> None:
    body = bytes(range(256)) * 4000
    path = tmp_path / "body.gz"
    path.write_bytes(gzip.compress(body))
    with path.open("rb") as file:
        pieces = list(iter_decoded(file, Gzip(), read_size=1000, budget=4096))
    assert b"".join(pieces) == body
    assert max(map(len, pieces)) <= 4096


def test_decode_bytes_of_a_truncated_encoding_is_truncated() -> None:
    wire_bytes = chunked(b"hello", 2)
    with pytest.raises(TruncatedError):
        decode_bytes(wire_bytes[:-3], Chunked())
    with pytest.raises(TruncatedError):
        b"".join(iter_decoded([wire_bytes[:-3]], Chunked()))


def test_bytes_after_the_end_of_an_encoding_are_malformed() -> None:
    wire_bytes = chunked(b"hello", 2)
    with pytest.raises(MalformedError) as info:
        decode_bytes(wire_bytes + b"GET /", Chunked())
    assert info.value.offset == len(wire_bytes)
    with pytest.raises(MalformedError) as info:
        b"".join(iter_decoded([wire_bytes, b"GET /"], Chunked()))
    assert info.value.offset == len(wire_bytes)


def test_iter_decoded_retried_after_a_source_timeout_loses_nothing() -> None:
    body = bytes(range(256)) * 400  # 102,400 bytes
    source = FlakyFile(gzip.compress(body))
    decoded = iter_decoded(source, Gzip(), budget=1000)
    pieces = []
    failures = 0
    while True:
        try:
            for piece in decoded:  # a new loop over the same iterator after each failure
                pieces.append(piece)
            break
        except TimeoutError:
            failures += 1
    assert failures > 3
    assert b"".join(pieces) == body


def test_iter_decoded_over_a_socket_goes_on_after_its_timeout() -> None:
    body = bytes(range(256)) * 400
    wire = gzip.compress(body)
    ours, theirs = socket.socketpair()
    with ours, theirs:
        ours.settimeout(0.2)
        theirs.sendall(wire[: len(wire) // 2])
        decoded = iter_decoded(ours, Gzip())
        pieces = []
        with pytest.raises(TimeoutError):
            for piece in decoded:
                pieces.append(piece)
        theirs.sendall(wire[len(wire) // 2 :])
        theirs.shutdown(socket.SHUT_WR)
        pieces.extend(decoded)
    assert b"".join(pieces) == body


def raising_after(pieces: list[bytes], error: BaseException) -> Iterator[bytes]:
    yield from pieces
    raise error


def test_iter_decoded_over_an_iterable_that_raised_raises_again() -> None:
    # A generator that raised has ended: its end is not the end of the stream.
    wire = chunked(b"hello world", 3)
    decoded = iter_decoded(raising_after([wire[:10]], TimeoutError("timed out")), Chunked())
    assert next(decoded) == b"hel"
    for _ in range(3):
        with pytest.raises(TimeoutError):
            next(decoded)


def test_iter_decoded_after_a_decoder_error_raises_it_again() -> None:
    decoded = iter_decoded([chunked(b"hello", 5), b"junk"], Chunked())
    with pytest.raises(MalformedError) as first:
        list(decoded)
    for _ in range(3):
        with pytest.raises(MalformedError) as again:
            next(decoded)
        assert again.value is first.value


def test_iter_decoded_yields_the_bytes_before_an_error_in_the_same_piece() -> None:
    # As a layer does: the bytes decoded before the bad chunk come first, then the error.
    wire = b"5\r\nhello\r\nzz\r\n"
    decoded = iter_decoded(wire, Chunked())
    assert next(decoded) == b"hello"
    with pytest.raises(MalformedError) as first:
        next(decoded)
    assert first.value.offset == 10
    with pytest.raises(MalformedError) as again:
        next(decoded)
    assert again.value is first.value


def test_iter_decoded_stacked_yields_the_bytes_before_a_lower_stages_error() -> None:
    packed = gzip.compress(b"hello world\n" * 100, mtime=0)
    wire = b"%x\r\n%s\r\nzz\r\n" % (len(packed), packed)
    decoded = iter_decoded(wire, Chunked(), Gzip())
    body = b""
    with pytest.raises(MalformedError, match="chunk size"):  # after the whole gzip member
        for piece in decoded:
            body += piece
    assert body == b"hello world\n" * 100


def test_iter_frames_over_an_iterable_that_raised_raises_again() -> None:
    frames = iter_frames(raising_after([b"one\ntwo\n"], TimeoutError("timed out")), Lines())
    assert list(itertools.islice(frames, 2)) == [b"one", b"two"]
    for _ in range(3):
        with pytest.raises(TimeoutError):
            next(frames)


def test_sync_reader_over_an_iterable_that_raised_raises_again() -> None:
    reader = SyncReader(raising_after([b"abc"], TimeoutError("timed out")))
    with pytest.raises(TimeoutError):
        reader.read()
    assert reader.read_nowait() == b"abc"  # what did arrive is still there
    with pytest.raises(TimeoutError):
        reader.read(1)
    with pytest.raises(TimeoutError):
        reader.readexactly(1)


def test_sync_reader_retried_after_a_source_timeout_loses_nothing() -> None:
    reader = SyncReader(FlakyFile(b"0123456789" * 10))
    got = b""
    while len(got) < 100:
        try:
            got += reader.readexactly(7 if len(got) < 98 else 2)
        except TimeoutError:
            continue
    assert got == b"0123456789" * 10
    while True:
        try:
            assert reader.read() == b""
            break
        except TimeoutError:
            continue


# -- bounded memory through stacked codings -------------------------------------------------------

MIB = 1 << 20


def gzip_of_zeros(size: int) -> bytes:
    """A gzip member of ``size`` zeros (a multiple of 1 MiB), built in a fraction of the time
    compressing them takes: after a full flush, each MiB of zeros compresses to the same bytes."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(MIB)) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(size // MIB):
        crc = zlib.crc32(bytes(MIB), crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = crc.to_bytes(4, "little") + (size % (1 << 32)).to_bytes(4, "little")
    return header + block * (size // MIB) + compressor.flush() + trailer


def peak_memory(call: Callable[[], object]) -> tuple[int, object]:
    """(peak bytes allocated by Python during ``call()``, what it returned or raised)."""
    tracemalloc.start()
    try:
        result: object = call()
    except FramingError as error:
        result = error
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak, result


def test_gzip_of_zeros_is_a_valid_gzip_member() -> None:
    assert gzip.decompress(gzip_of_zeros(3 * MIB)) == bytes(3 * MIB)


def test_decode_bytes_streams_between_stages_instead_of_holding_one_whole() -> None:
    # The inner coding is stored (level 0): the first stage's output is 32 MiB, the final
    # output is stopped at 1 MiB. Held whole, the first stage alone took 32 MiB.
    inner = gzip.compress(bytes(32 * MIB), compresslevel=0)
    body = gzip.compress(inner)
    peak, result = peak_memory(
        lambda: decode_bytes(body, Gzip(), Gzip(max_output_size=MIB), budget=64 * 1024)
    )
    assert isinstance(result, LimitExceededError)
    assert peak < 8 * MIB


def test_iter_decoded_holds_one_step_per_stage() -> None:
    body = gzip.compress(gzip.compress(bytes(32 * MIB), compresslevel=0))

    def drain() -> int:
        return sum(map(len, iter_decoded([body], Gzip(), Gzip(), budget=64 * 1024)))

    peak, total = peak_memory(drain)
    assert total == 32 * MIB
    assert peak < 8 * MIB


def test_a_gzip_bomb_inside_a_gzip_stops_at_the_cap_quickly_in_bounded_memory() -> None:
    body = gzip.compress(gzip_of_zeros(1024 * MIB))  # 1 GiB of zeros, gzipped twice
    started = time.monotonic()
    peak, result = peak_memory(
        lambda: decode_bytes(body, *content_decoding("gzip, gzip", max_output_size=MIB))
    )
    assert isinstance(result, LimitExceededError)
    assert time.monotonic() - started < 10
    assert peak < 64 * MIB


def test_the_cap_on_the_final_output_also_bounds_an_intermediate_stage() -> None:
    # 4 MB of empty gzip members, gzipped: the final output is empty, the first stage's
    # output (the members) explodes.
    members = gzip.compress(b"") * 200_000
    body = gzip.compress(members)
    with pytest.raises(LimitExceededError) as info:
        decode_bytes(body, *content_decoding("gzip, gzip", max_output_size=MIB))
    assert info.value.offset is not None and info.value.offset <= len(body)
    assert info.value.limit is not None and MIB <= info.value.limit < 2 * MIB


# -- the example -----------------------------------------------------------------------------


def test_sync_frames_example_runs_and_exits_zero() -> None:
    script = Path(__file__).resolve().parent.parent / "examples" / "sync_frames.py"
    result = subprocess.run(
        [sys.executable, str(script), "--frames", "500"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert b"500 frames" in result.stdout and b"all right" in result.stdout
