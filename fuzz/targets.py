"""The fuzz targets: one per codec, each checking every invariant on one input.

A target is a function of one ``bytes`` input (see :mod:`fuzz.data` for how it is read)
that returns normally when every invariant holds and raises :class:`~fuzz.run.Violation`
(or lets an unexpected exception out) when one does not. Every target checks, on its input:

- ``only-framekit-errors``: nothing but a FramingError escapes a decoder, on any path (the
  documented ValueError for bad options is only allowed at construction);
- ``split``: the outcome (frames, output, leftover, error class and offset) is the same for
  the whole input and for several splits into feeds, with several output budgets;
- ``compiled``: the same with and without framekit's compiled fast paths;
- ``backend``: the same with zlib, zlib-ng and isal (gzip and deflate);
- ``paths``: the same through ``sync.decode`` / ``decode_bytes``, ``sync.iter_frames`` /
  ``iter_decoded``, and the async ``StreamReader.frames`` / ``StreamReader.layer``;
- ``lenient``: what strict chunked decoding accepts, lenient decoding reads the same way;
- ``contract``: frame ends and the ``needs_input`` hint are as ``framekit.codecs._base`` says;
- ``round-trip``: frames (or bytes) cut from the payload, encoded, decode back for any split;
- ``bounded-memory``: no decode call writes more than its budget, the output stays within
  ``max_output_size``, and (sampled) the traced peak stays within a bound of the input;
- ``linear-time``: no run makes an unbounded number of calls, and (sampled) the time per
  byte stays bounded when the input is scaled up eight times (see :mod:`fuzz.scaling`).
"""

from __future__ import annotations

import contextlib
import random
import re
from collections.abc import Callable
from typing import Any, Literal

import attrs

from framekit.codecs import (
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
    Resp,
    TextLines,
    Zstd,
)
from framekit.codecs._base import ByteCodec, FrameCodec
from framekit.codecs.compression import DEFAULT_MAX_WINDOW_SIZE
from framekit.codecs.resp import Attributed, MapPairs, ReplyError
from framekit.codecs.smtp import Bdat, Command, Commands, Data, Replies, Reply
from fuzz import scaling
from fuzz.data import Input, cut_frames, mutate, splits
from fuzz.run import (
    Violation,
    as_sync_decode_bytes,
    bytes_async,
    bytes_driver,
    bytes_iter,
    bytes_sync_decode,
    compare,
    compiled_available,
    first_error_prefix,
    frames_async,
    frames_driver,
    frames_iter,
    frames_sync_decode,
    only_framing_errors,
    pure_python,
    shorten,
)

#: Budgets (a layer's limit) the byte codecs are run with besides the reference 64 KiB.
BUDGETS = (1, 3, 17, 256, 4096)
REFERENCE_BUDGET = 64 * 1024

SMALL_LIMITS = (0, 1, 2, 5, 16, 100, 4096)


# -- frame codecs -----------------------------------------------------------------------------


def lines_codec(inp: Input) -> Lines:
    return Lines(
        ending=inp.pick(("lf", "crlf", "any")),
        strip_cr=inp.flag(),
        keep_ending=inp.flag(),
        max_length=inp.pick((*SMALL_LIMITS, 64 * 1024)),
        on_too_long=inp.pick(("raise", "skip")),
        at_eof=inp.pick(("deliver", "error")),
    )


ENCODINGS = (
    "utf-8",
    "latin-1",
    "ascii",
    "cp1252",
    "shift_jis",
    "gb18030",
    "euc-jp",
    "iso2022_jp",
    "utf-7",
    "idna",
)
ERROR_HANDLERS = ("strict", "replace", "ignore", "surrogateescape", "backslashreplace")


def text_lines_codec(inp: Input) -> TextLines:
    lines = lines_codec(inp)
    return TextLines(
        **attrs.asdict(lines),
        encoding=inp.pick(ENCODINGS),
        errors=inp.pick(ERROR_HANDLERS),
    )


