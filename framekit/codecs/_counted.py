"""The shell shared by decoders whose frames announce their own length.

:class:`~framekit.codecs.length.LengthPrefixedDecoder` (a binary length field) and the
netstring / octet-counting decoder (an ASCII length) differ in how they read a frame's
header; everything around it is the same and lives here: the offset count, the error found
after frames in the same call (raised by the next call), the malformed input that every later
call raises again, and the ``needs_input`` hint.
"""

from __future__ import annotations

from framekit.errors import FramingError, MalformedError

__all__ = ["CountedDecoder"]


class CountedDecoder:
    """Base of the count-framed decoders. Subclasses implement ``_decode``.

    State between calls: ``_offset`` is the stream position of ``data[0]``; ``_pending`` an
    error found after frames were produced in the same call, raised by the next call;
    ``_fatal`` a malformed frame, raised by every later call.
    """

    __slots__ = ("_fatal", "_offset", "_pending", "skipped_frames")

    def __init__(self) -> None:
        #: Frames skipped (not raised) because they were longer than their maximum.
        self.skipped_frames = 0
        self._offset = 0
        self._pending: FramingError | None = None
        self._fatal: MalformedError | None = None

    @property
    def needs_input(self) -> bool:
        """True after a ``decode`` that stopped because its input ran out (no error waits for
        the next call): called again without new bytes, it would find nothing."""
        return self._pending is None and self._fatal is None

    def decode(self, data: memoryview, frames: list[bytes], ends: list[int] | None = None) -> int:
        """Append every complete frame in ``data`` to ``frames`` (and where each ends in
        ``data`` to ``ends``, when given); return bytes consumed.

        Raises the codec's errors: a malformed frame (again on every later call), a frame
        over the maximum (once; it is skipped).
        """
        return self._decode(data, frames, ends, eof=False)

    def decode_eof(
        self, data: memoryview, frames: list[bytes], ends: list[int] | None = None
    ) -> int:
        """Like ``decode``; bytes of an incomplete frame at EOF raise ``TruncatedError``."""
        return self._decode(data, frames, ends, eof=True)

    def reset_search(self) -> None:
        """Nothing to forget: a frame's header is read again from its first byte."""

    def _decode(
        self, data: memoryview, frames: list[bytes], ends: list[int] | None, *, eof: bool
    ) -> int:
        raise NotImplementedError

    def _raise_waiting(self) -> None:
        """Raise the error an earlier call found (the fatal one every time, a pending once)."""
        if self._fatal is not None:
            # The same object every time: its traceback must not grow with each raise.
            raise self._fatal.with_traceback(None)
        pending = self._pending
        if pending is not None:
            self._pending = None
            raise pending

    def _fail(self, pos: int, error: FramingError) -> int:
        """Raise ``error`` now if nothing was consumed in this call, else on the next call."""
        if pos == 0:
            raise error
        if error is not self._fatal:
            self._pending = error
        return self._consumed(pos)

    def _consumed(self, count: int) -> int:
        self._offset += count
        return count
