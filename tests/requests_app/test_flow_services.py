"""The whole flow through services, in one process: the contract every view builds on."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from standardwebhooks.webhooks import Webhook

from registry import services as registry_services
from registry.hashing import code_to_hex, compute_hashes
from registry.models import Removal, RemovalState, WebhookDelivery
from registry.services import delivery
from requests_app import services
from requests_app.models import MatchState, TicketEvent
from requests_app.workflow import Status
from tests.conftest import image_bytes, photo, photo_bytes


def test_it_runs_the_whole_flow(artist, moderator, maintainer, receiver, django_capture_on_commit_callbacks):
    dataset = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="demo", name="Demo")
    copy = photo("chelsea.png").convert("RGB").resize((300, 200))
    h = compute_hashes(image_bytes(copy, "JPEG", quality=60), max_pixels=10**8)
    result = registry_services.items_upsert(
        dataset=dataset,
        rows=[{"external_id": "1", "url": "https://img.example/cat.jpg", "phash": code_to_hex(h.phash)}],
    )
    assert result.created == 1
    _, secret = registry_services.webhook_endpoint_create(
        maintainer=maintainer.maintainer, url=receiver.url, event_types=["removal.approved"]
    )

    request = services.request_create(artist=artist, basis="copyright")
    added = services.works_add(
        request=request,
        actor=artist.user,
        files=[
            SimpleUploadedFile("cat.png", photo_bytes("chelsea.png")),
            SimpleUploadedFile("junk.png", b"not an image"),
        ],
    )
    assert len(added.works) == 1 and added.errors[0].name == "junk.png"
    assert services.work_hash_and_match(work_id=added.works[0].pk) == "done"
    match = added.works[0].matches.get()
    services.matches_decide(request=request, actor=artist.user, confirm=[match.pk])
    services.request_submit(request=request, actor=artist.user, signed_name="Ada Lovelace")

    with django_capture_on_commit_callbacks(execute=False):
        services.request_approve(request=request, moderator=moderator, reason="clear case")
    request.refresh_from_db()
    assert request.status == Status.APPROVED
    match.refresh_from_db()
    assert match.state == MatchState.APPROVED

    d = WebhookDelivery.objects.get()
    assert delivery.delivery_attempt(d.pk) == "succeeded"
    [got] = receiver.received
    payload = Webhook(secret).verify(got.body, got.headers)
    [removal_json] = payload["data"]["removals"]
    assert removal_json["request"] == request.reference
    assert Removal.objects.get().state == RemovalState.DELIVERED

    with django_capture_on_commit_callbacks(execute=True):
        response = maintainer.client().post(
            "/api/v1/datasets/demo/removals/ack", {"ids": [removal_json["id"], "rm_nope"]}, format="json"
        )
    assert response.json() == {"acknowledged": 1, "unknown": ["rm_nope"]}
    request.refresh_from_db()
    assert request.status == Status.COMPLETED
    kinds = list(TicketEvent.objects.filter(request=request).values_list("new_value", flat=True))
    assert "completed" in kinds
