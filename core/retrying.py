"""Celery tasks that survive transient database errors.

A task that meets "database is locked" (SQLite: another process held the
write lock longer than the busy timeout), a PostgreSQL serialization failure
or deadlock, or a dropped connection is retried with exponential backoff and
full jitter, up to `max_retries` times. Every task is safe to run twice, so a
retry never doubles an effect. What still fails after the last retry is left
in its non-final state in the database, where a beat sweep finds it.

Use it as the base of every task: `@shared_task(base=DatabaseRetryTask, ...)`.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from celery.utils.time import get_exponential_backoff_interval
from django.db import InterfaceError, OperationalError, connections

log = logging.getLogger(__name__)

# SQLite says these when the lock is not free within the timeout.
_SQLITE_BUSY = ("database is locked", "database table is locked", "database schema is locked")
# PostgreSQL SQLSTATE: class 40 (serialization failure, deadlock), class 08 (connection
# exceptions), lock_not_available, server shutting down or starting, too many connections.
_PG_TRANSIENT_CLASSES = ("40", "08")
_PG_TRANSIENT_STATES = ("55P03", "57P01", "57P02", "57P03", "53300")


def is_transient(exc: BaseException) -> bool:
    """True for database errors that a later attempt can pass: lock contention, conflicts, connections."""
    if isinstance(exc, InterfaceError):  # the connection was closed under us
        return True
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    sqlstate = getattr(cause, "sqlstate", None)
    if sqlstate:
        return sqlstate[:2] in _PG_TRANSIENT_CLASSES or sqlstate in _PG_TRANSIENT_STATES
    text = str(exc).lower()
    if any(busy in text for busy in _SQLITE_BUSY):
        return True
    # psycopg raises OperationalError without a SQLSTATE when it cannot reach the server.
    return type(cause).__module__.startswith("psycopg")


def _discard_broken_connections() -> None:
    """A connection that failed mid-task is closed, so the retry opens a fresh one."""
    for conn in connections.all(initialized_only=True):
        if not conn.in_atomic_block:
            conn.close_if_unusable_or_obsolete()


class DatabaseRetryTask(Task):
    """Retries the task on a transient database error: backoff 1, 2, 4 ... 60 s (full jitter), 8 times."""

    max_retries = 8
    retry_backoff_seconds = 1
    retry_backoff_max_seconds = 60

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except (OperationalError, InterfaceError) as exc:
            if not is_transient(exc):
                raise
            _discard_broken_connections()
            countdown = get_exponential_backoff_interval(
                self.retry_backoff_seconds,
                self.request.retries,
                self.retry_backoff_max_seconds,
                full_jitter=True,
            )
            log.warning(
                "%s[%s]: transient database error (%s); retry %d of %d in %d s",
                self.name,
                self.request.id,
                exc,
                self.request.retries + 1,
                self.max_retries,
                countdown,
            )
            # Past max_retries this re-raises exc: the task fails and the sweep takes over.
            raise self.retry(exc=exc, countdown=countdown) from exc
