"""Lookup, export, the v2 compatibility protocol, secret rotation, deliveries, rate limits."""

from __future__ import annotations

import csv
import io
import json

import pyarrow.parquet as pq
from rest_framework.test import APIClient
from standardwebhooks.webhooks import Webhook

from registry import services
from registry.api.throttling import ApiKeyRateThrottle
from registry.models import WebhookDelivery
from tests.helpers import assert_error, record_removals

PHASH = "b15fe6465121175e"


def removal_with_hash(maintainer, slug="d"):
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug=slug, name=slug)
    services.items_upsert(
        dataset=dataset, rows=[{"external_id": "1", "url": "https://img.example/cat.jpg", "phash": PHASH}]
    )
    return services.removals_record(
        source_ref="RR-2026-000001",
        reason="copyright",
        entries=[services.RemovalEntry(dataset=dataset, item=dataset.items.get())],
    )[0]


def test_lookup_answers_urls_and_hashes_within_the_radius(api, maintainer, other_maintainer):
    removal = removal_with_hash(other_maintainer)  # the registry is shared: any key may look up
    near = f"{int(PHASH, 16) ^ 0b111:016x}"  # 3 bits away
    far = f"{int(PHASH, 16) ^ 0xFFFF:016x}"  # 16 bits away
    body = api.post(
        "/api/v1/lookup/",
        {"urls": ["https://img.example/cat.jpg", "https://img.example/dog.jpg"], "phashes": [near, far]},
        format="json",
    ).json()
    assert body["urls"] == {"https://img.example/cat.jpg": True, "https://img.example/dog.jpg": False}
    assert body["phashes"] == {near: [removal.public_id], far: []}


def test_lookup_explains_bad_hashes_and_oversized_batches(api):
    error = assert_error(api.post("/api/v1/lookup", {"phashes": ["zz"]}, format="json"), 400, "invalid_hash")
    assert "phashes[0]" in error["message"]
    urls = [f"https://i.example/{i}" for i in range(9_999)]
    assert_error(
        api.post("/api/v1/lookup/", {"urls": urls, "phashes": [PHASH, PHASH]}, format="json"),
        413,
        "too_many_entries",
    )


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


def test_the_compat_protocol_answers_in_request_order(maintainer):
    removal_with_hash(maintainer)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"API {maintainer.key}")
    response = client.post(
        "/api/v2/query/urls/",
        data="https://img.example/dog.jpg\n\nhttps://img.example/cat.jpg\n",
        content_type="text/plain",
    )
    assert response.status_code == 200
    # One answer per line, the empty one included: clients read the answers by position.
    assert response.json() == {
        "urls": [
            {"url": "https://img.example/dog.jpg", "optIn": False, "optOut": False},
            {"url": "", "optIn": False, "optOut": False},
            {"url": "https://img.example/cat.jpg", "optIn": False, "optOut": True},
        ]
    }
    client.credentials(HTTP_AUTHORIZATION="API wrong")
    assert_error(client.post("/api/v2/query/urls", data="x", content_type="text/plain"), 401, "unauthorized")


def test_rotation_signs_with_both_secrets(maintainer, receiver):
    api = maintainer.client()
    created = api.post(
        "/api/v1/webhooks/", {"url": receiver.url, "events": ["removal.approved"]}, format="json"
    ).json()
    rotated = api.post(f"/api/v1/webhooks/{created['id']}/rotate-secret/").json()["secret"]
    assert rotated.startswith("whsec_") and rotated != created["secret"]
    removal_with_hash(maintainer)
    row = WebhookDelivery.objects.get()
    assert services.delivery_attempt(row.pk) == "succeeded"
    [got] = receiver.received
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    Webhook(created["secret"]).verify(got.body, got.headers)
    Webhook(rotated).verify(got.body, got.headers)


def test_deliveries_are_listed_and_redelivered_with_the_same_id(maintainer, receiver):
    api = maintainer.client()
    created = api.post(
        "/api/v1/webhooks/", {"url": receiver.url, "events": ["removal.approved"]}, format="json"
    ).json()
    removal_with_hash(maintainer)
    row = WebhookDelivery.objects.get()
    services.delivery_attempt(row.pk)
    [listed] = api.get(f"/api/v1/webhooks/{created['id']}/deliveries/").json()["results"]
    assert listed["state"] == "succeeded" and listed["event_id"] == row.event.public_id
    response = api.post(f"/api/v1/webhooks/{created['id']}/deliveries/{listed['id']}/redeliver")
    assert response.status_code == 202
    assert services.delivery_attempt(row.pk) == "succeeded"
    assert [r.headers["webhook-id"] for r in receiver.received] == [row.event.public_id] * 2
    assert_error(
        api.post(f"/api/v1/webhooks/{created['id']}/deliveries/dl_nope/redeliver/"), 404, "not_found"
    )


def test_rate_limits_answer_429_with_retry_after(api, monkeypatch):
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"maintainer": "3/min"})
    for _ in range(3):
        assert api.get("/api/v1/datasets/").status_code == 200
    response = api.get("/api/v1/datasets/")
    error = assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) >= 1 and error["details"]["retry_after"] >= 1


def query(client):
    return client.post("/api/v2/query/urls/", data="x", content_type="text/plain")


def test_the_compat_protocol_names_its_own_scheme_to_a_bearer_key(maintainer):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {maintainer.key}")
    error = assert_error(
        client.post("/api/v2/query/urls/", data="x", content_type="text/plain"), 401, "unauthorized"
    )
    assert "Authorization: API <key>" in error["message"] and "not valid" not in error["message"]
    error = assert_error(
        APIClient().post("/api/v2/query/urls/", data="x", content_type="text/plain"), 401, "unauthorized"
    )
    assert "Authorization: API <key>" in error["message"]
    client.credentials(HTTP_AUTHORIZATION="API rdk_nope")
    error = assert_error(
        client.post("/api/v2/query/urls/", data="x", content_type="text/plain"), 401, "unauthorized"
    )
    assert "not valid or was revoked" in error["message"]


def test_the_compat_protocol_asks_for_text_plain_when_sent_json(maintainer):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"API {maintainer.key}")
    response = client.post("/api/v2/query/urls/", {"urls": ["https://a.example/"]}, format="json")
    error = assert_error(response, 415, "unsupported_media_type")
    assert "text/plain" in error["message"] and "application/json" not in error["message"]


def test_the_compat_protocol_without_content_type_answers_every_line_in_order(maintainer):
    removal_with_hash(maintainer)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"API {maintainer.key}")
    body = b"https://img.example/cat.jpg\n\n  \nhttps://img.example/dog.jpg\r\nhttps://img.example/cat.jpg"
    response = client.generic("POST", "/api/v2/query/urls/", body, content_type="")
    assert response.status_code == 200, response.content
    assert [(u["url"], u["optOut"]) for u in response.json()["urls"]] == [
        ("https://img.example/cat.jpg", True),
        ("", False),
        ("", False),
        ("https://img.example/dog.jpg", False),
        ("https://img.example/cat.jpg", True),
    ]


def test_the_v1_api_says_json_when_sent_something_else(api):
    error = assert_error(
        api.post("/api/v1/lookup/", data="urls=x", content_type="text/plain"), 415, "unsupported_media_type"
    )
    assert "application/json" in error["message"]
