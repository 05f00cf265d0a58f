"""Re-matching: later copies of removed pictures become removals of the same source."""

from __future__ import annotations

from registry import matching, services
from registry.hashing import code_to_hex, compute_hashes
from registry.models import Removal, WebhookDelivery
from tests.helpers import hashes_row, image_bytes, photo, photo_bytes


def approved_removal(maintainer, name="chelsea.png"):
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="v1", name="Version 1")
    services.items_upsert(
        dataset=dataset, rows=[hashes_row("orig", compute_hashes(photo_bytes(name), max_pixels=10**8))]
    )
    [removal] = services.removals_record(
        source_ref="RR-2026-000001",
        reason="likeness",
        entries=[services.RemovalEntry(dataset=dataset, item=dataset.items.get())],
    )
    return removal


def test_a_repost_in_a_new_data_set_becomes_a_removal_of_the_same_source(maintainer, other_maintainer):
    removal = approved_removal(maintainer)
    services.webhook_endpoint_create(
        maintainer=other_maintainer.maintainer,
        url="https://hooks.other.example/",
        event_types=["removal.approved"],
    )
    v2 = services.dataset_create(maintainer=other_maintainer.maintainer, slug="v2", name="Other")
    repost = compute_hashes(
        image_bytes(photo("chelsea.png").convert("RGB").resize((225, 150)), "JPEG", quality=60),
        max_pixels=10**8,
    )
    unrelated = compute_hashes(photo_bytes("coffee.png"), max_pixels=10**8)
    services.items_upsert(
        dataset=v2,
        rows=[
            hashes_row("repost", repost, url="https://elsewhere.example/cat.jpg"),
            hashes_row("other", unrelated),
        ],
    )

    created = services.items_rematch(item_ids=list(v2.items.values_list("pk", flat=True)))
    assert [(r.dataset.slug, r.external_id, r.source_ref, r.reason) for r in created] == [
        ("v2", "repost", removal.source_ref, "likeness")
    ]
    # Delivered like any other removal: an outbox row for the other organisation's endpoint.
    assert WebhookDelivery.objects.filter(event__removals=created[0]).count() == 1
    # Idempotent: the same items again record nothing new.
    assert services.items_rematch(item_ids=list(v2.items.values_list("pk", flat=True))) == []


def test_a_newly_approved_source_finds_copies_already_in_other_data_sets_but_not_skipped_ones(maintainer):
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="big", name="Big")
    original = compute_hashes(photo_bytes("astronaut.png"), max_pixels=10**8)
    small = compute_hashes(
        image_bytes(photo("astronaut.png").convert("RGB").resize((256, 256)), "JPEG", quality=70),
        max_pixels=10**8,
    )
    services.items_upsert(
        dataset=dataset, rows=[hashes_row("a", original), hashes_row("b", small), hashes_row("c", small)]
    )
    a, b, c = (dataset.items.get(external_id=x) for x in "abc")
    services.removals_record(
        source_ref="RR-2026-000002",
        reason="copyright",
        entries=[services.RemovalEntry(dataset=dataset, item=a)],
    )
    created = services.source_rematch(source_ref="RR-2026-000002", skip_item_ids=[c.pk])
    assert [r.item_id for r in created] == [b.pk]
    assert set(Removal.objects.filter(source_ref="RR-2026-000002").values_list("item_id", flat=True)) == {
        a.pk,
        b.pk,
    }


def test_pdq_vetoes_a_phash_coincidence(maintainer, settings):
    removal = approved_removal(maintainer)
    v2 = services.dataset_create(maintainer=maintainer.maintainer, slug="v2", name="V2")
    different = compute_hashes(photo_bytes("coffee.png"), max_pixels=10**8)
    # Same pHash as the removed item, but the PDQ of another picture.
    services.items_upsert(
        dataset=v2,
        rows=[{**hashes_row("fake", different), "phash": code_to_hex(removal.phash)}],
    )
    assert services.items_rematch(item_ids=list(v2.items.values_list("pk", flat=True))) == []
    settings.MATCH_PDQ_MAX_DISTANCE = 256
    assert len(services.items_rematch(item_ids=list(v2.items.values_list("pk", flat=True)))) == 1


def test_lookup_uses_the_removal_index_and_forgets_revoked_removals(api, maintainer):
    removal = approved_removal(maintainer)
    hex_code = code_to_hex(removal.phash)
    body = api.post("/api/v1/lookup/", {"phashes": [hex_code]}, format="json").json()
    assert body["phashes"] == {hex_code: [removal.public_id]}
    Removal.objects.filter(pk=removal.pk).update(state="revoked")
    body = api.post("/api/v1/lookup/", {"phashes": [hex_code]}, format="json").json()
    assert body["phashes"] == {hex_code: []}


def test_the_removal_index_counts_live_removals_only_at_its_check_interval(
    maintainer, settings, django_assert_num_queries
):
    approved_removal(maintainer)
    settings.MATCH_INDEX_CHECK_SECONDS = 3600
    index = matching.RemovalIndex()
    assert len(index.get()) == 1  # first use: new rows and the live count
    with django_assert_num_queries(1):  # then only the query for rows appended since
        assert len(index.get()) == 1
