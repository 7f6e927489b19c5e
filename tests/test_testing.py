"""framekit.testing: every built-in codec passes the contract checker, and the checker names
each rule a deliberately broken codec breaks."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import framekit
from framekit.codecs import (
    BaseFrameDecoder,
    Brotli,
    Chunked,
    Deflate,
    Delimited,
    Gzip,
    LengthPrefixed,
    Limited,
    Lines,
    Netstring,
    OctetCounted,
    RawDeflate,
    TextLines,
    Zstd,
)
from framekit.codecs._base import OutputSink
from framekit.codecs.chunked import ChunkedDecoder
from framekit.codecs.limited import LimitedDecoder
from framekit.errors import (
    FrameTooLong,
    FramingError,
    LimitExceededError,
    LineTooLong,
    MalformedError,
    TruncatedError,
)
from framekit.testing import (
    RULES,
    ContractViolation,
    assert_bytes_round_trip,
    assert_round_trip,
    assert_split_invariant,
    check_byte_codec,
    check_frame_codec,
    encoded,
    splits_of,
)
from tests.toy_codecs import Semicolons, SemicolonsDecoder

ROOT = Path(__file__).resolve().parent.parent

# -- built-in frame codecs ------------------------------------------------------------------

SHORT = [b"one", b"", b"three", b"x" * 12]
LONG = b"y" * 40  # over every small maximum below


@attrs.define(frozen=True)
class FrameCase:
    """A built-in frame codec with a small maximum, and how it writes and reads frames."""

    codec: Any
    limit_option: str  # the option bounding a frame
    too_long: type[FramingError] | None  # what an over-long frame raises (None: skipped)
    text: bool = False  # frames are str

    def frames(self, raw: list[bytes]) -> list[Any]:
        return [frame.decode() for frame in raw] if self.text else raw

    def wire(self, raw: list[bytes]) -> bytes:
        """``raw`` written by an encoder that accepts longer frames."""
        encoder = attrs.evolve(self.codec, **{self.limit_option: 1000}).encoder()
        return b"".join(encoder.encode(frame) for frame in self.frames(raw))


FRAME_CASES = {
    "lines": FrameCase(Lines(max_length=16), "max_length", LineTooLong),
    "lines-crlf": FrameCase(Lines(ending="crlf", max_length=16), "max_length", LineTooLong),
    "lines-any": FrameCase(Lines(ending="any", max_length=16), "max_length", LineTooLong),
    "lines-skip": FrameCase(Lines(max_length=16, on_too_long="skip"), "max_length", None),
    "lines-eof-error": FrameCase(Lines(max_length=16, at_eof="error"), "max_length", LineTooLong),
    "text-lines": FrameCase(TextLines(max_length=16), "max_length", LineTooLong, text=True),
    "delimited": FrameCase(Delimited(max_length=16), "max_length", LineTooLong),
    "delimited-skip": FrameCase(
        Delimited(delimiters=(b"||", b";"), max_length=16, on_too_long="skip"), "max_length", None
    ),
    "length-prefixed": FrameCase(
        LengthPrefixed(max_frame_length=20), "max_frame_length", FrameTooLong
    ),
    "length-prefixed-varint": FrameCase(
        LengthPrefixed(length_field_length="varint", max_frame_length=20),
        "max_frame_length",
        FrameTooLong,
    ),
    "length-prefixed-skip": FrameCase(
        LengthPrefixed(length_field_length=2, max_frame_length=20, on_too_long="skip"),
        "max_frame_length",
        None,
    ),
    "netstring": FrameCase(Netstring(max_length=16), "max_length", FrameTooLong),
    "octet-counted": FrameCase(OctetCounted(max_length=16), "max_length", FrameTooLong),
}


def short_frames(name: str) -> list[bytes]:
    """SHORT, less the empty frame where the format cannot carry one (RFC 6587)."""
    return [frame for frame in SHORT if frame or name != "octet-counted"]


@pytest.mark.parametrize("name", FRAME_CASES)
def test_builtin_frame_codec_passes_on_valid_wire(name: str) -> None:
    case = FRAME_CASES[name]
    raw = short_frames(name)
    check = check_frame_codec(case.codec, case.wire(raw))
    assert check.frames == case.frames(raw)
    assert check.errors == []


@pytest.mark.parametrize("name", FRAME_CASES)
def test_builtin_frame_codec_passes_with_an_over_long_frame(name: str) -> None:
    case = FRAME_CASES[name]
    raw = short_frames(name)
    check = check_frame_codec(case.codec, case.wire([*raw[:2], LONG, *raw[2:]]))
    assert check.frames == case.frames(raw)  # the over-long frame skipped whole
    assert [type(error) for error in check.errors] == ([case.too_long] if case.too_long else [])


@pytest.mark.parametrize("name", FRAME_CASES)
def test_builtin_frame_codec_passes_on_truncated_wire(name: str) -> None:
    case = FRAME_CASES[name]
    raw = short_frames(name)
    wire = case.wire(raw)
    for cut in (1, len(case.wire(raw[-1:])) - 1):  # in the last frame's ending, in its bytes
        check = check_frame_codec(case.codec, wire[:-cut])
        assert check.frames[: len(raw) - 1] == case.frames(raw[:-1])
        # The cut frame is delivered (at_eof="deliver") or reported (TruncatedError, or a
        # MalformedError for a CRLF line cut after its CR).
        assert len(check.frames) == len(raw) or len(check.errors) == 1, check.results


@pytest.mark.parametrize("name", FRAME_CASES)
def test_builtin_frame_codec_passes_when_the_stream_ends_inside_an_over_long_frame(
    name: str,
) -> None:
    case = FRAME_CASES[name]
    wire = case.wire([b"one", LONG])
    check = check_frame_codec(case.codec, wire[:-5])
    assert check.frames == case.frames([b"one"])


@pytest.mark.parametrize(
    ("codec", "wire"),
    [
        (Netstring(), b"1:a,05:hello,"),
        (Netstring(max_length=5), b"8:xxxxxxxxy5:hello,"),
        (OctetCounted(), b"3 abc0 "),
        (LengthPrefixed(length_field_length="varint"), b"\x01a" + b"\xff" * 11),
        (Lines(ending="crlf"), b"a\r\nb\nc\r\n"),
        (TextLines(), b"ok\n\xff\xfe\nafter\n"),
    ],
)
def test_builtin_frame_codec_passes_on_malformed_wire(codec: Any, wire: bytes) -> None:
    check = check_frame_codec(codec, wire)
    assert any(isinstance(error, MalformedError) for error in check.errors)


# -- built-in byte codecs -------------------------------------------------------------------

DATA = b"hello world, " * 20 + bytes(range(40))


def encode_bytes(codec: Any, data: bytes) -> bytes:
    encoder = codec.encoder()
    return b"".join(encoder.feed(data[i : i + 64]) for i in range(0, len(data), 64)) + (
        encoder.finish()
    )


BYTE_CODECS = {
    "chunked": Chunked(),
    "chunked-lenient": Chunked(lenient=True),
    "limited": Limited(len(DATA)),
    "gzip": Gzip(),
    "gzip-leave": Gzip(trailing_data="leave"),
    "deflate": Deflate(),
    "raw-deflate": RawDeflate(),
    "brotli": Brotli(),
    "zstd": Zstd(),
}

#: A small limit each byte codec has, and the error passing it raises.
OVER_LIMIT = {
    "chunked": (Chunked(max_chunk_size=16), []),
    "chunked-lenient": (Chunked(lenient=True, max_chunk_size=16), []),
    "gzip": (Gzip(max_output_size=100), []),
    "gzip-leave": (Gzip(trailing_data="leave", max_output_size=100), []),
    "deflate": (Deflate(max_output_size=100), []),
    "raw-deflate": (RawDeflate(max_output_size=100), []),
    "brotli": (Brotli(max_output_size=100), []),
    "zstd": (Zstd(max_output_size=100), []),
}


@pytest.mark.parametrize("name", BYTE_CODECS)
def test_builtin_byte_codec_passes_on_valid_wire(name: str) -> None:
    codec = BYTE_CODECS[name]
    check = check_byte_codec(codec, encode_bytes(codec, DATA))
    assert (check.data, check.errors, check.done, check.leftover) == (DATA, [], True, b"")


@pytest.mark.parametrize(
    "name", [pytest.param(name, marks=marks) for name, (_, marks) in OVER_LIMIT.items()]
)
def test_builtin_byte_codec_passes_over_its_limit(name: str) -> None:
    codec, _ = OVER_LIMIT[name]
    check = check_byte_codec(codec, encode_bytes(BYTE_CODECS[name], DATA))
    assert [type(error) for error in check.errors] == [LimitExceededError]
    assert not check.done


@pytest.mark.parametrize("name", BYTE_CODECS)
def test_builtin_byte_codec_passes_on_truncated_wire(name: str) -> None:
    codec = BYTE_CODECS[name]
    check = check_byte_codec(codec, encode_bytes(codec, DATA)[:-1])
    assert [type(error) for error in check.errors] == [TruncatedError]
    assert DATA.startswith(check.data) and not check.done


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(
            name,
            marks=[
                pytest.mark.xfail(
                    strict=True,
                    raises=ContractViolation,
                    reason="brotli, given the stream and bytes after it in one call, writes "
                    "no output before its MalformedError; fed in pieces it writes it all",
                )
            ]
            if name == "brotli"
            else [],
        )
        for name in BYTE_CODECS
    ],
)
def test_builtin_byte_codec_passes_with_bytes_after_the_end(name: str) -> None:
    codec = BYTE_CODECS[name]
    check = check_byte_codec(codec, encode_bytes(codec, DATA) + b"NEXT")
    if check.done:
        assert check.leftover == b"NEXT" and check.data == DATA
    else:
        assert [type(error) for error in check.errors] == [MalformedError]


# -- the helpers ----------------------------------------------------------------------------


def test_check_returns_frames_and_errors_in_order() -> None:
    check = check_frame_codec(Semicolons(max_length=3), b"ab;toolong;c;d")
    assert check.frames == [b"ab", b"c"]  # "d" has no ";": truncated
    assert [type(item).__name__ for item in check.results] == [
        "bytes",
        "FrameTooLong",
        "bytes",
        "TruncatedError",
    ]
    assert [error.offset for error in check.errors] == [3, 13]


def test_round_trip_passes_for_a_codec_that_gives_its_frames_back() -> None:
    check = assert_round_trip(LengthPrefixed(), [b"", b"a", b"b" * 300])
    assert check.frames == [b"", b"a", b"b" * 300]


def test_round_trip_fails_for_a_codec_that_does_not() -> None:
    with pytest.raises(AssertionError, match="does not give the frames back"):
        assert_round_trip(Semicolons(), [b"a;b"], splits=[])  # its encoder writes "a;b;"


def test_bytes_round_trip() -> None:
    check = assert_bytes_round_trip(Chunked(), [b"abc", b"", b"defgh"])
    assert check.data == b"abcdefgh"


def test_split_invariant_takes_both_kinds() -> None:
    assert_split_invariant(Lines(), b"a\nbc\n", [(1,), (2, 3)])
    assert_split_invariant(Chunked(), b"1\r\na\r\n0\r\n\r\n", [(4,)])


def test_a_cut_outside_the_wire_is_refused() -> None:
    with pytest.raises(ValueError, match="cut points"):
        check_frame_codec(Lines(), b"a\n", splits=[(5,)])


def test_checkers_refuse_a_codec_of_the_other_kind() -> None:
    with pytest.raises(TypeError, match="check_byte_codec"):
        check_frame_codec(Chunked(), b"")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="check_frame_codec"):
        check_byte_codec(Lines(), b"")  # type: ignore[arg-type]


def test_a_violation_is_a_codec_contract_error() -> None:
    assert issubclass(ContractViolation, framekit.CodecContractError)


@settings(max_examples=40, deadline=None)
@given(drawn=encoded(Netstring(), st.binary(max_size=12)), data=st.data())
def test_strategies_draw_frames_their_wire_and_splits(
    drawn: tuple[list[bytes], bytes], data: st.DataObject
) -> None:
    frames, wire = drawn
    cuts = data.draw(splits_of(wire))
    assert list(cuts) == sorted(set(cuts)) and all(0 < cut < len(wire) for cut in cuts)
    check = assert_split_invariant(Netstring(max_length=8), wire, [cuts])
    too_long = [frame for frame in frames if len(frame) > 8]
    assert check.frames == [frame for frame in frames if len(frame) <= 8]
    assert len(check.errors) == len(too_long)


def test_testing_imports_without_hypothesis_and_names_the_extra() -> None:
    program = textwrap.dedent(
        """
        import sys

        class NoHypothesis:
            def find_spec(self, name, path=None, target=None):
                if name == "hypothesis" or name.startswith("hypothesis."):
                    raise ImportError("no hypothesis here")
                return None

        sys.meta_path.insert(0, NoHypothesis())
        import framekit.testing
        from framekit.codecs import Lines

        assert framekit.testing.check_frame_codec(Lines(), b"a\\n").frames == [b"a"]
        try:
            framekit.testing.splits_of(b"abc")
        except ImportError as error:
            assert "aioframekit[test]" in str(error), error
        else:
            raise AssertionError("splits_of worked without hypothesis")
        assert "hypothesis" not in sys.modules
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", program],
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_every_rule_has_a_description() -> None:
    assert all(RULES.values())


