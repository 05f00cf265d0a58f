"""registry.services.removals: recording removals with their webhook outbox rows, and acknowledgements."""

from __future__ import annotations

import pytest

from registry import services, signals
from registry.hashing import hex_to_code
from registry.models import Removal, RemovalState, WebhookDelivery, WebhookEvent, url_key
from tests.helpers import broker_queue, record_removals


def test_a_removal_of_an_item_copies_the_items_fields(dataset):
    services.items_upsert(
        dataset=dataset,
        rows=[{"external_id": "1", "url": "https://i.example/1.jpg", "phash": "b15fe6465121175e"}],
    )
    item = dataset.items.get()
    [removal] = services.removals_record(
        source_ref="RR-2026-000001",
        reason="copyright",
        entries=[services.RemovalEntry(dataset=dataset, item=item)],
    )
    stored = Removal.objects.get(pk=removal.pk)
    assert (stored.item, stored.external_id, stored.url) == (item, "1", "https://i.example/1.jpg")
    assert stored.url_key == url_key("https://i.example/1.jpg") and stored.phash == item.phash
    assert (stored.reason, stored.source_ref, stored.state) == (
        "copyright",
        "RR-2026-000001",
        RemovalState.PENDING,
    )
    assert stored.public_id.startswith("rm_") and stored.approved_at is not None


def test_a_bare_url_or_hash_is_recorded_without_an_item(dataset):
    code = hex_to_code("00000000000000ff")
    [by_url, by_hash] = services.removals_record(
        source_ref="RR-2026-000002",
        reason="copyright",
        entries=[
            services.RemovalEntry(dataset=dataset, url="https://i.example/x.jpg"),
            services.RemovalEntry(dataset=dataset, phash=code),
        ],
    )
    assert by_url.item is None and by_url.url_key == url_key("https://i.example/x.jpg")
    assert by_hash.url is None and by_hash.url_key is None and by_hash.phash == code


def test_recording_the_same_item_for_the_same_source_again_adds_nothing(dataset):
    [first] = record_removals(dataset, 1)
    item = first.item
    again = services.removals_record(
        source_ref="RR-2026-000001",
        reason="copyright",
        entries=[services.RemovalEntry(dataset=dataset, item=item)] * 2,
    )
    assert again == []
    other_source = services.removals_record(
        source_ref="RR-2026-000009",
        reason="copyright",
        entries=[services.RemovalEntry(dataset=dataset, item=item)],
    )
    assert len(other_source) == 1 and Removal.objects.count() == 2


def test_each_event_carries_at_most_500_removals_and_each_subscribed_endpoint_gets_one_row(
    dataset, endpoint, monkeypatch
):
    monkeypatch.setattr(services.removals, "MAX_REMOVALS_PER_EVENT", 2)
    removals = record_removals(dataset, 5)
    events = list(WebhookEvent.objects.order_by("pk"))
    assert [e.removals.count() for e in events] == [2, 2, 1]
    assert events[0].payload["type"] == "removal.approved"
    assert events[0].payload["data"]["dataset"] == "d"
    assert [r["id"] for r in events[0].payload["data"]["removals"]] == [r.public_id for r in removals[:2]]
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 3


def test_only_enabled_endpoints_of_the_data_sets_maintainer_that_chose_the_event_get_a_delivery(
    maintainer, other_maintainer, dataset, endpoint
):
    own = maintainer.maintainer
    other_set = services.dataset_create(maintainer=own, slug="other", name="Other")
    only_other, _ = services.webhook_endpoint_create(
        maintainer=own, url="https://hooks.example/o", event_types=["removal.approved"], datasets=[other_set]
    )
    off, _ = services.webhook_endpoint_create(
        maintainer=own, url="https://hooks.example/off", event_types=["removal.approved"]
    )
    services.webhook_endpoint_disable(endpoint=off, reason="test")
    services.webhook_endpoint_create(
        maintainer=other_maintainer.maintainer,
        url="https://hooks.example/t",
        event_types=["removal.approved"],
    )
    record_removals(dataset, 1)
    assert list(WebhookDelivery.objects.values_list("endpoint", flat=True)) == [endpoint.pk]
    assert only_other.deliveries.count() == 0


