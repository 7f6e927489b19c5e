from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framekit._buffer import Buffer
from framekit.codecs import chunked
from framekit.codecs._base import ByteDecoder, ByteEncoder, decode_byte_pieces
from framekit.codecs.chunked import Chunked, ChunkedDecoder, Extension
from framekit.errors import FramingError, LimitExceededError, MalformedError, TruncatedError
from tests.codecs.compiled import with_and_without_compiled

STRICT = Chunked()
LENIENT = Chunked(lenient=True)


# Every test here runs with the compiled fast path (framekit.speedups) and without.
decoder_kind = with_and_without_compiled(chunked, "_scan_chunked")


# A valid first chunk, so that errors further on are reported at absolute offsets.
HELLO = b"5\r\nhello\r\n"
END = b"0\r\n\r\n"


def split_at(wire: bytes, cuts: Sequence[int]) -> list[bytes]:
    cuts = sorted(cuts)
    return [wire[a:b] for a, b in zip([0, *cuts], [*cuts, len(wire)], strict=True)]


def chunks_of(out: Buffer) -> list[bytes]:
    """The output split at its chunk marks (a last unmarked piece is kept if non-empty)."""
    chunks = []
    while (n := out.next_chunk_end()) is not None:
        chunks.append(out.take(n))
    rest = out.take_all()
    if rest:
        chunks.append(rest)
    return chunks


def decode(
    wire: bytes | Sequence[bytes], codec: Chunked = STRICT, *, budget: int = 64 * 1024
) -> tuple[list[bytes], bytes, ChunkedDecoder]:
    """Decode ``wire`` (one piece, or a list of pieces): (chunks, leftover, decoder)."""
    decoder = codec.decoder()
    pieces = [wire] if isinstance(wire, bytes) else wire
    out, leftover = decode_byte_pieces(decoder, pieces, budget=budget)
    assert decoder.done
    return chunks_of(out), leftover, decoder


def error_of(wire: bytes | Sequence[bytes], codec: Chunked = STRICT) -> FramingError:
    pieces = [wire] if isinstance(wire, bytes) else wire
    with pytest.raises(FramingError) as info:
        decode_byte_pieces(codec.decoder(), pieces)
    return info.value


# -- valid bodies --------------------------------------------------------------------------


def test_codec_makes_objects_that_keep_the_byte_codec_protocols() -> None:
    assert isinstance(STRICT.decoder(), ByteDecoder)
    encoder: ByteEncoder = STRICT.encoder()
    assert encoder.feed(b"abc") == b"3\r\nabc\r\n"
    assert encoder.finish() == END


def test_decodes_chunks_in_order() -> None:
    chunks, leftover, _ = decode(HELLO + b"6\r\n world\r\n" + END)
    assert chunks == [b"hello", b" world"]
    assert leftover == b""


def test_empty_body_is_only_the_last_chunk() -> None:
    chunks, _, decoder = decode(END)
    assert chunks == []
    assert decoder.trailers == []


def test_uppercase_and_lowercase_hex_sizes() -> None:
    chunks, _, _ = decode(b"A\r\n0123456789\r\nb\r\nabcdefghijk\r\n" + END)
    assert chunks == [b"0123456789", b"abcdefghijk"]


def test_leading_zeros_in_sizes() -> None:
    chunks, _, _ = decode(b"0005\r\nhello\r\n000\r\n\r\n")
    assert chunks == [b"hello"]


def test_many_one_byte_chunks() -> None:
    body = bytes(range(256)) * 4
    wire = b"".join(b"1\r\n%c\r\n" % b for b in body) + END
    chunks, _, _ = decode(wire)
    assert chunks == [bytes([b]) for b in body]


def test_chunk_marks_fall_at_the_end_of_each_chunk() -> None:
    decoder = STRICT.decoder()
    out, _ = decode_byte_pieces(decoder, [HELLO + b"3\r\nabc\r\n1\r\nZ\r\n" + END])
    assert list(out.marks) == [5, 8, 9]


