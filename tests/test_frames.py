"""FrameReader: frames one at a time or in batches, consumed as handed out, over any reader."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framekit.codecs.delimited import Delimited
from framekit.codecs.length import LengthPrefixed
from framekit.codecs.lines import Lines, TextLines
from framekit.codecs.netstring import Netstring, OctetCounted
from framekit.errors import (
    EndOfStream,
    FrameTooLong,
    LineTooLong,
    MalformedError,
    TruncatedError,
)
from framekit.frames import FrameWriter
from framekit.reader import StreamReader
from tests.toy_codecs import Hexchunks

CODECS: list[Any] = [
    Lines(),
    Lines(ending="crlf"),
    Lines(ending="any"),
    Lines(keep_ending=True),
    TextLines(),
    Delimited(),
    Delimited(delimiters=(b"--END--",)),
    LengthPrefixed(),
    LengthPrefixed(length_field_length="varint"),
    LengthPrefixed(length_field_length=2, initial_bytes_to_strip=0),
    Netstring(),
    OctetCounted(),
]
IDS = [
    "lines-lf",
    "lines-crlf",
    "lines-any",
    "lines-keep",
    "text-lines",
    "delimited",
    "delimited-end",
    "length4",
    "varint",
    "length2-kept",
    "netstring",
    "octet-counted",
]

#: Bytes a protocol reads itself between frames: garbage to every codec above (a huge
#: length, a bad netstring, undecodable text), so a decoder that looked at them has an error
#: or a skip pending when the protocol takes them.
RAW = b"\xff\xff\xff\xff\xffRAW"


def sample(codec: Any, index: int) -> Any:
    """The ``index``-th test frame in the codec's type (with its ending if it keeps it)."""
    if isinstance(codec, TextLines):
        return f"frame {index} é"
    frame = b"frame %d" % index
    if isinstance(codec, Lines) and codec.keep_ending:
        frame += b"\n"
    if isinstance(codec, LengthPrefixed) and codec.initial_bytes_to_strip == 0:
        frame = (len(frame)).to_bytes(2, "big") + frame
    return frame


def wire(codec: Any, frames: list[Any]) -> bytes:
    encoder = codec.encoder()
    return b"".join(encoder.encode(frame) for frame in frames)


def root(*pieces: bytes, eof: bool = True) -> StreamReader:
    reader = StreamReader()
    for piece in pieces:
        reader.feed_data(piece)
    if eof:
        reader.feed_eof()
    return reader


# -- consumed as handed out ----------------------------------------------------------------


@pytest.mark.parametrize("codec", CODECS, ids=IDS)
async def test_switching_to_readexactly_mid_batch_loses_nothing(codec: Any) -> None:
    a, b, c, d = (sample(codec, i) for i in range(4))
    source = root(wire(codec, [a, b]) + RAW + wire(codec, [c, d]))
    frames = source.frames(codec)
    assert await frames.read() == a
    assert await frames.read() == b
    assert await source.readexactly(len(RAW)) == RAW
    assert await frames.read() == c
    assert await frames.read() == d
    with pytest.raises(EndOfStream):
        await frames.read()


@pytest.mark.parametrize("codec", CODECS, ids=IDS)
async def test_a_new_frame_reader_goes_on_where_the_last_one_stopped(codec: Any) -> None:
    a, b, c = (sample(codec, i) for i in range(3))
    source = root(wire(codec, [a, b, c]))
    assert await source.frames(codec).read() == a
    rest = source.frames(codec)
    assert [frame async for frame in rest] == [b, c]


async def test_bytes_after_the_last_frame_handed_out_stay_in_the_source() -> None:
    source = root(b"HELO x\r\nDATA\r\nraw body, no line ending")
    frames = source.frames(Lines(ending="crlf"))
    assert await frames.read() == b"HELO x"
    assert await frames.read() == b"DATA"
    assert await source.read() == b"raw body, no line ending"


async def test_an_error_found_past_the_frame_handed_out_is_not_raised_after_a_raw_read() -> None:
    # SMTP: the body after DATA has a bare LF, which strict CRLF lines reject; the protocol
    # reads the body itself, and framing goes on after it.
    source = root(b"DATA\r\nbody with a bare \n in it\r\n.\r\nQUIT\r\n")
    frames = source.frames(Lines(ending="crlf"))
    assert await frames.read() == b"DATA"
    assert await source.readuntil(b"\r\n.\r\n") == b"body with a bare \n in it\r\n.\r\n"
    assert await frames.read() == b"QUIT"


