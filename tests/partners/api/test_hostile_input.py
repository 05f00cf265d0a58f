"""Hostile bodies and rows: a clear error for the row or the call, never a 500, nothing half-written."""

from __future__ import annotations

import json

import pytest

from partners.models import Filing, FilingRow
from tests.helpers import assert_error, partner_row

FILE = "/api/v1/partner/filings/"


def post_raw(client, body: bytes | str):
    return client.generic("POST", FILE, body, content_type="application/json")


def test_10001_rows_are_refused_whole(partner_api):
    rows = [partner_row(i) for i in range(10_001)]
    error = assert_error(
        partner_api.post(FILE, {"attestation": True, "rows": rows}, format="json"), 413, "too_many_rows"
    )
    assert error["details"] == {"max": 10_000, "received": 10_001}
    assert not Filing.objects.exists() and not FilingRow.objects.exists()


def test_10000_rows_are_taken(partner_api):
    rows = [partner_row(i) for i in range(10_000)]
    response = partner_api.post(FILE, {"attestation": True, "rows": rows}, format="json")
    assert response.status_code == 202 and response.json()["counts"]["pending"] == 10_000


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        "[" * 100 + "]" * 100,
        '{"attestation": true, "rows": [{"phash": ' + "9" * 5000 + "}]}",
        b'{"attestation": true, "rows": "\xff\xfe"}',
    ],
    ids=["syntax", "deep", "huge-number", "invalid-utf8"],
)
def test_bodies_that_are_not_json_are_400(partner_api, body):
    assert_error(post_raw(partner_api, body), 400, "malformed_json")
    assert not Filing.objects.exists()


@pytest.mark.parametrize("body", [[], "rows", {"attestation": True}, {"attestation": True, "rows": {"a": 1}}])
def test_bodies_of_the_wrong_shape_are_400(partner_api, body):
    assert_error(partner_api.post(FILE, body, format="json"), 400, "invalid_request")
    assert not Filing.objects.exists()


BAD_ROWS = [
    (partner_row(0, creator={"id": "a\x00b", "profile_url": "https://art.example/u"}), "creator.id", "NUL"),
    (
        partner_row(0, creator={"id": "a\ud800", "profile_url": "https://art.example/u"}),
        "creator.id",
        "surrogate",
    ),
    (partner_row(0, work_url="ftp://art.example/w.jpg"), "work_url", "not an http(s) URL"),
    (partner_row(0, work_url="javascript:alert(1)"), "work_url", "not an http(s) URL"),
    (partner_row(0, work_url="https://evil.example/art.example/w.jpg"), "work_url", "not on a domain"),
    (partner_row(0, work_url="https://art.example.evil.net/w.jpg"), "work_url", "not on a domain"),
    (partner_row(0, image_url="https://other.example/i.jpg"), "image_url", "not on a domain"),
    (partner_row(0, phash="zz" * 8), "phash", "hexadecimal"),
    (partner_row(0, dhash=12345), "dhash", "hexadecimal"),
    (partner_row(0, pdq="ab" * 31), "pdq", "64 lowercase"),
    (partner_row(0, pdq_quality=10**100), "pdq_quality", "0 to 100"),
    (partner_row(0, basis="x\x00"), "basis", "not accepted"),
    (partner_row(0, choice="sell"), "choice", "'licence'"),
    (partner_row(0, choice="licence"), "licence", "Choose a licence"),
    (partner_row(0, choice="licence", licence="cc-by"), "attribution", "asks for credit"),
    (
        partner_row(0, choice="licence", licence="custom", licence_url="javascript:alert(1)"),
        "licence_url",
        "http:// or https://",
    ),
    (
        partner_row(0, choice="licence", licence="cc0", attribution="<a href=x>me</a>"),
        "attribution",
        "plain text",
    ),
    (partner_row(0, choice="licence", licence="cc0", attribution=["me"]), "attribution", "must be text"),
    (partner_row(0, choice="licence", licence="cc0", attribution="a\x00b"), "attribution", "NUL"),
    (partner_row(0, creator="c0"), "creator", "an object"),
    (
        partner_row(0, creator={"id": "c", "profile_url": "https://art.example/u", "email": "nope"}),
        "creator.email",
        "email",
    ),
    (
        partner_row(0, creator={"id": "c" * 201, "profile_url": "https://art.example/u"}),
        "creator.id",
        "longer",
    ),
    ({"work_url": "https://art.example/w"}, "creator", "required"),
    ([1, 2], "row", "an object"),
    (None, "row", "an object"),
]


@pytest.mark.parametrize(("row", "field", "words"), BAD_ROWS)
def test_a_bad_row_is_rejected_alone_with_its_field(partner_api, row, field, words):
    # json.dumps writes a lone surrogate as \ud800, as a client's JSON would carry it.
    response = post_raw(partner_api, json.dumps({"attestation": True, "rows": [partner_row(5), row]}))
    assert response.status_code == 202, response.content
    body = response.json()
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [(1, field)]
    assert words in body["rejected"][0]["error"]
    assert "\x00" not in body["rejected"][0]["error"]
    assert body["counts"]["pending"] == 1
    stored = FilingRow.objects.get(index=1)
    assert stored.error_field == field and "\x00" not in stored.error


def test_a_nul_in_a_raw_body_is_a_row_error_not_a_500(partner_api):
    row = partner_row(0)
    row["creator"]["id"] = "\u0000"
    body = json.dumps({"attestation": True, "rows": [row]})
    response = post_raw(partner_api, body)
    assert response.status_code == 202 and response.json()["rejected"][0]["field"] == "creator.id"