def test_chunk_marks_survive_any_budget() -> None:
    chunks, _, _ = decode(HELLO + b"a\r\n0123456789\r\n" + END, budget=3)
    assert chunks == [b"hello", b"0123456789"]


def test_extensions_are_accepted_and_dropped_by_default() -> None:
    wire = b'5;name=value;flag ; q = "a \\"b\\""\r\nhello\r\n0;last\r\n\r\n'
    chunks, _, decoder = decode(wire)
    assert chunks == [b"hello"]
    assert decoder.extensions == []


def test_keep_extensions_records_each_chunks_extensions_unquoted() -> None:
    wire = b'5;name=value;flag ; q = "a \\"b\\""\r\nhello\r\n1\r\nx\r\n0;last\r\n\r\n'
    _, _, decoder = decode(wire, Chunked(keep_extensions=True))
    assert decoder.extensions == [
        ((b"name", b"value"), (b"flag", None), (b"q", b'a "b"')),
        (),
        ((b"last", None),),
    ]


def test_trailers_are_kept_in_wire_order() -> None:
    wire = HELLO + b"0\r\nZ-Last: 1\r\nA-First:  two words \r\nz-last:\r\nEmpty:\t\r\n\r\n"
    _, _, decoder = decode(wire)
    assert decoder.trailers == [
        (b"Z-Last", b"1"),
        (b"A-First", b"two words"),
        (b"z-last", b""),
        (b"Empty", b""),
    ]


def test_pipelined_next_message_stays_in_the_source() -> None:
    following = b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n"
    wire = HELLO + b"0\r\nT: v\r\n\r\n" + following
    for cut in range(len(wire) + 1):
        chunks, leftover, _ = decode(split_at(wire, [cut]))
        assert (chunks, leftover) == ([b"hello"], following)


def test_done_decoder_consumes_nothing_more() -> None:
    decoder = STRICT.decoder()
    decode_byte_pieces(decoder, [END])
    assert decoder.decode(memoryview(b"5\r\nhello\r\n"), Buffer(), 100) == 0


def test_no_call_writes_more_than_its_budget() -> None:
    class RecordingSink:
        def __init__(self) -> None:
            self.writes: list[int] = []

        def write(self, data: bytes | bytearray | memoryview) -> None:
            self.writes.append(len(data))

        def mark_chunk_end(self) -> None:
            pass

        def write_marked(self, data: bytes, marks: list[int]) -> None:
            self.write(data)

    wire = HELLO + b"10\r\n" + b"x" * 16 + b"\r\n3\r\nabc\r\n" + END
    decoder = STRICT.decoder()
    sink = RecordingSink()
    view = memoryview(wire)
    calls = []
    while not decoder.done:
        sink.writes = []
        consumed = decoder.decode(view, sink, 3)
        view = view[consumed:]
        calls.append(sum(sink.writes))
        assert consumed or sink.writes, "a call made no progress on complete input"
    assert max(calls) <= 3
    assert sum(calls) == 5 + 16 + 3


def test_long_chunk_is_delivered_over_several_calls() -> None:
    decoder = STRICT.decoder()
    out = Buffer()
    wire = memoryview(b"64\r\n" + b"y" * 100 + b"\r\n" + END)
    consumed = decoder.decode(wire, out, 40)
    assert (consumed, out.produced) == (4 + 40, 40)
    assert out.next_chunk_end() is None


# -- request-smuggling shapes, rejected in strict mode -------------------------------------

