"""requests_app.services.moderation: the whole flow through services up to the approval (the contract
every view builds on), and the decisions the workflow refuses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from registry import services as registry_services
from registry.hashing import code_to_hex, compute_hashes
from registry.models import Removal, RemovalState, WebhookDelivery
from registry.services import delivery
from requests_app import services
from requests_app.models import (
    EventKind,
    MatchState,
    Priority,
    RemovalRequest,
    TicketEvent,
)
from requests_app.tasks import sla_escalate
from requests_app.workflow import Status
from tests.helpers import (
    image_bytes,
    make_request,
    photo,
    photo_bytes,
)


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

    ticket = services.request_create(artist=artist, basis="copyright")
    added = services.works_add(
        ticket=ticket,
        actor=artist.user,
        files=[
            SimpleUploadedFile("cat.png", photo_bytes("chelsea.png")),
            SimpleUploadedFile("junk.png", b"not an image"),
        ],
    )
    assert len(added.works) == 1 and added.errors[0].name == "junk.png"
    assert services.work_hash_and_match(work_id=added.works[0].pk) == "done"
    match = added.works[0].matches.get()
    services.matches_decide(ticket=ticket, actor=artist.user, confirm=[match.pk])
    services.request_submit(ticket=ticket, actor=artist.user, signed_name="Ada Lovelace")

    with django_capture_on_commit_callbacks(execute=False):
        services.request_approve(ticket=ticket, moderator=moderator, reason="clear case")
    ticket.refresh_from_db()
    assert ticket.status == Status.APPROVED
    match.refresh_from_db()
    assert match.state == MatchState.APPROVED

    d = WebhookDelivery.objects.get()
    assert delivery.delivery_attempt(d.pk) == "succeeded"
    [got] = receiver.received
    payload = Webhook(secret).verify(got.body, got.headers)
    [removal_json] = payload["data"]["removals"]
    assert removal_json["request"] == ticket.reference
    assert Removal.objects.get().state == RemovalState.DELIVERED

    with django_capture_on_commit_callbacks(execute=True):
        response = maintainer.client().post(
            "/api/v1/datasets/demo/removals/ack", {"ids": [removal_json["id"], "rm_nope"]}, format="json"
        )
    assert response.json() == {"acknowledged": 1, "unknown": ["rm_nope"]}
    ticket.refresh_from_db()
    assert ticket.status == Status.COMPLETED
    kinds = list(TicketEvent.objects.filter(request=ticket).values_list("new_value", flat=True))
    assert "completed" in kinds


def test_a_draft_cannot_be_approved_and_nothing_is_written(artist, moderator):
    ticket = services.request_create(artist=artist, basis="copyright")
    with pytest.raises(services.ActionRefused, match="only submitted or in-review"):
        services.request_approve(ticket=ticket, moderator=moderator)
    ticket.refresh_from_db()
    assert ticket.status == Status.DRAFT
    assert not TicketEvent.objects.filter(request=ticket, kind=EventKind.STATUS).exists()


def test_reject_needs_a_reason(artist, moderator):
    ticket = services.request_create(artist=artist, basis="copyright")
    with pytest.raises(services.ActionRefused, match="reason"):
        services.request_reject(ticket=ticket, moderator=moderator, reason="  ")


# --- SLA -----------------------------------------------------------------------------


def test_sla_is_set_per_status_and_overdue_requests_are_escalated_once(
    artist,
    moderator,
    second_moderator,
    dataset,
    settings,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    settings.SLA_HOURS = {"submitted": 48, "in_review": 120}
    ticket = make_request(artist, "chelsea.png")
    assert abs((ticket.sla_due_at - ticket.submitted_at) - timedelta(hours=48)) < timedelta(seconds=5)
    RemovalRequest.objects.filter(pk=ticket.pk).update(sla_due_at=timezone.now() - timedelta(hours=3))
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_escalate() == 1
    assert sla_escalate() == 0  # once per due time
    ticket.refresh_from_db()
    assert ticket.priority == Priority.HIGH and ticket.escalated_at is not None
    assert TicketEvent.objects.filter(request=ticket, kind=EventKind.ESCALATION).count() == 1
    [mail] = [m for m in mailoutbox if "Overdue" in m.subject]
    assert sorted(mail.to) == ["mod2@example.com", "mod@example.com"]  # nobody claimed it: every moderator

    services.request_start_review(ticket=ticket, moderator=moderator)
    ticket.refresh_from_db()
    assert ticket.sla_due_at > timezone.now() + timedelta(hours=119)
    # Time passes: the new due time (set by the transition, after the last escalation) goes by.
    RemovalRequest.objects.filter(pk=ticket.pk).update(
        escalated_at=timezone.now() - timedelta(days=6), sla_due_at=timezone.now() - timedelta(minutes=1)
    )
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert sla_escalate() == 1
    assert [m.to for m in mailoutbox if "Overdue" in m.subject] == [["mod@example.com"]]  # the assignee
