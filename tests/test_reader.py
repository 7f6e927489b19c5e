"""StreamReader: one behaviour per test, aiohttp's meaning unless the docstring says otherwise."""

from __future__ import annotations

import asyncio
import gc
import threading
import time

import pytest

from framekit import LineTooLong
from framekit.codecs import Limited, Lines
from framekit.reader import DEFAULT_LIMIT, StreamReader


def fed(*pieces: bytes, eof: bool = True, **kwargs: int) -> StreamReader:
    reader = StreamReader(**kwargs)
    for piece in pieces:
        reader.feed_data(piece)
    if eof:
        reader.feed_eof()
    return reader


async def feed_later(reader: StreamReader, *pieces: bytes, eof: bool = False) -> None:
    for piece in pieces:
        await asyncio.sleep(0)
        reader.feed_data(piece)
    if eof:
        await asyncio.sleep(0)
        reader.feed_eof()


class Flow:
    def __init__(self) -> None:
        self.paused = False
        self.calls: list[str] = []

    def pause_reading(self) -> None:
        self.paused = True
        self.calls.append("pause")

    def resume_reading(self) -> None:
        self.paused = False
        self.calls.append("resume")


# -- construction ---------------------------------------------------------------------------


def test_constructible_and_feedable_outside_a_loop() -> None:
    reader = StreamReader()
    reader.feed_data(b"abc")
    assert reader.read_nowait() == b"abc"
    assert reader.limit == DEFAULT_LIMIT


def test_waits_in_one_event_loop_then_in_another() -> None:
    # A reader remembers the loop it last waited in (to spare a system call per wait): a
    # wait in a later loop must use that loop, not the closed one.
    reader = StreamReader()
    frames = reader.frames(Lines())

    async def wait_for_a_line() -> tuple[bytes, bytes | None]:
        loop = asyncio.get_running_loop()
        loop.call_soon(reader.feed_data, b"one\n")
        line = await reader.readline()
        loop.call_soon(reader.feed_data, b"two\n")
        return line, await frames.read()

    assert asyncio.run(wait_for_a_line()) == (b"one\n", b"two")
    assert asyncio.run(wait_for_a_line()) == (b"one\n", b"two")
    layer = reader.layer(Limited(4))

    async def wait_through_a_layer() -> bytes:
        asyncio.get_running_loop().call_soon(reader.feed_data, b"data")
        return await layer.readexactly(4)

    assert asyncio.run(wait_through_a_layer()) == b"data"


def test_waits_in_a_loop_of_another_thread_then_in_this_one() -> None:
    # The loop the reader last waited in still runs, in another thread: a wait here must not
    # get a future of that loop.
    reader = StreamReader()
    other = asyncio.new_event_loop()
    thread = threading.Thread(target=other.run_forever, daemon=True)
    thread.start()
    try:

        async def read_fed_later(data: bytes) -> bytes:
            read = asyncio.ensure_future(reader.read(100))
            await asyncio.sleep(0)  # the read waits
            reader.feed_data(data)
            return await asyncio.wait_for(read, 5)

        there = asyncio.run_coroutine_threadsafe(read_fed_later(b"there"), other)
        assert there.result(timeout=5) == b"there"
        assert asyncio.run(read_fed_later(b"here")) == b"here"
    finally:
        other.call_soon_threadsafe(other.stop)
        thread.join(5)
        other.close()


@pytest.mark.parametrize("limit", [0, -1])
def test_limit_must_be_positive(limit: int) -> None:
    with pytest.raises(ValueError, match="limit"):
        StreamReader(limit=limit)


def test_repr_shows_state() -> None:
    reader = fed(b"abc")
    assert "3 bytes" in repr(reader) and "eof" in repr(reader)


# -- read -----------------------------------------------------------------------------------


async def test_read_returns_what_is_buffered_up_to_n() -> None:
    reader = fed(b"hello world")
    assert await reader.read(5) == b"hello"
    assert await reader.read(100) == b" world"


async def test_read_minus_one_reads_until_eof() -> None:
    reader = StreamReader()
    task = asyncio.ensure_future(reader.read())
    await feed_later(reader, b"ab", b"cd", eof=True)
    assert await task == b"abcd"


async def test_read_zero_returns_empty_at_once() -> None:
    reader = StreamReader()
    assert await reader.read(0) == b""


