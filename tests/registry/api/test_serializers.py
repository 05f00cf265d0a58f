"""registry.api.serializers: what the write bodies accept and refuse, and the wire form of endpoints
and deliveries."""

from __future__ import annotations

from registry import services
from registry.api import serializers as s
from registry.models import WebhookDelivery
from tests.helpers import record_removals


def test_a_data_set_needs_a_slug_and_a_name_and_defaults_the_rest_to_blank():
    good = s.DatasetSerializer(data={"slug": "laion-mini", "name": "LAION mini"})
    assert good.is_valid(), good.errors
    assert good.validated_data == {
        "slug": "laion-mini",
        "name": "LAION mini",
        "homepage": "",
        "description": "",
    }
    bad = s.DatasetSerializer(data={"slug": "no spaces", "name": "", "homepage": "not a url"})
    assert not bad.is_valid()
    assert set(bad.errors) == {"slug", "name", "homepage"}


def test_a_data_set_name_may_not_carry_nul_or_a_lone_surrogate():
    for name in ("a\x00b", "a\ud800b"):
        serializer = s.DatasetSerializer(data={"slug": "d", "name": name})
        assert not serializer.is_valid() and "name" in serializer.errors


def test_ack_needs_at_least_one_id_and_at_most_a_batch():
    assert s.AckSerializer(data={"ids": ["rm_1"]}).is_valid()
    assert not s.AckSerializer(data={"ids": []}).is_valid()
    too_many = ["rm_x"] * (services.MAX_ITEMS_PER_BATCH + 1)
    assert not s.AckSerializer(data={"ids": too_many}).is_valid()


def test_a_webhook_needs_known_events_and_defaults_to_every_data_set():
    serializer = s.WebhookCreateSerializer(
        data={"url": "https://hooks.example/x", "events": ["removal.approved"]}
    )
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data["datasets"] == []
    for body in (
        {"url": "https://hooks.example/x", "events": []},
        {"url": "https://hooks.example/x", "events": ["removal.exploded"]},
        {"url": "not a url", "events": ["removal.approved"]},
    ):
        assert not s.WebhookCreateSerializer(data=body).is_valid(), body


def test_lookup_defaults_both_lists_to_empty():
    serializer = s.LookupSerializer(data={})
    assert serializer.is_valid()
    assert serializer.validated_data == {"urls": [], "phashes": []}


def test_webhook_to_dict_lists_its_data_sets_by_slug_in_order(maintainer, dataset):
    other = services.dataset_create(maintainer=maintainer.maintainer, slug="a-first", name="A")
    endpoint, _ = services.webhook_endpoint_create(
        maintainer=maintainer.maintainer,
        url="https://hooks.example/x",
        event_types=["removal.approved"],
        datasets=[dataset, other],
    )
    body = s.webhook_to_dict(endpoint)
    assert body["id"] == endpoint.public_id and body["id"].startswith("we_")
    assert body["datasets"] == ["a-first", "d"]
    assert body["events"] == ["removal.approved"] and body["enabled"] is True
    assert body["created_at"].endswith("Z")
    assert set(body) == set(s.WebhookSerializer().fields)


def test_delivery_to_dict_names_the_event_and_leaves_unsent_times_null(dataset, endpoint):
    record_removals(dataset, 1)
    delivery = WebhookDelivery.objects.select_related("event").get()
    body = s.delivery_to_dict(delivery)
    assert body["event_id"] == delivery.event.public_id and body["event_type"] == "removal.approved"
    assert (body["state"], body["attempts"], body["succeeded_at"], body["last_status"]) == (
        "pending",
        0,
        None,
        None,
    )
    assert set(body) == set(s.DeliverySerializer().fields)
