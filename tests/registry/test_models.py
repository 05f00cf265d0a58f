"""registry.models: the uniqueness rules the database holds, URL keys, public ids, orderings and how
each row names itself."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, transaction

from core import clock
from registry import services
from registry.models import (
    ApiKey,
    Dataset,
    DatasetItem,
    DeliveryAttempt,
    ImportJob,
    OperatorAction,
    Removal,
    WebhookDelivery,
    WebhookSecret,
    WorkerHeartbeat,
    url_key,
)
from tests.helpers import record_removals

PUBLIC_ID = r"[A-Za-z0-9]{20,}"


def test_the_url_key_is_a_signed_64_bit_digest_of_the_exact_url():
    key = url_key("https://i.example/a.jpg")
    assert key == url_key("https://i.example/a.jpg") and -(2**63) <= key < 2**63
    assert key != url_key("https://i.example/A.jpg") != url_key("https://i.example/a.jpg/")
    assert url_key("https://i.example/é" * 1000) != key  # any length, any text


def test_a_slug_is_unique_per_maintainer(maintainer, dataset):
    with pytest.raises(IntegrityError), transaction.atomic():
        Dataset.objects.create(maintainer=maintainer.maintainer, slug="d", name="Again")


def test_an_external_id_is_unique_per_data_set(maintainer, dataset):
    other = services.dataset_create(maintainer=maintainer.maintainer, slug="e", name="E")
    DatasetItem.objects.create(dataset=dataset, external_id="1", url="u", url_key=url_key("u"))
    DatasetItem.objects.create(dataset=other, external_id="1", url="u", url_key=url_key("u"))
    with pytest.raises(IntegrityError), transaction.atomic():
        DatasetItem.objects.create(dataset=dataset, external_id="1", url="v", url_key=url_key("v"))


def test_an_item_is_removed_once_per_source_but_bare_removals_repeat(dataset):
    [removal] = record_removals(dataset, 1)
    fields = {"dataset": dataset, "reason": "copyright", "approved_at": clock.now()}
    with pytest.raises(IntegrityError), transaction.atomic():
        Removal.objects.create(item=removal.item, source_ref=removal.source_ref, **fields)
    Removal.objects.create(item=removal.item, source_ref="RR-2026-000002", **fields)
    Removal.objects.create(url="https://i.example/x", source_ref=removal.source_ref, **fields)
    Removal.objects.create(url="https://i.example/x", source_ref=removal.source_ref, **fields)
    assert Removal.objects.filter(source_ref=removal.source_ref, item__isnull=True).count() == 2


def test_one_delivery_per_event_and_endpoint(dataset, endpoint):
    record_removals(dataset, 1)
    delivery = WebhookDelivery.objects.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        WebhookDelivery.objects.create(event=delivery.event, endpoint=endpoint)


def test_public_ids_have_their_prefixes(dataset, endpoint):
    [removal] = record_removals(dataset, 1)
    delivery = WebhookDelivery.objects.select_related("event").get()
    job = ImportJob.objects.create(dataset=dataset, format="csv")
    for value, prefix in [
        (removal.public_id, "rm"),
        (delivery.event.public_id, "msg"),
        (endpoint.public_id, "we"),
        (delivery.public_id, "dl"),
        (job.public_id, "imp"),
    ]:
        assert re.fullmatch(rf"{prefix}_{PUBLIC_ID}", value), value


def test_each_row_names_itself(maintainer, dataset, endpoint):
    own = maintainer.maintainer
    assert str(own) == own.name
    key = own.api_keys.get()
    assert str(key) == f"{key.prefix}… ({own.name})"
    assert str(dataset) == "D (d)"
    [removal] = record_removals(dataset, 1)
    assert str(removal.item) == f"d/{removal.item.external_id}"
    assert str(removal) == removal.public_id
    assert str(endpoint) == f"{endpoint.public_id} → {endpoint.url}"
    secret = WebhookSecret.objects.get(endpoint=endpoint)
    assert str(secret) == f"secret of {endpoint.pk} from {secret.created_at:%Y-%m-%d}"
    delivery = WebhookDelivery.objects.select_related("event", "endpoint").get()
    assert str(delivery.event) == f"{delivery.event.public_id} removal.approved"
    assert str(delivery) == f"{delivery.event.public_id} → {endpoint.url}"
    at = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert (
        str(DeliveryAttempt(delivery=delivery, attempted_at=at, status_code=503)) == "2026-03-04 05:06:07 503"
    )
    assert (
        str(DeliveryAttempt(delivery=delivery, attempted_at=at, error="x" * 50))
        == "2026-03-04 05:06:07 " + "x" * 40
    )
    job = ImportJob.objects.create(dataset=dataset, format="csv")
    assert str(job) == f"{job.public_id} (queued)"
    assert str(WorkerHeartbeat(queue="default", seen_at=at)) == "default @ 2026-03-04 05:06:07"
    action = OperatorAction.objects.filter(object_type="maintainer").first()
    assert str(action) == f"maintainer created maintainer {own.pk}"


def test_a_key_is_active_until_revoked(maintainer):
    key = maintainer.maintainer.api_keys.get()
    assert key.is_active
    services.api_key_revoke(key=key)
    assert not ApiKey.objects.get(pk=key.pk).is_active


def test_the_default_orderings(maintainer, dataset, endpoint):
    services.dataset_create(maintainer=maintainer.maintainer, slug="a", name="A")
    assert [d.slug for d in Dataset.objects.filter(maintainer=maintainer.maintainer)] == ["a", "d"]
    removals = record_removals(dataset, 3)
    assert list(Removal.objects.all()) == removals
    services.api_key_revoke(key=maintainer.maintainer.api_keys.get())
    kinds = list(OperatorAction.objects.values_list("kind", flat=True))
    assert kinds[0] == "api_key_revoked"  # newest first


def test_a_removal_written_without_its_source_reads_as_an_artists(dataset):
    """Rows from before migration 0006, or written by SQL that names no source (bulk loads), get
    the database's defaults: "artist" and no partner."""
    from django.db import connection

    from registry.models import Removal

    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO registry_removal (public_id, dataset_id, reason, source_ref, approved_at, state)"
            " VALUES ('rm_old', %s, 'copyright', 'RR-2026-000001', now(), 'delivered')",
            [dataset.pk],
        )
    old = Removal.objects.get(public_id="rm_old")
    assert (old.source, old.partner) == ("artist", "")