async def test_read_at_eof_returns_empty() -> None:
    reader = fed()
    assert await reader.read(10) == b""
    assert await reader.read() == b""


async def test_read_waits_for_data() -> None:
    reader = StreamReader()
    task = asyncio.ensure_future(reader.read(10))
    await asyncio.sleep(0)
    assert not task.done()
    reader.feed_data(b"xy")
    assert await task == b"xy"


async def test_readany_returns_everything_buffered() -> None:
    reader = fed(b"ab", b"cd")
    assert await reader.readany() == b"abcd"
    assert await reader.readany() == b""


# -- readexactly ----------------------------------------------------------------------------


async def test_readexactly_waits_for_all_bytes() -> None:
    reader = StreamReader()
    task = asyncio.ensure_future(reader.readexactly(5))
    await feed_later(reader, b"ab", b"cd", b"efg")
    assert await task == b"abcde"
    assert reader.read_nowait() == b"fg"


async def test_readexactly_raises_incomplete_read_at_eof() -> None:
    reader = fed(b"abc")
    with pytest.raises(asyncio.IncompleteReadError) as info:
        await reader.readexactly(5)
    assert info.value.partial == b"abc"
    assert info.value.expected == 5
    assert reader.at_eof()


async def test_readexactly_zero_is_empty() -> None:
    assert await fed().readexactly(0) == b""


async def test_readexactly_negative_is_an_error() -> None:
    with pytest.raises(ValueError):
        await fed().readexactly(-1)


async def test_readexactly_larger_than_the_high_water_mark_completes() -> None:
    flow = Flow()
    reader = StreamReader(limit=4, flow=flow)
    task = asyncio.ensure_future(reader.readexactly(100))
    for _ in range(10):
        await asyncio.sleep(0)
        assert not flow.paused, "a read waiting for more than the mark must not pause input"
        reader.feed_data(b"0123456789")
    assert await task == b"0123456789" * 10


# -- readline / readuntil -------------------------------------------------------------------


async def test_readline_keeps_the_newline() -> None:
    reader = fed(b"one\ntwo\n")
    assert await reader.readline() == b"one\n"
    assert await reader.readline() == b"two\n"
    assert await reader.readline() == b""


async def test_readline_returns_partial_line_at_eof() -> None:
    reader = fed(b"one\ntail")
    assert await reader.readline() == b"one\n"
    assert await reader.readline() == b"tail"
    assert await reader.readline() == b""


async def test_readline_waits_for_the_newline_across_feeds() -> None:
    reader = StreamReader()
    task = asyncio.ensure_future(reader.readline())
    await feed_later(reader, b"ab", b"c", b"d\nrest")
    assert await task == b"abcd\n"


async def test_readuntil_multi_byte_separator() -> None:
    reader = fed(b"a\r\nb\r\n")
    assert await reader.readuntil(b"\r\n") == b"a\r\n"
    assert await reader.readuntil(b"\r\n") == b"b\r\n"


async def test_readuntil_finds_separator_split_across_feeds() -> None:
    reader = StreamReader()
    task = asyncio.ensure_future(reader.readuntil(b"<END>"))
    await feed_later(reader, b"data<", b"E", b"N", b"D", b">more")
    assert await task == b"data<END>"
    assert reader.read_nowait() == b"more"


async def test_readuntil_tuple_shortest_result_wins() -> None:
    reader = fed(b"ab\r\ncd|ef")
    assert await reader.readuntil((b"|", b"\r\n")) == b"ab\r\n"
    assert await reader.readuntil((b"|", b"\r\n")) == b"cd|"


async def test_readuntil_tuple_with_overlapping_separators() -> None:
    reader = fed(b"xx\r\nyy")
    assert await reader.readuntil((b"\r\n", b"\n")) == b"xx\r\n"


async def test_readuntil_sees_a_bytearray_separator_changed_between_calls() -> None:
    reader = fed(b"a|b;c")
    separator = bytearray(b"|")
    assert await reader.readuntil(separator) == b"a|"
    separator[:] = b";"
    assert await reader.readuntil(separator) == b"b;"