# -- broken codecs: each is Semicolons (or a small byte codec) with one rule broken ----------


def broken(decoder_class: type[SemicolonsDecoder]) -> Semicolons:
    """A Semicolons codec (max_length 4) whose decoders are ``decoder_class``."""

    @attrs.define(frozen=True)
    class Broken(Semicolons):
        def decoder(self) -> SemicolonsDecoder:
            return decoder_class(self.max_length)

    return Broken(max_length=4)


# Frames, an over-long one, and a final frame without its ";" (a TruncatedError at EOF).
WIRE = b"ab;c;;toolong;de;f"


def test_semicolons_keeps_the_contract() -> None:
    check = check_frame_codec(Semicolons(max_length=4), WIRE)
    assert check.frames == [b"ab", b"c", b"", b"de"]
    assert [type(error) for error in check.errors] == [FrameTooLong, TruncatedError]


def frame_violation(decoder_class: type[SemicolonsDecoder], wire: bytes = WIRE) -> str:
    with pytest.raises(ContractViolation) as info:
        check_frame_codec(broken(decoder_class), wire)
    violation = info.value
    assert violation.rule in str(violation) and RULES[violation.rule] in str(violation)
    return violation.rule


class NoDiscard(SemicolonsDecoder):
    discard = None  # type: ignore[assignment]


