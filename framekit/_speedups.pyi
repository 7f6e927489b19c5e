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