async def test_readuntil_alternating_separators_between_feeds() -> None:
    reader = StreamReader()
    reader.feed_data(b"one\r")
    task = asyncio.ensure_future(reader.readuntil(b"\r\n"))
    await asyncio.sleep(0)
    reader.feed_data(b"\ntwo|three")
    assert await task == b"one\r\n"
    assert await reader.readuntil(b"|") == b"two|"
    reader.feed_data(b"\r\n")
    assert await reader.readuntil(b"\r\n") == b"three\r\n"


async def test_readuntil_returns_partial_at_eof() -> None:
    reader = fed(b"no separator")
    assert await reader.readuntil(b"|") == b"no separator"
    assert await reader.readuntil(b"|") == b""


@pytest.mark.parametrize("separator", [b"", (), (b"a", b"")])
async def test_readuntil_rejects_empty_separators(separator: bytes) -> None:
    with pytest.raises(ValueError):
        await fed(b"x").readuntil(separator)


async def test_readuntil_rejects_non_bytes_separator() -> None:
    with pytest.raises(TypeError):
        await fed(b"x").readuntil("x")  # type: ignore[arg-type]


async def test_readline_too_long_raises_once_and_skips_the_line() -> None:
    reader = fed(b"short\n" + b"x" * 50 + b"\nnext\n")
    assert await reader.readline(max_line_length=10) == b"short\n"
    with pytest.raises(LineTooLong) as info:
        await reader.readline(max_line_length=10)
    assert info.value.limit == 10
    assert info.value.offset == 6
    assert "max_line_length=10" in str(info.value)
    assert await reader.readline(max_line_length=10) == b"next\n"


async def test_readline_too_long_skips_through_a_separator_that_arrives_later() -> None:
    reader = StreamReader()
    reader.feed_data(b"x" * 20)
    with pytest.raises(LineTooLong):
        await reader.readline(max_line_length=10)
    task = asyncio.ensure_future(reader.readline(max_line_length=10))
    await feed_later(reader, b"x" * 30, b"xx\nne", b"xt\n")
    assert await task == b"next\n"


async def test_readline_too_long_fails_fast() -> None:
    """The error comes as soon as max bytes are buffered, not when the line ends."""
    reader = StreamReader()
    reader.feed_data(b"y" * 10)
    with pytest.raises(LineTooLong):
        await reader.readline(max_line_length=10)


async def test_readline_of_exactly_max_length_is_accepted() -> None:
    reader = fed(b"x" * 9 + b"\n")
    assert await reader.readline(max_line_length=10) == b"x" * 9 + b"\n"


async def test_readline_default_maximum_is_the_high_water_mark() -> None:
    reader = fed(b"z" * 9 + b"\n", limit=4)
    with pytest.raises(LineTooLong) as info:
        await reader.readline()
    assert info.value.limit == 8


async def test_readuntil_too_long_skips_to_any_of_the_separators() -> None:
    reader = fed(b"aaaaaaaaaaaa|b\r\n")
    with pytest.raises(LineTooLong):
        await reader.readuntil((b"\r\n", b"|"), max_size=5)
    assert await reader.readuntil((b"\r\n", b"|")) == b"b\r\n"


async def test_over_long_line_skip_ends_at_eof() -> None:
    reader = fed(b"x" * 20)
    with pytest.raises(LineTooLong):
        await reader.readline(max_line_length=10)
    assert await reader.readline() == b""
    assert reader.at_eof()


async def test_iteration_continues_after_line_too_long() -> None:
    reader = fed(b"a\n" + b"b" * 30 + b"\nc\n", limit=8)
    lines = []
    iterator = reader.__aiter__()
    while True:
        try:
            line = await iterator.__anext__()
        except LineTooLong:
            lines.append(b"<too long>")
            continue
        except StopAsyncIteration:
            break
        lines.append(line)
    assert lines == [b"a\n", b"<too long>", b"c\n"]


async def test_readline_on_a_one_byte_fed_long_line_is_linear() -> None:
    """Each feed is searched once: 200 KB byte by byte must not take quadratic time."""
    reader = StreamReader(limit=2**20)
    line = b"q" * 200_000 + b"\n"
    task = asyncio.ensure_future(reader.readline())
    start = time.process_time()
    for i in range(len(line)):
        reader.feed_data(line[i : i + 1])
        await asyncio.sleep(0)
    assert await task == line
    assert time.process_time() - start < 20  # quadratic: minutes


# -- readchunk ------------------------------------------------------------------------------


