"""Bulk matching of opt-out rows (a partner's file) against a big data set, on PostgreSQL.

- Load: N items by PostgreSQL itself, as bench/domain_optout.py loads them (URL, url_key, a
  random pHash), plus a random informative dHash here.
- Rows: a quarter are the URL of a registered item, a quarter its pHash and dHash with 2 bits
  moved each (a re-encoded copy at another URL), half name nothing registered (a URL and hashes
  of their own).
- registry.bulk_matching.optout_rows_match over 100,000 and 1,000,000 rows (--quick: 10,000
  and 100,000), batches of 10,000; the baseline, in the same process: the same rows one at a
  time (batch=1: a query and an index search per row) over the first 2,000 rows.
- Peak RSS of this process (ru_maxrss) and its growth during each run; the Hamming indexes'
  build (the first search builds them from the table) is timed apart.
- The full search (`want="any"`: pHash and dHash searches) against partners' `want="high"` (the
  dHash search alone for rows without PDQ), over the same rows.
- The Hamming index alone, in memory, at 1,000,000 and 10,000,000 random codes (--quick: 1 M):
  the batch join (`search_many_join`, batches of 10,000) against faiss's per-query probing (what
  `search_many` did for every batch before), in the same process, per query, at the dHash's
  radius 8 and the pHash's 10, and the join's build time and memory.

`python -m bench bulk_match [--items N]` (default 10,000,000; --quick: 1,000,000).
"""

from __future__ import annotations

import os
import random
import resource
import tempfile
import time

from .common import note, rss_bytes, table
from .pgdb import bench_database, psql

BASELINE_ROWS = 500


def _rows(database: str, n: int, seed: int) -> list[object]:
    from registry.bulk_matching import OptOutRow

    rng = random.Random(seed)
    quarter = n // 4
    items = int(psql(database, "SELECT count(*) FROM registry_datasetitem").strip())
    percent = min(100.0, 150.0 * 2 * quarter / items)  # half again what is needed, then LIMIT
    sql = "SELECT url, phash, dhash FROM registry_datasetitem TABLESAMPLE BERNOULLI (%s) REPEATABLE (%s)"
    sql += " LIMIT %s"
    sample = psql(database, sql % (percent, seed, 2 * quarter)).splitlines()  # numbers only
    picked = [line.split("|") for line in sample]
    rows: list[object] = []
    for url, _phash, _dhash in picked[:quarter]:
        rows.append(OptOutRow(len(rows), url=url))
    for _url, phash, dhash in picked[quarter : 2 * quarter]:
        rows.append(OptOutRow(len(rows), phash=int(phash) ^ 0b11, dhash=int(dhash) ^ 0b1100))
    while len(rows) < n:
        k = len(rows)
        rows.append(
            OptOutRow(
                k,
                url=f"https://elsewhere.example/{k}.jpg",
                phash=rng.getrandbits(63),
                dhash=rng.getrandbits(63),
            )
        )
    rng.shuffle(rows)
    return rows


