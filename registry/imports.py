"""Bulk index imports: reading CSV (header row), NDJSON or Parquet of any size, and writing a batch.

Rows are streamed from the file (registry.services.imports runs a job and
commits batch by batch), so memory does not grow with the file and a crash
loses at most one batch. On PostgreSQL a batch goes through COPY into a
temporary table and one INSERT ... ON CONFLICT; elsewhere through
bulk_create(update_conflicts). A bad row is recorded with its line number
and skipped; the import goes on.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.db import connection

from core import clock
from core.text import printable

from .hosts import url_host_path
from .models import DatasetItem, url_key

BATCH = 10_000  # rows read, and written in one transaction
FORMATS = ("csv", "ndjson", "parquet")
COLUMNS = ("external_id", "url", "phash", "dhash", "pdq", "pdq_quality")
REQUIRED = ("external_id", "url")
UPDATED_FIELDS = ("url", "url_key", "host", "path", "phash", "dhash", "pdq", "pdq_quality", "updated_at")


class ImportFileError(ValueError):
    """The file as a whole cannot be read (wrong format, no header); the message says why."""


def detect_format(name: str, head: bytes) -> str:
    lowered = name.lower()
    if head.startswith(b"PAR1") or lowered.endswith(".parquet"):
        return "parquet"
    if lowered.endswith((".ndjson", ".jsonl")) or head.lstrip().startswith(b"{"):
        return "ndjson"
    if lowered.endswith(".csv") or b"," in head.split(b"\n", 1)[0]:
        return "csv"
    raise ImportFileError("The file is not CSV (with a header row), NDJSON or Parquet.")


# --- readers: (line number, raw row or parse error) -------------------------


Row = tuple[int, dict[str, Any] | None, str | None]


def read_csv(
    handle: IO[bytes],
    *,
    columns: Sequence[str] = COLUMNS,
    required: Sequence[str] = REQUIRED,
    errors: str = "replace",
) -> Iterator[Row]:
    """Rows of a CSV file with a header row, keyed by the `columns` it names (others ignored).

    `errors` is how bytes that are not UTF-8 are decoded: "replace" (the index imports) or
    "surrogateescape", which keeps them as lone surrogates that the row's validation refuses.
    A record the csv module cannot parse (a field over its limit) is that row's error.
    """
    text = io.TextIOWrapper(handle, encoding="utf-8", errors=errors, newline="")
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        raise ImportFileError("The CSV file is empty; it needs a header row.") from None
    except csv.Error as exc:
        raise ImportFileError(f"The CSV header row cannot be read: {exc}.") from None
    header = [h.strip().lower().lstrip("\ufeff") for h in header]
    if any(name not in header for name in required):
        optional = [name for name in columns if name not in required]
        raise ImportFileError(
            f"The CSV header must name {_and(required)} (and optionally {', '.join(optional)}); "
            f"it has {[printable(h, 40) for h in header[:30]]}."
        )
    positions = {name: header.index(name) for name in columns if name in header}
    width = len(header)
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield reader.line_num, None, f"cannot be read as CSV ({exc})"
            continue
        line = reader.line_num
        if not values or values == [""]:
            continue
        if len(values) != width:
            yield line, None, f"has {len(values)} fields, the header has {width}"
            continue
        yield line, {name: values[pos] for name, pos in positions.items()}, None


def _and(names: Sequence[str]) -> str:
    return " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else names[0]


def read_ndjson(handle: IO[bytes], *, max_line: int | None = None) -> Iterator[Row]:
    """One JSON object per line. With `max_line`, a longer line is that row's error and is skipped
    without being held in memory (a file with no line breaks cannot exhaust the worker)."""
    line_number = 0
    while True:
        raw = handle.readline() if max_line is None else handle.readline(max_line + 1)
        if not raw:
            return
        line_number += 1
        if max_line is not None and len(raw) > max_line and not raw.endswith(b"\n"):
            while (rest := handle.readline(1 << 20)) and not rest.endswith(b"\n"):
                pass
            yield line_number, None, f"is longer than {max_line:,} bytes"
            continue
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except RecursionError:
            yield line_number, None, "is not valid JSON (it nests too deep)"
            continue
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, numbers over 4,300 digits
            yield line_number, None, f"is not valid JSON ({exc.msg if hasattr(exc, 'msg') else exc})"
            continue
        if not isinstance(value, dict):
            yield line_number, None, "is not a JSON object"
            continue
        yield line_number, value, None


def read_parquet(
    handle: IO[bytes],
    *,
    columns: Sequence[str] = COLUMNS,
    required: Sequence[str] = REQUIRED,
    as_text: Sequence[str] = ("external_id",),
    max_row_group_bytes: int | None = None,
) -> Iterator[Row]:
    """Rows of a Parquet file, `columns` it has (others ignored), numbered from 1; `as_text`
    columns are turned into strings. With `max_row_group_bytes`, a file whose row group
    unpacks to more (a compression bomb, or groups too big to hold) is refused before reading."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(handle)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        raise ImportFileError(f"The Parquet file cannot be read: {exc}") from None
    names = [n for n in columns if n in parquet.schema_arrow.names]
    if any(name not in names for name in required):
        raise ImportFileError(f"The Parquet file must have columns {_and(required)}.")
    if max_row_group_bytes is not None:
        for group in range(parquet.metadata.num_row_groups):
            size = parquet.metadata.row_group(group).total_byte_size
            if size > max_row_group_bytes:
                raise ImportFileError(
                    f"Row group {group} of the Parquet file unpacks to {size:,} bytes, more than the "
                    f"{max_row_group_bytes:,} accepted; write smaller row groups."
                )
    row_number = 0
    try:
        for batch in parquet.iter_batches(batch_size=BATCH, columns=names):
            for record in batch.to_pylist():
                row_number += 1
                for name in as_text:
                    if record.get(name) is not None:
                        record[name] = str(record[name])
                yield row_number, record, None
    except (OSError, ValueError, pa.ArrowException) as exc:  # a damaged page or column chunk
        raise ImportFileError(f"The Parquet file cannot be read after row {row_number:,}: {exc}") from None