class ConsumesTooMuch(SemicolonsDecoder):
    def decode(self, data: memoryview, frames: list[bytes], ends: list[int] | None = None) -> int:
        consumed = super().decode(data, frames, ends)
        return consumed + 1 if frames else consumed


class ConsumesNegative(SemicolonsDecoder):
    def decode(self, data: memoryview, frames: list[bytes], ends: list[int] | None = None) -> int:
        consumed = super().decode(data, frames, ends)
        return -1 if consumed == 0 and data else consumed


class RaisesIndexError(SemicolonsDecoder):
    def decode(self, data: memoryview, frames: list[bytes], ends: list[int] | None = None) -> int:
        if bytes(data[:2]) == b"de":
            raise IndexError("oops")
        return super().decode(data, frames, ends)


class TruncatedTooEarly(SemicolonsDecoder):
    def decode(self, data: memoryview, frames: list[bytes], ends: list[int] | None = None) -> int:
        consumed = super().decode(data, frames, ends)
        if not consumed and data and b";" not in bytes(data):
            raise TruncatedError("no ; yet", offset=self.seen)
        return consumed


class OffsetOutside(SemicolonsDecoder):
    def decode(self, data: memoryview, frames: list[bytes], ends: list[int] | None = None) -> int:
        try:
            return super().decode(data, frames, ends)
        except FrameTooLong as error:
            error.offset = 10_000
            raise


