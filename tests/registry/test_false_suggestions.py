"""No false suggestions, recall unchanged: 2,000 distractors and edited copies of the sample
photos registered as a data set's items, the photos uploaded as works, through the site's path
(items_upsert, works_add, work_hash_and_match)."""

from __future__ import annotations

import hashlib
import itertools
from collections import Counter

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from bench.distractors import distractors
from bench.robustness import EDITS
from registry import probes, services
from registry.hashing import code_to_hex, compute_hashes, hamming64
from requests_app import services as request_services
from requests_app.models import Match
from tests.helpers import PHOTOS, hashes_row, image_bytes, photo, photo_bytes

PHOTO_NAMES = sorted(p.name for p in PHOTOS.iterdir() if p.suffix in (".png", ".jpg"))
_GEOMETRIC = ("crop", "padding", "rotation 2", "rotation 5")
# Every edit of bench/robustness.py but the crops, pads and small rotations: found for every photo.
FOUND_EDITS = [(name, edit) for name, edit, _ in EDITS if not name.startswith(_GEOMETRIC)]
# The crops, pads and small rotations, which global hashes do not survive: found through the
# work's derived views (registry.probes) for at least 13 of the 14 photos (issue 12, part 2).
# The off-centre crop is measured in bench/RESULTS.md, not held to it.
DERIVED_EDITS = [
    (name, edit) for name, edit, _ in EDITS if name.startswith(_GEOMETRIC) and "off-centre" not in name
]


def upload_photos(artist):
    ticket = request_services.request_create(artist=artist, basis="copyright")
    added = request_services.works_add(
        ticket=ticket,
        actor=artist.user,
        files=[SimpleUploadedFile(name, photo_bytes(name)) for name in PHOTO_NAMES],
    )
    assert len(added.works) == len(PHOTO_NAMES)
    for work in added.works:
        assert request_services.work_hash_and_match(work_id=work.pk) == "done"
    return ticket


def test_the_distractors_are_2000_distinct_images_the_same_every_time(distractor_set):
    first = [(d["name"], d["sha256"]) for d in distractor_set]
    assert len(first) == 2000
    assert len({digest for _, digest in first}) == 2000
    # Drawn again from the seed: the same images, byte for byte.
    assert [
        (d.name, hashlib.sha256(d.png()).hexdigest()) for d in itertools.islice(distractors(), 50)
    ] == first[:50]
    kinds = Counter(name.rsplit("-", 1)[0] for name, _ in first)
    assert set(kinds) == {
        "photo-tile",
        "text",
        "flat",
        "gradient-linear",
        "gradient-radial",
        "noise",
        "line-art",
    }
    assert min(kinds.values()) >= 100


def test_no_distractor_is_suggested_for_any_sample_photo(artist, dataset, distractor_rows):
    # Nearly blank images are there, with the degenerate dHash among them.
    assert sum(row["dhash"] == "ffffffffffffffff" for row in distractor_rows) >= 50
    result = services.items_upsert(dataset=dataset, rows=distractor_rows)
    assert result.created == 2000 and not result.rejected

    ticket = upload_photos(artist)

    # Every work was searched with its crops, pads and small rotations too.
    assert {len(work.derived_hashes) for work in ticket.works.all()} == {len(probes.DERIVED_VIEWS)}
    suggested = Match.objects.filter(work__request=ticket).select_related("item", "work")
    assert [(m.work.original_name, m.item.external_id, m.algorithm, m.distance) for m in suggested] == []


def register_copies(dataset, distractor_rows, edits):
    """The distractors and a copy of every photo per edit, as a maintainer registers them (each
    copy saved as a PNG at the fastest zlib level: the same pixels, a fifth of the encoding time)."""
    rows = list(distractor_rows)
    for name in PHOTO_NAMES:
        image = photo(name).convert("RGB")
        for edit_name, edit in edits:
            h = compute_hashes(image_bytes(edit(image), "PNG", compress_level=1), max_pixels=10**8)
            rows.append(hashes_row(f"copy/{name}/{edit_name}", h, url=f"https://copies.example/{name}"))
    assert not services.items_upsert(dataset=dataset, rows=rows).rejected


