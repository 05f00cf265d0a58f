"""Hostile values on every API entry point: NUL, lone surrogates, deep nesting, huge numbers.

API.md: bad input is a 400 (413, 415) with the `{"error": {...}}` body, never a 500, and a bad
items row rejects that row only. Lone surrogates travel as the JSON escape `\\ud800`, which is
how a client can send them at all.
"""

from __future__ import annotations

import base64
import io
import json

import pytest

from registry import services
from registry.models import DatasetItem, ImportStatus, WebhookEndpoint
from tests.helpers import assert_error

DEEP = "[" * 100_000
HUGE_NUMBER = "9" * 5_000
SURROGATE = '"x\\ud800y"'  # the JSON text of a string holding a lone surrogate


JSON_POSTS = [
    "/api/v1/datasets/",
    "/api/v1/datasets/d/items/",
    "/api/v1/datasets/d/removals/ack/",
    "/api/v1/lookup/",
    "/api/v1/webhooks/",
]


def post_json(api, path: str, text: str):
    return api.generic("POST", path, text.encode("utf-8", "surrogatepass"), content_type="application/json")


def encodable(response) -> dict:
    """The body is valid UTF-8 JSON (the renderer could encode it) in the contract's error shape."""
    body = json.loads(response.content.decode("utf-8"))
    assert set(body) == {"error"}
    return body["error"]


@pytest.mark.parametrize("path", JSON_POSTS)
def test_deeply_nested_json_is_a_400_on_every_json_post(api, dataset, path):
    error = assert_error(post_json(api, path, DEEP), 400, "malformed_json")
    assert "nests deeper" in error["message"]


@pytest.mark.parametrize("path", JSON_POSTS)
def test_moderately_deep_json_is_a_400_too(api, dataset, path):
    """Under Python's recursion limit the parser succeeds; the depth limit still stops it."""
    assert_error(post_json(api, path, '{"items": ' + "[" * 500 + "]" * 500 + "}"), 400, "malformed_json")


@pytest.mark.parametrize("path", JSON_POSTS)
def test_a_number_of_5000_digits_is_a_400(api, dataset, path):
    assert_error(
        post_json(api, path, f'{{"items": [{HUGE_NUMBER}], "ids": [{HUGE_NUMBER}]}}'),
        400,
        "malformed_json",
    )


def test_a_lone_surrogate_or_nul_in_a_data_set_is_a_400(api):
    for value in (SURROGATE, '"x\\u0000y"'):
        body = f'{{"slug": "s", "name": {value}, "description": {value}}}'
        error = assert_error(post_json(api, "/api/v1/datasets/", body), 400, "invalid_request")
        assert "name" in error["details"]
    too_long = json.dumps({"slug": "s", "name": "n", "homepage": "https://h.example/" + "a" * 300})
    assert_error(post_json(api, "/api/v1/datasets/", too_long), 400, "invalid_request")


def test_an_items_row_with_nul_or_a_lone_surrogate_is_rejected_alone(api, dataset):
    body = (
        '{"items": ['
        '{"external_id": "ok", "url": "https://i.example/ok.jpg"},'
        '{"external_id": "a\\u0000b", "url": "https://i.example/1.jpg"},'
        '{"external_id": "x\\ud800y", "url": "https://i.example/2.jpg"},'
        '{"external_id": "3", "url": "https://i.example/\\u0000.jpg"},'
        '{"external_id": "4", "url": "https://i.example/\\udfff.jpg"}'
        "]}"
    )
    response = post_json(api, "/api/v1/datasets/d/items/", body)
    assert response.status_code == 200, response.content
    result = response.json()
    assert (result["created"], result["updated"]) == (1, 0)
    assert [r["index"] for r in result["rejected"]] == [1, 2, 3, 4]
    assert "NUL" in result["rejected"][0]["error"] and "surrogate" in result["rejected"][1]["error"]
    assert result["rejected"][2]["error"].startswith("url ") and "surrogate" in result["rejected"][3]["error"]
    assert list(DatasetItem.objects.values_list("external_id", flat=True)) == ["ok"]


