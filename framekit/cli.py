"""The ``framekit`` command: decode a capture through a stack of codecs named on the line.

``framekit decode -s chunked,gzip,lines capture.bin`` reads the file (or stdin, ``-``, a pipe)
in pieces, runs the byte codecs in order and the frame codec last, and writes one JSON line
per frame to stdout::

    {"offset": 0, "length": 63, "type": "bytes", "value": "{\\"id\\": 1, ...}"}

``offset`` and ``length`` are the frame's place in the stream the frame codec reads (the
decoded bytes, or the input itself when the stack has no byte codec); ``value`` is the frame,
as text when it is UTF-8 and as hex (``"encoding": "hex"``) when not; a frame longer than
``--preview`` bytes gives a ``preview`` of its first bytes and its ``size``. A stack of byte
codecs alone writes a line per decoded piece, or with ``--raw`` the decoded bytes themselves.
A message codec (``http-response``, ``http-request``: see :mod:`framekit._cli_http`) writes a
line per head, per piece of its decoded body and per body's end, or the decoded bodies.

On bad input the command writes the error (its family, the rule, the offset, the codec that
found it and a hexdump of the bytes around the offset) to stderr, and a JSON line with the
same facts to stdout, and exits 1; usage errors exit 2. Memory stays bounded whatever the
input's size: each stage holds a piece or two, and only the last 64 KiB of each stream are
kept, for the hexdump. On a terminal, stderr shows progress (a bar with the ``cli`` extra's
tqdm, plain lines without it).
"""

from __future__ import annotations

import argparse
import codecs as text_codecs
import collections
import contextlib
import io
import json
import math
import os
import stat
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any, TextIO

import attrs

from framekit._cli_codecs import (
    CODECS,
    CodecEntry,
    Option,
    StackError,
    StackItem,
    build,
    describe_stack,
    parse_size,
    parse_stack,
)
from framekit._cli_http import BodyFailure, MessageStream, RequestStream, ResponseStream
from framekit._version import DISTRIBUTION, __version__
from framekit.errors import (
    EndOfStream,
    FramingError,
    LimitExceededError,
    MalformedError,
    TruncatedError,
    UnsupportedEncodingError,
)
from framekit.samples import SAMPLES
from framekit.sync import DEFAULT_READ_SIZE, SyncReader, _piece_reader, iter_decoded

__all__ = ["main"]

_FAMILIES = (LimitExceededError, MalformedError, TruncatedError, UnsupportedEncodingError)

#: Exit statuses: bad input, and a command line the command cannot use (argparse's).
EXIT_BAD_INPUT = 1
EXIT_USAGE = 2
#: Bytes of each stream kept for the hexdump of an error (the last ones read).
WINDOW = 64 * 1024
#: Bytes shown before and after the offset of an error.
HEXDUMP_CONTEXT = 48
#: The default --preview: longer values are cut to this many bytes.
DEFAULT_PREVIEW = 256


# -- what was read, for the hexdump -------------------------------------------------------------


class Window:
    """The last ``size`` bytes (at least the last piece) of a stream, and how many it has had."""

    def __init__(self, size: int = WINDOW) -> None:
        self._size = size
        self._pieces: collections.deque[bytes] = collections.deque()
        self._held = 0
        self.end = 0  # the stream's bytes so far

    def add(self, piece: bytes) -> None:
        self._pieces.append(piece)
        self._held += len(piece)
        self.end += len(piece)
        while self._held - len(self._pieces[0]) >= self._size:
            self._held -= len(self._pieces.popleft())

    @property
    def start(self) -> int:
        """The offset of the first byte still held."""
        return self.end - self._held

    @classmethod
    def of(cls, start: int, data: bytes) -> Window:
        """A window holding ``data``, the bytes of a stream from offset ``start`` on."""
        window = cls(max(len(data), 1))
        window.end = start
        window.add(data)
        return window

    def get(self, start: int, stop: int) -> bytes:
        """The bytes from ``start`` to ``stop`` that are still held."""
        start = max(start, self.start)
        data = b"".join(self._pieces)
        return data[start - self.start : max(start, stop) - self.start]


class _Source:
    """A binary file read with ``readinto``, its bytes counted, kept in a window and shown
    in the progress display."""

    def __init__(self, file: IO[bytes], window: Window, progress: Progress) -> None:
        self._readinto = getattr(file, "readinto1", None) or file.readinto  # type: ignore[attr-defined]
        self._window = window
        self._progress = progress

    def readinto(self, buffer: Any) -> int:
        n: int = self._readinto(buffer)
        if n:
            self._window.add(bytes(memoryview(buffer)[:n]))
            self._progress.update(n)
        return n


