"""Property tests: the reader against a plain-bytes model, under any split of its input."""

from __future__ import annotations

import asyncio
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from framekit import LineTooLong
from framekit.reader import StreamReader

SEPARATORS = [b"\n", b"\r\n", b"||", (b"\r\n", b"\n"), (b"ab", b"b", b"abc")]


def run(coro: object) -> object:
    return asyncio.run(coro)  # type: ignore[arg-type]


@st.composite
def splits(draw: st.DrawFn, data: bytes) -> list[bytes]:
    cuts = sorted(draw(st.sets(st.integers(0, len(data)), max_size=12)))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


async def readuntil_all(pieces: list[bytes], separator: object, max_size: int) -> list[object]:
    reader = StreamReader(limit=8)
    results: list[object] = []

    async def feeder() -> None:
        for piece in pieces:
            reader.feed_data(piece)
            await asyncio.sleep(0)
        reader.feed_eof()

    task = asyncio.ensure_future(feeder())
    while True:
        try:
            chunk = await reader.readuntil(separator, max_size=max_size)  # type: ignore[arg-type]
        except LineTooLong as error:
            results.append(("too long", error.offset))
            continue
        if not chunk:
            break
        results.append(chunk)
    await task
    return results


@settings(max_examples=150, deadline=None)
@given(
    data=st.binary(max_size=80).flatmap(lambda d: st.tuples(st.just(d), splits(d))),
    separator=st.sampled_from(SEPARATORS),
    max_size=st.integers(2, 12),
)
def test_readuntil_results_do_not_depend_on_the_split(
    data: tuple[bytes, list[bytes]], separator: object, max_size: int
) -> None:
    whole, pieces = data
    expected = run(readuntil_all([whole], separator, max_size))
    assert run(readuntil_all(pieces, separator, max_size)) == expected


@settings(max_examples=150, deadline=None)
@given(
    lines=st.lists(st.binary(max_size=10).map(lambda b: b.replace(b"\n", b"")), max_size=8),
    tail=st.binary(max_size=5).map(lambda b: b.replace(b"\n", b"")),
)
def test_readline_without_overflow_matches_bytes_splitlines(
    lines: list[bytes], tail: bytes
) -> None:
    data = b"".join(line + b"\n" for line in lines) + tail
    got = run(readuntil_all([data], b"\n", 1000))
    expected = [line + b"\n" for line in lines] + ([tail] if tail else [])
    assert got == expected


@settings(max_examples=100, deadline=None)
@given(
    data=st.binary(min_size=1, max_size=60).flatmap(lambda d: st.tuples(st.just(d), splits(d))),
    op=st.sampled_from(["readline", "readexactly", "readuntil", "read", "peek"]),
)
def test_cancelled_read_loses_nothing(data: tuple[bytes, list[bytes]], op: str) -> None:
    whole, pieces = data

    async def main() -> bytes:
        reader = StreamReader(limit=4)
        for piece in pieces:
            reader.feed_data(piece)
            call = {
                "readline": lambda: reader.readline(max_line_length=1000),
                "readexactly": lambda: reader.readexactly(len(whole) + 1),
                "readuntil": lambda: reader.readuntil(b"\x00\xff", max_size=1000),
                "read": lambda: reader.read(),
                "peek": lambda: reader.peek(len(whole) + 1),
            }[op]
            try:
                got = await asyncio.wait_for(call(), 0.0001)
            except asyncio.TimeoutError:
                continue
            reader.unread_data(got)
        reader.feed_eof()
        return await reader.read()

    assert asyncio.run(main()) == whole


class ReaderMachine(RuleBasedStateMachine):
    """Random feeds and synchronous reads against a bytes model."""

    def __init__(self) -> None:
        super().__init__()
        self.reader = StreamReader(limit=4)
        self.model = b""
        self.eof = False
        self.loop = asyncio.new_event_loop()

    def teardown(self) -> None:
        self.loop.close()

    def call(self, coro: object) -> object:
        return self.loop.run_until_complete(coro)  # type: ignore[arg-type]

    @precondition(lambda self: not self.eof)
    @rule(data=st.binary(max_size=12))
    def feed(self, data: bytes) -> None:
        self.reader.feed_data(data)
        self.model += data

    @precondition(lambda self: not self.eof)
    @rule()
    def feed_eof(self) -> None:
        self.reader.feed_eof()
        self.eof = True

    @rule(n=st.integers(-1, 10))
    def read_nowait(self, n: int) -> None:
        got = self.reader.read_nowait(n)
        expected = self.model if n < 0 else self.model[:n]
        assert got == expected
        self.model = self.model[len(got) :]

    @rule(data=st.binary(max_size=6))
    def unread(self, data: bytes) -> None:
        self.reader.unread_data(data)
        self.model = data + self.model

    @rule(n=st.integers(1, 10))
    def read_if_available(self, n: int) -> None:
        if self.model or self.eof:
            got = self.call(self.reader.read(n))
            assert got == self.model[:n]
            self.model = self.model[n:]

    @rule(n=st.integers(0, 10))
    def readexactly_if_available(self, n: int) -> None:
        if len(self.model) >= n:
            assert self.call(self.reader.readexactly(n)) == self.model[:n]
            self.model = self.model[n:]

    @rule(n=st.integers(0, 10))
    def peek_if_available(self, n: int) -> None:
        if len(self.model) >= n or self.eof:
            assert self.call(self.reader.peek(n)) == self.model[:n]

    @rule(sep=st.sampled_from([b"\n", b"ab", (b"a", b"\n")]))
    def readuntil_if_available(self, sep: object) -> None:
        seps = sep if isinstance(sep, tuple) else (sep,)
        ends = [self.model.find(s) + len(s) for s in seps if s in self.model]
        if ends:
            end = min(ends)
            if end <= 1000:
                assert self.call(self.reader.readuntil(sep, max_size=1000)) == self.model[:end]  # type: ignore[arg-type]
                self.model = self.model[end:]
        elif self.eof:
            assert self.call(self.reader.readuntil(sep, max_size=1000)) == self.model  # type: ignore[arg-type]
            self.model = b""

    @invariant()
    def counts_agree(self) -> None:
        assert self.reader.buffered == len(self.model)
        assert self.reader.at_eof() == (self.eof and not self.model)


TestReaderMachine = ReaderMachine.TestCase
TestReaderMachine.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
