"""Changing a choice after approval, end to end: a real Celery worker delivers to a loopback
receiver, which verifies the signatures with the standardwebhooks library.

The artist's work was removed; the approval's delivery is still retrying (the receiver answers
503 at first) when the artist chooses a licence on the work's page over HTTP. The removal is
revoked through the registry's revocation writer, and the maintainer receives `removal.revoked`
only after `removal.approved` (delivery's order check), then `licence.granted` for the same
work after the revocation, while the v2 protocol answers optIn."""

from __future__ import annotations

import time

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from standardwebhooks.webhooks import Webhook

from registry import services as registry_services
from registry import tasks as registry_tasks
from registry.models import GrantState, LicenceGrant, Removal, RemovalState
from requests_app import services
from requests_app.models import Work
from tests.e2e.test_removal_flow import Browser
from tests.helpers import ARTIST_PASSWORD, dataset_with_copy, photo_bytes, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

COPY = "https://cdn.lab.example/chelsea.jpg"


def test_remove_then_licence_reaches_the_maintainer_in_the_order_it_happened(
    celery_worker_process, live_server, receiver, maintainer, artist, moderator
):
    dataset_with_copy(maintainer, slug="photos", name="Photos", url=COPY)
    _endpoint, secret = registry_services.webhook_endpoint_create(
        maintainer=maintainer.maintainer,
        url=receiver.url,
        event_types=["removal.approved", "removal.revoked", "licence.granted"],
    )
    answers = iter([503])  # the first attempt fails: the approval is retrying when the change comes
    receiver.answer = lambda got: next(answers, 204)

    # The request, its work hashed and matched by the worker (which takes the task at commit).
    ticket = services.request_create(artist=artist, basis="copyright", description="my cat")
    [work] = services.works_add(
        ticket=ticket,
        actor=artist.user,
        files=[SimpleUploadedFile("chelsea.png", photo_bytes("chelsea.png"))],
    ).works
    wait_until(lambda: Work.objects.get(pk=work.pk).hash_state == "done", what="the worker to match the work")
    confirm = list(work.matches.values_list("pk", flat=True))
    assert confirm, "chelsea.png should match its copy"
    services.matches_decide(ticket=ticket, actor=artist.user, confirm=confirm)
    services.request_submit(ticket=ticket, actor=artist.user, signed_name=artist.display_name)
    services.request_approve(ticket=ticket, moderator=moderator)
    ticket.refresh_from_db()
    removed = set(Removal.objects.filter(source_ref=ticket.reference).values_list("public_id", flat=True))
    receiver.wait_for(1)  # the failed attempt

    # --- the artist chooses a licence on the work's page, over HTTP
    work = ticket.works.get()
    browser = Browser(live_server.url)
    browser.page("/login/")
    browser.submit("/login/", {"username": artist.user.email, "password": ARTIST_PASSWORD})
    page = f"/requests/{ticket.reference}/works/{work.pk}/choice/"
    response = browser.submit(
        page, {"choice": "licence", "licence": "cc-by", "attribution": "Photo: A. Artist"}
    )
    assert "the data set maintainers are told" in response.text
    assert (
        not Removal.objects.filter(source_ref=ticket.reference).exclude(state=RemovalState.REVOKED).exists()
    )

    # --- the worker delivers both, approval first, each signed. Retries are found by beat's sweep
    # (not running here): it is queued to the real worker the way beat would, until both are in.
    def swept_until_delivered() -> bool:
        with receiver.lock:
            if len(receiver.received) >= 4:
                return True
        registry_tasks.deliveries_sweep.delay()
        time.sleep(1)
        return False

    wait_until(swept_until_delivered, timeout=90, what="the retried approval, the revocation, the grant")
    got = receiver.wait_for(4)
    delivered = [Webhook(secret).verify(g.body, g.headers) for g in got]
    types = [d["type"] for d in delivered]
    assert types[0] == "removal.approved"  # the failed attempt
    assert types[1:] == ["removal.approved", "removal.revoked", "licence.granted"], types
    approved, revoked, granted = delivered[1], delivered[2], delivered[3]
    assert {r["id"] for r in approved["data"]["removals"]} == removed
    assert {r["id"] for r in revoked["data"]["removals"]} == removed
    assert {(r["state"], r["train_ai"]) for r in revoked["data"]["removals"]} == {("revoked", "disallowed")}
    assert revoked["timestamp"] > approved["timestamp"]
    [licensed] = [g for g in granted["data"]["licences"] if g["url"] == COPY]
    assert (licensed["licence"], licensed["attribution"], licensed["train_ai"]) == (
        "cc-by",
        "Photo: A. Artist",
        "allowed",
    )

    # --- the maintainer's interfaces: the revocations feed, the licences feed, v2's optIn
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {maintainer.key}"
    base = f"{live_server.url}/api/v1/datasets/photos"
    assert {r["id"] for r in api.get(f"{base}/revocations/").json()["results"]} == removed
    [grant] = [g for g in api.get(f"{base}/licences/").json()["results"] if g["url"] == COPY]
    assert (grant["licence"], grant["attribution"], grant["state"]) == ("cc-by", "Photo: A. Artist", "active")
    v2 = requests.post(
        f"{live_server.url}/api/v2/query/urls/",
        data=COPY,
        headers={"Authorization": f"API {maintainer.key}", "Content-Type": "text/plain"},
        timeout=30,
    ).json()
    assert v2 == {"urls": [{"url": COPY, "optIn": True, "optOut": False}]}
    assert LicenceGrant.objects.filter(source_ref=ticket.reference, state=GrantState.ACTIVE).exists()

    # --- the artist's receipt keeps the history
    history = browser.page(page).text
    assert "changed from “Remove from AI training” to “Allow under a licence (CC BY 4.0)”" in history
    wait_until(
        lambda: (
            not Removal.objects.filter(
                source_ref=ticket.reference, webhook_events__deliveries__state="pending"
            )
            .distinct()
            .exists()
        ),
        what="every delivery to finish",
    )