REST = b"hello\r\n" + END
SMUGGLING = [
    # (case, bytes after HELLO, error family, offset of the error counted from there)
    ("0x prefix", b"0x5\r\n" + REST, MalformedError, 1),
    ("plus sign", b"+5\r\n" + REST, MalformedError, 0),
    ("minus sign", b"-5\r\n" + REST, MalformedError, 0),
    ("leading space", b" 5\r\n" + REST, MalformedError, 0),
    ("leading tab", b"\t5\r\n" + REST, MalformedError, 0),
    ("trailing space", b"5 \r\n" + REST, MalformedError, 1),
    ("trailing tab", b"5\t\r\n" + REST, MalformedError, 1),
    ("underscore", b"1_0\r\n" + REST, MalformedError, 1),
    ("empty size", b"\r\n" + REST, MalformedError, 0),
    ("fullwidth digit", "\N{FULLWIDTH DIGIT FIVE}".encode() + b"\r\n" + REST, MalformedError, 0),
    (
        "arabic-indic digit",
        "\N{ARABIC-INDIC DIGIT FIVE}".encode() + b"\r\n" + REST,
        MalformedError,
        0,
    ),
    ("2**64", b"%x\r\n" % 2**64 + REST, LimitExceededError, 0),
    ("2**64 + 5 (wraps to 5)", b"%x\r\n" % (2**64 + 5) + REST, LimitExceededError, 0),
    ("2**128", b"%x\r\n" % 2**128 + REST, LimitExceededError, 0),
    ("bare LF after size", b"5\n" + REST, MalformedError, 1),
    ("bare CR after size", b"5\rhello\r\n" + END, MalformedError, 1),
    ("bare CR inside extension", b"5;a\rb\r\n" + REST, MalformedError, 3),
    ("LF inside extension", b"5;ext\nhello\r\n" + END, MalformedError, 5),
    ("LF inside quoted extension", b'5;a="x\ny"\r\n' + REST, MalformedError, 6),
    ("extension without name", b"5;\r\n" + REST, MalformedError, 2),
    ("extension with CTL", b'5;a="\x01"\r\n' + REST, MalformedError, 5),
    ("bare LF after data", b"5\r\nhello\n" + END, MalformedError, 8),
    ("bare CR after data", b"5\r\nhello\r" + END, MalformedError, 8),
    ("nothing after data", b"5\r\nhello" + END, MalformedError, 8),
    ("data longer than size", b"4\r\nhello\r\n" + END, MalformedError, 7),
    ("junk after data", b"5\r\nhelloXY" + END, MalformedError, 8),
    ("bare LF ending last chunk", b"0\n\r\n", MalformedError, 1),
    ("bare LF ending a trailer", b"0\r\nA: b\n\r\n", MalformedError, 7),
    ("bare CR inside a trailer", b"0\r\nA: b\rc\r\n\r\n", MalformedError, 7),
    ("NUL inside a trailer", b"0\r\nA: b\x00c\r\n\r\n", MalformedError, 7),
    ("bare LF as final line", b"0\r\n\n", MalformedError, 3),
    ("bare CR as final line", b"0\r\n\r\r\n", MalformedError, 3),
    ("obs-fold in trailers", b"0\r\nA: b\r\n c\r\n\r\n", MalformedError, 9),
    ("space before colon", b"0\r\nA : b\r\n\r\n", MalformedError, 4),
    ("tab before colon", b"0\r\nA\t: b\r\n\r\n", MalformedError, 4),
    ("trailer without colon", b"0\r\nAbc\r\n\r\n", MalformedError, 6),
    ("trailer with empty name", b"0\r\n: b\r\n\r\n", MalformedError, 3),
]


@pytest.mark.parametrize(
    ("tail", "family", "offset"),
    [case[1:] for case in SMUGGLING],
    ids=[case[0] for case in SMUGGLING],
)
def test_strict_mode_rejects_smuggling_shape(
    tail: bytes, family: type[FramingError], offset: int
) -> None:
    wire = HELLO + tail
    error = error_of(wire)
    assert type(error) is family
    assert error.offset == len(HELLO) + offset
    # The same error, at the same offset, when the bytes arrive one at a time.
    error = error_of([wire[i : i + 1] for i in range(len(wire))])
    assert (type(error), error.offset) == (family, len(HELLO) + offset)