async def test_readchunk_returns_buffered_data_and_false() -> None:
    reader = fed(b"abc")
    assert await reader.readchunk() == (b"abc", False)


async def test_readchunk_at_eof_is_empty_and_false() -> None:
    assert await fed().readchunk() == (b"", False)


async def test_readchunk_stops_at_chunk_marks() -> None:
    reader = StreamReader()
    reader.feed_data(b"abc")
    reader.mark_chunk_end()
    reader.feed_data(b"de")
    reader.mark_chunk_end()
    reader.feed_data(b"f")
    reader.feed_eof()
    assert await reader.readchunk() == (b"abc", True)
    assert await reader.readchunk() == (b"de", True)
    assert await reader.readchunk() == (b"f", False)
    assert await reader.readchunk() == (b"", False)


async def test_readchunk_reports_chunk_end_after_partial_read() -> None:
    reader = StreamReader()
    reader.feed_data(b"abcdef")
    reader.mark_chunk_end()
    assert await reader.read(2) == b"ab"
    assert await reader.readchunk() == (b"cdef", True)


async def test_readchunk_reports_an_end_reached_by_another_read_as_empty() -> None:
    # aiohttp's readchunk: a chunk end at the read position is (b"", True), once.
    reader = StreamReader()
    reader.feed_data(b"abc")
    reader.mark_chunk_end()
    reader.feed_data(b"de")
    assert await reader.read(3) == b"abc"
    assert await reader.readchunk() == (b"", True)
    assert await reader.readchunk() == (b"de", False)


async def test_readchunk_end_marked_after_its_data_was_read() -> None:
    reader = StreamReader()
    reader.feed_data(b"abc")
    assert await reader.readchunk() == (b"abc", False)
    reader.mark_chunk_end()
    reader.feed_eof()
    assert await reader.readchunk() == (b"", True)
    assert await reader.readchunk() == (b"", False)


async def test_readchunk_a_chunk_without_data_has_no_end() -> None:
    reader = StreamReader()
    reader.mark_chunk_end()  # nothing before it
    reader.feed_data(b"ab")
    reader.mark_chunk_end()
    reader.mark_chunk_end()  # no data since the last end
    reader.feed_eof()
    assert await reader.readchunk() == (b"ab", True)
    assert await reader.readchunk() == (b"", False)


# -- iteration ------------------------------------------------------------------------------


async def test_async_for_iterates_lines() -> None:
    reader = fed(b"a\nb\nc")
    assert [line async for line in reader] == [b"a\n", b"b\n", b"c"]


async def test_iter_chunked_yields_pieces_of_at_most_n() -> None:
    reader = fed(b"abcdefg")
    assert [c async for c in reader.iter_chunked(3)] == [b"abc", b"def", b"g"]


def test_iter_chunked_rejects_non_positive_size() -> None:
    with pytest.raises(ValueError):
        StreamReader().iter_chunked(0)


async def test_iter_any_yields_until_eof() -> None:
    reader = StreamReader()
    task = asyncio.ensure_future(_collect(reader.iter_any()))
    await feed_later(reader, b"a", b"b", eof=True)
    assert b"".join(await task) == b"ab"


async def test_iter_chunks_yields_chunk_tuples() -> None:
    reader = StreamReader()
    reader.feed_data(b"ab")
    reader.mark_chunk_end()
    reader.feed_data(b"c")
    reader.feed_eof()
    assert [c async for c in reader.iter_chunks()] == [(b"ab", True), (b"c", False)]


async def _collect(iterator: object) -> list[bytes]:
    return [item async for item in iterator]  # type: ignore[attr-defined]


# -- EOF, exceptions, waiters ---------------------------------------------------------------


def test_is_eof_and_at_eof() -> None:
    reader = StreamReader()
    reader.feed_data(b"x")
    assert not reader.is_eof()
    reader.feed_eof()
    assert reader.is_eof() and not reader.at_eof()
    reader.read_nowait()
    assert reader.at_eof()


def test_feed_data_after_eof_is_an_error() -> None:
    reader = fed()
    with pytest.raises(RuntimeError):
        reader.feed_data(b"x")


