"""Sampled checks of linear time and bounded memory (costlier than the others, so not on
every input: ``RATE`` of them).

**Time.** The input is scaled up (its bytes repeated, or encoded from repeated plain bytes) to
a small and an eight-times larger size, each fed in small pieces; each is timed as the best of
three runs in CPU time (``time.process_time``: on a shared machine, wall time mostly measures
the other processes). Linear work takes about eight times as long for the larger one,
quadratic work 64 times; the check fails above ``8 * SLOWDOWN`` times (plus a floor for
timer noise), and only if a second, longer measurement agrees.

**Memory.** ``tracemalloc`` (which sees every Python object, the decoders' output included)
traces a run of the pure-Python decoder that keeps no output; its peak must stay within a few
times the input plus a few budgets (plus a fixed allowance for the libraries' own blocks).
For compressed formats the input is a bomb: a few MiB of repeated bytes, encoded.
"""

from __future__ import annotations

import gc
import random
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from typing import Any

from framekit.codecs import Brotli, Deflate, Gzip, RawDeflate, Zstd
from framekit.codecs._base import ByteCodec, FrameCodec
from fuzz.run import Violation, bytes_driver, frames_driver, pure_python

#: The share of inputs each sampled check runs on (the engines may change it).
RATE = 1 / 25
#: How much slower per byte the larger input may be before the check fails.
SLOWDOWN = 4.0
#: Timer noise allowance, seconds.
FLOOR = 0.002
SMALL = 4 * 1024
BIG = 8 * SMALL
BOMB = 2 * 1024 * 1024
MEMORY_ALLOWANCE = 1024 * 1024


def _best(run: Callable[[], Any], repeat: int) -> float:
    best = float("inf")
    gc.disable()  # a collection's cost grows with everything alive, not with this run
    try:
        for _ in range(repeat):
            start = time.process_time()
            run()
            best = min(best, time.process_time() - start)
    finally:
        gc.enable()
    return best


def _check_scaling(make_run: Callable[[int], Callable[[], Any]], codec: object, what: str) -> None:
    small, big = make_run(SMALL), make_run(BIG)
    for repeat in (3, 5):
        t_small = _best(small, repeat)
        t_big = _best(big, repeat)
        bound = (BIG / SMALL) * SLOWDOWN * max(t_small, FLOOR)
        if t_big <= bound:
            return
    raise Violation(
        "linear-time",
        f"{what}: {BIG} bytes took {t_big * 1000:.1f} ms, {SMALL} bytes {t_small * 1000:.1f} ms "
        f"(more than {SLOWDOWN}x the time per byte)",
        codec=codec,
    )


def _pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def _repeat(unit: bytes, size: int) -> bytes:
    unit = unit or b"\0"
    return (unit * (size // len(unit) + 1))[:size]


def _traced_peak(run: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        run()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def maybe_check_frames(codec: FrameCodec[Any], rng: random.Random, payload: bytes) -> None:
    if rng.random() >= RATE:
        return
    unit = payload[:1024]
    piece = rng.choice((3, 16, 64))

    def make_run(size: int) -> Callable[[], Any]:
        pieces = _pieces(_repeat(unit, size), piece)
        return lambda: frames_driver(codec, pieces, keep=False)

    with pure_python():
        _check_scaling(make_run, codec, f"frames in {piece}-byte pieces")
    data = _repeat(unit, BIG)
    pieces = _pieces(data, 512)
    with pure_python():
        peak = _traced_peak(lambda: frames_driver(codec, pieces, keep=False))
    bound = 4 * len(data) + MEMORY_ALLOWANCE
    if peak > bound:
        raise Violation(
            "bounded-memory", f"traced peak {peak} over {bound} for {len(data)} bytes", codec=codec
        )


def _plain_encoder(codec: ByteCodec) -> ByteCodec:
    """A codec of the same format with default options, to encode scaled-up inputs."""
    if isinstance(codec, (Gzip, Deflate, RawDeflate)):
        return type(codec)(backend="zlib")
    if isinstance(codec, (Brotli, Zstd)):
        return type(codec)()
    return codec


def maybe_check_bytes(codec: ByteCodec, rng: random.Random, wire: bytes) -> None:
    if rng.random() >= RATE:
        return
    from fuzz.targets import encode_bytes  # a cycle at import time otherwise

    random_plain = rng.random() < 0.5
    seed = rng.randrange(1 << 30)
    budget = rng.choice((17, 4096))
    encoder_codec = _plain_encoder(codec)
    compressed = encoder_codec is not codec

    def make_run(size: int) -> Callable[[], Any]:
        local = random.Random(seed)
        plain = local.randbytes(size) if random_plain else _repeat(wire[:512], size)
        if compressed or hasattr(codec, "lenient"):
            data = encode_bytes(encoder_codec, local, plain)
        else:  # Limited: the plain bytes are the wire
            data = plain
        pieces = _pieces(data, 1000)
        return lambda: bytes_driver(codec, pieces, budget, keep=False)

    with pure_python():
        _check_scaling(make_run, codec, f"{budget}-byte budget")

    cap = getattr(codec, "max_output_size", None)
    inputs = [wire]
    if compressed:
        inputs.append(encode_bytes(encoder_codec, rng, _repeat(wire[:64], BOMB)))
    for data in inputs:
        with pure_python():
            peak = _traced_peak(
                partial(bytes_driver, codec, _pieces(data, 4096), 4096, cap=cap, keep=False)
            )
        bound = 4 * len(data) + 8 * 4096 + MEMORY_ALLOWANCE
        if peak > bound:
            raise Violation(
                "bounded-memory",
                f"traced peak {peak} over {bound} for {len(data)} input bytes",
                codec=codec,
            )
