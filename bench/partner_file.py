"""Partner file filings on PostgreSQL: a file of N rows (NDJSON; --format csv or parquet through
BENCH_FILE_FORMAT) announced and sent through the API in 16 MB chunks, then read by the worker's
code in this process: streamed, validated, stored 5,000 rows per transaction through COPY.

- The file is written to disk row by row (never held), each row naming its creator, its work
  on the partner's domain and a pHash and a dHash; 1% of the rows repeat an earlier one (found
  as duplicates).
- Timed: sending (Django's test client; each chunk fsynced) and reading (partners.services
  file_read: counting, parsing, the batch's per-row checks, the duplicate look-up, COPY).
  Matching and deciding are the filing's own (bench partner_filing); not timed here.
- Peak RSS after reading 100,000 rows and after all of them (1,000,000; --quick 100,000 only):
  flat memory means the two agree.

`python -m bench partner_file [--items N]`.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import time
from pathlib import Path

from .common import note, peak_rss_mb, table
from .pgdb import bench_database


def _write(path: Path, n: int, fmt: str) -> None:
    def row(i: int) -> dict[str, object]:
        j = i if i % 100 or i == 0 else i - 1  # 1%: the previous row again
        r = random.Random(j)
        return {
            "creator": {"id": f"c{j % 5000}", "profile_url": f"https://art.example/u/c{j % 5000}"},
            "work_url": f"https://cdn.art.example/w/{j}.jpg",
            "phash": f"{r.getrandbits(64):016x}",
            "dhash": f"{r.getrandbits(64):016x}",
            "basis": "copyright",
            "choice": "remove",
        }

    if fmt == "ndjson":
        with open(path, "w") as out:
            for i in range(n):
                out.write(json.dumps(row(i)) + "\n")
        return
    names = ("creator_id", "creator_profile_url", "work_url", "phash", "dhash", "basis", "choice")

    def flat(r: dict[str, object]) -> list[object]:
        creator = r["creator"]
        assert isinstance(creator, dict)
        return [creator["id"], creator["profile_url"], *(r[k] for k in names[2:])]

    if fmt == "csv":
        import csv

        with open(path, "w", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(names)
            for i in range(n):
                writer.writerow(flat(row(i)))
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(name, pa.string()) for name in names])
    with pq.ParquetWriter(path, schema) as writer:
        for start in range(0, n, 50_000):
            rows = [flat(row(i)) for i in range(start, min(n, start + 50_000))]
            writer.write_table(pa.table({name: [r[k] for r in rows] for k, name in enumerate(names)}))


def _send(client: object, key: str, path: Path, fmt: str) -> str:
    from django.conf import settings

    size = path.stat().st_size
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    created = client.post(  # type: ignore[attr-defined]
        "/api/v1/partner/filings/files/",
        json.dumps({"attestation": True, "name": f"rows.{fmt}", "size": size}),
        content_type="application/json",
        **auth,
    )
    assert created.status_code == 201, created.content
    filing_id = str(created.json()["id"])
    chunk = settings.PARTNER_FILE_CHUNK_BYTES
    with open(path, "rb") as handle:
        offset = 0
        while data := handle.read(chunk):
            answer = client.generic(  # type: ignore[attr-defined]
                "PATCH",
                f"/api/v1/partner/filings/{filing_id}/file/",
                data,
                content_type="application/offset+octet-stream",
                HTTP_UPLOAD_OFFSET=str(offset),
                **auth,
            )
            assert answer.status_code == 200, answer.content
            offset += len(data)
    return filing_id


def run(*, quick: bool = False, items: int | None = None) -> None:
    sizes = [100_000] if quick else [100_000, items or 1_000_000]
    fmt = os.environ.get("BENCH_FILE_FORMAT", "ndjson")
    os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/14")
    with bench_database("partner_file") as _database, tempfile.TemporaryDirectory() as tmp:
        import datetime

        from django.test import Client
        from django.test.utils import override_settings

        from config.celery import app
        from partners import services
        from partners.models import Filing

        app.conf.task_always_eager = False
        partner = services.partner_create(
            name="ArtPlace",
            slug="artplace",
            contact_email="legal@art.example",
            agreement_ref="AG-1",
            agreement_date=datetime.date(2026, 11, 1),
            attestation_text="We hold the instruction of every creator we file for.",
        )
        services.partner_domain_verify(
            domain=services.partner_domain_add(partner=partner, host="*.art.example")
        )
        _, key = services.partner_key_create(partner=partner)
        results = []
        with override_settings(PRIVATE_MEDIA_ROOT=tmp):
            for n in sizes:
                path = Path(tmp) / f"rows-{n}.{fmt}"
                note(f"partner_file: writing {n:,} rows ({fmt})")
                _write(path, n, fmt)
                started = time.perf_counter()
                filing_id = _send(Client(), key, path, fmt)
                sent = time.perf_counter() - started
                claimed = services.file_claim(Filing.objects.get(public_id=filing_id).pk)
                assert claimed is not None
                note(f"partner_file: reading {n:,} rows")
                started = time.perf_counter()
                filing = services.file_read(claimed)
                read = time.perf_counter() - started
                assert filing.rows_read == n, (filing.state, filing.message)
                results.append(
                    (
                        f"{n:,}",
                        fmt,
                        f"{path.stat().st_size / 1e6:,.0f} MB",
                        f"{sent:.1f} s",
                        f"{read:.1f} s",
                        f"{n / read:,.0f}",
                        f"{filing.duplicates:,}",
                        f"{peak_rss_mb():,.0f} MB",
                    )
                )
                path.unlink()
    print("## Partner file filings: sending and reading\n")
    print(
        table(
            ["rows", "format", "file", "sent (API)", "read", "rows/s read", "duplicates", "peak RSS after"],
            results,
        )
    )
