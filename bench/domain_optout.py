"""Domain opt-outs against a data set of 10 million items on PostgreSQL.

- Load: 10 M items written by PostgreSQL itself (generate_series; url_key, host key and path
  computed in SQL exactly as registry.models.url_key and registry.hosts do), spread over two data
  sets; 50,000 of them (1 in 200) under `artist.example` and `img.artist.example`, and as many
  near misses (`notartist.example`, `artist.example.evil.net`).
- The host index (item_host_path): its build time and size at that size.
- Import cost of the new columns and index: the same CSV imported through the import path
  (registry.services.import_run, COPY), once with the host index dropped and once with it, in the
  same database; and the cost of keying host and path per row in Python.
- Resolving the opt-out: `domain_optouts_record` for `*.artist.example` (removals, events of at most
  500, outbox rows for one endpoint), timed end to end; the desk's count query before it.
- Look-up through the real HTTP stack (gunicorn on loopback, `POST /api/v1/lookup/`): batches of
  10,000 URLs under the opted-out domain that no data set holds, vs exact URLs with removals, vs
  URLs removed by nothing.

`python -m bench domain_optout [--items N]` (default 10,000,000; --quick: 1,000,000).
"""

from __future__ import annotations

import io
import os
import random
import statistics
import subprocess
import sys
import time
from typing import Any

from .common import note, table
from .pgdb import ROOT, bench_database, free_port, psql, url_of

DOMAIN_EVERY = 200  # 1 item in 200 is under *.artist.example: 50,000 of 10 M
EXACT_EVERY = 100  # 1 in 100 (offset 50) has an exact removal of another request
BATCH = 10_000
BATCHES = 5
SOURCE = "RR-2026-000001"


def _url_key_sql(expr: str) -> str:
    return f"('x' || left(encode(sha256(convert_to({expr}, 'UTF8')), 'hex'), 16))::bit(64)::bigint"


def _load(database: str, n: int, dataset_ids: list[int]) -> float:
    """n items by PostgreSQL alone; the indexes are built afterwards (as a bulk load would)."""
    started = time.perf_counter()
    psql(
        database,
        f"""
        ALTER TABLE registry_datasetitem DROP CONSTRAINT item_external_id_per_dataset;
        DROP INDEX item_url_key; DROP INDEX item_updated_per_dataset; DROP INDEX item_host_path;
        INSERT INTO registry_datasetitem
            (dataset_id, external_id, url, url_key, host, path, phash, created_at, updated_at)
        SELECT CASE WHEN i % 3 = 0 THEN {dataset_ids[1]} ELSE {dataset_ids[0]} END, 'img-' || i, u.url,
               {_url_key_sql("u.url")}, u.host, u.path, (random() * 9.2e18)::bigint, now(), now()
        FROM generate_series(0, {n - 1}) AS i
        CROSS JOIN LATERAL (
            SELECT CASE
                WHEN i % {DOMAIN_EVERY} = 0 AND (i / {DOMAIN_EVERY}) % 2 = 0 THEN 'artist.example'
                WHEN i % {DOMAIN_EVERY} = 0 THEN 'img.artist.example'
                WHEN i % {DOMAIN_EVERY} = 100 THEN 'notartist.example'
                WHEN i % {DOMAIN_EVERY} = 101 THEN 'artist.example.evil.net'
                ELSE 'cdn' || (i % 7) || '.site' || ((i / 7) % 100000) || '.example' END AS h,
                   CASE
                WHEN i % {DOMAIN_EVERY} = 0 AND (i / {DOMAIN_EVERY}) % 2 = 0 THEN 'example.artist.'
                WHEN i % {DOMAIN_EVERY} = 0 THEN 'example.artist.img.'
                WHEN i % {DOMAIN_EVERY} = 100 THEN 'example.notartist.'
                WHEN i % {DOMAIN_EVERY} = 101 THEN 'net.evil.example.artist.'
                ELSE 'example.site' || ((i / 7) % 100000) || '.cdn' || (i % 7) || '.' END AS host,
                   '/works/' || (i % 1000) || '/' || i || '.jpg' AS path
        ) AS p
        CROSS JOIN LATERAL (SELECT 'https://' || p.h || p.path AS url, p.host, p.path) AS u;
        """,  # noqa: S608 (numbers only)
    )
    return time.perf_counter() - started


