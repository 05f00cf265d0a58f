"""The queue's list filters: SLA, assignee, evidence, conflict, verification level, age, search."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from requests_app import services
from requests_app.models import (
    RemovalRequest,
)
from tests.helpers import (
    CHANGELIST,
    listed_ids,
    logged_in,
    make_request,
    verify_domain,
)

# --- filters -----------------------------------------------------------------------


def test_the_queue_filters(artist, other_artist, moderator, second_moderator, dataset):
    verify_domain(artist)
    strong = make_request(artist, "chelsea.png")
    weak = make_request(other_artist, "coffee.png")
    clash = make_request(other_artist, "chelsea.png")  # conflicts with `strong`
    services.request_assign(ticket=weak, moderator=moderator, assignee=moderator)
    services.request_assign(ticket=clash, moderator=moderator, assignee=second_moderator)
    RemovalRequest.objects.filter(pk=weak.pk).update(sla_due_at=timezone.now() - timedelta(hours=1))
    RemovalRequest.objects.filter(pk=clash.pk).update(sla_due_at=timezone.now() + timedelta(hours=2))
    client = logged_in(moderator)
    assert listed_ids(client.get(CHANGELIST, {"sla": "overdue"})) == [weak.pk]
    assert listed_ids(client.get(CHANGELIST, {"sla": "due_soon"})) == [clash.pk]
    assert listed_ids(client.get(CHANGELIST, {"assignee": "mine"})) == [weak.pk]
    assert listed_ids(client.get(CHANGELIST, {"assignee": "unassigned"})) == [strong.pk]
    assert listed_ids(client.get(CHANGELIST, {"assignee": str(second_moderator.pk)})) == [clash.pk]
    assert listed_ids(client.get(CHANGELIST, {"evidence": "domain"})) == [strong.pk]
    assert listed_ids(client.get(CHANGELIST, {"conflict": "open"})) == sorted([strong.pk, clash.pk])
    assert listed_ids(client.get(CHANGELIST, {"conflict": "none"})) == [weak.pk]
    assert listed_ids(client.get(CHANGELIST, {"artist__verification_level__exact": "2"})) == [strong.pk]
    assert listed_ids(client.get(CHANGELIST, {"age": "1d"})) == sorted([strong.pk, weak.pk, clash.pk])
    assert listed_ids(client.get(CHANGELIST, {"q": "grace@example.com"})) == sorted([weak.pk, clash.pk])
