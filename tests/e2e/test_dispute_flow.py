"""A dispute end to end: a real Celery worker delivers to a loopback receiver, which verifies the
signatures with the standardwebhooks library.

The artist's removal is approved and delivered (`removal.approved`); the maintainer disputes it
through the API ("not a copy"); the artist is told and answers on the dispute's page over HTTP;
the moderator revokes it from the desk; the maintainer receives `removal.revoked` after the
approval, the revocations feed lists it, and the request's timeline holds the whole exchange."""

from __future__ import annotations

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from standardwebhooks.webhooks import Webhook

from registry import services as registry_services
from registry.models import Dispute, DisputeState, Removal, RemovalState
from requests_app import services
from requests_app.models import EventKind, TicketEvent, Work
from tests.e2e.test_removal_flow import Browser
from tests.helpers import ARTIST_PASSWORD, dataset_with_copy, logged_in, photo_bytes, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

COPY = "https://cdn.lab.example/chelsea.jpg"


def test_a_maintainers_dispute_answered_and_revoked_reaches_it_after_the_approval(
    celery_worker_process, live_server, receiver, maintainer, artist, moderator
):
    dataset_with_copy(maintainer, slug="photos", name="Photos", url=COPY)
    _endpoint, secret = registry_services.webhook_endpoint_create(
        maintainer=maintainer.maintainer,
        url=receiver.url,
        event_types=["removal.approved", "removal.revoked"],
    )
    ticket = services.request_create(artist=artist, basis="copyright", description="my cat")
    [work] = services.works_add(
        ticket=ticket,
        actor=artist.user,
        files=[SimpleUploadedFile("chelsea.png", photo_bytes("chelsea.png"))],
    ).works
    wait_until(lambda: Work.objects.get(pk=work.pk).hash_state == "done", what="the worker to match the work")
    services.matches_decide(
        ticket=ticket, actor=artist.user, confirm=list(work.matches.values_list("pk", flat=True))
    )
    services.request_submit(ticket=ticket, actor=artist.user, signed_name=artist.display_name)
    services.request_approve(ticket=ticket, moderator=moderator)
    ticket.refresh_from_db()
    [approved] = receiver.wait_for(1)
    removal = Removal.objects.get(source_ref=ticket.reference)
    wait_until(lambda: Removal.objects.get(pk=removal.pk).state == RemovalState.DELIVERED, what="delivered")

    # --- the maintainer disputes it over HTTP
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {maintainer.key}"
    created = api.post(
        f"{live_server.url}/api/v1/datasets/photos/disputes/",
        json={
            "removal": removal.public_id,
            "reason": "not_a_copy",
            "statement": "Our item is a different photograph of a similar cat, shot by our own team.",
            "links": ["https://lab.example/provenance/chelsea"],
        },
        timeout=30,
    )
    assert created.status_code == 201, created.text
    dispute_id = created.json()["id"]

    # --- the artist answers on the dispute's page, over HTTP
    browser = Browser(live_server.url)
    browser.page("/login/")
    browser.submit("/login/", {"username": artist.user.email, "password": ARTIST_PASSWORD})
    request_page = browser.page(f"/requests/{ticket.reference}/").text
    assert dispute_id in request_page
    answered = browser.submit(
        f"/requests/{ticket.reference}/disputes/{dispute_id}/",
        {"body": "The data set's image is my photograph, cropped; the RAW file is dated 2019.", "links": ""},
    )
    assert "Your answer is sent" in answered.text
    assert api.get(f"{live_server.url}/api/v1/datasets/photos/disputes/{dispute_id}/", timeout=30).json()[
        "answered"
    ]

    # --- the moderator revokes it from the desk
    dispute = Dispute.objects.get(public_id=dispute_id)
    response = logged_in(moderator).post(
        reverse("admin:registry_dispute_decide", args=[dispute.pk]),
        {"outcome": "revoke", "reason": "The lab showed its item is another photograph."},
    )
    assert response.status_code == 302
    assert Dispute.objects.get(pk=dispute.pk).state == DisputeState.REVOKED

    # --- the worker delivers the revocation after the approval, signed
    got = receiver.wait_for(2, timeout=60)
    delivered = [Webhook(secret).verify(g.body, g.headers) for g in got]
    assert [d["type"] for d in delivered] == ["removal.approved", "removal.revoked"]
    [revoked] = delivered[1]["data"]["removals"]
    assert revoked["id"] == removal.public_id and revoked["state"] == "revoked"
    assert (
        revoked["revoked_reason"] == f"Dispute {dispute_id}: The lab showed its item is another photograph."
    )
    assert delivered[1]["timestamp"] > delivered[0]["timestamp"]
    feed = api.get(f"{live_server.url}/api/v1/datasets/photos/revocations/", timeout=30).json()
    assert [r["id"] for r in feed["results"]] == [removal.public_id]
    shown = api.get(f"{live_server.url}/api/v1/datasets/photos/disputes/{dispute_id}/", timeout=30).json()
    assert (shown["state"], shown["outcome"]) == ("revoked", "revoked")

    # --- the whole exchange is on the request's timeline, in order
    steps = [
        e.params["step"]
        for e in TicketEvent.objects.filter(request=ticket, kind=EventKind.DISPUTE).order_by("pk")
    ]
    assert steps == ["opened", "answered", "decided"]
    assert [m.kind for m in dispute.messages.order_by("pk")] == ["filed", "opened", "answer", "decision"]
    assert approved.headers["webhook-id"] != got[1].headers["webhook-id"]
