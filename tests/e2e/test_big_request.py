"""A big request end to end with a real Celery worker on Redis and PostgreSQL: 600 works whose
confirmed matches are 6,000 items are approved; the worker delivers every removal to the
maintainer's receiver on loopback in events of at most 500, none lost and none twice; the one
work an ownership conflict holds is sent, by the same path, when the conflict is resolved."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from registry import services as registry_services
from registry.models import Removal, RemovalState
from requests_app import services
from requests_app.models import RequestConflict, WorkDecision
from requests_app.workflow import Status
from tests.helpers import big_request, logged_in, wait_until
from tests.requests_app.services.test_approval import shared_work

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def _removal_ids(received):
    ids = []
    for hook in received:
        body = hook.json()
        assert body["type"] == "removal.approved"
        removals = body["data"]["removals"]
        assert 1 <= len(removals) <= 500
        ids += [r["id"] for r in removals]
    return ids


def test_a_600_work_request_is_delivered_whole_and_its_held_work_after_the_ruling(
    celery_worker_process, receiver, artist, other_artist, moderator, maintainer
):
    org = maintainer.maintainer
    a = registry_services.dataset_create(maintainer=org, slug="a", name="Alpha")
    b = registry_services.dataset_create(maintainer=org, slug="b", name="Beta")
    registry_services.webhook_endpoint_create(
        maintainer=org, url=receiver.url, event_types=["removal.approved"]
    )
    big = big_request(artist, [a, b], works=600, per_work=10)
    shared, _ = shared_work(big, other_artist)
    conflict = RequestConflict.objects.get()

    services.request_approve(ticket=big, moderator=moderator)  # commits: the worker takes it from here
    removals = Removal.objects.filter(source_ref=big.reference)
    assert removals.count() == 5990  # the held work's 10 copies wait
    received = receiver.wait_for(12, timeout=240)  # 2,995 per data set: 6 events of <= 500 each
    ids = _removal_ids(received)
    assert len(ids) == len(set(ids)) == 5990
    assert set(ids) == set(removals.values_list("public_id", flat=True))
    wait_until(
        lambda: not removals.exclude(state=RemovalState.DELIVERED).exists(), timeout=120, what="all delivered"
    )

    services.conflict_resolve(conflict=conflict, moderator=moderator, resolution="first", note="Her files.")
    shared.refresh_from_db()
    assert shared.decision == WorkDecision.APPROVED
    received = receiver.wait_for(14, timeout=120)  # one more event per data set, 5 removals each
    ids = _removal_ids(received)
    assert len(ids) == len(set(ids)) == 6000 == removals.count()
    wait_until(
        lambda: not removals.exclude(state=RemovalState.DELIVERED).exists(), timeout=120, what="all delivered"
    )


def test_an_artist_with_5000_works_gets_them_all_removed_through_one_request(
    celery_worker_process, receiver, artist, moderator, maintainer, api
):
    """Issue 13's "done when": one request, 5,000 works, 10,000 copies in two data sets; approved,
    delivered by the worker in events of at most 500, acknowledged by the maintainer through the
    API; the request completes and the artist's receipt sums each data set up."""
    org = maintainer.maintainer
    datasets = [
        registry_services.dataset_create(maintainer=org, slug=slug, name=name)
        for slug, name in (("a", "Alpha"), ("b", "Beta"))
    ]
    registry_services.webhook_endpoint_create(
        maintainer=org, url=receiver.url, event_types=["removal.approved"]
    )
    big = big_request(artist, datasets, works=5000, per_work=2)

    services.request_approve(ticket=big, moderator=moderator)
    removals = Removal.objects.filter(source_ref=big.reference)
    assert removals.count() == 10_000
    ids = _removal_ids(receiver.wait_for(20, timeout=300))  # 5,000 per data set: 10 events each
    assert len(ids) == len(set(ids)) == 10_000
    assert set(ids) == set(removals.values_list("public_id", flat=True))
    wait_until(
        lambda: not removals.exclude(state=RemovalState.DELIVERED).exists(), timeout=120, what="all delivered"
    )

    for dataset in datasets:
        mine = list(removals.filter(dataset=dataset).values_list("public_id", flat=True))
        response = api.post(f"/api/v1/datasets/{dataset.slug}/removals/ack/", {"ids": mine}, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["acknowledged"] == 5000
    big.refresh_from_db()
    assert big.status == Status.COMPLETED
    assert not removals.exclude(state=RemovalState.ACKNOWLEDGED).exists()

    page = logged_in(artist.user).get(reverse("request_detail", args=[big.reference]))
    assert page.status_code == 200
    receipt = page.content.decode()
    text = " ".join(re.sub(r"<[^>]+>", " ", receipt).split())
    assert "Confirmed removed" in text
    for dataset in datasets:
        assert f"{dataset.name} ({org.name}): 5000 image(s) removed, confirmed" in text
    assert receipt.count("<tr") < 200  # a summary per data set, not 10,000 rows
