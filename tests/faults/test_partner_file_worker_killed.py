"""A worker killed with SIGKILL while reading a partner's file: the filing stays where the dead
worker left it (each batch of rows stored with the cursor in one transaction), beat's sweep
re-queues it once its heartbeat is stale, and a new worker reads on after the last committed
batch and then decides the filing. No row is lost, none stored twice, duplicates still found."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from partners import tasks
from partners.models import Filing, FilingRow, FilingState, RowState
from tests.helpers import partner_row, wait_until
from tests.partners.conftest import _partner
from tests.partners.file_helpers import csv_bytes, upload

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker, pytest.mark.slow]

ROWS = 30_000
REPEATED = range(0, ROWS, 100)  # each of these rows appears a second time, at the end


def test_a_worker_killed_mid_file_resumes_after_the_last_committed_batch(broker, start_worker, monkeypatch):
    partner = _partner("ArtPlace", "artplace", "art.example")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {partner.key}")
    rows = [partner_row(i) for i in range(ROWS)] + [partner_row(i) for i in REPEATED]
    data = csv_bytes(rows)
    monkeypatch.setenv("PARTNER_FILE_BATCH_ROWS", "500")  # the workers read 500 rows per batch
    first = start_worker(broker_url=broker.url, name="doomed-reader", concurrency=1, queues="imports")
    sent = upload(client, data, "rows.csv", chunk=1 << 20)  # the last chunk queues the reading
    assert sent["status"] == 200, sent
    filing_id = Filing.objects.get(public_id=sent["id"]).pk
    wait_until(
        lambda: Filing.objects.get(pk=filing_id).rows_read >= 3000, timeout=120, what="reading under way"
    )
    first.kill()
    stopped = Filing.objects.get(pk=filing_id)
    assert stopped.state == FilingState.READING and 3000 <= stopped.rows_read < len(rows)
    # The cursor and the stored rows agree: whole batches only.
    assert stopped.rows_read % 500 == 0 and FilingRow.objects.filter(filing_id=filing_id).count() == (
        stopped.rows_read
    )

    assert tasks.filings_resume() == 0  # it beat a moment ago: not stale yet
    Filing.objects.filter(pk=filing_id).update(heartbeat_at=stopped.heartbeat_at - timedelta(minutes=6))
    start_worker(broker_url=broker.url, name="second-reader", concurrency=1, queues="imports,matching")
    assert tasks.filings_resume() == 1
    done = wait_until(
        lambda: Filing.objects.filter(pk=filing_id, state=FilingState.COMPLETED).first(),
        timeout=300,
        what="the second worker to read and decide the file",
    )
    stored = FilingRow.objects.filter(filing_id=filing_id)
    assert done.rows_read == done.total == stored.count() == len(rows)
    assert sorted(stored.values_list("index", flat=True)) == list(range(len(rows)))
    assert sorted(stored.values_list("line", flat=True)) == list(range(2, len(rows) + 2))
    assert stored.filter(state=RowState.DUPLICATE).count() == done.duplicates == len(REPEATED)
    assert stored.filter(state=RowState.WAITING).count() == ROWS  # the policy is off: all for the desk
