"""framekit.connection: framekit readers over real loopback sockets, servers and wrapped readers."""

from __future__ import annotations

import array
import asyncio
import gc
import hashlib
import logging
import socket
import ssl
import struct
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from framekit.codecs import Limited
from framekit.connection import (
    StreamWriter,
    open_connection,
    open_unix_connection,
    start_server,
    start_unix_server,
    wrap,
)
from framekit.layers import layer
from framekit.reader import StreamReader

Handler = Callable[[StreamReader, StreamWriter], Awaitable[None]]


async def serve(handler: Handler) -> tuple[asyncio.Server, int]:
    server = await start_server(handler, "127.0.0.1", 0)
    port: int = server.sockets[0].getsockname()[1]
    return server, port


async def line_echo(reader: StreamReader, writer: StreamWriter) -> None:
    async for line in reader:
        writer.write(b"echo: " + line)
        await writer.drain()


# -- open_connection and start_server -------------------------------------------------------


async def test_open_connection_and_start_server_round_trip() -> None:
    server, port = await serve(line_echo)
    async with server:
        reader, writer = await open_connection("127.0.0.1", port)
        assert isinstance(reader, StreamReader)
        writer.write(b"hello\nworld\n")
        assert await reader.readline() == b"echo: hello\n"
        assert await reader.readline() == b"echo: world\n"
        writer.close()
        await writer.wait_closed()


async def test_server_gives_each_connection_its_own_reader() -> None:
    server, port = await serve(line_echo)
    async with server:
        (r1, w1), (r2, w2) = [await open_connection("127.0.0.1", port) for _ in range(2)]
        w1.write(b"one\n")
        w2.write(b"two\n")
        assert await r2.readline() == b"echo: two\n"
        assert await r1.readline() == b"echo: one\n"
        for w in (w1, w2):
            w.close()
            await w.wait_closed()


async def test_server_closes_the_connection_when_the_handler_returns() -> None:
    async def greet(reader: StreamReader, writer: StreamWriter) -> None:
        writer.write(b"hi\n")

    server, port = await serve(greet)
    async with server:
        reader, writer = await open_connection("127.0.0.1", port)
        assert await reader.read() == b"hi\n"
        assert reader.at_eof()
        writer.close()


async def test_server_logs_a_handler_exception_and_closes_the_connection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(reader: StreamReader, writer: StreamWriter) -> None:
        raise ValueError("handler bug")

    server, port = await serve(broken)
    async with server:
        with caplog.at_level(logging.ERROR, logger="framekit.connection"):
            reader, writer = await open_connection("127.0.0.1", port)
            assert await reader.read() == b""
            writer.close()
    assert any(
        r.exc_info is not None and isinstance(r.exc_info[1], ValueError) for r in caplog.records
    )


async def test_server_leaves_the_connection_to_a_plain_function_handler() -> None:
    tasks: list[asyncio.Task[None]] = []

    async def echo_then_close(reader: StreamReader, writer: StreamWriter) -> None:
        await line_echo(reader, writer)
        writer.close()

    def spawn(reader: StreamReader, writer: StreamWriter) -> None:
        tasks.append(asyncio.ensure_future(echo_then_close(reader, writer)))

    server = await start_server(spawn, "127.0.0.1", 0)
    async with server:
        reader, writer = await open_connection("127.0.0.1", server.sockets[0].getsockname()[1])
        writer.write(b"still open\n")
        assert await reader.readline() == b"echo: still open\n"
        writer.close()
        await asyncio.wait_for(tasks[0], 5)


async def test_unix_socket_round_trip(tmp_path: object) -> None:
    path = f"{tmp_path}/sock"
    server = await start_unix_server(line_echo, path)
    async with server:
        reader, writer = await open_unix_connection(path)
        writer.write(b"unix\n")
        assert await reader.readline() == b"echo: unix\n"
        writer.close()
        await writer.wait_closed()


# -- flow control over a real socket ---------------------------------------------------------

TOTAL = 64 * 2**20
BLOCK = 2**20
BASE_BLOCK = hashlib.shake_256(b"framekit").digest(BLOCK)


