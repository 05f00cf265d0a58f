"""Partner filings on PostgreSQL: JSON batches of 10,000 rows filed through the API, then matched
and approved by policy, against a data set of 10 million items.

- Load: N items (default 10,000,000; --quick 100,000) written by PostgreSQL itself, their URLs
  `https://cdn.art.example/w/<i>.jpg` with url_key computed in SQL as registry.models.url_key does,
  and a pHash and dHash derived from i (md5), so that rows can name an item by its hashes.
- Filing: R rows (default 1,000,000; --quick 20,000; BENCH_ROWS overrides) in batches of 10,000
  through `POST /api/v1/partner/filings/` (Django's test client: parsing, per-row checks, duplicate
  look-up, one bulk INSERT). Half the rows name an item by its URL, half by its hashes (a copy at
  another URL of the partner's domain: the pHash moved by 2 bits, the dHash by 3), spread over the
  whole data set. Baseline, in the same process: the maintainer's
  `POST /api/v1/datasets/{slug}/items/` with 10,000 index rows.
- Deciding: partners.services.filing_run on each filing (the worker's code, in this process), the
  policy on: every row matched by URL (one join per chunk) and by hash (registry's bulk matcher,
  want="high": the dHash index's batch join), approved, its removals recorded with their events and
  outbox rows (handed to delivery). The dHash index and its join are built once before timing.
- Peak RSS (ru_maxrss) after loading, after filing, and after deciding 100,000 and all rows.

- BENCH_AS_FILE=1: the same rows as one NDJSON file instead (written before timing), sent through
  the file API and read by the worker's code (partners.services.file_read), then decided as one
  filing: the issue's "a million rows as one file".
- The time per stage of deciding (core.stages: wall, CPU in this process and in its PostgreSQL
  backend, read from /proc), since the machine is shared and CPU seconds move less with the load.

- BENCH_LICENCE=1: every row a licence row (CC BY, one attribution for all) instead of a removal:
  the items are granted (LicenceGrant, licence.granted events) instead of removed; the same
  endpoint takes both event types, so both runs write the same number of events and outbox rows.
  BENCH_LICENCE=creator: each of the 5,000 creators with an attribution of its own (a licence
  write per distinct licence, attribution and URL, as the partner's rows say).

`python -m bench partner_filing [--items N] [--quick]`; BENCH_CHUNK sets the rows per decided
chunk (default partners.services.approval.CHUNK), BENCH_DB_SUFFIX the database's name.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import random
import tempfile
import time
from pathlib import Path

from .common import note, peak_rss_mb, table
from .partner_file import _send
from .pgdb import bench_database, psql

BATCH = 10_000


def _signed(code: int) -> int:
    return code - (1 << 64) if code >= 1 << 63 else code


def item_hashes(i: int) -> tuple[int, int]:
    """Item i's pHash and dHash, as the load's SQL derives them: md5 of i and a letter, 64 bits."""
    phash = int(hashlib.md5(f"{i}p".encode()).hexdigest()[:16], 16)  # noqa: S324 (not security)
    dhash = int(hashlib.md5(f"{i}d".encode()).hexdigest()[:16], 16)  # noqa: S324
    return _signed(phash), _signed(dhash)


def _rows(start: int, items: int, total: int, licence: str = "") -> tuple[list[dict[str, object]], int]:
    """Rows start.. of the filing, and how many name an item by hashes. Row k names item
    k * (items // total): by its URL (k even) or by its hashes moved a little (k odd; by its URL
    after all when those hashes say too little for verify to count)."""
    from registry.matching import dhash_informative, phash_informative

    stride = max(1, items // total)
    rows, by_hash = [], 0
    for k in range(start, start + BATCH):
        i = (k * stride) % items
        row: dict[str, object] = {
            "creator": {"id": f"c{k % 5000}", "profile_url": f"https://art.example/u/c{k % 5000}"},
            "work_url": f"https://cdn.art.example/w/{i}.jpg",
            "basis": "copyright",
            "choice": "remove",
        }
        if licence:
            credit = f"Creator c{k % 5000}" if licence == "creator" else "The platform's creators"
            row.update(choice="licence", licence="cc-by", attribution=credit)
        phash, dhash = item_hashes(i)
        near_phash, near_dhash = phash ^ 0b101, dhash ^ (0b111 << 20)
        usable = all(phash_informative(c) for c in (phash, near_phash)) and all(
            dhash_informative(c) for c in (dhash, near_dhash)
        )
        if k % 2 and usable:
            row["work_url"] = f"https://cdn.art.example/copy/{k}.jpg"
            row["phash"], row["dhash"] = (
                f"{near_phash & (2**64 - 1):016x}",
                f"{near_dhash & (2**64 - 1):016x}",
            )
            by_hash += 1
        else:
            row["phash"], row["dhash"] = f"{phash & (2**64 - 1):016x}", f"{dhash & (2**64 - 1):016x}"
        rows.append(row)
    return rows, by_hash


def backend_cpu() -> float:
    """CPU seconds used so far by this connection's PostgreSQL backend (same machine: /proc)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stage_rows(times: dict[str, list[float]], rows: int) -> list[tuple[str, ...]]:
    """The stages as table rows (wall, CPU here, CPU in PostgreSQL, per 1,000 rows), slowest first;
    "commit and hand-off" is the chunk's time outside its named stages."""
    whole = times.get("chunk (all, with its commit)", [0.0, 0.0, 0.0])
    inner = [
        v for k, v in times.items() if k not in ("chunk (all, with its commit)", "images: rows needing one")
    ]
    rest = [whole[k] - sum(v[k] for v in inner) for k in range(3)]
    named = [(k, v) for k, v in times.items() if k != "chunk (all, with its commit)"]
    named.append(("commit, hand-off, Python between stages", rest))
    total = sum(v[0] for _, v in named) or 1.0
    return [
        (
            name,
            f"{v[0]:.1f} s ({v[0] / total:.0%})",
            f"{v[1]:.1f} s",
            f"{v[2]:.1f} s",
            f"{(v[1] + v[2]) * 1000 / rows * 1000:.0f} ms",
        )
        for name, v in sorted(named, key=lambda kv: -kv[1][0])
    ]


