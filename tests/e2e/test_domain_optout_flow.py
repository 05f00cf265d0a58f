"""A whole domain opted out, over real HTTP with a real Celery worker on Redis and PostgreSQL.

A maintainer registers a data set with items on and off the artist's domain and a webhook; the
artist (domain verified) files a domain request from a prefilled link, signs and submits; a
moderator sees what it covers on the desk and approves; the worker delivers the signed webhook
to a loopback receiver; the feed lists the removals; an item imported later is removed at once;
and the lookup answers "removed" for a URL under the domain that no data set holds.
"""

from __future__ import annotations

import pytest
import requests
from django.contrib.auth.models import Group, User
from standardwebhooks.webhooks import Webhook

from registry import services as registry_services
from registry.models import Removal
from requests_app.models import RemovalRequest
from requests_app.roles import MODERATOR_GROUP
from requests_app.workflow import Status
from tests.e2e.test_removal_flow import Browser
from tests.helpers import ARTIST_PASSWORD, make_artist, verify_domain, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_a_verified_domain_is_opted_out_whole(celery_worker_process, live_server, receiver):
    base = live_server.url
    _, key = registry_services.maintainer_create(name="Web Crawl Lab", email="ops@crawl.example")
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {key}"
    assert api.post(f"{base}/api/v1/datasets", json={"slug": "web", "name": "Web"}).status_code == 201
    items = [
        {"external_id": "on-1", "url": "https://maria.example/gallery/1.jpg"},
        {"external_id": "on-2", "url": "https://img.maria.example/2.png"},
        {"external_id": "off-1", "url": "https://notmaria.example/3.jpg"},
        {"external_id": "off-2", "url": "https://maria.example.evil.net/4.jpg"},
    ]
    assert api.post(f"{base}/api/v1/datasets/web/items/", json={"items": items}).json()["created"] == 4
    secret: dict[str, str] = {}
    receiver.answer = lambda got: (Webhook(secret["value"]).verify(got.body, got.headers), 204)[1]
    hook = api.post(f"{base}/api/v1/webhooks/", json={"url": receiver.url, "events": ["removal.approved"]})
    secret["value"] = hook.json()["secret"]

    # --- the artist, who proved maria.example, files the request from a prefilled link
    profile = make_artist("maria@maria.example", name="Maria Sibylla Merian")
    verify_domain(profile, "maria.example")
    artist = Browser(base)
    artist.page("/login/")
    artist.submit("/login/", {"username": "maria@maria.example", "password": ARTIST_PASSWORD})
    form = artist.page("/requests/new/domain/", scope="*.maria.example").text
    assert "*.maria.example</textarea>" in form
    refused = artist.post(
        base + "/requests/new/domain/",
        data={"csrfmiddlewaretoken": artist.cookies["csrftoken"], "basis": "copyright",
              "scope": "*.maria.example\nsomeone-else.example"},
        headers={"Referer": base + "/requests/new/domain/"},
        timeout=30,
    )  # fmt: skip
    assert (
        refused.status_code == 400
        and "someone-else.example is not one of your verified domains" in refused.text
    )
    assert not RemovalRequest.objects.exists()
    page = artist.submit("/requests/new/domain/", {"basis": "copyright", "scope": "*.maria.example"}).text
    ticket = RemovalRequest.objects.get()
    assert "<code>*.maria.example</code>" in page
    artist.submit(f"/requests/{ticket.reference}/submit/", {"signed_name": "Maria Sibylla Merian"})
    assert RemovalRequest.objects.get(pk=ticket.pk).status == Status.SUBMITTED

    # --- the moderator sees what the line covers, per data set, and approves
    moderator = User.objects.create_user(
        "mod@desk.example", "mod@desk.example", ARTIST_PASSWORD, is_staff=True
    )
    moderator.groups.add(Group.objects.get(name=MODERATOR_GROUP))
    desk = Browser(base)
    desk.page("/admin/login/")
    desk.submit("/admin/login/?next=/admin/", {"username": "mod@desk.example", "password": ARTIST_PASSWORD})
    change_page = desk.page(f"/admin/requests_app/removalrequest/{ticket.pk}/change/").text
    assert "Domain scope" in change_page and "Web (Web Crawl Lab): <strong>2</strong>" in change_page
    desk.submit(
        f"/admin/requests_app/removalrequest/{ticket.pk}/decide/",
        {"decision": "approve", "reason": "Proved."},
    )
    assert RemovalRequest.objects.get(pk=ticket.pk).status == Status.APPROVED

    # --- the worker delivers the signed webhook; the feed holds the same removals
    [webhook] = receiver.wait_for(1)
    delivered = {r["external_id"] for r in webhook.json()["data"]["removals"]}
    assert delivered == {"on-1", "on-2"}
    assert {r["request"] for r in webhook.json()["data"]["removals"]} == {ticket.reference}
    feed = api.get(f"{base}/api/v1/datasets/web/removals/").json()
    assert {r["external_id"] for r in feed["results"]} == {"on-1", "on-2"}

    # --- an item imported later is removed when it is written, and delivered too
    later = [{"external_id": "on-3", "url": "https://shop.maria.example/new.jpg"}]
    assert api.post(f"{base}/api/v1/datasets/web/items/", json={"items": later}).json()["created"] == 1
    assert Removal.objects.filter(source_ref=ticket.reference, external_id="on-3").exists()
    wait_until(lambda: len(receiver.received) >= 2, what="the webhook of the item imported later")
    assert receiver.received[1].json()["data"]["removals"][0]["external_id"] == "on-3"
    timeline = artist.page(f"/requests/{ticket.reference}/").text
    assert "Everything under *.maria.example is opted out: 2 registered items removed" in timeline
    assert "1 more copy of your works found in Web (Web Crawl Lab)" in timeline

    # --- a URL under the domain that no data set holds is opted out in both lookups
    unlisted = "https://cdn.maria.example/never-crawled.jpg"
    body = api.post(f"{base}/api/v1/lookup/", json={"urls": [unlisted, "https://notmaria.example/3.jpg"]})
    assert body.json()["urls"] == {unlisted: True, "https://notmaria.example/3.jpg": False}
    v2 = requests.post(
        f"{base}/api/v2/query/urls/", data=unlisted, headers={"Authorization": f"API {key}"}, timeout=30
    )
    assert v2.json() == {"urls": [{"url": unlisted, "optIn": False, "optOut": True}]}