def test_deliveries_are_queued_after_commit(dataset, endpoint, django_capture_on_commit_callbacks):
    with broker_queue("deliveries") as sent:
        with django_capture_on_commit_callbacks(execute=True):
            record_removals(dataset, 1)
            assert sent() == []  # not before the commit: a worker would not find the delivery
        delivery = WebhookDelivery.objects.get()
        assert sent() == [("registry.tasks.delivery_send", (delivery.pk,))]


def test_acknowledging_is_idempotent_per_data_set_and_lists_unknown_ids(maintainer, dataset):
    removals = record_removals(dataset, 2)
    theirs = record_removals(
        services.dataset_create(maintainer=maintainer.maintainer, slug="e", name="E"), 1, "RR-9"
    )
    ids = [removals[0].public_id, removals[0].public_id, "rm_unknown", theirs[0].public_id]
    result = services.removals_acknowledge(dataset=dataset, ids=ids)
    assert result == services.AckResult(acknowledged=1, unknown=["rm_unknown", theirs[0].public_id])
    first = Removal.objects.get(pk=removals[0].pk)
    assert first.state == RemovalState.ACKNOWLEDGED and first.acknowledged_at is not None
    assert Removal.objects.get(pk=removals[1].pk).state == RemovalState.PENDING

    again = services.removals_acknowledge(dataset=dataset, ids=[removals[0].public_id])
    assert again.acknowledged == 1
    assert Removal.objects.get(pk=removals[0].pk).acknowledged_at == first.acknowledged_at


def test_an_acknowledgement_tells_the_sources_after_commit(dataset, django_capture_on_commit_callbacks):
    [removal] = record_removals(dataset, 1, ref="RR-2026-000042")
    received = []

    def listener(sender, source_refs, **kwargs):
        received.append(source_refs)

    signals.removals_acknowledged.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.removals_acknowledge(dataset=dataset, ids=[removal.public_id])
        with django_capture_on_commit_callbacks(execute=True):
            services.removals_acknowledge(dataset=dataset, ids=[removal.public_id])  # nothing changes
    finally:
        signals.removals_acknowledged.disconnect(listener)
    assert received == [{"RR-2026-000042"}]


# --- the set-based writer (removals_write) and the source of a removal


def _items(dataset, n, prefix="w"):
    rows = [
        {
            "external_id": f"{prefix}{i}",
            "url": f"https://i.example/{prefix}/{i}.jpg",
            "phash": f"{i + 1:016x}",
        }
        for i in range(n)
    ]
    services.items_upsert(dataset=dataset, rows=rows)
    return list(
        dataset.items.filter(external_id__startswith=prefix).order_by("pk").values_list("pk", flat=True)
    )


def test_removals_write_removes_every_selected_item_once_with_events_of_500(dataset, endpoint):
    ids = _items(dataset, 1201)
    done = services.removals_write(
        source_ref="RR-2026-000001", reason="likeness", items=services.ItemQuery.of_ids(ids)
    )
    assert (done.count, done.by_dataset, done.events) == (1201, {dataset.pk: 1201}, 3)
    removals = Removal.objects.filter(source_ref="RR-2026-000001").order_by("pk")
    assert sorted(r.item_id for r in removals) == ids
    assert {(r.reason, r.state, r.source, r.partner) for r in removals} == {
        ("likeness", "pending", "artist", "")
    }
    sizes = [e.removals.count() for e in WebhookEvent.objects.order_by("pk")]
    assert sizes == [500, 500, 201]
    assert WebhookDelivery.objects.filter(endpoint=endpoint).count() == 3
    again = services.removals_write(
        source_ref="RR-2026-000001", reason="likeness", items=services.ItemQuery.of_ids(ids)
    )
    assert (again.count, again.events) == (0, 0) and WebhookEvent.objects.count() == 3


