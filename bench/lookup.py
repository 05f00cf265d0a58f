"""URL look-up against 1 M removals in PostgreSQL: batches of 10,000 URLs, half of them removed.

Measured three ways: `registry.selectors.removed_urls` directly; the whole API path
(`POST /api/v1/lookup/` through DRF's APIClient in this process: authentication, throttling,
validation, JSON both ways, no network); and a naive baseline, one indexed query per URL.
"""

from __future__ import annotations

import random
import statistics
import time

from .common import note, table
from .pgdb import bench_database, fill_removals, removal_url

BATCH = 10_000
BATCHES = 5
TARGET = 20_000  # URLs per second


def _batch(rng: random.Random, n_removals: int) -> tuple[list[str], set[str]]:
    present = [removal_url(rng.randrange(n_removals)) for _ in range(BATCH // 2)]
    absent = [f"https://img.example/missing/{rng.randrange(10**9)}.jpg" for _ in range(BATCH - BATCH // 2)]
    urls = present + absent
    rng.shuffle(urls)
    # Every 50th removal is revoked: those must come back false.
    expected = {u for u in present if int(u.rsplit("/", 1)[1].split(".")[0]) % 50 != 0}
    return urls, expected


def run(*, quick: bool = False) -> None:
    n = 200_000 if quick else 1_000_000
    with bench_database("lookup"):
        from django.db import connection
        from rest_framework.test import APIClient

        from registry import selectors, services
        from registry.models import Removal, RemovalState, url_key

        note(f"lookup: writing {n:,} removals")
        fill_removals(connection.settings_dict["NAME"], n)
        _, key = services.maintainer_create(name="Looker", email="ops@look.example")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        rng = random.Random(7)
        batches = [_batch(rng, n) for _ in range(BATCHES + 1)]

        def selector(urls: list[str]) -> set[str]:
            return selectors.removed_urls(urls)

        def api(urls: list[str]) -> set[str]:
            response = client.post("/api/v1/lookup/", {"urls": urls}, format="json")
            assert response.status_code == 200, response.content[:300]
            return {u for u, removed in response.json()["urls"].items() if removed}

        def naive(urls: list[str]) -> set[str]:
            return {
                u
                for u in urls
                if Removal.objects.filter(url_key=url_key(u), url=u)
                .exclude(state=RemovalState.REVOKED)
                .exists()
            }

        rows = []
        for label, fn, count in (
            ("`selectors.removed_urls` (direct)", selector, BATCHES),
            ("`POST /api/v1/lookup/` (DRF APIClient, in process)", api, BATCHES),
            ("naive: one indexed query per URL (1,000 URLs)", naive, 1),
        ):
            fn(batches[-1][0][:1000])  # warm the caches and the connection
            times = []
            for urls, expected in batches[:count]:
                if fn is naive:
                    urls = urls[:1000]
                    expected = expected & set(urls)
                start = time.perf_counter()
                found = fn(urls)
                times.append(time.perf_counter() - start)
                assert found == expected, f"{label}: {len(found)} found, {len(expected)} expected"
            per_batch = statistics.median(times)
            size = 1000 if fn is naive else BATCH
            rate = size / per_batch
            rows.append(
                [
                    label,
                    f"{size:,}",
                    f"{per_batch * 1000:.0f} ms",
                    f"{rate:,.0f}",
                    "yes" if rate >= TARGET else "no",
                ]
            )
            note(f"  {label}: {rate:,.0f} URLs/s")
    print(
        f"## Lookup: batches of {BATCH:,} URLs (half removed, 2% of those revoked) against {n:,} removals\n"
    )
    print(
        "PostgreSQL on the same machine; median of "
        f"{BATCHES} batches; every answer checked against the expected set. Target: {TARGET:,} URLs/s.\n"
    )
    print(table(["path", "URLs per call", "time per call", "URLs/s", "meets target"], rows))
