"""The receive buffer behind every framekit reader.

Operations: append bytes at the tail (``write``), look at the buffered bytes without copying
(``view``), search for separators, take or drop bytes at the head, put bytes back at the head
(``unread``), and remember where HTTP chunks ended (``mark_chunk_end``).

Goal: on average fast, worst case O(n) for any fragmentation of the input, and one copy per
byte in the common case: a reader that keeps up with its input.

Plan: the buffered bytes are ``_data[_pos:]``, in one of two storages.

- **bytes + offset** (the common case). A ``bytes`` object written to an empty buffer is kept
  as it is, with no copy. Taking from the head slices it at the offset (one copy, straight to
  the ``bytes`` the read returns; taking all of an unsliced object returns the object itself)
  and dropping moves the offset. Bytes written behind a small remainder (the partial line at
  the end of a socket read) are concatenated with it into a new ``bytes`` object: a copy of
  the remainder and the new bytes, which asyncio's ``bytearray`` makes too.
- **bytearray** (``_pos`` is 0). Bytes written behind a remainder longer than themselves (a
  long line arriving in small pieces) are appended to a ``bytearray``, amortised O(1); CPython
  deletes from the front of a ``bytearray`` in O(1). The buffer goes back to bytes + offset
  once it is empty, or when a write is at least as long as what is buffered.

So a write copies at most the bytes written plus a remainder no longer than them (amortised
linear), and a take copies what it returns. Searches are resumable: a caller that found
nothing remembers how far it looked (see ``StreamReader._search``) and looks only at new bytes
next time, keeping ``len(separator) - 1`` bytes of overlap so that a separator split across
feeds is found. The readers' hot paths read ``_data`` and ``_pos`` directly (inlined takes);
they keep these invariants.

Positions: ``produced`` counts every byte ever written; the head of the buffer is at stream
position ``produced - len(buffer)``. Chunk marks are stream positions, so they survive takes,
unreads and compaction without being adjusted.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import TypeAlias

Bytes: TypeAlias = bytes | bytearray | memoryview


class Buffer:
    """A FIFO byte buffer with O(1) head removal, zero-copy views and chunk marks."""

    __slots__ = ("_data", "_last_mark", "_marks", "_pos", "produced", "unreads")

    def __init__(self) -> None:
        #: The buffered bytes are ``_data[_pos:]``; ``_pos`` is 0 when ``_data`` is a bytearray.
        self._data: bytes | bytearray = b""
        self._pos = 0
        #: Stream positions (in ``produced`` coordinates) where an HTTP chunk ended.
        self._marks: deque[int] = deque()
        #: The last position marked (0: none yet): an end with no bytes since the last one,
        #: or before the first byte, is not recorded (aiohttp's rule: no empty chunks).
        self._last_mark = 0
        #: Total bytes ever written to this buffer (``unread`` does not count).
        self.produced = 0
        #: How many times bytes were put back at the head.
        self.unreads = 0

    # -- the writing side (also the output sink of byte decoders) ---------------------------

    def write(self, data: Bytes) -> None:
        """Append ``data`` at the tail (a ``bytes`` object written to an empty buffer is kept,
        not copied)."""
        if type(data) is memoryview and data.itemsize != 1:
            data = data.tobytes()  # ``len`` counts items: bytes count here
        size = len(data)
        if not size:
            return
        old = self._data
        pos = self._pos
        rest = len(old) - pos
        if not rest:
            self._data = data if type(data) is bytes else bytes(data)
            self._pos = 0
        elif rest <= size:
            # A short remainder: one new bytes object (cost: at most twice the bytes written).
            if isinstance(old, bytes):
                self._data = (old[pos:] if pos else old) + data
            else:
                self._data = b"".join((old, data))
            self._pos = 0
        elif isinstance(old, bytes):
            grown = bytearray(memoryview(old)[pos:])
            grown += data
            self._data = grown
            self._pos = 0
        else:
            old += data
        self.produced += size

    def mark_chunk_end(self) -> None:
        """Record that an HTTP chunk ends at the current tail (unless no byte came since the
        last end)."""
        position = self.produced
        if position != self._last_mark:
            self._marks.append(position)
            self._last_mark = position

    def write_marked(self, data: bytes, marks: list[int]) -> None:
        """Append ``data`` with an HTTP chunk end at each offset in ``marks`` (the output
        sink's call: as ``write`` and ``mark_chunk_end`` in turn)."""
        start = self.produced
        self.write(data)
        if marks:
            self.mark_chunk_ends([start + mark for mark in marks])

    def mark_chunk_ends(self, positions: Iterable[int]) -> None:
        """Record that HTTP chunks end at stream ``positions`` (in order, none before the last
        mark, none past the tail), skipping repeats of the last one."""
        marks = self._marks
        last = self._last_mark
        for position in positions:
            if position != last:
                marks.append(position)
                last = position
        self._last_mark = last

    # -- looking ----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._data) - self._pos

    def __bool__(self) -> bool:
        return len(self._data) > self._pos

    @property
    def head(self) -> int:
        """The stream position of the first buffered byte."""
        return self.produced - len(self._data) + self._pos

    def view(self) -> memoryview:
        """A read-only view of all buffered bytes, without copying.

        The buffer cannot grow or shrink while the view is alive: release it (``with
        buffer.view() as v:``) before the next write, take or drop.
        """
        data = self._data
        if isinstance(data, bytes):
            pos = self._pos
            return memoryview(data)[pos:] if pos else memoryview(data)
        return memoryview(data).toreadonly()

    def find(self, separator: bytes, start: int = 0, end: int | None = None) -> int:
        """Index of the first ``separator`` at or after ``start`` (-1 if none)."""
        pos = self._pos
        data = self._data
        if end is None:
            i = data.find(separator, pos + start)
        else:
            i = data.find(separator, pos + start, pos + end)
        return i - pos if i >= 0 else -1

    def peek(self, n: int) -> bytes:
        """A copy of the first ``n`` buffered bytes (fewer if fewer are buffered)."""
        pos = self._pos
        return bytes(self._data[pos : pos + n])

    def next_chunk_end(self) -> int | None:
        """Bytes from the head to the next chunk mark, or None if no mark is pending."""
        marks = self._marks
        head = self.produced - len(self._data) + self._pos
        while marks:
            distance = marks[0] - head
            if distance > 0:
                return distance
            marks.popleft()
        return None

    def chunk_end_at_or_after_head(self) -> int | None:
        """Bytes from the head to the next chunk mark, 0 for a mark at the head (reached by an
        earlier read, or recorded after its bytes were read), None if no mark is pending.

        Marks behind the head are forgotten. The caller pops the mark it reports.
        """
        marks = self._marks
        head = self.produced - len(self._data) + self._pos
        while marks:
            distance = marks[0] - head
            if distance >= 0:
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
        if isinstance(data, bytes):
            pos = self._pos
            end = pos + n
            if end >= len(data):
                chunk = data[pos:] if pos else data
                self._data = b""
                self._pos = 0
            else:
                chunk = data[pos:end]
                self._pos = end
            return chunk
        if n >= len(data):
            chunk = bytes(data)
            self._data = b""
        else:
            chunk = bytes(data[:n])
            del data[:n]
        return chunk

    def take_all(self) -> bytes:
        """Remove and return every buffered byte."""
        return self.take(len(self._data))

    def drop(self, n: int) -> None:
        """Remove the first ``n`` bytes without copying them."""
        data = self._data
        if isinstance(data, bytes):
            pos = self._pos + n
            if pos >= len(data):
                self._data = b""
                self._pos = 0
            else:
                self._pos = pos
        elif n >= len(data):
            self._data = b""
        else:
            del data[:n]

    def unread(self, data: Bytes) -> None:
        """Put ``data`` back at the head. ``produced`` is unchanged."""
        if type(data) is memoryview and data.itemsize != 1:
            data = data.tobytes()
        if data:
            old = self._data
            if isinstance(old, bytes):
                pos = self._pos
                self._data = b"".join((data, memoryview(old)[pos:] if pos else old))
                self._pos = 0
            else:
                old[:0] = data
            self.unreads += 1
