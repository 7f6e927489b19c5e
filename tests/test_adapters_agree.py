"""The async and the blocking frame readers are one driver: for any codec, input and split they
give the same frames and the same errors (class and offset), one at a time or by batches, with
raw reads between frames or without, and the same as the reference driver."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framekit.codecs._base import decode_frame_pieces
from framekit.codecs.delimited import Delimited
from framekit.codecs.length import LengthPrefixed
from framekit.codecs.lines import Lines, TextLines
from framekit.codecs.netstring import Netstring, OctetCounted
from framekit.errors import EndOfStream, FramingError, LimitExceededError, TruncatedError
from framekit.reader import StreamReader
from framekit.sync import SyncReader

#: Codecs with small maximums, so that inputs hold frames over them.
CODECS: list[Any] = [
    Lines(max_length=12),
    Lines(ending="crlf", max_length=12),
    Lines(ending="any", max_length=12),
    Lines(max_length=12, on_too_long="skip"),
    TextLines(max_length=12),
    Delimited(delimiters=(b";", b"--"), max_length=12),
    LengthPrefixed(length_field_length=1, max_frame_length=12),
    LengthPrefixed(length_field_length="varint", max_frame_length=12),
    Netstring(max_length=12),
    OctetCounted(max_length=12),
]
IDS = ["lf", "crlf", "any", "lf-skip", "text", "delimited", "length1", "varint", "net", "octet"]

#: Bytes that are frames, pieces of frames, over-long frames or garbage to these codecs.
ATOMS = [b"\n", b"\r\n", b"\r", b";", b"--", b":", b",", b" ", b"3", b"9", b"20", b"\x05", b"\x85"]
ATOMS += [b"abc", b"x" * 14, b"\xff", b"\xc3\xa9", b"4:abcd,", b"3 abc"]

Result = list[Any]


def wire_for(codec: Any, frames: list[bytes]) -> bytes:
    encoder = codec.encoder()
    out = b""
    for frame in frames:
        try:
            out += encoder.encode(
                frame.decode("latin-1") if isinstance(codec, TextLines) else frame
            )
        except (ValueError, FramingError):
            out += frame
    return out


INPUTS = st.tuples(
    st.lists(st.sampled_from(ATOMS), max_size=14).map(b"".join),
    st.lists(st.binary(max_size=8), max_size=4),
)


def cut(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges) if b > a]


def note(error: FramingError) -> tuple[str, int | None]:
    return (type(error).__name__, error.offset)


def until_stuck(results: Result, error: FramingError) -> bool:
    """Record ``error``; True when reading should stop (the same error twice: sticky)."""
    item = note(error)
    if results and results[-1] == item:
        return True
    results.append(item)
    return isinstance(error, TruncatedError)


async def async_frames(codec: Any, pieces: list[bytes], batches: bool) -> Result:
    source = StreamReader()
    frames = source.frames(codec)
    results: Result = []

    async def feed() -> None:
        for piece in pieces:
            source.feed_data(piece)
            await asyncio.sleep(0)
        source.feed_eof()

    feeding = asyncio.ensure_future(feed())
    while True:
        try:
            if batches:
                batch = await frames.read_batch()
                if not batch:
                    break
                results.extend(batch)
            else:
                results.append(await frames.read())
        except EndOfStream:
            break
        except FramingError as error:
            if until_stuck(results, error):
                break
    await feeding
    return results


def sync_frames(codec: Any, pieces: list[bytes], batches: bool) -> Result:
    frames = SyncReader(pieces).frames(codec)
    results: Result = []
    while True:
        try:
            if batches:
                batch = frames.read_batch()
                if not batch:
                    break
                results.extend(batch)
            else:
                results.append(frames.read())
        except EndOfStream:
            break
        except FramingError as error:
            if until_stuck(results, error):
                break
    return results


def reference(codec: Any, pieces: list[bytes]) -> Result:
    return [
        note(item) if isinstance(item, FramingError) else item
        for item in decode_frame_pieces(codec.decoder(), pieces)
    ]


@pytest.mark.parametrize("codec", CODECS, ids=IDS)
@settings(max_examples=150, deadline=None)
@given(data=INPUTS, cuts=st.lists(st.integers(0, 200), max_size=6))
async def test_every_adapter_gives_the_same_frames_and_errors(
    codec: Any, data: tuple[bytes, list[bytes]], cuts: list[int]
) -> None:
    noise, frames = data
    wire = noise + wire_for(codec, frames)
    pieces = cut(wire, cuts)
    expected = sync_frames(codec, [wire], batches=False)
    assert sync_frames(codec, pieces, batches=False) == expected
    assert sync_frames(codec, pieces, batches=True) == expected
    assert await async_frames(codec, pieces, batches=False) == expected
    assert await async_frames(codec, pieces, batches=True) == expected
    assert reference(codec, pieces) == expected


#: A protocol's script: read a frame, or take ``n`` raw bytes, in turns.
SCRIPTS = st.lists(st.one_of(st.just(0), st.integers(1, 9)), min_size=1, max_size=12)


async def async_script(codec: Any, wire: bytes, script: list[int]) -> Result:
    source = StreamReader()
    source.feed_data(wire)
    source.feed_eof()
    frames = source.frames(codec)
    results: Result = []
    for step in script:
        try:
            if step:
                results.append(("raw", await source.read(step)))
            else:
                results.append(await frames.read())
        except EndOfStream:
            results.append("end")
        except FramingError as error:
            results.append(note(error))
    results.append(("rest", await source.read()))
    return results


def sync_script(codec: Any, wire: bytes, script: list[int]) -> Result:
    reader = SyncReader([wire])
    frames = reader.frames(codec)
    results: Result = []
    for step in script:
        try:
            if step:
                results.append(("raw", reader.read(step)))
            else:
                results.append(frames.read())
        except EndOfStream:
            results.append("end")
        except FramingError as error:
            results.append(note(error))
    results.append(("rest", reader.read()))
    return results


@pytest.mark.parametrize("codec", CODECS, ids=IDS)
@settings(max_examples=150, deadline=None)
@given(data=INPUTS, script=SCRIPTS)
async def test_frames_and_raw_reads_in_turns_agree_between_the_adapters(
    codec: Any, data: tuple[bytes, list[bytes]], script: list[int]
) -> None:
    noise, frames = data
    wire = wire_for(codec, frames) + noise
    assert await async_script(codec, wire, script) == sync_script(codec, wire, script)


@pytest.mark.parametrize("codec", CODECS[:2], ids=IDS[:2])
def test_sync_skips_an_over_long_line_whoever_reads_next(codec: Any) -> None:
    ending = b"\r\n" if codec.ending == "crlf" else b"\n"
    reader = SyncReader([b"x" * 20, b"x" * 20, ending + b"next" + ending])
    with pytest.raises(LimitExceededError):
        reader.frames(codec).read()
    assert reader.frames(codec).read() == b"next"


def test_sync_read_after_a_frame_error_returns_the_bytes_after_the_frame() -> None:
    reader = SyncReader([b"x" * 50 + b"\nrest"])
    with pytest.raises(LimitExceededError):
        reader.frames(Lines(max_length=8)).read()
    assert reader.read() == b"rest"


def test_sync_frames_alternating_with_readexactly_keep_the_decoder() -> None:
    reader = SyncReader([b"$4\r\nPING\r\n" * 1000])
    lines = reader.frames(Lines(ending="crlf"))
    assert lines.read() == b"$4"
    decoder = lines.decoder
    for _ in range(999):
        assert reader.readexactly(6) == b"PING\r\n"
        assert lines.read() == b"$4"
    assert lines.decoder is decoder
    assert reader.readexactly(6) == b"PING\r\n"
    with pytest.raises(EndOfStream):
        lines.read()


@pytest.mark.parametrize("eof_first", [True, False])
async def test_an_error_after_a_raw_read_past_the_decoded_frames_has_its_stream_offset(
    eof_first: bool,
) -> None:
    # Six empty lines, then an undecodable final line at stream position 7: the raw read
    # takes five lines and one byte the decoder had only searched.
    wire = b"\n" * 6 + b"\xc3\xa9"
    source = StreamReader()
    if eof_first:
        source.feed_data(wire)
        source.feed_eof()
    frames = source.frames(TextLines())
    if not eof_first:
        source.feed_data(wire)
    assert await frames.read() == ""
    assert await source.readexactly(6) == b"\n" * 5 + b"\xc3"
    source.feed_eof()
    with pytest.raises(FramingError) as info:
        await frames.read()
    assert info.value.offset == 7


async def test_raw_reads_through_a_silently_skipped_line_lose_no_byte_after_it() -> None:
    """A batch decode consumed a line skipped silently (``on_too_long="skip"``) after its
    last frame; raw reads then took the frames' rest and that line exactly. The next frame
    read must see the byte after it (the sync adapter once dropped it as the skipped line's)."""
    codec = Lines(ending="lf", max_length=12, on_too_long="skip")
    wire = b"\n\n\n\n\r\r\r\r--4:abcd,\n\r"
    script = [0, 0, 7, 9, 0]
    want = [b"", b"", ("raw", b"\n\n\r\r\r\r-"), ("raw", b"-4:abcd,\n"), b"", ("rest", b"")]
    assert sync_script(codec, wire, script) == want
    assert await async_script(codec, wire, script) == want
