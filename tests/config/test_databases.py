"""config.databases: the embedded default's SQLite connection is WAL, takes the write lock at BEGIN
and waits for it."""

from __future__ import annotations

import sqlite3

import pytest
from django.db import connections, transaction
from django.db.utils import ConnectionHandler

from config.databases import sqlite_options


def test_a_connection_built_with_them_is_wal_immediate_and_waits(tmp_path, django_db_blocker):
    path = tmp_path / "embedded.sqlite3"
    complete = ConnectionHandler(
        {
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(path),
                "OPTIONS": sqlite_options(timeout_seconds=7),
            }
        }
    ).settings["default"]
    connections.settings["embedded"] = complete  # a second alias, as settings.py would define it
    connection = connections["embedded"]
    blocker = django_db_blocker.unblock()  # this test's own database, not the suite's
    blocker.__enter__()
    try:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
            cursor.execute("PRAGMA synchronous")
            assert cursor.fetchone()[0] == 1  # NORMAL
            cursor.execute("PRAGMA busy_timeout")
            assert cursor.fetchone()[0] == 7000
            cursor.execute("CREATE TABLE t (x INTEGER)")
            cursor.execute("INSERT INTO t VALUES (1)")
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        with transaction.atomic(using="embedded"):
            # Only a read so far, yet the transaction holds the write lock (BEGIN IMMEDIATE):
            # it can never be the one that fails when it writes later.
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM t")
            with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                other.execute("BEGIN IMMEDIATE")
            # WAL: a reader does not wait for the writer.
            assert other.execute("SELECT x FROM t").fetchall() == [(1,)]
        other.execute("BEGIN IMMEDIATE")  # free again once the transaction ended
        other.execute("ROLLBACK")
        other.close()
    finally:
        connection.close()
        del connections["embedded"]
        del connections.settings["embedded"]
        blocker.__exit__(None, None, None)