async def test_wait_eof_waits_for_feed_eof() -> None:
    reader = StreamReader()
    task = asyncio.ensure_future(reader.wait_eof())
    await asyncio.sleep(0)
    assert not task.done()
    reader.feed_data(b"data")
    await asyncio.sleep(0)
    assert not task.done()
    reader.feed_eof()
    await task
    assert await reader.read() == b"data"


def test_on_eof_callback_runs_at_eof_and_immediately_after() -> None:
    reader = StreamReader()
    calls: list[int] = []
    reader.on_eof(lambda: calls.append(1))
    assert calls == []
    reader.feed_eof()
    assert calls == [1]
    reader.on_eof(lambda: calls.append(2))
    assert calls == [1, 2]


def test_on_eof_callback_errors_are_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    reader = StreamReader()
    reader.on_eof(lambda: 1 / 0)
    reader.feed_eof()
    assert "eof callback" in caplog.text


async def test_set_exception_wakes_the_waiter() -> None:
    reader = StreamReader()
    task = asyncio.ensure_future(reader.readline())
    await asyncio.sleep(0)
    reader.set_exception(ConnectionResetError("gone"))
    with pytest.raises(ConnectionResetError):
        await task


async def test_set_exception_instantiates_an_exception_class_as_asyncio_futures_do() -> None:
    reader = StreamReader()
    task = asyncio.ensure_future(reader.readline())
    await asyncio.sleep(0)
    reader.set_exception(ConnectionResetError)  # type: ignore[arg-type]
    with pytest.raises(ConnectionResetError) as info:
        await asyncio.wait_for(task, 1)
    assert reader.exception() is info.value
    with pytest.raises(ConnectionResetError) as again:
        await reader.read(1)
    assert again.value is info.value


async def test_set_exception_class_on_a_layer_is_raised_by_its_reads() -> None:
    top = fed(b"abc", eof=False).layer(Limited(10))
    top.set_exception(ValueError)  # type: ignore[arg-type]
    assert isinstance(top.exception(), ValueError)
    with pytest.raises(ValueError):
        await top.read(1)


@pytest.mark.parametrize("value", [StopIteration, StopIteration("x")], ids=["class", "instance"])
async def test_set_exception_refuses_stop_iteration_and_changes_nothing(value: object) -> None:
    # As asyncio's futures: raised out of a read in a coroutine it would turn into RuntimeError.
    reader = StreamReader()
    task = asyncio.ensure_future(reader.read(3))
    await asyncio.sleep(0)
    with pytest.raises(TypeError, match="StopIteration"):
        reader.set_exception(value)  # type: ignore[arg-type]
    assert reader.exception() is None
    reader.feed_data(b"abc")
    assert await asyncio.wait_for(task, 1) == b"abc"


@pytest.mark.parametrize(
    ("value", "named"), [("boom", "str"), (42, "int"), (int, "class int"), (None, "NoneType")]
)
def test_set_exception_refuses_what_is_not_an_exception_naming_it(
    value: object, named: str
) -> None:
    reader = StreamReader()
    with pytest.raises(TypeError, match="exception instance or class") as info:
        reader.set_exception(value)  # type: ignore[arg-type]
    assert named in str(info.value)
    assert reader.exception() is None


async def test_exception_is_sticky_for_every_read() -> None:
    reader = fed(b"buffered\n", eof=False)
    error = ValueError("boom")
    reader.set_exception(error)
    assert reader.exception() is error
    for call in (
        reader.read(),
        reader.read(1),
        reader.readany(),
        reader.readline(),
        reader.readuntil(b"x"),
        reader.readexactly(1),
        reader.readchunk(),
        reader.peek(1),
    ):
        with pytest.raises(ValueError):
            await call
    with pytest.raises(ValueError):
        reader.read_nowait()


def _traceback_depth(error: BaseException) -> int:
    depth = 0
    tb = error.__traceback__
    while tb is not None:
        depth += 1
        tb = tb.tb_next
    return depth


async def test_a_sticky_exception_keeps_its_traceback_short() -> None:
    # Re-raised as it is, the same object's traceback would grow by every raise (the frames
    # of each failed read kept alive); it starts again from where it was set each time.
    reader = fed(b"buffered\n", eof=False)
    try:
        raise ConnectionResetError("gone")
    except ConnectionResetError as error:
        reader.set_exception(error)
        set_depth = _traceback_depth(error)
    frames = reader.frames(Lines())
    depths = []
    for _ in range(50):
        calls = (reader.readline(), reader.readexactly(1), reader.readany(), frames.read())
        for call in calls:
            with pytest.raises(ConnectionResetError) as info:
                await call
            depths.append(_traceback_depth(info.value))
    assert max(depths) <= set_depth + 4  # where it was set, the read, the await
    assert depths[-4:] == depths[:4]