def test_size_over_the_limit_names_max_chunk_size() -> None:
    error = error_of(HELLO + b"%x\r\n" % 2**64 + REST)
    assert isinstance(error, LimitExceededError)
    assert error.limit == 2**63 - 1
    assert "max_chunk_size" in str(error)


def test_largest_allowed_size_is_accepted_as_a_size() -> None:
    decoder = STRICT.decoder()
    consumed = decoder.decode(memoryview(b"7fffffffffffffff\r\nab"), Buffer(), 100)
    assert consumed == 20


def test_malformed_error_is_raised_again_on_later_calls() -> None:
    decoder = STRICT.decoder()
    bad = memoryview(b"0x5\r\n")
    with pytest.raises(MalformedError) as first:
        decoder.decode(bad, Buffer(), 100)
    with pytest.raises(MalformedError) as second:
        decoder.decode(memoryview(b""), Buffer(), 100)
    assert second.value is first.value


def test_bad_input_after_progress_is_reported_on_the_next_call() -> None:
    decoder = STRICT.decoder()
    out = Buffer()
    wire = memoryview(HELLO + b"Z\r\n")
    assert decoder.decode(wire, out, 100) == len(HELLO)
    assert out.take_all() == b"hello"
    with pytest.raises(MalformedError) as info:
        decoder.decode(wire[len(HELLO) :], out, 100)
    assert info.value.offset == len(HELLO)


# -- truncation ----------------------------------------------------------------------------

BODY = b'5;a="b"\r\nhello\r\n1\r\nx\r\n0\r\nT: v\r\n\r\n'


@pytest.mark.parametrize("cut", range(len(BODY)))
def test_every_prefix_is_truncated_at_its_end(cut: int) -> None:
    error = error_of(BODY[:cut])
    assert type(error) is TruncatedError
    assert error.offset == cut


def test_every_prefix_fed_a_byte_at_a_time_is_truncated() -> None:
    for cut in range(len(BODY)):
        error = error_of([BODY[i : i + 1] for i in range(cut)])
        assert (type(error), error.offset) == (TruncatedError, cut)


# -- lenient mode --------------------------------------------------------------------------


def test_lenient_accepts_bare_lf_everywhere_it_may() -> None:
    chunks, leftover, decoder = decode(b"5\nhello\n3\r\nabc\n0\nT: v\n\nNEXT", LENIENT)
    assert chunks == [b"hello", b"abc"]
    assert decoder.trailers == [(b"T", b"v")]
    assert leftover == b"NEXT"


def test_lenient_accepts_whitespace_around_the_size() -> None:
    chunks, _, _ = decode(b" 5 \r\nhello\r\n\t3\t;e=1\r\nabc\r\n 0\t\r\n\r\n", LENIENT)
    assert chunks == [b"hello", b"abc"]


@pytest.mark.parametrize(
    ("line", "offset", "message"),
    [
        (b"5;a=b;c d", 8, "invalid chunk extension"),  # a second word after a name
        (b"5;a=b c", 6, "invalid chunk extension"),  # after a value
        (b'5;a="x\x01y"', 6, "invalid chunk extension"),  # a CTL in a quoted-string
        (b'5;a="x', 6, "cut short"),  # an unclosed quoted-string
        (b'5;a="\\\x01"', 6, "invalid chunk extension"),  # a CTL in a quoted-pair
        (b'5;a="x\\', 7, "cut short"),  # a quoted-pair cut by the end of the line
        (b"5;a=", 4, "cut short"),  # no value
        (b"5;a=@", 4, "invalid chunk extension"),  # not a token
        (b"5;a;", 4, "cut short"),  # no name
        (b"5;a ", 3, "invalid chunk extension"),  # whitespace before the end of the line
        (b"5 x", 1, "junk after the chunk size"),
    ],
)
def test_bad_chunk_extension_is_reported_at_the_byte_that_breaks_the_grammar(
    line: bytes, offset: int, message: str
) -> None:
    error = error_of(line + b"\r\nhello\r\n" + END)
    assert type(error) is MalformedError
    assert error.offset == offset and message in str(error)


