"""An approved work with no copy today is still removed tomorrow.

A real Celery worker hashes the work and re-matches later items; the maintainer talks to the
live server over HTTP and receives signed webhooks on a loopback receiver.
"""

from __future__ import annotations

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile

from registry import services as registry_services
from registry.hashing import code_to_hex, compute_hashes
from registry.models import Removal
from requests_app import services
from requests_app.models import EventKind, HashState, Work
from requests_app.workflow import Status
from tests.helpers import hashes_row, image_bytes, make_artist, photo, photo_bytes, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_a_work_approved_without_a_copy_removes_the_copy_imported_later(
    celery_worker_process, live_server, receiver, moderator
):
    base = live_server.url
    _, key = registry_services.maintainer_create(name="Later Lab", email="ops@later.example")
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {key}"
    assert api.post(f"{base}/api/v1/datasets/", json={"slug": "v1", "name": "V1"}).status_code == 201
    unrelated = {"external_id": "x", "url": "https://cdn.later.example/x.jpg", "phash": "0123456789abcdef"}
    assert api.post(f"{base}/api/v1/datasets/v1/items/", json={"items": [unrelated]}).status_code == 200
    hook = api.post(f"{base}/api/v1/webhooks/", json={"url": receiver.url, "events": ["removal.approved"]})
    assert hook.status_code == 201

    # The artist's work is in no data set today.
    artist = make_artist("iris@example.com", name="Iris Later")
    ticket = services.request_create(artist=artist, basis="copyright")
    services.works_add(
        ticket=ticket,
        actor=artist.user,
        files=[SimpleUploadedFile("chelsea.png", photo_bytes("chelsea.png"))],
    )
    work = wait_until(
        lambda: Work.objects.filter(request=ticket, hash_state=HashState.DONE).first(),
        what="the worker to hash and match the work",
    )
    assert not work.matches.exists()
    services.request_submit(ticket=ticket, actor=artist.user, signed_name="Iris Later")
    services.request_approve(ticket=ticket, moderator=moderator, reason="Own work.")

    # Approval sends the work's hash to the maintainer: a removal with no item.
    [first] = receiver.wait_for(1)
    [bare] = first.json()["data"]["removals"]
    assert bare["external_id"] is None and bare["url"] is None
    assert bare["phash"] == code_to_hex(work.phash) and bare["request"] == ticket.reference
    lookup = api.post(f"{base}/api/v1/lookup/", json={"phashes": [code_to_hex(work.phash)]}).json()
    assert lookup["phashes"][code_to_hex(work.phash)] == [bare["id"]]

    # A new version of the data set brings a re-encoded, smaller copy at a URL nobody named.
    copy = photo("chelsea.png").convert("RGB").resize((225, 150))
    hashes = compute_hashes(image_bytes(copy, "JPEG", quality=75), max_pixels=10**8)
    row = hashes_row("repost-7", hashes, url="https://mirror.example/repost-7.jpg")
    assert api.post(f"{base}/api/v1/datasets/v1/items/", json={"items": [row]}).json()["created"] == 1

    # The worker re-matches it against the live removals: a new removal of the same request,
    # delivered like the first, and the URL now answers removed.
    received = receiver.wait_for(2, timeout=60)
    [later] = received[1].json()["data"]["removals"]
    assert later["external_id"] == "repost-7" and later["request"] == ticket.reference
    assert Removal.objects.filter(source_ref=ticket.reference).count() == 2
    urls = api.post(f"{base}/api/v1/lookup/", json={"urls": [row["url"]]}).json()["urls"]
    assert urls == {row["url"]: True}
    ticket.refresh_from_db()
    assert ticket.status == Status.APPROVED
    wait_until(
        lambda: ticket.events.filter(kind=EventKind.REMOVALS).count() == 2,
        what="the artist's timeline to tell of the copy found",
    )
