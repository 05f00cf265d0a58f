"""Matching a work against every data set: candidates from the per-data-set indexes, verified
by a second hash."""

from __future__ import annotations

from registry import matching, services
from registry.hashing import code_to_hex, compute_hashes
from tests.helpers import hashes_row, jpeg_hashes, photo, photo_bytes


def test_a_banner_copy_is_found_by_dhash_when_phash_moves_too_far_and_pdq_agrees(maintainer, settings):
    original = compute_hashes(photo_bytes("rocket.jpg"), max_pixels=10**8)
    copy = photo("rocket.jpg").convert("RGB").resize((320, 213))
    copy.paste((255, 255, 255), (0, int(copy.height * 0.92), copy.width, copy.height))
    banner = jpeg_hashes(copy, quality=70)
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    services.items_upsert(
        dataset=dataset,
        rows=[
            hashes_row("b", banner),
            {
                "external_id": "x",
                "url": "https://i.example/x.jpg",
                "phash": "0123456789abcdef",
                "dhash": "fedcba9876543210",
            },
        ],
    )
    assert matching.search_phash(original.phash, max_distance=settings.MATCH_PHASH_MAX_DISTANCE) == []
    [hit] = matching.search_work(
        phash=original.phash, dhash=original.dhash, pdq=original.pdq, pdq_quality=original.pdq_quality
    )
    assert hit.algorithm == "dhash" and hit.distance <= settings.MATCH_DHASH_MAX_DISTANCE
    assert hit.item_id == dataset.items.get(external_id="b").pk
    assert "dhash" in [s.hash for s in hit.signals] and len(hit.signals) >= 2
    # dHash alone is not enough: with a pHash that disagrees and no PDQ, no suggestion.
    services.items_upsert(
        dataset=dataset,
        rows=[
            {
                "external_id": "b",
                "url": "https://i.example/b.jpg",
                "phash": code_to_hex(~original.phash),
                "dhash": code_to_hex(banner.dhash),
            }
        ],
    )
    assert (
        matching.search_work(
            phash=original.phash, dhash=original.dhash, pdq=original.pdq, pdq_quality=original.pdq_quality
        )
        == []
    )


def test_the_index_sees_items_added_and_hashes_replaced_after_it_was_built(maintainer):
    original = compute_hashes(photo_bytes("chelsea.png"), max_pixels=10**8)
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    services.items_upsert(
        dataset=dataset,
        rows=[{"external_id": "1", "url": "https://i.example/1", "phash": "0000000000000000"}],
    )
    assert matching.search_work(phash=original.phash, dhash=original.dhash) == []
    services.items_upsert(
        dataset=dataset,
        rows=[
            {"external_id": "1", "url": "https://i.example/1", "phash": code_to_hex(original.phash)},
            {"external_id": "2", "url": "https://i.example/2", "phash": code_to_hex(original.phash ^ 0b11)},
        ],
    )
    hits = matching.search_work(phash=original.phash, dhash=original.dhash)
    assert [(dataset.items.get(pk=h.item_id).external_id, h.distance) for h in hits] == [("1", 0), ("2", 2)]
    # Items with a pHash and nothing else: suggested on it alone, and said to be the least sure.
    assert {h.confidence for h in hits} == {"low"}


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
        h = jpeg_hashes(image, quality=80)
        assert hamming64(h.phash, original.phash) > 12  # the plain pHash does not find it
        rows.append(
            {"external_id": name, "url": f"https://i.example/{name}.jpg", "phash": code_to_hex(h.phash)}
        )
    services.items_upsert(dataset=dataset, rows=rows)

    assert matching.search_work(phash=original.phash, dhash=original.dhash) == []
    hits = matching.search_work(
        phash=original.phash, dhash=original.dhash, phash_variants=original.phash_variants
    )
    found = {dataset.items.get(pk=h.item_id).external_id: h for h in hits}
    assert set(found) == set(copies)
    assert all(h.algorithm == "phash-turned" and h.distance <= 4 for h in found.values())
    assert {name: h.view for name, h in found.items()} == {
        "mirrored": "mirrored",
        "turned": "turned 90°",
        "upside-down": "turned 180°",
    }


