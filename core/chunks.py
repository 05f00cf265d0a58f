"""Files received in chunks at an offset (artists' portfolio uploads, partners' file filings)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def chunk_write_at(path: Path, offset: int, data: bytes) -> None:
    """Write `data` at `offset` of `path` (created with its folder when new), drop whatever lies
    past it, and fsync before returning: the caller saves the new offset only once it is on disk.

    Bytes past `offset` are a write that failed before its offset was saved: overwritten here.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "r+b" if path.exists() else "wb") as handle:
        handle.seek(offset)
        handle.write(data)
        handle.truncate()
        handle.flush()
        os.fsync(handle.fileno())


@dataclass(frozen=True)
class ChunkProblem:
    """Why a chunk is refused: `code` names the case, `status` is its HTTP answer, and the figures
    are what its message cites (each sender writes the message for its own readers)."""

    code: str
    status: int
    limit: int = 0
    offset: int = 0
    received: int = 0
    end: int = 0
    size: int = 0


def chunk_size_problem(*, length: int, limit: int) -> ChunkProblem | None:
    """A chunk refused before its file is looked at: empty, or longer than `limit` bytes."""
    if length == 0:
        return ChunkProblem("empty_chunk", 400)
    if length > limit:
        return ChunkProblem("chunk_too_large", 413, limit=limit)
    return None


def chunk_place_problem(*, offset: int, length: int, received: int, size: int) -> ChunkProblem | None:
    """A chunk that does not start where the file stopped (`received` bytes in), or that ends
    past the `size` announced. Checked under the file's row lock, against the saved offset."""
    if offset != received:
        return ChunkProblem("offset_mismatch", 409, offset=offset, received=received)
    if offset + length > size:
        return ChunkProblem("past_size", 400, end=offset + length, size=size)
    return None