class FramesFromNothing(SemicolonsDecoder):
    def decode(self, data: memoryview, frames: list[bytes], ends: list[int] | None = None) -> int:
        consumed = super().decode(data, frames, ends)
        return 0 if frames and ends is None else consumed


class ForgetsEnds(SemicolonsDecoder):
    def decode(self, data: memoryview, frames: list[bytes], ends: list[int] | None = None) -> int:
        return super().decode(data, frames, None)


class EndsOutOfOrder(SemicolonsDecoder):
    def decode(self, data: memoryview, frames: list[bytes], ends: list[int] | None = None) -> int:
        consumed = super().decode(data, frames, ends)
        if ends:
            ends[:] = [0] * len(ends)
        return consumed


class EndPastConsumed(SemicolonsDecoder):
    def decode(self, data: memoryview, frames: list[bytes], ends: list[int] | None = None) -> int:
        consumed = super().decode(data, frames, ends)
        if ends:
            ends[-1] = consumed + 1
        return consumed


class LeavesBytesAtEof(SemicolonsDecoder):
    def decode_eof(
        self, data: memoryview, frames: list[bytes], ends: list[int] | None = None
    ) -> int:
        return self.decode(data, frames, ends)


class FailsAfterTheEnd(SemicolonsDecoder):
    ended = False

    def decode_eof(
        self, data: memoryview, frames: list[bytes], ends: list[int] | None = None
    ) -> int:
        if self.ended:
            raise RuntimeError("decode_eof after the end")
        consumed = super().decode_eof(data, frames, ends)
        self.ended = not consumed and not frames
        return consumed


