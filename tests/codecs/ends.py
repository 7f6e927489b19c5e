"""Checks of the ``ends`` a frame decoder reports (see ``framekit.codecs._base``).

``decode_with_ends`` runs a decoder like ``decode_frame_pieces`` but passes ``ends`` on every
call, checks each call's ends, and returns the results with the stream span of every frame.
``check_ends`` compares that with a run without ``ends`` and, for well-formed input, decodes
each span alone with a fresh decoder.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from framekit._buffer import Buffer
from framekit.codecs._base import decode_frame_pieces
from framekit.errors import FramingError, TruncatedError


def comparable(items: Sequence[Any]) -> list[Any]:
    """Frames as they are, errors as (type, offset, message)."""
    return [
        (type(item), item.offset, str(item)) if isinstance(item, FramingError) else item
        for item in items
    ]


def check_call(frames: list[Any], ends: list[int], consumed: int) -> None:
    """What one decode call must report: one end per frame, increasing, within consumed."""
    assert len(ends) == len(frames)
    previous = 0
    for end in ends:
        assert end > previous, ends  # strictly increasing, and every frame spans a byte
        previous = end
    assert previous <= consumed


def decode_with_ends(
    decoder: Any, pieces: Sequence[bytes]
) -> tuple[list[Any], list[tuple[int, int]]]:
    """``decode_frame_pieces`` with ``ends``: (results, the stream span of each frame).

    A frame's span starts where the previous frame ended (skipped bytes count as the next
    frame's) and ends at its reported end.
    """
    results: list[Any] = []
    spans: list[tuple[int, int]] = []
    source = Buffer()
    head = 0  # stream position of the source's first buffered byte
    last_end = 0
    last_error: tuple[type[FramingError], int | None] | None = None
    stopped = False

    def run(eof: bool) -> None:
        nonlocal head, last_end, last_error, stopped
        step = decoder.decode_eof if eof else decoder.decode
        while True:
            frames: list[Any] = []
            ends: list[int] = []
            try:
                with source.view() as view:
                    consumed = step(view, frames, ends)
            except FramingError as error:
                if eof and isinstance(error, TruncatedError):
                    results.append(error)
                    return
                key = (type(error), error.offset)
                if key == last_error:
                    stopped = True
                    return
                last_error = key
                results.append(error)
                continue
            check_call(frames, ends, consumed)
            for end in ends:
                spans.append((last_end, head + end))
                last_end = head + end
            source.drop(consumed)
            head += consumed
            if frames:
                results.extend(frames)
            elif consumed == 0:
                return
            last_error = None

    for piece in pieces:
        source.write(piece)
        run(eof=False)
        if stopped:
            return comparable(results), spans
    run(eof=True)
    return comparable(results), spans


def check_ends(codec: Any, data: bytes, pieces: Sequence[bytes]) -> list[Any]:
    """Decode ``pieces`` with and without ends; check the ends; return the results.

    For well-formed input (no error, nothing skipped), the spans tile ``data`` and each one,
    decoded alone by a fresh decoder (then EOF), gives exactly its frame.
    """
    plain = comparable(decode_frame_pieces(codec.decoder(), pieces))
    decoder = codec.decoder()
    results, spans = decode_with_ends(decoder, pieces)
    assert results == plain
    frames = [item for item in results if not isinstance(item, tuple)]
    assert len(spans) == len(frames)
    well_formed = len(frames) == len(results) and not getattr(decoder, "skipped_frames", 0)
    if well_formed:
        assert [start for start, _ in spans[1:]] == [end for _, end in spans[:-1]]
        assert all(end <= len(data) for _, end in spans)
        for frame, (start, end) in zip(frames, spans, strict=True):
            assert comparable(decode_frame_pieces(codec.decoder(), [data[start:end]])) == [frame]
    return results
