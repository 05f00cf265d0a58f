"""Matcher shards: memory per item, search time per shard, and the round trip through the workers.

1. Scale, in this process: `--items` random 64-bit codes (default 10 M; --quick 1 M) in one
   HammingIndex (the baseline: what one matcher process holds today) and the same codes cut in
   SHARDS id ranges, one HammingIndex each (what each shard's worker holds). Memory per code
   (the index's own account and this process's RSS growth) and time per query at the radii work
   matching uses, for the whole index and for each shard (a sharded search waits for its slowest
   shard, plus the round trip below).
2. End to end, on PostgreSQL and Redis: E2E_ITEMS items in one data set, split in two shards by
   `manage.py shard_add --at`, two `manage.py shard_worker` processes (one per shard), and the
   searches work matching sends (registry.matching.indexes(...).search_all_many) timed through
   the shards against the same data set's unsharded index in this process; answers compared.
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from registry.index import HammingIndex

from .common import note, rss_bytes, table
from .pgdb import ROOT, bench_database, psql, url_of

SHARDS = 4
RADII = (5, 8, 10)  # derived views, turned views, the work as uploaded
QUERIES = 300
E2E_ITEMS = 1_000_000
E2E_BATCHES = ((1, 10), (90, 5), (10_000, 10))  # (codes per call, radius): a work, its derived views, bulk
E2E_REPEATS = 5


def _per_query(index: HammingIndex, queries: np.ndarray, radius: int) -> float:
    started = time.perf_counter()
    for q in queries:
        index.search_many(np.array([q], dtype=np.uint64), radius)
    return (time.perf_counter() - started) / len(queries)


def _build(ids: np.ndarray, codes: np.ndarray) -> tuple[HammingIndex, int, float]:
    gc.collect()
    before = rss_bytes()
    started = time.perf_counter()
    index = HammingIndex.build(ids, codes.view(np.int64))
    return index, rss_bytes() - before, time.perf_counter() - started


def scale(n: int) -> None:
    rng = np.random.default_rng(n)
    note(f"shards: {n:,} random codes")
    codes = rng.integers(0, 2**64, size=n, dtype=np.uint64)
    ids = np.arange(1, n + 1, dtype=np.int64)
    picks = rng.integers(0, n, size=QUERIES)
    queries = codes[picks] ^ np.uint64(0b1011)  # each within 3 bits of a stored code
    whole, whole_rss, whole_s = _build(ids, codes)
    note(f"  whole index built in {whole_s:.0f} s")
    whole_times = {r: _per_query(whole, queries, r) for r in RADII}
    whole_mem = whole.memory_bytes()
    # The whole index stays alive while the shards are built, so each shard's RSS growth is memory
    # of its own (freed memory would be reused and read as nothing).
    rows = [
        [
            f"whole ({n:,} codes; baseline)",
            f"{whole_s:.0f} s",
            f"{whole_mem / n:.0f} B",
            f"{whole_rss / n:.0f} B",
            *(f"{whole_times[r] * 1e3:.2f} ms (1.00x)" for r in RADII),
        ]
    ]
    bounds = np.linspace(0, n, SHARDS + 1).astype(np.int64)
    slowest = dict.fromkeys(RADII, 0.0)
    for s in range(SHARDS):
        part = slice(int(bounds[s]), int(bounds[s + 1]))
        size = part.stop - part.start
        shard, shard_rss, shard_s = _build(ids[part], codes[part])
        times = {r: _per_query(shard, queries, r) for r in RADII}
        for r in RADII:
            slowest[r] = max(slowest[r], times[r])
        rows.append(
            [
                f"shard {s} ({size:,} codes)",
                f"{shard_s:.0f} s",
                f"{shard.memory_bytes() / size:.0f} B",
                f"{shard_rss / size:.0f} B",
                *(f"{times[r] * 1e3:.2f} ms ({times[r] / whole_times[r]:.2f}x)" for r in RADII),
            ]
        )
        del shard
        gc.collect()
        note(f"  shard {s} done")
    del whole
    gc.collect()
    print(f"### {n:,} codes: one index against {SHARDS} shards by id range\n")
    print(
        f"Random 64-bit codes; {QUERIES} queries each within 3 bits of a stored code, one per call "
        "(as a work's search sends them). Memory: the index's account (`memory_bytes`) and this "
        "process's RSS growth while building, per code. Ratios: against the whole index. "
        f"Load average after: {', '.join(f'{x:.1f}' for x in os.getloadavg())}.\n"
    )
    print(
        table(
            ["index", "build", "memory / code", "RSS / code", *(f"radius {r} / query" for r in RADII)],
            rows,
        )
    )
    print(
        "\nA sharded search waits for its slowest shard: "
        + ", ".join(f"radius {r} {slowest[r] * 1e3:.2f} ms" for r in RADII)
        + " per query here, plus the round trip through Redis measured below.\n"
    )


def _worker_rss(pid: int) -> int:
    """VmRSS of a worker and its pool processes (the pool shares the index copy-on-write, so
    this counts it twice at most)."""
    total = 0
    for p in [pid, *_children(pid)]:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def end_to_end(n: int) -> None:
    os.environ["VAR_DIR"] = tempfile.mkdtemp(prefix="bench-shards-")
    broker = os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/8")
    with bench_database("shards") as database:
        from django.core.management import call_command

        from registry import matching, services
        from registry.index import DatasetIndexes
        from registry.models import DatasetItem

        from .domain_optout import _indexes, _load

        maintainer, _ = services.maintainer_create(name="Bench Org", email="ops@bench.example")
        dataset = services.dataset_create(maintainer=maintainer, slug="web", name="Web")
        note(f"shards: loading {n:,} items")
        _load(database, n, [dataset.pk, dataset.pk])
        psql(database, "UPDATE registry_datasetitem SET dhash = (random() * 9.2e18)::bigint")
        _indexes(database)
        ids = list(DatasetItem.objects.filter(dataset=dataset).order_by("pk").values_list("pk", flat=True))
        split = ids[len(ids) // 2]
        whole = DatasetIndexes(Path(os.environ["VAR_DIR"]) / "whole", check_interval=60)
        started = time.perf_counter()
        whole.get(dataset.pk)
        whole_build = time.perf_counter() - started
        started = time.perf_counter()
        call_command("shard_add", "web", "--at", str(split), stdout=io.StringIO(), stderr=io.StringIO())
        add_s = time.perf_counter() - started
        env = {
            **os.environ,
            "DATABASE_URL": url_of(database),
            "CELERY_BROKER_URL": broker,
            "MATCH_INDEX_CHECK_SECONDS": "60",
        }
        workers = []
        logs = []
        for number in (0, 1):
            log = open(Path(os.environ["VAR_DIR"]) / f"worker-{number}.log", "wb")  # noqa: SIM115
            logs.append(log)
            workers.append(
                subprocess.Popen(
                    [sys.executable, "manage.py", "shard_worker", f"web:{number}"],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        try:
            for number, log in enumerate(logs):
                path = Path(log.name)
                while b"ready." not in path.read_bytes():
                    if workers[number].poll() is not None:
                        raise RuntimeError(path.read_text()[-2000:])
                    time.sleep(0.5)
            rss = [_worker_rss(w.pid) for w in workers]
            rng = np.random.default_rng(1)
            stored = np.array(
                DatasetItem.objects.filter(dataset=dataset).values_list("phash", flat=True)[:20_000],
                dtype=np.int64,
            )
            rows = []
            sharded_index = matching.indexes("phash")
            for batch, radius in E2E_BATCHES:
                codes = [int(c) ^ 0b101 for c in rng.choice(stored, size=batch)]
                local = whole.get(dataset.pk)
                started = time.perf_counter()
                for _ in range(E2E_REPEATS):
                    expected = local.search_many(codes, radius)
                base = (time.perf_counter() - started) / E2E_REPEATS
                started = time.perf_counter()
                for _ in range(E2E_REPEATS):
                    got = sharded_index.search_all_many(codes, radius, dataset_ids=[dataset.pk])
                through = (time.perf_counter() - started) / E2E_REPEATS
                rows.append(
                    [
                        f"{batch:,} codes, radius {radius}",
                        f"{base * 1e3:.1f} ms",
                        f"{through * 1e3:.1f} ms",
                        f"{through / base:.1f}x",
                        "yes" if got == expected else "NO",
                    ]
                )
        finally:
            for worker in workers:
                os.killpg(worker.pid, signal.SIGTERM)
            for worker in workers:
                worker.wait(timeout=30)
            for log in logs:
                log.close()
    print(f"### End to end: {n:,} items, two shard workers (Celery, Redis) against one process\n")
    print(
        f"One data set of {n:,} items (pHash and dHash), its whole pHash index built in {whole_build:.0f} s; "
        f"`shard_add --at {split}` built both shards' pHash and dHash indexes in {add_s:.0f} s. Each "
        f"worker (main process and one pool process, sharing the index) held {rss[0] / 2**20:,.0f} and "
        f"{rss[1] / 2**20:,.0f} MiB RSS. Each call timed {E2E_REPEATS} times; baseline: the whole index "
        "searched in this process. Load average after: "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}.\n"
    )
    print(table(["search", "one process (baseline)", "two shards", "ratio", "same answer"], rows))


def run(*, quick: bool = False, items: int | None = None) -> None:
    print("## Matcher shards\n")
    scale(items or (1_000_000 if quick else 10_000_000))
    end_to_end(100_000 if quick else E2E_ITEMS)