class _Recorded(Iterator[bytes]):
    """A stage's output pieces, kept in a window; the first to see a codec error claims it."""

    def __init__(self, pieces: Iterator[bytes], window: Window, claim: Callable[[Any], None]):
        self._pieces = pieces
        self._window = window
        self._claim = claim

    def __iter__(self) -> _Recorded:
        return self

    def __next__(self) -> bytes:
        try:
            piece = next(self._pieces)
        except FramingError as error:
            self._claim(error)
            raise
        self._window.add(piece)
        return piece


def hexdump(window: Window, offset: int, context: int = HEXDUMP_CONTEXT) -> list[str]:
    """Lines of hex and ASCII of the bytes around ``offset`` (16 a line, offsets on the
    left), the byte at ``offset`` marked below its line; what the window no longer holds is
    said instead."""
    first = max(window.start, (offset - context) // 16 * 16)
    last = min(window.end, offset + context + 1)
    data = window.get(first, last)
    if not data:
        return [f"(no bytes around offset {offset}: bytes {window.start} to {window.end} are held)"]
    lines = []
    line_start = first - first % 16
    while line_start < first + len(data):
        cells = []
        text = []
        for position in range(line_start, line_start + 16):
            if first <= position < first + len(data):
                byte = data[position - first]
                cells.append(f"{byte:02x}")
                text.append(chr(byte) if 0x20 <= byte < 0x7F else ".")
            else:
                cells.append("  ")
                text.append(" ")
        hex_part = " ".join(cells[:8]) + "  " + " ".join(cells[8:])
        lines.append(f"{line_start:08x}  {hex_part}  |{''.join(text)}|")
        if line_start <= offset < line_start + 16:
            column = (offset - line_start) * 3 + (1 if offset - line_start >= 8 else 0)
            lines.append(" " * (10 + column) + "^^ offset " + str(offset))
        line_start += 16
    return lines


# -- progress -----------------------------------------------------------------------------------


class Progress:
    """Shows how much of the input was read. This one shows nothing."""

    def update(self, n: int) -> None:
        """``n`` more bytes were read."""

    def close(self) -> None:
        """The input is done."""


class PlainProgress(Progress):
    """A line on stderr at most every ``interval`` seconds, and one at the end."""

    def __init__(self, label: str, total: int | None, stream: TextIO, interval: float = 1.0):
        self._label = label
        self._total = total
        self._stream = stream
        self._interval = interval
        self._read = 0
        self._started = self._shown = time.monotonic()

    def update(self, n: int) -> None:
        self._read += n
        now = time.monotonic()
        if now - self._shown >= self._interval:
            self._shown = now
            self._show(now)

    def _show(self, now: float) -> None:
        elapsed = max(now - self._started, 1e-9)
        text = f"framekit: {self._label}: {_fmt_bytes(self._read)}"
        if self._total:
            text += f" of {_fmt_bytes(self._total)} ({100 * self._read / self._total:.0f}%)"
        text += f", {_fmt_bytes(self._read / elapsed)}/s"
        print(text, file=self._stream, flush=True)

    def close(self) -> None:
        self._show(time.monotonic())


class BarProgress(Progress):
    """A tqdm bar on stderr (the ``cli`` extra)."""

    def __init__(self, label: str, total: int | None, stream: TextIO) -> None:
        from tqdm import tqdm  # type: ignore[import-untyped, import-not-found, unused-ignore]

        try:
            size = os.get_terminal_size(stream.fileno())
            known = size.columns > 0 and size.lines > 0
        except (OSError, ValueError, AttributeError):
            known = False
        # A terminal that says it has no size (a bare pseudo-terminal) gets 80 x 24: tqdm
        # would draw nothing on a screen of 0 lines.
        self._bar = tqdm(
            total=total,
            desc=label,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            file=stream,
            ncols=None if known else 80,
            nrows=None if known else 24,
            dynamic_ncols=known,
        )

    def update(self, n: int) -> None:
        self._bar.update(n)

    def close(self) -> None:
        self._bar.close()


def _fmt_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def _have_tqdm() -> bool:
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return True


def make_progress(mode: str, label: str, total: int | None, stream: TextIO) -> Progress:
    """The progress display ``mode`` asks for: ``auto`` is a bar (or plain lines without
    tqdm) when ``stream`` is a terminal, and nothing otherwise."""
    if mode == "auto":
        if not stream.isatty():
            return Progress()
        mode = "bar" if _have_tqdm() else "plain"
    if mode == "bar" and _have_tqdm():
        return BarProgress(label, total, stream)
    if mode in ("bar", "plain"):
        return PlainProgress(label, total, stream)
    return Progress()


# -- frames as JSON -----------------------------------------------------------------------------


def _text_or_hex(data: bytes, complete: bool) -> tuple[str, bool]:
    """``data`` as text (True) when it is UTF-8, else as hex (False). A cut ``data`` (not
    ``complete``) may end inside a character."""
    try:
        decoder = text_codecs.getincrementaldecoder("utf-8")()
        return decoder.decode(data, final=complete), True
    except UnicodeDecodeError:
        return data.hex(), False


def _jsonable(value: Any) -> object:
    """A frame (or a part of one) as JSON: bytes as text (or ``{"hex": ...}`` when not UTF-8),
    sequences and sets as lists, a mapping as an object when its keys are text (else a list
    of pairs), an attrs instance (a RESP ``Verbatim``, ``Attributed``, ...) as an object of
    its class and fields, an exception (a RESP ``ReplyError``) as its message, and infinite
    or NaN floats as strings."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        text, is_text = _text_or_hex(bytes(value), True)
        return text if is_text else {"hex": text}
    if isinstance(value, BaseException):
        return {type(value).__name__: str(value)}
    if isinstance(value, dict):
        items = [(_jsonable(k), _jsonable(v)) for k, v in value.items()]
        if all(isinstance(k, str) for k, _ in items):
            return dict(items)
        return [[k, v] for k, v in items]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(item) for item in value]
    if attrs.has(type(value)):
        fields = attrs.asdict(value, recurse=False)
        return {type(value).__name__: {k: _jsonable(v) for k, v in fields.items()}}
    return repr(value)


def describe(frame: Any, preview: int) -> dict[str, object]:
    """The JSON fields of one frame: ``type``, then ``value`` (or ``preview`` and ``size``
    when it is longer than ``preview`` bytes or characters), and ``encoding: hex`` for bytes
    that are not UTF-8."""
    fields: dict[str, object] = {"type": type(frame).__name__}
    if isinstance(frame, (bytes, bytearray, memoryview)):
        data = bytes(frame)
        complete = len(data) <= preview
        text, is_text = _text_or_hex(data if complete else data[:preview], complete)
        fields["value" if complete else "preview"] = text
        if not complete:
            fields["size"] = len(data)
        if not is_text:
            fields["encoding"] = "hex"
    elif isinstance(frame, str):
        complete = len(frame) <= preview
        fields["value" if complete else "preview"] = frame if complete else frame[:preview]
        if not complete:
            fields["size"] = len(frame)
    else:
        value = _jsonable(frame)
        if attrs.has(type(frame)) or isinstance(frame, BaseException):
            value = value[fields["type"]]  # type: ignore[index]  # the type is said above
        fields["value"] = value
    return fields


# -- the decoding -------------------------------------------------------------------------------


class Decoding:
    """One input through one stack: the streams' windows, and which codec failed."""

    def __init__(
        self,
        items: Sequence[StackItem],
        codecs: Sequence[Any],
        file: IO[bytes],
        progress: Progress,
        read_size: int,
        budget: int,
    ) -> None:
        self.items = items
        # Stream 0 is the input; stream i + 1 the output of byte codec i.
        self.windows = [Window()]
        self.failed_stage: int | None = None  # the index in items of the codec that failed
        self._failure: object = None
        source: Any = _Source(file, self.windows[0], progress)
        byte_count = sum(item.entry.kind == "bytes" for item in items)
        for index in range(byte_count):
            window = Window()
            self.windows.append(window)
            decoded = iter_decoded(source, codecs[index], read_size=read_size, budget=budget)
            source = _Recorded(decoded, window, self._claimer(index))
        self.top = source
        self.frame_codec = codecs[byte_count] if byte_count < len(items) else None

    def _claimer(self, index: int) -> Callable[[Any], None]:
        def claim(error: object) -> None:
            if self._failure is not error:
                self._failure = error
                self.failed_stage = index

        return claim

    def stage_of(self, error: FramingError) -> int:
        """The index of the codec that raised ``error`` (the frame codec if no byte codec
        claimed it)."""
        if self._failure is error and self.failed_stage is not None:
            return self.failed_stage
        return len(self.items) - 1


def _size_of(file: IO[bytes]) -> int | None:
    """The size of ``file`` when it is a regular file (not a pipe or a terminal)."""
    try:
        info = os.fstat(file.fileno())
    except (OSError, ValueError):
        return None
    return info.st_size if stat.S_ISREG(info.st_mode) else None


class _Output:
    """Where records and raw bytes go."""

    def __init__(self, stream: IO[bytes], label: str | None) -> None:
        self._stream = stream
        self._label = label

    def record(self, fields: dict[str, object]) -> None:
        if self._label is not None:
            fields = {"input": self._label, **fields}
        self._stream.write(json.dumps(fields, ensure_ascii=False).encode() + b"\n")

    def raw(self, data: bytes) -> None:
        self._stream.write(data)


def _report_error(
    error: FramingError,
    decoding: Decoding,
    label: str,
    out: _Output,
    as_json: bool,
    failure: BodyFailure | None = None,
) -> None:
    stage = decoding.stage_of(error)
    item = decoding.items[stage]
    window = decoding.windows[min(stage, len(decoding.windows) - 1)]
    if stage == 0:
        stream_name = "the input"
    else:
        stream_name = f"the output of {decoding.items[stage - 1].entry.name}"
    reader_name = item.entry.name
    if failure is not None and stage == len(decoding.items) - 1:
        # A layer of a message's body: the framing layer reads the input, the layers of the
        # codings the output of the layer under them.
        reader_name = f"{failure.codec} in {item.entry.name}"
        if failure.stream is not None:
            stream_name = failure.stream
            window = Window.of(failure.start, failure.held)
    family = next((cls.__name__ for cls in _FAMILIES if isinstance(error, cls)), "FramingError")
    lines = [
        f"framekit: {label}: {type(error).__name__} in {reader_name} "
        f"(codec {stage + 1} of {describe_stack(decoding.items)})",
        f"  rule: {getattr(error, 'message', str(error))}",
    ]
    if error.offset is not None:
        lines.append(f"  offset: {error.offset} in {stream_name} (the input of {reader_name})")
        lines.append("  bytes around it:")
        lines += ["    " + line for line in hexdump(window, error.offset)]
    else:
        lines.append("  offset: not known")
    print("\n".join(lines), file=sys.stderr, flush=True)
    if as_json:
        fields: dict[str, object] = {
            "error": type(error).__name__,
            "family": family,
            "rule": getattr(error, "message", str(error)),
            "offset": error.offset,
            "codec": item.entry.name,
            "stream": stream_name,
        }
        if failure is not None and stage == len(decoding.items) - 1:
            fields["body_codec"] = failure.codec
        out.record(fields)


def decode_one(
    items: Sequence[StackItem],
    codecs: Sequence[Any],
    file: IO[bytes],
    label: str,
    out: _Output,
    args: argparse.Namespace,
    progress: Progress,
) -> int:
    """Decode one input; the exit status (0, or EXIT_BAD_INPUT)."""
    describe_frame = items[-1].entry.describe or describe
    decoding = Decoding(items, codecs, file, progress, args.read_size, args.budget)
    as_json = args.output == "jsonl"
    if items[-1].entry.kind == "messages":
        return _decode_messages(decoding, label, out, args)
    status = 0
    try:
        if decoding.frame_codec is None:
            offset = 0
            for piece in decoding.top:
                if as_json:
                    out.record(
                        {
                            "offset": offset,
                            "length": len(piece),
                            **describe_frame(piece, args.preview),
                        }
                    )
                else:
                    out.raw(piece)
                offset += len(piece)
            return 0
        reader = SyncReader(decoding.top, read_size=args.read_size)
        frames = reader.frames(decoding.frame_codec)
        while True:
            start = reader.position
            try:
                frame = frames.read()
            except EndOfStream:  # not TruncatedError, an EOFError too: that is bad input
                return status
            except LimitExceededError as error:
                # A frame over its limit is skipped whole; --keep-going reads on after it.
                if not args.keep_going or decoding.stage_of(error) != len(items) - 1:
                    raise
                _report_error(error, decoding, label, out, as_json)
                status = EXIT_BAD_INPUT
                continue
            if as_json:
                length = reader.position - start
                out.record(
                    {"offset": start, "length": length, **describe_frame(frame, args.preview)}
                )
            else:
                data = frame.encode() if isinstance(frame, str) else bytes(frame)
                out.raw(data + b"\n")
    except FramingError as error:
        _report_error(error, decoding, label, out, as_json)
        return EXIT_BAD_INPUT


def _decode_messages(decoding: Decoding, label: str, out: _Output, args: argparse.Namespace) -> int:
    """Decode one input's HTTP messages (``http-response``, ``http-request``): a record for
    each head, each piece of its decoded body, and its end; with --raw the decoded bodies."""
    options = decoding.frame_codec
    assert isinstance(options, (ResponseStream, RequestStream))
    messages = MessageStream(
        options,
        _piece_reader(decoding.top, args.read_size),
        read_size=args.read_size,
        budget=args.budget,
        codec_names={entry.factory: name for name, entry in CODECS.items()},
    )
    try:
        messages.run(
            out.record if args.output == "jsonl" else None,
            out.raw,
            lambda piece: describe(piece, args.preview),
        )
    except FramingError as error:
        _report_error(error, decoding, label, out, args.output == "jsonl", messages.failure)
        return EXIT_BAD_INPUT
    return 0


# -- the command line ---------------------------------------------------------------------------


def _flag_dest(entry: CodecEntry, option: Option) -> str:
    return f"codec:{entry.name}:{option.name}"


def _add_codec_flags(parser: argparse.ArgumentParser) -> None:
    for entry in CODECS.values():
        group = parser.add_argument_group(f"{entry.name} ({entry.summary})")
        for option in entry.options():
            flag = f"--{entry.name}-{option.flag_name}"
            default = "required" if option.default is NOTHING_DEFAULT else option.default
            if isinstance(default, tuple):
                default = "|".join(text_codecs.escape_encode(part)[0].decode() for part in default)
            if option.is_bool:
                group.add_argument(
                    flag,
                    dest=_flag_dest(entry, option),
                    action=argparse.BooleanOptionalAction,
                    default=None,
                    help=f"(default: {'yes' if default else 'no'})",
                )
            else:
                group.add_argument(
                    flag,
                    dest=_flag_dest(entry, option),
                    type=_argparse_type(option),
                    default=None,
                    metavar=option.metavar,
                    help=f"(default: {default})",
                )


def _argparse_type(option: Option) -> Callable[[str], object]:
    def convert(text: str) -> object:
        try:
            return option.parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = option.name  # argparse names it in its message
    return convert


def _flags_of(entry: CodecEntry, args: argparse.Namespace) -> dict[str, object]:
    flags = {}
    for option in entry.options():
        value = getattr(args, _flag_dest(entry, option))
        if value is not None:
            flags[option.name] = value
    return flags


NOTHING_DEFAULT: object = attrs.NOTHING


def _positive_size(text: str) -> int:
    try:
        value = parse_size(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def make_parser() -> argparse.ArgumentParser:
    """The command's argument parser (``framekit --help``)."""
    parser = argparse.ArgumentParser(
        prog="framekit",
        description="Decode captures with framekit's codecs, from files, stdin or pipes.",
        epilog=f"framekit {__version__} (installed as {DISTRIBUTION}). "
        "'framekit decode --help' lists the codecs and their options.",
    )
    parser.add_argument("--version", action="version", version=f"framekit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    decode = commands.add_parser(
        "decode",
        help="decode inputs through a stack of codecs",
        usage="framekit decode [-s STACK | --sample NAME] [options] [INPUT ...]",
        description="Decode each INPUT (a file, or - for stdin; stdin when none is given) "
        "through STACK: byte codecs in order, then at most one frame codec (or message "
        "codec: http-response, http-request), as 'chunked,gzip,lines' or 'lines:crlf' or "
        "'length-prefixed:4'. A codec's options go "
        "after colons ('lines:crlf:max-length=1000', 'chunked:lenient=yes') or in the flags "
        "below, which apply to each use of the codec. Writes a JSON line per frame (or per "
        "decoded piece of a byte stack) to stdout, or with --raw the decoded bytes. On bad "
        "input: the rule, the offset and a hexdump on stderr, an error JSON line, exit 1.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="codecs:\n"
        + "\n".join(
            f"  {entry.name:16} {entry.kind:8} {entry.summary}"
            + (f" (NAME:VALUE sets {entry.argument.replace('_', '-')})" if entry.argument else "")
            for entry in CODECS.values()
        )
        + "\n\nsamples (--sample NAME):\n"
        + "\n".join(f"  {s.name:18} {s.stack}" for s in SAMPLES.values()),
    )
    decode.add_argument("inputs", nargs="*", metavar="INPUT", help="a file, or - for stdin")
    decode.add_argument("-s", "--stack", help="the codecs, comma-separated (see below)")
    decode.add_argument(
        "--sample",
        choices=sorted(SAMPLES),
        metavar="NAME",
        help="decode a sample shipped with framekit (its own stack unless --stack is given): "
        + ", ".join(SAMPLES),
    )
    decode.add_argument(
        "-o",
        "--output",
        choices=["jsonl", "raw"],
        default="jsonl",
        help="JSON lines (the default), or raw decoded bytes (a frame stack: each frame "
        "and a newline)",
    )
    decode.add_argument(
        "--raw", dest="output", action="store_const", const="raw", help="the same as -o raw"
    )
    decode.add_argument(
        "--preview",
        type=_positive_size,
        default=DEFAULT_PREVIEW,
        metavar="N",
        help=f"values longer than N bytes are previewed (default {DEFAULT_PREVIEW})",
    )
    decode.add_argument(
        "--keep-going",
        action="store_true",
        help="after a frame over its limit (reported, skipped), read on; exit 1 at the end",
    )
    decode.add_argument(
        "--read-size",
        type=_positive_size,
        default=DEFAULT_READ_SIZE,
        metavar="N",
        help=f"read the input in pieces of at most N bytes (default {DEFAULT_READ_SIZE})",
    )
    decode.add_argument(
        "--budget",
        type=_positive_size,
        default=DEFAULT_READ_SIZE,
        metavar="N",
        help="each byte codec writes at most N bytes a step: the memory bound per stage "
        f"(default {DEFAULT_READ_SIZE})",
    )
    decode.add_argument(
        "--progress",
        choices=["auto", "bar", "plain", "none"],
        default="auto",
        help="progress on stderr: auto (on a terminal: a bar with tqdm, the cli extra, or "
        "plain lines), bar, plain, none",
    )
    _add_codec_flags(decode)

    commands.add_parser("codecs", help="list the codecs and their options")
    commands.add_parser("samples", help="list the shipped samples")
    return parser


def _list_codecs(out: TextIO) -> None:
    for entry in CODECS.values():
        short = f" ({entry.name}:VALUE sets {entry.argument})" if entry.argument else ""
        print(f"{entry.name} [{entry.kind}]: {entry.summary}{short}", file=out)
        for option in entry.options():
            default = "required" if option.default is NOTHING_DEFAULT else option.default
            print(f"  {option.flag_name}={option.metavar} (default: {default})", file=out)


def _list_samples(out: TextIO) -> None:
    for sample in SAMPLES.values():
        print(f"{sample.name} ({sample.stack}): {sample.description}", file=out)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    parser = make_parser()
    args = parser.parse_args(argv)
    if args.command == "codecs":
        _list_codecs(sys.stdout)
        return 0
    if args.command == "samples":
        _list_samples(sys.stdout)
        return 0
    sample = SAMPLES[args.sample] if args.sample else None
    if sample is not None and args.inputs:
        parser.error("--sample and INPUT do not go together")
    stack = args.stack or (sample.stack if sample else None)
    if stack is None:
        parser.error("a stack is needed: -s/--stack (for example -s chunked,gzip,lines)")
    try:
        items = parse_stack(stack)
        codecs = [build(item, _flags_of(item.entry, args)) for item in items]
    except StackError as error:
        parser.error(str(error))
    out = sys.stdout.buffer
    inputs: list[str] = args.inputs or ["-"]
    status = 0
    try:
        if sample is not None:
            with io.BytesIO(sample.read()) as file:
                progress = make_progress(args.progress, sample.name, None, sys.stderr)
                status = decode_one(
                    items, codecs, file, sample.name, _Output(out, None), args, progress
                )
                progress.close()
        for name in [] if sample is not None else inputs:
            label = "stdin" if name == "-" else name
            try:
                opened: contextlib.AbstractContextManager[IO[bytes]] = (
                    contextlib.nullcontext(sys.stdin.buffer) if name == "-" else open(name, "rb")  # noqa: SIM115
                )
            except OSError as error:
                print(f"framekit: {name}: {error.strerror or error}", file=sys.stderr)
                status = EXIT_BAD_INPUT
                continue
            with opened as file:
                progress = make_progress(args.progress, label, _size_of(file), sys.stderr)
                result = decode_one(
                    items,
                    codecs,
                    file,
                    label,
                    _Output(out, label if len(inputs) > 1 else None),
                    args,
                    progress,
                )
                progress.close()
            status = status or result
        out.flush()
    except BrokenPipeError:
        # The reader of stdout went away (``| head``): stop quietly, as Python's docs advise.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BAD_INPUT
    return status
