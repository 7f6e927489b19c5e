"""Seed inputs per target, made from the kind of bytes the tests use, and the kept crashes.

Seeds are generated, not stored: a list of option headers (see :class:`fuzz.data.Header`)
crossed with payloads (valid wire bytes, cut and damaged ones, plain text to encode). Inputs
that once broke an invariant are kept as files under ``fuzz/crashes/TARGET/`` and replayed
by ``tests/test_fuzz_corpus.py`` and at the start of every fuzz run.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from fuzz.data import Header

CRASHES = Path(__file__).parent / "crashes"

TEXT = b"".join(b"line %d of a body\r\n" % i for i in range(40))
LINES = [
    b"",
    b"hello\nworld\n",
    b"a\r\nb\r\n\r\nc",
    b"a\rb\r\nc\n\r",
    b"x" * 300 + b"\n" + b"y\n",
    b"\r\n.\r\n\n.\n",
    "caf\u00e9 \u65e5\u672c\n".encode() + b"\xff\xfe\n",
    TEXT,
]
FRAMES = [
    b"\x00\x00\x00\x05hello\x00\x00\x00\x00",
    b"\x05\x00hello\x02\x00hi",
    b"\x05hello\x80\x01" + b"z" * 128,
    b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01",
    b"5:hello,0:,3:abc,",
    b"5 hello3 abc",
    b"12:short,",
    b"0005:hello,",
    b"abc;def\0ghi;;",
]
RESP = [
    b"+OK\r\n-ERR x\r\n:12\r\n$5\r\nhello\r\n$-1\r\n*-1\r\n_\r\n#t\r\n,1.5e3\r\n(123\r\n",
    b"*3\r\n$1\r\na\r\n:2\r\n%1\r\n+k\r\n~1\r\n#f\r\n",
    b"|1\r\n+ttl\r\n:3\r\n>2\r\n+message\r\n$2\r\nhi\r\n!3\r\nE x\r\n=7\r\ntxt:abc\r\n",
    b"$?\r\n;2\r\nab\r\n;0\r\n*?\r\n:1\r\n.\r\n%?\r\n+a\r\n:1\r\n.\r\n",
    b"*1000\r\n" + b"$5\r\nvalue\r\n" * 1000,
    b"$12\r\nwith\r\nCRLF\r\n\r\n$3\r\nabcXY\r\n",
]
CHUNKED = [
    b"5\r\nhello\r\n0\r\n\r\n",
    b"5;ext=1\r\nhello\r\n0\r\nTrailer: x\r\n\r\n",
    b"3\nabc\n0\n\n",
    b" 5 \r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n",
    b"ffffffffffffffffff\r\n",
    b"1\r\na\r\n" * 20 + b"0\r\n\r\n",
    b"0\r\n" + b"X-A: b\r\n" * 5 + b"\r\n",
    b"0\r\nX-Long-Trailer-Name: " + b"v" * 60 + b"\r\nB: c\r\n\r\n",
    b"2;" + b"e" * 40 + b"\r\nab\r\n0\r\n\r\n",
]


def _gzip_members() -> list[bytes]:
    member = gzip.compress(TEXT, mtime=0)
    fhcrc = bytearray(b"\x1f\x8b\x08\x02\0\0\0\0\0\x03")
    fhcrc += (zlib.crc32(bytes(fhcrc)) & 0xFFFF).to_bytes(2, "little")
    raw = zlib.compressobj(6, zlib.DEFLATED, -15)
    body = raw.compress(b"abc") + raw.flush()
    fhcrc += body + zlib.crc32(b"abc").to_bytes(4, "little") + (3).to_bytes(4, "little")
    return [member, member + member, member[:-3], bytes(fhcrc), member + b"junk"]


def _zlib_streams() -> list[bytes]:
    stream = zlib.compress(TEXT)
    fdict = zlib.compressobj(zdict=b"qqqqqqq")  # FDICT set, the dictionary never used
    with_dictionary = fdict.compress(b"abcdefgh") + fdict.flush()
    return [stream, stream[:-1], stream + b"x", zlib.compress(b""), with_dictionary]


SMTP_REPLIES = [
    b"220 mx ESMTP\r\n250-mx hello\r\n250-PIPELINING\r\n250 CHUNKING\r\n",
    b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 go\r\n550-5.1.1 no\r\n550 5.1.1 user\r\n",
    b"2500 x\r\n250-a\r\n251 b\r\n250 5.0.0 c\r\n250\r\n250 a\n",
    b"250- 238 byte chunk, total 338\r\n250 OK id=1\r\n",
]
SMTP_COMMANDS = [
    b"EHLO client\r\nMAIL FROM:<a@b> SIZE=10\r\nRCPT TO:<c@d>\r\nDATA\r\nQUIT\r\n",
    b"\r\nA\nB\r\nBAD!\r\nx\x00\r\n" + b"N" * 600 + b"\r\nNOOP\r\n",
]
SMTP_DATA = [
    b"a\r\n..b\r\n.c\r\n\r\n.\r\nQUIT\r\n",
    b"hi\n.\nMAIL FROM:<e@x>\r\n\r\n.\r\n",
    b"hi\r.\r\nx\r\n.\r\n",
    b"hi\r\n.\r\r\nx\r\r\n.\r\r\n\r\n.\r\n",
    b"." + b"x" * 998 + b"\r\n.\r\n",
    TEXT + b".\r\n",
]
SMTP_BDAT = [
    b"BDAT 5\r\n.\r\n\n\rBDAT 3 LAST\r\nxyzQUIT\r\n",
    b"BDAT 0 LAST\r\n",
    b"BDAT 60 LAST\r\n" + b"z" * 60 + b"RSET\r\n",
    b"BDAT 2\r\nabRSET\r\n",
    b"BDAT x\r\n",
]


def payloads(target: str) -> list[bytes]:
    smtp = {
        "smtp-replies": SMTP_REPLIES,
        "smtp-commands": SMTP_COMMANDS,
        "smtp-data": SMTP_DATA,
        "smtp-bdat": SMTP_BDAT,
    }
    if target in smtp:
        return [*smtp[target], TEXT]
    if target in ("lines", "text-lines", "delimited"):
        return LINES + FRAMES[-1:]
    if target in ("length-prefixed", "netstring", "octet-counted"):
        return FRAMES
    if target == "resp":
        return RESP
    if target.startswith("chunked"):
        return [*CHUNKED, TEXT]
    if target == "limited":
        return [b"", b"abc", TEXT]
    if target == "gzip":
        return [*_gzip_members(), TEXT]
    if target in ("deflate", "raw-deflate"):
        raw = zlib.compressobj(6, zlib.DEFLATED, -15)
        return [*_zlib_streams(), raw.compress(TEXT) + raw.flush(), TEXT]
    if target == "brotli":
        import brotli  # type: ignore[import-untyped]

        stream = brotli.compress(TEXT)
        wide = brotli.compress(TEXT * 4, lgwin=24)
        return [stream, stream[:-2], b"\x3b", wide, brotli.compress(b""), TEXT]
    if target == "zstd":
        import zstandard

        frame = zstandard.ZstdCompressor().compress(TEXT)
        streamed = zstandard.ZstdCompressor(write_content_size=False).compressobj()
        unsized = streamed.compress(TEXT) + streamed.flush()
        wide = zstandard.ZstdCompressor(
            compression_params=zstandard.ZstdCompressionParameters.from_level(
                3, window_log=23, write_content_size=False
            )
        ).compressobj()
        windowed = wide.compress(TEXT * 4) + wide.flush()
        skippable = b"\x50\x2a\x4d\x18\x03\x00\x00\x00abc"
        return [frame, frame + frame, skippable + frame, frame[:-1], unsized, windowed, TEXT]
    return [b""]


#: Option headers: defaults (all zero), and a few bytes that pick other options.
HEADERS: list[tuple[tuple[int, ...], int]] = [
    ((), 0),
    ((1, 1, 1, 1, 1, 1, 1, 1), 1),
    ((2, 0, 1, 3, 0, 1, 2, 5, 1), 7),
    ((0, 0, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0), 3),
    ((5, 3, 2, 1, 4, 6, 0, 2, 3, 1, 2, 2), 11),
]


def seeds(target: str) -> list[bytes]:
    """Generated seeds for ``target`` (option headers with payloads), then its kept crashes.

    Each payload is taken as wire bytes (mode 0) and as plain data to encode (mode 2).
    """
    result = [
        Header(*header, seed=seed, mode=mode)(payload)
        for header, seed in HEADERS
        for mode in (0, 2)
        for payload in payloads(target)
    ]
    return result + [data for _, data in crashes(target)]


def crashes(target: str) -> list[tuple[Path, bytes]]:
    folder = CRASHES / target
    if not folder.is_dir():
        return []
    return [(path, path.read_bytes()) for path in sorted(folder.iterdir()) if path.is_file()]
