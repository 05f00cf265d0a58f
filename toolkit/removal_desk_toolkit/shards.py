"""Filtering whole shards: Parquet, CSV and WebDataset tar files, each written out in its own format.

A shard is read a batch at a time (a Parquet row group's worth, a CSV block, a tar's samples)
and its kept rows are written to `<out>/<name>.part`, renamed to `<out>/<name>` only when the
whole shard is done: a shard that fails half-way (truncated, corrupt, a sample without its
sidecar) leaves nothing behind, and the caller goes on with the other shards.

WebDataset: a sample is the members of the tar sharing a key (the name up to the first dot of
its base name, `images/000123.jpg` and `images/000123.json`); its `.json` sidecar holds the
columns the filter reads (url, phash, pdq). Kept samples are written with all their members,
in the order they came.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .filtering import REASONS, Removed

FORMATS = {".parquet": "parquet", ".csv": "csv", ".tar": "webdataset"}
BATCH_ROWS = 65_536
REPORT_FIELDS = ("shard", "row", "key", "url", "reason", "removal", "distance")


class ShardError(Exception):
    """This shard could not be filtered; the message says why. Nothing of it was written."""


@dataclass
class Columns:
    url: str = "url"
    phash: str = "phash"
    pdq: str = "pdq"
    key: str = "external_id"

    def options(self) -> dict[str, str]:
        return {"url_column": self.url, "phash_column": self.phash, "pdq_column": self.pdq}


@dataclass
class ShardResult:
    shard: str
    rows: int = 0
    kept: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    error: str | None = None


def shard_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ShardError(f"{path}: not a shard this filter reads (.parquet, .csv or a WebDataset .tar)")
    return fmt


def filter_shard(
    path: Path,
    out_dir: Path,
    removed: Removed,
    *,
    columns: Columns,
    report: Callable[[dict[str, Any]], None],
    progress: Callable[[int], None] = lambda rows: None,
) -> ShardResult:
    """Filter one shard into `out_dir`; every dropped row goes to `report`. Raises ShardError."""
    fmt = shard_format(path)
    target = out_dir / path.name
    if target.resolve() == path.resolve():
        raise ShardError(f"{path}: the output would overwrite the shard itself; choose another --out")
    partial = out_dir / (path.name + ".part")
    result = ShardResult(str(path))
    pending: list[dict[str, Any]] = []  # the report's rows wait for the shard to succeed

    def dropped(batch: Any, report_table: Any, offset: int, keys: list[Any] | None = None) -> None:
        names = batch.schema.names
        urls = batch.column(columns.url) if columns.url in names else None
        key_column = batch.column(columns.key) if keys is None and columns.key in names else None
        for entry in report_table.to_pylist():
            i = entry["row"]
            pending.append(
                {
                    "shard": path.name,
                    "row": offset + i,
                    "key": keys[i]
                    if keys is not None
                    else (key_column[i].as_py() if key_column is not None else None),
                    "url": urls[i].as_py() if urls is not None else None,
                    "reason": entry["reason"],
                    "removal": entry["removal"],
                    "distance": entry["distance"] if entry["distance"] >= 0 else None,
                }
            )
            result.dropped[entry["reason"]] = result.dropped.get(entry["reason"], 0) + 1

    try:
        if fmt == "parquet":
            _parquet(path, partial, removed, columns, result, dropped, progress)
        elif fmt == "csv":
            _csv(path, partial, removed, columns, result, dropped, progress)
        else:
            _webdataset(path, partial, removed, columns, result, dropped, progress)
        os.replace(partial, target)
    except ShardError:
        partial.unlink(missing_ok=True)
        raise
    except (pa.ArrowException, OSError, tarfile.TarError, EOFError, ValueError) as exc:
        partial.unlink(missing_ok=True)
        raise ShardError(f"{path}: cannot be read whole ({_why(exc)}); nothing of it was written") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    for row in pending:
        report(row)
    return result


def _why(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]


def _parquet(path, partial, removed, columns, result, dropped, progress) -> None:  # type: ignore[no-untyped-def]
    try:
        source = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise ShardError(
            f"{path}: not a readable Parquet file ({_why(exc)}); it may be truncated or corrupt, "
            "fetch it again"
        ) from None
    with pq.ParquetWriter(partial, source.schema_arrow) as writer:
        offset = 0
        for batch in source.iter_batches(batch_size=BATCH_ROWS):
            table = pa.Table.from_batches([batch])
            kept, report = removed.filter_table(table, **columns.options())
            writer.write_table(kept)
            dropped(table, report, offset)
            offset += table.num_rows
            result.rows += table.num_rows
            result.kept += kept.num_rows
            progress(table.num_rows)


def _csv(path, partial, removed, columns, result, dropped, progress) -> None:  # type: ignore[no-untyped-def]
    with open(path, newline="", encoding="utf-8") as handle:
        try:
            header = next(csv.reader(handle))
        except StopIteration:
            raise ShardError(f"{path}: an empty CSV file (no header row)") from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ShardError(f"{path}: the header row cannot be read ({exc})") from None
    # Every column read and written as text: the kept rows come out as they went in.
    convert = pacsv.ConvertOptions(
        column_types={name: pa.string() for name in header},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=8 << 20), convert_options=convert)
    with pacsv.CSVWriter(partial, reader.schema) as writer:
        offset = 0
        for batch in reader:
            table = pa.Table.from_batches([batch])
            kept, report = removed.filter_table(table, **columns.options())
            writer.write_table(kept)
            dropped(table, report, offset)
            offset += table.num_rows
            result.rows += table.num_rows
            result.kept += kept.num_rows
            progress(table.num_rows)


def _samples(
    archive: tarfile.TarFile, path: Path
) -> Iterator[tuple[str, list[tuple[tarfile.TarInfo, bytes]]]]:
    """(key, members) of each sample, in the tar's order; a sample's members are consecutive."""
    key: str | None = None
    members: list[tuple[tarfile.TarInfo, bytes]] = []
    seen: set[str] = set()
    for info in archive:
        if not info.isfile():
            continue
        folder, _, base = info.name.rpartition("/")
        sample = (folder + "/" if folder else "") + base.split(".", 1)[0]
        handle = archive.extractfile(info)
        data = handle.read() if handle is not None else b""
        if sample != key:
            if key is not None:
                yield key, members
            if sample in seen:
                raise ShardError(
                    f"{path}: the members of sample {sample!r} are not together in the tar; "
                    "WebDataset shards keep each sample's files consecutive"
                )
            seen.add(sample)
            key, members = sample, []
        members.append((info, data))
    if key is not None:
        yield key, members


def _webdataset(path, partial, removed, columns, result, dropped, progress) -> None:  # type: ignore[no-untyped-def]
    try:
        archive = tarfile.open(path, mode="r:*")  # noqa: SIM115 (closed by the with below)
    except (tarfile.TarError, OSError) as exc:
        raise ShardError(f"{path}: not a readable tar file ({_why(exc)})") from None
    with archive, tarfile.open(partial, mode="w") as out:
        batch: list[tuple[str, list[tuple[tarfile.TarInfo, bytes]]]] = []
        offset = 0

        def flush() -> None:
            nonlocal offset
            if not batch:
                return
            rows: dict[str, list[str | None]] = {
                name: [] for name in (columns.url, columns.phash, columns.pdq)
            }
            for key, members in batch:
                sidecar = next((data for info, data in members if info.name.endswith(".json")), None)
                if sidecar is None:
                    names = ", ".join(info.name for info, _ in members)
                    raise ShardError(
                        f"{path}: sample {key!r} has no .json sidecar (its members: {names}); the filter "
                        "cannot tell whether it is removed, so the shard was not written"
                    )
                try:
                    meta = json.loads(sidecar)
                    if not isinstance(meta, dict):
                        raise ValueError("not a JSON object")
                except ValueError as exc:
                    raise ShardError(
                        f"{path}: the sidecar of sample {key!r} is not a JSON object ({exc})"
                    ) from None
                for name in rows:
                    value = meta.get(name)
                    rows[name].append(value if isinstance(value, str) else None)
            table = pa.table({name: pa.array(values, type=pa.string()) for name, values in rows.items()})
            verdict = removed.check(table, **columns.options())
            kept_rows = 0
            for (_, members), keep in zip(batch, verdict.keep, strict=True):
                if keep:
                    kept_rows += 1
                    for info, data in members:
                        out.addfile(info, io.BytesIO(data))
            report = pa.table(
                {
                    "row": [int(i) for i in (~verdict.keep).nonzero()[0]],
                    "reason": [REASONS[r] for r in verdict.reason[~verdict.keep]],
                    "removal": list(verdict.removal[~verdict.keep]),
                    "distance": [int(d) for d in verdict.distance[~verdict.keep]],
                },
                schema=pa.schema(
                    [
                        ("row", pa.int64()),
                        ("reason", pa.string()),
                        ("removal", pa.string()),
                        ("distance", pa.int64()),
                    ]
                ),
            )
            dropped(table, report, offset, keys=[key for key, _ in batch])
            offset += len(batch)
            result.rows += len(batch)
            result.kept += kept_rows
            progress(len(batch))
            batch.clear()

        for sample in _samples(archive, path):
            batch.append(sample)
            if len(batch) >= 4096:
                flush()
        flush()


class Report:
    """The report of dropped rows: CSV when the name ends in .csv, else JSON Lines."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle = open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115 (closed by close())
        self.csv = csv.DictWriter(self.handle, REPORT_FIELDS) if path.suffix.lower() == ".csv" else None
        if self.csv is not None:
            self.csv.writeheader()

    def __call__(self, row: dict[str, Any]) -> None:
        if self.csv is not None:
            self.csv.writerow(row)
        else:
            self.handle.write(json.dumps(row) + "\n")

    def close(self) -> None:
        self.handle.close()
