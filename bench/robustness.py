"""Which edits each hash survives, and what the site suggests.

Part 1: share of the sample photos still within each hash's threshold, per edit
and hash (the hashes alone, no matching).

Part 2 (`suggestions`): through the site's matching path. A throw-away
PostgreSQL database (bench.pgdb) holds one data set: the 2,000 distractors of
bench/distractors.py and an edited copy of every sample photo for every
edit, registered with `services.items_upsert` and the hasher's hashes. Each
photo is then searched as work_match searches a work (`matching.search_work`
with the work's hashes and its picture), at the site's thresholds
(config.settings). Per edit: the copies suggested for their own photo
(recall); overall: the distractors (and copies of other photos) suggested.
Main's rule before verification, any item within the pHash or the dHash
threshold or the turned pHash threshold, is the union of the same index
searches (what main's `search_work` did), shown beside it.
"""

from __future__ import annotations

import io
import itertools
from collections import Counter
from collections.abc import Callable, Sequence

from PIL import Image, ImageDraw, ImageEnhance

from registry.hashing import ImageHashes, compute_hashes, hamming64, pdq_dihedral, pdq_distance

from .common import note, photo_paths, table, timer

MAX_PIXELS = 50_000_000
PHASH_MAX = 10
DHASH_MAX = 8  # MATCH_DHASH_MAX_DISTANCE
PDQ_MAX = 31

Edit = Callable[[Image.Image], Image.Image]


def _jpeg(quality: int) -> Edit:
    def edit(image: Image.Image) -> Image.Image:
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality)
        return Image.open(io.BytesIO(out.getvalue())).convert("RGB")

    return edit


def _resize(factor: float) -> Edit:
    return lambda im: im.resize(
        (max(1, round(im.width * factor)), max(1, round(im.height * factor))), Image.LANCZOS
    )


def _banner(image: Image.Image) -> Image.Image:
    out = image.copy()
    draw = ImageDraw.Draw(out)
    height = round(image.height * 0.10)
    draw.rectangle((0, image.height - height, image.width, image.height), fill=(20, 20, 20))
    draw.text((10, image.height - height + 4), "@somebody  reposted from elsewhere", fill=(255, 255, 255))
    return out


def _crop(share: float) -> Edit:
    def edit(image: Image.Image) -> Image.Image:
        dx, dy = round(image.width * share / 2), round(image.height * share / 2)
        return image.crop((dx, dy, image.width - dx, image.height - dy))

    return edit


def _crop_at(share: float, fx: float, fy: float) -> Edit:
    """A crop whose kept window is not centred: `fx`, `fy` of the way across and down."""

    def edit(image: Image.Image) -> Image.Image:
        cw, ch = round(image.width * (1 - share)), round(image.height * (1 - share))
        left, top = round((image.width - cw) * fx), round((image.height - ch) * fy)
        return image.crop((left, top, left + cw, top + ch))

    return edit


def _pad(colour: tuple[int, int, int]) -> Edit:
    def edit(image: Image.Image) -> Image.Image:
        dx, dy = round(image.width * 0.05), round(image.height * 0.05)
        out = Image.new("RGB", (image.width + 2 * dx, image.height + 2 * dy), colour)
        out.paste(image, (dx, dy))
        return out

    return edit