DANGEROUS_EVEN_WHEN_LENIENT = [
    ("0x prefix", b"0x5\r\n" + REST, MalformedError, 1),
    ("plus sign", b"+5\r\n" + REST, MalformedError, 0),
    ("whitespace inside size", b"5 5\r\n" + REST, MalformedError, 1),
    ("non-hex size", b"5g\r\n" + REST, MalformedError, 1),
    ("fullwidth digit", "\N{FULLWIDTH DIGIT FIVE}".encode() + b"\r\n" + REST, MalformedError, 0),
    ("2**64", b"%x\r\n" % 2**64 + REST, LimitExceededError, 0),
    ("bare CR after size", b"5\rhello\r\n" + END, MalformedError, 1),
    ("bare CR after data", b"5\r\nhello\r" + END, MalformedError, 8),
    ("LF after extension", b"5;ext\nhello\r\n" + END, MalformedError, 5),
    ("bare CR in a trailer", b"0\r\nA: b\rc\n\n", MalformedError, 7),
    ("obs-fold in trailers", b"0\nA: b\n c\n\n", MalformedError, 7),
]


@pytest.mark.parametrize(
    ("tail", "family", "offset"),
    [case[1:] for case in DANGEROUS_EVEN_WHEN_LENIENT],
    ids=[case[0] for case in DANGEROUS_EVEN_WHEN_LENIENT],
)
def test_lenient_mode_still_rejects(tail: bytes, family: type[FramingError], offset: int) -> None:
    error = error_of(HELLO + tail, LENIENT)
    assert (type(error), error.offset) == (family, len(HELLO) + offset)


# -- limits --------------------------------------------------------------------------------


def test_size_line_up_to_max_line_length_is_accepted() -> None:
    codec = Chunked(max_line_length=10)
    chunks, _, _ = decode(b"5;" + b"e" * 8 + b"\r\nhello\r\n" + END, codec)
    assert chunks == [b"hello"]


@pytest.mark.parametrize("piece_size", [1, 7, 1000])
def test_size_line_over_max_line_length_is_refused(piece_size: int) -> None:
    wire = HELLO + b"5;" + b"e" * 9 + b"\r\nhello\r\n" + END
    error = error_of(
        [wire[i : i + piece_size] for i in range(0, len(wire), piece_size)],
        Chunked(max_line_length=10),
    )
    assert isinstance(error, LimitExceededError)
    assert (error.limit, error.offset) == (10, len(HELLO))
    assert "max_line_length" in str(error)


def test_endless_size_line_is_refused_before_its_end() -> None:
    error = error_of([HELLO, b"5" + b"0" * 5000], Chunked(max_line_length=100))
    assert isinstance(error, LimitExceededError)
    assert error.offset == len(HELLO)


def test_lenient_bare_lf_line_over_max_line_length_is_refused() -> None:
    error = error_of(
        b"5;" + b"e" * 9 + b"\nhello\r\n" + END, Chunked(max_line_length=10, lenient=True)
    )
    assert isinstance(error, LimitExceededError)


def test_chunk_size_over_max_chunk_size_is_refused() -> None:
    error = error_of(HELLO + b"65\r\n" + b"x" * 101 + b"\r\n" + END, Chunked(max_chunk_size=100))
    assert isinstance(error, LimitExceededError)
    assert (error.limit, error.offset) == (100, len(HELLO))


def test_trailer_count_over_max_trailers_is_refused() -> None:
    codec = Chunked(max_trailers=2)
    _, _, decoder = decode(b"0\r\nA: 1\r\nB: 2\r\n\r\n", codec)
    assert len(decoder.trailers) == 2
    error = error_of(b"0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", codec)
    assert isinstance(error, LimitExceededError)
    assert (error.limit, error.offset) == (2, 3 + 6 + 6)
    assert "max_trailers" in str(error)


