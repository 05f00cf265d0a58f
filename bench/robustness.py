"""Which edits each hash survives: share of the sample photos still matched, per edit and hash."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageEnhance

from registry.hashing import ImageHashes, compute_hashes, hamming64, pdq_dihedral, pdq_distance

from .common import note, photo_paths, table

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


def _pad(image: Image.Image) -> Image.Image:
    dx, dy = round(image.width * 0.05), round(image.height * 0.05)
    out = Image.new("RGB", (image.width + 2 * dx, image.height + 2 * dy), (255, 255, 255))
    out.paste(image, (dx, dy))
    return out


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
    ("crop 5% (centre 95% of each side)", _crop(0.05), False),
    ("crop 10% (centre 90% of each side)", _crop(0.10), False),
    ("padding 10% (white border, 5% each side)", _pad, False),
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
        f"5% crops that move pHash; its margin is {closest[1] - DHASH_MAX} bits ({closest[1]}), and every "
        "suggestion is confirmed by the artist and reviewed by a moderator. PDQ <= "
        f"{PDQ_MAX} (MATCH_PDQ_MAX_DISTANCE, margin {closest[2] - PDQ_MAX} bits) vetoes the copies that "
        "re-matching records without a person. None of the hashes survives 10% crops, padding or 5° "
        "rotations: those need a local-feature matcher, not a higher threshold (14 photos is a small "
        "sample; the margins are not a false-match rate)."
    )