EDITS: list[tuple[str, Edit, bool]] = [  # name, edit, geometric (dihedral variants apply)
    ("JPEG quality 20", _jpeg(20), False),
    ("JPEG quality 50", _jpeg(50), False),
    ("JPEG quality 90", _jpeg(90), False),
    ("resize 0.25x", _resize(0.25), False),
    ("resize 0.5x", _resize(0.5), False),
    ("resize 2x", _resize(2), False),
    ("grayscale", lambda im: im.convert("L").convert("RGB"), False),
    ("brightness +30%", lambda im: ImageEnhance.Brightness(im).enhance(1.3), False),
    ("contrast +30%", lambda im: ImageEnhance.Contrast(im).enhance(1.3), False),
    ("banner over the bottom 10%", _banner, False),
    ("horizontal flip", lambda im: im.transpose(Image.Transpose.FLIP_LEFT_RIGHT), True),
    ("rotation 90°", lambda im: im.transpose(Image.Transpose.ROTATE_90), True),
    ("rotation 180°", lambda im: im.transpose(Image.Transpose.ROTATE_180), True),
    ("rotation 2° (black corners)", lambda im: im.rotate(2, Image.BICUBIC), True),
    ("rotation 5° (black corners)", lambda im: im.rotate(5, Image.BICUBIC), True),
    ("rotation 5° clockwise (black corners)", lambda im: im.rotate(-5, Image.BICUBIC), True),
    ("rotation 5° (canvas expanded)", lambda im: im.rotate(5, Image.BICUBIC, expand=True), True),
    ("crop 5% (centre 95% of each side)", _crop(0.05), False),
    ("crop 10% (centre 90% of each side)", _crop(0.10), False),
    ("crop 10% off-centre (30% across, 70% down)", _crop_at(0.10, 0.3, 0.7), False),
    ("padding 10% (white border, 5% each side)", _pad((255, 255, 255)), False),
    ("padding 10% (black border)", _pad((0, 0, 0)), False),
    ("padding 10% (grey border)", _pad((128, 128, 128)), False),
    ("padding 10% (red border)", _pad((255, 0, 0)), False),
    ("padding 10% (blue border)", _pad((0, 0, 255)), False),
]


def hashes(image: Image.Image) -> ImageHashes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return compute_hashes(out.getvalue(), max_pixels=MAX_PIXELS)


def run(*, quick: bool = False) -> None:
    photos = [Image.open(p).convert("RGB") for p in photo_paths()]
    originals = [hashes(im) for im in photos]
    variants = [pdq_dihedral(im) for im in photos]
    rows = []
    for name, edit, _geometric in EDITS:
        note(f"robustness: {name}")
        counts = [0, 0, 0, 0, 0]
        worst = [0, 0, 0, 0, 0]
        for image, original, dihedral in zip(photos, originals, variants, strict=True):
            copy = hashes(edit(image))
            assert copy.pdq is not None and original.pdq is not None
            distances = [
                hamming64(copy.phash, original.phash),
                hamming64(copy.dhash, original.dhash),
                pdq_distance(copy.pdq, original.pdq),
                min(pdq_distance(copy.pdq, v) for v in dihedral),
                min(hamming64(copy.phash, v) for v in (original.phash, *original.phash_variants)),
            ]
            for k, (d, limit) in enumerate(
                zip(distances, (PHASH_MAX, DHASH_MAX, PDQ_MAX, PDQ_MAX, PHASH_MAX), strict=True)
            ):
                counts[k] += d <= limit
                worst[k] = max(worst[k], d)
        n = len(photos)
        rows.append(
            [name, *(f"{c}/{n} ({100 * c / n:.0f}%), worst {w}" for c, w in zip(counts, worst, strict=True))]
        )
    closest = [64, 64, 256, 256, 64]
    for (ha, va), (hb, _vb) in itertools.combinations(zip(originals, variants, strict=True), 2):
        assert ha.pdq is not None and hb.pdq is not None
        closest = [
            min(closest[0], hamming64(ha.phash, hb.phash)),
            min(closest[1], hamming64(ha.dhash, hb.dhash)),
            min(closest[2], pdq_distance(ha.pdq, hb.pdq)),
            min(closest[3], *(pdq_distance(hb.pdq, v) for v in va)),
            min(closest[4], *(hamming64(hb.phash, v) for v in (ha.phash, *ha.phash_variants))),
        ]
    rows.append(
        [
            f"**closest two different photos** ({len(photos) * (len(photos) - 1) // 2} pairs)",
            *(f"{d} bits" for d in closest),
        ]
    )
    print(
        f"## Robustness: {len(photos)} sample photos (tests/fixtures/photos), hashed with `compute_hashes`\n"
    )
    print(
        f"Matched = distance to the unedited photo's hash at or below the threshold: pHash <= {PHASH_MAX}, "
        f'dHash <= {DHASH_MAX}, PDQ <= {PDQ_MAX} (of 64, 64 and 256 bits). "PDQ dihedral" compares the '
        "edited copy's PDQ with the 8 dihedral variants of the original (`pdq_dihedral`); \"pHash + "
        'turned" with the pHash of the original and of its 7 mirrored or turned versions '
        "(`ImageHashes.phash_variants`), which is how works are searched. "
        '"worst" is the largest distance seen.\n'
    )
    print(table(["edit", "pHash", "dHash", "PDQ", "PDQ dihedral", "pHash + turned"], rows))
    print(
        f"\nDefaults that follow: pHash <= {PHASH_MAX} (MATCH_PHASH_MAX_DISTANCE) keeps every re-encoding, "
        f"resize and colour change while staying {closest[0] - PHASH_MAX} bits below the closest pair of "
        f"different photos ({closest[0]}); searching the original's 7 mirrored and turned pHashes too finds "
        f"flips and right-angle rotations with a margin of {closest[4] - PHASH_MAX} bits ({closest[4]}). "
        f"dHash <= {DHASH_MAX} (MATCH_DHASH_MAX_DISTANCE) is searched as well because it keeps banners and "
        f"5% crops that move pHash; its margin is {closest[1] - DHASH_MAX} bits ({closest[1]}). "
        "A candidate found by either becomes a suggestion only when a second hash agrees (next table). "
        "PDQ <= "
        f"{PDQ_MAX} (MATCH_PDQ_MAX_DISTANCE, margin {closest[2] - PDQ_MAX} bits) vetoes the copies that "
        "re-matching records without a person. None of the hashes survives 10% crops, padding or 5° "
        "rotations, and a higher threshold would not help: works are searched with derived views "
        "instead (registry/probes.py: the work cropped, padded and turned as a copy would be; next "
        "table). 14 photos is a small sample; the margins are not a false-match rate."
    )
    print()
    suggestions(photos=photos, quick=quick)


