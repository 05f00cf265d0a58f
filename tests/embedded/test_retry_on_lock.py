"""A task that meets "database is locked" is retried and finishes: a real worker on the embedded
default (SQLite file + filesystem broker, as under make run), and a real lock held by another
connection for longer than the busy timeout."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time

from tests.embedded.sqlite import MANAGE, ROOT, embedded_env, migrate
from tests.helpers import PHOTOS, wait_until

SETUP = f"""
from django.core.files.uploadedfile import SimpleUploadedFile
from requests_app import services
profile = services.artist_signup(email="a@example.org", password="x" * 12, display_name="A")
ticket = services.request_create(artist=profile, basis="copyright")
data = open({str(PHOTOS / "coffee.png")!r}, "rb").read()
services.works_add(ticket=ticket, actor=profile.user, files=[SimpleUploadedFile("coffee.png", data)])
"""


def test_a_task_blocked_by_a_writer_retries_then_finishes(tmp_path):
    env = embedded_env(tmp_path, SQLITE_TIMEOUT_SECONDS="1")
    migrate(env)
    # The upload's work_hash message waits in the broker folder: no worker runs yet.
    subprocess.run([*MANAGE, "shell", "-c", SETUP], cwd=ROOT, env=env, check=True)
    database = tmp_path / "removal_desk.sqlite3"

    def state() -> str:
        with sqlite3.connect(database) as reader:
            return reader.execute("SELECT hash_state FROM requests_app_work").fetchone()[0]

    assert state() == "pending"
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process's long write transaction
    log_path = tmp_path / "worker.log"
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "config", "worker"),
                *("-Q", "default,hashing,matching", "--concurrency", "1", "--loglevel", "INFO"),
                *("--without-gossip", "--without-mingle", "--hostname", f"embedded-{os.getpid()}@%h"),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(
            lambda: b"database is locked" in log_path.read_bytes(),
            timeout=60,
            what="the worker to meet the lock",
        )
        assert state() == "pending"
        holder.execute("ROLLBACK")
        wait_until(lambda: state() == "done", timeout=30, what="the retried task to hash and match the work")
        time.sleep(0.5)
        text = log_path.read_text()
        assert "transient database error" in text
        assert "raised unexpected" not in text
        assert "Retry in" in text
    finally:
        holder.close()
        worker.terminate()
        worker.wait(timeout=20)
