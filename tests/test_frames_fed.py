"""``FrameReader.read_batch``'s step after a wait (``FrameDriver._decode_fed``): a fast path
for bytes fed to a root while a batch waits. It gives exactly what the general path gives,
batch by batch, whatever else happens around the wait; it is compared with that path here."""

from __future__ import annotations

import asyncio
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framekit._driver import FrameDriver
from framekit.codecs.lines import Lines
from framekit.errors import EndOfStream, FramingError, LineTooLong, TruncatedError
from framekit.reader import StreamReader
from tests.test_adapters_agree import CODECS, IDS, INPUTS, cut, note, wire_for

#: What happens while a batch waits: a piece fed, or a line ending unread.
EVENTS = st.lists(st.sampled_from(["feed", "feed", "feed", "unread"]), max_size=40)
#: What the reading task does before each batch: nothing, read a byte around the frame
#: reader (maybe replacing it by another), or read one frame.
TURNS = st.lists(st.sampled_from(["batch", "batch", "raw", "raw-unread", "one"]), max_size=20)


class Flow:
    """A transport's flow control, recorded."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def pause_reading(self) -> None:
        self.calls.append("pause")

    def resume_reading(self) -> None:
        self.calls.append("resume")


async def batches(
    codec: Any,
    pieces: list[bytes],
    events: list[str],
    turns: list[str],
    *,
    fed_step: bool,
    high: int = 0,
) -> list[Any]:
    """The batches and errors of ``read_batch`` while ``pieces`` are fed one per wait, with
    ``events`` between them and ``turns`` before each batch; then what is left in the
    source."""
    flow = Flow()
    source = StreamReader(limit=high, flow=flow) if high else StreamReader()
    frames = source.frames(codec)
    results: list[Any] = []
    todo = list(pieces)

    async def feed() -> None:
        for event in events:
            await asyncio.sleep(0)
            if event == "feed" and todo:
                source.feed_data(todo.pop(0))
            elif event == "unread" and not source.skipping:
                source.unread_data(b"\n")
        for piece in todo:
            await asyncio.sleep(0)
            source.feed_data(piece)
        await asyncio.sleep(0)
        source.feed_eof()

    feeding = asyncio.ensure_future(feed())
    turns = list(turns)
    while True:
        turn = turns.pop() if turns else "batch"
        if turn.startswith("raw") and source.buffered and not source.skipping:
            raw = source.read_nowait(1)
            results.append(("raw", raw))
            if turn == "raw-unread":
                source.unread_data(b"\n")  # the same size, other bytes
        try:
            if turn == "one":
                results.append(("one", await frames.read()))
                continue
            if fed_step:
                batch = await frames.read_batch()
            else:
                with mock.patch.object(FrameDriver, "_decode_fed", lambda self: None):
                    batch = await frames.read_batch()
        except FramingError as error:
            item = note(error)
            if results and results[-1] == item:
                break  # sticky
            results.append(item)
            continue
        except EndOfStream:
            break
        if not batch:
            break
        results.append(batch)
    await feeding
    results.append(("rest", source.read_nowait(), flow.calls))
    return results


@pytest.mark.parametrize("codec", CODECS, ids=IDS)
@settings(max_examples=100, deadline=None)
@given(data=INPUTS, cuts=st.lists(st.integers(0, 200), max_size=8), events=EVENTS, turns=TURNS)
async def test_the_fed_step_gives_what_the_general_path_gives(
    codec: Any,
    data: tuple[bytes, list[bytes]],
    cuts: list[int],
    events: list[str],
    turns: list[str],
) -> None:
    noise, frames = data
    pieces = cut(noise + wire_for(codec, frames), cuts)
    general = await batches(codec, pieces, events, turns, fed_step=False)
    assert await batches(codec, pieces, events, turns, fed_step=True) == general


@settings(max_examples=50, deadline=None)
@given(
    lines=st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")), max_size=30),
    cuts=st.lists(st.integers(0, 400), max_size=12),
)
async def test_the_fed_step_gives_what_the_general_path_gives_to_a_paused_source(
    lines: list[bytes], cuts: list[int]
) -> None:
    # A limit of 8: the source pauses its input above 16 bytes and resumes as frames are
    # consumed, in the fed step too.
    pieces = cut(b"".join(line + b"\n" for line in lines), cuts)
    codec = Lines(max_length=20)
    general = await batches(codec, pieces, [], [], fed_step=False, high=8)
    assert await batches(codec, pieces, [], [], fed_step=True, high=8) == general


async def test_the_fed_step_decodes_the_pieces_fed_to_a_waiting_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    steps: list[list[Any] | None] = []
    plain = FrameDriver._decode_fed

    def counted(self: FrameDriver[Any]) -> list[Any] | None:
        batch = plain(self)
        steps.append(batch)
        return batch

    monkeypatch.setattr(FrameDriver, "_decode_fed", counted)
    pieces = [b"line %d\nnext " % i for i in range(10)]
    result = await batches(Lines(), pieces, [], [], fed_step=True)
    assert result[0] == [b"line 0"]
    assert result[1:-1] == [[b"next line %d" % i] for i in range(1, 10)] + [[b"next "]]
    # Every piece was decoded by the fed step; the end goes the general way.
    assert steps == [*result[:10], None]


async def test_an_error_in_the_fed_step_is_raised_once_with_its_stream_offset() -> None:
    source = StreamReader()
    frames = source.frames(Lines(max_length=4))
    source.feed_data(b"ab\n")
    assert await frames.read_batch() == [b"ab"]
    waiting = asyncio.ensure_future(frames.read_batch())
    await asyncio.sleep(0)
    source.feed_data(b"too long\nok\n")
    with pytest.raises(LineTooLong) as raised:
        await waiting
    assert raised.value.offset == 3
    assert await frames.read_batch() == [b"ok"]


async def test_bytes_unread_while_a_batch_waits_are_framed_first() -> None:
    source = StreamReader()
    frames = source.frames(Lines())
    source.feed_data(b"a\npart")
    assert await frames.read_batch() == [b"a"]
    waiting = asyncio.ensure_future(frames.read_batch())
    await asyncio.sleep(0)
    source.unread_data(b"b\n")
    source.feed_data(b"ial\n")
    assert await waiting == [b"b", b"partial"]


async def test_bytes_read_around_before_a_batch_waits_are_not_framed_again() -> None:
    source = StreamReader()
    frames = source.frames(Lines())
    source.feed_data(b"a\npart")
    assert await frames.read_batch() == [b"a"]
    assert source.read_nowait(2) == b"pa"
    waiting = asyncio.ensure_future(frames.read_batch())
    await asyncio.sleep(0)
    source.feed_data(b"ial\n")
    assert await waiting == [b"rtial"]


async def test_a_batch_after_frames_read_one_at_a_time_counts_the_bytes_skipped_past_them() -> None:
    # read() hands out "ab" and leaves the 7 bytes of a line being skipped consumed but not
    # dropped; the batch after it drops them first, so the offset of the truncated last line
    # counts them.
    source = StreamReader()
    frames = source.frames(Lines(max_length=4, on_too_long="skip", at_eof="error"))
    source.feed_data(b"ab\ntoolong")
    assert await frames.read() == b"ab"
    waiting = asyncio.ensure_future(frames.read_batch())
    await asyncio.sleep(0)
    source.feed_data(b"er\nok\nend")
    assert await waiting == [b"ok"]
    source.feed_eof()
    with pytest.raises(TruncatedError) as raised:
        await frames.read_batch()
    assert raised.value.offset == 16
