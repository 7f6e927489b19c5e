"""The captured redis-server replies (tests/resp/captures) decode to their manifest values.

Every capture, fed in pieces of 1, 7, 1460 and 65536 bytes (and in any split, for the small
ones), through the blocking and the asyncio readers, in both map types: the values are
exactly the manifest's (tests/resp/values.py compares types too).
"""

from __future__ import annotations

import hashlib
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from framekit.codecs.resp import Resp, StringChunk, StringEnd, StringStart
from framekit.reader import StreamReader
from framekit.sync import iter_frames
from framekit.testing import splits_of
from tests.resp.captures import capture_names, load_capture, load_manifest
from tests.resp.values import canon, canon_json

PIECES = (1, 7, 1460, 65536)
SMALL = [name for name in capture_names() if len(load_capture(name)) <= 4096]


def expected(name: str) -> list[object]:
    return [canon_json(value) for value in load_manifest()["captures"][name]["replies"]]


def in_pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("size", PIECES)
@pytest.mark.parametrize("name", capture_names())
def test_capture_decodes_to_its_manifest_values_in_pieces(name: str, size: int) -> None:
    data = load_capture(name)
    if size == 1 and len(data) > 65536:
        size = 3  # the 1 MiB bulk: a million one-byte feeds would only take time
    frames = list(iter_frames(in_pieces(data, size), Resp()))
    assert [canon(frame) for frame in frames] == expected(name)


@pytest.mark.parametrize("name", capture_names())
def test_capture_decodes_the_same_with_map_pairs(name: str) -> None:
    frames = list(iter_frames(in_pieces(load_capture(name), 1460), Resp(map_type="pairs")))
    assert [canon(frame) for frame in frames] == expected(name)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
@pytest.mark.parametrize("name", SMALL)
def test_small_capture_decodes_to_its_values_in_any_split(name: str, data: st.DataObject) -> None:
    wire = load_capture(name)
    cuts = data.draw(splits_of(wire))
    bounds = [0, *cuts, len(wire)]
    pieces = [wire[a:b] for a, b in itertools.pairwise(bounds)]
    assert [canon(frame) for frame in iter_frames(pieces, Resp())] == expected(name)


async def test_every_capture_decodes_through_a_frame_reader_fed_in_1460_byte_pieces() -> None:
    for name in capture_names():
        reader = StreamReader()
        frames = reader.frames(Resp())
        for piece in in_pieces(load_capture(name), 1460):
            reader.feed_data(piece)
        reader.feed_eof()
        assert [canon(frame) async for frame in frames] == expected(name), name


def test_1mib_capture_comes_as_parts_in_event_mode() -> None:
    data = load_capture("bulk_1mib")
    parts = list(iter_frames(in_pieces(data, 65536), Resp(stream_threshold=65536)))
    start, *chunks, end = parts
    assert isinstance(start, StringStart) and isinstance(end, StringEnd)
    assert (start.type, start.length) == ("$", 1 << 20)
    assert all(isinstance(chunk, StringChunk) for chunk in chunks)
    digest = hashlib.sha256()
    for chunk in chunks:
        assert isinstance(chunk, StringChunk)
        digest.update(chunk.data)
    assert digest.digest() == hashlib.sha256(data[10:-2]).digest()
    # Chunks are what the feeds brought, never the value joined.
    assert max(len(chunk.data) for chunk in chunks if isinstance(chunk, StringChunk)) <= 2 * 65536
