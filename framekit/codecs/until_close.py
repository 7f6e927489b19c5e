"""A body that ends where its source ends (an HTTP response read until the connection closes).

The decoder passes every byte through (at most ``budget`` per call) and is done at the
source's EOF, when it has passed the last byte. It never raises: any length is a whole body
(RFC 9112 section 6.3, rule 8; a truncated one cannot be told from a complete one, which is
why such a response ends its connection).
"""

from __future__ import annotations

import attrs

from framekit.codecs._base import Bytes, OutputSink

__all__ = ["UntilClose", "UntilCloseDecoder", "UntilCloseEncoder"]


@attrs.define(frozen=True)
class UntilClose:
    """A body of every byte up to the end of the stream (``UntilClose()``)."""

    def decoder(self) -> UntilCloseDecoder:
        """A fresh decoder for one body."""
        return UntilCloseDecoder()

    def encoder(self) -> UntilCloseEncoder:
        """A fresh encoder for one body: the bytes as they are (the sender then closes)."""
        return UntilCloseEncoder()


class UntilCloseDecoder:
    """Passes bytes through until the source's EOF. See :class:`UntilClose`."""

    __slots__ = ("_done", "needs_input")

    def __init__(self) -> None:
        self._done = False
        #: True after a ``decode`` that took all its input short of the budget.
        self.needs_input = False

    @property
    def done(self) -> bool:
        """True once the source ended and every byte before its end was passed on."""
        return self._done

    def decode(self, data: memoryview, out: OutputSink, budget: int) -> int:
        """Pass through up to ``budget`` bytes; return bytes consumed (none once done)."""
        n = 0 if self._done else min(len(data), budget)
        if n:
            out.write(data[:n])
        self.needs_input = n == len(data) and n < budget
        return n

    def decode_eof(self, data: memoryview, out: OutputSink, budget: int) -> int:
        """Like ``decode``, knowing the source ended: done once nothing is left."""
        n = self.decode(data, out, budget)
        self.needs_input = False
        if n == len(data):
            self._done = True
        return n


class UntilCloseEncoder:
    """Passes bytes through (the body ends where the sender closes the connection)."""

    __slots__ = ()

    def feed(self, data: Bytes) -> bytes:
        """Return ``data`` as bytes."""
        return bytes(data)

    def finish(self) -> bytes:
        """Return b"" (closing the connection ends the body)."""
        return b""