def delimited_codec(inp: Input) -> Delimited:
    alphabet = b"\n\r\0;ab"
    delimiters: list[bytes] = []
    for _ in range(1 + inp.byte() % 3):
        delimiters.append(bytes(inp.pick(alphabet) for _ in range(1 + inp.byte() % 3)))
    return Delimited(
        delimiters=tuple(d for i, d in enumerate(delimiters) if d not in delimiters[:i]),  # type: ignore[misc]
        keep_delimiter=inp.flag(),
        max_length=inp.pick((*SMALL_LIMITS, 64 * 1024)),
        on_too_long=inp.pick(("raise", "skip")),
        at_eof=inp.pick(("deliver", "error")),
    )


def length_codec(inp: Input) -> LengthPrefixed:
    widths: tuple[int | Literal["varint"], ...] = (1, 2, 3, 4, 8, "varint", 2, 4)
    width = inp.pick(widths)
    strip = inp.byte() % 8
    return LengthPrefixed(
        length_field_offset=inp.pick((0, 0, 1, 3)),
        length_field_length=width,
        byte_order=inp.pick(("big", "little")),
        length_adjustment=inp.pick((0, 0, -1, 2, -5, 7, -(2**40))),
        length_includes_header=width != "varint" and inp.flag(),
        initial_bytes_to_strip=None if width == "varint" or strip >= 5 else strip,
        max_frame_length=inp.pick((1, 3, 10, 100, 8 * 1024 * 1024)),
        on_too_long=inp.pick(("raise", "skip")),
    )


def netstring_codec(inp: Input) -> Netstring:
    return Netstring(
        max_length=inp.pick((*SMALL_LIMITS, 10**6)), on_too_long=inp.pick(("raise", "skip"))
    )


def resp_codec(inp: Input) -> Resp:
    return Resp(
        max_bulk_length=inp.pick((0, 3, 100, 512 * 1024 * 1024)),
        max_line_length=inp.pick((1, 4, 64, 64 * 1024)),
        max_aggregate_length=inp.pick((0, 2, 50, 2**32 - 1)),
        max_depth=inp.pick((1, 2, 8, 1024)),
        max_reply_size=inp.pick((None, None, 5, 200)),
        stream_threshold=inp.pick((None, None, 0, 3, 1000)),
        stream_chunk_size=inp.pick((1, 2, 7, 64 * 1024)),
        map_type=inp.pick(("dict", "pairs")),
        legacy_nan=inp.flag(),
    )


def _resp_values(codec: Resp, rng: random.Random, frames: list[bytes]) -> list[Any]:
    """Cut frames as RESP values of several types (what the value encoder writes back)."""
    values: list[Any] = []
    for frame in frames:
        kind = rng.randrange(7)
        text = frame.replace(b"\r", b"").replace(b"\n", b"").decode("utf-8", "surrogateescape")
        if kind == 0:
            values.append(text)
        elif kind == 1:
            values.append(int.from_bytes(frame[:10], "big") - (1 << 40))
        elif kind == 2:
            values.append([frame, text, None, [len(frame)]])
        elif kind == 3:
            pairs = [(frame, len(frame)), (text, [frame])]
            values.append(MapPairs(pairs) if codec.map_type == "pairs" else dict(pairs))
        elif kind == 4:
            values.append(ReplyError(text, blob=rng.random() < 0.5))
        elif kind == 5:
            attributes = [(b"ttl", len(frame))]
            values.append(
                Attributed(
                    frame,
                    MapPairs(attributes) if codec.map_type == "pairs" else dict(attributes),
                )
            )
        else:
            values.append(frame)
    return values


def octet_counted_codec(inp: Input) -> OctetCounted:
    return OctetCounted(
        max_length=inp.pick((1, 2, 5, 16, 100, 10**6)), on_too_long=inp.pick(("raise", "skip"))
    )


