"""The served OpenAPI document describes the partner endpoints of docs/api.md."""

from __future__ import annotations

import pytest

CONTRACT = [
    ("/api/v1/partner/filings/", "get"),
    ("/api/v1/partner/filings/", "post"),
    ("/api/v1/partner/filings/{filing_id}/", "get"),
    ("/api/v1/partner/filings/{filing_id}/rows/", "get"),
    ("/api/v1/partner/filings/files/", "post"),
    ("/api/v1/partner/filings/{filing_id}/file/", "get"),
    ("/api/v1/partner/filings/{filing_id}/file/", "patch"),
    ("/api/v1/partner/disputes/", "get"),
    ("/api/v1/partner/disputes/{dispute_id}/answer/", "post"),
]


def component(schema, ref: str) -> dict:
    return schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def body(schema, path: str, method: str, status: str) -> dict:
    content = schema["paths"][path][method]["responses"][status]["content"]
    return component(schema, next(iter(content.values()))["schema"]["$ref"])


@pytest.mark.parametrize(("path", "method"), CONTRACT)
def test_every_partner_path_is_described(partner_schema, path, method):
    assert method in partner_schema["paths"].get(path, {}), f"{method.upper()} {path} missing"


def test_the_filing_bodies_have_the_contract_fields(partner_schema):
    request = partner_schema["paths"]["/api/v1/partner/filings/"]["post"]["requestBody"]["content"][
        "application/json"
    ]
    create = component(partner_schema, request["schema"]["$ref"])
    assert set(create["properties"]) == {"attestation", "rows"}
    row = component(partner_schema, create["properties"]["rows"]["items"]["$ref"])
    assert {"creator", "work_url", "phash", "dhash", "pdq", "image_url", "basis", "choice"} <= set(
        row["properties"]
    )
    created = body(partner_schema, "/api/v1/partner/filings/", "post", "202")
    assert {"id", "state", "total", "counts", "rejected", "duplicates"} <= set(created["properties"])
    rows = body(partner_schema, "/api/v1/partner/filings/{filing_id}/rows/", "get", "200")
    assert set(rows["properties"]) == {"results", "next"}
    for status in ("401", "403"):
        error = body(partner_schema, "/api/v1/partner/filings/", "post", status)
        assert set(error["properties"]) == {"error"}


def test_the_partner_endpoints_take_the_partner_key(partner_schema):
    schemes = partner_schema["components"]["securitySchemes"]
    assert schemes["PartnerKey"]["scheme"] == "bearer" and "rdp_" in schemes["PartnerKey"]["description"]
    operation = partner_schema["paths"]["/api/v1/partner/filings/"]["post"]
    assert operation["security"] == [{"PartnerKey": []}]


def test_every_partner_endpoint_in_docs_api_md_is_served(partner_schema):
    import re

    from tests.helpers import ROOT

    section = (ROOT / "docs" / "api.md").read_text().split("## Partners", 1)[1]
    promised = set(re.findall(r"`(GET|POST|PATCH) (/api/v1/partner/[^`?]*?)(?:\?[^`]*)?`", section))
    assert len(promised) == 9, promised
    for method, path in promised:
        kind = "dispute_id" if "/disputes/" in path else "filing_id"
        path = path.replace("{id}", "{" + kind + "}")
        assert method.lower() in partner_schema["paths"].get(path, {}), f"{method} {path} not served"


def test_the_file_filing_bodies_have_the_contract_fields(partner_schema):
    paths = partner_schema["paths"]
    request = paths["/api/v1/partner/filings/files/"]["post"]["requestBody"]["content"]["application/json"]
    announce = component(partner_schema, request["schema"]["$ref"])
    assert set(announce["properties"]) == {"attestation", "name", "size", "format", "sha256"}
    created = body(partner_schema, "/api/v1/partner/filings/files/", "post", "201")
    assert {"id", "state", "source", "progress", "file", "message"} <= set(created["properties"])
    send = paths["/api/v1/partner/filings/{filing_id}/file/"]["patch"]
    assert set(send["requestBody"]["content"]) == {
        "application/offset+octet-stream",
        "application/octet-stream",
    }
    assert any(p["name"] == "Upload-Offset" and p["in"] == "header" for p in send["parameters"])
    assert {"200", "409", "413", "415", "422"} <= set(send["responses"])
    state = body(partner_schema, "/api/v1/partner/filings/{filing_id}/file/", "get", "200")
    assert set(state["properties"]) == {"offset", "size", "chunk_size", "state", "message"}
    row = component(
        partner_schema,
        body(partner_schema, "/api/v1/partner/filings/{filing_id}/rows/", "get", "200")["properties"][
            "results"
        ]["items"]["$ref"],
    )
    assert "line" in row["properties"]


def test_the_rows_say_when_their_creator_lifted_them(partner_schema):
    """Added with creators' lifts: `lifted_at` on each row, and the `lifted` filter."""
    operation = partner_schema["paths"]["/api/v1/partner/filings/{filing_id}/rows/"]["get"]
    [lifted] = [p for p in operation["parameters"] if p["name"] == "lifted"]
    assert lifted["in"] == "query" and sorted(lifted["schema"]["enum"]) == ["false", "true"]
    row = component(
        partner_schema,
        body(partner_schema, "/api/v1/partner/filings/{filing_id}/rows/", "get", "200")["properties"][
            "results"
        ]["items"]["$ref"],
    )
    assert (
        row["properties"]["lifted_at"]["format"] == "date-time" and row["properties"]["lifted_at"]["nullable"]
    )
    assert "lifted_at" in row["required"]
