"""Matching a work against every data set: both hashes, through the per-data-set indexes."""

from __future__ import annotations

from registry import matching, services
from registry.hashing import code_to_hex, compute_hashes
from tests.helpers import image_bytes, photo, photo_bytes


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


def test_a_mirrored_or_turned_repost_is_found_through_the_variants(maintainer):
    from PIL import Image, ImageOps

    from registry.hashing import hamming64

    original = compute_hashes(photo_bytes("camera.png"), max_pixels=10**8)
    assert len(original.phash_variants) == 7
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    copies = {
        "mirrored": ImageOps.mirror(photo("camera.png").convert("RGB")),
        "turned": photo("camera.png").convert("RGB").rotate(90, expand=True),
        "upside-down": photo("camera.png").convert("RGB").transpose(Image.Transpose.ROTATE_180),
    }
    rows = []
    for name, image in copies.items():
        h = hashes_of(image, quality=80)
        assert hamming64(h.phash, original.phash) > 12  # the plain pHash does not find it
        rows.append(
            {"external_id": name, "url": f"https://i.example/{name}.jpg", "phash": code_to_hex(h.phash)}
        )
    services.items_upsert(dataset=dataset, rows=rows)

    assert matching.search_work(phash=original.phash, dhash=None) == []
    hits = matching.search_work(phash=original.phash, dhash=None, phash_variants=original.phash_variants)
    found = {dataset.items.get(pk=h.item_id).external_id: h for h in hits}
    assert set(found) == set(copies)
    assert all(h.algorithm == "phash-turned" and h.distance <= 4 for h in found.values())