def test_a_turned_copy_with_all_its_hashes_is_verified_on_the_turned_view_of_the_work(maintainer):
    from PIL import Image

    image = photo("coffee.png").convert("RGB")
    original = compute_hashes(photo_bytes("coffee.png"), max_pixels=10**8)
    turned = jpeg_hashes(image.transpose(Image.Transpose.ROTATE_270), quality=80)
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    services.items_upsert(
        dataset=dataset,
        rows=[hashes_row("t", turned)],
    )
    work = {"phash": original.phash, "dhash": original.dhash, "phash_variants": original.phash_variants}
    work |= {"pdq": original.pdq, "pdq_quality": original.pdq_quality}
    # Its turned pHash makes it a candidate, but the item has a dHash and a PDQ to check: without
    # the work's picture there is nothing to check them against, so no suggestion.
    assert matching.search_work(**work) == []
    calls = []
    [hit] = matching.search_work(**work, image=lambda: calls.append(1) or image)
    assert calls == [1]
    assert (hit.algorithm, hit.view, hit.confidence) == ("phash-turned", "turned 270°", "high")
    assert {s.hash for s in hit.signals} == {"phash", "dhash", "pdq"}
    assert all(s.distance <= 12 for s in hit.signals)


def test_what_counts_as_a_hash_that_says_something(settings):
    assert matching.near_constant(0) and matching.near_constant(-1)  # 0000... and ffff...
    assert matching.near_constant(1 << 63)  # a flat image's pHash: the DC bit alone
    assert not matching.phash_informative(1 << 63)
    assert not matching.dhash_informative(-1) and not matching.dhash_informative(None)
    # Rows that change once each (a gradient's) have 8 transitions; a photo's dHash has 18 to 37.
    assert matching.dhash_transitions(int("f0" * 8, 16)) == 8
    assert not matching.dhash_informative(int("f0" * 8, 16))
    photo_dhash = compute_hashes(photo_bytes("chelsea.png"), max_pixels=10**8).dhash
    assert matching.dhash_informative(photo_dhash)
    assert not matching.pdq_informative(bytes(32), settings.MATCH_PDQ_MIN_QUALITY - 1)
    assert matching.pdq_informative(bytes(32), settings.MATCH_PDQ_MIN_QUALITY)
    assert matching.pdq_informative(bytes(32), None, unknown=True)
    assert not matching.pdq_informative(bytes(32), None)


def test_one_strict_hash_and_one_loose_one_are_a_suggestion_but_two_loose_ones_are_not(settings):
    code = compute_hashes(photo_bytes("chelsea.png"), max_pixels=10**8).phash
    dhash = compute_hashes(photo_bytes("chelsea.png"), max_pixels=10**8).dhash

    def flip(value, bits):
        return value ^ ((1 << bits) - 1)

    probe = matching.Probe("original", code, dhash)
    strict_p, loose_d = (
        flip(code, settings.MATCH_PHASH_MAX_DISTANCE),
        flip(dhash, settings.MATCH_DHASH_AGREE_DISTANCE),
    )
    verdict = matching.verify(probe, phash=strict_p, dhash=loose_d, pdq=None, pdq_quality=None)
    assert verdict is not None
    signals, confidence = verdict
    assert [(s.hash, s.distance) for s in signals] == [
        ("phash", settings.MATCH_PHASH_MAX_DISTANCE),
        ("dhash", settings.MATCH_DHASH_AGREE_DISTANCE),
    ]
    assert confidence == "medium"
    loose_p = flip(code, settings.MATCH_PHASH_AGREE_DISTANCE)
    assert matching.verify(probe, phash=loose_p, dhash=loose_d, pdq=None, pdq_quality=None) is None
    # One hash, however close, with another that disagrees: not a suggestion.
    assert matching.verify(probe, phash=code, dhash=flip(dhash, 30), pdq=None, pdq_quality=None) is None
    both = matching.verify(probe, phash=code, dhash=dhash, pdq=None, pdq_quality=None)
    assert both is not None and both[1] == "high"


# --- derived views: crops, pads and small rotations (registry.probes) -------------------


