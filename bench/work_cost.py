"""What matching one work costs against 1 M and 10 M items, with every probe the site searches.

End to end through `registry.matching.search_work`, as `work_match` calls it: the work as
uploaded (pHash and dHash), its 7 turned pHashes and its derived views (registry.probes:
crops, pads, small rotations), candidates from the data set's HammingIndex, then
verification (one query on the candidates' primary keys; the work's picture decoded and
the PDQ of each view that found something computed).

The data set: one PostgreSQL data set (bench.pgdb) whose index holds N random 64-bit codes
plus, as DatasetItem rows with real hashes, an edited copy (crop, pad, rotation) of every
sample photo and a share of near neighbours: for every photo, NEAR_PER_WORK codes planted
within the derived views' search radius of its views, with unrelated dHash and PDQ, so
each costs what a real look-alike costs (a candidate that verification must turn down).
The index is built once from the codes and handed to the matching cache (no 10 M rows in
PostgreSQL). faiss runs on one thread: the cost is one core's.
"""

from __future__ import annotations

import gc
import io
import time

import numpy as np
from PIL import Image

from .common import note, photo_paths, table

NEAR_PER_WORK = 20
REPEATS = 3


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _edits() -> list[tuple[str, object]]:
    def crop(im: Image.Image) -> Image.Image:
        dx, dy = round(im.width * 0.05), round(im.height * 0.05)
        return im.crop((dx, dy, im.width - dx, im.height - dy))

    def pad(im: Image.Image) -> Image.Image:
        dx, dy = round(im.width * 0.05), round(im.height * 0.05)
        out = Image.new("RGB", (im.width + 2 * dx, im.height + 2 * dy), (255, 0, 0))
        out.paste(im, (dx, dy))
        return out

    return [
        ("crop 10%", crop),
        ("pad 10% red", pad),
        ("rotation 5°", lambda im: im.rotate(5, Image.Resampling.BICUBIC)),
    ]


def run(*, quick: bool = False) -> None:
    from .pgdb import bench_database

    with bench_database("work_cost"):
        _run(quick=quick)