async def test_unread_data_between_frames_is_framed_next() -> None:
    source = root(b"a\nb\n")
    frames = source.frames(Lines())
    assert await frames.read() == b"a"
    source.unread_data(b"z\n")
    assert [frame async for frame in frames] == [b"z", b"b"]


@pytest.mark.parametrize(
    ("first", "fed", "rest"),
    [
        (b"a\nb\n", b"c\n", [b"b", b"c"]),
        # A piece at least as long as what is buffered is joined into a new bytes object: the
        # frames decoded from the old one must still be handed out from the right offsets.
        (b"a\nb\nc\nd", b"xxxxxxxxxx\n", [b"b", b"c", b"dxxxxxxxxxx"]),
    ],
)
async def test_frames_fed_while_a_batch_is_handed_out_follow_it(
    first: bytes, fed: bytes, rest: list[bytes]
) -> None:
    source = root(first, eof=False)
    frames = source.frames(Lines())
    assert await frames.read() == b"a"
    source.feed_data(fed)
    source.feed_eof()
    assert [frame async for frame in frames] == rest


async def test_pending_frames_keep_their_place_when_the_buffer_leaves_its_bytearray() -> None:
    source = root(b"a\nb\nc\nddddddd", eof=False)
    source.feed_data(b"d")  # behind a longer remainder: the buffer becomes a bytearray
    frames = source.frames(Lines())
    assert await frames.read() == b"a"
    source.feed_data(b"e" * 20 + b"\n")  # at least as long as what is buffered: bytes again
    source.feed_eof()
    assert [frame async for frame in frames] == [b"b", b"c", b"d" * 8 + b"e" * 20]


# Pieces of several short lines (a batch of frames), often with a partial line at the end.
LINE_PIECES = st.lists(st.sampled_from([b"", b"a", b"bb", b"ccc"]), max_size=6).map(b"\n".join)
# Rounds of: a feed (bytes or bytearray), a few frame reads, then maybe a read around the
# frame reader: frames pending from a batch meet new bytes, and reads around them.
ROUNDS = st.lists(
    st.tuples(
        st.sampled_from(["feed", "feed-bytearray"]),
        LINE_PIECES,
        st.lists(st.sampled_from(["read", "read", "read", "batch"]), max_size=3),
        st.sampled_from(["", "", "readline", "readexactly", "unread"]),
        st.integers(0, 6),
    ),
    min_size=2,
    max_size=12,
)


def within_a_second(read: Any) -> Any:
    """``read`` awaited with a timeout: a read that waits here has lost bytes the model has."""
    return asyncio.wait_for(read, 0.2)


@settings(max_examples=500, deadline=None)
@given(rounds=ROUNDS)
async def test_frames_and_reads_around_them_match_a_model(
    rounds: list[tuple[str, bytes, list[str], str, int]],
) -> None:
    # Feeds (bytes and bytearray), frames read one at a time or by batches, and the reader's
    # own reads and unread_data, interleaved: every read gives what a plain model gives.
    source = StreamReader()
    frames = source.frames(Lines(max_length=1 << 20))
    model = b""
    for feed, piece, frame_reads, around, size in rounds:
        source.feed_data(piece if feed == "feed" else bytearray(piece))
        model += piece
        for kind in frame_reads:
            if b"\n" not in model:
                break  # the read would wait
            lines = model.split(b"\n")
            if kind == "read":
                assert await within_a_second(frames.read()) == lines[0]
                model = model[len(lines[0]) + 1 :]
            else:
                batch = await within_a_second(frames.read_batch())
                assert 1 <= len(batch) <= len(lines) - 1 and batch == lines[: len(batch)]
                model = model[sum(map(len, batch)) + len(batch) :]
        if around == "unread":
            source.unread_data(piece[:size])
            model = piece[:size] + model
        elif around == "readline" and b"\n" in model:
            line = model[: model.index(b"\n") + 1]
            assert await within_a_second(source.readline()) == line
            model = model[len(line) :]
        elif around == "readexactly" and size <= len(model):
            assert await within_a_second(source.readexactly(size)) == model[:size]
            model = model[size:]