class RaisesForever(SemicolonsDecoder):
    count = 0

    def decode(self, data: memoryview, frames: list[bytes], ends: list[int] | None = None) -> int:
        self.count += 1
        raise MalformedError("bad", offset=self.count % 2)  # never the same twice in a row


class DiscardReturnsList(SemicolonsDecoder):
    def discard(self, data: memoryview, eof: bool) -> tuple[int, bool]:
        return list(super().discard(data, eof))  # type: ignore[return-value]


class DiscardRaises(SemicolonsDecoder):
    def discard(self, data: memoryview, eof: bool) -> tuple[int, bool]:
        if self.skipping:
            raise FrameTooLong("again", limit=4, offset=0)
        return super().discard(data, eof)


class DiscardTooMuch(SemicolonsDecoder):
    def discard(self, data: memoryview, eof: bool) -> tuple[int, bool]:
        if self.skipping:
            return len(data) + 1, True
        return super().discard(data, eof)


class DiscardNotOverAtEof(SemicolonsDecoder):
    def discard(self, data: memoryview, eof: bool) -> tuple[int, bool]:
        if eof and self.skipping:
            consumed, _ = super().discard(data, eof)
            return consumed, False
        return super().discard(data, eof)


class DiscardAlwaysConsumes(SemicolonsDecoder):
    def discard(self, data: memoryview, eof: bool) -> tuple[int, bool]:
        if not self.skipping:
            return len(data), True
        return super().discard(data, eof)


class DiscardsNothing(SemicolonsDecoder):
    """Keeps BaseFrameDecoder's discard although its errors are recoverable."""

    def discard(self, data: memoryview, eof: bool) -> tuple[int, bool]:
        return BaseFrameDecoder.discard(self, data, eof)  # type: ignore[arg-type]


class DiscardsWrongly(SemicolonsDecoder):
    def discard(self, data: memoryview, eof: bool) -> tuple[int, bool]:
        consumed, over = super().discard(data, eof)
        return (consumed - 1, over) if consumed else (consumed, over)  # keeps the ";"


class KeepsAView(SemicolonsDecoder):
    def __init__(self, max_length: int) -> None:
        super().__init__(max_length)
        self.kept: list[memoryview] = []

    def decode(self, data: memoryview, frames: list[bytes], ends: list[int] | None = None) -> int:
        self.kept.append(data[:1])  # a view of the buffer, kept past the call
        return super().decode(data, frames, ends)


class ResetRaises(SemicolonsDecoder):
    def reset_search(self) -> None:
        raise RuntimeError("no")


class ResetForgetsTheSkip(SemicolonsDecoder):
    def reset_search(self) -> None:
        super().reset_search()
        self.skipping = False


class NeedsInputNotABool(SemicolonsDecoder):
    needs_input = None  # type: ignore[assignment]


class ClaimsToNeedInput(SemicolonsDecoder):
    """Delivers one frame per call, and says it needs input after each."""

    needs_input = True

    def decode(self, data: memoryview, frames: list[bytes], ends: list[int] | None = None) -> int:
        end = bytes(data).find(b";")
        if end < 0 or self.skipping or self.searched:
            return super().decode(data, frames, ends)
        return super().decode(data[: end + 1], frames, ends)


class DependsOnTheSplit(SemicolonsDecoder):
    def decode(self, data: memoryview, frames: list[bytes], ends: list[int] | None = None) -> int:
        consumed = super().decode(data, frames, ends)
        if len(frames) > 1:
            frames[-2:] = [frames[-2] + frames[-1], b""]
        return consumed


class DependsOnEnds(SemicolonsDecoder):
    def decode(self, data: memoryview, frames: list[bytes], ends: list[int] | None = None) -> int:
        start = len(frames)
        consumed = super().decode(data, frames, ends)
        if ends is not None:
            frames[start:] = [frame.upper() for frame in frames[start:]]
        return consumed


class CountsFrames(SemicolonsDecoder):
    """Frames carry their number in the stream: a fresh decoder numbers from 0 again."""

    number = 0

    def decode(self, data: memoryview, frames: list[bytes], ends: list[int] | None = None) -> int:
        start = len(frames)
        consumed = super().decode(data, frames, ends)
        for index in range(start, len(frames)):
            frames[index] = b"%d:%s" % (self.number, frames[index])
            self.number += 1
        return consumed