def run(*, quick: bool = False, items: int | None = None) -> None:
    items = items or (100_000 if quick else 10_000_000)
    total = int(os.environ.get("BENCH_ROWS") or (20_000 if quick else 1_000_000))
    batches = max(1, total // BATCH)
    total = batches * BATCH
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
    rng = random.Random(14)
    as_file = bool(os.environ.get("BENCH_AS_FILE"))
    licence = os.environ.get("BENCH_LICENCE", "")
    with bench_database("partner_filing") as database, tempfile.TemporaryDirectory() as tmp:
        import json

        from django.test import Client
        from django.test.utils import override_settings

        # VAR_DIR too: an index file saved by an earlier run (another database, the same data set
        # id) would be loaded instead of built, and checked against this one's items.
        media = override_settings(PRIVATE_MEDIA_ROOT=tmp, VAR_DIR=tmp)
        media.enable()

        from config.celery import app
        from core import stages
        from partners import services
        from partners.models import Filing
        from partners.services import approval
        from registry import services as registry_services
        from registry.matching import indexes
        from registry.models import LicenceGrant, Removal, WebhookDelivery

        chunk = int(os.environ.get("BENCH_CHUNK") or approval.CHUNK)
        org, maintainer_key = registry_services.maintainer_create(name="Bench Org", email="ops@bench.example")
        dataset = registry_services.dataset_create(maintainer=org, slug="big", name="Big")
        registry_services.webhook_endpoint_create(
            maintainer=org,
            url="https://hooks.example/removals",
            event_types=["removal.approved", "licence.granted"],
        )
        started = time.perf_counter()
        psql(
            database,
            f"""
            INSERT INTO registry_datasetitem
                (dataset_id, external_id, url, url_key, host, path, phash, dhash, created_at, updated_at)
            SELECT {dataset.pk}, i::text, u.url,
                   ('x' || left(encode(sha256(convert_to(u.url, 'UTF8')), 'hex'), 16))::bit(64)::bigint,
                   'example.art.cdn.', '/w/' || i || '.jpg',
                   ('x' || left(md5(i::text || 'p'), 16))::bit(64)::bigint,
                   ('x' || left(md5(i::text || 'd'), 16))::bit(64)::bigint, now(), now()
            FROM generate_series(0, {items - 1}) AS i
            CROSS JOIN LATERAL (SELECT 'https://cdn.art.example/w/' || i || '.jpg' AS url) u;
            ANALYZE registry_datasetitem;
            """,  # noqa: S608 (numbers only)
        )
        load_seconds = time.perf_counter() - started
        note(f"  {items:,} items written in {load_seconds:.1f} s")
        stored = psql(database, "SELECT phash, dhash FROM registry_datasetitem WHERE external_id = '1'")
        assert item_hashes(1) == tuple(int(x) for x in stored.strip().split("|")), stored
        partner = services.partner_create(
            name="Bench Partner",
            slug="bench",
            contact_email="legal@art.example",
            agreement_ref="AG-BENCH",
            agreement_date=datetime.date(2026, 12, 1),
            attestation_text="We hold our creators' instruction.",
        )
        services.partner_domain_verify(
            domain=services.partner_domain_add(partner=partner, host="*.art.example")
        )
        services.filing_policy_update(policy=partner.policy, auto_approve_verified_hashed=True)
        _, partner_key = services.partner_key_create(partner=partner)
        client = Client()
        rss_loaded = peak_rss_mb()

        # Baseline: the maintainer's own JSON batch of 10,000 index rows (new items in the same data set).
        index_rows = [
            {
                "external_id": f"b{i}",
                "url": f"https://img.example/b/{i}.jpg",
                "phash": f"{rng.getrandbits(64):016x}",
            }
            for i in range(BATCH)
        ]
        body = json.dumps({"items": index_rows})
        t = time.perf_counter()
        response = client.post(
            "/api/v1/datasets/big/items/", body, content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {maintainer_key}",
        )  # fmt: skip
        baseline = time.perf_counter() - t
        assert response.status_code == 200, response.content[:500]

        filing_seconds, filing_ids, by_hash = [], [], 0
        if (
            as_file
        ):  # the rows as one NDJSON file (written before timing), sent and read as a partner's file is
            path = Path(tmp) / "rows.ndjson"
            with open(path, "w") as out:
                for b in range(batches):
                    rows, hashed = _rows(b * BATCH, items, total, licence)
                    by_hash += hashed
                    out.writelines(json.dumps(row) + "\n" for row in rows)
        file_cpu = [time.process_time(), backend_cpu()]
        if as_file:
            t = time.perf_counter()
            public_id = _send(client, partner_key, path, "ndjson")
            sent_seconds = time.perf_counter() - t
            claimed = services.file_claim(Filing.objects.get(public_id=public_id).pk)
            assert claimed is not None
            t = time.perf_counter()
            read = services.file_read(claimed)
            filing_seconds = [sent_seconds, time.perf_counter() - t]
            assert read.rows_read == total and read.state == "queued", (read.state, read.message)
            filing_ids.append(public_id)
            note(f"  file sent in {sent_seconds:.1f} s, read in {filing_seconds[1]:.1f} s")
            path.unlink()
        for b in range(0 if as_file else batches):
            rows, hashed = _rows(b * BATCH, items, total, licence)
            by_hash += hashed
            body = json.dumps({"attestation": True, "rows": rows})
            t = time.perf_counter()
            response = client.post(
                "/api/v1/partner/filings/", body, content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {partner_key}",
            )  # fmt: skip
            filing_seconds.append(time.perf_counter() - t)
            assert response.status_code == 202, response.content[:500]
            answer = response.json()
            assert answer["counts"]["pending"] == BATCH, answer["counts"]
            filing_ids.append(answer["id"])
            if b < 3 or (b + 1) % 10 == 0:
                note(f"  batch {b + 1}: filed in {filing_seconds[-1]:.2f} s")
        rss_filed = peak_rss_mb()
        file_cpu = [time.process_time() - file_cpu[0], backend_cpu() - file_cpu[1]]

        t = time.perf_counter()
        dhash_index = indexes("dhash").get(dataset.pk)  # built from the table (and saved)
        index_seconds = time.perf_counter() - t
        rss_index = peak_rss_mb()
        t = time.perf_counter()
        dhash_index.search_many_join([item_hashes(0)[1]], 8)  # the join's sorted copies
        join_seconds = time.perf_counter() - t
        rss_join = peak_rss_mb()
        note(
            f"  dHash index of {len(dhash_index):,} items built in {index_seconds:.1f} s (peak RSS "
            f"{rss_index:,.0f} MB), its join in {join_seconds:.1f} s "
            f"({dhash_index.join_memory_bytes() / 2**20:,.0f} MiB; peak RSS {rss_join:,.0f} MB)"
        )
        decide_seconds: list[float] = []
        rss_at: dict[int, float] = {}
        removals = 0
        decide_cpu = [time.process_time(), backend_cpu()]
        recording = stages.recording(extra_cpu=backend_cpu)
        times = recording.__enter__()
        per_filing = total if as_file else BATCH
        for n, public_id in enumerate(filing_ids, 1):
            filing = services.filing_claim(Filing.objects.get(public_id=public_id).pk)
            assert filing is not None
            t = time.perf_counter()
            filing = services.filing_run(filing, chunk=chunk)
            decide_seconds.append(time.perf_counter() - t)
            assert filing.state == "completed", filing.state
            written = LicenceGrant if licence else Removal
            count = written.objects.filter(source_ref=public_id).count()
            assert count == per_filing, (public_id, count)  # every row names one item, by URL or hashes
            removals += count
            if n * per_filing in (100_000, total):
                rss_at[n * per_filing] = peak_rss_mb()
            if n <= 3 or n % 10 == 0:
                note(f"  {public_id}: decided in {decide_seconds[-1]:.1f} s ({n * per_filing:,} rows so far)")
        recording.__exit__(None, None, None)
        decide_cpu = [time.process_time() - decide_cpu[0], backend_cpu() - decide_cpu[1]]
        rss_decided = peak_rss_mb()
        outbox = WebhookDelivery.objects.count()
        app.control.purge()
        media.disable()

    load = os.getloadavg()
    file_rate = total / sum(filing_seconds)
    base_rate = BATCH / baseline
    decide_rate = total / sum(decide_seconds)
    shape = f"one file of {total:,} rows" if as_file else f"{batches} batches of {BATCH:,} rows"
    shape += {"": "", "creator": ", licence rows, one attribution a creator"}.get(licence, ", licence rows")
    print(f"## Partner filings ({items:,} registered items, {shape}, chunks of {chunk:,})\n")
    print(
        table(
            ("stage", "time", "rows per second", "peak RSS after"),
            [
                (
                    f"{items:,} items written by PostgreSQL",
                    f"{load_seconds:.0f} s",
                    "",
                    f"{rss_loaded:.0f} MB",
                ),
                (
                    "maintainer items batch (baseline, 10,000 rows)",
                    f"{baseline:.2f} s",
                    f"{base_rate:,.0f}",
                    "",
                ),
                (
                    "partner file: one NDJSON file sent through the API (16 MB chunks), then read "
                    "(checked, duplicates looked up, COPY)"
                    if as_file
                    else f"partner filing POST ({batches} x 10,000 rows)",
                    (
                        f"{filing_seconds[0]:.1f} s sent + {filing_seconds[1]:.1f} s read"
                        if as_file
                        else f"{sum(filing_seconds):.1f} s (slowest batch {max(filing_seconds):.2f} s)"
                    )
                    + f" (CPU {file_cpu[0]:.0f} s here + {file_cpu[1]:.0f} s PostgreSQL)",
                    f"{file_rate:,.0f} ({file_rate / base_rate:.2f}x the baseline)",
                    f"{rss_filed:.0f} MB",
                ),
                (
                    "dHash index build (once), then its join",
                    f"{index_seconds:.1f} s + {join_seconds:.1f} s",
                    "",
                    f"{rss_index:,.0f} MB after the build, {rss_join:,.0f} MB after the join "
                    f"({dhash_index.join_memory_bytes() / 2**20:,.0f} MiB)",
                ),
                (
                    f"matched + approved by policy + removals recorded ({total:,} rows: {total - by_hash:,} "
                    f"by URL, {by_hash:,} by hashes; {removals:,} {'grants' if licence else 'removals'}, "
                    f"{outbox:,} outbox rows)",
                    f"{sum(decide_seconds):.1f} s (slowest filing {max(decide_seconds):.1f} s; CPU "
                    f"{decide_cpu[0]:.0f} s here + {decide_cpu[1]:.0f} s PostgreSQL)",
                    f"{decide_rate:,.0f}",
                    f"{rss_decided:.0f} MB",
                ),
            ],
        )
    )
    print(f"\nDeciding, by stage ({total:,} rows; CPU in this process and in its PostgreSQL backend):\n")
    print(
        table(("stage", "wall", "CPU here", "CPU PostgreSQL", "CPU per 1,000 rows"), stage_rows(times, total))
    )
    if not as_file:
        first, last = filing_seconds[: max(1, batches // 10)], filing_seconds[-max(1, batches // 10) :]
        print(
            f"\nFiling POSTs: the first tenth {sum(first) / len(first):.2f} s a batch, the last tenth "
            f"{sum(last) / len(last):.2f} s a batch."
        )
    rss_lines = ", ".join(f"{rows:,} rows decided: {mb:.0f} MB" for rows, mb in sorted(rss_at.items()))
    print(
        f"\nPeak RSS after {rss_lines}. Load average at the end: "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min) on {os.cpu_count()} cores."
    )