async def test_emptying_the_source_around_frames_is_noticed_when_the_same_bytes_follow() -> None:
    piece = b"a\nb\n"
    source = root(piece, eof=False)
    frames = source.frames(Lines())
    assert await frames.read() == b"a"
    assert await source.read(100) == b"b\n"  # the protocol takes the rest itself
    source.feed_data(piece)  # the very same bytes object again
    source.feed_eof()
    assert [frame async for frame in frames] == [b"a", b"b"]


async def test_a_read_around_that_takes_exactly_one_frame_is_noticed() -> None:
    source = root(b"a\nb\nc\n")
    frames = source.frames(Lines())
    assert await frames.read() == b"a"
    assert await source.readline() == b"b\n"
    assert [frame async for frame in frames] == [b"c"]


async def test_frames_pending_in_a_bytearray_buffer_are_handed_out_in_place() -> None:
    # A reader fallen behind: bytes fed behind a longer remainder make the buffer a bytearray
    # while decoded frames are pending. They are handed out from it (no new decode: the same
    # decoder), feeds between them change nothing, and what is left is the source's.
    source = StreamReader()
    frames = source.frames(Lines())
    source.feed_data(b"a1\na2\na3\na4\na5\nrest")
    assert await frames.read() == b"a1"
    source.feed_data(b"!")  # behind 15 bytes: appended to a bytearray
    assert type(source._buffer.data) is bytearray
    decoder = frames.decoder
    assert await frames.read() == b"a2"
    assert await frames.read() == b"a3"
    source.feed_data(b"\nmore")
    assert await frames.read() == b"a4"
    assert frames.decoder is decoder
    assert await source.readexactly(3) == b"a5\n"
    assert await frames.read() == b"rest!"
    assert await source.read(10) == b"more"


async def test_a_read_and_unread_of_the_same_size_around_a_bytearray_buffer_is_noticed() -> None:
    # The head is back where the frame reader left it, but the bytes there are new.
    source = StreamReader()
    frames = source.frames(Lines())
    source.feed_data(b"a1\na2\na3\na4\nrest")
    assert await frames.read() == b"a1"
    source.feed_data(b"!")
    assert type(source._buffer.data) is bytearray
    assert await frames.read() == b"a2"
    assert await source.readexactly(3) == b"a3\n"
    source.unread_data(b"zz\n")
    assert await frames.read() == b"zz"
    assert await frames.read() == b"a4"


async def test_frames_are_handed_out_from_a_bytearray_buffer() -> None:
    source = StreamReader()
    source.feed_data(b"x" * 10)
    for byte in b"\nabc\ndef\n":
        source.feed_data(bytes([byte]))  # behind a longer remainder: a bytearray buffer
    source.feed_eof()
    frames = source.frames(Lines())
    assert [frame async for frame in frames] == [b"x" * 10, b"abc", b"def"]
    assert source.at_eof()


# -- batches, iteration, end of stream -------------------------------------------------------


async def test_read_batch_returns_every_buffered_frame() -> None:
    source = root(b"a\nb\nc\npartial", eof=False)
    frames = source.frames(Lines())
    assert await frames.read_batch() == [b"a", b"b", b"c"]
    assert source.read_nowait() == b"partial"


async def test_read_batch_after_read_returns_the_rest_of_the_batch() -> None:
    source = root(b"a\nb\nc\nrest", eof=False)
    frames = source.frames(Lines())
    assert await frames.read() == b"a"
    assert await frames.read_batch() == [b"b", b"c"]
    assert source.buffered == 4


async def test_read_batch_returns_pending_frames_before_decoding_bytes_fed_since() -> None:
    source = root(b"a\nb\n", eof=False)
    frames = source.frames(Lines())
    assert await frames.read() == b"a"
    source.feed_data(b"c\n")
    assert await frames.read_batch() == [b"b"]  # decoded with "a"
    assert await frames.read_batch() == [b"c"]


async def test_read_batch_at_the_end_returns_an_empty_list() -> None:
    frames = root(b"a\n").frames(Lines())
    assert await frames.read_batch() == [b"a"]
    assert await frames.read_batch() == []


@pytest.mark.parametrize("codec", CODECS, ids=IDS)
async def test_async_for_gives_every_frame(codec: Any) -> None:
    expected = [sample(codec, i) for i in range(5)]
    frames = root(wire(codec, expected)).frames(codec)
    assert [frame async for frame in frames] == expected


