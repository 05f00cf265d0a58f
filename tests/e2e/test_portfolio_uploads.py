"""Portfolio uploads end to end: a zip of 205+ works and loose images sent in chunks over HTTP to
the live server, unpacked by a real Celery worker, every work hashed and matched, a copy found."""

from __future__ import annotations

import hashlib

import pytest
import requests

from requests_app import services
from requests_app.models import EventKind, HashState, PortfolioUpload, TicketEvent, Work
from tests.helpers import (
    dataset_with_copy,
    distinct_png,
    make_zip,
    photo_bytes,
    wait_until,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def _session(live_server, artist) -> requests.Session:
    from django.test import Client

    client = Client()
    client.force_login(artist.user)
    session = requests.Session()
    session.cookies.set("sessionid", client.cookies["sessionid"].value)
    page = session.get(live_server.url + "/portfolio/upload/", timeout=30)
    assert page.status_code == 200
    session.headers.update(
        {
            "X-CSRFToken": session.cookies["csrftoken"],
            "Referer": live_server.url + "/",
            "Accept": "application/json",
        }
    )
    return session


def _send(session: requests.Session, base: str, name: str, data: bytes, **extra) -> dict:
    """The page's protocol: announce, then chunks at their offset until the server has every byte."""
    created = session.post(
        base + "/portfolio/uploads/",
        json={"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), **extra},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    upload = created.json()
    offset = 0
    while offset < len(data):
        chunk = data[offset : offset + upload["chunk_size"]]
        answer = session.patch(
            base + upload["url"], data=chunk, headers={"Upload-Offset": str(offset)}, timeout=60
        )
        assert answer.status_code == 200, answer.text
        offset = answer.json()["offset"]
    return answer.json()


def test_a_zip_of_205_works_and_loose_images_are_all_hashed_and_matched(
    celery_worker_process, live_server, artist, maintainer, settings
):
    settings.PORTFOLIO_CHUNK_BYTES = 16 * 1024  # several chunks per file, as a 2 GB zip has
    dataset_with_copy(maintainer, slug="photos", name="Photos", url="https://cdn.example/cat.jpg")
    ticket = services.request_create(artist=artist, basis="copyright")
    session = _session(live_server, artist)
    members = {f"portfolio/w{i:03d}.png": distinct_png(i) for i in range(205)}
    members["portfolio/cat.png"] = photo_bytes("chelsea.png")
    members["portfolio/again.png"] = distinct_png(0)  # the same picture as w000.png

    into_ticket = _send(session, live_server.url, "portfolio.zip", make_zip(members), ticket=ticket.reference)
    loose = _send(session, live_server.url, "coffee.jpg", photo_bytes("coffee.png", "JPEG"))
    assert into_ticket["state"] == loose["state"] == "queued"

    def finished() -> bool:
        states = [session.get(live_server.url + u["url"], timeout=30).json() for u in (into_ticket, loose)]
        return all(s["finished"] for s in states)

    wait_until(finished, timeout=180, what="the worker to unpack both uploads")
    status = session.get(live_server.url + into_ticket["url"], timeout=30).json()
    assert (status["state"], status["members"], status["added"], status["duplicates"]) == (
        "done",
        207,
        206,
        1,
    )
    assert status["reports"][0]["message"] == "Already in this request as w000.png."
    wait_until(
        lambda: not Work.objects.filter(artist=artist, hash_state=HashState.PENDING).exists(),
        timeout=240,
        what="every work hashed and matched",
    )
    assert Work.objects.filter(artist=artist, hash_state=HashState.DONE).count() == 207
    assert ticket.works.count() == 206
    assert Work.objects.get(original_name="coffee.jpg").request is None  # the portfolio only
    assert Work.objects.get(original_name="cat.png").matches.get().item.url == "https://cdn.example/cat.jpg"
    event = TicketEvent.objects.get(request=ticket, kind=EventKind.WORKS)
    assert event.params["count"] == 206
    assert PortfolioUpload.objects.filter(state="done").count() == 2