async def test_second_waiting_read_is_a_runtime_error() -> None:
    reader = StreamReader()
    first = asyncio.ensure_future(reader.read(1))
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="already waiting"):
        await reader.readline()
    with pytest.raises(RuntimeError):
        reader.read_nowait()
    reader.feed_data(b"x")
    assert await first == b"x"


# -- read_nowait, unread_data, peek ---------------------------------------------------------


def test_read_nowait_returns_up_to_n() -> None:
    reader = fed(b"abcdef", eof=False)
    assert reader.read_nowait(2) == b"ab"
    assert reader.read_nowait() == b"cdef"
    assert reader.read_nowait() == b""


def test_unread_data_puts_bytes_back_at_the_head() -> None:
    reader = fed(b"world", eof=False)
    reader.unread_data(b"hello ")
    assert reader.read_nowait() == b"hello world"


def test_unread_data_does_not_change_byte_counts() -> None:
    reader = fed(b"abc", eof=False)
    reader.read_nowait()
    reader.unread_data(b"abc")
    assert reader.total_bytes == reader.total_raw_bytes == 3


async def test_unread_data_is_found_by_the_next_readline() -> None:
    reader = fed(b"b\n", eof=False)
    reader.unread_data(b"a")
    assert await reader.readline() == b"ab\n"


async def test_unread_data_resets_the_resumable_search() -> None:
    reader = StreamReader()
    task = asyncio.ensure_future(reader.readline())
    reader.feed_data(b"abc")
    await asyncio.sleep(0)
    # Another task pushes a whole line back in front of what the waiting read has searched.
    reader.unread_data(b"x\n")
    assert await task == b"x\n"


async def test_peek_waits_and_does_not_consume() -> None:
    reader = StreamReader()
    task = asyncio.ensure_future(reader.peek(4))
    await feed_later(reader, b"ab", b"cdef")
    assert await task == b"abcd"
    assert reader.read_nowait() == b"abcdef"


async def test_peek_returns_fewer_bytes_only_at_eof() -> None:
    reader = fed(b"ab")
    assert await reader.peek(4) == b"ab"


def test_total_bytes_counts_everything_fed() -> None:
    reader = fed(b"ab", b"cde")
    reader.read_nowait(1)
    assert reader.total_bytes == 5
    assert reader.total_raw_bytes == 5


# -- the driver API -------------------------------------------------------------------------


def test_buffer_view_shows_buffered_bytes_without_consuming() -> None:
    reader = fed(b"abc", b"def", eof=False)
    with reader.buffer_view() as view:
        assert view.readonly
        assert bytes(view) == b"abcdef"
    assert reader.buffered == 6
    reader.consume(4)
    assert reader.read_nowait() == b"ef"


def test_consume_more_than_buffered_is_an_error() -> None:
    reader = fed(b"ab", eof=False)
    with pytest.raises(ValueError):
        reader.consume(3)


async def test_fill_waits_for_more_bytes_and_reports_eof() -> None:
    reader = StreamReader()
    task = asyncio.ensure_future(reader.fill())
    await feed_later(reader, b"x")
    assert await task is True
    task = asyncio.ensure_future(reader.fill())
    await feed_later(reader, eof=True)
    assert await task is False


# -- cancellation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda r: r.readline(),
        lambda r: r.readuntil(b"\r\n"),
        lambda r: r.readexactly(10),
        lambda r: r.read(),
        lambda r: r.peek(10),
    ],
)
async def test_cancelled_read_loses_nothing(call: object) -> None:
    reader = StreamReader()
    reader.feed_data(b"part")
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(call(reader), 0.01)  # type: ignore[operator]
    reader.feed_data(b"ial\r\n1234")
    reader.feed_eof()
    assert await reader.read() == b"partial\r\n1234"


# -- flow control ---------------------------------------------------------------------------