def test_an_import_file_reports_rows_with_nul_surrogates_deep_json_and_huge_numbers(dataset):
    ndjson = "\n".join(
        [
            '{"external_id": "ok", "url": "https://i.example/ok.jpg"}',
            '{"external_id": "a\\u0000b", "url": "https://i.example/1.jpg"}',
            '{"external_id": "2", "url": "https://i.example/\\ud800.jpg"}',
            "[" * 100_000,
            f'{{"external_id": {HUGE_NUMBER}, "url": "https://i.example/4.jpg"}}',
            '{"external_id": "ok2", "url": "https://i.example/ok2.jpg"}',
        ]
    ).encode()
    job = services.import_create(dataset=dataset, upload=io.BytesIO(ndjson), name="i.ndjson", enqueue=False)
    job = services.import_run(services.import_claim(job.pk))
    assert job.status == ImportStatus.SUCCEEDED, job.message
    assert [e["line"] for e in job.errors] == [2, 3, 4, 5]
    assert sorted(DatasetItem.objects.values_list("external_id", flat=True)) == ["ok", "ok2"]

    csv = b"external_id,url\nc1,https://i.example/c1.jpg\nc\x002,https://i.example/c2.jpg\n"
    job = services.import_create(dataset=dataset, upload=io.BytesIO(csv), name="i.csv", enqueue=False)
    job = services.import_run(services.import_claim(job.pk))
    assert job.status == ImportStatus.SUCCEEDED, job.message
    assert [e["line"] for e in job.errors] == [3] and "NUL" in job.errors[0]["error"]
    assert DatasetItem.objects.filter(external_id="c1").exists()


def cursor_of(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "path",
    ["/api/v1/datasets/", "/api/v1/webhooks/", "/api/v1/datasets/d/removals/"],
)
@pytest.mark.parametrize(
    "cursor",
    [
        cursor_of('{"after": ' + "[" * 50_000 + "]" * 50_000 + "}"),
        cursor_of("[" * 100_000),
        cursor_of(f'{{"after": {HUGE_NUMBER}}}'),
        cursor_of('{"after": 99999999999999999999}'),
        cursor_of('{"after": true}'),
        "%00",
        "A" * 10_000,
    ],
    ids=["deep-after", "deep", "huge", "over-bigint", "bool", "nul", "long"],
)
def test_a_hostile_cursor_is_a_400_on_every_list(api, dataset, path, cursor):
    assert_error(api.get(f"{path}?cursor={cursor}"), 400, "invalid_cursor")


def test_a_hostile_limit_is_a_400(api, dataset):
    for limit in (HUGE_NUMBER, "%C2%B2", "%00", "-1"):
        assert_error(api.get(f"/api/v1/datasets/?limit={limit}"), 400, "invalid_limit")


@pytest.mark.parametrize("value", ["%00", "a%00b", "%ED%A0%80", "x" * 300, "d/../e"])
def test_export_with_a_hostile_dataset_is_a_400(api, dataset, value):
    assert_error(api.get(f"/api/v1/removals/export/?dataset={value}"), 400, "invalid_dataset")


def test_a_webhook_event_with_a_lone_surrogate_is_a_400_with_an_encodable_body(api):
    body = f'{{"url": "https://h.example/", "events": [{SURROGATE}]}}'
    response = post_json(api, "/api/v1/webhooks/", body)
    assert response.status_code == 400
    error = encodable(response)
    assert error["code"] == "invalid_request"
    assert "\\ud800" in error["message"]  # shown escaped, never as the raw surrogate
    for url in ('"https://h.example/\\u0000"', '"https://h\\ud800.example/"'):
        response = post_json(api, "/api/v1/webhooks/", f'{{"url": {url}, "events": ["removal.approved"]}}')
        assert response.status_code == 400
        assert encodable(response)["code"] == "invalid_request"
    assert WebhookEndpoint.objects.count() == 0


@pytest.mark.parametrize("field", ["urls", "phashes"])
@pytest.mark.parametrize("value", ['"https://i.example/\\u0000"', '"https://i.example/\\ud800"'])
def test_lookup_with_nul_or_a_surrogate_is_a_400(api, field, value):
    response = post_json(api, "/api/v1/lookup/", '{"%s": [%s]}' % (field, value))  # noqa: UP031
    assert response.status_code == 400
    assert encodable(response)["code"] == "invalid_request"


def test_ack_with_nul_or_a_surrogate_is_a_400(api, dataset):
    for value in ('"rm_\\u0000"', SURROGATE):
        response = post_json(api, "/api/v1/datasets/d/removals/ack/", f'{{"ids": [{value}]}}')
        assert response.status_code == 400
        assert encodable(response)["code"] == "invalid_request"


def test_the_v2_query_refuses_a_nul_line_and_bad_utf8(maintainer):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"API {maintainer.key}")
    error = assert_error(
        client.generic(
            "POST", "/api/v2/query/urls/", b"https://a.example/\nhttps://b\x00.example/\n", "text/plain"
        ),
        400,
        "invalid_text",
    )
    assert error["details"] == {"line": 2}
    assert_error(
        client.generic("POST", "/api/v2/query/urls/", b"https://a.example/\xed\xa0\x80\n", "text/plain"),
        400,
        "invalid_encoding",
    )