@pytest.mark.parametrize(
    ("decoder_class", "rule", "wire"),
    [
        (NoDiscard, "methods", WIRE),
        (ConsumesTooMuch, "consumed-range", WIRE),
        (ConsumesNegative, "consumed-range", WIRE),
        (RaisesIndexError, "framing-errors-only", WIRE),
        (TruncatedTooEarly, "truncated-at-eof-only", WIRE),
        (OffsetOutside, "error-offset", WIRE),
        (FramesFromNothing, "frames-consume", WIRE),
        (ForgetsEnds, "ends-count", WIRE),
        (EndsOutOfOrder, "ends-order", WIRE),
        (EndPastConsumed, "ends-within-consumed", WIRE),
        (LeavesBytesAtEof, "eof-rest", WIRE),
        (FailsAfterTheEnd, "eof-finished", b"ab;c;"),
        (RaisesForever, "progress", WIRE),
        (DiscardReturnsList, "discard-result", WIRE),
        (DiscardRaises, "discard-result", WIRE),
        (DiscardTooMuch, "discard-range", WIRE),
        (DiscardNotOverAtEof, "discard-eof", b"a;toolong"),
        (DiscardAlwaysConsumes, "discard-idle", WIRE),
        (DiscardsNothing, "skip-survives", WIRE),
        (DiscardsWrongly, "discard-invariance", WIRE),
        (ResetRaises, "reset-search", WIRE),
        (ResetForgetsTheSkip, "reset-search", WIRE),
        (ClaimsToNeedInput, "needs-input", WIRE),
        (KeepsAView, "view-kept", WIRE),
        (DependsOnTheSplit, "split-invariance", WIRE),
        (DependsOnEnds, "ends-invariance", WIRE),
        (CountsFrames, "fresh-decoder", WIRE),
    ],
)
def test_checker_names_the_rule_a_broken_frame_decoder_breaks(
    decoder_class: type[SemicolonsDecoder], rule: str, wire: bytes
) -> None:
    assert frame_violation(decoder_class, wire) == rule


class WithoutNeedsInput:
    """A Semicolons decoder without ``needs_input`` (written when the hint was optional)."""

    def __init__(self, max_length: int) -> None:
        self._inner = SemicolonsDecoder(max_length)

    def decode(self, data: memoryview, frames: list[bytes], ends: list[int] | None = None) -> int:
        return self._inner.decode(data, frames, ends)

    def decode_eof(
        self, data: memoryview, frames: list[bytes], ends: list[int] | None = None
    ) -> int:
        return self._inner.decode_eof(data, frames, ends)

    def reset_search(self) -> None:
        self._inner.reset_search()

    def discard(self, data: memoryview, eof: bool) -> tuple[int, bool]:
        return self._inner.discard(data, eof)


def test_checker_names_a_frame_decoder_lacking_needs_input() -> None:
    with pytest.raises(ContractViolation) as info:
        check_frame_codec(broken(WithoutNeedsInput), WIRE)  # type: ignore[arg-type]
    assert info.value.rule == "methods"
    assert "WithoutNeedsInput lacks needs_input" in str(info.value)


def test_checker_names_a_frame_decoder_whose_needs_input_is_not_a_bool() -> None:
    assert frame_violation(NeedsInputNotABool) == "methods"


def test_a_codec_making_one_decoder_for_every_stream_is_caught() -> None:
    shared = Semicolons().decoder()

    @attrs.define(frozen=True)
    class Shared(Semicolons):
        def decoder(self) -> SemicolonsDecoder:
            return shared

    with pytest.raises(ContractViolation) as info:
        check_frame_codec(Shared(), b"a;")
    assert info.value.rule == "methods" and "gave one object twice" in str(info.value)


def test_the_violation_says_which_call_and_split_broke_the_rule() -> None:
    with pytest.raises(ContractViolation) as info:
        check_frame_codec(broken(ConsumesTooMuch), WIRE)
    violation = info.value
    assert violation.call.startswith("ConsumesTooMuch.decode(<")
    assert "returned" in str(violation) and violation.split in str(violation)


# -- a byte codec: bytes up to a ".", then done ---------------------------------------------


