"""registry.services.licence_grants_record_items: a partner's licence rows granted by item id in
one statement on PostgreSQL write the grants the model path writes, each field alike, with their
licence.granted events; an item named twice or granted already for the source is granted once."""

from __future__ import annotations

import pytest
from django.db import connection

from registry import services
from registry.models import LicenceGrant, WebhookEvent
from registry.preferences import consent_clean

CC_BY = consent_clean(choice="licence", licence="cc-by", attribution="Photo: A. Artist")
CC_BY_SA = consent_clean(choice="licence", licence="cc-by-sa", attribution="Ada, 2026")
FIELDS = (
    "dataset_id", "item_id", "external_id", "url", "url_key", "phash", "dhash", "pdq", "licence",
    "licence_url", "attribution", "search", "source", "partner", "state", "revoked_reason",
)  # fmt: skip


def _items(dataset, count):
    services.items_upsert(
        dataset=dataset,
        rows=[
            {
                "external_id": f"w{i}",
                "url": f"https://i.example/w{i}.jpg",
                "phash": f"{(i * 0x9E3779B97F4A7C15 + 3) & (2**64 - 1):016x}",
                "pdq": f"{i:064x}",
            }
            for i in range(count)
        ],
    )
    return list(dataset.items.order_by("pk"))


def _as_written(ref: str) -> list[tuple[object, ...]]:
    rows = LicenceGrant.objects.filter(source_ref=ref).order_by("pk")
    read = rows.values_list(*FIELDS)
    return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in read]


@pytest.mark.django_db(transaction=True)
def test_the_grants_by_item_are_those_of_the_model_path(dataset, maintainer):
    assert connection.vendor == "postgresql"
    items = _items(dataset, 6)
    by_model = services.licence_grants_record_many(
        source_ref="pf_model",
        granted=[
            (CC_BY, [services.RemovalEntry(dataset=dataset, item=item) for item in items[:4]]),
            (CC_BY_SA, [services.RemovalEntry(dataset=dataset, item=item) for item in items[4:]]),
        ],
        source="partner",
        partner="Demo Gallery",
    )
    # items[0] named again under the second licence: granted once, under its first.
    written = services.licence_grants_record_items(
        source_ref="pf_items",
        granted=[(CC_BY, [i.pk for i in items[:4]]), (CC_BY_SA, [items[0].pk, *[i.pk for i in items[4:]]])],
        source="partner",
        partner="Demo Gallery",
    )
    assert written == len(by_model) == 6
    assert _as_written("pf_items") == _as_written("pf_model")
    grants = list(LicenceGrant.objects.filter(source_ref="pf_items").order_by("pk"))
    assert all(g.public_id.startswith("lg_") and len(g.public_id) == 35 for g in grants)
    assert len({g.public_id for g in grants}) == 6
    # Each write told the maintainers once: one licence.granted event of its six grants.
    events = WebhookEvent.objects.filter(event_type="licence.granted").order_by("pk")
    assert [len(e.payload["data"]["licences"]) for e in events] == [6, 6]
    assert {g["id"] for g in events[1].payload["data"]["licences"]} == {g.public_id for g in grants}

    # Granted again for the same source: nothing new, no event.
    again = services.licence_grants_record_items(
        source_ref="pf_items",
        granted=[(CC_BY, [i.pk for i in items])],
        source="partner",
        partner="Demo Gallery",
    )
    assert again == 0 and LicenceGrant.objects.filter(source_ref="pf_items").count() == 6
    assert WebhookEvent.objects.filter(event_type="licence.granted").count() == 2


@pytest.mark.django_db
def test_a_removal_choice_is_not_granted(dataset):
    with pytest.raises(ValueError, match="only a licence choice"):
        services.licence_grants_record_items(
            source_ref="pf_x", granted=[(consent_clean(choice="remove"), [1])], source="partner"
        )