def copies_found(ticket):
    """(photo, edit) of every copy suggested for its own photo; fails on any other suggestion."""
    found = set()
    for m in Match.objects.filter(work__request=ticket).select_related("item", "work"):
        kind, photo_name, edit_name = m.item.external_id.split("/", 2)
        assert (kind, photo_name) == ("copy", m.work.original_name), (
            m.work.original_name,
            m.item.external_id,
        )
        found.add((photo_name, edit_name))
    return found


def test_every_edited_copy_is_still_suggested_among_the_distractors(artist, dataset, distractor_rows):
    register_copies(dataset, distractor_rows, FOUND_EDITS)

    ticket = upload_photos(artist)

    found = copies_found(ticket)
    missed = {
        edit_name: [name for name in PHOTO_NAMES if (name, edit_name) not in found]
        for edit_name, _ in FOUND_EDITS
    }
    assert {edit: names for edit, names in missed.items() if names} == {}
    assert not Match.objects.filter(
        work__request=ticket, item__external_id__startswith="distractor/"
    ).exists()
    # What the desk and the artist see: which hashes agreed, how close, how sure.
    for match in Match.objects.filter(work__request=ticket):
        assert len(match.signals) >= 2 and match.confidence in ("high", "medium")


@pytest.mark.parametrize("angle", [0, 90])
def test_two_different_gradients_with_the_degenerate_dhash_are_not_suggested(artist, dataset, angle):
    import numpy as np
    from PIL import Image

    def gradient(start, end, size=(200, 160)):
        t = np.linspace(0, 1, size[0])[None, :, None]
        pixels = np.broadcast_to(
            np.array(start) + t * (np.array(end) - np.array(start)), (size[1], size[0], 3)
        )
        return Image.fromarray(np.round(pixels).astype(np.uint8), "RGB").rotate(angle, expand=True)

    work_image, item_image = gradient((10, 10, 10), (240, 240, 240)), gradient((90, 40, 0), (120, 200, 255))
    work_hashes = compute_hashes(image_bytes(work_image), max_pixels=10**8)
    item_hashes = compute_hashes(image_bytes(item_image), max_pixels=10**8)
    assert work_image.tobytes() != item_image.tobytes()
    if angle == 0:  # left to right: every pixel brighter than its left neighbour
        assert code_to_hex(work_hashes.dhash) == code_to_hex(item_hashes.dhash) == "ffffffffffffffff"
    assert hamming64(work_hashes.dhash, item_hashes.dhash) == 0
    services.items_upsert(
        dataset=dataset,
        rows=[hashes_row("gradient", item_hashes, url="https://i.example/gradient.png")],
    )
    ticket = request_services.request_create(artist=artist, basis="copyright")
    [work] = request_services.works_add(
        ticket=ticket, actor=artist.user, files=[SimpleUploadedFile("blank.png", image_bytes(work_image))]
    ).works
    assert request_services.work_hash_and_match(work_id=work.pk) == "done"
    assert not work.matches.exists()


def test_crops_pads_and_small_rotations_are_found_for_13_of_14_photos_and_nothing_else(
    artist, dataset, distractor_rows
):
    register_copies(dataset, distractor_rows, DERIVED_EDITS)
    names = [name for name, _ in DERIVED_EDITS]
    assert {"crop 5% (centre 95% of each side)", "crop 10% (centre 90% of each side)"} <= set(names)
    assert sum(name.startswith("padding 10%") for name in names) >= 4  # white, black, grey, colours
    assert sum(name.startswith(("rotation 2", "rotation 5")) for name in names) >= 3

    ticket = upload_photos(artist)

    found = copies_found(ticket)  # no distractor, no copy of another photo
    counts = {edit: sum((name, edit) in found for name in PHOTO_NAMES) for edit in names}
    assert {edit: count for edit, count in counts.items() if count < 13} == {}
    for match in Match.objects.filter(work__request=ticket, algorithm="phash-derived"):
        assert {s["hash"] for s in match.signals} >= {"phash", "dhash"}
        assert match.view and match.view != "original"
