"""The Celery tasks in a real worker process on Redis: hashing after upload, delivery after approval."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from registry import services as registry_services
from registry.hashing import code_to_hex, compute_hashes
from registry.models import DeliveryState, WebhookDelivery
from requests_app import services
from requests_app.models import HashState, Work
from tests.helpers import image_bytes, photo, photo_bytes, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_the_worker_hashes_uploads_and_delivers_approvals(
    celery_worker_process, artist, moderator, maintainer, receiver
):
    dataset = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    copy = photo("coffee.png").convert("RGB").resize((300, 200))
    h = compute_hashes(image_bytes(copy, "JPEG", quality=70), max_pixels=10**8)
    registry_services.items_upsert(
        dataset=dataset,
        rows=[{"external_id": "c1", "url": "https://i.example/coffee.jpg", "phash": code_to_hex(h.phash)}],
    )
    registry_services.webhook_endpoint_create(
        maintainer=maintainer.maintainer, url=receiver.url, event_types=["removal.approved"]
    )
    ticket = services.request_create(artist=artist, basis="copyright")
    added = services.works_add(
        ticket=ticket,
        actor=artist.user,
        files=[SimpleUploadedFile("coffee.png", photo_bytes("coffee.png"))],
    )
    work_id = added.works[0].pk
    wait_until(
        lambda: Work.objects.get(pk=work_id).hash_state == HashState.DONE, what="the worker to hash the work"
    )
    match = Work.objects.get(pk=work_id).matches.get()
    services.matches_decide(ticket=ticket, actor=artist.user, confirm=[match.pk])
    services.request_submit(ticket=ticket, actor=artist.user, signed_name="Ada Lovelace")
    services.request_approve(ticket=ticket, moderator=moderator)
    [got] = receiver.wait_for(1)
    assert got.json()["data"]["removals"][0]["request"] == ticket.reference
    wait_until(
        lambda: WebhookDelivery.objects.get().state == DeliveryState.SUCCEEDED, what="the delivery row"
    )