def test_trailer_section_over_max_trailer_size_is_refused() -> None:
    codec = Chunked(max_trailer_size=20)
    decode(b"0\r\nA: 0123456789abc\r\n\r\n", codec)  # 18 + 2 bytes: fits
    error = error_of(b"0\r\nA: 0123456789abcd\r\n\r\n", codec)
    assert isinstance(error, LimitExceededError)
    assert (error.limit, error.offset) == (20, 3 + 19)
    error = error_of(b"0\r\nA: " + b"v" * 100, codec)
    assert isinstance(error, LimitExceededError)
    assert (error.limit, error.offset) == (20, 3)
    assert "max_trailer_size" in str(error)


def test_trailer_line_up_to_max_trailer_line_length_is_accepted() -> None:
    codec = Chunked(max_trailer_line_length=10)
    _, _, decoder = decode(b"0\r\nA: 0123456\r\n\r\n", codec)  # 10 bytes before the CRLF
    assert decoder.trailers == [(b"A", b"0123456")]


@pytest.mark.parametrize("piece_size", [1, 7, 1000])
def test_trailer_line_over_max_trailer_line_length_is_refused(piece_size: int) -> None:
    wire = HELLO + b"0\r\nA: 1\r\nB: 01234567\r\n\r\n"
    error = error_of(
        [wire[i : i + piece_size] for i in range(0, len(wire), piece_size)],
        Chunked(max_trailer_line_length=10),
    )
    assert isinstance(error, LimitExceededError)
    assert (error.limit, error.offset) == (10, len(HELLO) + 3 + 6)
    assert "max_trailer_line_length" in str(error)


def test_default_max_trailer_line_length_refuses_a_16_kib_trailer_line() -> None:
    assert STRICT.max_trailer_line_length == 8190
    wire = HELLO + b"0\r\nA: " + b"v" * (16 * 1024) + b"\r\n\r\n"
    error = error_of(wire)
    assert isinstance(error, LimitExceededError)
    assert (error.limit, error.offset) == (8190, len(HELLO) + 3)
    assert "max_trailer_line_length" in str(error)


def test_endless_trailer_line_is_refused_before_its_end() -> None:
    error = error_of([HELLO, b"0\r\nA: ", b"v" * 5000], Chunked(max_trailer_line_length=100))
    assert isinstance(error, LimitExceededError)
    assert error.offset == len(HELLO) + 3


def test_lenient_bare_lf_trailer_line_over_max_trailer_line_length_is_refused() -> None:
    codec = Chunked(max_trailer_line_length=10, lenient=True)
    _, _, decoder = decode(b"0\nA: 0123456\n\n", codec)
    assert decoder.trailers == [(b"A", b"0123456")]
    error = error_of(b"0\nA: 01234567\n\n", codec)
    assert isinstance(error, LimitExceededError)
    assert (error.limit, error.offset) == (10, 2)
    assert "max_trailer_line_length" in str(error)


def test_a_line_over_the_trailer_sections_room_names_max_trailer_size() -> None:
    # The section's room left (20 - 8) is smaller than the line limit: the section is named.
    codec = Chunked(max_trailer_size=20, max_trailer_line_length=15)
    error = error_of(b"0\r\nA: 123\r\nB: 0123456789\r\n\r\n", codec)
    assert isinstance(error, LimitExceededError)
    assert (error.limit, error.offset) == (20, 3 + 8)
    assert "max_trailer_size" in str(error)


def test_many_tiny_chunks_with_long_extensions_pass_max_overhead() -> None:
    # Each chunk adds len("1;" + 100 * "e" + "\r\n") + 2 - 16 - 2 * 1 = 88 bytes of excess:
    # the 187th chunk takes it over 16 KiB.
    one = b"1;" + b"e" * 100 + b"\r\nx\r\n"
    error = error_of(one * 200 + END)
    assert isinstance(error, LimitExceededError)
    assert (error.limit, error.offset) == (16 * 1024, 186 * len(one))
    assert "max_overhead" in str(error)