def _round_trip_frames(codec: FrameCodec[Any], rng: random.Random, payload: bytes) -> list[Any]:
    frames: list[Any] = cut_frames(rng, payload)
    endings = (b"\n", b"\r\n", b"\r")
    if isinstance(codec, (Lines, TextLines)) and codec.keep_ending:
        frames = [f + rng.choice(endings) for f in frames]
    if isinstance(codec, Delimited) and codec.keep_delimiter:
        frames = [f + rng.choice(codec.delimiters) for f in frames]
    if isinstance(codec, Resp):
        return _resp_values(codec, rng, frames)
    if isinstance(codec, Replies):
        # reply lines of a few codes (the encoder refuses control characters, limits)
        frames = [Reply(rng.choice(_REPLY_CODES), tuple(f.split(b"\n"))) for f in frames]
    if isinstance(codec, Commands):
        frames = [Command(rng.choice(_VERBS), f) for f in frames]
    if isinstance(codec, TextLines):
        # str frames the encoding writes and reads back exactly (a lossy error handler on
        # the encoder's side, such as "backslashreplace", changes a frame without refusing it)
        frames = [_as_text(f, codec.encoding) for f in frames]
        frames = [f for f in frames if _text_round_trips(f, codec.encoding)]
    return frames


_REPLY_CODES = (220, 221, 250, 354, 421, 450, 500, 550, 554)
_VERBS = (b"EHLO", b"MAIL", b"RCPT", b"DATA", b"QUIT")


def smtp_replies_codec(inp: Input) -> Replies:
    return Replies(
        max_line_length=inp.pick((8192, 512, 6, 16, 100)),
        max_lines=inp.pick((1000, 1, 2, 5)),
        max_reply_size=inp.pick((64 * 1024, 6, 20, 200)),
        bare_lf=inp.flag(),
    )


def smtp_commands_codec(inp: Input) -> Commands:
    return Commands(max_line_length=inp.pick((512, 8, 16, 100, 4096)))


def _as_text(frame: bytes, encoding: str) -> str:
    try:
        return frame.decode(encoding, "ignore")
    except UnicodeError:  # idna has no "ignore"
        return frame.decode("latin-1")


def _text_round_trips(frame: str, encoding: str) -> bool:
    try:
        return frame.encode(encoding).decode(encoding) == frame
    except (UnicodeError, LookupError):
        return False


def check_frames(codec: FrameCodec[Any], rng: random.Random, payload: bytes) -> None:
    """Every frame-codec invariant on ``payload`` as wire bytes, then on a round trip."""
    with pure_python():
        reference = frames_driver(codec, [payload])
        for i, pieces in enumerate(splits(rng, payload, 3)):
            compare(
                "split",
                reference,
                frames_driver(codec, pieces, core_buffer=i % 2 == 0),
                short=shorten,
                codec=codec,
                pieces=pieces,
                path="pure",
            )
    if compiled_available():
        compare("compiled", reference, frames_driver(codec, [payload]), short=shorten, codec=codec)
        for i, pieces in enumerate(splits(rng, payload, 3)):
            compare(
                "split",
                reference,
                frames_driver(codec, pieces, core_buffer=i % 2 == 1),
                short=shorten,
                codec=codec,
                pieces=pieces,
                path="compiled",
            )
    compare(
        "paths",
        first_error_prefix(reference),
        frames_sync_decode(codec, payload),
        short=shorten,
        codec=codec,
        path="sync.decode",
    )
    pieces = splits(rng, payload, 2)[1]
    compare(
        "contract",
        reference,
        frames_driver(codec, pieces, contract=True, core_buffer=True),
        short=shorten,
        codec=codec,
        path="ends and needs_input",
        pieces=pieces,
    )
    compare(
        "paths",
        reference,
        frames_iter(codec, pieces),
        short=shorten,
        codec=codec,
        path="sync.iter_frames",
        pieces=pieces,
    )
    compare(
        "paths",
        reference,
        frames_async(codec, pieces),
        short=shorten,
        codec=codec,
        path="StreamReader.frames",
        pieces=pieces,
    )
    scaling.maybe_check_frames(codec, rng, payload)
    _check_frame_round_trip(codec, rng, payload)


