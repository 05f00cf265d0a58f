"""Partner files for the tests: rows of tests.helpers.partner_row written as NDJSON, CSV or Parquet,
sent through the file API in chunks, and read and decided here when no worker is involved."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from partners import services
from partners.models import Filing

FILINGS = "/api/v1/partner/filings/"
CREATE = "/api/v1/partner/filings/files/"
FLAT = (
    "creator_id",
    "creator_profile_url",
    "creator_email",
    "work_url",
    "image_url",
    "phash",
    "dhash",
    "pdq",
    "pdq_quality",
    "basis",
    "choice",
)


def flat(row: dict[str, Any]) -> dict[str, Any]:
    creator = row.get("creator") or {}
    out = {name: row.get(name) for name in FLAT if not name.startswith("creator_")}
    out.update(
        creator_id=creator.get("id"),
        creator_profile_url=creator.get("profile_url"),
        creator_email=creator.get("email"),
    )
    return out


def ndjson_bytes(rows: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(r).encode() + b"\n" for r in rows)


def csv_bytes(rows: list[dict[str, Any]], columns: tuple[str, ...] = FLAT) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        values = flat(row)
        writer.writerow(["" if values.get(c) is None else values.get(c) for c in columns])
    return out.getvalue().encode()


def parquet_bytes(rows: list[dict[str, Any]], *, row_group_size: int | None = None) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    flats = [flat(r) for r in rows]
    table = pa.table(
        {
            name: pa.array(
                [f.get(name) for f in flats], type=pa.int64() if name == "pdq_quality" else pa.string()
            )
            for name in FLAT
        }
    )
    out = io.BytesIO()
    pq.write_table(table, out, row_group_size=row_group_size)
    return out.getvalue()


ENCODE = {"ndjson": ndjson_bytes, "csv": csv_bytes, "parquet": parquet_bytes}


def announce(client: Any, data: bytes, name: str, **extra: Any) -> Any:
    return client.post(CREATE, {"attestation": True, "name": name, "size": len(data), **extra}, format="json")


def send_chunk(client: Any, filing_id: str, data: bytes, offset: int) -> Any:
    return client.generic(
        "PATCH",
        f"{FILINGS}{filing_id}/file/",
        data,
        content_type="application/offset+octet-stream",
        HTTP_UPLOAD_OFFSET=str(offset),
    )


def upload(client: Any, data: bytes, name: str, *, chunk: int = 64 * 1024, **extra: Any) -> dict[str, Any]:
    """Announce and send a whole file in chunks; the last answer (200 or 422)."""
    created = announce(client, data, name, **extra)
    assert created.status_code == 201, created.content
    filing_id = created.json()["id"]
    answer = None
    for offset in range(0, len(data), chunk):
        answer = send_chunk(client, filing_id, data[offset : offset + chunk], offset)
        if answer.status_code != 200:
            break
    assert answer is not None
    return {"id": filing_id, "status": answer.status_code, "body": answer.json()}


def read_and_decide_here(filing_id: str) -> Filing:
    """What the workers do, in this process: read the file, then match and decide its rows."""
    filing = Filing.objects.get(public_id=filing_id)
    claimed = services.file_claim(filing.pk)
    assert claimed is not None
    filing = services.file_read(claimed)
    if filing.state == "queued":
        matching = services.filing_claim(filing.pk)
        assert matching is not None
        filing = services.filing_run(matching)
    return filing
