"""The whole removal flow over real HTTP, with a real Celery worker on Redis and PostgreSQL.

A maintainer registers a data set, its index and a webhook through the API;
an artist signs up, confirms their email, uploads works and confirms the
matches the worker found; a moderator approves in the admin; the maintainer's
receiver verifies the signed webhook with the standardwebhooks library and
acknowledges through the API; the artist's page then shows the confirmation.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import urlsplit

import pytest
import requests
from django.contrib.auth.models import Group, User
from django.core import mail
from standardwebhooks.webhooks import Webhook

from registry import services as registry_services
from registry.hashing import compute_hashes
from registry.models import Removal, RemovalState
from requests_app.models import RemovalRequest
from requests_app.roles import MODERATOR_GROUP
from requests_app.workflow import Status
from tests.helpers import hashes_row, image_bytes, photo, photo_bytes, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

PASSWORD = "a long enough pass phrase 42"


class Browser(requests.Session):
    """A session that sends Django's CSRF token the way a form would."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base

    def page(self, path: str, **params: str) -> requests.Response:
        response = self.get(self.base + path, params=params, timeout=30)
        assert response.status_code == 200, (path, response.status_code, response.text[:500])
        return response

    def submit(self, path: str, data: dict | None = None, files=None) -> requests.Response:
        token = self.cookies.get("csrftoken") or self.page(path).cookies.get("csrftoken")
        response = self.post(
            self.base + path,
            data={"csrfmiddlewaretoken": token, **(data or {})},
            files=files,
            headers={"Referer": self.base + path},
            timeout=60,
        )
        assert response.status_code == 200, (path, response.status_code, response.text[:500])
        return response


