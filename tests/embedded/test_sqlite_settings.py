"""The embedded default's SQLite connection: WAL, writers that take the lock at BEGIN, a busy timeout."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connections, transaction
from django.db.utils import ConnectionHandler

from config.databases import sqlite_options

ROOT = Path(__file__).resolve().parents[2]


def test_settings_give_sqlite_the_embedded_options(tmp_path):
    """config.settings with no DATABASE_URL (as under make run) applies sqlite_options."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_TIMEOUT_SECONDS")}
    env.update({"DEBUG": "1", "VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"})
    code = "import json; from config import settings; print(json.dumps(settings.DATABASES['default']))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, check=True)
    database = json.loads(out.stdout)
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(tmp_path / "removal_desk.sqlite3")
    assert database["OPTIONS"] == sqlite_options(timeout_seconds=30)


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
