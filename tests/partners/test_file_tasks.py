"""File filings end to end on a real Celery worker (Redis, PostgreSQL): each format announced and
sent through the API, read by the worker (imports queue) with line-numbered errors, then matched,
approved by policy and delivered to the maintainer's receiver (matching and deliveries queues);
a file whose read message was lost is found by the beat sweep."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from partners import tasks
from partners.models import Filing, FilingState, RowState
from registry.models import Removal
from tests.helpers import assert_error, partner_row, wait_until
from tests.partners.file_helpers import ENCODE, FILINGS, ndjson_bytes, upload

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]
NAMES = {"ndjson": "opt-outs.jsonl", "csv": "opt-outs.csv", "parquet": "opt-outs.parquet"}


@pytest.mark.parametrize("fmt", ["ndjson", "csv", "parquet"])
def test_a_file_is_read_matched_approved_and_delivered_by_the_worker(
    celery_worker_process,
    partner_api,
    partner,
    partner_dataset,
    auto_policy,
    endpoint_on_pd,
    receiver,
    settings,
    fmt,
):
    rows = [partner_row(i) for i in range(20)] + [
        partner_row(20, phash=None),  # no hashes: waits for the desk
        partner_row(21, basis="fame"),  # rejected, with its line
        partner_row(3),  # the same row again: changes nothing
    ]
    sent = upload(partner_api, ENCODE[fmt](rows), NAMES[fmt], chunk=512)
    assert sent["status"] == 200 and sent["body"]["state"] == "reading", sent
    filing = wait_until(
        lambda: Filing.objects.filter(public_id=sent["id"], state=FilingState.COMPLETED).first(),
        what="the worker to read and decide the file",
    )
    body = partner_api.get(f"{FILINGS}{sent['id']}/").json()
    assert body["progress"] == {"rows_read": 23, "rows_total": 23}
    counts = body["counts"]
    assert (counts["approved"], counts["waiting"], counts["rejected"], counts["duplicate"]) == (20, 1, 1, 1)
    bad = partner_api.get(f"{FILINGS}{sent['id']}/rows/?state=rejected").json()["results"]
    assert [(r["line"], r["field"]) for r in bad] == [(22 if fmt != "csv" else 23, "basis")]
    assert Removal.objects.filter(source_ref=sent["id"]).count() == 20
    hooks = receiver.wait_for(1, timeout=60)
    delivered = [r for hook in hooks for r in hook.json()["data"]["removals"]]
    assert {r["request"] for r in delivered} == {sent["id"]}
    assert sorted(r["external_id"] for r in delivered) == sorted(f"e{i}" for i in range(20))
    assert {(r["source"], r["partner"]) for r in delivered} == {("partner", partner.partner.name)}
    assert filing.rows.get(index=20).state == RowState.WAITING
    assert not (Path(settings.PRIVATE_MEDIA_ROOT) / filing.file_path).exists()  # read whole: deleted


def test_the_sweep_reads_a_file_whose_message_was_lost(celery_worker_process, partner_api, partner):
    from celery import current_app

    def broker_down(*args, **kwargs):
        raise ConnectionError("the broker is down")

    data = ndjson_bytes([partner_row(i) for i in range(30)])
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(current_app, "send_task", broker_down)
        sent = upload(partner_api, data, "rows.ndjson")
    assert sent["status"] == 200
    filing = Filing.objects.get(public_id=sent["id"])
    assert filing.state == FilingState.READING and filing.heartbeat_at is None
    assert tasks.filings_resume() == 0  # just received: not lost yet
    Filing.objects.filter(pk=filing.pk).update(received_at=filing.received_at - timedelta(minutes=10))
    assert tasks.filings_resume() == 1
    wait_until(
        lambda: Filing.objects.filter(pk=filing.pk, state=FilingState.COMPLETED).exists(),
        what="the swept file to be read and decided",
    )
    assert Filing.objects.get(pk=filing.pk).rows.filter(state=RowState.WAITING).count() == 30


def test_the_sweep_expires_an_upload_never_finished(celery_worker_process, partner_api, partner):
    from django.conf import settings as django_settings

    from partners.models import PartnerAction, PartnerActionKind
    from tests.partners.file_helpers import announce, send_chunk

    data = ndjson_bytes([partner_row(i) for i in range(30)])
    filing_id = announce(partner_api, data, "rows.ndjson").json()["id"]
    assert send_chunk(partner_api, filing_id, data[:100], 0).status_code == 200
    filing = Filing.objects.get(public_id=filing_id)
    part = Path(django_settings.PRIVATE_MEDIA_ROOT) / filing.file_path
    assert part.exists() and filing.heartbeat_at is not None
    assert tasks.filings_resume() == 0
    assert Filing.objects.get(pk=filing.pk).state == FilingState.RECEIVING  # still within its time
    ttl = timedelta(seconds=django_settings.PARTNER_FILE_UPLOAD_TTL)
    Filing.objects.filter(pk=filing.pk).update(heartbeat_at=filing.heartbeat_at - ttl - timedelta(minutes=1))
    tasks.filings_resume.delay()  # the beat's task, on the worker
    wait_until(
        lambda: Filing.objects.filter(pk=filing.pk, state=FilingState.EXPIRED).exists(),
        what="the unfinished upload to expire",
    )
    expired = Filing.objects.get(pk=filing.pk)
    assert "not sent whole within 7 days" in expired.message and "100 of" in expired.message
    assert not part.exists()
    audit = PartnerAction.objects.get(kind=PartnerActionKind.FILE_EXPIRED, object_id=filing.pk)
    assert audit.detail["received"] == 100
    # The upload's endpoints say so, in the API's error format; the filing itself still reads.
    for answer in (
        partner_api.get(f"{FILINGS}{filing_id}/file/"),
        send_chunk(partner_api, filing_id, data[100:200], 100),
    ):
        error = assert_error(answer, 409, "upload_expired")
        assert "Announce the file again" in error["message"] and error["details"]["state"] == "expired"
    assert partner_api.get(f"{FILINGS}{filing_id}/").json()["state"] == "expired"