def test_data_pays_for_extensions_under_max_overhead() -> None:
    one = b"40;" + b"e" * 100 + b"\r\n" + b"x" * 64 + b"\r\n"
    chunks, _, _ = decode(one * 1000 + END)
    assert len(chunks) == 1000


def test_tiny_chunks_without_extensions_never_pass_max_overhead() -> None:
    chunks, _, _ = decode(b"1\r\nx\r\n" * 20000 + END)
    assert len(chunks) == 20000


@pytest.mark.parametrize(
    "options",
    [
        {"max_line_length": 0},
        {"max_chunk_size": 0},
        {"max_trailers": -1},
        {"max_trailer_size": 1},
        {"max_trailer_line_length": 0},
        {"max_trailer_line_length": True},
        {"max_overhead": -1},
        {"max_line_length": 1.5},
        {"max_trailers": True},
    ],
)
def test_invalid_options_fail_at_construction_naming_the_option(options: dict[str, object]) -> None:
    (name,) = options
    with pytest.raises(ValueError, match=name):
        Chunked(**options)  # type: ignore[arg-type]


def test_options_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        Chunked(100)  # type: ignore[misc]


# -- encoder -------------------------------------------------------------------------------


def test_encoder_writes_nothing_for_empty_data() -> None:
    assert STRICT.encoder().feed(b"") == b""


def test_encoder_writes_extensions_and_trailers() -> None:
    encoder = STRICT.encoder()
    assert encoder.feed(b"hello", extensions=[(b"a", b"1"), (b"b", None), (b"c", b'x "y"')]) == (
        b'5;a=1;b;c="x \\"y\\""\r\nhello\r\n'
    )
    assert encoder.finish([(b"T", b"v w")], extensions=[(b"z", b"")]) == (
        b'0;z=""\r\nT: v w\r\n\r\n'
    )


@pytest.mark.parametrize(
    "extension",
    [(b"bad name", None), (b"", None), (b"a", b"\x00"), (b"a", b"line\r\nbreak")],
)
def test_encoder_refuses_bad_extensions(extension: Extension) -> None:
    with pytest.raises(ValueError, match="extension"):
        STRICT.encoder().feed(b"x", extensions=[extension])


@pytest.mark.parametrize(
    "trailer",
    [
        (b"Bad Name", b"v"),
        (b"", b"v"),
        (b"A:", b"v"),
        (b"A", b"x\r\nInjected: 1"),
        (b"A", b" padded"),
        (b"A", b"padded\t"),
        (b"A", b"nul\x00"),
    ],
)
def test_encoder_refuses_bad_trailers(trailer: tuple[bytes, bytes]) -> None:
    with pytest.raises(ValueError, match="trailer"):
        STRICT.encoder().finish([trailer])


def test_encoder_refuses_use_after_finish() -> None:
    encoder = STRICT.encoder()
    encoder.finish()
    with pytest.raises(RuntimeError):
        encoder.feed(b"x")
    with pytest.raises(RuntimeError):
        encoder.finish()


# -- properties ----------------------------------------------------------------------------

TCHARS = b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
tokens = st.binary(min_size=1, max_size=6).map(lambda b: bytes(TCHARS[c % len(TCHARS)] for c in b))
quotable = st.binary(max_size=8).map(
    lambda b: bytes(c if c == 9 or 0x20 <= c <= 0x7E or c >= 0x80 else 0x20 for c in b)
)
ext_values = st.one_of(st.none(), tokens, quotable)
extension_lists = st.lists(st.tuples(tokens, ext_values), max_size=3)
field_values = quotable.map(lambda v: v.strip(b" \t"))
trailer_lists = st.lists(st.tuples(tokens, field_values), max_size=3)
chunk_lists = st.lists(st.tuples(st.binary(min_size=1, max_size=40), extension_lists), max_size=6)


def encode(
    chunks: list[tuple[bytes, list[Extension]]],
    trailers: list[tuple[bytes, bytes]],
    last_extensions: list[Extension],
) -> bytes:
    encoder = STRICT.encoder()
    parts = [encoder.feed(data, extensions=ext) for data, ext in chunks]
    return b"".join(parts) + encoder.finish(trailers, extensions=last_extensions)