def test_an_artist_gets_a_removal_confirmed_by_the_maintainer(celery_worker_process, live_server, receiver):
    base = live_server.url

    # --- the maintainer registers a data set that holds altered copies of the artist's works
    _, key = registry_services.maintainer_create(name="Open Images Lab", email="ops@lab.example")
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {key}"
    assert (
        api.post(f"{base}/api/v1/datasets", json={"slug": "photos-v1", "name": "Photos v1"}).status_code
        == 201
    )
    items = []
    for name, variant in [("chelsea.png", "small"), ("coffee.png", "banner")]:
        copy = photo(name).convert("RGB").resize((photo(name).width // 2, photo(name).height // 2))
        if variant == "banner":
            copy.paste((255, 255, 255), (0, int(copy.height * 0.92), copy.width, copy.height))
        h = compute_hashes(image_bytes(copy, "JPEG", quality=70), max_pixels=10**8)
        items.append(hashes_row(name, h, url=f"https://cdn.lab.example/{name}.jpg"))
    items.append(
        {"external_id": "unrelated", "url": "https://cdn.lab.example/x.jpg", "phash": "0123456789abcdef"}
    )
    upsert = api.post(f"{base}/api/v1/datasets/photos-v1/items/", json={"items": items}).json()
    assert upsert == {"created": 3, "updated": 0, "rejected": []}

    # The receiver verifies each webhook and acknowledges through the API, as a maintainer's service would.
    secret_box: dict[str, str] = {}
    acked: list[str] = []

    def acknowledge(ids: list[str]) -> None:
        response = api.post(f"{base}/api/v1/datasets/photos-v1/removals/ack/", json={"ids": ids})
        assert response.status_code == 200
        acked.extend(ids)

    def on_webhook(got):
        payload = Webhook(secret_box["secret"]).verify(got.body, got.headers)
        ids = [r["id"] for r in payload["data"]["removals"]]
        threading.Thread(target=acknowledge, args=(ids,)).start()
        return 204

    receiver.answer = on_webhook
    created = api.post(
        f"{base}/api/v1/webhooks/", json={"url": receiver.url, "events": ["removal.approved"]}
    ).json()
    secret_box["secret"] = created["secret"]

    # --- the artist signs up and confirms their email address
    artist = Browser(base)
    artist.page("/signup/")
    artist.submit(
        "/signup/",
        {
            "email": "maria@artist.example",
            "display_name": "Maria Sibylla Merian",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    [verification] = [m for m in mail.outbox if "Confirm" in m.subject]
    link = re.search(r"https?://\S+/verify-email/\S+", verification.body).group(0)
    assert "confirmed" in artist.page(urlsplit(link).path).text.lower()

    # --- a new request with two works and one file that is not an image
    artist.page("/requests/new/")
    response = artist.submit(
        "/requests/new/",
        {"basis": "copyright", "description": "My cat and my coffee, first published on my site."},
        files=[
            ("works", ("chelsea.png", photo_bytes("chelsea.png"), "image/png")),
            ("works", ("coffee.jpg", photo_bytes("coffee.png", "JPEG", quality=92), "image/jpeg")),
            ("works", ("notes.png", b"these are not pixels", "image/png")),
        ],
    )
    assert "notes.png" in response.text
    ticket = RemovalRequest.objects.get(artist__user__email="maria@artist.example")
    assert ticket.works.count() == 2

    status = wait_until(
        lambda: (
            (s := artist.page(f"/requests/{ticket.reference}/status.json").json())
            and all(w["hash_state"] == "done" for w in s["works"])
            and s
        ),
        what="the worker to hash and match both works",
    )
    assert status["matches"] == 2
    page = artist.page(f"/requests/{ticket.reference}/").text
    assert "https://cdn.lab.example/chelsea.png.jpg" in page and "https://cdn.lab.example/x.jpg" not in page

    artist.submit(f"/requests/{ticket.reference}/matches/", {"confirm_all": "1"})
    artist.submit(f"/requests/{ticket.reference}/submit/", {"signed_name": "Maria Sibylla Merian"})
    ticket.refresh_from_db()
    assert ticket.status == Status.SUBMITTED

    # --- a moderator (not a superuser) approves it in the admin
    moderator = User.objects.create_user("mod@desk.example", "mod@desk.example", PASSWORD, is_staff=True)
    moderator.groups.add(Group.objects.get(name=MODERATOR_GROUP))
    desk = Browser(base)
    desk.page("/admin/login/")
    desk.submit("/admin/login/?next=/admin/", {"username": "mod@desk.example", "password": PASSWORD})
    change_page = f"/admin/requests_app/removalrequest/{ticket.pk}/change/"
    assert ticket.reference in desk.page(change_page).text
    desk.submit(
        f"/admin/requests_app/removalrequest/{ticket.pk}/decide/", {"decision": "approve", "reason": "Clear."}
    )
    ticket.refresh_from_db()
    assert ticket.status in (Status.APPROVED, Status.COMPLETED)

    # --- the maintainer receives the signed webhook and acknowledges; the request completes
    [webhook] = receiver.wait_for(1)
    assert webhook.json()["data"]["dataset"] == "photos-v1"
    wait_until(lambda: RemovalRequest.objects.get(pk=ticket.pk).status == Status.COMPLETED, what="completion")
    removals = list(Removal.objects.filter(source_ref=ticket.reference))
    assert len(removals) == 2 and {r.state for r in removals} == {RemovalState.ACKNOWLEDGED}
    assert sorted(acked) == sorted(r.public_id for r in removals)

    # The feed tells the same story to a maintainer that polls instead.
    feed = api.get(f"{base}/api/v1/datasets/photos-v1/removals/").json()
    assert {r["state"] for r in feed["results"]} == {"acknowledged"}

    # --- the artist sees the confirmation, per data set, with times
    page = artist.page(f"/requests/{ticket.reference}/").text
    assert "Photos v1" in page
    assert "acknowledged" in page.lower() or "confirmed" in page.lower()
    assert any("removed" in m.subject.lower() for m in mail.outbox if m.to == ["maria@artist.example"])
