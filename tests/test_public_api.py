"""The names framekit and framekit.codecs export are the ones their modules define."""

from __future__ import annotations

import gzip
import importlib

import pytest

import framekit
import framekit.codecs


@pytest.mark.parametrize("package", [framekit, framekit.codecs])
def test_all_names_resolve(package: object) -> None:
    names = package.__all__  # type: ignore[attr-defined]
    for name in names:
        assert getattr(package, name) is not None, name


def test_top_level_reexports_are_the_module_objects() -> None:
    from framekit import connection, errors, frames, layers, reader

    assert framekit.StreamReader is reader.StreamReader
    assert framekit.DEFAULT_LIMIT == reader.DEFAULT_LIMIT
    assert framekit.LayerReader is layers.LayerReader
    assert framekit.layer is layers.layer
    assert framekit.FrameReader is frames.FrameReader
    assert framekit.FrameWriter is frames.FrameWriter
    assert framekit.open_connection is connection.open_connection
    assert framekit.wrap is connection.wrap
    assert framekit.FramingError is errors.FramingError


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("Chunked", "chunked"),
        ("Limited", "limited"),
        ("Gzip", "compression"),
        ("Deflate", "compression"),
        ("RawDeflate", "compression"),
        ("Brotli", "compression"),
        ("Zstd", "compression"),
        ("content_decoding", "compression"),
        ("Lines", "lines"),
        ("TextLines", "lines"),
        ("Delimited", "delimited"),
        ("LengthPrefixed", "length"),
        ("Netstring", "netstring"),
        ("OctetCounted", "netstring"),
    ],
)
def test_codecs_reexported(name: str, module: str) -> None:
    source = importlib.import_module(f"framekit.codecs.{module}")
    assert getattr(framekit.codecs, name) is getattr(source, name)
    assert name in framekit.codecs.__all__


async def test_a_tour_through_the_top_level_names() -> None:
    from framekit.codecs import Chunked, Gzip, Lines

    root = framekit.StreamReader()
    body = gzip.compress(b"one\ntwo\n")
    root.feed_data(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
    root.feed_eof()
    lines = framekit.layer(root, Chunked(), Gzip()).frames(Lines())
    assert [line async for line in lines] == [b"one", b"two"]