def _run(*, quick: bool) -> None:
    import tempfile

    import faiss
    from django.conf import settings
    from django.test import override_settings

    from registry import matching, probes, services
    from registry.hashing import code_to_hex, compute_hashes, open_image, pdq_to_hex
    from registry.index import HammingIndex
    from registry.models import Maintainer

    faiss.omp_set_num_threads(1)
    sizes = (100_000, 1_000_000) if quick else (1_000_000, 10_000_000)
    rng = np.random.default_rng(20261201)
    photos = [(p.name, p.read_bytes()) for p in photo_paths()]
    works = []
    for _name, data in photos:
        decoded = open_image(data, max_pixels=settings.UPLOAD_MAX_PIXELS, draft=True)
        works.append(
            (
                data,
                compute_hashes(data, max_pixels=settings.UPLOAD_MAX_PIXELS),
                probes.derived_hashes(decoded),
            )
        )
    n_probes = 1 + len(works[0][1].phash_variants) + len(works[0][2])
    radius = settings.MATCH_PROBE_PHASH_MAX_DISTANCE
    rows = []
    per_radius: list[list[object]] = []
    with (
        tempfile.TemporaryDirectory() as var_dir,
        override_settings(VAR_DIR=var_dir, MATCH_INDEX_CHECK_SECONDS=10**9),
    ):
        maintainer = Maintainer.objects.create(name="Bench Org", email="ops@bench.example")
        dataset = services.dataset_create(maintainer=maintainer, slug="bench", name="Bench")
        items = []
        for p, (_name, data) in enumerate(photos):
            image = Image.open(io.BytesIO(data)).convert("RGB")
            for edit_name, edit in _edits():
                h = compute_hashes(_png(edit(image)), max_pixels=settings.UPLOAD_MAX_PIXELS)  # type: ignore[operator]
                items.append(
                    {
                        "external_id": f"copy/{p}/{edit_name}",
                        "url": f"https://bench.example/copy/{p}/{len(items)}.png",
                        "phash": code_to_hex(h.phash),
                        "dhash": code_to_hex(h.dhash),
                        "pdq": pdq_to_hex(h.pdq),
                    }
                )
            derived = works[p][2]
            for k in range(NEAR_PER_WORK):
                _view, phash, _dhash = derived[int(rng.integers(len(derived)))]
                flips = rng.choice(64, size=1 + k % radius, replace=False)
                code = phash
                for bit in flips:
                    code ^= 1 << int(bit)
                items.append(
                    {
                        "external_id": f"near/{p}/{k}",
                        "url": f"https://bench.example/near/{p}/{k}.png",
                        "phash": code_to_hex(code),
                        "dhash": code_to_hex(int(rng.integers(0, 2**63))),
                        "pdq": bytes(rng.integers(0, 256, size=32, dtype=np.uint8)).hex(),
                    }
                )
        assert not services.items_upsert(dataset=dataset, rows=items).rejected
        real = list(dataset.items.order_by("pk").values_list("pk", "phash", "dhash", "external_id"))
        max_pk = real[-1][0]
        for n in sizes:
            note(f"work cost: {n:,} codes")
            random_codes = rng.integers(0, 2**64, size=n - len(real), dtype=np.uint64).view(np.int64)
            ids = np.concatenate(
                [np.array([r[0] for r in real]), np.arange(max_pk + 1, max_pk + 1 + len(random_codes))]
            )
            built = {}
            for field, column in (("phash", 1), ("dhash", 2)):
                codes = np.concatenate([np.array([r[column] for r in real], dtype=np.int64), random_codes])
                index = HammingIndex.build(ids.astype(np.int64), codes)
                index.meta.update({"max_pk": max_pk, "checked_through": "2100-01-01T00:00:00+00:00"})
                built[field] = index
                random_codes = rng.integers(0, 2**64, size=n - len(real), dtype=np.uint64).view(np.int64)
            matching._indexes.clear()
            for field, index in built.items():
                cache = matching.indexes(field)
                cache._indexes[dataset.pk] = index
                cache._checked_at[dataset.pk] = time.monotonic()
                cache._unsaved[dataset.pk] = 0
            queries = rng.integers(0, 2**64, size=200, dtype=np.uint64)
            for r in (5, 8, 10):
                started = time.perf_counter()
                built["phash"].search_many(queries, r)
                per_radius.append(
                    [f"{n:,}", r, f"{1000 * (time.perf_counter() - started) / len(queries):.2f} ms"]
                )
            searches, plain, full = [], [], []
            found = 0
            for data, h, derived in works:
                common = dict(
                    phash=h.phash,
                    dhash=h.dhash,
                    phash_variants=h.phash_variants,
                    pdq=h.pdq,
                    pdq_quality=h.pdq_quality,
                )
                for _ in range(REPEATS):
                    started = time.perf_counter()
                    phash_index = matching.indexes("phash")
                    phash_index.search_all_many([h.phash], settings.MATCH_PHASH_MAX_DISTANCE)
                    phash_index.search_all_many(
                        list(h.phash_variants), settings.MATCH_TURNED_PHASH_MAX_DISTANCE
                    )
                    matching.indexes("phash").search_all_many([code for _, code, _ in derived], radius)
                    matching.indexes("dhash").search_all(h.dhash, settings.MATCH_DHASH_MAX_DISTANCE)
                    searches.append(time.perf_counter() - started)
                    started = time.perf_counter()
                    matching.search_work(**common)  # type: ignore[arg-type]
                    plain.append(time.perf_counter() - started)
                    started = time.perf_counter()
                    hits = matching.search_work(
                        **common,  # type: ignore[arg-type]
                        derived_hashes=derived,
                        image=lambda data=data: open_image(  # type: ignore[misc]
                            data, max_pixels=settings.UPLOAD_MAX_PIXELS, draft=True
                        ),
                    )
                    full.append(time.perf_counter() - started)
                found += len(hits)

            def ms(values: list[float]) -> str:
                values = sorted(values)
                return f"{1000 * values[len(values) // 2]:.1f} ms / {1000 * values[-1]:.1f} ms"

            rows.append(
                [
                    f"{n:,}",
                    n_probes,
                    ms(searches),
                    ms(plain),
                    ms(full),
                    f"{found} of {len(works) * len(_edits())}",
                    f"{5000 * sorted(full)[len(full) // 2] / 60:.1f} min",
                ]
            )
            del built, index
            matching._indexes.clear()
            gc.collect()
    print(f"## Matching one work: {n_probes} probes against 1 M and 10 M items, one core\n")
    print(
        f"Each of the {len(works)} sample photos searched {REPEATS} times with `matching.search_work` as "
        f"`work_match` calls it: the work's pHash within {settings.MATCH_PHASH_MAX_DISTANCE}, its 7 turned "
        f"pHashes within {settings.MATCH_TURNED_PHASH_MAX_DISTANCE}, its dHash within "
        f"{settings.MATCH_DHASH_MAX_DISTANCE}, its "
        f"{len(works[0][2])} derived views' pHashes within {radius} (one batch). The index holds random "
        f"codes plus {len(real)} items with real hashes: a crop, a pad and a rotation of every photo, and "
        f"{NEAR_PER_WORK} near neighbours per photo (within {radius} bits of one of its views, other hashes "
        "unrelated: candidates that verification turns down). faiss on one thread. Median / worst.\n"
    )
    print(
        table(
            [
                "items",
                "probes per work",
                "index searches alone",
                "search_work, no derived views",
                "search_work, every probe, verified (decode + PDQ of views that found something)",
                "copies suggested",
                "5,000 works",
            ],
            rows,
        )
    )
    print(
        "\nOne pHash query by radius (200 random codes, the same index, one thread): the multi-index "
        "flips radius // 3 bits per segment, so 5 costs what 3 does and 10 about ten times 8.\n"
    )
    print(table(["items", "radius", "per query"], per_radius))