async def test_flow_pauses_above_high_water_and_resumes_at_low_water() -> None:
    flow = Flow()
    reader = StreamReader(limit=10, flow=flow)
    reader.feed_data(b"x" * 20)
    assert not flow.paused
    reader.feed_data(b"x")
    assert flow.paused
    await reader.read(10)
    assert flow.paused  # 11 bytes left: above the low-water mark
    await reader.read(1)
    assert not flow.paused
    assert flow.calls == ["pause", "resume"]


async def test_waiting_read_resumes_paused_input() -> None:
    flow = Flow()
    reader = StreamReader(limit=2, flow=flow)
    reader.feed_data(b"abcdef")
    assert flow.paused
    task = asyncio.ensure_future(reader.readuntil(b"|", max_size=100))
    await asyncio.sleep(0)
    assert not flow.paused
    reader.feed_data(b"|")
    assert await task == b"abcdef|"


async def test_wait_eof_resumes_paused_input() -> None:
    flow = Flow()
    reader = StreamReader(limit=2, flow=flow)
    reader.feed_data(b"abcdef")
    assert flow.paused
    task = asyncio.ensure_future(reader.wait_eof())
    await asyncio.sleep(0)
    assert not flow.paused, "the owner waits for EOF: input paused now would never end"
    reader.feed_eof()
    await task
    assert await reader.read() == b"abcdef"


async def test_feeding_does_not_pause_while_wait_eof_waits() -> None:
    flow = Flow()
    reader = StreamReader(limit=2, flow=flow)
    task = asyncio.ensure_future(reader.wait_eof())
    await asyncio.sleep(0)
    reader.feed_data(b"abcdef")
    reader.feed_data(b"ghij")
    assert not flow.paused
    reader.feed_eof()
    await task
    assert flow.calls == []
    assert await reader.read() == b"abcdefghij"


async def test_feeding_pauses_again_after_wait_eof_is_cancelled() -> None:
    flow = Flow()
    reader = StreamReader(limit=2, flow=flow)
    task = asyncio.ensure_future(reader.wait_eof())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    reader.feed_data(b"abcdef")
    assert flow.paused


async def test_set_exception_wakes_wait_eof() -> None:
    reader = StreamReader()
    task = asyncio.ensure_future(reader.wait_eof())
    await asyncio.sleep(0)
    reader.set_exception(ConnectionResetError("gone"))
    with pytest.raises(ConnectionResetError):
        await task


async def test_exception_after_eof_hides_the_buffered_bytes() -> None:
    """As aiohttp: the exception wins, even over bytes fed before EOF."""
    reader = fed(b"line\n")
    reader.set_exception(ValueError("boom"))
    with pytest.raises(ValueError):
        await reader.readline()
    with pytest.raises(ValueError):
        reader.read_nowait()


def test_reader_is_collectable() -> None:
    reader = fed(b"x")
    del reader
    gc.collect()


# -- edge cases found in review ---------------------------------------------------------------


async def test_readuntil_with_a_tuple_is_linear_when_one_separator_never_comes() -> None:
    """An absent separator must not be searched for up to max_size on every call."""
    reader = fed(b"a\n" * 128_000)
    start = time.process_time()
    count = 0
    while await reader.readuntil((b"\r\n", b"\n")):
        count += 1
    assert count == 128_000
    assert time.process_time() - start < 5  # quadratic: about 17 s here, linear: 0.1 s


@pytest.mark.parametrize(
    ("pieces", "seps", "expected"),
    [
        ([b"x" * 300 + b"ab" + b"\n"], (b"\n", b"ab"), b"x" * 300 + b"ab"),
        ([b"x" * 255 + b"ab" + b"\n"], (b"\n", b"ab"), b"x" * 255 + b"ab"),  # across a window
        ([b"x" * 254, b"abc" + b"y" * 2000 + b"\n"], (b"abc", b"\n"), b"x" * 254 + b"abc"),
        ([b"x" * 1000 + b"\r\n"], (b"\n", b"\r\n"), b"x" * 1000 + b"\r\n"),
        ([b"y" * 5000 + b"bc"], (b"abc", b"bc", b"c"), b"y" * 5000 + b"bc"),
    ],
)
async def test_readuntil_with_a_tuple_finds_the_earliest_end_past_the_first_window(
    pieces: list[bytes], seps: tuple[bytes, ...], expected: bytes
) -> None:
    reader = fed(*pieces)
    assert await reader.readuntil(seps) == expected


