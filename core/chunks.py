"""Files received in chunks at an offset (artists' portfolio uploads, partners' file filings)."""

from __future__ import annotations

import os
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
