"""The standing grants' pHash index is kept between re-matches and checked against the database
on each use: grants recorded since are added, a revocation or a rollback reads it again."""

from __future__ import annotations

import pytest
from django.db import transaction

from registry import services
from registry.grant_index import _grant_index, grant_index
from registry.models import LicenceGrant
from registry.preferences import consent_clean

CC_BY = consent_clean(choice="licence", licence="cc-by", attribution="Photo: A. Artist")
REF = "RR-2026-000031"
# Codes far apart (more than the re-match distance from each other).
FIRST, SECOND, THIRD = 0x0F0F_0F0F_0F0F_0F0F, 0x3333_5555_3333_5555, 0x00FF_00FF_00FF_00FF


def _grant(dataset, external_id: str, code: int, source_ref: str = REF) -> LicenceGrant:
    services.items_upsert(
        dataset=dataset,
        rows=[
            {
                "external_id": external_id,
                "url": f"https://i.example/{external_id}.jpg",
                "phash": f"{code:016x}",
            }
        ],
    )
    [grant] = services.licence_grants_record(
        source_ref=source_ref,
        consent=CC_BY,
        entries=[services.RemovalEntry(dataset=dataset, item=dataset.items.get(external_id=external_id))],
    )
    return grant


def _found(code: int) -> list[int]:
    return [grant_id for grant_id, _ in grant_index().search(code, 0)]


def test_it_adds_the_grants_recorded_since_without_reading_them_all_again(dataset):
    first = _grant(dataset, "a", FIRST)
    assert _found(FIRST) == [first.pk]
    rebuilds = _grant_index.rebuilds
    second = _grant(dataset, "b", SECOND)
    assert _found(SECOND) == [second.pk]
    assert _found(FIRST) == [first.pk]
    assert _grant_index.rebuilds == rebuilds  # added by id, not read again


def test_it_reads_them_all_again_after_a_revocation(dataset):
    first = _grant(dataset, "a", FIRST)
    _grant(dataset, "b", SECOND)
    assert _found(FIRST) == [first.pk]
    rebuilds = _grant_index.rebuilds
    services.licence_grants_revoke(
        grants=services.GrantSelection(source_ref=REF, item_ids=[first.item_id]), why="Withdrawn."
    )
    assert _found(FIRST) == []
    assert _grant_index.rebuilds == rebuilds + 1
    assert len(grant_index()) == 1


def test_it_forgets_the_grants_of_a_transaction_rolled_back(dataset):
    kept = _grant(dataset, "a", FIRST)
    with pytest.raises(RuntimeError), transaction.atomic():
        _grant(dataset, "b", SECOND, source_ref="RR-2026-000032")
        assert len(_found(SECOND)) == 1  # the transaction's own grant, seen by its re-match
        raise RuntimeError("rolled back")
    assert _found(SECOND) == []
    assert _found(FIRST) == [kept.pk]
    # A grant recorded afterwards (its id above the rolled-back one's) is found too.
    third = _grant(dataset, "c", THIRD)
    assert _found(THIRD) == [third.pk]


def test_a_grant_recorded_after_the_index_was_built_extends_to_a_later_copy(dataset, maintainer):
    _grant(dataset, "a", FIRST)
    services.items_rematch(item_ids=[])  # nothing to search
    grant_index()
    _grant(dataset, "b", SECOND)
    other = services.dataset_create(maintainer=maintainer.maintainer, slug="v2", name="Version 2")
    services.items_upsert(
        dataset=other,
        rows=[
            {"external_id": "copy", "url": "https://j.example/copy.jpg", "phash": f"{SECOND ^ 0b101:016x}"}
        ],
    )
    services.items_rematch(item_ids=[other.items.get().pk])
    [copy] = LicenceGrant.objects.filter(dataset=other)
    assert (copy.source_ref, copy.external_id, copy.licence) == (REF, "copy", "cc-by")
