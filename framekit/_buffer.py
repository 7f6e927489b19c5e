"""The receive buffer behind every framekit reader.

Operations: append bytes at the tail (``write``), look at the buffered bytes without copying
(``view``), search for separators, take or drop bytes at the head, put bytes back at the head
(``unread``), and remember where HTTP chunks ended (``mark_chunk_end``).

Goal: on average fast, worst case O(n) for any fragmentation of the input.

Plan: one ``bytearray``. CPython deletes from the front of a bytearray in O(1) (it moves the
logical start instead of the bytes), so taking from the head is a slice copy plus an O(1)
delete, and appending is amortised O(1). Searches are resumable: a caller that found nothing
remembers how far it looked (see ``search_from``) and looks only at new bytes next time, keeping
``len(separator) - 1`` bytes of overlap so that a separator split across feeds is found.

Positions: ``produced`` counts every byte ever written; the head of the buffer is at stream
position ``produced - len(buffer)``. Chunk marks are stream positions, so they survive takes,
unreads and compaction without being adjusted.
"""

from __future__ import annotations

from collections import deque
from typing import TypeAlias

Bytes: TypeAlias = bytes | bytearray | memoryview


class Buffer:
    """A FIFO byte buffer with O(1) head removal, zero-copy views and chunk marks."""

    __slots__ = ("_data", "_marks", "produced", "unreads")

    def __init__(self) -> None:
        self._data = bytearray()
        #: Stream positions (in ``produced`` coordinates) where an HTTP chunk ended.
        self._marks: deque[int] = deque()
        #: Total bytes ever written to this buffer (``unread`` does not count).
        self.produced = 0
        #: How many times bytes were put back at the head.
        self.unreads = 0

    # -- the writing side (also the output sink of byte decoders) ---------------------------

    def write(self, data: Bytes) -> None:
        """Append ``data`` at the tail."""
        self._data += data
        self.produced += len(data)

    def mark_chunk_end(self) -> None:
        """Record that an HTTP chunk ends at the current tail."""
        position = self.produced
        marks = self._marks
        if not marks or marks[-1] != position:
            marks.append(position)

    # -- looking ----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._data)

    def __bool__(self) -> bool:
        return bool(self._data)

    @property
    def head(self) -> int:
        """The stream position of the first buffered byte."""
        return self.produced - len(self._data)

    def view(self) -> memoryview:
        """A read-only view of all buffered bytes, without copying.

        The buffer cannot grow or shrink while the view is alive: release it (``with
        buffer.view() as v:``) before the next write, take or drop.
        """
        return memoryview(self._data).toreadonly()

    def find(self, separator: bytes, start: int = 0, end: int | None = None) -> int:
        """Index of the first ``separator`` at or after ``start`` (-1 if none)."""
        if end is None:
            return self._data.find(separator, start)
        return self._data.find(separator, start, end)

    def peek(self, n: int) -> bytes:
        """A copy of the first ``n`` buffered bytes (fewer if fewer are buffered)."""
        return bytes(self._data[:n])

    def next_chunk_end(self) -> int | None:
        """Bytes from the head to the next chunk mark, or None if no mark is pending."""
        marks = self._marks
        head = self.produced - len(self._data)
        while marks:
            distance = marks[0] - head
            if distance > 0:
                return distance
            marks.popleft()
        return None

    def drop_chunk_mark(self) -> None:
        """Forget the next pending chunk mark."""
        if self.next_chunk_end() is not None:
            self._marks.popleft()

    # -- consuming ---------------------------------------------------------------------------

    def take(self, n: int) -> bytes:
        """Remove and return the first ``n`` bytes (all of them if ``n`` is larger)."""
        data = self._data
        if n >= len(data):
            chunk = bytes(data)
            data.clear()
        else:
            chunk = bytes(data[:n])
            del data[:n]
        return chunk

    def take_all(self) -> bytes:
        """Remove and return every buffered byte."""
        chunk = bytes(self._data)
        self._data.clear()
        return chunk

    def drop(self, n: int) -> None:
        """Remove the first ``n`` bytes without copying them."""
        del self._data[:n]

    def unread(self, data: Bytes) -> None:
        """Put ``data`` back at the head. ``produced`` is unchanged."""
        if data:
            self._data[:0] = data
            self.unreads += 1
