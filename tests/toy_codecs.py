"""Small codecs that exercise the adapters without depending on a real wire format."""

from __future__ import annotations

import attrs

from framekit.codecs._base import OutputSink
from framekit.errors import FrameTooLong, MalformedError, TruncatedError


@attrs.define(frozen=True)
class Hexchunks:
    """``<one hex digit n><n bytes>`` chunks, ended by ``0``. Marks each chunk's end."""

    def decoder(self) -> HexchunksDecoder:
        return HexchunksDecoder()

    def encoder(self) -> HexchunksEncoder:
        return HexchunksEncoder()


class HexchunksDecoder:
    needs_input = False  # promises nothing: the driver decodes again

    def __init__(self) -> None:
        self.done = False
        self._left = 0  # bytes of the current chunk still to copy
        self._seen = 0

    def decode(self, data: memoryview, out: OutputSink, budget: int) -> int:
        pos = 0
        while not self.done:
            if self._left:
                n = min(self._left, len(data) - pos, budget)
                if n <= 0:
                    break
                out.write(data[pos : pos + n])
                pos += n
                budget -= n
                self._left -= n
                if not self._left:
                    out.mark_chunk_end()
                continue
            if pos >= len(data):
                break
            try:
                size = int(bytes(data[pos : pos + 1]), 16)
            except ValueError:
                if pos:
                    break
                raise MalformedError("chunk size is not a hex digit", offset=self._seen) from None
            pos += 1
            if size == 0:
                self.done = True
            self._left = size
        self._seen += pos
        return pos

    def decode_eof(self, data: memoryview, out: OutputSink, budget: int) -> int:
        consumed = self.decode(data, out, budget)
        if consumed == 0 and not self.done:
            raise TruncatedError("hexchunks ended early", offset=self._seen)
        return consumed


class HexchunksEncoder:
    def feed(self, data: bytes | bytearray | memoryview) -> bytes:
        data = bytes(data)
        pieces = [data[i : i + 15] for i in range(0, len(data), 15)]
        return b"".join(b"%x" % len(piece) + piece for piece in pieces)

    def finish(self) -> bytes:
        return b"0"


@attrs.define(frozen=True)
class Semicolons:
    """Frames ended by ``;`` (stripped), at most ``max_length`` bytes, over-long ones skipped."""

    max_length: int = 16

    def decoder(self) -> SemicolonsDecoder:
        return SemicolonsDecoder(self.max_length)

    def encoder(self) -> SemicolonsEncoder:
        return SemicolonsEncoder()


class SemicolonsDecoder:
    needs_input = False  # promises nothing: the driver decodes again

    def __init__(self, max_length: int) -> None:
        self.max_length = max_length
        self.searched = 0  # bytes of the current frame already searched
        self.skipping = False
        self.seen = 0
        self.resets = 0

    def reset_search(self) -> None:
        self.searched = 0
        self.resets += 1

    def discard(self, data: memoryview, eof: bool) -> tuple[int, bool]:
        if not self.skipping:
            return 0, True
        i = bytes(data).find(b";")
        if i < 0:
            self.seen += len(data)
            self.skipping = not eof
            return len(data), eof
        self.skipping = False
        self.seen += i + 1
        return i + 1, True

    def decode(self, data: memoryview, frames: list[bytes], ends: list[int] | None = None) -> int:
        raw = bytes(data)
        n = len(raw)
        pos = 0
        while pos < n:
            if self.skipping:
                i = raw.find(b";", pos)
                if i < 0:
                    pos = n
                    break
                self.skipping = False
                pos = i + 1
                continue
            i = raw.find(b";", pos + self.searched)
            if i >= 0 and i - pos <= self.max_length:
                frames.append(raw[pos:i])
                pos = i + 1
                self.searched = 0
                if ends is not None:
                    ends.append(pos)
                continue
            if i < 0 and n - pos <= self.max_length:
                self.searched = n - pos
                break
            self.searched = 0
            if pos:
                break  # hand out what came before; raise on the next call
            self.skipping = True
            raise FrameTooLong(
                "frame longer than max_length", limit=self.max_length, offset=self.seen
            )
        self.seen += pos
        return pos

    def decode_eof(
        self, data: memoryview, frames: list[bytes], ends: list[int] | None = None
    ) -> int:
        consumed = self.decode(data, frames, ends)
        rest = len(data) - consumed
        if frames or not rest:
            return consumed
        if self.skipping:
            self.skipping = False
            self.seen += rest
            return len(data)
        raise TruncatedError("stream ended inside a frame", offset=self.seen)


class SemicolonsEncoder:
    def encode(self, frame: bytes) -> bytes:
        return frame + b";"


@attrs.define(frozen=True)
class NoneFrames:
    """One frame per byte: ``n`` is the frame None (as a RESP null), any other byte itself."""

    def decoder(self) -> NoneFramesDecoder:
        return NoneFramesDecoder()

    def encoder(self) -> NoneFramesEncoder:
        return NoneFramesEncoder()


class NoneFramesDecoder:
    needs_input = False  # promises nothing: the driver decodes again

    def decode(
        self, data: memoryview, frames: list[bytes | None], ends: list[int] | None = None
    ) -> int:
        for i, byte in enumerate(bytes(data)):
            frames.append(None if byte == ord("n") else bytes([byte]))
            if ends is not None:
                ends.append(i + 1)
        return len(data)

    def decode_eof(
        self, data: memoryview, frames: list[bytes | None], ends: list[int] | None = None
    ) -> int:
        return self.decode(data, frames, ends)

    def reset_search(self) -> None:
        pass

    def discard(self, data: memoryview, eof: bool) -> tuple[int, bool]:
        return 0, True


class NoneFramesEncoder:
    def encode(self, frame: bytes | None) -> bytes:
        return b"n" if frame is None else frame


@attrs.define(frozen=True)
class FailsHoldingASlice:
    """A codec whose decoder fails at once, with a slice of its input alive in its frame as it
    raises, and raises the same error again on every later call (as a decoder that cannot
    recover does). ``frames=True``: a frame codec; else a byte codec."""

    frames: bool = False

    def decoder(self) -> FailsHoldingASliceDecoder:
        return FramesFailHoldingASliceDecoder() if self.frames else BytesFailHoldingASliceDecoder()

    def encoder(self) -> HexchunksEncoder:
        raise NotImplementedError


class FailsHoldingASliceDecoder:
    needs_input = False  # promises nothing: the driver decodes again

    def __init__(self) -> None:
        self.failure: MalformedError | None = None

    def decode(self, data: memoryview, out: object, budget: object = None) -> int:
        if self.failure is not None:
            raise self.failure
        rest = data[1:]  # alive in this frame as the error is raised
        self.failure = MalformedError(f"bad input ({len(rest) + 1} bytes)", offset=0)
        raise self.failure

    decode_eof = decode


class BytesFailHoldingASliceDecoder(FailsHoldingASliceDecoder):
    done = False


class FramesFailHoldingASliceDecoder(FailsHoldingASliceDecoder):
    def reset_search(self) -> None:
        pass

    def discard(self, data: memoryview, eof: bool) -> tuple[int, bool]:
        return 0, True
