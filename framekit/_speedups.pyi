def scan_chunked(
    data: memoryview,
    state: int,
    remaining: int,
    excess: int,
    budget: int,
    max_overhead: int,
    max_chunk_size: int,
    window: int,
    /,
) -> tuple[int, int, int, int, bytes, list[int], bool] | None: ...
def split_fixed(
    data: memoryview,
    pos: int,
    field_offset: int,
    width: int,
    big_endian: bool,
    span: int,
    low: int,
    high: int,
    frames: list[bytes],
    ends: list[int] | None,
    /,
) -> int: ...
def scan_resp(
    data: memoryview,
    pos: int,
    out: list[object],
    ends: list[int] | None,
    left: int,
    max_bulk: int,
    max_line: int,
    max_count: int,
    maps: bool,
    /,
) -> tuple[int, int, int] | None: ...
def scan_dot_lines(
    data: memoryview, pos: int, budget: int, max_line: int, room: int, /
) -> tuple[int, bytes, bool] | None: ...
def split_crlf_lines(buf: bytes, /) -> tuple[list[bytes], int] | None: ...
def clear_vector_upper() -> None: ...

SOURCE_SHA256: str