def pattern_block(i: int) -> bytes:
    return struct.pack(">I", i) + BASE_BLOCK[4:]


async def test_slow_reader_pauses_the_transport_and_bounds_the_buffer() -> None:
    limit = 2**16
    max_piece = 256 * 1024  # asyncio's selector transport receives at most this much at once
    expected = hashlib.sha256()

    async def flood(reader: StreamReader, writer: StreamWriter) -> None:
        for i in range(TOTAL // BLOCK):
            block = pattern_block(i)
            expected.update(block)
            writer.write(block)
            await writer.drain()

    server, port = await serve(flood)
    async with server:
        reader, writer = await open_connection("127.0.0.1", port, limit=limit)
        transport = writer.transport
        received = hashlib.sha256()
        total = max_buffered = 0
        paused_seen = False
        while True:
            max_buffered = max(max_buffered, reader.buffered)
            paused_seen = paused_seen or not transport.is_reading()
            chunk = await reader.read(65536)
            if not chunk:
                break
            received.update(chunk)
            total += len(chunk)
            max_buffered = max(max_buffered, reader.buffered)
            # Slow for the first 2 MiB (the socket buffers fill, the reader fills past its
            # high-water mark and pauses), then as fast as possible.
            await asyncio.sleep(0.002 if total < 2 * 2**20 else 0)
        writer.close()
    assert total == TOTAL
    assert received.hexdigest() == expected.hexdigest()
    assert paused_seen
    assert max_buffered <= 2 * limit + max_piece


# -- the writer ------------------------------------------------------------------------------


async def test_writelines_sends_every_piece_in_order() -> None:
    server, port = await serve(line_echo)
    async with server:
        reader, writer = await open_connection("127.0.0.1", port)
        writer.writelines([b"a", bytearray(b"b"), memoryview(b"c\n")])
        await writer.drain()
        assert await reader.readline() == b"echo: abc\n"
        writer.close()


async def test_drain_waits_while_the_transport_is_paused_for_writing() -> None:
    server, port = await serve(line_echo)
    async with server:
        _reader, writer = await open_connection("127.0.0.1", port)
        protocol = writer.transport.get_protocol()
        protocol.pause_writing()
        drained = asyncio.ensure_future(writer.drain())
        await asyncio.sleep(0.01)
        assert not drained.done()
        protocol.resume_writing()
        await asyncio.wait_for(drained, 1)
        writer.close()


async def test_drain_raises_once_the_connection_is_lost() -> None:
    server, port = await serve(line_echo)
    async with server:
        _reader, writer = await open_connection("127.0.0.1", port)
        writer.close()
        await writer.wait_closed()
        with pytest.raises(ConnectionResetError):
            await writer.drain()


async def test_write_eof_half_closes_and_the_reply_still_arrives() -> None:
    async def count(reader: StreamReader, writer: StreamWriter) -> None:
        data = await reader.read()  # until the client's EOF
        writer.write(b"got %d bytes\n" % len(data))

    server, port = await serve(count)
    async with server:
        reader, writer = await open_connection("127.0.0.1", port)
        assert writer.can_write_eof()
        writer.write(b"x" * 1000)
        writer.write_eof()
        assert await reader.readline() == b"got 1000 bytes\n"
        assert await reader.read() == b""
        writer.close()
        await writer.wait_closed()


async def test_close_and_wait_closed_give_the_peer_eof() -> None:
    peer_saw: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    async def record(reader: StreamReader, writer: StreamWriter) -> None:
        peer_saw.set_result(await reader.read())

    server, port = await serve(record)
    async with server:
        reader, writer = await open_connection("127.0.0.1", port)
        writer.write(b"bye")
        writer.close()
        assert writer.is_closing()
        await writer.wait_closed()
        assert await asyncio.wait_for(peer_saw, 5) == b"bye"
        assert await reader.read() == b""


async def test_get_extra_info_reports_the_peer_address() -> None:
    server, port = await serve(line_echo)
    async with server:
        _reader, writer = await open_connection("127.0.0.1", port)
        assert writer.get_extra_info("peername") == ("127.0.0.1", port)
        assert writer.get_extra_info("no such thing", "default") == "default"
        writer.close()


# -- the end of a connection, as the reader sees it -----------------------------------------


def reset_on_close(writer: StreamWriter) -> None:
    """Make close() send a TCP RST instead of a FIN (SO_LINGER with a zero timeout)."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


async def test_connection_reset_mid_read_raises_on_the_reader() -> None:
    async def reset(reader: StreamReader, writer: StreamWriter) -> None:
        writer.write(b"partial")
        await writer.drain()
        await reader.readline()
        reset_on_close(writer)
        writer.transport.abort()

    server, port = await serve(reset)
    async with server:
        reader, writer = await open_connection("127.0.0.1", port)
        assert await reader.readexactly(7) == b"partial"
        pending = asyncio.ensure_future(reader.readexactly(10))
        writer.write(b"go\n")
        with pytest.raises(ConnectionResetError):
            await asyncio.wait_for(pending, 5)
        with pytest.raises(ConnectionResetError):
            await reader.read()
        with pytest.raises(ConnectionResetError):
            await writer.drain()
        writer.close()


async def test_peer_closing_mid_read_is_eof() -> None:
    async def hang_up(reader: StreamReader, writer: StreamWriter) -> None:
        writer.write(b"part")

    server, port = await serve(hang_up)
    async with server:
        reader, writer = await open_connection("127.0.0.1", port)
        with pytest.raises(asyncio.IncompleteReadError) as info:
            await reader.readexactly(10)
        assert info.value.partial == b"part"
        writer.close()


# -- wrap() ----------------------------------------------------------------------------------

LINES = b"first line\nsecond\r\n" + bytes(range(256)) * 4 + b"--END--tail"


async def check_read_api(reader: StreamReader) -> None:
    assert await reader.readline() == b"first line\n"
    assert await reader.readuntil(b"\r\n") == b"second\r\n"
    assert await reader.readexactly(1024) == bytes(range(256)) * 4
    assert await reader.readuntil(b"--END--") == b"--END--"
    assert await reader.read(-1) == b"tail"
    assert reader.at_eof()


def asyncio_reader(*pieces: bytes, eof: bool = True) -> asyncio.StreamReader:
    source = asyncio.StreamReader()
    for piece in pieces:
        source.feed_data(piece)
    if eof:
        source.feed_eof()
    return source


async def test_wrap_reads_an_asyncio_stream_reader() -> None:
    source = asyncio_reader(LINES)
    await check_read_api(wrap(source, read_size=7))


async def test_wrap_pulls_only_what_a_read_needs() -> None:
    source = asyncio_reader(b"line\n" * 1000)
    reader = wrap(source, read_size=10)
    assert await reader.readline() == b"line\n"
    assert reader.buffered == 5
    assert reader.total_raw_bytes == 10


async def test_wrap_reads_an_asyncio_connection() -> None:
    async def send(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for i in range(0, len(LINES), 100):
            writer.write(LINES[i : i + 100])
            await writer.drain()
            await asyncio.sleep(0)
        writer.close()

    server = await asyncio.start_server(send, "127.0.0.1", 0)
    async with server:
        source, writer = await asyncio.open_connection(
            "127.0.0.1", server.sockets[0].getsockname()[1]
        )
        await check_read_api(wrap(source))
        writer.close()
        await writer.wait_closed()


@pytest.fixture
async def aiohttp_url() -> AsyncIterator[str]:
    web = pytest.importorskip("aiohttp.web")

    async def stream(request: object) -> object:
        response = web.StreamResponse()
        await response.prepare(request)
        for i in range(0, len(LINES), 50):
            await response.write(LINES[i : i + 50])
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/", stream)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}/"
    finally:
        await runner.cleanup()


async def test_wrap_reads_an_aiohttp_response(aiohttp_url: str) -> None:
    import aiohttp

    async with aiohttp.ClientSession() as session, session.get(aiohttp_url) as response:
        await check_read_api(wrap(response.content))


async def test_wrap_raises_the_source_error_and_keeps_it() -> None:
    source = asyncio_reader(b"ok\n", eof=False)
    reader = wrap(source)
    assert await reader.readline() == b"ok\n"
    source.set_exception(ValueError("source broke"))
    with pytest.raises(ValueError, match="source broke"):
        await reader.readline()
    with pytest.raises(ValueError, match="source broke"):
        await reader.read()
    assert isinstance(reader.exception(), ValueError)


async def test_wrap_cancelled_read_loses_nothing() -> None:
    source = asyncio_reader(b"01234", eof=False)
    reader = wrap(source)
    pending = asyncio.ensure_future(reader.readexactly(10))
    await asyncio.sleep(0.01)
    pending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await pending
    source.feed_data(b"56789")
    assert await reader.readexactly(10) == b"0123456789"


class _TakesBeforeItWaits:
    """A source whose ``read`` is not cancel-safe: it takes its bytes, then waits a little."""

    def __init__(self, *pieces: bytes) -> None:
        self.pieces = list(pieces)

    async def read(self, n: int) -> bytes:
        piece = self.pieces.pop(0) if self.pieces else b""
        await asyncio.sleep(0.05)
        return piece


async def test_wrap_cancelled_read_does_not_cancel_the_source_read() -> None:
    # The pull runs in a task of its own: cancelling the read leaves it to finish, and what it
    # returns is buffered, even from a source that would lose it when cancelled.
    reader = wrap(_TakesBeforeItWaits(b"hello", b"world"))
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(reader.readexactly(5), 0.01)
    assert await reader.readexactly(10) == b"helloworld"
    assert await reader.read() == b""


async def test_wrap_stores_an_error_raised_by_read_itself() -> None:
    class Broken:
        def read(self, n: int) -> Awaitable[bytes]:
            raise ValueError("no read today")

    reader = wrap(Broken())
    with pytest.raises(ValueError, match="no read today"):
        await reader.read(1)
    assert isinstance(reader.exception(), ValueError)


class _Returns:
    """A source whose ``read`` returns the given results in turn (then ``b""``)."""

    def __init__(self, *results: object) -> None:
        self.results = list(results)

    async def read(self, n: int) -> bytes:
        return self.results.pop(0) if self.results else b""  # type: ignore[return-value]

    def __repr__(self) -> str:
        return "<the source>"


@pytest.mark.parametrize("result", ["text", 42, None, [b"x"]], ids=type)
async def test_wrap_raises_a_type_error_naming_a_non_bytes_result_and_keeps_it(
    result: object,
) -> None:
    reader = wrap(_Returns(b"ok\n", result))
    assert await asyncio.wait_for(reader.readline(), 1) == b"ok\n"
    with pytest.raises(TypeError) as info:
        await asyncio.wait_for(reader.readline(), 1)
    message = str(info.value)
    assert type(result).__name__ in message and "<the source>" in message
    assert reader.exception() is info.value
    with pytest.raises(TypeError):
        await asyncio.wait_for(reader.read(), 1)


async def test_wrap_non_bytes_result_wakes_a_layer_above_it() -> None:
    top = layer(wrap(_Returns("text")), Limited(10))
    with pytest.raises(TypeError, match="str"):
        await asyncio.wait_for(top.read(5), 1)


async def test_wrap_takes_any_bytes_like_result() -> None:
    words = array.array("H", [1, 2])
    reader = wrap(_Returns(bytearray(b"ab"), memoryview(b"cd"), memoryview(words)))
    assert await asyncio.wait_for(reader.read(), 1) == b"abcd" + words.tobytes()


async def test_wrap_raises_a_type_error_naming_a_read_that_is_not_awaitable() -> None:
    class Blocking:
        def read(self, n: int) -> bytes:
            return b"x"

        def __repr__(self) -> str:
            return "<blocking source>"

    reader = wrap(Blocking())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not an awaitable") as info:
        await asyncio.wait_for(reader.read(1), 1)
    assert "<blocking source>" in str(info.value)
    assert isinstance(reader.exception(), TypeError)


async def test_wrap_raises_any_exception_of_the_source_read_and_keeps_it() -> None:
    class Odd(Exception):
        pass

    class Failing:
        async def read(self, n: int) -> bytes:
            await asyncio.sleep(0)
            raise Odd("odd failure")

    reader = wrap(Failing())
    with pytest.raises(Odd, match="odd failure"):
        await asyncio.wait_for(reader.read(1), 1)
    with pytest.raises(Odd):
        await asyncio.wait_for(reader.read(1), 1)


class _Waits:
    """A source whose read waits on a future it exposes, and notes when it is cancelled."""

    def __init__(self) -> None:
        self.future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.cancelled = False

    async def read(self, n: int) -> bytes:
        try:
            return await self.future
        except asyncio.CancelledError:
            self.cancelled = True
            raise


async def test_wrap_set_exception_stops_the_source_read_in_flight() -> None:
    source = _Waits()
    reader = wrap(source)
    pending = asyncio.ensure_future(reader.read(1))
    await asyncio.sleep(0.01)
    reader.set_exception(ValueError("done"))
    with pytest.raises(ValueError, match="done"):
        await pending
    await asyncio.sleep(0)
    assert source.cancelled  # nothing it returned could be read any more


async def test_wrap_read_is_cancelled_when_the_source_read_is() -> None:
    source = _Waits()
    reader = wrap(source)
    pending = asyncio.ensure_future(reader.read(1))
    await asyncio.sleep(0.01)
    source.future.cancel()  # the source's own read is cancelled from inside
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(pending, 1)


async def test_wrap_reads_again_after_the_source_read_was_cancelled() -> None:
    source = _Waits()
    reader = wrap(source)
    pending = asyncio.ensure_future(reader.read(1))
    await asyncio.sleep(0.01)
    source.future.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(pending, 1)
    assert reader.exception() is None
    source.future = asyncio.get_running_loop().create_future()
    source.future.set_result(b"after")
    assert await asyncio.wait_for(reader.read(5), 1) == b"after"


async def test_wrap_set_exception_on_a_layer_wakes_the_read_at_once() -> None:
    source = asyncio_reader(eof=False)  # a stalled peer: no byte ever comes
    top = layer(wrap(source), Limited(10))
    pending = asyncio.ensure_future(top.read(5))
    await asyncio.sleep(0.01)
    top.set_exception(ValueError("give up"))
    with pytest.raises(ValueError, match="give up"):
        await asyncio.wait_for(pending, 1)


async def test_wrap_allows_one_waiting_read_at_a_time() -> None:
    source = asyncio_reader(eof=False)
    reader = wrap(source)
    pending = asyncio.ensure_future(reader.readline())
    await asyncio.sleep(0)
    with pytest.raises(RuntimeError, match="already waiting"):
        await reader.read(1)
    with pytest.raises(RuntimeError):
        reader.read_nowait()
    source.feed_data(b"line\n")
    assert await pending == b"line\n"


async def test_wrap_wait_eof_reads_the_rest_of_the_source() -> None:
    reader = wrap(asyncio_reader(b"abc", b"def"))
    await reader.wait_eof()
    assert reader.is_eof()
    assert reader.read_nowait() == b"abcdef"


async def test_wrap_rejects_a_bad_read_size() -> None:
    with pytest.raises(ValueError, match="read_size"):
        wrap(asyncio_reader(), read_size=0)


# -- start_tls -------------------------------------------------------------------------------


@pytest.fixture
def tls() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_context)
    client_context = ssl.create_default_context()
    ca.configure_trust(client_context)
    return server_context, client_context


async def test_start_tls_keeps_the_same_reader_and_its_buffered_bytes(
    tls: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_context, client_context = tls

    async def starttls_echo(reader: StreamReader, writer: StreamWriter) -> None:
        assert await reader.readline() == b"STARTTLS\n"
        writer.write(b"OK\nserver plain\n")
        await writer.start_tls(server_context)
        assert writer.get_extra_info("ssl_object") is not None
        # Read before the upgrade, from the same reader: the client's plain bytes, then TLS.
        async for line in reader:
            writer.write(b"echo: " + line)

    server, port = await serve(starttls_echo)
    async with server:
        reader, writer = await open_connection("127.0.0.1", port)
        writer.write(b"STARTTLS\nclient plain\n")
        assert await reader.readline() == b"OK\n"
        await reader.peek(len(b"server plain\n"))  # buffered before the upgrade
        await writer.start_tls(client_context, server_hostname="localhost")
        assert writer.get_extra_info("ssl_object") is not None
        writer.write(b"secret\n")
        assert await reader.readline() == b"server plain\n"
        assert await reader.readline() == b"echo: client plain\n"
        assert await reader.readline() == b"echo: secret\n"
        writer.close()
        await writer.wait_closed()


async def test_start_tls_handshake_failure_raises_on_the_writer_and_the_reader(
    tls: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_context, _ = tls
    untrusting = ssl.create_default_context()  # does not trust the test CA

    async def upgrade(reader: StreamReader, writer: StreamWriter) -> None:
        await reader.readline()
        writer.write(b"OK\n")
        await writer.start_tls(server_context)

    server, port = await serve(upgrade)
    async with server:
        reader, writer = await open_connection("127.0.0.1", port)
        writer.write(b"STARTTLS\n")
        assert await reader.readline() == b"OK\n"
        with pytest.raises(ssl.SSLCertVerificationError):
            await writer.start_tls(untrusting, server_hostname="localhost")
        with pytest.raises(ssl.SSLCertVerificationError):
            await reader.read()
        assert writer.is_closing()


async def test_start_tls_while_the_reader_is_paused_pauses_the_tls_transport(
    tls: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_context, client_context = tls
    plain = b"p" * 100

    async def upgrade(reader: StreamReader, writer: StreamWriter) -> None:
        await reader.readline()
        writer.write(b"OK\n" + plain)
        await writer.start_tls(server_context)
        writer.write(b"secret\n")
        await reader.read()

    server, port = await serve(upgrade)
    async with server:
        reader, writer = await open_connection("127.0.0.1", port, limit=16)
        writer.write(b"STARTTLS\n")
        assert await reader.readline() == b"OK\n"
        await reader.peek(len(plain))  # above the high-water mark (32): reading is paused
        assert not writer.transport.is_reading()
        await writer.start_tls(client_context, server_hostname="localhost")
        assert not writer.transport.is_reading()  # the TLS transport inherits the pause
        assert await reader.readexactly(len(plain)) == plain  # resumes
        assert writer.transport.is_reading()
        assert await reader.readline() == b"secret\n"
        writer.close()
        await writer.wait_closed()


async def test_open_connection_over_tls_round_trip(
    tls: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_context, client_context = tls
    server = await start_server(line_echo, "127.0.0.1", 0, ssl=server_context)
    async with server:
        port = server.sockets[0].getsockname()[1]
        reader, writer = await open_connection(
            "127.0.0.1", port, ssl=client_context, server_hostname="localhost"
        )
        assert not writer.can_write_eof()
        writer.write(b"over tls\n")
        assert await reader.readline() == b"echo: over tls\n"
        writer.close()
        await writer.wait_closed()


# -- the example -----------------------------------------------------------------------------


async def test_line_echo_example_runs_and_exits_zero() -> None:
    script = Path(__file__).resolve().parent.parent / "examples" / "line_echo.py"
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(script), "--lines", "500", stdout=asyncio.subprocess.PIPE
    )
    stdout, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0
    assert b"500 lines" in stdout and b"all intact" in stdout


async def test_wrap_set_exception_while_pulling_leaves_no_unretrieved_future(
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = asyncio_reader(eof=False)
    reader = wrap(source)
    pending = asyncio.ensure_future(reader.readline())
    await asyncio.sleep(0)
    reader.set_exception(ValueError("stop"))
    source.feed_data(b"line\n")
    with pytest.raises(ValueError, match="stop"):
        await pending
    gc.collect()
    await asyncio.sleep(0)
    assert "never retrieved" not in caplog.text
