"""The byte decoders' output sink: ``write``, ``mark_chunk_end`` and ``write_marked``.

``write_marked(data, marks)`` is part of :class:`~framekit.codecs.OutputSink`: a chunked
decoder writes a step's chunk data in one call with the chunk ends in it. Every sink framekit
has keeps it, with the meaning of the ``write`` and ``mark_chunk_end`` calls it stands for.
"""

from __future__ import annotations

from typing import Any

import pytest

from framekit._buffer import Buffer
from framekit._driver import _StepOutput
from framekit.codecs import Chunked, OutputSink
from framekit.sync import _Output
from framekit.testing import _Sink


def test_output_sink_declares_write_marked() -> None:
    assert callable(getattr(OutputSink, "write_marked", None))


def _buffer_record(marked: bool) -> tuple[bytes, list[int]]:
    out = Buffer()
    out.write(b"xy")
    if marked:
        out.write_marked(b"abcdef", [0, 2, 2, 6])
    else:
        out.mark_chunk_end()
        out.write(b"ab")
        out.mark_chunk_end()
        out.mark_chunk_end()
        out.write(b"cdef")
        out.mark_chunk_end()
    return out.take_all(), list(out.marks)


def test_buffer_write_marked_is_the_writes_and_marks_it_stands_for() -> None:
    assert _buffer_record(marked=True) == _buffer_record(marked=False) == (b"xyabcdef", [2, 4, 8])


def test_step_output_write_marked_keeps_the_marks_after_earlier_small_writes() -> None:
    step = _StepOutput()
    step.write(b"xy")
    step.write_marked(b"abcdef", [2, 6])
    out = Buffer()
    step.flush(out)
    assert (out.take_all(), list(out.marks)) == (b"xyabcdef", [4, 8])


@pytest.mark.parametrize("make", [Buffer, _StepOutput, _Output, _Sink], ids=lambda m: m.__name__)
def test_every_framekit_sink_has_write_marked(make: Any) -> None:
    assert callable(getattr(make(), "write_marked", None))


def test_the_chunked_decoder_writes_through_write_marked_on_a_buffer() -> None:
    decoder = Chunked().decoder()
    out = Buffer()
    wire = b"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    assert decoder.decode(memoryview(wire), out, 1 << 16) == len(wire)
    assert (out.take_all(), list(out.marks), decoder.done) == (b"abcde", [3, 5], True)