def _check_frame_round_trip(codec: FrameCodec[Any], rng: random.Random, payload: bytes) -> None:
    if isinstance(codec, Resp) and codec.stream_threshold is not None:
        codec = attrs.evolve(codec, stream_threshold=None)  # values whole, not in parts
    encoder = codec.encoder()
    accepted, wire = [], []
    for frame in _round_trip_frames(codec, rng, payload):
        try:
            encoded = encoder.encode(frame)
        except ValueError:  # a frame this codec cannot carry, refused as documented
            continue
        accepted.append(frame)
        wire.append(encoded)
    data = b"".join(wire)
    for pieces in [[data], *splits(rng, data, 2)]:
        compare(
            "round-trip",
            accepted,
            frames_driver(codec, pieces),
            short=shorten,
            codec=codec,
            pieces=pieces,
        )


def frame_target(make: Callable[[Input], FrameCodec[Any]]) -> Callable[[bytes], None]:
    def target(data: bytes) -> None:
        inp = Input(data)
        try:
            codec = make(inp)
        except ValueError:  # options the codec refuses at construction, as documented
            return
        rng = inp.rng()
        mode = inp.mode() % 4
        payload = inp.payload()
        if mode == 3:  # encode frames cut from the payload, then damage the wire a little
            encoder = codec.encoder()
            parts = []
            for frame in _round_trip_frames(codec, rng, payload):
                with contextlib.suppress(ValueError):
                    parts.append(encoder.encode(frame))
            payload = mutate(rng, b"".join(parts))
        check_frames(codec, rng, payload)

    return target


# -- byte codecs ------------------------------------------------------------------------------

BACKENDS: tuple[Literal["zlib", "zlib-ng", "isal"], ...] = ("zlib", "zlib-ng", "isal")


def chunked_codec(lenient: bool) -> Callable[[Input], Chunked]:
    def make(inp: Input) -> Chunked:
        return Chunked(
            max_line_length=inp.pick((1, 2, 8, 32, 4096)),
            max_chunk_size=inp.pick((1, 5, 100, 2**63 - 1)),
            max_trailers=inp.pick((0, 1, 3, 128)),
            max_trailer_size=inp.pick((2, 5, 40, 64 * 1024)),
            max_overhead=inp.pick((0, 10, 100, 16 * 1024)),
            lenient=lenient,
            keep_extensions=inp.flag(),
        )

    return make


def limited_codec(inp: Input) -> Limited:
    return Limited(inp.pick((0, 1, 2, 7, 100, 1000)))


def smtp_data_codec(inp: Input) -> Data:
    return Data(
        policy=inp.pick(("reject", "normalize", "pass")),
        encode_policy=inp.pick(("normalize", "strict")),
        max_line_length=inp.pick((1000, 3, 8, 100)),
        max_message=inp.pick((32 * 1024 * 1024, 0, 10, 300)),
    )


def smtp_bdat_codec(inp: Input) -> Bdat:
    return Bdat(
        max_chunk_size=inp.pick((32 * 1024 * 1024, 0, 3, 50)),
        max_message=inp.pick((32 * 1024 * 1024, 5, 100)),
    )


_ANY_ENDING = re.compile(rb"\r\n|\r|\n")


def _encoding_codec(codec: ByteCodec) -> ByteCodec:
    """The codec whose encoder writes wire bytes for ``codec`` from any plain bytes: DATA's
    normalizing encoder (the strict one refuses a lone CR or LF), BDAT's without a chunk
    limit (the limits bind the decoder)."""
    if isinstance(codec, Data):
        return attrs.evolve(codec, encode_policy="normalize")
    if isinstance(codec, Bdat):
        return Bdat()
    return codec


def _cap(inp: Input) -> int | None:
    return inp.pick((None, None, None, 0, 1, 100, 5000))


def gzip_codec(inp: Input) -> Gzip:
    return Gzip(
        max_output_size=_cap(inp),
        multi_member=inp.flag(),
        trailing_data=inp.pick(("error", "leave")),
        level=inp.byte() % 10,
        backend="zlib",
    )


