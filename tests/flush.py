"""The transactional tests' database flush, made safe beside the session's Celery worker.

After a `transaction=True` test (and a live-server test, which is one), pytest-django runs
Django's TransactionTestCase teardown: `flush`, one TRUNCATE of every table. The session's worker
(tests/conftest.py `celery_worker_process`) may still be hashing, matching or importing what the
test wrote, and a live-server thread may still be answering a request the browser sent last. The
TRUNCATE then waits for their locks, and when one of them next asks for a table the TRUNCATE has
already locked, PostgreSQL breaks the deadlock by failing one side (40P01). When the flush is the
one that fails, the database keeps the test's rows and the next test finds them.

So before the flush the teardown waits (bounded) until the worker is idle (its queues empty in
Redis, nothing active or reserved by it) and no other session of the test database is inside a
transaction, and the flush is retried on a deadlock: it runs in one transaction, so a failed
attempt left nothing half-done. This wraps the framework's teardown, not the project's code.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.management.base import CommandError
from django.db import connections
from django.test import TransactionTestCase
from kombu.exceptions import ChannelError

# The queues the session's worker consumes (its `-Q`).
WORKER_QUEUES = ("default", "hashing", "matching", "deliveries", "imports")
DEADLOCK = "40P01"
IDLE_TIMEOUT_SECONDS = 120.0
FLUSH_ATTEMPTS = 5


@dataclass
class FlushRecord:
    """What the last guarded flush saw: for the tests of this module and for a failing run's log."""

    worker_busy_at_start: bool = False
    others_busy_at_start: bool = False
    waited_seconds: float = 0.0
    attempts: int = 0
    deadlocks: list[str] = field(default_factory=list)


@dataclass
class _State:
    worker_hostname: str | None = None
    worker_alive: Callable[[], bool] = lambda: False
    last: FlushRecord = field(default_factory=FlushRecord)


state = _State()


def worker_started(hostname: str, alive: Callable[[], bool]) -> None:
    """The session's worker is up (called by the fixture): from now on flushes wait for it."""
    state.worker_hostname = hostname
    state.worker_alive = alive


def worker_stopped() -> None:
    state.worker_hostname = None
    state.worker_alive = lambda: False


def worker_busy() -> bool:
    """Does the session's worker hold or have waiting any task? (False when it is not running.)"""
    if state.worker_hostname is None or not state.worker_alive():
        return False
    from config.celery import app

    with app.connection_for_read() as conn:
        channel = conn.default_channel
        for name in WORKER_QUEUES:
            try:
                if channel.queue_declare(queue=name, passive=True).message_count:
                    return True
            except ChannelError:  # a queue nobody declared yet holds nothing
                pass
    inspect = app.control.inspect(destination=[state.worker_hostname], timeout=2.0)
    for answer in (inspect.active(), inspect.reserved()):
        if answer is None or state.worker_hostname not in answer:
            return True  # no answer: it may be too busy to reply; ask again
        if answer[state.worker_hostname]:
            return True
    return False


def others_in_transaction(alias: str = "default") -> list[str]:
    """Other sessions of this test database that are inside a transaction (they hold locks a
    TRUNCATE waits for): the worker's pool processes, a live-server thread, a shard worker."""
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT pid, state, left(query, 80) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend' AND state IS NOT NULL AND state <> 'idle'"
        )
        return [f"{pid} {status}: {query}" for pid, status, query in cursor.fetchall()]


def wait_until_quiet(timeout: float | None = None, alias: str = "default") -> float:
    """Wait until the worker is idle and no other session is in a transaction, twice in a row
    (a task that just ended may have queued the next). Returns the seconds waited; past
    `timeout` it warns and returns, and the flush goes ahead (retried if it deadlocks)."""
    timeout = IDLE_TIMEOUT_SECONDS if timeout is None else timeout
    start = time.monotonic()
    quiet_checks = 0
    while quiet_checks < 2:
        if worker_busy() or others_in_transaction(alias):
            quiet_checks = 0
        else:
            quiet_checks += 1
        if time.monotonic() - start > timeout:
            warnings.warn(
                f"the database flush went ahead after {timeout:g} s with the worker or a session "
                f"still busy: {others_in_transaction(alias)}",
                stacklevel=2,
            )
            break
        if quiet_checks < 2:
            time.sleep(0.05 if quiet_checks else 0.2)
    return time.monotonic() - start


def _is_deadlock(error: BaseException) -> bool:
    cause: BaseException | None = error
    while cause is not None:
        if getattr(cause, "sqlstate", None) == DEADLOCK or getattr(cause, "pgcode", None) == DEADLOCK:
            return True
        cause = cause.__cause__
    return False


def flush_guarded(teardown: Callable[[], None], *, alias: str = "default") -> FlushRecord:
    """Run `teardown` (the flush) once the worker and the other sessions are quiet, again on a
    deadlock, at most FLUSH_ATTEMPTS times."""
    record = state.last = FlushRecord(
        worker_busy_at_start=worker_busy(), others_busy_at_start=bool(others_in_transaction(alias))
    )
    for attempt in range(1, FLUSH_ATTEMPTS + 1):
        record.waited_seconds += wait_until_quiet(alias=alias)
        record.attempts = attempt
        try:
            teardown()
            return record
        except CommandError as error:
            if not _is_deadlock(error) or attempt == FLUSH_ATTEMPTS:
                raise
            record.deadlocks.append(str(error.__cause__)[:300])
    return record  # not reached: the last attempt returns or raises


_original_teardown = TransactionTestCase._fixture_teardown  # type: ignore[attr-defined]


def _guarded_teardown(self: Any) -> None:
    flush_guarded(lambda: _original_teardown(self))


def install() -> None:
    """Wrap Django's TransactionTestCase teardown (TestCase's own rolls back and is untouched)."""
    TransactionTestCase._fixture_teardown = _guarded_teardown  # type: ignore[attr-defined]
