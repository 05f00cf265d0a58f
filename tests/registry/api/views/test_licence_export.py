"""/licences/export/: the caller's licence grants streamed as jsonl, csv or parquet, a file of its
own beside the removals export (which keeps holding removals only)."""

from __future__ import annotations

import csv
import io
import json

import pyarrow.parquet as pq
from rest_framework.test import APIClient

from registry import services
from registry.api.export import LICENCE_COLUMNS
from registry.preferences import consent_clean
from tests.helpers import assert_error, record_removals

WHY = "The artist changed their choice for this work."


def _granted(maintainer, slug: str, count: int) -> list:
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug=slug, name=slug)
    services.items_upsert(
        dataset=dataset,
        rows=[
            {"external_id": f"{slug}{i}", "url": f"https://i.example/{slug}/{i}.jpg"} for i in range(count)
        ],
    )
    consent = consent_clean(
        choice="licence", licence="cc-by-sa", attribution="Drawn by « Zoé »,\nhttps://z.example"
    )
    return services.licence_grants_record(
        source_ref="RR-2026-000009",
        consent=consent,
        entries=[services.RemovalEntry(dataset=dataset, item=item) for item in dataset.items.order_by("pk")],
    )


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_it_streams_the_callers_grants_in_every_format_revoked_ones_in_place(
    api, maintainer, other_maintainer
):
    mine = _granted(maintainer, "mine", 3)
    _granted(other_maintainer, "theirs", 2)
    services.licence_grants_revoke(
        grants=services.GrantSelection(source_ref="RR-2026-000009", item_ids=[mine[1].item_id]), why=WHY
    )
    ids = [g.public_id for g in mine]

    response = api.get("/api/v1/licences/export/?format=jsonl")
    assert response.streaming and response["Content-Type"] == "application/x-ndjson"
    assert 'filename="licences-all.jsonl"' in response["Content-Disposition"]
    lines = [json.loads(line) for line in _body(response).decode().splitlines()]
    assert [g["id"] for g in lines] == ids
    assert set(lines[0]) == set(LICENCE_COLUMNS)
    assert [g["state"] for g in lines] == ["active", "revoked", "active"]
    assert (lines[1]["revoked_reason"], lines[0]["licence"], lines[0]["train_ai"]) == (
        WHY,
        "cc-by-sa",
        "allowed",
    )
    assert lines[0]["attribution"] == "Drawn by « Zoé »,\nhttps://z.example"

    text = _body(api.get("/api/v1/licences/export?format=csv&dataset=mine")).decode()
    assert text.splitlines()[0] == ",".join(LICENCE_COLUMNS)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["id"] for r in rows] == ids and rows[0]["attribution"] == "Drawn by « Zoé »,\nhttps://z.example"
    assert (rows[0]["revoked_at"], rows[0]["licence_url"]) == (
        "",
        "https://creativecommons.org/licenses/by-sa/4.0/",
    )

    table = pq.read_table(io.BytesIO(_body(api.get("/api/v1/licences/export/?format=parquet"))))
    assert table.column_names == LICENCE_COLUMNS
    assert table.column("id").to_pylist() == ids
    assert str(table.schema.field("granted_at").type) == "timestamp[us, tz=UTC]"
    assert table.column("revoked_at").to_pylist()[0] is None and table.column("revoked_at").to_pylist()[1]


def test_the_removals_export_holds_no_grant_and_keeps_its_columns(api, maintainer):
    _granted(maintainer, "mine", 2)
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="other", name="Other")
    removed = record_removals(dataset, 1)
    lines = _body(api.get("/api/v1/removals/export/?format=jsonl")).decode().splitlines()
    assert [json.loads(line)["id"] for line in lines] == [r.public_id for r in removed]
    header = _body(api.get("/api/v1/removals/export/?format=csv")).decode().splitlines()[0]
    assert header.endswith(",source,partner,revoked_at,revoked_reason,train_ai,search")


def test_bad_requests_are_refused_with_the_removals_exports_errors(api, maintainer, other_maintainer):
    _granted(other_maintainer, "theirs", 1)
    assert_error(api.get("/api/v1/licences/export/?format=xml"), 400, "invalid_format")
    assert_error(api.get("/api/v1/licences/export/?dataset=theirs"), 404, "not_found")
    assert_error(api.get("/api/v1/licences/export/?dataset=<script>"), 400, "invalid_dataset")
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION="Bearer rdk_nope")
    assert_error(stranger.get("/api/v1/licences/export/"), 401, "unauthorized")
    assert _body(api.get("/api/v1/licences/export/?format=csv")).decode() == ",".join(LICENCE_COLUMNS) + "\n"
