"""Rows against registered items: URLs exactly (set-wise), hashes through registry's verified search."""

from __future__ import annotations

from partners import services
from partners.models import FilingRow, PartnerKey
from registry import services as registry_services
from registry.bulk_matching import OptOutRow, optout_rows_match
from registry.hashing import code_to_hex, compute_hashes, pdq_to_hex
from tests.helpers import hashes_row, jpeg_hashes, partner_row, photo, photo_bytes


def filed(partner, rows) -> list[FilingRow]:
    key = PartnerKey.objects.get(partner=partner.partner)
    result = services.filing_create(key=key, rows=rows, attestation=True)
    return list(result.filing.rows.order_by("index"))


def test_work_urls_match_exactly(partner, partner_dataset):
    rows = filed(
        partner,
        [
            partner_row(3),
            partner_row(4, work_url="https://cdn.art.example/w/4.jpg?size=large"),  # another URL
            partner_row(50),  # not registered
        ],
    )
    found = services.rows_match(rows)
    assert found == {rows[0].pk: {partner_dataset.items.get(external_id="e3").pk}}


def test_a_reencoded_copy_is_found_by_its_hashes_at_another_url(partner, maintainer):
    original = compute_hashes(photo_bytes("chelsea.png"), max_pixels=10**8)
    dataset = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="m", name="M")
    registry_services.items_upsert(
        dataset=dataset,
        rows=[
            hashes_row("cat", original, url="https://mirror.example/cat.jpg"),
            {"external_id": "other", "url": "https://mirror.example/o.jpg", "phash": "0123456789abcdef"},
        ],
    )
    copy = jpeg_hashes(photo("chelsea.png").convert("RGB"), quality=60)
    rows = filed(
        partner,
        [
            partner_row(
                1,
                phash=code_to_hex(copy.phash),
                dhash=code_to_hex(copy.dhash),
                pdq=pdq_to_hex(copy.pdq),
                pdq_quality=copy.pdq_quality,
            ),
            partner_row(2, phash=code_to_hex(copy.phash)),  # a pHash alone is not enough here
        ],
    )
    found = services.rows_match(rows)
    assert found == {rows[0].pk: {dataset.items.get(external_id="cat").pk}}


def test_a_hash_match_of_medium_confidence_is_not_a_match_for_automatic_approval(
    partner, maintainer, settings
):

    item_phash, item_dhash = 0x0F0F_3C3C_5A5A_6969, 0x1234_5678_9ABC_DEF0
    dataset = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="m", name="M")
    registry_services.items_upsert(
        dataset=dataset,
        rows=[
            {
                "external_id": "near",
                "url": "https://mirror.example/near.jpg",
                "phash": code_to_hex(item_phash),
                "dhash": code_to_hex(item_dhash),
            }
        ],
    )
    # The pHash within its distance, the dHash only close: a suggestion for a person, of medium confidence.
    dhash_off = settings.MATCH_DHASH_MAX_DISTANCE + 2
    assert dhash_off <= settings.MATCH_DHASH_AGREE_DISTANCE
    row_phash = item_phash ^ 0b1111  # 4 bits
    row_dhash = item_dhash ^ ((1 << dhash_off) - 1)
    [row] = filed(partner, [partner_row(1, phash=code_to_hex(row_phash), dhash=code_to_hex(row_dhash))])
    [seen] = optout_rows_match([OptOutRow(row_id=row.pk, phash=row.phash, dhash=row.dhash)])
    assert (seen.signal, seen.confidence) == ("hash", "medium")

    assert services.rows_match([row]) == {}
