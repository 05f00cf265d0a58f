"""The one place the project reads the time, so tests can move it.

`now()` is `timezone.now()` plus an offset. Tests move it with
`clock.travel(timedelta(days=1))`, a context manager (or a plain call whose
effect lasts until `clock.reset()`).

Another process (a Celery worker under test) is moved with the same call
through a file: when the environment variable CLOCK_OFFSET_FILE names a
file, the offset is read from that file (seconds, as text) on every call,
and `travel` writes it there. Production never sets the variable, so
there the offset is always zero and nothing is read. A file, not the
cache or the database: it needs no service, works before Django is set
up, and a test owns its file outright.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from django.utils import timezone

OFFSET_FILE_VARIABLE = "CLOCK_OFFSET_FILE"

_offset = timedelta(0)


def _offset_file() -> Path | None:
    name = os.environ.get(OFFSET_FILE_VARIABLE)
    return Path(name) if name else None


def offset() -> timedelta:
    path = _offset_file()
    if path is None:
        return _offset
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        return timedelta(0)
    return timedelta(seconds=float(text)) if text else timedelta(0)


def now() -> datetime:
    return timezone.now() + offset()


def _set(value: timedelta) -> None:
    global _offset
    _offset = value
    path = _offset_file()
    if path is not None:
        # Write then rename, so a reader in another process never sees half a number.
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        tmp.write_text(f"{value.total_seconds():.6f}\n")
        tmp.replace(path)


class travel:  # used like a function: clock.travel(...)
    """Move the clock forward (or back) by `delta`, in this process and any sharing the offset file.

    As a context manager the previous offset comes back on exit; called
    plainly, the move lasts until `reset()`.
    """

    def __init__(self, delta: timedelta) -> None:
        self.previous = offset()
        _set(self.previous + delta)

    def __enter__(self) -> travel:
        return self

    def __exit__(self, *exc: object) -> None:
        _set(self.previous)


def reset() -> None:
    _set(timedelta(0))