def test_a_derived_view_is_suggested_only_when_every_hash_agrees_and_never_on_a_phash_alone(settings):
    h = compute_hashes(photo_bytes("chelsea.png"), max_pixels=10**8)
    derived = matching.Probe("cropped to 90%, centre", h.phash, h.dhash, h.pdq, h.pdq_quality, derived=True)
    same = matching.verify(derived, phash=h.phash, dhash=h.dhash, pdq=h.pdq, pdq_quality=h.pdq_quality)
    assert same is not None and same[1] == "high" and len(same[0]) == 3
    far_pdq = bytes(b ^ 0xFF for b in h.pdq)
    # pHash and dHash agree but the PDQ does not: a view of the work, so no suggestion (the work as
    # uploaded would be suggested on two of three).
    assert matching.verify(derived, phash=h.phash, dhash=h.dhash, pdq=far_pdq, pdq_quality=90) is None
    uploaded = matching.Probe("original", h.phash, h.dhash, h.pdq, h.pdq_quality)
    assert matching.verify(uploaded, phash=h.phash, dhash=h.dhash, pdq=far_pdq, pdq_quality=90) is not None
    # An item with a pHash alone: "low" for the work as uploaded, nothing for a derived view.
    assert matching.verify(uploaded, phash=h.phash, dhash=None, pdq=None, pdq_quality=None)[1] == "low"
    assert matching.verify(derived, phash=h.phash, dhash=None, pdq=None, pdq_quality=None) is None


def test_a_cropped_padded_or_slightly_turned_copy_is_found_through_a_derived_view(maintainer):
    from PIL import Image

    from registry import probes

    image = photo("brick.png").convert("RGB")
    w, h = image.size
    copies = {
        "crop": image.crop((round(w * 0.05), round(h * 0.05), round(w * 0.95), round(h * 0.95))),
        "pad": Image.new("RGB", (round(w * 1.1), round(h * 1.1)), (200, 30, 40)),
        "turn": image.rotate(-5, Image.Resampling.BICUBIC),
    }
    copies["pad"].paste(image, (round(w * 0.05), round(h * 0.05)))
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    rows = []
    for name, copy in copies.items():
        c = jpeg_hashes(copy, quality=85)
        rows.append(hashes_row(name, c))
    services.items_upsert(dataset=dataset, rows=rows)
    original = compute_hashes(photo_bytes("brick.png"), max_pixels=10**8)
    work = {"phash": original.phash, "dhash": original.dhash, "phash_variants": original.phash_variants}
    work |= {"pdq": original.pdq, "pdq_quality": original.pdq_quality}
    assert matching.search_work(**work, image=lambda: image) == []  # global hashes: nothing
    calls = []
    hits = matching.search_work(
        **work, image=lambda: calls.append(1) or image, derived_hashes=probes.derived_hashes(image)
    )
    assert calls == [1]  # decoded once, for the views that found something
    found = {dataset.items.get(pk=hit.item_id).external_id: hit for hit in hits}
    assert set(found) == set(copies)
    assert all(hit.algorithm == "phash-derived" for hit in found.values())
    assert all({s.hash for s in hit.signals} == {"phash", "dhash", "pdq"} for hit in found.values())
    assert found["crop"].view.startswith("cropped to 90%")
    assert found["pad"].view.endswith("border of 5%")
    assert found["turn"].view.startswith("turned 5° clockwise")


def test_searching_many_codes_at_once_finds_what_searching_each_finds(maintainer):
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    other = services.dataset_create(maintainer=maintainer.maintainer, slug="e", name="E")
    codes = [0x0123456789ABCDEF, 0x0F0F0F0F0F0F0F0F, 0x5555AAAA5555AAAA]
    for target, offset in ((dataset, 0), (other, 1)):
        services.items_upsert(
            dataset=target,
            rows=[
                {
                    "external_id": str(i),
                    "url": f"https://i.example/{i}",
                    "phash": code_to_hex(c ^ (1 << offset)),
                }
                for i, c in enumerate(codes)
            ],
        )
    index = matching.indexes("phash")
    assert index.search_all_many(codes, 3) == [index.search_all(c, 3) for c in codes]
    assert all(len(hits) == 2 for hits in index.search_all_many(codes, 3))
    assert index.search_all_many([], 3) == []