READERS: dict[str, Callable[[IO[bytes]], Iterator[Row]]] = {
    "csv": read_csv,
    "ndjson": read_ndjson,
    "parquet": read_parquet,
}


def count_rows(handle: IO[bytes], fmt: str) -> int | None:
    """A quick total for progress: data lines (CSV less its header) or Parquet's row count."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            return int(pq.ParquetFile(handle).metadata.num_rows)
        except Exception:
            return None
    count = 0
    last = b"\n"
    while chunk := handle.read(1 << 20):
        count += chunk.count(b"\n")
        last = chunk[-1:]
    if last != b"\n":
        count += 1
    return max(0, count - 1) if fmt == "csv" else count


# --- writing ----------------------------------------------------------------


@dataclass
class BatchResult:
    created: int
    updated: int


def _write_postgres(dataset_id: int, rows: list[dict[str, Any]]) -> BatchResult:
    now = clock.now()
    with connection.cursor() as cursor:
        # The batch and the job's counters commit together, so losing the last few
        # commits in a server crash only means the re-run redoes those batches.
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS registry_import_stage ("
            " ord integer, external_id text, url text, url_key bigint, host text, path text, phash bigint,"
            " dhash bigint, pdq bytea, pdq_quality smallint"
            ") ON COMMIT DELETE ROWS"
        )
        raw = cursor.cursor  # psycopg 3 cursor: COPY support
        with raw.copy(
            "COPY registry_import_stage"
            " (ord, external_id, url, url_key, host, path, phash, dhash, pdq, pdq_quality) FROM STDIN"
        ) as copy:
            for position, row in enumerate(key_rows(rows)):
                copy.write_row(
                    (position, row["external_id"], row["url"], row["url_key"], row["host"], row["path"],
                     row["phash"], row["dhash"], row["pdq"], row["pdq_quality"])
                )  # fmt: skip
        # DISTINCT ON keeps the last row of a repeated external_id: one INSERT may
        # not touch the same row twice.
        cursor.execute(
            """
            WITH up AS (
                INSERT INTO registry_datasetitem
                    (dataset_id, external_id, url, url_key, host, path, phash, dhash, pdq, pdq_quality,
                     created_at, updated_at)
                SELECT DISTINCT ON (external_id)
                    %s, external_id, url, url_key, host, path, phash, dhash, pdq, pdq_quality, %s, %s
                FROM registry_import_stage ORDER BY external_id, ord DESC
                ON CONFLICT (dataset_id, external_id) DO UPDATE SET
                    url = EXCLUDED.url, url_key = EXCLUDED.url_key, host = EXCLUDED.host,
                    path = EXCLUDED.path, phash = EXCLUDED.phash,
                    dhash = EXCLUDED.dhash, pdq = EXCLUDED.pdq, pdq_quality = EXCLUDED.pdq_quality,
                    updated_at = EXCLUDED.updated_at
                RETURNING (xmax = 0) AS inserted
            )
            SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up
            """,
            [dataset_id, now, now],
        )
        created, updated = cursor.fetchone()
        cursor.execute("TRUNCATE registry_import_stage")
    return BatchResult(int(created), int(updated))


def key_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`rows` (cleaned) with their URL's `url_key`, `host` and `path` added where missing.

    An import keys each batch in its reading thread (registry.services.imports), so that this
    Python work overlaps PostgreSQL's on the batch before; a row keyed already is left as it is.
    """
    for row in rows:
        if "url_key" not in row:
            url = row["url"]
            row["url_key"] = url_key(url)
            row["host"], row["path"] = url_host_path(url)
    return rows


def _write_portable(dataset_id: int, rows: list[dict[str, Any]]) -> BatchResult:
    last = {row["external_id"]: row for row in key_rows(rows)}
    existing = set(
        DatasetItem.objects.filter(dataset_id=dataset_id, external_id__in=list(last)).values_list(
            "external_id", flat=True
        )
    )
    now = clock.now()
    DatasetItem.objects.bulk_create(
        [_item(dataset_id, r, now) for r in last.values()],
        update_conflicts=True,
        unique_fields=["dataset", "external_id"],
        update_fields=[*UPDATED_FIELDS],
        batch_size=1000,
    )
    return BatchResult(created=len(last) - len(existing), updated=len(existing))


def _item(dataset_id: int, row: dict[str, Any], now: Any) -> DatasetItem:
    return DatasetItem(
        dataset_id=dataset_id,
        url_key=row["url_key"],
        host=row["host"],
        path=row["path"],
        created_at=now,
        updated_at=now,
        **{name: row[name] for name in COLUMNS},
    )


def write_batch(dataset_id: int, rows: list[dict[str, Any]]) -> BatchResult:
    if connection.vendor == "postgresql":
        return _write_postgres(dataset_id, rows)
    return _write_portable(dataset_id, rows)
