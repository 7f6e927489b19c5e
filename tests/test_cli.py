"""The ``framekit`` command: samples, stdin and pipes, every codec name and option, bad input
(exit status, rule, offset, hexdump), progress, and a 1 GiB input in bounded memory."""

from __future__ import annotations

import gzip
import itertools
import json
import os
import re
import struct
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from framekit._cli_codecs import CODECS, Option, StackError, build, parse_stack
from framekit.cli import EXIT_BAD_INPUT, EXIT_USAGE, Window, hexdump, main, make_parser
from framekit.samples import SAMPLES
from framekit.sync import decode_bytes

ROOT = Path(__file__).resolve().parent.parent
MiB = 1 << 20


def run_command(
    *args: str, input: bytes | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[bytes]:
    """``python -m framekit ARGS`` in a subprocess, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "framekit", *args],
        input=input,
        capture_output=True,
        timeout=timeout,
        cwd=ROOT,
    )


def records(stdout: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.decode().splitlines()]


def run_main(
    capsysbinary: pytest.CaptureFixture[bytes], *args: str
) -> tuple[int, list[dict[str, Any]], str]:
    """The command run in this process: exit status, JSON records, stderr."""
    status = main(list(args))
    captured = capsysbinary.readouterr()
    return status, records(captured.out), captured.err.decode()


def chunked(data: bytes, size: int) -> bytes:
    pieces = [data[i : i + size] for i in range(0, len(data), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


# -- samples ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_sample_decodes_with_its_stack(
    name: str, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    status, frames, err = run_main(capsysbinary, "decode", "--sample", name)
    assert status == 0, err
    assert frames and all("error" not in frame for frame in frames)
    offsets = [frame["offset"] for frame in frames]
    ends = [frame["offset"] + frame["length"] for frame in frames]
    assert offsets == [0, *ends[:-1]]  # the frames tile the stream they are read from


def test_http_sample_is_forty_json_lines_of_a_chunked_gzip_body(
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    status, frames, _ = run_main(capsysbinary, "decode", "--sample", "http-chunked-gzip")
    assert status == 0
    assert [json.loads(frame["value"])["id"] for frame in frames] == list(range(1, 41))
    assert SAMPLES["http-chunked-gzip"].stack == "chunked,gzip,lines"


def test_smtp_sample_is_the_servers_replies(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    status, replies, _ = run_main(capsysbinary, "decode", "--sample", "smtp-replies")
    assert status == 0
    assert replies[0]["value"] == {"code": 220, "lines": ["mail.example.org ESMTP ready"]}
    assert replies[1]["value"]["code"] == 250 and len(replies[1]["value"]["lines"]) == 6
    assert replies[-1]["value"] == {"code": 221, "lines": ["2.0.0 Bye"]}
    status, lines, _ = run_main(
        capsysbinary, "decode", "--sample", "smtp-replies", "-s", "lines:crlf"
    )
    assert status == 0 and len(lines) == 12 and lines[0]["value"].startswith("220 ")


def test_length_prefixed_sample_has_text_empty_and_binary_frames(
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    status, frames, _ = run_main(capsysbinary, "decode", "--sample", "length-prefixed")
    assert status == 0
    assert [frame["value"] for frame in frames][:2] == ["hello", ""]
    assert frames[3]["value"] == bytes(range(16)).decode()
    assert [frame["length"] for frame in frames] == [9, 4, 42, 20, 7]


def test_sample_with_a_byte_stack_and_raw_output_is_the_decoded_body(
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    sample = SAMPLES["http-chunked-gzip"]
    argv = ["decode", "--sample", sample.name, "-s", "chunked,gzip", "--raw"]
    assert main(argv) == 0
    body = capsysbinary.readouterr().out
    assert body == decode_bytes(sample.read(), *[build(i) for i in parse_stack("chunked,gzip")])
    assert body.count(b"\n") == 40


def test_samples_command_lists_every_sample(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["samples"]) == 0
    out = capsysbinary.readouterr().out.decode()
    for sample in SAMPLES.values():
        assert f"{sample.name} ({sample.stack})" in out


# -- inputs: files, stdin, pipes ----------------------------------------------------------------


def test_stdin_is_read_when_no_input_is_named() -> None:
    result = run_command("decode", "-s", "lines", input=b"one\ntwo\n")
    assert result.returncode == 0, result.stderr
    assert [frame["value"] for frame in records(result.stdout)] == ["one", "two"]


def test_dash_is_stdin_from_a_pipe() -> None:
    producer = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdout.buffer.write(b'a\\r\\nb\\r\\n' * 1000)"],
        stdout=subprocess.PIPE,
    )
    assert producer.stdout is not None
    result = subprocess.run(
        [sys.executable, "-m", "framekit", "decode", "-s", "lines:crlf", "-"],
        stdin=producer.stdout,
        capture_output=True,
        timeout=60,
    )
    producer.stdout.close()
    assert producer.wait(timeout=60) == 0
    assert result.returncode == 0, result.stderr
    assert len(records(result.stdout)) == 2000


def test_several_inputs_are_decoded_each_and_labelled(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    first, second = tmp_path / "first.txt", tmp_path / "second.txt"
    first.write_bytes(b"a\nb\n")
    second.write_bytes(b"c\n")
    status, frames, _ = run_main(capsysbinary, "decode", "-s", "lines", str(first), str(second))
    assert status == 0
    assert [(f["input"], f["offset"], f["value"]) for f in frames] == [
        (str(first), 0, "a"),
        (str(first), 2, "b"),
        (str(second), 0, "c"),
    ]


def test_missing_file_is_reported_and_exits_1(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    status, _, err = run_main(capsysbinary, "decode", "-s", "lines", str(tmp_path / "nothing"))
    assert status == EXIT_BAD_INPUT
    assert "nothing" in err and "No such file" in err


def test_python_m_framekit_and_the_help_name_every_codec_and_sample() -> None:
    result = run_command("decode", "--help")
    assert result.returncode == 0
    out = result.stdout.decode()
    for name in CODECS:
        assert name in out
    for name in SAMPLES:
        assert name in out
    assert run_command("--version").stdout.decode().startswith("framekit ")


# -- a GiB in bounded memory --------------------------------------------------------------------

#: Peak resident memory a decode may reach, whatever its input's size (generous: the
#: interpreter alone is ~20 MiB; a 1 MiB frame and a few 64 KiB pieces per stage come on top).
MEMORY_BOUND = 160 * MiB


#: The command, reporting its peak resident memory (the kernel's VmHWM of its own address
#: space, which starts at its exec: a fork's or vfork's parent pages are not counted, as they
#: are in wait4's ru_maxrss) on stderr's last line.
PEAK_REPORTING = (
    "import sys\n"
    "from framekit.cli import main\n"
    "status = main(sys.argv[1:])\n"
    "with open('/proc/self/status') as status_file:\n"
    "    (line,) = [line for line in status_file if line.startswith('VmHWM:')]\n"
    "sys.stderr.write('\\n' + line)\n"
    "sys.exit(status)\n"
)


def _peak_rss(stderr: bytes) -> int:
    """The peak resident memory PEAK_REPORTING wrote, in bytes."""
    fields = stderr.decode().splitlines()[-1].split()
    assert fields[0] == "VmHWM:" and fields[2] == "kB"
    return int(fields[1]) * 1024


needs_proc = pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="needs Linux's /proc for the peak RSS"
)


@needs_proc
def test_one_gib_input_through_a_pipe_decodes_in_bounded_memory(tmp_path: Path) -> None:
    frame_size = MiB
    payload = struct.pack(">I", frame_size - 4) + bytes(range(256)) * ((frame_size - 4) // 256)
    payload += b"x" * (frame_size - len(payload))
    block = b"%x\r\n%s\r\n" % (len(payload), payload)
    frames = 1024  # 1 GiB of frames in 1 GiB of chunks
    command = [sys.executable, "-c", PEAK_REPORTING, "decode", "-s", "chunked,length-prefixed:4"]
    started = time.monotonic()
    with open(tmp_path / "out.jsonl", "w+b") as output:
        process = subprocess.Popen(
            [*command, "--preview", "8"],
            stdin=subprocess.PIPE,
            stdout=output,
            stderr=subprocess.PIPE,
            cwd=ROOT,
        )
        assert process.stdin is not None and process.stderr is not None
        for _ in range(frames):
            process.stdin.write(block)
        process.stdin.write(b"0\r\n\r\n")
        process.stdin.close()
        peak = _peak_rss(process.stderr.read())
        process.wait(timeout=60)
        output.seek(0)
        out = output.read()
    assert process.returncode == 0
    lines = records(out)
    assert len(lines) == frames
    assert lines[-1] == {
        "offset": (frames - 1) * frame_size,
        "length": frame_size,
        "type": "bytes",
        "preview": bytes(range(8)).decode(),
        "size": frame_size - 4,
    }
    assert peak < MEMORY_BOUND, f"peak RSS {peak / MiB:.0f} MiB for a 1 GiB input"
    assert time.monotonic() - started < 120


@needs_proc
def test_one_gib_of_decompressed_output_is_streamed_in_bounded_memory(tmp_path: Path) -> None:
    bomb = gzip.compress(bytes(MiB), mtime=0) * 1024  # 1024 members of 1 MiB of zeros
    path = tmp_path / "bomb.gz"
    path.write_bytes(bomb)
    process = subprocess.Popen(
        [sys.executable, "-c", PEAK_REPORTING, "decode", "-s", "gzip", "--raw", str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert process.stdout is not None and process.stderr is not None
    total = 0
    while piece := process.stdout.read(MiB):
        total += len(piece)
    process.wait(timeout=60)
    peak = _peak_rss(process.stderr.read())
    assert process.returncode == 0
    assert total == 1024 * MiB
    assert peak < MEMORY_BOUND, f"peak RSS {peak / MiB:.0f} MiB for 1 GiB of output"


# -- bad input -----------------------------------------------------------------------------------


def test_bad_chunk_size_exits_1_with_the_rule_offset_and_hexdump(tmp_path: Path) -> None:
    good = chunked(b"hello world\n" * 10, 40)
    bad_at = good.index(b"\r\n", 50) + 2  # the second chunk's size line
    wire = good[:bad_at] + b"zz" + good[bad_at + 2 :]
    path = tmp_path / "bad.bin"
    path.write_bytes(wire)
    result = run_command("decode", "-s", "chunked,lines", str(path))
    assert result.returncode == EXIT_BAD_INPUT
    err = result.stderr.decode()
    assert "MalformedError in chunked" in err
    assert "rule: chunk size is not hexadecimal" in err
    assert f"offset: {bad_at} in the input" in err
    # The hexdump line holding the offset shows its bytes ("zz"), and the mark is under them.
    lines = err.splitlines()
    (row,) = [
        i for i, line in enumerate(lines) if line.strip().startswith(f"{bad_at // 16 * 16:08x}")
    ]
    assert "7a" in lines[row]
    column = lines[row + 1].index("^^")
    assert lines[row][column : column + 2] == "7a"
    assert f"^^ offset {bad_at}" in err
    last = records(result.stdout)[-1]
    assert last["error"] == "MalformedError" and last["offset"] == bad_at
    assert last["codec"] == "chunked" and last["family"] == "MalformedError"
    # The lines before the bad chunk were written.
    assert records(result.stdout)[0]["value"] == "hello world"


def test_corrupt_gzip_names_gzip_and_the_offset_in_the_chunked_output(tmp_path: Path) -> None:
    packed = bytearray(gzip.compress(b"line\n" * 1000, mtime=0))
    packed[len(packed) // 2] ^= 0xFF
    path = tmp_path / "bad-gzip.bin"
    path.write_bytes(chunked(bytes(packed), 7))
    result = run_command("decode", "-s", "chunked,gzip,lines", str(path))
    assert result.returncode == EXIT_BAD_INPUT
    err = result.stderr.decode()
    assert "in gzip (codec 2 of chunked,gzip,lines)" in err
    assert "in the output of chunked (the input of gzip)" in err
    assert "1f 8b 08" in err or "bytes around it" in err
    assert records(result.stdout)[-1]["stream"] == "the output of chunked"


def test_truncated_input_is_a_truncated_error(tmp_path: Path) -> None:
    wire = SAMPLES["http-chunked-gzip"].read()
    path = tmp_path / "cut.bin"
    path.write_bytes(wire[: len(wire) // 2])
    result = run_command("decode", "-s", "chunked,gzip,lines", str(path))
    assert result.returncode == EXIT_BAD_INPUT
    last = records(result.stdout)[-1]
    assert last["family"] == "TruncatedError"
    assert "TruncatedError" in result.stderr.decode()


def test_bad_input_on_stdin_is_reported_the_same() -> None:
    result = run_command("decode", "-s", "netstring", input=b"5:hello,x:bad,")
    assert result.returncode == EXIT_BAD_INPUT
    err = result.stderr.decode()
    assert "framekit: stdin: MalformedError in netstring" in err
    assert "offset: 8 in the input" in err
    assert "35 3a 68 65 6c 6c 6f 2c  78 3a 62 61 64 2c" in err


def test_long_line_stops_the_decode_unless_keep_going(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    path = tmp_path / "long.txt"
    path.write_bytes(b"ok\n" + b"x" * 100 + b"\nafter\n")
    status, frames, err = run_main(capsysbinary, "decode", "-s", "lines:max-length=10", str(path))
    assert status == EXIT_BAD_INPUT
    assert [f.get("value", f.get("error")) for f in frames] == ["ok", "LineTooLong"]
    assert "line longer than max_length=10" in err
    status, frames, _ = run_main(
        capsysbinary, "decode", "-s", "lines", "--lines-max-length", "10", "--keep-going", str(path)
    )
    assert status == EXIT_BAD_INPUT
    assert [f.get("value", f.get("error")) for f in frames] == ["ok", "LineTooLong", "after"]


def test_hexdump_says_when_the_bytes_are_no_longer_held() -> None:
    window = Window(size=16)
    for _ in range(10):
        window.add(bytes(16))
    assert window.start >= 16 * 8
    assert "no bytes around offset 0" in hexdump(window, 0)[0]


# -- codec names and options ---------------------------------------------------------------------

PLAIN = b"first line\nsecond line\n" * 50


def _encoded_with(stack: str) -> tuple[bytes, list[bytes]]:
    """PLAIN's lines encoded by ``stack``'s codecs (its frame codec first, then the byte
    codecs from the last to the first), and the frames expected."""
    items = parse_stack(stack)
    codecs = [build(item) for item in items]
    frames = PLAIN.splitlines()
    if items[-1].entry.kind == "frames":
        encoder = codecs[-1].encoder()
        data = b"".join(encoder.encode(frame) for frame in frames)
        codecs = codecs[:-1]
    else:
        data = PLAIN
        frames = []
    for codec in reversed(codecs):
        encoder = codec.encoder()
        data = encoder.feed(data) + encoder.finish()
    return data, frames


STACK_OF: dict[str, str] = {
    "limited": f"limited:{len(PLAIN)}",
    "text-lines": "text-lines",
}


def _smtp_input(name: str) -> tuple[bytes, list[Any], bytes]:
    """The wire, the frames (as JSON values) and the raw output for an SMTP codec name."""
    from framekit.codecs.smtp import Command, Commands, Data, Replies, Reply

    if name == "smtp-replies":
        replies = [Reply(250, (b"first", b"second")), Reply(354, (b"go ahead",))]
        encoder = Replies().encoder()
        wire = b"".join(encoder.encode(reply) for reply in replies)
        return (
            wire,
            [{"code": r.code, "lines": [x.decode() for x in r.lines]} for r in replies],
            b"",
        )
    if name == "smtp-commands":
        commands = [Command(b"EHLO", b"example.org"), Command(b"QUIT", b"")]
        encoder = Commands().encoder()
        wire = b"".join(encoder.encode(command) for command in commands)
        values = [{"verb": c.verb.decode(), "argument": c.argument.decode()} for c in commands]
        return wire, values, b""
    body = PLAIN.replace(b"\n", b"\r\n") + b".starts with a dot\r\n"
    encoder = Data().encoder()
    return encoder.feed(body) + encoder.finish(), [], body


def _http_input(name: str) -> tuple[bytes, list[int | str]]:
    """Pipelined messages of PLAIN for an HTTP codec name (a Content-Length body, a chunked
    one, and for requests a GET without a body first), and each head's status or method."""
    from framekit.codecs import Chunked
    from framekit.codecs.http import Request, RequestHeads, Response, ResponseHeads

    chunked_body = Chunked().encoder()
    wire_chunked = chunked_body.feed(PLAIN) + chunked_body.finish()
    length = [(b"Content-Length", b"%d" % len(PLAIN))]
    te = [(b"Transfer-Encoding", b"chunked")]
    if name == "http-response":
        encoder = ResponseHeads().encoder()
        wire = encoder.encode(Response(status=200, reason=b"OK", headers=length)) + PLAIN
        wire += encoder.encode(Response(status=201, reason=b"Created", headers=te))
        return wire + wire_chunked, [200, 201]
    request = RequestHeads().encoder()
    wire = request.encode(Request(method=b"GET", target=b"/", headers=[(b"Host", b"a")]))
    wire += request.encode(Request(method=b"POST", target=b"/p", headers=length)) + PLAIN
    wire += request.encode(Request(method=b"PUT", target=b"/q", headers=te)) + wire_chunked
    return wire, ["GET", "POST", "PUT"]


@pytest.mark.parametrize("name", list(CODECS))
def test_each_codec_name_decodes_what_its_codec_encodes(
    name: str, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    stack = STACK_OF.get(name, name)
    if name.startswith("http-"):
        wire, starts = _http_input(name)
        path = tmp_path / "input.http"
        path.write_bytes(wire)
        status, out, err = run_main(capsysbinary, "decode", "-s", stack, str(path))
        assert status == 0, err
        heads = [r for r in out if r["type"] in ("response", "request")]
        assert [h.get("status", h.get("method")) for h in heads] == starts
        assert main(["decode", "-s", stack, "--raw", str(path)]) == 0
        assert capsysbinary.readouterr().out == PLAIN * 2
        return
    if name.startswith("smtp-"):
        data, values, raw = _smtp_input(name)
        path = tmp_path / "input.bin"
        path.write_bytes(data)
        if values:
            status, out, err = run_main(capsysbinary, "decode", "-s", stack, str(path))
            assert status == 0, err
            assert [frame["value"] for frame in out] == values
        else:
            assert main(["decode", "-s", stack, "--raw", str(path)]) == 0
            assert capsysbinary.readouterr().out == raw
        return
    data, frames = _encoded_with(stack)
    path = tmp_path / "input.bin"
    path.write_bytes(data)
    if frames:
        status, out, err = run_main(capsysbinary, "decode", "-s", stack, str(path))
        assert status == 0, err
        assert [frame["value"] for frame in out] == [f.decode() for f in frames]
        assert {frame["type"] for frame in out} == {"str" if name == "text-lines" else "bytes"}
    else:
        assert main(["decode", "-s", stack, "--raw", str(path)]) == 0
        assert capsysbinary.readouterr().out == PLAIN


def _other_value(option: Option) -> str:
    """A value for ``option`` other than its default, as it is written on the command line."""
    default = option.default
    if option.name == "request_methods":
        return "HEAD|GET"
    if option.is_bool:
        return "no" if default else "yes"
    if option.metavar.startswith("BYTES"):
        return "\\x00|\\r\\n"
    if "|" in option.metavar and not option.metavar.startswith("N"):
        return next(c for c in option.metavar.split("|") if c != default)
    if option.metavar == "TEXT":
        return {"utf-8": "latin-1", "strict": "replace"}[str(default)]
    if isinstance(default, int):
        return str(default // 2 if default > 100 else default + 1)
    return "1000"  # N|none, default none


OPTIONS = [(entry, option) for entry in CODECS.values() for option in entry.options()]


@pytest.mark.parametrize(
    ("entry", "option"), OPTIONS, ids=[f"{e.name}-{o.flag_name}" for e, o in OPTIONS]
)
def test_each_codec_option_is_a_flag_and_a_stack_option(entry: Any, option: Option) -> None:
    value = _other_value(option)
    base = [] if option.name == "length" or entry.name != "limited" else ["--limited-length", "9"]
    flag = f"--{entry.name}-{option.flag_name}"
    if option.is_bool:
        flag_args = [flag if value == "yes" else f"--no-{entry.name}-{option.flag_name}"]
    else:
        flag_args = [flag, value]
    args = make_parser().parse_args(["decode", "-s", entry.name, *base, *flag_args])
    from framekit.cli import _flags_of

    (item,) = parse_stack(entry.name)
    by_flag = build(item, _flags_of(entry, args))
    (item,) = parse_stack(
        f"{entry.name}:{option.flag_name}={value}"
        + ("" if not base else ":length=9" if option.name != "length" else "")
    )
    by_stack = build(item)
    expected = option.parse(value)
    assert getattr(by_flag, option.name) == expected
    assert getattr(by_stack, option.name) == expected


def test_option_in_the_stack_wins_over_the_flag(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    args = make_parser().parse_args(["decode", "-s", "lines:crlf", "--lines-ending", "any"])
    from framekit.cli import _flags_of

    (item,) = parse_stack(args.stack)
    assert build(item, _flags_of(item.entry, args)).ending == "crlf"


def test_sizes_take_k_m_g_suffixes() -> None:
    (item,) = parse_stack("gzip:max-output-size=2M")
    assert build(item).max_output_size == 2 * MiB


@pytest.mark.parametrize(
    ("stack", "message"),
    [
        ("nosuch", "unknown codec 'nosuch'"),
        ("lines,chunked", "a frame codec can only be the last"),
        ("lines,netstring", "a frame codec can only be the last"),
        ("http-response,lines", "a frame codec can only be the last"),
        ("http-response:request-methods=GE T", "is not a method"),
        ("lines:max-length=lots", "lines:max-length"),
        ("lines:nosuch=1", "lines has no option 'nosuch'"),
        ("gzip:fast", "gzip takes no bare value"),
        ("lines:sideways", "expected one of lf, crlf, any"),
        ("limited", "limited:"),
        ("length-prefixed:9", "length_field_length must be an int from 1 to 8"),
    ],
)
def test_a_stack_the_command_cannot_use_is_a_usage_error(
    stack: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["decode", "-s", stack, "-"])
    assert exit_info.value.code == EXIT_USAGE
    assert message in capsys.readouterr().err


def test_stack_errors_are_stack_errors() -> None:
    with pytest.raises(StackError, match="known: chunked, limited, gzip"):
        parse_stack("chunked,gzipp")


def test_codecs_command_lists_every_option(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert main(["codecs"]) == 0
    out = capsysbinary.readouterr().out.decode()
    for entry, option in OPTIONS:
        assert entry.name in out and f"  {option.flag_name}=" in out


def test_a_byte_stack_writes_a_record_per_decoded_piece(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    path = tmp_path / "body.bin"
    path.write_bytes(chunked(b"\xff" * 1000, 100))
    status, out, _ = run_main(capsysbinary, "decode", "-s", "chunked", "--preview", "4", str(path))
    assert status == 0
    assert sum(record["size"] for record in out) == 1000
    assert out[0]["preview"] == "ffffffff" and out[0]["encoding"] == "hex"


# -- progress -----------------------------------------------------------------------------------


def test_plain_progress_lines_on_stderr(tmp_path: Path) -> None:
    path = tmp_path / "lines.txt"
    path.write_bytes(b"x\n" * 1000)
    result = run_command("decode", "-s", "lines", "--progress", "plain", str(path))
    assert result.returncode == 0
    assert re.search(
        rf"framekit: {re.escape(str(path))}: .* of .* \(100%\)", result.stderr.decode()
    )


def test_progress_bar_with_tqdm(tmp_path: Path) -> None:
    pytest.importorskip("tqdm")
    path = tmp_path / "lines.txt"
    path.write_bytes(b"x\n" * 1000)
    result = run_command("decode", "-s", "lines", "--progress", "bar", str(path))
    assert result.returncode == 0
    assert "100%" in result.stderr.decode() and "|" in result.stderr.decode()


def test_no_progress_when_stderr_is_not_a_terminal() -> None:
    result = run_command("decode", "-s", "lines", input=b"a\n")
    assert result.returncode == 0 and result.stderr == b""


def test_a_new_codec_is_one_table_entry_with_its_flags_and_description(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    from framekit._cli_codecs import CodecEntry
    from framekit.codecs import Lines

    def as_words(frame: bytes, preview: int) -> dict[str, object]:
        return {"type": "words", "value": frame.decode().split()[:preview]}

    entry = CodecEntry("words", Lines, "frames", "lines as words", "ending", describe=as_words)
    monkeypatch.setitem(CODECS, "words", entry)
    path = tmp_path / "words.txt"
    path.write_bytes(b"a b c\r\nd e\r\n")
    argv = ["decode", "-s", "words:crlf", "--words-max-length", "100", "--preview", "2"]
    status, out, _ = run_main(capsysbinary, *argv, str(path))
    assert status == 0
    assert out == [
        {"offset": 0, "length": 7, "type": "words", "value": ["a", "b"]},
        {"offset": 7, "length": 5, "type": "words", "value": ["d", "e"]},
    ]


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal")
def test_progress_is_shown_by_default_when_stderr_is_a_terminal(tmp_path: Path) -> None:
    path = tmp_path / "lines.txt"
    path.write_bytes(b"x\n" * 1000)
    leader, follower = os.openpty()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "framekit", "decode", "-s", "lines", str(path)],
            stdout=subprocess.PIPE,
            stderr=follower,
            cwd=ROOT,
            timeout=60,
        )
        os.close(follower)
        shown = b""
        while True:
            try:
                piece = os.read(leader, 65536)
            except OSError:  # the terminal's other end is closed: all was read
                break
            if not piece:
                break
            shown += piece
    finally:
        os.close(leader)
    assert result.returncode == 0
    assert len(records(result.stdout)) == 1000
    assert b"100%" in shown  # a bar (tqdm) or a plain line: both say how far it got


def test_resp3_sample_gives_each_reply_with_its_type(
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    status, replies, err = run_main(capsysbinary, "decode", "--sample", "resp3-replies")
    assert status == 0, err
    types = [reply["type"] for reply in replies]
    assert {"dict", "Attributed", "Push", "Verbatim", "ReplyError", "int", "float"} <= set(types)
    assert replies[0]["value"]["server"] == "redis"
    attributed = replies[types.index("Attributed")]["value"]
    assert attributed["attributes"] == {"key-popularity": ["key:123", 90]}
    assert replies[types.index("ReplyError")]["value"].startswith("ERR unknown command")
    assert replies[-1] == {"offset": 645, "length": 7, "type": "str", "value": "PONG"}


@pytest.mark.parametrize(
    ("frame", "value"),
    [
        (float("inf"), "inf"),
        (float("nan"), "nan"),
        ({b"\xff": 1}, [[{"hex": "ff"}, 1]]),
        ({"a": [b"x", None, True]}, {"a": ["x", None, True]}),
        (frozenset({1}), [1]),
    ],
)
def test_structured_frames_become_json(frame: object, value: object) -> None:
    from framekit.cli import describe

    fields = describe(frame, DEFAULT_PREVIEW_FOR_TESTS)
    assert fields["value"] == value
    json.dumps(fields, allow_nan=False)  # strict JSON: no NaN or Infinity


DEFAULT_PREVIEW_FOR_TESTS = 256


# -- HTTP messages: http-response, http-request ---------------------------------------------------


def _heads(out: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [record for record in out if record.get("type") in ("response", "request")]


def _ends(out: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [record for record in out if record.get("type") == "end"]


def _http_run(
    capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path, wire: bytes, *args: str
) -> tuple[int, list[dict[str, Any]], str]:
    path = tmp_path / "capture.http"
    path.write_bytes(wire)
    return run_main(capsysbinary, "decode", *args, str(path))


def test_keep_alive_sample_is_three_responses_with_their_framing(
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    status, out, err = run_main(capsysbinary, "decode", "--sample", "http-keep-alive")
    assert status == 0, err
    heads = _heads(out)
    assert [(h["status"], h["framing"], h["rule"]) for h in heads] == [
        (200, "chunked", "RFC 9112 6.3.4"),
        (200, "length", "RFC 9112 6.3.6"),
        (304, "none", "RFC 9112 6.3.1"),
    ]
    assert heads[0]["version"] == "1.1" and heads[0]["reason"] == "OK"
    assert ["Content-Encoding", "gzip"] in heads[0]["headers"]
    assert heads[0]["content_decoded"] is True and heads[1]["content_length"] == 68
    ends = _ends(out)
    assert ends[0]["trailers"] == [["Server-Timing", "app;dur=12.5"]]
    assert [end["size"] for end in ends][1:] == [68, 0]
    body = SAMPLES["http-chunked-gzip"].read()
    assert ends[0]["body_offset"] == heads[0]["offset"] + heads[0]["length"]
    assert ends[0]["body_length"] == len(body)  # the other sample is this response's body


def test_keep_alive_sample_raw_is_the_decoded_bodies(
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    assert main(["decode", "--sample", "http-keep-alive", "--raw"]) == 0
    out = capsysbinary.readouterr().out
    first = decode_bytes(
        SAMPLES["http-chunked-gzip"].read(), *map(build, parse_stack("chunked,gzip"))
    )
    assert out == first + b"framekit reads a head, then its body by the RFC 9112 framing rules.\n"


def test_chunked_gzip_sample_keeps_its_byte_stack_and_is_a_body_of_the_keep_alive_one() -> None:
    # It is a body without its head: http-response would refuse its first line.
    assert SAMPLES["http-chunked-gzip"].stack == "chunked,gzip,lines"
    assert SAMPLES["http-chunked-gzip"].read() in SAMPLES["http-keep-alive"].read()


def test_content_encoding_is_left_on_the_body_unless_decode_content(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    packed = gzip.compress(b"hello\n", mtime=0)
    wire = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(packed)
    path = tmp_path / "gzip.http"
    path.write_bytes(wire + packed)
    assert main(["decode", "-s", "http-response", "--raw", str(path)]) == 0
    assert capsysbinary.readouterr().out == packed
    assert (
        main(
            ["decode", "-s", "http-response", "--http-response-decode-content", "--raw", str(path)]
        )
        == 0
    )
    assert capsysbinary.readouterr().out == b"hello\n"
    assert main(["decode", "-s", "http-response:decode-content=yes", "--raw", str(path)]) == 0
    assert capsysbinary.readouterr().out == b"hello\n"


def test_transfer_codings_before_chunked_are_always_undone(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
    wire += chunked(gzip.compress(b"inside\n" * 10, mtime=0), 9)
    status, out, err = _http_run(capsysbinary, tmp_path, wire, "-s", "http-response")
    assert status == 0, err
    assert _heads(out)[0]["transfer_codings"] == ["gzip"]
    assert "".join(r["value"] for r in out if r["type"] == "body") == "inside\n" * 10


def test_responses_are_read_as_answers_to_get_unless_request_methods_says(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    # A response to HEAD carries a Content-Length and no body: only the request tells.
    wire = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
    wire += b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
    status, out, _ = _http_run(
        capsysbinary,
        tmp_path,
        wire,
        "-s",
        "http-response",
        "--http-response-request-methods",
        "HEAD|GET",
    )
    assert status == 0
    assert [(h["request_method"], h["framing"]) for h in _heads(out)] == [
        ("HEAD", "none"),
        ("GET", "length"),
    ]
    status, out, _ = _http_run(capsysbinary, tmp_path, wire, "-s", "http-response")
    assert status == EXIT_BAD_INPUT  # read as a GET's, the first body is "HTTP/", then junk
    assert _heads(out)[0]["request_method"] == "GET"


def test_the_last_request_method_answers_every_later_response(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    wire = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n" * 3
    status, out, _ = _http_run(
        capsysbinary, tmp_path, wire, "-s", "http-response:request-methods=HEAD"
    )
    assert status == 0
    assert [h["request_method"] for h in _heads(out)] == ["HEAD"] * 3


def test_interim_responses_are_reported_and_answer_no_request(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    wire = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
    wire += b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
    wire += b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
    status, out, err = _http_run(
        capsysbinary, tmp_path, wire, "-s", "http-response:request-methods=HEAD|GET"
    )
    assert status == 0, err
    assert [(h["status"], h.get("request_method")) for h in _heads(out)] == [
        (100, None),
        (103, None),
        (200, "HEAD"),
        (200, "GET"),
    ]


def test_switching_protocols_makes_the_rest_of_the_stream_a_tunnel(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    wire = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
    status, out, _ = _http_run(
        capsysbinary, tmp_path, wire + b"\x81\x05hello", "-s", "http-response"
    )
    assert status == 0
    assert _heads(out)[0]["framing"] == "tunnel"
    assert _ends(out) == [
        {
            "offset": len(wire) + 7,
            "length": 0,
            "type": "end",
            "body_offset": len(wire),
            "body_length": 7,
            "size": 7,
            "trailers": [],
        }
    ]


def test_a_response_without_length_is_read_until_the_input_ends(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    wire = b"HTTP/1.1 200 OK\r\n\r\neverything after the head"
    status, out, _ = _http_run(capsysbinary, tmp_path, wire, "-s", "http-response")
    assert status == 0
    assert _heads(out)[0]["framing"] == "until-close" and _heads(out)[0]["keep_alive"] is False
    assert _ends(out)[0]["size"] == len(b"everything after the head")


def test_requests_are_read_with_their_bodies_and_leading_empty_lines(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    wire = b"\r\nGET /a?b=c HTTP/1.1\r\nHost: example.org\r\n\r\n"
    wire += b"POST /form HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nx=1"
    wire += b"PUT /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(b"data", 2)
    status, out, err = _http_run(capsysbinary, tmp_path, wire, "-s", "http-request")
    assert status == 0, err
    heads = _heads(out)
    assert [(h["method"], h["target"], h["version"], h["framing"]) for h in heads] == [
        ("GET", "/a?b=c", "1.1", "none"),
        ("POST", "/form", "1.0", "length"),
        ("PUT", "/up", "1.1", "chunked"),
    ]
    assert heads[0]["offset"] == 0 and heads[0]["headers"] == [["Host", "example.org"]]
    assert [r["value"] for r in out if r["type"] == "body"] == ["x=1", "data"]
    assert "request_method" not in heads[0]


def test_records_of_a_message_stream_tile_the_input(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    wire, _ = _http_input("http-request")
    status, out, _ = _http_run(
        capsysbinary, tmp_path, wire, "-s", "http-request", "--read-size", "7"
    )
    assert status == 0
    assert [r["offset"] for r in out] == [0, *[r["offset"] + r["length"] for r in out][:-1]]
    assert out[-1]["offset"] + out[-1]["length"] == len(wire)


def test_http_response_on_stdin() -> None:
    wire, _ = _http_input("http-response")
    result = run_command("decode", "-s", "http-response", "-", input=wire)
    assert result.returncode == 0, result.stderr
    assert [h["status"] for h in _heads(records(result.stdout))] == [200, 201]


def test_a_byte_codec_can_come_before_a_message_codec(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    wire, _ = _http_input("http-response")
    status, out, err = _http_run(
        capsysbinary, tmp_path, gzip.compress(wire, mtime=0), "-s", "gzip,http-response"
    )
    assert status == 0, err
    assert [h["status"] for h in _heads(out)] == [200, 201]


def test_an_error_of_a_byte_codec_before_a_message_codec_names_that_codec(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    wire, _ = _http_input("http-response")
    packed = gzip.compress(wire, mtime=0)[:-4]  # its size field cut off
    status, out, err = _http_run(capsysbinary, tmp_path, packed, "-s", "gzip,http-response")
    assert status == EXIT_BAD_INPUT
    assert "TruncatedError in gzip (codec 1 of gzip,http-response)" in err
    assert out[-1]["codec"] == "gzip" and out[-1]["stream"] == "the input"
    assert [h["status"] for h in _heads(out)] == [200, 201]  # what was decoded came first


# Any split of a pipelined stream gives the same messages (heads, ends, decoded bodies).

PIPELINED = (
    b"HTTP/1.1 100 Continue\r\n\r\n"
    b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
    + chunked(gzip.compress(b"zipped line\n" * 30, mtime=0), 13)[:-2]
    + b"X-Trailer: yes\r\n\r\n"
    + b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world"
    + b'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n'
    + b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
)


def _decode_messages_split(cuts: list[int], budget: int = 64 * 1024) -> list[dict[str, Any]]:
    from framekit._cli_http import MessageStream, ResponseStream

    bounds = [0, *sorted(set(cuts)), len(PIPELINED)]
    pieces = iter([PIPELINED[a:b] for a, b in itertools.pairwise(bounds) if b > a])
    out: list[dict[str, Any]] = []
    body = bytearray()
    messages = MessageStream(
        ResponseStream(decode_content=True),
        lambda: next(pieces, b""),
        read_size=64 * 1024,
        budget=budget,
        codec_names={},
    )
    messages.run(out.append, body.extend, lambda piece: {"value": piece})
    bodies = [r.pop("value") for r in out if r["type"] == "body"]
    return [r for r in out if r["type"] != "body"] + [{"body": b"".join(bodies)}]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(min_value=1, max_value=len(PIPELINED) - 1), max_size=30),
    st.integers(1, 64),
)
def test_a_pipelined_stream_decodes_the_same_in_any_split(cuts: list[int], budget: int) -> None:
    whole = _decode_messages_split([])
    assert _decode_messages_split(cuts, budget) == whole
    assert [h["status"] for h in _heads(whole)] == [100, 200, 200, 304, 200]
    assert whole[-1]["body"] == b"zipped line\n" * 30 + b"hello world"
    assert _ends(whole)[1]["trailers"] == [["X-Trailer", "yes"]]


def test_a_pipelined_stream_read_a_byte_at_a_time_gives_the_same_records(
    capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path
) -> None:
    path = tmp_path / "pipelined.http"
    path.write_bytes(PIPELINED)
    argv = ["decode", "-s", "http-response:decode-content=yes", str(path)]
    status, whole, _ = run_main(capsysbinary, *argv)
    status_one, one, _ = run_main(capsysbinary, *argv, "--read-size", "1", "--budget", "3")
    assert status == status_one == 0
    assert _heads(one) == _heads(whole) and _ends(one) == _ends(whole)


# Options: lenient parsing and limits are flags.


def test_lenient_head_options_are_flags(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    wire = b"HTTP/1.1 200 OK\nContent-Length : 2\n\nok"
    status, _, err = _http_run(capsysbinary, tmp_path, wire, "-s", "http-response")
    assert status == EXIT_BAD_INPUT and "bare LF" in err
    status, out, err = _http_run(
        capsysbinary,
        tmp_path,
        wire,
        "-s",
        "http-response",
        "--http-response-allow-bare-lf",
        "--http-response-strip-space-before-colon",
    )
    assert status == 0, err
    assert _heads(out)[0]["headers"] == [["Content-Length", "2"]]


def test_a_head_over_a_limit_flag_exits_1_naming_the_limit(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    wire = b"HTTP/1.1 204 No Content\r\nA: 1\r\nB: 2\r\n\r\n"
    status, out, err = _http_run(
        capsysbinary, tmp_path, wire, "-s", "http-response", "--http-response-max-fields", "1"
    )
    assert status == EXIT_BAD_INPUT
    assert "max_fields=1" in err and out[-1]["family"] == "LimitExceededError"
    assert out[-1]["offset"] == wire.index(b"B: 2")


def test_a_chunked_option_is_a_flag_of_the_message_codec(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked(b"x" * 100, 100)
    status, out, err = _http_run(
        capsysbinary, tmp_path, wire, "-s", "http-response:chunked-max-chunk-size=10"
    )
    assert status == EXIT_BAD_INPUT
    assert "chunked in http-response" in err and out[-1]["body_codec"] == "chunked"


# Bad input: exit 1, the rule, the offset, a hexdump.


def test_a_bad_head_exits_1_with_the_rule_offset_and_hexdump() -> None:
    good = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
    bad_at = len(good) + len(b"HTTP/1.1 200 OK\r\nBad")
    result = run_command(
        "decode", "-s", "http-response", input=good + b"HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n"
    )
    assert result.returncode == EXIT_BAD_INPUT
    err = result.stderr.decode()
    assert "MalformedError in http-response (codec 1 of http-response)" in err
    assert "rule: whitespace between a field name and its colon" in err
    assert f"offset: {bad_at} in the input" in err and f"^^ offset {bad_at}" in err
    assert "4e 61 6d 65 3a 20 78" in err  # "Name: x" in the hexdump
    out = records(result.stdout)
    assert [r["type"] for r in out[:3]] == ["response", "body", "end"]  # written first
    assert out[-1]["offset"] == bad_at and out[-1]["codec"] == "http-response"


def test_a_bad_chunk_in_a_body_names_chunked_and_the_input_offset(tmp_path: Path) -> None:
    wire = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n"
    path = tmp_path / "bad.http"
    path.write_bytes(wire)
    result = run_command("decode", "-s", "http-response", str(path))
    assert result.returncode == EXIT_BAD_INPUT
    err = result.stderr.decode()
    assert "MalformedError in chunked in http-response" in err
    assert "rule: chunk size is not hexadecimal" in err
    assert f"offset: {wire.index(b'zz')} in the input" in err
    assert records(result.stdout)[-1]["stream"] == "the input"


def test_smuggling_shaped_request_is_refused_unless_allowed(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    first = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
    wire = first + b"POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
    wire += chunked(b"hi", 2)
    status, out, err = _http_run(capsysbinary, tmp_path, wire, "-s", "http-request")
    assert status == EXIT_BAD_INPUT
    assert "BodyFramingError in http-request" in err and "request smuggling" in err
    assert f"offset: {len(first)} in the input" in err and "bytes around it" in err
    assert _heads(out)[1]["framing"] == "error" and _heads(out)[1]["rule"] == "RFC 9112 6.3.3"
    assert out[-1]["family"] == "MalformedError" and out[-1]["offset"] == len(first)
    status, out, err = _http_run(
        capsysbinary,
        tmp_path,
        wire,
        "-s",
        "http-request",
        "--http-request-allow-te-with-content-length",
    )
    assert status == 0, err
    assert _heads(out)[1]["framing"] == "chunked" and _heads(out)[1]["keep_alive"] is False


def test_a_truncated_body_is_a_truncated_error(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    wire = b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nhello"
    status, out, err = _http_run(capsysbinary, tmp_path, wire, "-s", "http-response")
    assert status == EXIT_BAD_INPUT
    assert out[-1]["family"] == "TruncatedError" and out[-1]["offset"] == len(wire)
    assert "TruncatedError in limited in http-response" in err


def test_a_truncated_head_is_a_truncated_error(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    status, out, _ = _http_run(
        capsysbinary, tmp_path, b"HTTP/1.1 200 OK\r\nContent-Le", "-s", "http-response"
    )
    assert status == EXIT_BAD_INPUT
    assert out[-1]["family"] == "TruncatedError" and out[-1]["offset"] == 0


def test_corrupt_content_encoding_names_the_coding_and_the_decoded_stream(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    packed = bytearray(gzip.compress(b"line\n" * 1000, mtime=0))
    packed[len(packed) // 2] ^= 0xFF
    head = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
    status, out, err = _http_run(
        capsysbinary,
        tmp_path,
        head + chunked(bytes(packed), 7),
        "-s",
        "http-response:decode-content=yes",
    )
    assert status == EXIT_BAD_INPUT
    assert "MalformedError in gzip in http-response" in err
    stream = f"the output of chunked in the body of the response at offset {len(head)}"
    assert f"in {stream}" in err and "bytes around it" in err
    assert out[-1]["stream"] == stream and out[-1]["body_codec"] == "gzip"


def test_an_unknown_content_encoding_is_unsupported_at_the_head(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    wire = b"HTTP/1.1 200 OK\r\nContent-Encoding: snappy\r\nContent-Length: 1\r\n\r\nx"
    status, out, _ = _http_run(
        capsysbinary, tmp_path, wire, "-s", "http-response:decode-content=yes"
    )
    assert status == EXIT_BAD_INPUT
    assert out[-1]["family"] == "UnsupportedEncodingError" and out[-1]["offset"] == 0


def test_bytes_after_a_message_that_closes_the_connection_are_bad_input(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    first = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
    status, out, err = _http_run(
        capsysbinary, tmp_path, first + b"HTTP/1.1 200 OK\r\n\r\n", "-s", "http-response"
    )
    assert status == EXIT_BAD_INPUT
    assert "bytes after a response that closes the connection" in err
    assert out[-1]["offset"] == len(first)
    status, out, _ = _http_run(capsysbinary, tmp_path, first, "-s", "http-response")
    assert status == 0 and _heads(out)[0]["keep_alive"] is False


@needs_proc
def test_one_gib_of_pipelined_responses_through_a_pipe_decodes_in_bounded_memory(
    tmp_path: Path,
) -> None:
    payload = bytes(range(256)) * (MiB // 256)
    chunked_response = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunked_response += b"%x\r\n%s\r\n0\r\n\r\n" % (len(payload), payload)
    length_response = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(payload), payload)
    responses = 1024  # 1 GiB of bodies, half chunked, half Content-Length
    command = [sys.executable, "-c", PEAK_REPORTING, "decode", "-s", "http-response"]
    started = time.monotonic()
    with open(tmp_path / "out.jsonl", "w+b") as output:
        process = subprocess.Popen(
            [*command, "--preview", "8"],
            stdin=subprocess.PIPE,
            stdout=output,
            stderr=subprocess.PIPE,
            cwd=ROOT,
        )
        assert process.stdin is not None and process.stderr is not None
        for _ in range(responses // 2):
            process.stdin.write(chunked_response + length_response)
        process.stdin.close()
        peak = _peak_rss(process.stderr.read())
        process.wait(timeout=60)
        output.seek(0)
        out = records(output.read())
    assert process.returncode == 0
    ends = _ends(out)
    assert len(ends) == responses and {end["size"] for end in ends} == {MiB}
    assert ends[-1]["offset"] + ends[-1]["length"] == responses // 2 * (
        len(chunked_response) + len(length_response)
    )
    assert peak < MEMORY_BOUND, f"peak RSS {peak / MiB:.0f} MiB for a 1 GiB input"
    assert time.monotonic() - started < 120