class DotDecoder:
    """Passes bytes through up to a ``.``, then is done."""

    needs_input = False

    def __init__(self) -> None:
        self.done = False
        self.seen = 0

    def decode(self, data: memoryview, out: OutputSink, budget: int) -> int:
        if self.done:
            return 0
        chunk = bytes(data[:budget])
        dot = chunk.find(b".")
        if dot >= 0:
            out.write(chunk[:dot])
            self.done = True
            chunk = chunk[: dot + 1]
        else:
            out.write(chunk)
        self.seen += len(chunk)
        return len(chunk)

    def decode_eof(self, data: memoryview, out: OutputSink, budget: int) -> int:
        consumed = self.decode(data, out, budget)
        if not consumed and not self.done:
            raise TruncatedError("input ended before the '.'", offset=self.seen)
        return consumed


class DotEncoder:
    def feed(self, data: bytes | bytearray | memoryview) -> bytes:
        return bytes(data)

    def finish(self) -> bytes:
        return b"."


@attrs.define(frozen=True)
class Dot:
    make: Callable[[], DotDecoder] = DotDecoder

    def decoder(self) -> DotDecoder:
        return self.make()

    def encoder(self) -> DotEncoder:
        return DotEncoder()


def test_dot_keeps_the_contract() -> None:
    check = check_byte_codec(Dot(), b"hello.next")
    assert (check.data, check.done, check.leftover) == (b"hello", True, b"next")
    assert check_byte_codec(Dot(), b"hel").errors[0].offset == 3
    assert_bytes_round_trip(Dot(), [b"ab", b"cd"])


class OverBudget(DotDecoder):
    def decode(self, data: memoryview, out: OutputSink, budget: int) -> int:
        return super().decode(data, out, budget + 1)


class ConsumesAfterDone(DotDecoder):
    def decode(self, data: memoryview, out: OutputSink, budget: int) -> int:
        if self.done:
            return len(data)
        return super().decode(data, out, budget)


class StallsAtEof(DotDecoder):
    def decode_eof(self, data: memoryview, out: OutputSink, budget: int) -> int:
        return self.decode(data, out, budget)


class WritesForever(DotDecoder):
    def decode(self, data: memoryview, out: OutputSink, budget: int) -> int:
        out.write(b"x")
        return 0


class MarksEachCall(DotDecoder):
    def decode(self, data: memoryview, out: OutputSink, budget: int) -> int:
        consumed = super().decode(data, out, budget)
        if consumed:
            out.mark_chunk_end()
        return consumed


class ByteTruncatedEarly(DotDecoder):
    def decode(self, data: memoryview, out: OutputSink, budget: int) -> int:
        consumed = super().decode(data, out, budget)
        if not consumed and not self.done:
            raise TruncatedError("no dot yet", offset=self.seen)
        return consumed


class ByteRaisesKeyError(DotDecoder):
    def decode(self, data: memoryview, out: OutputSink, budget: int) -> int:
        if b"l" in bytes(data[:1]):
            raise KeyError("l")
        return super().decode(data, out, budget)


class ByteOffsetOutside(DotDecoder):
    def decode_eof(self, data: memoryview, out: OutputSink, budget: int) -> int:
        try:
            return super().decode_eof(data, out, budget)
        except TruncatedError as error:
            error.offset = -1
            raise


class ByteConsumesTooMuch(DotDecoder):
    def decode(self, data: memoryview, out: OutputSink, budget: int) -> int:
        return super().decode(data, out, budget) * 2


class ByteNeedsInputWrongly(DotDecoder):
    """Takes one byte a call, and says it needs more input."""

    needs_input = True

    def decode(self, data: memoryview, out: OutputSink, budget: int) -> int:
        return super().decode(data, out, min(budget, 1))


class ByteNeedsInputNotABool(DotDecoder):
    needs_input = 1  # type: ignore[assignment]


class ByteWithoutNeedsInput:
    """A Dot decoder without ``needs_input``."""

    def __init__(self) -> None:
        self._inner = DotDecoder()

    @property
    def done(self) -> bool:
        return self._inner.done

    def decode(self, data: memoryview, out: OutputSink, budget: int) -> int:
        return self._inner.decode(data, out, budget)

    def decode_eof(self, data: memoryview, out: OutputSink, budget: int) -> int:
        return self._inner.decode_eof(data, out, budget)


class NotDoneFlag(DotDecoder):
    def __init__(self) -> None:
        super().__init__()
        self.done = 0  # type: ignore[assignment]