def _peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def index_ratio(n: int, *, faiss_queries: int = 300, join_queries: int = 20_000) -> list[list[str]]:
    """Rows of the join-versus-faiss table for an index of n random codes (queries: half random,
    half a stored code moved by 3 bits)."""
    import numpy as np

    from registry import index as index_module
    from registry.index import HammingIndex

    rng = np.random.default_rng(n)
    codes = rng.integers(0, 2**64, size=n, dtype=np.uint64).view(np.int64)
    started = time.perf_counter()
    index = HammingIndex.build(np.arange(n, dtype=np.int64), codes)
    faiss_build = time.perf_counter() - started
    queries = rng.integers(0, 2**64, size=join_queries, dtype=np.uint64).view(np.int64)
    queries[::2] = codes[rng.integers(0, n, size=join_queries // 2)] ^ np.int64(0b10101)
    started = time.perf_counter()
    index.search_many_join(queries[:1], 8)
    join_build = time.perf_counter() - started
    out = []
    for radius in (8, 10):
        saved = index_module.JOIN_MIN_BATCH
        index_module.JOIN_MIN_BATCH = 1 << 62  # search_many as it was: faiss, query by query
        try:
            started = time.perf_counter()
            probed = index.search_many(queries[:faiss_queries], radius)
            faiss_us = (time.perf_counter() - started) / faiss_queries * 1e6
        finally:
            index_module.JOIN_MIN_BATCH = saved
        count = join_queries if radius == 8 else join_queries // 4
        started = time.perf_counter()
        joined = [
            hit
            for start in range(0, count, 10_000)
            for hit in index.search_many_join(queries[start : start + min(10_000, count)], radius)
        ]
        join_us = (time.perf_counter() - started) / count * 1e6
        out.append(
            [
                f"{n:,}",
                str(radius),
                f"{faiss_us:,.0f} us ({faiss_queries:,} queries)",
                f"{join_us:,.1f} us ({count:,} queries)",
                f"{faiss_us / join_us:,.1f}x",
                str(joined[:faiss_queries] == probed),
                f"faiss {faiss_build:.1f} s; join {join_build:.1f} s, "
                f"{index.join_memory_bytes() / 2**20:,.0f} MiB",
            ]
        )
        note(f"  {n:,} codes, radius {radius}: faiss {faiss_us:,.0f} us, join {join_us:,.1f} us per query")
    return out


def run(*, quick: bool = False, items: int | None = None) -> None:
    n = items or (1_000_000 if quick else 10_000_000)
    sizes = (10_000, 100_000) if quick else (100_000, 1_000_000)
    os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="bench-bulk-match-")  # the index files
    with bench_database("bulk_match") as database:
        from registry import matching, services
        from registry.bulk_matching import optout_rows_match

        from .domain_optout import _indexes, _load

        maintainer, _ = services.maintainer_create(name="Bench Org", email="ops@bench.example")
        sets = [
            services.dataset_create(maintainer=maintainer, slug=f"web-{d}", name=f"Web {d}") for d in (0, 1)
        ]
        note(f"bulk_match: loading {n:,} items")
        load_s = _load(database, n, [d.pk for d in sets])
        # An informative dHash per item (random 63-bit codes: about 28 transitions a row on average).
        psql(database, "UPDATE registry_datasetitem SET dhash = (random() * 9.2e18)::bigint")
        _indexes(database)
        psql(database, "VACUUM ANALYZE registry_datasetitem")
        note(f"  loaded in {load_s:.0f} s; building the Hamming indexes")
        started = time.perf_counter()
        for field in ("phash", "dhash"):
            for dataset in sets:
                matching.indexes(field).get(dataset.pk)
        index_s = time.perf_counter() - started
        rss_indexes = rss_bytes()

        rows_all = _rows(database, max(sizes), seed=7)
        baseline_rows = rows_all[:BASELINE_ROWS]
        started = time.perf_counter()
        baseline = [m for row in baseline_rows for m in optout_rows_match([row], batch=1)]
        baseline_rate = BASELINE_ROWS / (time.perf_counter() - started)

        results = []
        for size in sizes:
            rows = rows_all[:size]
            before, peak_before = rss_bytes(), _peak()
            started = time.perf_counter()
            found = {"url": 0, "hash": 0}
            for match in optout_rows_match(rows):
                found[match.signal] += 1
            seconds = time.perf_counter() - started
            results.append((size, seconds, found, rss_bytes() - before, _peak(), _peak() - peak_before))
            note(f"  {size:,} rows in {seconds:.1f} s")
        same = sorted((m.row_id, m.item_id) for m in baseline) == sorted(
            (m.row_id, m.item_id) for m in optout_rows_match(baseline_rows)
        )
        # Partners' narrower search over the first size's rows, against the full one's high matches.
        rows = rows_all[: sizes[0]]
        started = time.perf_counter()
        every = sorted((m.row_id, m.item_id) for m in optout_rows_match(rows) if m.confidence == "high")
        any_s = time.perf_counter() - started
        started = time.perf_counter()
        high = sorted((m.row_id, m.item_id) for m in optout_rows_match(rows, want="high"))
        high_s = time.perf_counter() - started

    ratios = [
        row for size in ((1_000_000,) if quick else (1_000_000, 10_000_000)) for row in index_ratio(size)
    ]

    print(f"## Bulk matching of opt-out rows against {n:,} items on PostgreSQL\n")
    print(
        f"{n:,} items in two data sets (loaded in {load_s:.0f} s); pHash and dHash Hamming indexes of "
        f"both built in {index_s:.0f} s (RSS then {rss_indexes / 2**20:,.0f} MiB). Rows: 1/4 an item's "
        "URL, 1/4 an item's pHash and dHash moved by 2 bits each, 1/2 nothing registered. "
        f"Load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}.\n"
    )
    rows_table = [
        [
            f"baseline: one row per call (first {BASELINE_ROWS:,})",
            f"{BASELINE_ROWS:,}",
            f"{BASELINE_ROWS / baseline_rate:.1f}",
            f"{baseline_rate:,.0f}",
            "1.00x",
            f"{len(baseline):,}",
            "",
            "",
        ]
    ]
    for size, seconds, found, grew, peak, peak_grew in results:
        rows_table.append(
            [
                "optout_rows_match, batches of 10,000",
                f"{size:,}",
                f"{seconds:.1f}",
                f"{size / seconds:,.0f}",
                f"{size / seconds / baseline_rate:.1f}x",
                f"{found['url']:,} by URL, {found['hash']:,} by hash",
                f"{peak / 2**20:,.0f} MiB",
                f"{peak_grew / 2**20:+,.0f} MiB (RSS {grew / 2**20:+,.0f} MiB)",
            ]
        )
    print(
        table(
            ["path", "rows", "seconds", "rows/s", "vs baseline", "pairs found", "peak RSS", "peak growth"],
            rows_table,
        )
    )
    print(f"\nThe baseline's pairs equal the batched path's on the same rows: {same}.")
    print(
        f'\nwant="high" (partners: URL matches and high hash matches, the dHash search alone for rows '
        f"without PDQ) over the first {sizes[0]:,} rows: {high_s:.1f} s ({sizes[0] / high_s:,.0f} rows/s) "
        f"against {any_s:.1f} s for the full search ({sizes[0] / any_s:,.0f} rows/s), "
        f"{any_s / high_s:.1f}x; the same pairs as the full search's high ones: {high == every} "
        f"({len(high):,}).\n"
    )
    print(
        "The Hamming index alone (random codes, in memory): the batch join against faiss's "
        "per-query probing.\n"
    )
    print(
        table(["codes", "radius", "faiss per query", "join per query", "ratio", "same hits", "build"], ratios)
    )
