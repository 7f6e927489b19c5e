"""The port: what framekit's adapters use of the reader they read from, and all they use.

The frame driver (:mod:`framekit._driver`), the layers (:mod:`framekit.layers`) and the frame
readers (:mod:`framekit.frames`, :mod:`framekit.sync`) work on a *source*: the core
:class:`~framekit.reader.StreamReader` (a root or a layer) or a
:class:`~framekit.sync.SyncReader`. They touch nothing private of it; this is what they use
(the reader's docstring says what each call does):

- ``buffer``: the source's receive :class:`~framekit._buffer.Buffer`, the same object for the
  source's life. ``buffer.view()`` is the buffered bytes; ``buffer.head`` (the stream position
  of the first byte not consumed) is the consumption counter, and with ``buffer.unreads`` it
  tells an adapter, with one compare, whether anyone read or unread around it.
- consuming: ``buffer.drop(n)`` then ``buffer.on_consume()`` if set (``StreamReader.consume``
  does both); a hot path may move the buffer's head itself, as ``framekit._buffer`` says.
- waiting (async sources): ``wait_for_input(caller, wanted)``, until anything changes; or
  ``begin_wait``/``end_wait``, the same wait as a future that a layer shares with its root;
  ``wake()``, to wake a read waiting on the source.
- the end and the pending exception: ``is_eof()``, ``exception()``, ``raise_if_failed()``;
  in hot paths, the buffer's two flags, ``buffer.ended`` (no more bytes will come) and
  ``buffer.held`` (an exception is set or a skip is under way: ask the source first).
- the skip hand-over: ``begin_skip(skip)`` (a :class:`Skip`), ``skipping``,
  ``discard_skipped()``, ``finish_skip(caller)``.
- ``pull_nowait()``: bring in what is available without waiting (a layer decodes its source).
"""

from __future__ import annotations

from typing import Protocol

from framekit._buffer import Buffer

__all__ = ["FrameSource", "Skip"]


class Skip(Protocol):
    """Something a reader drops before any read: the rest of a frame already reported."""

    def discard(self, buffer: Buffer, eof: bool) -> bool:
        """Drop from the head of ``buffer`` the bytes that belong to what is skipped; return
        True once it is over (``eof``: no more bytes will come). Never raises."""


class FrameSource(Protocol):
    """What the frame driver needs of the reader it decodes from (a part of the port)."""

    @property
    def buffer(self) -> Buffer:
        """The receive buffer (the same object for the reader's life)."""

    def begin_skip(self, skip: Skip) -> None:
        """Drop what ``skip`` claims before any read."""

    def is_eof(self) -> bool:
        """True once the input has ended (bytes may still be buffered)."""