async def test_end_of_stream_is_raised_every_time() -> None:
    frames = root(b"a\nlast").frames(Lines())
    assert await frames.read() == b"a"
    assert await frames.read() == b"last"
    assert not frames.at_eof()
    with pytest.raises(EndOfStream):
        await frames.read()
    with pytest.raises(EndOfStream):
        await frames.read()
    assert frames.at_eof()


async def test_truncated_frame_at_the_end_is_raised_then_the_end() -> None:
    frames = root(b"\x00\x00\x00\x05ab").frames(LengthPrefixed())
    with pytest.raises(TruncatedError):
        await frames.read()
    with pytest.raises(EndOfStream):
        await frames.read()


async def test_frames_fed_a_byte_at_a_time_are_all_read() -> None:
    source = StreamReader()
    frames = source.frames(Lines(ending="any"))
    data = b"one\r\ntwo\rthree\n\r\nfour"

    async def feed() -> None:
        for i in range(len(data)):
            source.feed_data(data[i : i + 1])
            await asyncio.sleep(0)
        source.feed_eof()

    feeder = asyncio.ensure_future(feed())
    assert [frame async for frame in frames] == [b"one", b"two", b"three", b"", b"four"]
    await feeder


# -- errors ------------------------------------------------------------------------------------

TOO_LONG = [
    (Lines(max_length=3), b"a\nxxxxxxx\nb\nc\n", LineTooLong),
    (Delimited(max_length=3), b"a\r\nxxxxxxx\r\nb\r\nc\r\n", LineTooLong),
    (
        LengthPrefixed(length_field_length=1, max_frame_length=4),
        b"\x01a\x07xxxxxxx\x01b\x01c",
        FrameTooLong,
    ),
    (Netstring(max_length=3), b"1:a,7:xxxxxxx,1:b,1:c,", FrameTooLong),
    (OctetCounted(max_length=3), b"1 a7 xxxxxxx1 b1 c", FrameTooLong),
]


@pytest.mark.parametrize(
    ("codec", "data", "error"),
    TOO_LONG,
    ids=["lines", "delimited", "length", "netstring", "octet-counted"],
)
async def test_too_long_frame_in_the_middle_is_raised_once_and_the_rest_delivered(
    codec: Any, data: bytes, error: type[Exception]
) -> None:
    frames = root(data).frames(codec)
    assert await frames.read() == b"a"
    with pytest.raises(error):
        await frames.read()
    assert await frames.read() == b"b"
    assert await frames.read() == b"c"
    with pytest.raises(EndOfStream):
        await frames.read()


async def test_error_offsets_count_a_prefix_read_before_framing() -> None:
    source = root(b"HEADER" + b"a\n" + b"x" * 10 + b"\n")
    assert await source.readexactly(6) == b"HEADER"
    frames = source.frames(Lines(max_length=3))
    assert await frames.read() == b"a"
    with pytest.raises(LineTooLong) as info:
        await frames.read()
    assert info.value.offset == 8


async def test_a_sticky_error_keeps_its_offset_on_every_read() -> None:
    source = root(b"HEADER" + b"1:a,x:bad")
    await source.readexactly(6)
    frames = source.frames(Netstring())
    assert await frames.read() == b"a"
    offsets = []
    for _ in range(3):
        with pytest.raises(MalformedError) as info:
            await frames.read()
        offsets.append(info.value.offset)
    assert offsets == [10, 10, 10]


async def test_error_offsets_count_bytes_read_around_the_frame_reader() -> None:
    source = root(b"a\n" + b"RAW!" + b"x" * 10 + b"\nb\n")
    frames = source.frames(Lines(max_length=3))
    assert await frames.read() == b"a"
    assert await source.readexactly(4) == b"RAW!"
    with pytest.raises(LineTooLong) as info:
        await frames.read()
    assert info.value.offset == 6
    assert await frames.read() == b"b"


async def test_source_exception_wins_over_the_frames_decoded_before_it() -> None:
    # As on the core reader: bytes (and so frames) buffered before the exception are no
    # longer readable, whichever way they were fed.
    source = root(b"a\nb\n", eof=False)
    frames = source.frames(Lines())
    assert await frames.read() == b"a"
    source.set_exception(ConnectionResetError())
    with pytest.raises(ConnectionResetError):
        await frames.read()


# -- cancellation ------------------------------------------------------------------------------