def _indexes(database: str) -> dict[str, float]:
    seconds = {}
    for name, sql in (
        ("unique (dataset, external_id)", "ALTER TABLE registry_datasetitem ADD CONSTRAINT "
         "item_external_id_per_dataset UNIQUE (dataset_id, external_id)"),
        ("url_key", "CREATE INDEX item_url_key ON registry_datasetitem (url_key)"),
        ("(dataset, updated_at)", "CREATE INDEX item_updated_per_dataset ON registry_datasetitem "
         "(dataset_id, updated_at)"),
        ("host + path (new)", "CREATE INDEX item_host_path ON registry_datasetitem "
         "(host text_pattern_ops, left(path, 100) text_pattern_ops)"),
    ):  # fmt: skip
        started = time.perf_counter()
        psql(database, f"SET maintenance_work_mem = '256MB'; {sql}")
        seconds[name] = time.perf_counter() - started
    psql(database, "ANALYZE registry_datasetitem")
    return seconds


def _size(database: str, relation: str) -> int:
    return int(psql(database, f"SELECT pg_relation_size('{relation}')").strip())


def _csv(rows: int, offset: int) -> bytes:
    out = io.StringIO()
    out.write("external_id,url,phash\n")
    rng = random.Random(offset)
    for i in range(offset, offset + rows):
        host = "img.artist.example" if i % DOMAIN_EVERY == 0 else f"cdn{i % 7}.site{i % 100000}.example"
        out.write(f"new-{i},https://{host}/works/{i % 1000}/{i}.jpg,{rng.getrandbits(64):016x}\n")
    return out.getvalue().encode()


def _import(dataset: Any, body: bytes) -> float:
    from registry import services

    job = services.import_create(dataset=dataset, upload=io.BytesIO(body), name="bench.csv", enqueue=False)
    started = time.perf_counter()
    claimed = services.import_claim(job.pk)
    assert claimed is not None
    done = services.import_run(claimed)
    seconds = time.perf_counter() - started
    assert done.status == "succeeded", done.message
    return seconds


def _statement_timer(spent: dict[str, float]) -> Any:
    """A Django execute wrapper adding each statement's time to `spent`, by what it writes."""

    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            words = sql.split()
            if "registry_removal" in words[:8] and words[0] == "WITH":
                kind = "removals: INSERT ... SELECT over the host index"
            elif "registry_webhookdelivery" in words:
                kind = "events, links and outbox rows (payloads built in SQL)"
            elif words[0] == "UPDATE":
                kind = "numbering the new removals into events of 500"
            else:
                kind = "everything else (rule, endpoints, counts, temporary table)"
            spent[kind] = spent.get(kind, 0.0) + time.perf_counter() - started

    return wrapper


