"""Changing a domain request's choice after approval, end to end: a real Celery worker delivers to a
loopback receiver, which verifies the signatures with the standardwebhooks library.

The artist's domain was removed; the approval's delivery is still retrying (the receiver answers
503 at first) when the artist chooses a licence on the request's page over HTTP. The rule's
removals are revoked and a grant recorded per registered item under it; the maintainer receives
`removal.revoked` only after `removal.approved`, then `licence.granted`, and the v2 protocol
answers optIn for the registered URL and for one no data set holds."""

from __future__ import annotations

import time

import pytest
import requests
from standardwebhooks.webhooks import Webhook

from registry import services as registry_services
from registry import tasks as registry_tasks
from registry.models import DomainOptOut, Removal, RemovalState
from requests_app import services
from tests.e2e.test_removal_flow import Browser
from tests.helpers import ARTIST_PASSWORD, verify_domain, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

REGISTERED = "https://img.artist.example/cat.jpg"
UNREGISTERED = "https://artist.example/never-registered.jpg"


def test_remove_then_licence_a_domain_reaches_the_maintainer_in_order(
    celery_worker_process, live_server, receiver, maintainer, artist, moderator
):
    dataset = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="photos", name="Photos")
    registry_services.items_upsert(dataset=dataset, rows=[{"external_id": "cat", "url": REGISTERED}])
    _endpoint, secret = registry_services.webhook_endpoint_create(
        maintainer=maintainer.maintainer,
        url=receiver.url,
        event_types=["removal.approved", "removal.revoked", "licence.granted"],
    )
    answers = iter([503])  # the first attempt fails: the approval is retrying when the change comes
    receiver.answer = lambda got: next(answers, 204)

    verify_domain(artist, "artist.example")
    ticket = services.domain_request_create(artist=artist, basis="copyright", lines=["*.artist.example"])
    services.request_submit(ticket=ticket, actor=artist.user, signed_name=artist.display_name)
    services.request_approve(ticket=ticket, moderator=moderator)
    ticket.refresh_from_db()
    removed = set(Removal.objects.filter(source_ref=ticket.reference).values_list("public_id", flat=True))
    assert len(removed) == 1
    receiver.wait_for(1)  # the failed attempt

    # --- the artist chooses a licence on the request's page, over HTTP
    browser = Browser(live_server.url)
    browser.page("/login/")
    browser.submit("/login/", {"username": artist.user.email, "password": ARTIST_PASSWORD})
    response = browser.submit(
        f"/requests/{ticket.reference}/choice/",
        {"choice": "licence", "licence": "cc-by", "attribution": "Photo: A. Artist"},
    )
    assert "the data set maintainers are told" in response.text
    assert "allowed for AI training under CC BY 4.0" in response.text
    assert DomainOptOut.objects.get().choice == "licence"
    assert not Removal.objects.exclude(state=RemovalState.REVOKED).exists()

    def swept_until_delivered() -> bool:
        with receiver.lock:
            if len(receiver.received) >= 4:
                return True
        registry_tasks.deliveries_sweep.delay()  # as beat would: the retry is due later
        time.sleep(1)
        return False

    wait_until(swept_until_delivered, timeout=90, what="the retried approval, the revocation, the grant")
    delivered = [Webhook(secret).verify(g.body, g.headers) for g in receiver.wait_for(4)]
    types = [d["type"] for d in delivered]
    assert types == ["removal.approved", "removal.approved", "removal.revoked", "licence.granted"], types
    assert {r["id"] for r in delivered[2]["data"]["removals"]} == removed
    [grant] = delivered[3]["data"]["licences"]
    assert (grant["url"], grant["licence"], grant["request"]) == (REGISTERED, "cc-by", ticket.reference)

    v2 = requests.post(
        f"{live_server.url}/api/v2/query/urls/",
        data=f"{REGISTERED}\n{UNREGISTERED}",
        headers={"Authorization": f"API {maintainer.key}", "Content-Type": "text/plain"},
        timeout=30,
    ).json()
    assert [(a["optIn"], a["optOut"]) for a in v2["urls"]] == [(True, False), (True, False)]