def deflate_codec(inp: Input) -> Deflate:
    return Deflate(
        max_output_size=_cap(inp),
        trailing_data=inp.pick(("error", "leave")),
        level=inp.byte() % 10,
        backend="zlib",
    )


def raw_deflate_codec(inp: Input) -> RawDeflate:
    return RawDeflate(
        max_output_size=_cap(inp),
        trailing_data=inp.pick(("error", "leave")),
        level=inp.byte() % 10,
        backend="zlib",
    )


def brotli_codec(inp: Input) -> Brotli:
    return Brotli(max_output_size=_cap(inp), quality=inp.byte() % 12)


def zstd_codec(inp: Input) -> Zstd:
    return Zstd(
        max_output_size=_cap(inp),
        max_window_size=inp.pick((1 << 10, 1 << 17, 8 * 1024 * 1024)),
        trailing_data=inp.pick(("error", "leave")),
        level=inp.pick((1, 3, 9, 19, -5)),
    )


def _backends(codec: ByteCodec) -> list[tuple[str, ByteCodec]]:
    """``codec`` with each zlib backend that accepts its options (the first: zlib)."""
    if not isinstance(codec, (Gzip, Deflate, RawDeflate)):
        return [("-", codec)]
    result: list[tuple[str, ByteCodec]] = []
    for backend in BACKENDS:
        # isal with trailing_data="leave" is refused (ValueError), as documented
        with contextlib.suppress(ValueError):
            result.append((backend, attrs.evolve(codec, backend=backend)))
    return result