def test_the_databases_payload_is_event_payloads_own(dataset, endpoint):
    """The PostgreSQL writer builds payloads in SQL: they must equal event_payload's for the same rows."""
    ids = _items(dataset, 3)
    negative_row = {"external_id": "neg", "url": "https://i.example/n.jpg", "phash": "ffffffffffffff00"}
    services.items_upsert(dataset=dataset, rows=[{**negative_row, "pdq": "ab" * 32}])
    ids.append(dataset.items.get(external_id="neg").pk)
    services.removals_write(
        source_ref="RR-2026-000003",
        reason="privacy",
        items=services.ItemQuery.of_ids(ids),
        source="partner",
        partner="Atelier « Été »",
    )
    event = WebhookEvent.objects.get()
    removals = list(Removal.objects.order_by("pk"))
    expected = services.removals.event_payload("removal.approved", dataset, removals, clock_of(event))
    assert event.payload == expected
    [negative] = [r for r in event.payload["data"]["removals"] if r["external_id"] == "neg"]
    assert (negative["phash"], negative["pdq"]) == ("ffffffffffffff00", "ab" * 32)
    assert (negative["source"], negative["partner"]) == ("partner", "Atelier « Été »")


def clock_of(event):
    from datetime import datetime

    return datetime.fromisoformat(event.payload["timestamp"].replace("Z", "+00:00"))


def test_removals_record_many_keeps_events_full_across_chunks_and_data_sets(maintainer, dataset, monkeypatch):
    other = services.dataset_create(maintainer=maintainer.maintainer, slug="o", name="O")
    monkeypatch.setattr(services.removals, "RECORD_CHUNK", 300)
    first, second = _items(dataset, 700, "a"), _items(other, 600, "b")
    entries = [services.RemovalEntry(dataset=dataset, item_id=pk) for pk in first]
    entries += [services.RemovalEntry(dataset=other, item_id=pk) for pk in second]
    entries += [services.RemovalEntry(dataset=dataset, item_id=first[0])]  # again: skipped
    done = services.removals_record_many(
        source_ref="RR-2026-000004", reason="copyright", entries=iter(entries)
    )
    assert (done.count, done.events, done.dataset_ids) == (1300, 4, {dataset.pk, other.pk})
    sizes = sorted((e.dataset_id, e.removals.count()) for e in WebhookEvent.objects.all())
    assert sizes == sorted([(dataset.pk, 500), (dataset.pk, 200), (other.pk, 500), (other.pk, 100)])
    for event in WebhookEvent.objects.all():
        pks = list(event.removals.values_list("pk", flat=True))
        assert set(Removal.objects.filter(pk__in=pks).values_list("dataset_id", flat=True)) == {
            event.dataset_id
        }


def test_a_partner_removal_names_its_partner_everywhere_it_is_written(dataset):
    ids = _items(dataset, 2)
    [removal, _] = services.removals_record(
        source_ref="PF-1",
        reason="copyright",
        entries=[services.RemovalEntry(dataset=dataset, item_id=pk) for pk in ids],
        source="partner",
        partner="ArtPlatform",
    )
    stored = Removal.objects.get(pk=removal.pk)
    assert (stored.source, stored.partner) == ("partner", "ArtPlatform")
    assert not WebhookDelivery.objects.exists()  # no endpoint subscribed: an event, no outbox row
    payload = WebhookEvent.objects.get().payload["data"]["removals"]
    assert {(r["source"], r["partner"]) for r in payload} == {("partner", "ArtPlatform")}


@pytest.mark.parametrize(
    ("source", "partner", "message"),
    [
        ("artist", "ArtPlatform", "names no partner"),
        ("partner", "", "names the partner"),
        ("partner", "A\x00B", "without NUL"),
        ("partner", "x" * 201, "at most 200"),
        ("museum", "", "must be one of"),
    ],
)
def test_a_source_that_does_not_fit_is_refused_before_anything_is_written(dataset, source, partner, message):
    ids = _items(dataset, 1)
    with pytest.raises(ValueError, match=message):
        services.removals_write(
            source_ref="PF-2", reason="copyright", items=services.ItemQuery.of_ids(ids), source=source,
            partner=partner,
        )  # fmt: skip
    assert not Removal.objects.exists() and not WebhookEvent.objects.exists()


def test_a_write_of_nothing_writes_no_event(dataset, endpoint):
    done = services.removals_write(
        source_ref="RR-2026-000005", reason="copyright", items=services.ItemQuery.of_ids([])
    )
    assert (done.count, done.events) == (0, 0) and not WebhookEvent.objects.exists()
