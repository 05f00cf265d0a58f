"""/removals/export/: the caller's removals streamed as jsonl, csv or parquet."""

from __future__ import annotations

import csv
import io
import json

import pyarrow.parquet as pq

from registry import services
from tests.helpers import assert_error, record_removals, removal_with_hash


def test_export_streams_jsonl_csv_and_parquet_of_own_removals_only(api, maintainer, other_maintainer):
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="mine", name="Mine")
    mine = record_removals(dataset, 3)
    removal_with_hash(other_maintainer, slug="theirs")

    response = api.get("/api/v1/removals/export/?format=jsonl")
    assert response.streaming and response["Content-Type"] == "application/x-ndjson"
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [r.public_id for r in mine]

    response = api.get("/api/v1/removals/export?format=csv&dataset=mine")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["id"] for r in rows] == [r.public_id for r in mine] and rows[0]["dataset"] == "mine"

    response = api.get("/api/v1/removals/export/?format=parquet")
    table = pq.read_table(io.BytesIO(b"".join(response.streaming_content)))
    assert table.column("id").to_pylist() == [r.public_id for r in mine]

    assert_error(api.get("/api/v1/removals/export/?format=xml"), 400, "invalid_format")
    assert_error(api.get("/api/v1/removals/export/?dataset=theirs"), 404, "not_found")


def test_every_export_format_names_the_source_and_partner(api, maintainer):
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="mine", name="Mine")
    [artist] = record_removals(dataset, 1)
    services.items_upsert(dataset=dataset, rows=[{"external_id": "p", "url": "https://i.example/p.jpg"}])
    [partner] = services.removals_record(
        source_ref="PF-000001",
        reason="copyright",
        entries=[services.RemovalEntry(dataset=dataset, item=dataset.items.get(external_id="p"))],
        source="partner",
        partner="Stock « Agency »",
    )
    expected = [("artist", ""), ("partner", "Stock « Agency »")]

    lines = b"".join(api.get("/api/v1/removals/export/?format=jsonl").streaming_content).decode().splitlines()
    assert [(json.loads(line)["source"], json.loads(line)["partner"]) for line in lines] == expected
    text = b"".join(api.get("/api/v1/removals/export/?format=csv").streaming_content).decode()
    assert text.splitlines()[0].endswith(",source,partner,revoked_at,revoked_reason,train_ai,search")
    assert [(r["source"], r["partner"]) for r in csv.DictReader(io.StringIO(text))] == expected
    table = pq.read_table(
        io.BytesIO(b"".join(api.get("/api/v1/removals/export/?format=parquet").streaming_content))
    )
    assert (
        list(zip(table.column("source").to_pylist(), table.column("partner").to_pylist(), strict=True))
        == expected
    )
    assert table.column("id").to_pylist() == [artist.public_id, partner.public_id]