def test_readuntil_refuses_a_tuple_holding_a_non_bytes_item() -> None:
    reader = fed(b"ab\x00\x00\x00")
    with pytest.raises(TypeError, match="separators must be bytes"):
        reader.readuntil((3,)).send(None)  # type: ignore[arg-type]


async def test_a_final_line_of_exactly_the_maximum_at_eof_is_returned() -> None:
    reader = fed(b"ok\nabcd")
    assert await reader.readline(max_line_length=4) == b"ok\n"
    assert await reader.readline(max_line_length=4) == b"abcd"
    assert await reader.readline(max_line_length=4) == b""
    reader = fed(b"abcd")
    assert await reader.readuntil(b"\r\n", max_size=4) == b"abcd"


async def test_a_final_line_over_the_maximum_at_eof_is_too_long() -> None:
    reader = fed(b"ok\nabcde")
    assert await reader.readline(max_line_length=4) == b"ok\n"
    with pytest.raises(LineTooLong):
        await reader.readline(max_line_length=4)
    assert await reader.readline(max_line_length=4) == b""


async def test_a_read_waking_late_does_not_clear_the_waiter_of_the_next_read() -> None:
    """A's wake-up clears the waiter; B waits before A resumes: A must not drop B's waiter
    (B would never wake). A, needing more, is then refused."""
    reader = StreamReader()
    a = asyncio.ensure_future(reader.readexactly(4))
    await asyncio.sleep(0)
    b = asyncio.ensure_future(reader.readexactly(10))
    reader.feed_data(b"ab")
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="already waiting"):
        await asyncio.wait_for(a, 5)
    reader.feed_data(b"cd01234567")
    assert await asyncio.wait_for(b, 5) == b"abcd012345"


class FeedingFlow:
    """A flow that holds what arrives while paused and feeds it from resume_reading()."""

    def __init__(self) -> None:
        self.paused = False
        self.backlog: list[bytes] = []
        self.reader: StreamReader | None = None

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False
        assert self.reader is not None
        while self.backlog and not self.paused:
            self.reader.feed_data(self.backlog.pop(0))

    def deliver(self, data: bytes) -> None:
        if self.paused:
            self.backlog.append(data)
        else:
            assert self.reader is not None
            self.reader.feed_data(data)


async def test_bytes_fed_from_resume_reading_wake_the_read() -> None:
    flow = FeedingFlow()
    reader = flow.reader = StreamReader(limit=2, flow=flow)
    flow.deliver(b"12345")
    flow.deliver(b"67\n")
    assert flow.paused
    line = await asyncio.wait_for(reader.readline(max_line_length=100), 5)
    assert line == b"1234567\n"


async def test_eof_fed_from_resume_reading_wakes_wait_eof() -> None:
    class EofFlow(FeedingFlow):
        def resume_reading(self) -> None:
            super().resume_reading()
            assert self.reader is not None
            self.reader.feed_eof()

    flow = EofFlow()
    reader = flow.reader = StreamReader(limit=2, flow=flow)
    flow.deliver(b"12345")
    assert flow.paused
    await asyncio.wait_for(reader.wait_eof(), 5)
    assert reader.read_nowait() == b"12345"


async def test_unread_data_while_a_long_line_is_skipped_is_refused() -> None:
    reader = StreamReader(limit=4)
    reader.feed_data(b"0123456789")
    with pytest.raises(LineTooLong):
        await reader.readline()
    with pytest.raises(RuntimeError, match="being skipped"):
        reader.unread_data(b"hdr\n")
    reader.feed_data(b"tail\nnext\n")
    assert await reader.readline() == b"next\n"
    reader.unread_data(b"again\n")  # the skip is over
    assert await reader.readline() == b"again\n"


async def test_a_memoryview_of_wide_items_counts_its_bytes() -> None:
    import array

    reader = StreamReader()
    reader.feed_data(memoryview(array.array("I", [0x0A636261, 0x64636261])))  # b"abc\nabcd"
    assert (reader.total_bytes, reader.buffered) == (8, 8)
    reader.unread_data(memoryview(array.array("H", [0x7978])))  # b"xy"
    assert reader.buffered == 10
    reader.feed_eof()
    assert await reader.read() == b"xyabc\nabcd"
