"""Matching a work against every data set: both hashes, through the per-data-set indexes."""

from __future__ import annotations

from registry import matching, services
from registry.hashing import code_to_hex, compute_hashes
from tests.conftest import image_bytes, photo, photo_bytes


def hashes_of(image, **save):
    return compute_hashes(image_bytes(image, "JPEG", **save), max_pixels=10**8)


def test_a_banner_copy_is_found_by_dhash_when_phash_moves_too_far(maintainer, settings):
    original = compute_hashes(photo_bytes("rocket.jpg"), max_pixels=10**8)
    copy = photo("rocket.jpg").convert("RGB").resize((320, 213))
    copy.paste((255, 255, 255), (0, int(copy.height * 0.92), copy.width, copy.height))
    banner = hashes_of(copy, quality=70)
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    services.items_upsert(
        dataset=dataset,
        rows=[
            {
                "external_id": "b",
                "url": "https://i.example/b.jpg",
                "phash": code_to_hex(banner.phash),
                "dhash": code_to_hex(banner.dhash),
            },
            {
                "external_id": "x",
                "url": "https://i.example/x.jpg",
                "phash": "0123456789abcdef",
                "dhash": "fedcba9876543210",
            },
        ],
    )
    assert matching.search_phash(original.phash, max_distance=settings.MATCH_PHASH_MAX_DISTANCE) == []
    [hit] = matching.search_work(phash=original.phash, dhash=original.dhash)
    assert hit.algorithm == "dhash" and hit.distance <= settings.MATCH_DHASH_MAX_DISTANCE
    assert hit.item_id == dataset.items.get(external_id="b").pk


def test_the_index_sees_items_added_and_hashes_replaced_after_it_was_built(maintainer):
    original = compute_hashes(photo_bytes("chelsea.png"), max_pixels=10**8)
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    services.items_upsert(
        dataset=dataset,
        rows=[{"external_id": "1", "url": "https://i.example/1", "phash": "0000000000000000"}],
    )
    assert matching.search_work(phash=original.phash, dhash=None) == []
    services.items_upsert(
        dataset=dataset,
        rows=[
            {"external_id": "1", "url": "https://i.example/1", "phash": code_to_hex(original.phash)},
            {"external_id": "2", "url": "https://i.example/2", "phash": code_to_hex(original.phash ^ 0b11)},
        ],
    )
    hits = matching.search_work(phash=original.phash, dhash=None)
    assert [(dataset.items.get(pk=h.item_id).external_id, h.distance) for h in hits] == [("1", 0), ("2", 2)]
