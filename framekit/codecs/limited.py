"""A body of a known length (HTTP ``Content-Length``): exactly ``length`` bytes, then done.

The decoder passes bytes through until ``length`` have gone by, then sets ``done`` and consumes
nothing more, so whatever follows the body (a pipelined message) stays in the source. EOF
before ``length`` bytes is a :class:`~framekit.errors.TruncatedError`.
"""

from __future__ import annotations

import attrs

from framekit.codecs._base import Bytes, OutputSink
from framekit.errors import TruncatedError

__all__ = ["Limited", "LimitedDecoder", "LimitedEncoder"]


def _check_length(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{attribute.name} must be an int >= 0, got {value!r}")


@attrs.define(frozen=True)
class Limited:
    """A body of exactly ``length`` bytes (``Limited(length)``)."""

    length: int = attrs.field(validator=_check_length)

    def decoder(self) -> LimitedDecoder:
        """A fresh decoder for one body."""
        return LimitedDecoder(self.length)

    def encoder(self) -> LimitedEncoder:
        """A fresh encoder for one body: it checks that exactly ``length`` bytes are fed."""
        return LimitedEncoder(self.length)


class LimitedDecoder:
    """Passes ``length`` bytes through, then is done. See :class:`Limited`."""

    __slots__ = ("_consumed", "_remaining", "needs_input")

    def __init__(self, length: int) -> None:
        self._remaining = length
        self._consumed = 0
        #: True after a ``decode`` that took all its input short of the budget.
        self.needs_input = False

    def __repr__(self) -> str:
        return f"<LimitedDecoder remaining={self._remaining} consumed={self._consumed}>"

    @property
    def done(self) -> bool:
        """True once ``length`` bytes have been decoded."""
        return self._remaining == 0

    @property
    def verbatim(self) -> int:
        """How many of the next input bytes ``decode`` would write as they are and consume,
        with nothing else happening (rule 7): the body but its last byte (which ends it)."""
        return self._remaining - 1 if self._remaining else 0

    def skip_verbatim(self, n: int) -> None:
        """Count ``n`` (at most ``verbatim``) bytes the driver passed through itself."""
        self._remaining -= n
        self._consumed += n
        self.needs_input = True

    def decode(self, data: memoryview, out: OutputSink, budget: int) -> int:
        """Pass through up to ``budget`` bytes of the body; return bytes consumed."""
        n = min(len(data), self._remaining, budget)
        if n:
            out.write(data[:n])
            self._remaining -= n
            self._consumed += n
        self.needs_input = n == len(data) and n < budget and self._remaining > 0
        return n

    def decode_eof(self, data: memoryview, out: OutputSink, budget: int) -> int:
        """Like ``decode``; raises TruncatedError when the input ends before the body does."""
        n = self.decode(data, out, budget)
        if n == 0 and self._remaining:
            raise TruncatedError(
                f"input ended {self._remaining} bytes before the end of the body",
                offset=self._consumed,
            )
        return n


class LimitedEncoder:
    """Passes bytes through and checks that exactly ``length`` were sent."""

    __slots__ = ("_remaining",)

    def __init__(self, length: int) -> None:
        self._remaining = length

    def feed(self, data: Bytes) -> bytes:
        """Return ``data``; raises ValueError if the body would get longer than ``length``."""
        if len(data) > self._remaining:
            raise ValueError(f"body is longer than its length ({len(data)} bytes over budget)")
        self._remaining -= len(data)
        return bytes(data)

    def finish(self) -> bytes:
        """Return b""; raises ValueError if fewer than ``length`` bytes were fed."""
        if self._remaining:
            raise ValueError(f"body is {self._remaining} bytes shorter than its length")
        return b""