def encode_bytes(codec: ByteCodec, rng: random.Random, plain: bytes) -> bytes:
    encoder = _encoding_codec(codec).encoder()
    parts, at = [], 0
    while at < len(plain):
        step = rng.randint(1, max(1, len(plain) // 3 + 1))
        parts.append(encoder.feed(plain[at : at + step]))
        at += step
    parts.append(encoder.finish())
    return b"".join(parts)


def check_bytes(codec: ByteCodec, rng: random.Random, wire: bytes) -> None:
    """Every byte-codec invariant on ``wire``: against the whole input, zlib, pure Python."""
    cap = getattr(codec, "max_output_size", None)
    variants = _backends(codec)
    with pure_python():
        reference = bytes_driver(codec, [wire], REFERENCE_BUDGET, cap=cap)
    for backend, variant in variants:
        for compiled in (False, True) if compiled_available() else (False,):
            for i, pieces in enumerate([[wire], *splits(rng, wire, 3)]):
                budget = REFERENCE_BUDGET if i == 0 else rng.choice(BUDGETS)
                contract = i == 1  # one split checks the needs_input hint too
                if compiled:
                    outcome = bytes_driver(variant, pieces, budget, cap=cap, contract=contract)
                else:
                    with pure_python():
                        outcome = bytes_driver(variant, pieces, budget, cap=cap, contract=contract)
                invariant = (
                    "split"
                    if backend in ("-", "zlib") and not compiled
                    else ("compiled" if backend in ("-", "zlib") else "backend")
                )
                compare(
                    invariant,
                    reference,
                    outcome,
                    short=shorten,
                    codec=variant,
                    backend=backend,
                    compiled=compiled,
                    budget=budget,
                    pieces=pieces,
                )
    backend, variant = variants[0]
    pieces = splits(rng, wire, 2)[1]
    budget = rng.choice(BUDGETS)
    expected = as_sync_decode_bytes(reference, wire, codec)
    compare(
        "paths",
        expected,
        bytes_sync_decode(variant, wire, budget),
        short=shorten,
        codec=variant,
        path="sync.decode_bytes",
        budget=budget,
    )
    compare(
        "paths",
        expected,
        bytes_iter(variant, pieces, budget),
        short=shorten,
        codec=variant,
        path="sync.iter_decoded",
        budget=budget,
        pieces=pieces,
    )
    limit = max(2, budget)
    compare(
        "paths",
        reference,
        bytes_async(variant, pieces, limit),
        short=shorten,
        codec=variant,
        path="StreamReader.layer",
        limit=limit,
        pieces=pieces,
    )
    if isinstance(codec, Chunked) and not codec.lenient and reference[2] is None:
        # lenient mode accepts more than strict mode, never something else
        lenient = attrs.evolve(codec, lenient=True)
        compare(
            "lenient",
            reference,
            bytes_driver(lenient, [wire], REFERENCE_BUDGET),
            short=shorten,
            codec=lenient,
        )
    scaling.maybe_check_bytes(codec, rng, wire)


def check_byte_round_trip(codec: ByteCodec, rng: random.Random, plain: bytes) -> None:
    if isinstance(codec, Limited):
        codec = Limited(len(plain))
    elif isinstance(codec, Chunked):
        codec = Chunked(lenient=codec.lenient)  # its limits bind the decoder only
    elif isinstance(codec, Data):
        # What the strict encoder takes back whole: CRLF lines, the last one ended.
        plain = _ANY_ENDING.sub(b"\r\n", plain)
        if plain and not plain.endswith(b"\r\n"):
            plain += b"\r\n"
        codec = Data(policy=codec.policy, max_line_length=len(plain) + 3, max_message=len(plain))
    elif isinstance(codec, Bdat):
        codec = Bdat()
    elif hasattr(codec, "max_output_size"):
        # Decoder-side limits (the output cap, zstd's window) do not bind the encoder.
        changes: dict[str, Any] = {"max_output_size": None}
        if isinstance(codec, Zstd):
            changes["max_window_size"] = DEFAULT_MAX_WINDOW_SIZE
        codec = attrs.evolve(codec, **changes)  # type: ignore[misc]
    with only_framing_errors("encoder", codec):
        wire = encode_bytes(codec, rng, plain)
    for backend, variant in _backends(codec):
        for pieces in [[wire], *splits(rng, wire, 2)]:
            budget = rng.choice((*BUDGETS, REFERENCE_BUDGET))
            compare(
                "round-trip",
                (plain, b"", None),
                bytes_driver(variant, pieces, budget),
                short=shorten,
                codec=variant,
                backend=backend,
                pieces=pieces,
                budget=budget,
            )


def byte_target(make: Callable[[Input], ByteCodec]) -> Callable[[bytes], None]:
    def target(data: bytes) -> None:
        inp = Input(data)
        try:
            codec = make(inp)
        except ValueError:
            return
        rng = inp.rng()
        mode = inp.mode() % 4
        payload = inp.payload()
        if mode >= 2 and not isinstance(codec, Limited):
            # the payload is plain bytes: encode it, and maybe damage the result
            wire = encode_bytes(codec, rng, payload)
        else:
            wire = payload
        if mode == 3:
            wire = mutate(rng, wire)
        check_bytes(codec, rng, wire)
        check_byte_round_trip(codec, rng, payload)

    return target


#: Every target by name: ``python -m fuzz NAME``.
TARGETS: dict[str, Callable[[bytes], None]] = {
    "lines": frame_target(lines_codec),
    "text-lines": frame_target(text_lines_codec),
    "delimited": frame_target(delimited_codec),
    "length-prefixed": frame_target(length_codec),
    "netstring": frame_target(netstring_codec),
    "octet-counted": frame_target(octet_counted_codec),
    "resp": frame_target(resp_codec),
    "chunked": byte_target(chunked_codec(lenient=False)),
    "chunked-lenient": byte_target(chunked_codec(lenient=True)),
    "limited": byte_target(limited_codec),
    "gzip": byte_target(gzip_codec),
    "deflate": byte_target(deflate_codec),
    "raw-deflate": byte_target(raw_deflate_codec),
    "brotli": byte_target(brotli_codec),
    "zstd": byte_target(zstd_codec),
    "smtp-replies": frame_target(smtp_replies_codec),
    "smtp-commands": frame_target(smtp_commands_codec),
    "smtp-data": byte_target(smtp_data_codec),
    "smtp-bdat": byte_target(smtp_bdat_codec),
}


__all__ = ["TARGETS", "Violation"]
