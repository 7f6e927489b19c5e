"""Buffer: the receive buffer's operations, in both of its storages (bytes + offset, bytearray)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from framekit._buffer import Buffer


def written(*pieces: bytes) -> Buffer:
    buffer = Buffer()
    for piece in pieces:
        buffer.write(piece)
    return buffer


def test_bytes_written_to_an_empty_buffer_are_kept_without_a_copy() -> None:
    piece = b"x" * 1000
    buffer = written(piece)
    assert buffer.take_all() is piece


def test_a_written_bytearray_is_copied() -> None:
    piece = bytearray(b"abc")
    buffer = written(piece)
    piece[0:1] = b"Z"
    assert buffer.take_all() == b"abc"


def test_a_written_memoryview_is_copied() -> None:
    backing = bytearray(b"abcdef")
    buffer = written(memoryview(backing)[1:4])
    backing[1:2] = b"Z"
    assert buffer.take_all() == b"bcd"


def test_take_returns_bytes_in_order() -> None:
    buffer = written(b"hello ", b"world")
    assert buffer.take(3) == b"hel"
    assert buffer.take(5) == b"lo wo"
    assert type(buffer.take(100)) is bytes
    assert not buffer


def test_a_short_remainder_is_joined_with_the_next_write() -> None:
    buffer = written(b"0123456789")
    buffer.drop(8)
    buffer.write(b"abcdef")
    assert isinstance(buffer.data, bytes)
    assert buffer.take_all() == b"89abcdef"


def test_small_writes_behind_a_long_remainder_grow_a_bytearray() -> None:
    buffer = written(b"x" * 100)
    for _ in range(50):
        buffer.write(b"y")
    assert isinstance(buffer.data, bytearray)
    assert len(buffer) == 150
    assert buffer.take(101) == b"x" * 100 + b"y"
    assert buffer.take_all() == b"y" * 49


def test_the_buffer_returns_to_bytes_when_emptied() -> None:
    buffer = written(b"x" * 100, b"y")
    assert isinstance(buffer.data, bytearray)
    buffer.drop(101)
    piece = b"z" * 10
    buffer.write(piece)
    assert buffer.take_all() is piece


def test_a_write_longer_than_the_bytearray_contents_returns_to_bytes() -> None:
    buffer = written(b"x" * 10, b"y")
    buffer.drop(5)
    buffer.write(b"z" * 20)
    assert isinstance(buffer.data, bytes)
    assert buffer.take_all() == b"x" * 5 + b"y" + b"z" * 20


def test_view_shows_the_buffered_bytes_read_only() -> None:
    for buffer in (written(b"abcdef"), written(b"x" * 10, b"abc")):
        buffer.drop(len(buffer) - 3)
        with buffer.view() as view:
            assert view.readonly
            assert view.tobytes() == buffer.peek(3)


def test_find_counts_from_the_head() -> None:
    buffer = written(b"a\nb\nc")
    buffer.drop(2)
    assert buffer.find(b"\n") == 1
    assert buffer.find(b"\n", 2) == -1
    assert buffer.find(b"c", 0, 2) == -1
    assert buffer.find(b"c", 0, 3) == 2


def test_unread_puts_bytes_back_at_the_head_in_both_storages() -> None:
    for buffer in (written(b"abcdef"), written(b"x" * 10, b"abcdef")):
        buffer.drop(len(buffer) - 4)
        produced = buffer.produced
        buffer.unread(b"12")
        assert buffer.take_all() == b"12cdef"
        assert buffer.produced == produced
        assert buffer.unreads == 1


def test_head_and_chunk_marks_follow_takes_in_both_storages() -> None:
    buffer = written(b"abc")
    buffer.mark_chunk_end()
    buffer.write(b"d")
    for _ in range(5):
        buffer.write(b"e")  # behind a longer remainder: a bytearray
    buffer.mark_chunk_end()
    assert buffer.next_chunk_end() == 3
    buffer.drop(2)
    assert buffer.head == 2
    assert buffer.next_chunk_end() == 1
    buffer.drop(1)
    assert buffer.next_chunk_end() == 6
    buffer.take(6)
    assert buffer.head == buffer.produced == 9
    assert buffer.next_chunk_end() is None


_operations = st.lists(
    st.one_of(
        st.tuples(st.just("write"), st.binary(max_size=40)),
        st.tuples(st.just("bytearray"), st.binary(max_size=40)),
        st.tuples(st.just("take"), st.integers(0, 50)),
        st.tuples(st.just("drop"), st.integers(0, 50)),
        st.tuples(st.just("unread"), st.binary(max_size=10)),
        st.tuples(st.just("find"), st.binary(min_size=1, max_size=2)),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(_operations)
def test_buffer_behaves_as_a_fifo_of_bytes(operations: list[tuple[str, object]]) -> None:
    buffer = Buffer()
    model = bytearray()
    produced = 0
    for name, argument in operations:
        if name in ("write", "bytearray"):
            assert isinstance(argument, bytes)
            buffer.write(argument if name == "write" else bytearray(argument))
            model += argument
            produced += len(argument)
        elif name == "take":
            assert isinstance(argument, int)
            assert buffer.take(argument) == bytes(model[:argument])
            del model[:argument]
        elif name == "drop":
            assert isinstance(argument, int)
            n = min(argument, len(model))
            buffer.drop(n)
            del model[:n]
        elif name == "unread":
            assert isinstance(argument, bytes)
            buffer.unread(argument)
            model[:0] = argument
        else:
            assert isinstance(argument, bytes)
            assert buffer.find(argument) == model.find(argument)
        assert len(buffer) == len(model)
        assert bool(buffer) == bool(model)
        assert buffer.produced == produced
        assert buffer.head == produced - len(model)
        assert buffer.peek(len(model) + 1) == bytes(model)
        with buffer.view() as view:
            assert view.tobytes() == bytes(model)
