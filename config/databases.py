"""Database connection options that settings.py applies (and tests build connections with)."""

from __future__ import annotations


def sqlite_options(*, timeout_seconds: float) -> dict[str, object]:
    """OPTIONS for the embedded SQLite default, where the site, a worker and beat share one file.

    - WAL journal: readers never wait for the writer, nor the writer for readers.
    - `transaction_mode` IMMEDIATE: a transaction takes the write lock when it
      begins. With SQLite's default (DEFERRED) a transaction that read first
      and then writes cannot wait for the lock (waiting could deadlock), so it
      fails at once with "database is locked" whatever the timeout.
    - `timeout`: how long a writer waits for the lock (the busy timeout).
    - synchronous=NORMAL: safe with WAL (a power cut may lose the last
      commits, never corrupt the file), and commits need no fsync each.
    """
    return {
        "timeout": timeout_seconds,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