async def test_cancelled_waiting_read_loses_nothing() -> None:
    source = root(b"a\npart", eof=False)
    frames = source.frames(Lines())
    assert await frames.read() == b"a"
    task = asyncio.ensure_future(frames.read())
    await asyncio.sleep(0)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert source.buffered == 4
    source.feed_data(b"ial\nnext\n")
    assert await frames.read() == b"partial"
    assert await frames.read() == b"next"


async def test_cancelled_waiting_read_batch_loses_nothing() -> None:
    source = root(b"\x00\x00\x00\x03a", eof=False)
    frames = source.frames(LengthPrefixed())
    task = asyncio.ensure_future(frames.read_batch())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    source.feed_data(b"bc")
    assert await frames.read_batch() == [b"abc"]


# -- over a layer ------------------------------------------------------------------------------


def hexchunks(data: bytes) -> bytes:
    encoder = Hexchunks().encoder()
    return encoder.feed(data) + encoder.finish()


async def test_frame_reader_over_a_layer() -> None:
    source = root(hexchunks(b"a\nbb\nccc\n") + b"NEXT MESSAGE")
    frames = source.layer(Hexchunks()).frames(Lines())
    assert [frame async for frame in frames] == [b"a", b"bb", b"ccc"]
    assert await source.read() == b"NEXT MESSAGE"


async def test_frame_reader_over_a_layer_stops_mid_batch_and_reads_the_layer() -> None:
    source = root(hexchunks(b"a\nbb\nccc\n"))
    body = source.layer(Hexchunks())
    frames = body.frames(Lines())
    assert await frames.read() == b"a"
    assert await body.readexactly(3) == b"bb\n"
    assert await frames.read() == b"ccc"
    with pytest.raises(EndOfStream):
        await frames.read()


async def test_frame_reader_over_a_layer_fed_in_pieces() -> None:
    source = StreamReader()
    frames = source.layer(Hexchunks()).frames(Lines())
    data = hexchunks(b"one\ntwo\nthree\n")

    async def feed() -> None:
        for i in range(0, len(data), 3):
            source.feed_data(data[i : i + 3])
            await asyncio.sleep(0)
        source.feed_eof()

    feeder = asyncio.ensure_future(feed())
    assert [frame async for frame in frames] == [b"one", b"two", b"three"]
    await feeder


# -- FrameWriter -------------------------------------------------------------------------------


class ListWriter:
    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)

    async def drain(self) -> None:
        pass


async def test_frame_writer_write_many_writes_nothing_when_a_frame_fails() -> None:
    sink = ListWriter()
    writer = FrameWriter(sink, Lines())
    with pytest.raises(ValueError):
        writer.write_many([b"one", b"t\nwo"])
    assert sink.written == []
    writer.write_many([b"one", b"two"])
    await writer.drain()
    assert sink.written == [b"one\ntwo\n"]


async def test_frame_writer_keeps_lone_cr_lines_apart_from_a_following_lf_line() -> None:
    """ending="any", keep_ending: b"a\\r" then b"\\n" would read back as one CRLF line."""
    codec = Lines(ending="any", keep_ending=True)
    sink = ListWriter()
    writer = FrameWriter(sink, codec)
    with pytest.raises(ValueError, match="one CRLF line"):
        writer.write_many([b"a\r", b"\n"])
    assert sink.written == []
    writer.write(b"\n")  # the failed batch left no trace in the encoder
    writer.write(b"a\r")
    with pytest.raises(ValueError, match="one CRLF line"):
        writer.write(b"\n")
    writer.write(b"\r\n")
    writer.write(b"b\n")
    reader = StreamReader()
    reader.feed_data(b"".join(sink.written))
    reader.feed_eof()
    assert [frame async for frame in reader.frames(codec)] == [b"\n", b"a\r", b"\r\n", b"b\n"]


@pytest.mark.parametrize(
    "codec", [Lines(), TextLines(), Delimited(delimiters=(b";",)), LengthPrefixed(), Netstring()]
)
def test_frame_encoders_refuse_what_is_not_bytes_like(codec: Any) -> None:
    with pytest.raises(TypeError):
        codec.encoder().encode(5)


def test_frame_encoders_take_any_bytes_like_frame() -> None:
    import array

    frame = memoryview(array.array("H", [0x6261]))
    assert LengthPrefixed().encoder().encode(frame) == b"\x00\x00\x00\x02ab"
    assert Lines().encoder().encode(bytearray(b"ab")) == b"ab\n"
