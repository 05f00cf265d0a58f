"""A worker killed with SIGKILL while unpacking a big zip: the upload stays where the dead worker
left it (each member stored with the cursor in one transaction), beat's sweep re-queues it once
it has not moved for a while, and a new worker finishes it. No work is lost, none is stored twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from requests_app import services, tasks
from requests_app.models import PortfolioUpload, UploadState, Work
from tests.helpers import distinct_png, make_zip, upload_send, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker, pytest.mark.slow]

MEMBERS = 600


def test_a_worker_killed_mid_unpacking_loses_nothing(artist, broker, start_worker):
    data = make_zip({f"w{i:03d}.png": distinct_png(i, size=400) for i in range(MEMBERS)})
    upload = services.upload_create(artist=artist, actor=artist.user, name="big.zip", size=len(data))
    first = start_worker(broker_url=broker.url, name="doomed", concurrency=1)
    upload = upload_send(upload, data, chunk=256 * 1024)  # the last chunk queues it
    wait_until(
        lambda: PortfolioUpload.objects.get(pk=upload.pk).processed >= 40,
        timeout=120,
        what="unpacking under way",
    )
    first.kill()
    stopped = PortfolioUpload.objects.get(pk=upload.pk)
    assert stopped.state == UploadState.PROCESSING and 40 <= stopped.processed < MEMBERS
    assert Work.objects.count() == stopped.added == stopped.next_member  # cursor and works agree

    assert tasks.uploads_sweep() == 0  # it moved a moment ago: not stalled yet
    PortfolioUpload.objects.filter(pk=upload.pk).update(updated_at=timezone.now() - timedelta(minutes=6))
    start_worker(broker_url=broker.url, name="second", concurrency=1)
    assert tasks.uploads_sweep() == 1

    wait_until(
        lambda: PortfolioUpload.objects.get(pk=upload.pk).state == UploadState.DONE,
        timeout=240,
        what="the second worker to finish",
    )
    done = PortfolioUpload.objects.get(pk=upload.pk)
    assert (done.processed, done.added, done.duplicates, done.failed) == (MEMBERS, MEMBERS, 0, 0)
    assert Work.objects.count() == MEMBERS
    assert len(set(Work.objects.values_list("sha256", flat=True))) == MEMBERS