def outcome(pieces: list[bytes], codec: Chunked, budget: int) -> tuple[object, ...]:
    decoder = codec.decoder()
    try:
        out, leftover = decode_byte_pieces(decoder, pieces, budget=budget)
    except FramingError as error:
        return ("error", type(error), error.offset)
    return (chunks_of(out), leftover, decoder.trailers, decoder.extensions)


@settings(max_examples=150, deadline=None)
@given(
    chunks=chunk_lists,
    trailers=trailer_lists,
    last_extensions=extension_lists,
    data=st.data(),
)
def test_decode_of_encode_gives_back_chunks_extensions_and_trailers(
    chunks: list[tuple[bytes, list[Extension]]],
    trailers: list[tuple[bytes, bytes]],
    last_extensions: list[Extension],
    data: st.DataObject,
) -> None:
    wire = encode(chunks, trailers, last_extensions) + b"NEXT"
    cuts = data.draw(st.lists(st.integers(0, len(wire)), max_size=8))
    budget = data.draw(st.integers(1, 50))
    got, leftover, decoder = decode(
        split_at(wire, cuts), Chunked(keep_extensions=True), budget=budget
    )
    assert got == [data for data, _ in chunks]
    assert leftover == b"NEXT"
    assert decoder.trailers == trailers
    assert decoder.extensions == [tuple(ext) for _, ext in chunks] + [tuple(last_extensions)]


@st.composite
def corrupted(draw: st.DrawFn) -> bytes:
    wire = encode(draw(chunk_lists), draw(trailer_lists), draw(extension_lists)) + b"NEXT"
    for _ in range(draw(st.integers(0, 2))):
        at = draw(st.integers(0, len(wire)))
        junk = draw(st.sampled_from([b"", b"\r", b"\n", b" ", b"0", b"x", b";", b":", b"\r\n"]))
        cut = draw(st.integers(0, 2))
        wire = wire[:at] + junk + wire[at + cut :]
    return wire


@settings(max_examples=200, deadline=None)
@given(
    wire=corrupted(),
    codec=st.sampled_from(
        [
            STRICT,
            LENIENT,
            Chunked(max_line_length=8, max_trailer_size=30),
            Chunked(max_trailer_line_length=8, max_trailers=1),
            Chunked(max_trailer_line_length=8, max_trailers=1, lenient=True),
        ]
    ),
    data=st.data(),
)
def test_any_split_gives_the_same_result_or_the_same_error(
    wire: bytes, codec: Chunked, data: st.DataObject
) -> None:
    cuts = data.draw(st.lists(st.integers(0, len(wire)), max_size=10))
    budget = data.draw(st.integers(1, 64))
    assert outcome(split_at(wire, cuts), codec, budget) == outcome([wire], codec, 64 * 1024)


@settings(max_examples=150, deadline=None)
@given(
    length=st.integers(3, 40),
    limit=st.integers(4, 40),
    lenient=st.booleans(),
    data=st.data(),
)
def test_max_trailer_line_length_holds_for_any_split(
    length: int, limit: int, lenient: bool, data: st.DataObject
) -> None:
    eol = b"\n" if lenient else b"\r\n"
    line = b"A: " + b"v" * (length - 3)
    wire = HELLO + b"0" + eol + b"B: 1" + eol + line + eol + eol + b"NEXT"
    cuts = data.draw(st.lists(st.integers(0, len(wire)), max_size=10))
    codec = Chunked(max_trailer_line_length=limit, lenient=lenient)
    got = outcome(split_at(wire, cuts), codec, data.draw(st.integers(1, 64)))
    if length <= limit:
        assert got == ([b"hello"], b"NEXT", [(b"B", b"1"), (b"A", line[3:])], [])
    else:
        assert got == ("error", LimitExceededError, len(HELLO) + 2 * len(eol) + 5)
