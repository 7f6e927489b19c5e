"""The receive buffer behind every framekit reader.

Operations: append bytes at the tail (``write``), look at the buffered bytes without copying
(``view``), search for separators, take or drop bytes at the head, put bytes back at the head
(``unread``), and remember where HTTP chunks ended (``mark_chunk_end``).

Goal: on average fast, worst case O(n) for any fragmentation of the input, and one copy per
byte in the common case: a reader that keeps up with its input.

Plan: the buffered bytes are ``data[pos:]``, in one of two storages.

- **bytes + offset** (the common case). A ``bytes`` object written to an empty buffer is kept
  as it is, with no copy. Taking from the head slices it at the offset (one copy, straight to
  the ``bytes`` the read returns; taking all of an unsliced object returns the object itself)
  and dropping moves the offset. Bytes written behind a small remainder (the partial line at
  the end of a socket read) are concatenated with it into a new ``bytes`` object: a copy of
  the remainder and the new bytes, which asyncio's ``bytearray`` makes too.
- **bytearray** (``pos`` is 0). Bytes written behind a remainder longer than themselves (a
  long line arriving in small pieces) are appended to a ``bytearray``, amortised O(1); CPython
  deletes from the front of a ``bytearray`` in O(1). The buffer goes back to bytes + offset
  once it is empty, or when a write is at least as long as what is buffered.

So a write copies at most the bytes written plus a remainder no longer than them (amortised
linear), and a take copies what it returns. Searches are resumable: a caller that found
nothing remembers how far it looked (see ``StreamReader._search``) and looks only at new bytes
next time, keeping ``len(separator) - 1`` bytes of overlap so that a separator split across
feeds is found: ``scanned`` holds how far, and any change at the head (a take, a drop, an
unread) resets it.

``data``, ``pos`` and ``marks`` are public to framekit's readers and drivers, whose hot paths
read them directly (inlined takes, a frame handed out by moving ``pos``): they keep these
invariants, and one that moves the head itself also resets ``scanned`` and calls
``on_consume`` (below). This module is private: nothing outside framekit sees them.

Flow control: ``on_consume`` is None, or a callable set by the buffer's owner while it must
hear of bytes taken from the head (a paused reader, to resume its input below its low-water
mark). Whoever takes bytes from another's buffer calls it after (``take`` and ``drop`` do not:
the owner's own reads decide when to resume).

Two flags are the owner's state that adapters check in their hot paths with one load:
``ended`` (no more bytes will be written) and ``held`` (the owner's exception is set, or a
skip is under way: ask the owner before reading).

Positions: ``produced`` counts every byte ever written; the head of the buffer is at stream
position ``produced - len(buffer)``. Chunk marks are stream positions, so they survive takes,
unreads and compaction without being adjusted.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from typing import TypeAlias

Bytes: TypeAlias = bytes | bytearray | memoryview


class Buffer:
    """A FIFO byte buffer with O(1) head removal, zero-copy views and chunk marks."""

    __slots__ = (
        "_last_mark",
        "data",
        "ended",
        "held",
        "marks",
        "on_consume",
        "pos",
        "produced",
        "scanned",
        "unreads",
    )

    def __init__(self) -> None:
        #: The buffered bytes are ``data[pos:]``; ``pos`` is 0 when ``data`` is a bytearray.
        self.data: bytes | bytearray = b""
        self.pos = 0
        #: Stream positions (in ``produced`` coordinates) where an HTTP chunk ended.
        self.marks: deque[int] = deque()
        #: The last position marked (0: none yet): an end with no bytes since the last one,
        #: or before the first byte, is not recorded (aiohttp's rule: no empty chunks).
        self._last_mark = 0
        #: Total bytes ever written to this buffer (``unread`` does not count).
        self.produced = 0
        #: How many times bytes were put back at the head.
        self.unreads = 0
        #: How far a search from the head got (its owner's resumable search); reset to 0 by
        #: every change at the head.
        self.scanned = 0
        #: Called by whoever takes bytes from another's buffer, when set (see the module
        #: docstring).
        self.on_consume: Callable[[], object] | None = None
        #: No more bytes will be written (the owner's input ended).
        self.ended = False
        #: The owner holds its bytes back from adapters: its exception is set (nothing may be
        #: read) or a skip is under way (the next bytes are not the next frame's). An adapter
        #: that sees it asks the owner (see ``framekit._port``).
        self.held = False

    # -- the writing side (also the output sink of byte decoders) ---------------------------

    def write(self, data: Bytes) -> None:
        """Append ``data`` at the tail (a ``bytes`` object written to an empty buffer is kept,
        not copied)."""
        if type(data) is memoryview and data.itemsize != 1:
            data = data.tobytes()  # ``len`` counts items: bytes count here
        size = len(data)
        if not size:
            return
        old = self.data
        pos = self.pos
        rest = len(old) - pos
        if not rest:
            self.data = data if type(data) is bytes else bytes(data)
            self.pos = 0
        elif rest <= size:
            # A short remainder: one new bytes object (cost: at most twice the bytes written).
            if isinstance(old, bytes):
                self.data = (old[pos:] if pos else old) + data
            else:
                self.data = b"".join((old, data))
            self.pos = 0
        elif isinstance(old, bytes):
            grown = bytearray(memoryview(old)[pos:])
            grown += data
            self.data = grown
            self.pos = 0
        else:
            old += data
        self.produced += size

    def mark_chunk_end(self) -> None:
        """Record that an HTTP chunk ends at the current tail (unless no byte came since the
        last end)."""
        position = self.produced
        if position != self._last_mark:
            self.marks.append(position)
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
        marks = self.marks
        last = self._last_mark
        for position in positions:
            if position != last:
                marks.append(position)
                last = position
        self._last_mark = last

    # -- looking ----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.data) - self.pos

    def __bool__(self) -> bool:
        return len(self.data) > self.pos

    @property
    def head(self) -> int:
        """The stream position of the first buffered byte."""
        return self.produced - len(self.data) + self.pos

    def view(self) -> memoryview:
        """A read-only view of all buffered bytes, without copying.

        The buffer cannot grow or shrink while the view is alive: release it (``with
        buffer.view() as v:``) before the next write, take or drop.
        """
        data = self.data
        if isinstance(data, bytes):
            pos = self.pos
            return memoryview(data)[pos:] if pos else memoryview(data)
        return memoryview(data).toreadonly()

    def find(self, separator: bytes, start: int = 0, end: int | None = None) -> int:
        """Index of the first ``separator`` at or after ``start`` (-1 if none)."""
        pos = self.pos
        data = self.data
        if end is None:
            i = data.find(separator, pos + start)
        else:
            i = data.find(separator, pos + start, pos + end)
        return i - pos if i >= 0 else -1

    def peek(self, n: int) -> bytes:
        """A copy of the first ``n`` buffered bytes (fewer if fewer are buffered)."""
        pos = self.pos
        return bytes(self.data[pos : pos + n])

    def next_chunk_end(self) -> int | None:
        """Bytes from the head to the next chunk mark, or None if no mark is pending."""
        marks = self.marks
        head = self.produced - len(self.data) + self.pos
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
        marks = self.marks
        head = self.produced - len(self.data) + self.pos
        while marks:
            distance = marks[0] - head
            if distance >= 0:
                return distance
            marks.popleft()
        return None

    def drop_chunk_mark(self) -> None:
        """Forget the next pending chunk mark."""
        if self.next_chunk_end() is not None:
            self.marks.popleft()

    # -- consuming ---------------------------------------------------------------------------

    def take(self, n: int) -> bytes:
        """Remove and return the first ``n`` bytes (all of them if ``n`` is larger)."""
        self.scanned = 0
        data = self.data
        if isinstance(data, bytes):
            pos = self.pos
            end = pos + n
            if end >= len(data):
                chunk = data[pos:] if pos else data
                self.data = b""
                self.pos = 0
            else:
                chunk = data[pos:end]
                self.pos = end
            return chunk
        if n >= len(data):
            chunk = bytes(data)
            self.data = b""
        else:
            chunk = bytes(data[:n])
            del data[:n]
        return chunk

    def take_all(self) -> bytes:
        """Remove and return every buffered byte."""
        return self.take(len(self.data))

    def drop(self, n: int) -> None:
        """Remove the first ``n`` bytes without copying them."""
        self.scanned = 0
        data = self.data
        if isinstance(data, bytes):
            pos = self.pos + n
            if pos >= len(data):
                self.data = b""
                self.pos = 0
            else:
                self.pos = pos
        elif n >= len(data):
            self.data = b""
        else:
            del data[:n]

    def unread(self, data: Bytes) -> None:
        """Put ``data`` back at the head. ``produced`` is unchanged."""
        if type(data) is memoryview and data.itemsize != 1:
            data = data.tobytes()
        if data:
            self.scanned = 0
            old = self.data
            if isinstance(old, bytes):
                pos = self.pos
                self.data = b"".join((data, memoryview(old)[pos:] if pos else old))
                self.pos = 0
            else:
                old[:0] = data
            self.unreads += 1
