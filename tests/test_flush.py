"""The transactional tests' flush (tests/flush.py): it waits for the session's worker when a test
ends with a task still in flight, and it is retried when PostgreSQL fails it on a deadlock."""

from __future__ import annotations

import io
import re
import threading
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management.color import no_style
from django.core.management.sql import sql_flush
from django.db import connection
from django.test import TransactionTestCase
from psycopg.sql import SQL, Identifier

from config.celery import app
from registry import services as registry_services
from registry.models import Dataset, DatasetItem, ImportJob, Maintainer
from tests import flush
from tests.helpers import database_url, index_csv, make_artist, wait_until

pytestmark = pytest.mark.django_db(transaction=True)


def _teardown_now() -> flush.FlushRecord:
    """What pytest-django runs after a transactional test: Django's TransactionTestCase teardown
    (the guarded one, as installed by tests/conftest.py)."""
    TransactionTestCase()._fixture_teardown()  # type: ignore[attr-defined]
    return flush.state.last


def _worker_active() -> list[dict[str, object]]:
    hostname = flush.state.worker_hostname
    assert hostname is not None
    answer = app.control.inspect(destination=[hostname], timeout=5).active() or {}
    return list(answer.get(hostname, []))


@pytest.mark.worker
def test_it_flushes_once_an_import_in_flight_is_done(celery_worker_process, maintainer):
    make_artist("ada@example.com", name="Ada Lovelace")
    dataset = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="big", name="Big")
    upload = io.BytesIO(index_csv(200_000))
    job = registry_services.import_create(dataset=dataset, upload=upload, name="i.csv")
    # The worker is writing the import's batches (one transaction each) when the test ends.
    wait_until(lambda: ImportJob.objects.filter(pk=job.pk, processed__gt=0).exists(), what="a first batch")
    active = _worker_active()
    assert any(task["name"] == "registry.tasks.import_process" for task in active), active

    record = _teardown_now()

    assert record.worker_busy_at_start and record.attempts >= 1 and record.waited_seconds > 0
    # The import ran to its end before the flush: it did not fail on rows flushed under it.
    log = (Path(settings.VAR_DIR) / "worker.log").read_text()
    finished = re.findall(r"registry\.tasks\.import_process\[[^\]]+\] (succeeded|raised|retry)[^\n]*", log)
    assert finished and finished[-1] == "succeeded", finished[-3:]
    assert _worker_active() == [] and not flush.worker_busy()
    # And the flush emptied the database: the next test finds no account and no data set.
    assert not User.objects.exists() and not Maintainer.objects.exists()
    assert not Dataset.objects.exists() and not DatasetItem.objects.exists()
    assert not ImportJob.objects.exists()


def test_it_flushes_again_when_postgresql_breaks_a_deadlock_by_failing_the_flush(maintainer, monkeypatch):
    truncate = sql_flush(no_style(), connection)[0]
    tables = re.findall(r'"([^"]+)"', truncate)
    first, last = tables[0], tables[-1]
    other = psycopg.connect(database_url(connection.settings_dict))
    # The other session waits longer before looking for deadlocks, so PostgreSQL fails the
    # flush's statement (the one that looks first), as it did in the CI run.
    other.execute("SET deadlock_timeout = '20s'")
    # It holds ACCESS SHARE on the last table the TRUNCATE names.
    other.execute(SQL("SELECT 1 FROM {} LIMIT 1").format(Identifier(last)))
    connection.ensure_connection()
    flush_pid = connection.connection.info.backend_pid
    outcome: dict[str, object] = {}

    def other_session() -> None:
        try:
            # Once the flush has locked the first table and waits for the last, ask for the first.
            wait_until(
                lambda: (
                    other.execute(
                        "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (flush_pid,)
                    ).fetchone()
                    == ("Lock",)
                ),
                timeout=30,
                what="the flush to wait for the last table",
            )
            other.execute(SQL("SELECT 1 FROM {} LIMIT 1").format(Identifier(first)))
            outcome["other"] = "read after the flush gave way"
            other.commit()
        except Exception as error:  # reported by the test below
            outcome["other"] = f"{type(error).__name__}: {error}"
            other.rollback()

    thread = threading.Thread(target=other_session)
    thread.start()
    # The flush first waits for the other session's transaction to end; it does not, so past the
    # bound the flush goes ahead, locks the first table, waits for the last: a deadlock.
    monkeypatch.setattr(flush, "IDLE_TIMEOUT_SECONDS", 1.0)
    try:
        with pytest.warns(UserWarning, match="the database flush went ahead"):
            record = _teardown_now()
    finally:
        thread.join(timeout=60)
        other.close()

    assert outcome["other"] == "read after the flush gave way"
    assert record.attempts == 2 and len(record.deadlocks) == 1, record
    assert "deadlock detected" in record.deadlocks[0]
    assert not Maintainer.objects.exists()