def _server(database: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": url_of(database),
        "SECRET_KEY": "bench-only-" + "k" * 50,
        "DEBUG": "0",
        "API_RATE_LIMIT": "100000/min",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--worker-class", "gthread", "--threads", "2", "--timeout", "120"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return process, f"http://127.0.0.1:{port}"


def run(*, quick: bool = False, items: int | None = None) -> None:
    n = items or (1_000_000 if quick else 10_000_000)
    import_rows = 100_000 if n < 5_000_000 else 200_000
    expected = len(range(0, n, DOMAIN_EVERY))
    with bench_database("domain") as database:
        import requests
        from django.db import connection, transaction

        from registry import hosts, services
        from registry.hosts import Scope
        from registry.models import Dataset, DatasetItem, Removal, WebhookDelivery, WebhookEvent
        from registry.selectors import scope_item_counts

        maintainer, key = services.maintainer_create(name="Bench Org", email="ops@bench.example")
        big = [
            services.dataset_create(maintainer=maintainer, slug=f"web-{d}", name=f"Web {d}") for d in (0, 1)
        ]
        services.webhook_endpoint_create(
            maintainer=maintainer, url="http://127.0.0.1:9/closed", event_types=["removal.approved"]
        )
        note(f"domain_optout: loading {n:,} items")
        load_s = _load(database, n, [d.pk for d in big])
        note(f"  loaded in {load_s:.0f} s; building indexes")
        for url, host, path in DatasetItem.objects.order_by("?").values_list("url", "host", "path")[:200]:
            assert hosts.url_host_path(url) == (host, path), (url, host, path)  # SQL keys as the code does
        index_s = _indexes(database)
        host_index = _size(database, "item_host_path")
        table_bytes = _size(database, "registry_datasetitem")
        url_key_index = _size(database, "item_url_key")

        # --- import cost: the same file through the import path, without and with the host index
        note(f"  import cost: {import_rows:,} rows twice")
        body = _csv(import_rows, offset=n)
        psql(database, "DROP INDEX item_host_path")
        before = Dataset.objects.create(maintainer=maintainer, slug="import-before", name="Before")
        without_s = _import(before, body)
        psql(database, "CREATE INDEX item_host_path ON registry_datasetitem "
             "(host text_pattern_ops, left(path, 100) text_pattern_ops)")  # fmt: skip
        after = Dataset.objects.create(maintainer=maintainer, slug="import-after", name="After")
        with_s = _import(after, body)
        urls = [f"https://cdn{i % 7}.site{i}.example/works/{i}.jpg" for i in range(200_000)]
        started = time.perf_counter()
        for url in urls:
            hosts.url_host_path(url)
        keying_us = (time.perf_counter() - started) / len(urls) * 1e6
        psql(database, "ANALYZE registry_datasetitem")

        # --- exact removals of another request, for the look-up comparison
        psql(
            database,
            f"""
            INSERT INTO registry_removal (public_id, dataset_id, item_id, external_id, url, url_key, reason,
                                          source_ref, approved_at, state)
            SELECT 'rm_exact' || id, dataset_id, id, external_id, url, url_key, 'copyright',
                   'RR-2026-000002', now(), 'delivered'
            FROM registry_datasetitem
            WHERE external_id LIKE 'img-%' AND substr(external_id, 5)::bigint % {EXACT_EVERY} = 50;
            ANALYZE registry_removal;
            """,  # noqa: S608 (numbers only)
        )

        # --- resolving the opt-out
        scope = Scope("artist.example", include_subdomains=True)
        started = time.perf_counter()
        counted = sum(scope_item_counts([scope])[0].values())
        count_s = time.perf_counter() - started
        removals_before = Removal.objects.count()
        spent: dict[str, float] = {}
        started = time.perf_counter()
        with connection.execute_wrapper(_statement_timer(spent)), transaction.atomic():
            done = services.domain_optouts_record(source_ref=SOURCE, reason="copyright", scopes=[scope])
        resolve_s = time.perf_counter() - started
        under = expected + len(range(0, import_rows, DOMAIN_EVERY)) * 2  # the two imports add some
        assert done.removals == counted, (done.removals, counted)
        assert counted == under, (counted, under)
        events = WebhookEvent.objects.filter(removals__source_ref=SOURCE).values("pk").distinct().count()
        outbox = WebhookDelivery.objects.count()
        assert Removal.objects.count() == removals_before + done.removals
        note(f"  resolved {done.removals:,} removals in {resolve_s:.1f} s; host index {host_index:,} bytes")
        note(f"  imports: {without_s:.1f} s without the host index, {with_s:.1f} s with it")

        # --- look-up through gunicorn
        exact_urls = list(
            Removal.objects.filter(source_ref="RR-2026-000002").values_list("url", flat=True)[
                : BATCH * BATCHES
            ]
        )
        rng = random.Random(3)
        kinds = {
            "under the opted-out domain, held by no data set": [
                f"https://{rng.choice(['artist.example', 'img.artist.example', 'a.b.artist.example'])}"
                f"/unlisted/{k}.jpg"
                for k in range(BATCH * BATCHES)
            ],
            "exact URLs with a removal": exact_urls,
            "removed by nothing": [
                f"https://cdn1.site{k}.example/missing/{k}.jpg" for k in range(BATCH * BATCHES)
            ],
        }
        process, base = _server(database)
        try:
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {key}"
            for _ in range(300):
                try:
                    session.get(base + "/api/v1/datasets/", timeout=5)
                    break
                except requests.RequestException:
                    time.sleep(0.2)
            rows = []
            rates = {}
            for label, pool in kinds.items():
                # A pool smaller than the batches (a small --items) is cycled through.
                batches = [[pool[(b * BATCH + k) % len(pool)] for k in range(BATCH)] for b in range(BATCHES)]
                session.post(base + "/api/v1/lookup/", json={"urls": batches[0][:100]}, timeout=120)  # warm
                times = []
                for batch in batches:
                    started = time.perf_counter()
                    response = session.post(base + "/api/v1/lookup/", json={"urls": batch}, timeout=300)
                    times.append(time.perf_counter() - started)
                    assert response.status_code == 200, response.text[:300]
                    answers = response.json()["urls"]
                    want = label != "removed by nothing"
                    assert all(v is want for v in answers.values()), label
                per = statistics.median(times)
                size = len(batches[0])
                rates[label] = size / per
                rows.append([label, f"{size:,}", f"{per * 1000:.0f} ms", f"{size / per:,.0f}"])
        finally:
            process.terminate()
            process.wait(30)

    print(f"## Domain opt-outs against {n:,} items on PostgreSQL\n")
    print(
        f"Two data sets, {n:,} items loaded by PostgreSQL in {load_s:.0f} s (generate_series, keys computed "
        f"in SQL); {expected:,} under `*.artist.example` plus as many near misses (`notartist.example`, "
        "`artist.example.evil.net`) that must stay out.\n"
    )
    print(
        table(
            ["index", "build time"],
            [[name, f"{s:.1f} s"] for name, s in index_s.items()],
        )
    )
    print()
    print(
        f"Host index `item_host_path`: **{host_index / 2**20:,.0f} MiB** at {n:,} items "
        f"({host_index / n:.0f} bytes an item); for scale, the table is {table_bytes / 2**20:,.0f} MiB "
        f"and the url_key index {url_key_index / 2**20:,.0f} MiB.\n"
    )
    print(
        table(
            ["import of the same CSV (COPY path)", "rows", "seconds", "rows/s", "vs without"],
            [
                ["without the host index", f"{import_rows:,}", f"{without_s:.1f}",
                 f"{import_rows / without_s:,.0f}", "1.00x"],
                ["with the host index", f"{import_rows:,}", f"{with_s:.1f}",
                 f"{import_rows / with_s:,.0f}", f"{without_s / with_s:.2f}x"],
            ],
        )
    )  # fmt: skip
    print(
        f"\nKeying host and path in Python (registry.hosts.url_host_path): {keying_us:.1f} µs a row "
        f"(~{keying_us * 1e-6 * import_rows / with_s * 100:.0f}% of the import's time per row). Both imports "
        f"write into the {n:,}-item table; both keyed hosts (the code has no switch for that).\n"
    )
    print(
        table(
            ["resolving `*.artist.example`", "figure"],
            [
                ["desk count before approval (host index)", f"{counted:,} items in {count_s * 1000:.0f} ms"],
                ["`domain_optouts_record`: removals written", f"{done.removals:,}"],
                ["webhook events (≤ 500 removals each) / outbox rows", f"{events:,} / {outbox:,}"],
                ["time, end to end (one transaction)", f"**{resolve_s:.1f} s** (target < 10 s)"],
                *[[f"of which {kind}", f"{seconds:.2f} s"] for kind, seconds in spent.items()],
                ["load average (1, 5, 15 min) after", ", ".join(f"{x:.1f}" for x in os.getloadavg())],
            ],
        )
    )
    print()
    exact_rate = rates["exact URLs with a removal"]
    print(
        f"Look-up through gunicorn (1 process, 2 threads) on loopback, `POST /api/v1/lookup/`, median of "
        f"{BATCHES} batches; every answer checked. Ratio to exact URLs in the last column.\n"
    )
    print(
        table(
            ["URLs", "per call", "time per call", "URLs/s", "vs exact"],
            [[*row, f"{rates[row[0]] / exact_rate:.2f}x"] for row in rows],
        )
    )


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m bench.domain_optout")
    parser.add_argument("--items", type=int, default=None)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    run(quick=args.quick, items=args.items)


if __name__ == "__main__":
    main()
