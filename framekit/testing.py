"""Test your own codec the way framekit tests its own: a contract checker and round trips.

The page ``docs/writing-a-codec.md`` (in framekit's repository) states the decoder contract
and writes a codec step by step; this module checks a codec against that contract.

:func:`check_frame_codec` and :func:`check_byte_codec` drive a codec's decoders over some
wire bytes the ways framekit's drivers do (fed whole, byte by byte, in a few fixed and seeded
random splits; with and without ``ends``; skipping a rejected frame with ``discard`` as a
:class:`~framekit.frames.FrameReader` does, or letting ``decode`` skip it as :mod:`framekit.sync`
does; with ``reset_search`` before every call; with a fresh decoder after a frame), check
every call, and compare the results. A broken rule raises :class:`ContractViolation` (a
:class:`~framekit.errors.CodecContractError`) whose ``rule`` names the rule (the list is
:data:`RULES`) and whose message says which call, in which split, broke it. Otherwise they
return what was decoded (:class:`FrameCheck`, :class:`ByteCheck`), so a test can also assert
on the frames and errors.

:func:`assert_round_trip` and :func:`assert_bytes_round_trip` encode, then check that decoding
gives the input back under every split; :func:`assert_split_invariant` checks given splits
(from a hypothesis strategy, say) against the whole wire. :func:`splits_of` and
:func:`encoded` are hypothesis strategies; hypothesis is needed only when they are called
(``pip install 'aioframekit[test]'``).
"""

from __future__ import annotations

import copy
import itertools
import random
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import attrs

from framekit._buffer import Buffer
from framekit.codecs._base import (
    DEFAULT_BUDGET,
    ByteCodec,
    ByteDecoder,
    Bytes,
    FrameCodec,
    FrameDecoder,
)
from framekit.errors import CodecContractError, FramingError, TruncatedError

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

__all__ = [
    "RULES",
    "ByteCheck",
    "ContractViolation",
    "FrameCheck",
    "assert_bytes_round_trip",
    "assert_round_trip",
    "assert_split_invariant",
    "check_byte_codec",
    "check_frame_codec",
    "encoded",
    "splits_of",
]

T = TypeVar("T")

#: Every rule the checkers enforce, by the name a :class:`ContractViolation` gives it.
RULES: dict[str, str] = {
    "methods": "a decoder has the methods and attributes of its kind (needs_input, and done "
    "for a byte decoder, are bools), and decoder() makes a fresh one each call",
    "consumed-range": "decode returns an int from 0 to len(data), the bytes it consumed",
    "framing-errors-only": "only FramingError subclasses escape decode and decode_eof",
    "truncated-at-eof-only": "only decode_eof raises TruncatedError (decode cannot know the end)",
    "error-offset": "an error's offset, when given, is inside the stream (0 to its length)",
    "frames-consume": "a call that appends frames consumes their bytes (at least one each)",
    "ends-count": "given an ends list, a decoder appends one end per frame it appends",
    "ends-order": "ends strictly increase within a call, from past 0 (a frame has bytes)",
    "ends-within-consumed": "the last end of a call is at most what the call consumed",
    "eof-rest": "at EOF the bytes left are delivered as frames or raise TruncatedError",
    "eof-finished": "once decode_eof returned 0 and nothing, calling it again does the same",
    "eof-progress": "at EOF a byte decoder progresses, finishes, or raises TruncatedError",
    "progress": "a decoder driven over finite input stops (no endless calls or output)",
    "discard-result": "discard returns (consumed: int, over: bool) and never raises",
    "discard-range": "discard consumes from 0 to len(data) bytes",
    "discard-eof": "discard with eof=True says the rejected frame is over",
    "discard-idle": "discard with nothing rejected returns (0, True)",
    "reset-search": "reset_search never raises and changes no result",
    "needs-input": "needs_input True: a second call with the bytes left does nothing",
    "view-kept": "a decoder keeps no view of data once its call returned (copy what it "
    "keeps: data[a:b].tobytes())",
    "budget": "a byte decoder writes at most budget bytes per call",
    "done-consumes": "a byte decoder that is done consumes and writes nothing more",
    "verbatim": "a byte decoder's verbatim (where it has one, with skip_verbatim) is an int "
    ">= 0, and passing that many bytes or fewer on as they are, then skip_verbatim, gives "
    "what decode gives",
    "split-invariance": "the results (frames or bytes, errors by class and offset) do not "
    "depend on how the input is split into feeds",
    "ends-invariance": "passing ends changes nothing else: the same frames and errors",
    "discard-invariance": "skipping a rejected frame with discard gives the same results "
    "as letting decode skip it",
    "fresh-decoder": "a fresh decoder started at a frame's end gives the frames after it",
    "skip-survives": "where discard says a rejected frame is over, a fresh decoder gives "
    "the frames after it (whoever reads the source next reads what follows the frame), "
    "unless the stream turned out unrecoverable",
}


class ContractViolation(CodecContractError):
    """A codec broke the rule ``rule`` (a key of :data:`RULES`) of the decoder contract.

    ``call`` describes the call that broke it (empty for a rule about whole runs, such as
    ``split-invariance``) and ``split`` the split of the input it was made in.
    """

    def __init__(self, rule: str, detail: str, *, call: str = "", split: str = "") -> None:
        where = "".join(
            [f"\n  call: {call}" if call else "", f"\n  input split: {split}" if split else ""]
        )
        super().__init__(f"[{rule}] {RULES[rule]}: {detail}{where}")
        self.rule = rule
        self.call = call
        self.split = split


