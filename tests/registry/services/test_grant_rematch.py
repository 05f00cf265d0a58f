"""Re-matching extends licence grants: a later copy of a licensed picture is granted under the
same licence, attribution and source (and told as licence.granted), like a removal's copy."""

from __future__ import annotations

from registry import services
from registry.hashing import compute_hashes
from registry.models import GrantState, LicenceGrant, Removal, WebhookDelivery
from registry.preferences import consent_clean
from tests.helpers import hashes_row, image_bytes, photo, photo_bytes

CC_BY = consent_clean(choice="licence", licence="cc-by", attribution="Photo: A. Artist")
REF = "RR-2026-000021"


def _licensed(maintainer, name="chelsea.png"):
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="v1", name="Version 1")
    services.items_upsert(
        dataset=dataset, rows=[hashes_row("orig", compute_hashes(photo_bytes(name), max_pixels=10**8))]
    )
    [grant] = services.licence_grants_record(
        source_ref=REF,
        consent=CC_BY,
        entries=[services.RemovalEntry(dataset=dataset, item=dataset.items.get())],
    )
    return dataset, grant


def _repost(name="chelsea.png"):
    return compute_hashes(
        image_bytes(photo(name).convert("RGB").resize((225, 150)), "JPEG", quality=60), max_pixels=10**8
    )


def test_a_repost_in_a_new_data_set_is_granted_under_the_same_licence(maintainer, other_maintainer):
    _, grant = _licensed(maintainer)
    services.webhook_endpoint_create(
        maintainer=other_maintainer.maintainer,
        url="https://hooks.other.example/",
        event_types=["licence.granted"],
    )
    v2 = services.dataset_create(maintainer=other_maintainer.maintainer, slug="v2", name="Other")
    unrelated = compute_hashes(photo_bytes("coffee.png"), max_pixels=10**8)
    services.items_upsert(
        dataset=v2,
        rows=[
            hashes_row("repost", _repost(), url="https://elsewhere.example/cat.jpg"),
            hashes_row("other", unrelated),
        ],
    )
    services.items_rematch(item_ids=list(v2.items.values_list("pk", flat=True)))
    [copy] = LicenceGrant.objects.filter(dataset=v2)
    assert (copy.external_id, copy.source_ref, copy.licence, copy.licence_url, copy.attribution) == (
        "repost",
        REF,
        "cc-by",
        grant.licence_url,
        "Photo: A. Artist",
    )
    assert not Removal.objects.exists()  # a licensed copy is never taken for a removal
    assert (
        WebhookDelivery.objects.filter(event__grants=copy, event__event_type="licence.granted").count() == 1
    )
    # Idempotent: the same items again grant nothing new.
    services.items_rematch(item_ids=list(v2.items.values_list("pk", flat=True)))
    assert LicenceGrant.objects.filter(dataset=v2).count() == 1


def test_a_newly_approved_source_extends_its_grants_to_copies_but_not_skipped_or_removed_ones(maintainer):
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="big", name="Big")
    original = compute_hashes(photo_bytes("astronaut.png"), max_pixels=10**8)
    small = compute_hashes(
        image_bytes(photo("astronaut.png").convert("RGB").resize((256, 256)), "JPEG", quality=70),
        max_pixels=10**8,
    )
    services.items_upsert(
        dataset=dataset, rows=[hashes_row(x, original if x == "a" else small) for x in "abcd"]
    )
    a, b, c, d = (dataset.items.get(external_id=x) for x in "abcd")
    services.licence_grants_record(
        source_ref=REF, consent=CC_BY, entries=[services.RemovalEntry(dataset=dataset, item=a)]
    )
    # The same source removed d: that copy's removal stands.
    services.removals_record(
        source_ref=REF, reason="copyright", entries=[services.RemovalEntry(dataset=dataset, item=d)]
    )
    services.source_rematch(source_ref=REF, skip_item_ids=[c.pk])
    granted = set(LicenceGrant.objects.filter(source_ref=REF).values_list("item_id", flat=True))
    assert granted == {a.pk, b.pk}


def test_a_revoked_grant_is_not_extended(maintainer):
    dataset, grant = _licensed(maintainer)
    services.licence_grants_revoke(
        grants=services.GrantSelection(source_ref=REF, item_ids=[grant.item_id]),
        why="The artist changed their mind.",
    )
    services.items_upsert(dataset=dataset, rows=[hashes_row("repost", _repost())])
    services.items_rematch(item_ids=[dataset.items.get(external_id="repost").pk])
    assert list(LicenceGrant.objects.values_list("state", flat=True)) == [GrantState.REVOKED]
