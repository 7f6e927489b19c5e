"""The port: framekit's adapters use the core reader through it and nothing private of it.

The frame driver, the layers, the frame readers and the blocking readers (``_driver.py``,
``layers.py``, ``frames.py``, ``sync.py``) read and consume the core reader's bytes through
its port (``framekit/_port.py``); here their source is checked to touch no private attribute
of :class:`~framekit.reader.StreamReader`, and the port's calls to keep their promises.
"""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

import pytest

import framekit
from framekit import LineTooLong, StreamReader
from framekit.codecs import Lines
from framekit.reader import StreamReader as CoreReader

PACKAGE = Path(framekit.__file__).parent
ADAPTERS = ["_driver.py", "frames.py", "layers.py", "sync.py"]

#: What is private to the core reader: its slots and its underscore methods.
READER_PRIVATES = {
    name
    for name in [*CoreReader.__slots__, *vars(CoreReader)]
    if name.startswith("_") and not name.startswith("__")
}


def _private_uses(source: str) -> list[str]:
    """``name._attr`` for every private reader attribute used on anything but ``self`` (or
    ``super()``: a layer is a reader)."""
    uses = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in READER_PRIVATES
            and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"))
            and not (isinstance(node.value, ast.Call) and ast.unparse(node.value) == "super()")
        ):
            uses.append(f"line {node.lineno}: {ast.unparse(node)}")
    return uses


@pytest.mark.parametrize("module", ADAPTERS)
def test_an_adapter_touches_nothing_private_of_the_core_reader(module: str) -> None:
    assert _private_uses((PACKAGE / module).read_text(encoding="utf-8")) == []


def test_the_check_finds_a_private_use() -> None:
    assert _private_uses("def f(source):\n    return source._buffer\n") == [
        "line 2: source._buffer"
    ]


def test_the_buffer_is_the_same_object_for_the_readers_life() -> None:
    reader = StreamReader()
    buffer = reader.buffer
    reader.feed_data(b"abc")
    reader.unread_data(b"x")
    reader.feed_eof()
    assert reader.buffer is buffer


def test_the_buffer_flags_say_ended_and_held() -> None:
    reader = StreamReader()
    assert (reader.buffer.ended, reader.buffer.held) == (False, False)
    reader.feed_eof()
    assert reader.buffer.ended
    failed = StreamReader()
    failed.set_exception(ValueError("gone"))
    assert failed.buffer.held
    with pytest.raises(ValueError, match="gone"):
        failed.raise_if_failed()


async def test_held_while_a_skip_is_under_way_then_released() -> None:
    reader = StreamReader(limit=4)
    frames = reader.frames(Lines(max_length=4))
    reader.feed_data(b"toolongline")
    with pytest.raises(LineTooLong):
        await frames.read()
    assert reader.buffer.held and reader.skipping
    reader.feed_data(b" still\nnext\n")
    assert not reader.buffer.held and not reader.skipping
    assert await frames.read() == b"next"


async def test_on_consume_is_set_only_while_paused() -> None:
    class Flow:
        paused = 0
        resumed = 0

        def pause_reading(self) -> None:
            self.paused += 1

        def resume_reading(self) -> None:
            self.resumed += 1

    flow = Flow()
    reader = StreamReader(limit=4, flow=flow)
    assert reader.buffer.on_consume is None
    reader.feed_data(b"a\nb\nc\nd\ne\n")  # 10 bytes, over the high mark of 8
    assert flow.paused == 1 and reader.buffer.on_consume is not None
    frames = reader.frames(Lines())
    assert await frames.read_batch() == [b"a", b"b", b"c", b"d", b"e"]
    assert flow.resumed == 1 and reader.buffer.on_consume is None


async def test_begin_wait_shares_one_future_that_end_wait_clears() -> None:
    reader = StreamReader()
    waiter = reader.begin_wait("test", wanted=1)
    with pytest.raises(RuntimeError, match="again"):
        reader.begin_wait("again")
    reader.feed_data(b"x")
    await asyncio.wait_for(waiter, 1)
    reader.end_wait(waiter)
    reader.end_wait(reader.begin_wait("test"))  # a second wait may begin after the first
