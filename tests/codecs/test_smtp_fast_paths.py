"""The SMTP codecs' fast paths (the one-match reply path, the compiled DATA loop and the
splitlines DATA path) give what the careful paths give, for any input and split."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framekit import speedups
from framekit.codecs.smtp import Data, Replies
from framekit.codecs.smtp import data as data_module
from framekit.testing import check_byte_codec, check_frame_codec, splits_of


class CarefulReplies(Replies):
    """Replies read line by line only."""

    def decoder(self) -> Any:
        decoder = super().decoder()
        decoder._fast = False
        return decoder


def comparable(results: list[Any]) -> list[Any]:
    return [(type(r), r.offset, str(r)) if isinstance(r, Exception) else r for r in results]


reply_parts = st.sampled_from(
    [b"250", b"251", b"550", b"-", b" ", b"\r\n", b"\n", b"\r", b"x", b"2.0.0 ", b"5.1.1 ", b"\x00"]
)


@settings(max_examples=200, deadline=None)
@given(
    wire=st.lists(reply_parts, max_size=20).map(b"".join),
    limits=st.sampled_from([{}, {"max_line_length": 12}, {"max_lines": 2}, {"max_reply_size": 20}]),
    data=st.data(),
)
def test_whole_reply_path_agrees_with_the_line_path(
    wire: bytes, limits: dict[str, int], data: st.DataObject
) -> None:
    splits = [data.draw(splits_of(wire))]
    fast = check_frame_codec(Replies(**limits), wire, splits=splits)
    careful = check_frame_codec(CarefulReplies(**limits), wire, splits=splits)
    assert comparable(fast.results) == comparable(careful.results)


def byte_results(codec: Data, wire: bytes, splits: list[tuple[int, ...]]) -> tuple[Any, ...]:
    check = check_byte_codec(codec, wire, splits=splits)
    errors = [(type(e), e.offset, str(e)) for e in check.errors]
    return check.data, errors, check.done, check.leftover


data_parts = st.sampled_from(
    [b"\r\n", b".", b"..", b"\r", b"\n", b"abc", b"x" * 7, b"\r\n.\r\n", b"\x00"]
)


@settings(max_examples=200, deadline=None)
@given(
    wire=st.lists(data_parts, max_size=24).map(b"".join),
    policy=st.sampled_from(["reject", "normalize", "pass"]),
    limits=st.sampled_from([{}, {"max_line_length": 8}, {"max_message": 15}]),
    data=st.data(),
)
def test_data_fast_paths_agree_with_the_careful_path(
    wire: bytes,
    policy: str,
    limits: dict[str, int],
    data: st.DataObject,
) -> None:
    codec = Data(policy=policy, **limits)  # type: ignore[arg-type]
    splits = [data.draw(splits_of(wire))]
    compiled = byte_results(codec, wire, splits)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(data_module, "_scan_dot_lines", None)
        python = byte_results(codec, wire, splits)
        patch.setattr(data_module.DataDecoder, "_lines", lambda *args: None)
        careful = byte_results(codec, wire, splits)
    assert compiled == python == careful


@pytest.mark.skipif(not speedups.ENABLED, reason="framekit._speedups is not built")
def test_scan_dot_lines_takes_plain_lines_and_stops_before_the_rest() -> None:
    scan = speedups.scan_dot_lines
    assert scan is not None
    assert scan(memoryview(b"a\r\n..b\r\n.\r\nQUIT"), 0, 100, 1000, 100) == (
        11,
        b"a\r\n.b\r\n",
        True,
    )
    assert scan(memoryview(b"a\r\nb\nc\r\n"), 0, 100, 1000, 100) == (3, b"a\r\n", False)
    assert scan(memoryview(b"a\r\nb\rc\r\n"), 0, 100, 1000, 100) == (3, b"a\r\n", False)
    assert scan(memoryview(b"a\r\nbcd\r\n"), 0, 100, 4, 100) == (3, b"a\r\n", False)  # too long
    assert scan(memoryview(b"a\r\n.bc\r\n"), 0, 100, 4, 100) == (8, b"a\r\nbc\r\n", False)
    assert scan(memoryview(b"a\r\nbc\r\n"), 0, 5, 1000, 100) == (3, b"a\r\n", False)  # budget
    assert scan(memoryview(b"a\r\nbc\r\n"), 0, 100, 1000, 4) == (3, b"a\r\n", False)  # room
    assert scan(memoryview(b"a\r\nbc"), 0, 100, 1000, 100) == (3, b"a\r\n", False)  # partial
    assert scan(memoryview(b"a\r\n.\r"), 0, 100, 1000, 100) == (3, b"a\r\n", False)
    assert scan(memoryview(b"a\r\n"), 5, 100, 1000, 100) is None
    assert scan(memoryview(b"a\r\n"), 0, -1, 1000, 100) is None