@attrs.define(frozen=True)
class FrameCheck(Generic[T]):
    """What a frame codec decoded from the wire (the same in every split, once checked)."""

    #: The frames, in order.
    frames: list[T]
    #: The errors raised, in order (a fatal one once, at the end; a TruncatedError at EOF).
    errors: list[FramingError]
    #: Frames and errors interleaved in the order they came.
    results: list[T | FramingError]


@attrs.define(frozen=True)
class ByteCheck:
    """What a byte codec decoded from the wire (the same in every split, once checked)."""

    #: The decoded bytes (those written before an error included).
    data: bytes
    #: The error that ended decoding, if any (a byte decoder's errors are final): [] or one.
    errors: list[FramingError]
    #: The offsets in ``data`` where the decoder marked an HTTP chunk's end.
    chunk_ends: list[int]
    #: Whether the decoder reached its end (``done``).
    done: bool
    #: The input bytes after the decoder's end (for a decoder that stops there).
    leftover: bytes


Splits = Iterable[Sequence[int]]


# -- splits -----------------------------------------------------------------------------------


def _default_splits(size: int, seed: int) -> list[tuple[int, ...]]:
    """The whole wire, byte by byte, a few fixed splits and four seeded random ones."""
    inner = range(1, size)
    found: list[tuple[int, ...]] = [(), tuple(inner)]
    if size > 1:
        found += [(1,), (size - 1,), (size // 2,), tuple(inner[2::3]), tuple(inner[6::7])]
        rng = random.Random(seed)
        for count in (1, 2, 5, size // 3):
            found.append(tuple(sorted(rng.sample(inner, min(max(count, 1), size - 1)))))
    unique: list[tuple[int, ...]] = []
    for cuts in found:
        if cuts not in unique:
            unique.append(cuts)
    return unique


def _given_splits(size: int, splits: Splits) -> list[tuple[int, ...]]:
    found: list[tuple[int, ...]] = [()]
    for given in splits:
        cuts = tuple(sorted({int(cut) for cut in given} - {0, size}))
        if cuts and not 0 < cuts[0] <= cuts[-1] < size:
            raise ValueError(f"a split's cut points are from 0 to {size}, got {list(given)}")
        if cuts not in found:
            found.append(cuts)
    return found


def _pieces(wire: bytes, cuts: Sequence[int]) -> list[bytes]:
    points = [0, *cuts, len(wire)]
    return [wire[a:b] for a, b in itertools.pairwise(points)]


def _describe_split(wire: bytes, cuts: Sequence[int]) -> str:
    if not cuts:
        return f"whole ({len(wire)} bytes in one piece)"
    if len(cuts) == len(wire) - 1:
        return f"byte by byte ({len(wire)} pieces)"
    shown = ", ".join(map(str, cuts[:8])) + (", ..." if len(cuts) > 8 else "")
    return f"cut at {shown} ({len(cuts) + 1} pieces of {len(wire)} bytes)"


def _show(data: Bytes) -> str:
    text = repr(bytes(data[:24])) + ("..." if len(data) > 24 else "")
    return f"<{len(data)} bytes: {text}>"


def _key(item: object, shift: int = 0) -> object:
    """A result as compared between runs: a frame as it is, an error as (class, offset)."""
    if isinstance(item, FramingError):
        offset = None if item.offset is None else item.offset + shift
        return (type(item).__name__, offset)
    return item


def _show_item(item: object) -> str:
    if isinstance(item, FramingError):
        return f"{type(item).__name__} at {item.offset}"
    return repr(item)


def _difference(got: Sequence[object], want: Sequence[object]) -> str:
    for index, (a, b) in enumerate(zip(got, want, strict=False)):
        if a != b:
            return f"result {index} is {a!r}, not {b!r}"
    if len(got) > len(want):
        return f"result {len(want)} is an extra {got[len(want)]!r}"
    return f"result {len(got)}, {want[len(got)]!r}, is missing"


def _check_offset(error: FramingError, size: int, call: str, split: str) -> None:
    offset = error.offset
    if offset is not None and not (type(offset) is int and 0 <= offset <= size):
        raise ContractViolation(
            "error-offset",
            f"{type(error).__name__} has offset {offset!r}, outside 0 to {size}",
            call=call,
            split=split,
        )


def _consumed_in_range(consumed: object, size: int, call: str, split: str) -> int:
    if type(consumed) is not int or not 0 <= consumed <= size:
        raise ContractViolation(
            "consumed-range",
            f"it returned {consumed!r}, given {size} bytes",
            call=call,
            split=split,
        )
    return consumed


def _foreign(error: Exception, call: str, split: str) -> ContractViolation:
    violation = ContractViolation(
        "framing-errors-only",
        f"it raised {type(error).__name__}: {error}",
        call=call,
        split=split,
    )
    violation.__cause__ = error
    return violation


# -- frame codecs ---------------------------------------------------------------------------


def _frame_decoder(codec: FrameCodec[T]) -> FrameDecoder[T]:
    """A decoder of ``codec``, checked to have a frame decoder's methods."""
    decoder = codec.decoder()
    name = type(decoder).__name__
    if hasattr(decoder, "done") and not hasattr(decoder, "discard"):
        raise TypeError(
            f"{type(codec).__name__} is a byte codec (its decoder has done): check it with "
            "check_byte_codec"
        )
    missing = [
        method
        for method in ("decode", "decode_eof", "discard", "reset_search")
        if not callable(getattr(decoder, method, None))
    ]
    if not hasattr(decoder, "needs_input"):
        missing.append("needs_input")
    if missing:
        raise ContractViolation(
            "methods", f"{name} lacks {', '.join(missing)} (see framekit.codecs.FrameDecoder)"
        )
    if codec.decoder() is decoder:
        raise ContractViolation(
            "methods", f"{type(codec).__name__}.decoder() gave one object twice"
        )
    return decoder


def _needs_input(decoder: FrameDecoder[Any] | ByteDecoder, name: str, split: str) -> bool:
    """The decoder's ``needs_input``, checked to be a bool."""
    needs_input = decoder.needs_input
    if type(needs_input) is not bool:
        raise ContractViolation(
            "methods", f"{name}.needs_input is {needs_input!r}, not a bool", split=split
        )
    return needs_input


class _Source:
    """The buffered input of a run: a framekit Buffer, as the readers' (views of a whole
    bytes object, of a slice of one, or of a bytearray), and the stream position of its head.

    ``offset_views``: a piece written to an empty buffer is put behind a byte then dropped,
    so views are of a slice of a larger object. One view is open at a time; changing the
    buffer while a decoder keeps a view of it (a bytearray cannot resize then) is the
    ``view-kept`` violation.
    """

    def __init__(self, split: str, *, offset_views: bool = False) -> None:
        self.buffer = Buffer()
        self.split = split
        self.offset_views = offset_views
        self.head = 0
        self.open: memoryview | None = None

    @property
    def size(self) -> int:
        return len(self.buffer)

    def view(self) -> memoryview:
        self.release()
        self.open = self.buffer.view()
        return self.open

    def release(self) -> None:
        if self.open is not None:
            self.open.release()
            self.open = None

    def write(self, data: bytes) -> None:
        self.release()
        try:
            if self.offset_views and not self.buffer:
                self.buffer.write(b"\0" + data)
                self.buffer.drop(1)
            else:
                self.buffer.write(data)
        except BufferError as error:
            raise self.kept(error) from error

    def drop(self, count: int) -> None:
        self.release()
        try:
            self.buffer.drop(count)
        except BufferError as error:
            raise self.kept(error) from error
        self.head += count

    def take_all(self) -> bytes:
        self.release()
        return self.buffer.take_all()

    def kept(self, error: BufferError) -> ContractViolation:
        return ContractViolation(
            "view-kept",
            f"the buffer could not change ({error}): a decoder keeps a view of data",
            split=self.split,
        )


class _FrameRun(Generic[T]):
    """One run of a frame decoder over one split of the wire, checking every call.

    ``with_ends``: pass an ends list (and check it). ``use_discard``: after an error, or bytes
    consumed past the last frame, call ``discard`` until it says the frame is over, as a
    FrameReader's source does (otherwise ``decode`` is called again, as framekit.sync does).
    ``fresh``: with ``use_discard``, go on with a decoder it makes wherever a skip ends (as
    when someone else reads the source next), rebasing its error offsets. ``reset``: call
    ``reset_search`` before every decode. ``offset_views``: views of a slice of a larger
    object (as a reader's buffer gives), not of a whole bytes object.
    """

    def __init__(
        self,
        decoder: FrameDecoder[T],
        wire: bytes,
        cuts: Sequence[int],
        *,
        with_ends: bool = False,
        use_discard: bool = False,
        reset: bool = False,
        offset_views: bool = False,
        fresh: Callable[[], FrameDecoder[T]] | None = None,
    ) -> None:
        self.decoder = decoder
        self.name = type(decoder).__name__
        self.wire = wire
        self.cuts = cuts
        self.split = _describe_split(wire, cuts)
        self.with_ends = with_ends
        self.use_discard = use_discard
        self.reset = reset
        self.offset_views = offset_views
        self.fresh = fresh
        self.base = 0  # the stream position of the decoder's first byte
        self.results: list[T | FramingError] = []
        #: The stream position just past each frame (with ``with_ends``).
        self.frame_ends: list[int] = []
        self.source = _Source(self.split, offset_views=offset_views)
        self.calls = 0
        self.max_calls = 4 * len(wire) + 4 * (len(cuts) + 1) + 64
        self.last_error: tuple[type[FramingError], int | None] | None = None
        self.skipping = False
        self.stopped = False  # a fatal error came twice: nothing more is decoded

    @property
    def head(self) -> int:
        return self.source.head

    def view(self) -> memoryview:
        return self.source.view()

    def drop(self, count: int) -> None:
        self.source.drop(count)

    def run(self) -> list[T | FramingError]:
        for piece in _pieces(self.wire, self.cuts):
            self.source.write(piece)
            self.step(eof=False)
            if self.stopped:
                return self.results
        self.step(eof=True)
        return self.results

    def count_call(self, call: str) -> None:
        self.calls += 1
        if self.calls > self.max_calls:
            raise ContractViolation(
                "progress",
                f"{self.calls} calls over {len(self.wire)} bytes without an end: it keeps "
                "raising without consuming, or returns without ever waiting for input",
                call=call,
                split=self.split,
            )

    def describe(self, method: str, data: Bytes, ends: list[int] | None) -> str:
        tail = "" if ends is None else ", ends=[]"
        return (
            f"{self.name}.{method}({_show(data)}, frames{tail}) "
            f"at stream offset {self.head}, call {self.calls}"
        )

    def step(self, *, eof: bool) -> None:
        method = "decode_eof" if eof else "decode"
        while True:
            if self.skipping:
                if not self.discard(eof=eof):
                    return  # the rejected frame goes on in bytes not yet fed
                continue
            frames: list[T] = []
            ends: list[int] | None = [] if self.with_ends else None
            view = self.view()
            call = self.describe(method, view, ends)
            self.count_call(call)
            if self.reset:
                try:
                    self.decoder.reset_search()
                except Exception as failure:
                    raise ContractViolation(
                        "reset-search", f"it raised {failure!r}", call=call, split=self.split
                    ) from failure
            try:
                consumed: object = getattr(self.decoder, method)(view, frames, ends)
            except FramingError as raised:
                error = self.rebased(raised)
                _check_offset(error, len(self.wire), call, self.split)
                if isinstance(error, TruncatedError):
                    if not eof:
                        raise ContractViolation(
                            "truncated-at-eof-only",
                            f"decode raised {error!r} before the end of the input",
                            call=call,
                            split=self.split,
                        ) from error
                    self.results.append(error)
                    return
                key = (type(error), error.offset)
                if key == self.last_error:
                    self.stopped = True  # raised again: it cannot go on
                    return
                self.last_error = key
                self.results.append(error)
                self.skipping = self.use_discard
                continue
            except Exception as error:
                raise _foreign(error, call, self.split) from error
            count = _consumed_in_range(consumed, len(view), call, self.split)
            self.check_frames(frames, ends, count, call)
            if ends is not None:
                self.frame_ends += [self.head + end for end in ends]
            last_end = ends[-1] if ends else 0
            self.drop(count)
            self.results.extend(frames)
            if frames or count:
                self.last_error = None
            if self.use_discard and (
                count > last_end if ends is not None else count and not frames
            ):
                self.skipping = True
            if not eof and not self.use_discard:
                self.probe_needs_input(ends is not None)
            if not frames and not count:
                if eof:
                    self.check_finished(call)
                return

    def rebased(self, error: FramingError) -> FramingError:
        if not self.base or error.offset is None:
            return error
        error = copy.copy(error)
        error.offset = cast(int, error.offset) + self.base
        return error

    def check_frames(
        self, frames: list[T], ends: list[int] | None, consumed: int, call: str
    ) -> None:
        if frames and not consumed:
            raise ContractViolation(
                "frames-consume",
                f"it appended {len(frames)} frames and consumed nothing",
                call=call,
                split=self.split,
            )
        if ends is None:
            return
        if len(ends) != len(frames):
            raise ContractViolation(
                "ends-count",
                f"it appended {len(frames)} frames and {len(ends)} ends {ends[:8]}",
                call=call,
                split=self.split,
            )
        previous = 0
        for end in ends:
            if type(end) is not int or end <= previous:
                raise ContractViolation(
                    "ends-order", f"it appended the ends {ends[:8]}", call=call, split=self.split
                )
            previous = end
        if previous > consumed:
            raise ContractViolation(
                "ends-within-consumed",
                f"its last end is {previous}, past the {consumed} bytes it consumed",
                call=call,
                split=self.split,
            )

    def probe_needs_input(self, with_ends: bool) -> None:
        if not _needs_input(self.decoder, self.name, self.split):
            return
        frames: list[T] = []
        ends: list[int] | None = [] if with_ends else None
        view = self.view()
        call = self.describe("decode", view, ends) + " (needs_input was True)"
        try:
            consumed = self.decoder.decode(view, frames, ends)
        except Exception as error:
            raise ContractViolation(
                "needs-input", f"it raised {error!r}", call=call, split=self.split
            ) from error
        if consumed or frames:
            raise ContractViolation(
                "needs-input",
                f"it consumed {consumed!r} and appended {len(frames)} frames",
                call=call,
                split=self.split,
            )

    def check_finished(self, call: str) -> None:
        """decode_eof returned 0 and nothing: the rest is empty, and the end stays the end."""
        if self.source.size:
            raise ContractViolation(
                "eof-rest",
                f"it returned 0 with no frame and no TruncatedError, leaving {self.source.size} "
                "bytes",
                call=call,
                split=self.split,
            )
        frames: list[T] = []
        ends: list[int] | None = [] if self.with_ends else None
        view = self.view()
        again = self.describe("decode_eof", view, ends) + " (once more, after the end)"
        try:
            consumed = self.decoder.decode_eof(view, frames, ends)
        except Exception as error:
            raise ContractViolation(
                "eof-finished", f"it raised {error!r}", call=again, split=self.split
            ) from error
        if consumed or frames:
            raise ContractViolation(
                "eof-finished",
                f"it returned {consumed!r} and {len(frames)} frames",
                call=again,
                split=self.split,
            )

    def discard(self, *, eof: bool) -> bool:
        """One ``discard`` call over the buffered bytes; True once the skip is over."""
        view = self.view()
        call = f"{self.name}.discard({_show(view)}, eof={eof}) at stream offset {self.head}"
        self.count_call(call)
        try:
            result: object = self.decoder.discard(view, eof)
        except Exception as error:
            raise ContractViolation(
                "discard-result", f"it raised {error!r}", call=call, split=self.split
            ) from error
        consumed, over = _check_discard_result(result, len(view), call, self.split)
        if eof and not over:
            raise ContractViolation(
                "discard-eof", f"it returned {result!r}", call=call, split=self.split
            )
        self.drop(consumed)
        if over:
            self.skipping = False
            if self.fresh is not None:
                self.decoder = self.fresh()
                self.base = self.head
        return over


def _check_discard_result(result: object, size: int, call: str, split: str) -> tuple[int, bool]:
    """``result`` as ``discard``'s ``(consumed, over)``, checked."""
    if (
        type(result) is not tuple
        or len(result) != 2
        or type(result[0]) is not int
        or type(result[1]) is not bool
    ):
        raise ContractViolation("discard-result", f"it returned {result!r}", call=call, split=split)
    consumed: int = result[0]
    over: bool = result[1]
    if not 0 <= consumed <= size:
        raise ContractViolation(
            "discard-range", f"it returned {consumed}, given {size} bytes", call=call, split=split
        )
    return consumed, over


def _run_frames(
    codec: FrameCodec[T], wire: bytes, cuts: Sequence[int], **options: Any
) -> _FrameRun[T]:
    run = _FrameRun(_frame_decoder(codec), wire, cuts, **options)
    run.run()
    return run


def _compare(
    rule: str, got: Sequence[object], want: Sequence[object], what: str, split: str
) -> None:
    if list(got) != list(want):
        raise ContractViolation(
            rule,
            f"{what}: {_difference(got, want)}\n  got:  {_shorten(got)}\n  want: {_shorten(want)}",
            split=split,
        )


def _shorten(items: Sequence[object]) -> str:
    shown = ", ".join(_show_item(item) for item in items[:12])
    return f"[{shown}{', ...' if len(items) > 12 else ''}] ({len(items)} results)"


def check_frame_codec(
    codec: FrameCodec[T],
    wire: Bytes,
    *,
    splits: Splits | None = None,
    seed: int = 0,
    restarts: int = 4,
) -> FrameCheck[T]:
    """Check ``codec``'s decoders over ``wire``; return what they decoded.

    ``wire`` is the whole input (its end is the end of the stream). It is decoded whole,
    then in each of ``splits`` (sequences of cut points, from 0 to ``len(wire)``; by default
    byte by byte, a few fixed splits and some random ones drawn from ``seed``), each with and
    without ``ends``, skipping rejected frames both with ``discard`` and with ``decode``, and
    once with ``reset_search`` before every call; then by a fresh decoder from each of up to
    ``restarts`` frame ends. Every call is checked (see :data:`RULES`), and every run must
    give the results of the first.

    Raises :class:`ContractViolation` naming the rule broken, the call and the split;
    TypeError for a byte codec (use :func:`check_byte_codec`).
    """
    wire = bytes(wire)
    cut_lists = (
        _default_splits(len(wire), seed) if splits is None else _given_splits(len(wire), splits)
    )
    idle = _frame_decoder(codec)
    for data, eof in ((wire, False), (b"", True)):
        call = f"{type(idle).__name__}.discard({_show(data)}, eof={eof}) on a fresh decoder"
        try:
            result = idle.discard(memoryview(data), eof)
        except Exception as error:
            raise ContractViolation("discard-idle", f"it raised {error!r}", call=call) from error
        _check_discard_result(result, len(data), call, "")
        if result != (0, True):
            raise ContractViolation("discard-idle", f"it returned {result!r}", call=call)

    reference = _run_frames(codec, wire, ())
    want = [_key(item) for item in reference.results]
    frame_ends: list[int] = []
    for cuts in cut_lists:
        split = _describe_split(wire, cuts)
        if cuts:
            plain = _run_frames(codec, wire, cuts)
            got = [_key(item) for item in plain.results]
            _compare("split-invariance", got, want, "this split and the whole input differ", split)
        with_ends = _run_frames(codec, wire, cuts, with_ends=True, offset_views=True)
        got = [_key(item) for item in with_ends.results]
        _compare("ends-invariance", got, want, "with ends, the results differ", split)
        if not cuts:
            frame_ends = with_ends.frame_ends
        skipped = _run_frames(codec, wire, cuts, with_ends=True, use_discard=True)
        got = [_key(item) for item in skipped.results]
        _compare("discard-invariance", got, want, "skipping with discard, they differ", split)
    for cuts in cut_lists[1:2]:
        reset = _run_frames(codec, wire, cuts, reset=True)
        got = [_key(item) for item in reset.results]
        _compare(
            "reset-search",
            got,
            want,
            "with reset_search before every call, the results differ",
            _describe_split(wire, cuts),
        )
    _check_restarts(codec, wire, reference.results, frame_ends, restarts)
    # A decoder that found the stream unrecoverable raises that by its next decode; a fresh
    # decoder after the skip cannot know it, so only recoverable runs are compared.
    for cuts in cut_lists[:2] if not reference.stopped else ():
        survives = _run_frames(codec, wire, cuts, use_discard=True, fresh=codec.decoder)
        got = [_key(item) for item in survives.results]
        _compare(
            "skip-survives",
            got,
            want,
            "with a fresh decoder wherever discard ended a skip, the results differ",
            _describe_split(wire, cuts),
        )
    results = reference.results
    return FrameCheck(
        frames=[item for item in results if not isinstance(item, FramingError)],
        errors=[item for item in results if isinstance(item, FramingError)],
        results=list(results),
    )


def _check_restarts(
    codec: FrameCodec[T],
    wire: bytes,
    items: Sequence[T | FramingError],
    ends: Sequence[int],
    restarts: int,
) -> None:
    """A fresh decoder started at a frame's end decodes what follows as the first did."""
    if not ends or restarts <= 0:
        return
    step = max(1, len(ends) // restarts)
    positions = list(range(0, len(ends), step))[:restarts]
    frame_index = [i for i, item in enumerate(items) if not isinstance(item, FramingError)]
    for index in positions:
        start = ends[index]
        rest = _run_frames(codec, wire[start:], ())
        got = [_key(item, start) for item in rest.results]
        want = [_key(item) for item in items[frame_index[index] + 1 :]]
        _compare(
            "fresh-decoder",
            got,
            want,
            f"a fresh decoder started at stream offset {start} (after frame {index}) gives "
            "other results than the first decoder did after that frame (error offsets counted "
            "from the start)",
            "whole",
        )


# -- byte codecs ------------------------------------------------------------------------------


class _Sink:
    """An output sink counting what one call writes."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.marks: list[int] = []
        self.written = 0

    def write(self, data: Bytes) -> None:
        self.data += data
        self.written += len(data)

    def mark_chunk_end(self) -> None:
        self.marks.append(len(self.data))

    def write_marked(self, data: bytes, marks: list[int]) -> None:
        size = len(self.data)
        self.write(data)
        self.marks += [size + mark for mark in marks]


def _byte_decoder(codec: ByteCodec) -> ByteDecoder:
    decoder = codec.decoder()
    name = type(decoder).__name__
    if not hasattr(decoder, "done") and hasattr(decoder, "discard"):
        raise TypeError(
            f"{type(codec).__name__} is a frame codec (its decoder has discard): check it "
            "with check_frame_codec"
        )
    missing = [m for m in ("decode", "decode_eof") if not callable(getattr(decoder, m, None))]
    missing += [name for name in ("done", "needs_input") if not hasattr(decoder, name)]
    if missing:
        raise ContractViolation(
            "methods", f"{name} lacks {', '.join(missing)} (see framekit.codecs.ByteDecoder)"
        )
    if codec.decoder() is decoder:
        raise ContractViolation(
            "methods", f"{type(codec).__name__}.decoder() gave one object twice"
        )
    return decoder


class _ByteRun:
    """One run of a byte decoder over one split of the wire, checking every call."""

    def __init__(
        self,
        decoder: ByteDecoder,
        wire: bytes,
        cuts: Sequence[int],
        *,
        budget: int,
        max_output: int,
        verbatim: bool = False,
    ) -> None:
        self.decoder = decoder
        #: Pass the decoder's verbatim bytes on without a decode call (rule 7), where it can.
        self.verbatim = verbatim
        self.name = type(decoder).__name__
        self.wire = wire
        self.cuts = cuts
        self.split = f"{_describe_split(wire, cuts)}, budget {budget}"
        self.budget = budget
        self.sink = _Sink()
        self.max_output = max_output
        self.source = _Source(self.split)
        self.calls = 0
        self.errors: list[FramingError] = []
        self.leftover = b""

    def done(self) -> bool:
        done = self.decoder.done
        if type(done) is not bool:
            raise ContractViolation(
                "methods", f"{self.name}.done is {done!r}, not a bool", split=self.split
            )
        return done

    def run(self) -> ByteCheck:
        pieces = _pieces(self.wire, self.cuts)
        for index, piece in enumerate(pieces):
            self.source.write(piece)
            if self.step(eof=False):
                break
            if self.done():
                self.leftover = self.source.take_all() + b"".join(pieces[index + 1 :])
                break
        else:
            if not self.step(eof=True):
                self.leftover = self.source.take_all()
        if self.done() and not self.errors:
            self.probe_done()
        return ByteCheck(
            data=bytes(self.sink.data),
            errors=self.errors,
            chunk_ends=self.sink.marks,
            done=self.done(),
            leftover=self.leftover,
        )

    def describe(self, method: str, data: Bytes) -> str:
        return (
            f"{self.name}.{method}({_show(data)}, out, budget={self.budget}) at stream "
            f"offset {self.source.head}, call {self.calls}"
        )

    def call(self, method: str, call: str) -> int | FramingError:
        """One decode call; the consumed count (the bytes are dropped), or the error."""
        view = self.source.view()
        self.sink.written = 0
        try:
            consumed: object = getattr(self.decoder, method)(view, self.sink, self.budget)
        except FramingError as error:
            _check_offset(error, len(self.wire), call, self.split)
            return error
        except Exception as error:
            raise _foreign(error, call, self.split) from error
        count = _consumed_in_range(consumed, len(view), call, self.split)
        if self.sink.written > self.budget:
            raise ContractViolation(
                "budget",
                f"it wrote {self.sink.written} bytes, over the budget of {self.budget}",
                call=call,
                split=self.split,
            )
        if len(self.sink.data) > self.max_output:
            raise ContractViolation(
                "progress",
                f"{len(self.sink.data)} bytes of output, over max_output={self.max_output}",
                call=call,
                split=self.split,
            )
        self.source.drop(count)
        return count

    def step(self, *, eof: bool) -> bool:
        """Decode until done or out of input; True if an error ended decoding."""
        method = "decode_eof" if eof else "decode"
        while not self.done():
            if self.verbatim and not eof and self.skip_verbatim():
                continue
            self.calls += 1
            call = self.describe(method, self.source.view())
            before = len(self.sink.data)
            result = self.call(method, call)
            if isinstance(result, FramingError):
                if isinstance(result, TruncatedError) and not eof:
                    raise ContractViolation(
                        "truncated-at-eof-only",
                        f"decode raised {result!r} before the end of the input",
                        call=call,
                        split=self.split,
                    ) from result
                self.errors.append(result)
                return True
            progressed = result or len(self.sink.data) != before
            if self.done():
                return False
            if not progressed:
                if eof:
                    raise ContractViolation(
                        "eof-progress",
                        "it consumed nothing, wrote nothing and is not done",
                        call=call,
                        split=self.split,
                    )
                return False
            if not eof and _needs_input(self.decoder, self.name, self.split):
                self.probe_needs_input()
        return False

    def skip_verbatim(self) -> bool:
        """Pass the bytes buffered on as they are, if the decoder's ``verbatim`` covers them
        (short of the budget): what a driver may do instead of a decode call. True if so."""
        size = self.source.size
        count: object = self.decoder.verbatim  # type: ignore[attr-defined]
        if type(count) is not int or count < 0:
            raise ContractViolation(
                "verbatim",
                f"{self.name}.verbatim is {count!r}, not an int >= 0",
                call=f"{self.name}.verbatim at stream offset {self.source.head}",
                split=self.split,
            )
        if not 0 < size <= count or size >= self.budget:
            return False
        self.sink.write(self.source.view())
        self.decoder.skip_verbatim(size)  # type: ignore[attr-defined]
        self.source.drop(size)
        return True

    def probe_needs_input(self) -> None:
        call = self.describe("decode", self.source.view()) + " (needs_input was True)"
        before = len(self.sink.data)
        result = self.call("decode", call)
        if (
            isinstance(result, FramingError)
            or result
            or len(self.sink.data) != before
            or (self.decoder.done)
        ):
            raise ContractViolation(
                "needs-input",
                f"it gave {result!r}, wrote {len(self.sink.data) - before} bytes, "
                f"done={self.decoder.done}",
                call=call,
                split=self.split,
            )

    def probe_done(self) -> None:
        data = self.leftover + b"more"
        call = f"{self.name}.decode({_show(data)}, out, budget={self.budget}) after done"
        sink = _Sink()
        try:
            consumed = self.decoder.decode(memoryview(data), sink, self.budget)
        except Exception as error:
            raise ContractViolation(
                "done-consumes", f"it raised {error!r}", call=call, split=self.split
            ) from error
        if consumed or sink.data:
            raise ContractViolation(
                "done-consumes",
                f"it consumed {consumed!r} and wrote {len(sink.data)} bytes",
                call=call,
                split=self.split,
            )


def _byte_key(check: ByteCheck) -> tuple[object, ...]:
    return (
        check.data,
        [_key(error) for error in check.errors],
        check.chunk_ends,
        check.done,
        check.leftover,
    )


def _show_byte_check(check: ByteCheck) -> str:
    errors = ", ".join(_show_item(error) for error in check.errors) or "no error"
    return (
        f"{len(check.data)} bytes {_show(check.data)}, {errors}, chunk ends "
        f"{check.chunk_ends[:8]}, done={check.done}, leftover {_show(check.leftover)}"
    )


def check_byte_codec(
    codec: ByteCodec,
    wire: Bytes,
    *,
    splits: Splits | None = None,
    seed: int = 0,
    budgets: Sequence[int] = (DEFAULT_BUDGET, 1, 7),
    max_output: int = 64 << 20,
) -> ByteCheck:
    """Check ``codec``'s decoders over ``wire``; return what they decoded.

    ``wire`` is the whole input (its end is the end of the stream, after which the decoder
    must be done or raise TruncatedError). It is decoded whole with each of ``budgets``, then
    in each of ``splits`` (as :func:`check_frame_codec`'s), each with the next budget in
    turn. Every call is checked (see :data:`RULES`; a decoder writing more than
    ``max_output`` bytes in all is taken to write forever), and every run must give the
    results of the first: the same bytes, chunk ends, error (class and offset), end and
    leftover.

    Raises :class:`ContractViolation` naming the rule broken, the call and the split;
    TypeError for a frame codec (use :func:`check_frame_codec`).
    """
    wire = bytes(wire)
    if not budgets or min(budgets) < 1:
        raise ValueError(f"budgets must be positive, got {list(budgets)}")
    cut_lists = (
        _default_splits(len(wire), seed) if splits is None else _given_splits(len(wire), splits)
    )
    runs: list[tuple[tuple[int, ...], int]] = [((), budget) for budget in budgets]
    runs += [(cuts, budgets[i % len(budgets)]) for i, cuts in enumerate(cut_lists[1:])]
    reference: ByteCheck | None = None
    # A decoder with rule 7 makes the same runs again, its verbatim bytes passed on without
    # decode calls: they must give the same results too.
    modes = (False, True) if _has_verbatim(_byte_decoder(codec)) else (False,)
    for verbatim in modes:
        for cuts, budget in runs:
            run = _ByteRun(
                _byte_decoder(codec),
                wire,
                cuts,
                budget=budget,
                max_output=max_output,
                verbatim=verbatim,
            )
            check = run.run()
            if reference is None:
                reference = check
            elif _byte_key(check) != _byte_key(reference):
                rule, what = (
                    ("verbatim", "passing its verbatim bytes on gave other results than decode")
                    if verbatim
                    else (
                        "split-invariance",
                        "this run and the whole input (in one call's budget) differ",
                    )
                )
                raise ContractViolation(
                    rule,
                    f"{what}\n  got:  {_show_byte_check(check)}"
                    f"\n  want: {_show_byte_check(reference)}",
                    split=run.split,
                )
    assert reference is not None
    return reference


def _has_verbatim(decoder: object) -> bool:
    """Whether ``decoder`` says how much of its input it passes on as it is (rule 7)."""
    return callable(getattr(decoder, "skip_verbatim", None)) and hasattr(decoder, "verbatim")


# -- property-test helpers ----------------------------------------------------------------------


def assert_round_trip(
    codec: FrameCodec[T],
    frames: Iterable[T],
    *,
    splits: Splits | None = None,
    seed: int = 0,
) -> FrameCheck[T]:
    """Encode ``frames`` with a fresh encoder, check the wire (:func:`check_frame_codec`), and
    assert that it decodes to ``frames`` with no error. Returns the check.

    Raises AssertionError if the frames do not come back, ContractViolation for a broken rule,
    and what the encoder raises for a frame it cannot encode.
    """
    frames = list(frames)
    encoder = codec.encoder()
    wire = b"".join(encoder.encode(frame) for frame in frames)
    check = check_frame_codec(codec, wire, splits=splits, seed=seed)
    if check.errors or check.frames != frames:
        raise AssertionError(
            f"decoding what {type(encoder).__name__} wrote ({_show(wire)}) does not give the "
            f"frames back: {_difference([_key(i) for i in check.results], frames)}"
            f"\n  got:  {_shorten(check.results)}\n  want: {_shorten(frames)}"
        )
    return check


def assert_bytes_round_trip(
    codec: ByteCodec,
    pieces: Iterable[Bytes],
    *,
    splits: Splits | None = None,
    seed: int = 0,
    budgets: Sequence[int] = (DEFAULT_BUDGET, 1, 7),
) -> ByteCheck:
    """Feed ``pieces`` to a fresh encoder and finish it, check the wire
    (:func:`check_byte_codec`), and assert that it decodes to the pieces joined, with the
    decoder done, no error and no leftover. Returns the check.

    Raises AssertionError if the bytes do not come back, ContractViolation for a broken rule.
    """
    encoder = codec.encoder()
    chunks = [bytes(piece) for piece in pieces]
    wire = b"".join([encoder.feed(chunk) for chunk in chunks]) + encoder.finish()
    check = check_byte_codec(codec, wire, splits=splits, seed=seed, budgets=budgets)
    data = b"".join(chunks)
    if check.errors or check.data != data or not check.done or check.leftover:
        raise AssertionError(
            f"decoding what {type(encoder).__name__} wrote ({_show(wire)}) does not give the "
            f"bytes back ({_show(data)}): {_show_byte_check(check)}"
        )
    return check


def assert_split_invariant(
    codec: FrameCodec[Any] | ByteCodec, wire: Bytes, splits: Splits
) -> FrameCheck[Any] | ByteCheck:
    """Check ``codec`` over ``wire`` fed in each of ``splits`` (cut point sequences, such as
    :func:`splits_of` draws) against the whole wire; return what was decoded.

    Works for both kinds of codec. Raises :class:`ContractViolation` when a split gives other
    results (or breaks another rule).
    """
    if hasattr(codec.decoder(), "done"):
        return check_byte_codec(codec, wire, splits=splits)  # type: ignore[arg-type]
    return check_frame_codec(codec, wire, splits=splits)  # type: ignore[arg-type]


# -- hypothesis strategies --------------------------------------------------------------------


def _strategies() -> Any:
    try:
        from hypothesis import strategies
    except ImportError as error:
        raise ImportError(
            "framekit.testing's strategies need hypothesis, which is in the test extra: "
            "pip install 'aioframekit[test]'"
        ) from error
    return strategies


def splits_of(wire: Bytes, *, max_pieces: int | None = None) -> SearchStrategy[tuple[int, ...]]:
    """A hypothesis strategy of splits of ``wire``: sorted cut points inside it (at most
    ``max_pieces - 1`` of them), to pass as a split to the checkers.

    Raises ImportError (naming the ``aioframekit[test]`` extra) without hypothesis.
    """
    st = _strategies()
    size = len(wire)
    if size < 2:
        return st.just(())  # type: ignore[no-any-return]
    cuts = st.lists(
        st.integers(1, size - 1),
        unique=True,
        max_size=size - 1 if max_pieces is None else max(0, max_pieces - 1),
    )
    return cuts.map(lambda found: tuple(sorted(found)))  # type: ignore[no-any-return]


def encoded(
    codec: FrameCodec[T], frames: SearchStrategy[T], *, max_frames: int = 20
) -> SearchStrategy[tuple[list[T], bytes]]:
    """A hypothesis strategy of ``(frames, wire)``: lists of frames drawn from ``frames``,
    and their wire bytes written by a fresh encoder of ``codec``.

    Raises ImportError (naming the ``aioframekit[test]`` extra) without hypothesis.
    """
    st = _strategies()

    def encode(drawn: list[T]) -> tuple[list[T], bytes]:
        encoder = codec.encoder()
        return drawn, b"".join(encoder.encode(frame) for frame in drawn)

    return st.lists(frames, max_size=max_frames).map(encode)  # type: ignore[no-any-return]
