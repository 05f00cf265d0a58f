"""registry.api.export: the writers stream every removal of a queryset in chunks, in the columns
of the contract."""

from __future__ import annotations

import csv
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq

from registry.api import export
from registry.models import Removal
from registry.serialize import removal_to_dict
from tests.helpers import record_removals


def _all() -> list[Removal]:
    return list(Removal.objects.order_by("pk"))


def test_jsonl_writes_one_removal_object_per_line_in_chunks(dataset, monkeypatch):
    monkeypatch.setattr(export, "CHUNK", 2)
    record_removals(dataset, 5)
    chunks = list(export.jsonl(Removal.objects.order_by("pk")))
    assert [chunk.count(b"\n") for chunk in chunks] == [2, 2, 1]
    lines = b"".join(chunks).decode().splitlines()
    assert [json.loads(line) for line in lines] == [removal_to_dict(r) for r in _all()]


def test_jsonl_of_nothing_is_nothing(db):
    assert list(export.jsonl(Removal.objects.none())) == []


def test_csv_has_the_header_row_and_empty_cells_for_nulls(dataset, monkeypatch):
    monkeypatch.setattr(export, "CHUNK", 2)
    record_removals(dataset, 3)
    chunks = list(export.csv_stream(Removal.objects.order_by("pk")))
    assert len(chunks) == 2  # two rows and the header, then the last row
    text = b"".join(chunks).decode()
    assert text.splitlines()[0] == ",".join(export.COLUMNS)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["id"] for r in rows] == [r.public_id for r in _all()]
    assert rows[0]["phash"] == "" and rows[0]["acknowledged_at"] == "" and rows[0]["dataset"] == "d"


def test_csv_of_nothing_is_the_header_alone(db):
    assert b"".join(export.csv_stream(Removal.objects.none())).decode() == ",".join(export.COLUMNS) + "\n"


def test_parquet_is_one_readable_file_with_timestamps_in_utc(dataset):
    record_removals(dataset, 3)
    table = pq.read_table(io.BytesIO(b"".join(export.parquet(Removal.objects.order_by("pk")))))
    assert table.column_names == export.COLUMNS
    assert table.schema.field("approved_at").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("id").type == pa.string()
    removals = _all()
    assert table.column("id").to_pylist() == [r.public_id for r in removals]
    assert table.column("approved_at").to_pylist() == [r.approved_at for r in removals]
    assert table.column("acknowledged_at").to_pylist() == [None, None, None]


def test_every_format_has_a_writer_and_a_content_type():
    assert set(export.WRITERS) == set(export.CONTENT_TYPES) == {"jsonl", "csv", "parquet"}
