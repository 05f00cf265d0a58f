"""Hashing speed and drift: our pipeline (draft decoding) vs imagehash on a full decode, 12 MP JPEGs."""

from __future__ import annotations

import io
import tempfile
import time
from pathlib import Path

import imagehash
import numpy as np
import pdqhash
from PIL import Image

from registry.hashing import DRAFT_SIZE, compute_hashes, hamming64, hex_to_code, open_image, pdq_distance

from .common import note, photo_paths, table

MAX_PIXELS = 50_000_000


def make_jpegs(folder: Path, count: int) -> list[Path]:
    paths = []
    for source in photo_paths()[:count]:
        path = folder / f"{source.stem}-12mp.jpg"
        Image.open(source).convert("RGB").resize((4000, 3000)).save(path, "JPEG", quality=90)
        paths.append(path)
    return paths


def run(*, quick: bool = False) -> None:
    count = 4 if quick else 8
    rounds = 1 if quick else 3
    with tempfile.TemporaryDirectory(prefix="bench-hashing-") as tmp:
        note(f"hashing: making {count} 12-megapixel JPEGs")
        paths = make_jpegs(Path(tmp), count)
        ours: dict[Path, object] = {}
        full: dict[Path, str] = {}
        # best of `rounds` for each side, the two interleaved so both see the same disk cache
        best_ours = best_full = best_phash = float("inf")
        for _ in range(rounds):
            start = time.perf_counter()
            for path in paths:
                ours[path] = compute_hashes(path.read_bytes(), max_pixels=MAX_PIXELS)
            best_ours = min(best_ours, time.perf_counter() - start)
            start = time.perf_counter()
            for path in paths:
                full[path] = str(imagehash.phash(Image.open(path)))
            best_full = min(best_full, time.perf_counter() - start)
            start = time.perf_counter()
            for path in paths:
                imagehash.phash(open_image(path.read_bytes(), max_pixels=MAX_PIXELS, draft=True))
            best_phash = min(best_phash, time.perf_counter() - start)
        note("hashing: PDQ of the full decodes (slow)")
        phash_drift, pdq_drift = [], []
        for path in paths:
            hashes = ours[path]
            phash_drift.append(hamming64(hashes.phash, hex_to_code(full[path])))  # type: ignore[attr-defined]
            bits, _ = pdqhash.compute(np.asarray(Image.open(path).convert("RGB")))
            pdq_full = np.packbits(bits.astype(np.uint8)).tobytes()
            pdq_drift.append(pdq_distance(hashes.pdq, pdq_full))  # type: ignore[attr-defined]
        decoded = Image.open(io.BytesIO(paths[0].read_bytes()))
        decoded.draft("RGB", DRAFT_SIZE)
    ours_rate, full_rate, phash_rate = count / best_ours, count / best_full, count / best_phash
    print(f"## Hashing: {count} JPEGs of 4000x3000 (quality 90), one process, best of {rounds}\n")
    print(
        table(
            ["pipeline", "hashes", "decoded at", "images/s", "ms/image"],
            [
                [
                    "ours: `compute_hashes` (draft decoding)",
                    "pHash + dHash + PDQ",
                    f"{decoded.size[0]}x{decoded.size[1]}",
                    f"{ours_rate:.1f}",
                    f"{1000 / ours_rate:.0f}",
                ],
                [
                    "ours, pHash only: `imagehash.phash(open_image(..., draft=True))`",
                    "pHash",
                    f"{decoded.size[0]}x{decoded.size[1]}",
                    f"{phash_rate:.1f}",
                    f"{1000 / phash_rate:.0f}",
                ],
                [
                    "`imagehash.phash(Image.open(f))`",
                    "pHash",
                    "4000x3000",
                    f"{full_rate:.1f}",
                    f"{1000 / full_rate:.0f}",
                ],
            ],
        )
    )
    print()
    print(
        table(
            [
                "speed-up (all 3 hashes)",
                "speed-up (pHash only)",
                "pHash drift max",
                "pHash drift mean",
                "PDQ drift max",
                "PDQ drift mean",
                "per image",
            ],
            [
                [
                    f"{ours_rate / full_rate:.1f}x",
                    f"{phash_rate / full_rate:.1f}x",
                    max(phash_drift),
                    f"{np.mean(phash_drift):.2f}",
                    max(pdq_drift),
                    f"{np.mean(pdq_drift):.1f}",
                    ", ".join(
                        f"{p.stem.removesuffix('-12mp')} {a}/{b}"
                        for p, a, b in zip(paths, phash_drift, pdq_drift, strict=True)
                    ),
                ]
            ],
        )
    )
    print(
        "\nDrift = bits between our hash and the same hash of the full decode "
        "(per image: pHash/PDQ). Targets: at least 5x faster, pHash drift at most 2 bits."
    )