class NoDone:
    def decode(self, data: memoryview, out: OutputSink, budget: int) -> int:
        return 0

    def decode_eof(self, data: memoryview, out: OutputSink, budget: int) -> int:
        return 0


@pytest.mark.parametrize(
    ("decoder_class", "rule", "wire"),
    [
        (OverBudget, "budget", b"hello."),
        (ConsumesAfterDone, "done-consumes", b"hello.next"),
        (StallsAtEof, "eof-progress", b"hel"),
        (WritesForever, "progress", b"hello."),
        (MarksEachCall, "split-invariance", b"hello."),
        (ByteTruncatedEarly, "truncated-at-eof-only", b"hel"),
        (ByteRaisesKeyError, "framing-errors-only", b"hello."),
        (ByteOffsetOutside, "error-offset", b"hel"),
        (ByteConsumesTooMuch, "consumed-range", b"hello."),
        (ByteNeedsInputWrongly, "needs-input", b"hello."),
        (NotDoneFlag, "methods", b"hello."),
        (ByteNeedsInputNotABool, "methods", b"hello."),
        (NoDone, "methods", b"hello."),
    ],
)
def test_checker_names_the_rule_a_broken_byte_decoder_breaks(
    decoder_class: Callable[[], DotDecoder], rule: str, wire: bytes
) -> None:
    with pytest.raises(ContractViolation) as info:
        check_byte_codec(Dot(decoder_class), wire, max_output=1000)
    assert info.value.rule == rule, info.value
    assert RULES[rule] in str(info.value)


def test_checker_names_a_byte_decoder_lacking_needs_input() -> None:
    with pytest.raises(ContractViolation) as info:
        check_byte_codec(Dot(ByteWithoutNeedsInput), b"hello.")  # type: ignore[arg-type]
    assert info.value.rule == "methods"
    assert "ByteWithoutNeedsInput lacks needs_input" in str(info.value)


def test_every_rule_is_shown_broken_here() -> None:
    source = Path(__file__).read_text(encoding="utf-8")
    assert [
        rule for rule in RULES if f'"{rule}")' not in source and f'"{rule}",' not in source
    ] == []


# -- rule 7: a byte decoder's verbatim bytes -----------------------------------------------------


class MiscountsVerbatim(LimitedDecoder):
    """Counts the bytes passed on for it as one fewer: its body ends a byte late."""

    __slots__ = ()

    def skip_verbatim(self, n: int) -> None:
        super().skip_verbatim(n - 1)


class NotAnInt(LimitedDecoder):
    __slots__ = ()

    @property
    def verbatim(self) -> int:
        return 1.5  # type: ignore[return-value]


class ClaimsTheChunkEnd(ChunkedDecoder):
    """Says a chunk's data is verbatim to its last byte, which ends the chunk (a mark)."""

    __slots__ = ()

    @property
    def verbatim(self) -> int:
        return super().verbatim + 1 if super().verbatim or self._remaining == 1 else 0


class _Replaced:
    """``codec`` with its decoder made by ``make`` instead."""

    def __init__(self, codec: Any, make: Callable[[], Any]) -> None:
        self.codec = codec
        self.make = make

    def decoder(self) -> Any:
        return self.make()

    def encoder(self) -> Any:
        return self.codec.encoder()


VERBATIM_BREAKERS = {
    "miscounts": (Limited(len(DATA)), lambda: MiscountsVerbatim(len(DATA))),
    "not-an-int": (Limited(len(DATA)), lambda: NotAnInt(len(DATA))),
    "claims-the-chunk-end": (Chunked(), lambda: ClaimsTheChunkEnd(Chunked())),
}


@pytest.mark.parametrize("name", VERBATIM_BREAKERS)
def test_a_verbatim_count_that_is_not_what_decode_does_is_a_violation(name: str) -> None:
    codec, make = VERBATIM_BREAKERS[name]
    wire = encode_bytes(codec, DATA) + b"after"
    with pytest.raises(ContractViolation) as info:
        check_byte_codec(_Replaced(codec, make), wire)
    assert (info.value.rule, name) == ("verbatim", name)


def test_the_built_in_verbatim_decoders_keep_rule_7() -> None:
    for codec in [Limited(len(DATA)), Chunked()]:
        assert callable(codec.decoder().skip_verbatim)
        check = check_byte_codec(codec, encode_bytes(codec, DATA), splits=[(5,), (17, 200)])
        assert check.data == DATA
