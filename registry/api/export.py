"""Streamed exports of the removal list and of the licence grants: JSON Lines, CSV and Parquet.

Rows are read with a server-side cursor in chunks and written as they
come, so a list of 100 million removals never sits in memory. The grants are a file of their
own (/licences/export/), so every reader of the removals file keeps reading only removals.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from ..serialize import grant_to_dict, removal_to_dict

CHUNK = 5000
COLUMNS = [
    "id", "dataset", "external_id", "url", "phash", "pdq", "reason", "request",
    "approved_at", "state", "acknowledged_at", "source", "partner", "revoked_at", "revoked_reason",
    "train_ai", "search",
]  # fmt: skip
LICENCE_COLUMNS = [
    "id", "dataset", "external_id", "url", "phash", "pdq", "request", "train_ai", "search",
    "licence", "licence_url", "attribution", "source", "partner", "granted_at", "state",
    "revoked_at", "revoked_reason",
]  # fmt: skip


@dataclass(frozen=True)
class Shape:
    """What a file holds: its columns in order, each row's wire form, its timestamp columns."""

    columns: list[str]
    to_dict: Callable[[Any], dict[str, Any]]
    timestamps: tuple[str, ...]


REMOVALS = Shape(COLUMNS, removal_to_dict, ("approved_at", "acknowledged_at", "revoked_at"))
LICENCES = Shape(LICENCE_COLUMNS, grant_to_dict, ("granted_at", "revoked_at"))

CONTENT_TYPES = {
    "jsonl": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
}


def _rows(queryset: QuerySet[Any], shape: Shape) -> Iterator[dict[str, object]]:
    for row in queryset.iterator(chunk_size=CHUNK):
        yield shape.to_dict(row)


def jsonl(queryset: QuerySet[Any], shape: Shape = REMOVALS) -> Iterator[bytes]:
    buffer: list[str] = []
    for row in _rows(queryset, shape):
        buffer.append(json.dumps(row, separators=(",", ":"), ensure_ascii=False))
        if len(buffer) >= CHUNK:
            yield ("\n".join(buffer) + "\n").encode()
            buffer.clear()
    if buffer:
        yield ("\n".join(buffer) + "\n").encode()


def csv_stream(queryset: QuerySet[Any], shape: Shape = REMOVALS) -> Iterator[bytes]:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=shape.columns, lineterminator="\n")
    writer.writeheader()
    for count, row in enumerate(_rows(queryset, shape), start=1):
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
        if count % CHUNK == 0:
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode()


def parquet(queryset: QuerySet[Any], shape: Shape = REMOVALS) -> Iterator[bytes]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [
            (name, pa.timestamp("us", tz="UTC") if name in shape.timestamps else pa.string())
            for name in shape.columns
        ]
    )
    sink = io.BytesIO()
    writer = pq.ParquetWriter(sink, schema, compression="zstd")
    batch: list[dict[str, object]] = []

    def flush() -> bytes:
        table = pa.Table.from_pylist(
            [{**r, **{name: _ts(r[name]) for name in shape.timestamps}} for r in batch],
            schema=schema,
        )
        writer.write_table(table)
        batch.clear()
        data = sink.getvalue()
        sink.seek(0)
        sink.truncate()
        return data

    for row in _rows(queryset, shape):
        batch.append(row)
        if len(batch) >= CHUNK * 10:
            yield flush()
    if batch:
        yield flush()
    writer.close()
    yield sink.getvalue()


def _ts(value: object) -> object:
    from datetime import datetime

    return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None


WRITERS = {"jsonl": jsonl, "csv": csv_stream, "parquet": parquet}
