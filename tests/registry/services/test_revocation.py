"""registry.services.removals_revoke: set-wise revocation, its removal.revoked events, their order
against the approval's delivery, and what the feed, the revocations feed, the export and the
lookup answer afterwards."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from rest_framework.test import APIClient
from standardwebhooks.webhooks import Webhook

from registry import services, signals
from registry.models import DeliveryState, Removal, RemovalState, WebhookDelivery, WebhookEvent
from tests.helpers import assert_error

WHY = "Lifted by the creator."


def _items(dataset, count: int, *, prefix: str = "r") -> list[int]:
    rows = [
        {
            "external_id": f"{prefix}{i}",
            "url": f"https://i.example/{prefix}{i}.jpg",
            "phash": f"{(i * 0x9E3779B97F4A7C15 + 7) & (2**64 - 1):016x}",
        }
        for i in range(count)
    ]
    services.items_upsert(dataset=dataset, rows=rows)
    return list(
        dataset.items.filter(external_id__startswith=prefix).order_by("pk").values_list("pk", flat=True)
    )


def _approve(dataset, ids, ref="pf_one"):
    return services.removals_write(
        source_ref=ref,
        reason="copyright",
        items=services.ItemQuery.of_ids(ids),
        source="partner",
        partner="ArtPlace",
    )


@pytest.fixture
def both_endpoint(maintainer, receiver):
    endpoint, secret = services.webhook_endpoint_create(
        maintainer=maintainer.maintainer,
        url=receiver.url,
        event_types=["removal.approved", "removal.revoked"],
    )
    return endpoint, secret


def test_revoking_is_one_update_with_events_of_at_most_500(dataset, both_endpoint):
    endpoint, _ = both_endpoint
    _approve(dataset, _items(dataset, 1201))
    approved_events = WebhookEvent.objects.count()
    done = services.removals_revoke(removals=services.RemovalQuery.of_sources(["pf_one"]), why=WHY)
    assert (done.count, done.by_dataset, done.events) == (1201, {dataset.pk: 1201}, 3)
    assert set(Removal.objects.values_list("state", "revoked_reason")) == {("revoked", WHY)}
    assert Removal.objects.filter(revoked_at__isnull=True).count() == 0
    revoked = WebhookEvent.objects.filter(event_type="removal.revoked").order_by("pk")
    assert [e.removals.count() for e in revoked] == [500, 500, 201]
    assert all(e.pk > approved_events for e in revoked)  # after every approval event
    assert WebhookDelivery.objects.filter(endpoint=endpoint, event__in=revoked).count() == 3
    first = revoked[0].payload
    assert first["type"] == "removal.revoked" and first["data"]["dataset"] == "d"
    assert {(r["state"], r["revoked_reason"], r["source"]) for r in first["data"]["removals"]} == {
        ("revoked", WHY, "partner")
    }
    # Revoking again changes nothing and tells nobody twice.
    again = services.removals_revoke(removals=services.RemovalQuery.of_sources(["pf_one"]), why=WHY)
    assert (again.count, again.events) == (0, 0)
    assert WebhookEvent.objects.filter(event_type="removal.revoked").count() == 3


def test_the_databases_revoked_payload_is_event_payloads_own(dataset, both_endpoint):
    ids = _items(dataset, 3)
    _approve(dataset, ids)
    acked = Removal.objects.order_by("pk").first()
    services.removals_acknowledge(dataset=dataset, ids=[acked.public_id])
    services.removals_revoke(
        removals=services.RemovalQuery.of_ids([r.pk for r in Removal.objects.all()]), why="É « x »"
    )
    event = WebhookEvent.objects.get(event_type="removal.revoked")
    removals = list(Removal.objects.order_by("pk"))
    when = datetime.fromisoformat(event.payload["timestamp"].replace("Z", "+00:00"))
    assert event.payload == services.removals.event_payload("removal.revoked", dataset, removals, when)
    first = event.payload["data"]["removals"][0]
    assert first["acknowledged_at"] is not None and first["revoked_at"] == event.payload["timestamp"]


def test_only_the_selected_removals_are_revoked_and_the_sources_are_told_after_commit(
    dataset, django_capture_on_commit_callbacks
):
    ids = _items(dataset, 4)
    _approve(dataset, ids[:2], ref="pf_one")
    _approve(dataset, ids[2:], ref="pf_two")
    told: list[set[str]] = []

    def listener(sender, source_refs, **kwargs):
        told.append(set(source_refs))

    signals.removals_revoked.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.removals_revoke(removals=services.RemovalQuery.of_sources(["pf_two"]), why=WHY)
    finally:
        signals.removals_revoked.disconnect(listener)
    assert told == [{"pf_two"}]
    states = dict(Removal.objects.values_list("source_ref", "state").distinct())
    assert states == {"pf_one": "pending", "pf_two": "revoked"}


@pytest.mark.parametrize(
    ("why", "message"),
    [("", "say why"), ("   ", "say why"), ("x" * 501, "at most 500"), ("a\x00b", "NUL")],
)
def test_a_reason_that_does_not_fit_is_refused_before_anything_changes(dataset, why, message):
    _approve(dataset, _items(dataset, 1))
    with pytest.raises(ValueError, match=message):
        services.removals_revoke(removals=services.RemovalQuery.of_sources(["pf_one"]), why=why)
    assert Removal.objects.get().state == RemovalState.PENDING
    assert not WebhookEvent.objects.filter(event_type="removal.revoked").exists()


def test_the_revocation_reaches_a_real_receiver_signed_as_removal_revoked(dataset, both_endpoint, receiver):
    _, secret = both_endpoint
    _approve(dataset, _items(dataset, 2))
    services.deliveries_send_due()
    services.removals_revoke(removals=services.RemovalQuery.of_sources(["pf_one"]), why=WHY)
    assert services.deliveries_send_due() == {"succeeded": 1}
    approved, revoked = receiver.received
    payload = Webhook(secret).verify(revoked.body, revoked.headers)
    assert payload["type"] == "removal.revoked"
    assert [r["state"] for r in payload["data"]["removals"]] == ["revoked", "revoked"]
    assert Webhook(secret).verify(approved.body, approved.headers)["type"] == "removal.approved"
    # A revoked removal is not marked delivered by the revocation's delivery.
    assert set(Removal.objects.values_list("state", flat=True)) == {"revoked"}


def test_a_revocation_raced_with_a_failing_approval_waits_for_it(dataset, both_endpoint, receiver):
    """The approval's delivery fails and retries; the revocation written meanwhile must not reach
    the maintainer first, whatever order the workers take them in."""
    _approve(dataset, _items(dataset, 2))
    receiver.answer = 503
    assert services.deliveries_send_due() == {"retry": 1}
    services.removals_revoke(removals=services.RemovalQuery.of_sources(["pf_one"]), why=WHY)
    receiver.answer = 204
    revoked = WebhookDelivery.objects.get(event__event_type="removal.revoked")
    assert services.delivery_attempt(revoked.pk) == "waiting"
    revoked.refresh_from_db()
    approved = WebhookDelivery.objects.get(event__event_type="removal.approved")
    assert revoked.attempts == 0 and revoked.next_attempt_at >= approved.next_attempt_at
    assert "earlier event" in revoked.last_error
    # The approval's retry comes due and goes; then the revocation.
    WebhookDelivery.objects.filter(pk=approved.pk).update(next_attempt_at=approved.created_at)
    assert services.delivery_attempt(approved.pk) == "succeeded"
    WebhookDelivery.objects.filter(pk=revoked.pk).update(next_attempt_at=approved.created_at)
    assert services.delivery_attempt(revoked.pk) == "succeeded"
    types = [r.json()["type"] for r in receiver.received]
    assert types == ["removal.approved", "removal.approved", "removal.revoked"]
    assert WebhookDelivery.objects.filter(state=DeliveryState.SUCCEEDED).count() == 2
    # The delivery marked nothing delivered over the revocation.
    assert set(Removal.objects.values_list("state", flat=True)) == {"revoked"}


def test_an_approval_that_failed_for_good_no_longer_holds_the_revocation(dataset, both_endpoint, receiver):
    _approve(dataset, _items(dataset, 1))
    WebhookDelivery.objects.update(state=DeliveryState.FAILED, next_attempt_at=None)
    services.removals_revoke(removals=services.RemovalQuery.of_sources(["pf_one"]), why=WHY)
    assert services.deliveries_send_due() == {"succeeded": 1}
    assert [r.json()["type"] for r in receiver.received] == ["removal.revoked"]


# --- what maintainers read afterwards -------------------------------------------------


@pytest.fixture
def revoked_setup(dataset):
    ids = _items(dataset, 3)
    _approve(dataset, ids)
    first, second, third = Removal.objects.order_by("pk")
    services.removals_revoke(removals=services.RemovalQuery.of_ids([first.pk]), why=WHY)
    return first, second, third


def test_the_feed_shows_a_revoked_removal_as_revoked_in_place(api, revoked_setup):
    first, *_ = revoked_setup
    body = api.get("/api/v1/datasets/d/removals/").json()
    by_id = {r["id"]: r for r in body["results"]}
    assert by_id[first.public_id]["state"] == "revoked"
    assert by_id[first.public_id]["revoked_reason"] == WHY and by_id[first.public_id]["revoked_at"]
    assert {r["revoked_at"] for r in body["results"] if r["id"] != first.public_id} == {None}


def test_the_revocations_feed_lists_revocations_in_order_and_polls_from_its_cursor(api, revoked_setup):
    first, second, third = revoked_setup
    page = api.get("/api/v1/datasets/d/revocations/").json()
    assert [r["id"] for r in page["results"]] == [first.public_id] and page["next"] is None
    services.removals_revoke(removals=services.RemovalQuery.of_ids([third.pk]), why=WHY)
    services.removals_revoke(removals=services.RemovalQuery.of_ids([second.pk]), why=WHY)
    later = api.get("/api/v1/datasets/d/revocations/", {"cursor": page["poll"]}).json()
    # In the order they were revoked, not the order recorded.
    assert [r["id"] for r in later["results"]] == [third.public_id, second.public_id]
    assert {r["state"] for r in later["results"]} == {"revoked"}
    assert api.get("/api/v1/datasets/d/revocations/", {"cursor": later["poll"]}).json()["results"] == []


def test_the_revocations_feed_is_the_callers_own_and_refuses_a_bad_cursor(
    api, other_maintainer, revoked_setup
):
    assert_error(other_maintainer.client().get("/api/v1/datasets/d/revocations/"), 404, "not_found")
    assert_error(api.get("/api/v1/datasets/d/revocations/", {"cursor": "nope\x00"}), 400, "invalid_cursor")


def test_the_export_carries_the_revocation(api, revoked_setup):
    first, *_ = revoked_setup
    response = api.get("/api/v1/removals/export/", {"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    by_id = {r["id"]: r for r in rows}
    assert by_id[first.public_id]["state"] == "revoked"
    assert by_id[first.public_id]["revoked_reason"] == WHY and by_id[first.public_id]["revoked_at"]
    parquet = api.get("/api/v1/removals/export/", {"format": "parquet"})
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(b"".join(parquet.streaming_content)))
    assert {"revoked_at", "revoked_reason"} <= set(table.column_names)


def test_the_lookup_stops_answering_removed_for_a_revoked_removal(api, maintainer, dataset):
    _approve(dataset, _items(dataset, 2))
    first, second = Removal.objects.order_by("pk")
    code = f"{first.phash & (2**64 - 1):016x}"
    query = {"urls": [first.url, second.url], "phashes": [code]}
    # The removal index of this process is warm with both removals before the revocation.
    assert api.post("/api/v1/lookup/", query, format="json").json()["phashes"][code] == [first.public_id]
    services.removals_revoke(removals=services.RemovalQuery.of_ids([first.pk]), why=WHY)
    body = api.post("/api/v1/lookup/", query, format="json").json()
    assert body["urls"] == {first.url: False, second.url: True}
    assert body["phashes"] == {code: []}
    assert first.url not in body["sources"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"API {maintainer.key}")
    v2 = client.post(
        "/api/v2/query/urls/", data=f"{first.url}\n{second.url}", content_type="text/plain"
    ).json()
    assert [u["optOut"] for u in v2["urls"]] == [False, True]