def _main_rule(h: ImageHashes) -> set[int]:
    """What main's search_work suggested: every item within a threshold of one hash."""
    from django.conf import settings

    from registry.matching import indexes

    phash_max, dhash_max = settings.MATCH_PHASH_MAX_DISTANCE, settings.MATCH_DHASH_MAX_DISTANCE
    found = {item for item, _ in indexes("phash").search_all(h.phash, phash_max)}
    found |= {item for item, _ in indexes("dhash").search_all(h.dhash, dhash_max)}
    for variant in h.phash_variants:
        found |= {item for item, _ in indexes("phash").search_all(variant, phash_max)}
    return found


def suggestions(*, photos: list[Image.Image], quick: bool = False) -> None:
    from .distractors import distractors
    from .pgdb import bench_database

    with bench_database("robustness"):
        _suggestions(photos, distractors, quick=quick)


def _suggestions(photos: list[Image.Image], distractors: Callable[..., object], *, quick: bool) -> None:
    import hashlib
    import tempfile
    import time

    from django.conf import settings
    from django.test import override_settings

    from registry import matching, probes, services
    from registry.hashing import code_to_hex, open_image, pdq_to_hex

    def search(
        h: ImageHashes,
        data: bytes,
        *,
        derived: Sequence[Sequence[object]] = (),
        picture: bool = True,
        max_pixels: int = settings.UPLOAD_MAX_PIXELS,
    ) -> list[matching.Hit]:
        """matching.search_work as work_match calls it; without the picture no view gets its PDQ."""
        return matching.search_work(
            phash=h.phash,
            dhash=h.dhash,
            phash_variants=h.phash_variants,
            pdq=h.pdq,
            pdq_quality=h.pdq_quality,
            image=(lambda: open_image(data, max_pixels=max_pixels, draft=True)) if picture else None,
            derived_hashes=derived,
        )

    def row(external_id: str, h: ImageHashes) -> dict[str, object]:
        return {
            "external_id": external_id,
            "url": f"https://bench.example/{hashlib.sha256(external_id.encode()).hexdigest()[:16]}.png",
            "phash": code_to_hex(h.phash),
            "dhash": code_to_hex(h.dhash),
            "pdq": pdq_to_hex(h.pdq),
        }

    note("robustness: hashing the distractors and the edited copies")
    items = [
        row(f"distractor/{d.name}", compute_hashes(d.png(), max_pixels=MAX_PIXELS)) for d in distractors()
    ]  # type: ignore[attr-defined]
    n_distractors = len(items)
    for p, image in enumerate(photos):
        for name, edit, _geometric in EDITS:
            items.append(row(f"copy/{p}/{name}", hashes(edit(image))))
    with tempfile.TemporaryDirectory() as var_dir, override_settings(VAR_DIR=var_dir):
        from registry.models import Maintainer

        maintainer = Maintainer.objects.create(name="Bench Org", email="ops@bench.example")
        dataset = services.dataset_create(maintainer=maintainer, slug="bench", name="Bench")
        for start in range(0, len(items), 5000):
            assert not services.items_upsert(dataset=dataset, rows=items[start : start + 5000]).rejected
        external = dict(dataset.items.values_list("pk", "external_id"))
        matching._indexes.clear()  # this database's items, not another run's
        works = []
        seconds_derived_hashing: list[float] = []
        for image in photos:
            out = io.BytesIO()
            image.save(out, "PNG")
            data = out.getvalue()
            decoded = open_image(data, max_pixels=MAX_PIXELS, draft=True)
            with timer() as took:  # what work_hash adds: the derived views' pHash and dHash
                derived = probes.derived_hashes(decoded)
            seconds_derived_hashing.append(took[0])
            works.append((data, compute_hashes(data, max_pixels=MAX_PIXELS), derived))
        for _data, h, _derived in works[:2]:  # warm the indexes
            matching.search_work(phash=h.phash, dhash=h.dhash, phash_variants=h.phash_variants)
        new: list[dict[int, matching.Hit]] = []
        plain: list[dict[int, matching.Hit]] = []
        old: list[set[int]] = []
        seconds: list[float] = []
        seconds_without_image: list[float] = []
        seconds_plain: list[float] = []
        seconds_main: list[float] = []
        for data, h, derived in works:
            with timer() as took:
                hits = search(h, data, derived=derived)
            seconds.append(took[0])
            new.append({hit.item_id: hit for hit in hits})
            old.append(_main_rule(h))
            with timer() as took:  # without the picture: no turned or derived view gets its PDQ
                search(h, data, derived=derived, picture=False)
            seconds_without_image.append(took[0])
            with timer() as took:  # agreement without the derived views (the rule before them)
                found = search(h, data)
            seconds_plain.append(took[0])
            plain.append({hit.item_id: hit for hit in found})
            with timer() as took:
                _main_rule(h)
            seconds_main.append(took[0])
        # Distractors searched as works against the others: nearly blank images, text, line art.
        note("robustness: every distractor searched as a work")
        d_hits_new = d_hits_old = d_hits_plain = 0
        d_pairs_new: list[str] = []
        sample = list(distractors())[: 400 if quick else None]  # type: ignore[attr-defined]
        by_name = {v: k for k, v in external.items()}
        started = time.perf_counter()
        for d in sample:
            data = d.png()
            h = compute_hashes(data, max_pixels=MAX_PIXELS)
            own = by_name[f"distractor/{d.name}"]
            derived = probes.derived_hashes(open_image(data, max_pixels=MAX_PIXELS, draft=True))
            hits = search(h, data, derived=derived, max_pixels=MAX_PIXELS)
            others = [hit for hit in hits if hit.item_id != own]
            d_hits_new += len(others)
            d_pairs_new += [
                " ~ ".join(sorted((d.kind, external[hit.item_id].split("/", 1)[1].rsplit("-", 1)[0])))
                for hit in others
            ]
            d_hits_old += len(_main_rule(h) - {own})
            d_hits_plain += sum(hit.item_id != own for hit in search(h, data, max_pixels=MAX_PIXELS))
        distractor_seconds = time.perf_counter() - started
    rows = []
    n = len(photos)
    for name, _edit, _geometric in EDITS:
        found_new = found_old = found_plain = 0
        signals: dict[str, int] = {}
        for p in range(n):
            item = by_name[f"copy/{p}/{name}"]
            found_old += item in old[p]
            found_plain += item in plain[p]
            hit = new[p].get(item)
            if hit is not None:
                found_new += 1
                via = "derived view, " if hit.algorithm == "phash-derived" else ""
                key = " + ".join(s.hash for s in hit.signals) + f" ({via}{hit.confidence})"
                signals[key] = signals.get(key, 0) + 1
        agreeing = ", ".join(f"{k}: {v}" for k, v in sorted(signals.items(), key=lambda kv: -kv[1]))
        rows.append([name, f"{found_old}/{n}", f"{found_plain}/{n}", f"**{found_new}/{n}**", agreeing or "—"])

    def wrong(found: list[set[int]] | list[dict[int, matching.Hit]]) -> tuple[int, int]:
        distractor = other_photo = 0
        for p, items_found in enumerate(found):
            for item in items_found:
                label = external[item]
                if label.startswith("distractor/"):
                    distractor += 1
                elif not label.startswith(f"copy/{p}/"):
                    other_photo += 1
        return distractor, other_photo

    old_d, old_o = wrong(old)
    plain_d, plain_o = wrong(plain)
    new_d, new_o = wrong(new)
    rows.append(
        [
            f"**false: distractors suggested** ({n} works x {n_distractors:,} distractors)",
            old_d,
            plain_d,
            f"**{new_d}**",
            "",
        ]
    )
    rows.append(["**false: copies of another photo suggested**", old_o, plain_o, f"**{new_o}**", ""])
    rows.append(
        [
            f"**false: distractors among themselves** ({len(sample):,} searched against the other items)",
            d_hits_old,
            d_hits_plain,
            f"**{d_hits_new}**",
            "; ".join(f"{pair}: {count}" for pair, count in Counter(d_pairs_new).most_common()),
        ]
    )
    print(
        f"## Suggestions through the site's matching path: {n} photos against {len(external):,} items\n\n"
        f"One data set of {n_distractors:,} distractors (bench/distractors.py: photo tiles, text pages, flat "
        "colours, linear and radial gradients, noise, line art) and one copy of every photo per edit, "
        "registered with `services.items_upsert`; each photo searched with `matching.search_work` as "
        "`work_match` calls it, at the site's thresholds: candidates within pHash "
        f"{settings.MATCH_PHASH_MAX_DISTANCE} or dHash {settings.MATCH_DHASH_MAX_DISTANCE} "
        f"(a turned pHash within {settings.MATCH_TURNED_PHASH_MAX_DISTANCE}); "
        f"a suggestion needs two of pHash <= {settings.MATCH_PHASH_AGREE_DISTANCE}, dHash <= "
        f"{settings.MATCH_DHASH_AGREE_DISTANCE}, PDQ <= {settings.MATCH_PDQ_AGREE_DISTANCE}, one within its "
        f"strict distance (pHash {settings.MATCH_PHASH_MAX_DISTANCE}, "
        f"dHash {settings.MATCH_DHASH_MAX_DISTANCE}, "
        f"PDQ {settings.MATCH_PDQ_MAX_DISTANCE}); no near-constant code (fewer than "
        f"{settings.MATCH_HASH_MIN_MINORITY_BITS} ones or zeros), no dHash with fewer than "
        f"{settings.MATCH_DHASH_MIN_TRANSITIONS} row transitions, no PDQ of quality below "
        f"{settings.MATCH_PDQ_MIN_QUALITY} counts. Derived views (registry/probes.py: "
        f"{len(probes.DERIVED_VIEWS)} crops, pads and small rotations of the work) are searched within "
        f"pHash {settings.MATCH_PROBE_PHASH_MAX_DISTANCE} and suggested only when every hash both sides "
        'have agrees with the same view. "one hash" is the rule before agreement (any one hash within its '
        'threshold); "agreement" is agreement without the derived views.\n'
    )
    print(
        table(
            [
                "edit",
                "one hash: suggested",
                "agreement: suggested",
                "now (+ derived views): suggested",
                "now: hashes that agreed (confidence): copies",
            ],
            rows,
        )
    )

    def ms(values: list[float]) -> str:
        values = sorted(values)
        return f"median {1000 * values[len(values) // 2]:.1f} ms, worst {1000 * values[-1]:.1f} ms"

    print(
        f"\nCost per work ({len(external):,} items, this machine): the one-hash rule (the index searches "
        f"alone) {ms(seconds_main)}; agreement without derived views {ms(seconds_plain)}; now, with the "
        f"derived views, without the picture (no view gets its PDQ) {ms(seconds_without_image)}; "
        f"with the picture {ms(seconds)}: every photo here has edited copies registered, so each decodes its "
        "picture and hashes the turned and derived views that found a candidate (about 5-20 ms each at 512 "
        f"px). Hashing the {len(probes.DERIVED_VIEWS)} derived views' pHash and dHash (work_hash, once "
        f"per work) took {ms(seconds_derived_hashing)}. "
        f"{len(sample):,} distractors searched as works took {distractor_seconds:.1f} s "
        f"({1000 * distractor_seconds / len(sample):.1f} ms each, hashing included)."
    )
