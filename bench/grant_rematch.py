"""Re-matching new items against the standing licence grants (registry.services.grant_rematch).

- Load: G standing grants (default 100,000; --quick 10,000; --items overrides), one per item of a
  data set of G items, written by PostgreSQL itself with a random pHash each (no PDQ).
- Then 10 rounds, as dataset_rematch runs after an import: 1,000 new items in another data set,
  10 of them copies of granted items (the pHash moved by 2 bits), re-matched against the grants
  (`grants_items_rematch`), each round's new grants committed (so the standing set grows).
- Baseline, in the same process: reading every standing grant through the ORM and indexing their
  pHash, which is what each call cost before the index was kept between calls.
- Then one grant revoked, and one more round (the index is read again in full).

`python -m bench grant_rematch [--items G] [--quick]`; BENCH_DB_SUFFIX the database's name.
"""

from __future__ import annotations

import os
import random
import time

from .common import note, table
from .pgdb import bench_database

ROUNDS = 10
NEW_ITEMS = 1_000
COPIES = 10


def run(*, quick: bool = False, items: int | None = None) -> None:
    grants = items or (10_000 if quick else 100_000)
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
    rng = random.Random(21)
    with bench_database("grant_rematch"):
        import numpy as np
        from django.db import connection, transaction

        from registry import services
        from registry.index import HammingIndex
        from registry.models import Dataset, DatasetItem, GrantState, LicenceGrant, url_key
        from registry.services.grant_rematch import grants_items_rematch

        org, _ = services.maintainer_create(name="Bench Org", email="ops@bench.example")
        granted = services.dataset_create(maintainer=org, slug="granted", name="Granted")
        arriving = services.dataset_create(maintainer=org, slug="arriving", name="Arriving")
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
            INSERT INTO registry_datasetitem
                (dataset_id, external_id, url, url_key, host, path, phash, created_at, updated_at)
            SELECT {granted.pk}, i::text, u.url,
                   ('x' || left(encode(sha256(convert_to(u.url, 'UTF8')), 'hex'), 16))::bit(64)::bigint,
                   'example.img.', '/g/' || i || '.jpg', (random() * 1.8e19 - 9.2e18)::bigint, now(), now()
            FROM generate_series(0, {grants - 1}) AS i
            CROSS JOIN LATERAL (SELECT 'https://img.example/g/' || i || '.jpg' AS url) u;
            INSERT INTO registry_licencegrant
                (public_id, dataset_id, item_id, external_id, url, url_key, phash, licence, licence_url,
                 attribution, search, source_ref, source, partner, granted_at, state, revoked_reason)
            SELECT 'lg_bench' || i.id, i.dataset_id, i.id, i.external_id, i.url, i.url_key, i.phash, 'cc-by',
                   'https://creativecommons.org/licenses/by/4.0/', 'Bench Artist', 'unknown',
                   'RR-2026-' || lpad((i.id % 100000)::text, 6, '0'), 'artist', '', now(), 'active', ''
            FROM registry_datasetitem i WHERE i.dataset_id = {granted.pk};
            ANALYZE registry_datasetitem; ANALYZE registry_licencegrant;
            """  # noqa: S608 (numbers only)
            )
        note(f"  {grants:,} standing grants written in {time.perf_counter() - started:.1f} s")
        standing = LicenceGrant.objects.filter(state=GrantState.ACTIVE)
        codes = list(standing.values_list("phash", flat=True)[: ROUNDS * COPIES])

        def baseline() -> float:
            t = time.perf_counter()
            standing = list(LicenceGrant.objects.filter(state=GrantState.ACTIVE, phash__isnull=False))
            HammingIndex.build(
                np.array([g.pk for g in standing], dtype=np.int64),
                np.array([g.phash for g in standing], dtype=np.int64),
            )
            return time.perf_counter() - t

        def round_of(r: int, dataset: Dataset) -> tuple[float, int]:
            new = [
                DatasetItem(
                    dataset=dataset,
                    external_id=f"n{r}-{k}",
                    url=f"https://img.example/n/{r}/{k}.jpg",
                    url_key=url_key(f"https://img.example/n/{r}/{k}.jpg"),
                    phash=(codes[r * COPIES + k] ^ 0b11) if k < COPIES else rng.getrandbits(63),
                )
                for k in range(NEW_ITEMS)
            ]
            ids = [i.pk for i in DatasetItem.objects.bulk_create(new)]
            t = time.perf_counter()
            with transaction.atomic():
                found = grants_items_rematch(item_ids=ids)
            return time.perf_counter() - t, len(found)

        base = [baseline() for _ in range(3)]
        seconds, found = [], 0
        for r in range(ROUNDS):
            s, n = round_of(r, arriving)
            seconds.append(s)
            found += n
            note(f"  round {r + 1}: {s * 1000:.0f} ms, {n} grants")
        first = LicenceGrant.objects.order_by("pk").first()
        assert first is not None and first.item_id is not None
        services.licence_grants_revoke(
            grants=services.GrantSelection(source_ref=first.source_ref, item_ids=[first.item_id]), why="bench"
        )
        codes += [rng.getrandbits(63) for _ in range(COPIES)]
        after_revoke, _ = round_of(ROUNDS, arriving)
        base.append(baseline())

    load = os.getloadavg()
    b = min(base)
    steady = sorted(seconds[1:])[len(seconds[1:]) // 2]
    print(f"## Grant re-match ({grants:,} standing grants, rounds of {NEW_ITEMS:,} new items)\n")
    print(
        table(
            ("what", "time", "against the baseline"),
            [
                ("baseline: every standing grant read (ORM) and indexed", f"{b * 1000:.0f} ms", "1.00x"),
                ("first round (the index built)", f"{seconds[0] * 1000:.0f} ms", f"{seconds[0] / b:.2f}x"),
                (
                    f"later rounds, median of {ROUNDS - 1} (grants added since: read by id)",
                    f"{steady * 1000:.0f} ms",
                    f"{steady / b:.2f}x",
                ),
                ("a round after a revocation", f"{after_revoke * 1000:.0f} ms", f"{after_revoke / b:.2f}x"),
            ],
        )
    )
    print(
        f"\n{found} grants recorded over {ROUNDS} rounds (expected {ROUNDS * COPIES}). Load average at the"
        f" end: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min) on {os.cpu_count()} cores."
    )
