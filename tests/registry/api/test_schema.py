"""The OpenAPI document describes the contract of API.md: its paths, methods and fields."""

from __future__ import annotations

import pytest

# (path, method) pairs API.md promises.
CONTRACT = [
    ("/api/v1/datasets/", "get"),
    ("/api/v1/datasets/", "post"),
    ("/api/v1/datasets/{slug}/items/", "post"),
    ("/api/v1/datasets/{slug}/imports/", "post"),
    ("/api/v1/imports/{import_id}/", "get"),
    ("/api/v1/datasets/{slug}/removals/", "get"),
    ("/api/v1/datasets/{slug}/removals/ack/", "post"),
    ("/api/v1/datasets/{slug}/revocations/", "get"),
    ("/api/v1/datasets/{slug}/licences/", "get"),
    ("/api/v1/datasets/{slug}/disputes/", "get"),
    ("/api/v1/datasets/{slug}/disputes/", "post"),
    ("/api/v1/datasets/{slug}/disputes/{dispute_id}/", "get"),
    ("/api/v1/removals/export/", "get"),
    ("/api/v1/licences/export/", "get"),
    ("/api/v1/lookup/", "post"),
    ("/api/v2/query/urls/", "post"),
    ("/api/v1/webhooks/", "get"),
    ("/api/v1/webhooks/", "post"),
    ("/api/v1/webhooks/{webhook_id}/", "delete"),
    ("/api/v1/webhooks/{webhook_id}/rotate-secret/", "post"),
    ("/api/v1/webhooks/{webhook_id}/deliveries/", "get"),
    ("/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver/", "post"),
]
REMOVAL_FIELDS = {
    "id", "dataset", "external_id", "url", "phash", "pdq", "reason", "request",
    "approved_at", "state", "acknowledged_at", "source", "partner", "revoked_at", "revoked_reason",
    "train_ai", "search",
}  # fmt: skip
GRANT_FIELDS = {
    "id", "dataset", "external_id", "url", "phash", "pdq", "request", "train_ai", "search",
    "licence", "licence_url", "attribution", "source", "partner", "granted_at", "state",
    "revoked_at", "revoked_reason",
}  # fmt: skip


def component(schema, ref: str) -> dict:
    return schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]


def body_schema(schema, path: str, method: str, status: str = "200") -> dict:
    content = schema["paths"][path][method]["responses"][status]["content"]
    return component(schema, next(iter(content.values()))["schema"]["$ref"])


@pytest.mark.parametrize(("path", "method"), CONTRACT)
def test_every_path_of_the_contract_is_described(schema, path, method):
    assert method in schema["paths"].get(path, {}), f"{method.upper()} {path} missing from the schema"


def test_the_removal_object_has_exactly_the_contract_fields(schema):
    page = body_schema(schema, "/api/v1/datasets/{slug}/removals/", "get")
    assert set(page["properties"]) == {"results", "next", "poll", "recorded"}
    removal = component(schema, page["properties"]["results"]["items"]["$ref"])
    assert set(removal["properties"]) == REMOVAL_FIELDS
    state = removal["properties"]["state"]
    state = component(schema, state["$ref"]) if "$ref" in state else state
    assert set(state["enum"]) == {"pending", "delivered", "acknowledged", "revoked"}


def test_the_write_bodies_take_the_contract_fields(schema):
    items = schema["paths"]["/api/v1/datasets/{slug}/items/"]["post"]["requestBody"]["content"][
        "application/json"
    ]
    assert "items" in component(schema, items["schema"]["$ref"])["properties"]
    result = body_schema(schema, "/api/v1/datasets/{slug}/items/", "post")
    assert set(result["properties"]) == {"created", "updated", "rejected"}
    ack = body_schema(schema, "/api/v1/datasets/{slug}/removals/ack/", "post")
    assert {"acknowledged", "unknown"} <= set(ack["properties"])
    hook = body_schema(schema, "/api/v1/webhooks/", "post", "201")
    assert {"id", "url", "events", "datasets", "secret"} <= set(hook["properties"])
    imp = body_schema(schema, "/api/v1/datasets/{slug}/imports/", "post", "202")
    assert {"id", "status", "processed", "total", "errors"} <= set(imp["properties"])
    lookup = body_schema(schema, "/api/v1/lookup/", "post")
    assert set(lookup["properties"]) == {
        "urls", "phashes", "domains", "sources", "licences", "preferences", "domain_rules",
    }  # fmt: skip


def enum_of(schema, prop: dict) -> set[str]:
    prop = prop["allOf"][0] if "allOf" in prop else prop
    return set((component(schema, prop["$ref"]) if "$ref" in prop else prop)["enum"])


def test_the_removal_object_speaks_the_preferences_vocabulary(schema):
    page = body_schema(schema, "/api/v1/datasets/{slug}/removals/", "get")
    removal = component(schema, page["properties"]["results"]["items"]["$ref"])
    # A removal keeps meaning "disallowed for training": a licence is never one.
    assert enum_of(schema, removal["properties"]["train_ai"]) == {"disallowed"}
    assert enum_of(schema, removal["properties"]["search"]) == {"allowed", "unknown"}


def test_the_licence_grant_object_has_exactly_the_contract_fields(schema):
    page = body_schema(schema, "/api/v1/datasets/{slug}/licences/", "get")
    assert set(page["properties"]) == {"results", "next", "poll"}
    grant = component(schema, page["properties"]["results"]["items"]["$ref"])
    assert set(grant["properties"]) == GRANT_FIELDS
    assert enum_of(schema, grant["properties"]["train_ai"]) == {"allowed"}
    assert enum_of(schema, grant["properties"]["licence"]) == {"cc0", "cc-by", "cc-by-sa", "custom"}


DOMAIN_RULE_FIELDS = {
    "scope", "choice", "train_ai", "search", "licence", "licence_url", "attribution", "request",
    "source", "partner", "approved_at",
}  # fmt: skip


def test_the_lookup_names_each_domain_rule_with_its_choice(schema):
    lookup = body_schema(schema, "/api/v1/lookup/", "post")
    rules = lookup["properties"]["domain_rules"]["additionalProperties"]
    rule = component(schema, rules["items"]["$ref"])
    assert set(rule["properties"]) == DOMAIN_RULE_FIELDS
    assert enum_of(schema, rule["properties"]["choice"]) == {"remove", "search_only", "licence"}
    assert enum_of(schema, rule["properties"]["train_ai"]) == {"allowed", "disallowed"}


def test_the_domain_rule_of_docs_api_md_is_the_served_one(schema):
    import re

    from tests.helpers import ROOT

    text = (ROOT / "docs" / "api.md").read_text()
    block = text.split('"domain_rules": {"<url>": [<domain rule>', 1)[1].split("```", 2)[1]
    assert set(re.findall(r'"([a-z_]+)":', block)) == DOMAIN_RULE_FIELDS


DISPUTE_FIELDS = {
    "id", "dataset", "removal", "reason", "statement", "links", "state", "outcome", "filed_at",
    "response_due_at", "answered", "decided_at", "decision_reason",
}  # fmt: skip


def test_the_dispute_object_has_exactly_the_contract_fields(schema):
    page = body_schema(schema, "/api/v1/datasets/{slug}/disputes/", "get")
    assert set(page["properties"]) == {"results", "next"}
    dispute = component(schema, page["properties"]["results"]["items"]["$ref"])
    assert set(dispute["properties"]) == DISPUTE_FIELDS
    assert enum_of(schema, dispute["properties"]["state"]) == {"open", "answered", "due", "upheld", "revoked"}
    assert enum_of(schema, dispute["properties"]["reason"]) == {
        "own_work", "not_a_copy", "licensed", "public_domain", "other",
    }  # fmt: skip
    created = body_schema(schema, "/api/v1/datasets/{slug}/disputes/", "post", "201")
    assert set(created["properties"]) == DISPUTE_FIELDS
    write = schema["paths"]["/api/v1/datasets/{slug}/disputes/"]["post"]["requestBody"]["content"]
    asked = component(schema, write["application/json"]["schema"]["$ref"])
    assert set(asked["properties"]) == {"removal", "reason", "statement", "links"}


def test_every_dispute_endpoint_in_docs_api_md_is_served(schema):
    import re

    from tests.helpers import ROOT

    section = (ROOT / "docs" / "api.md").read_text().split("### Disputes", 1)[1].split("\n## ", 1)[0]
    promised = set(re.findall(r"`(GET|POST) (/api/v1/[^`?]*?)(?:\?[^`]*)?`", section))
    assert len(promised) == 3, promised
    for method, path in promised:
        assert method.lower() in schema["paths"].get(path, {}), f"{method} {path} not served"


def test_errors_are_described_with_the_contract_body(schema):
    error = body_schema(schema, "/api/v1/datasets/", "get", "401")
    assert set(error["properties"]) == {"error"}
    detail = component(schema, error["properties"]["error"]["$ref"])
    assert set(detail["properties"]) == {"code", "message", "details"}


def test_the_key_scheme_is_bearer(schema):
    schemes = schema["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())


def test_the_docs_page_is_served_with_its_own_files(client, db):
    """/api/v1/docs/ renders from our static files (no CDN), and the guide opens the document."""
    page = client.get("/api/v1/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/redoc/" in page and "cdn." not in page
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    guide = schema["info"]["description"]
    assert "Getting started" in guide and "webhook-signature" in guide and "Webhook(SECRET).verify" in guide


def test_the_docs_page_names_no_other_origin_and_forbids_them(client, db):
    """Redoc loads no web fonts or CDN files: the HTML names only our origin, and the page's
    CSP lets the browser fetch nothing from anywhere else (its bundle's Redocly logo included)."""
    import re

    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    assert re.findall(r"(?:src|href)=[\"'](?:https?:)?//", page) == []
    assert "googleapis" not in page and "gstatic" not in page and "redoc.ly" not in page
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";") if part.strip()
    )
    assert policy["default-src"] == "'none'" and policy["script-src"] == "'self'"
    for directive in ("style-src", "img-src", "font-src", "connect-src", "worker-src"):
        assert "http" not in policy[directive] and "*" not in policy[directive], directive
    bundle = re.search(r'src="([^"]+redoc\.standalone\.js)"', page)
    assert bundle and client.get(bundle.group(1)).status_code == 200


def test_it_serves_the_openapi_document_and_its_docs(client, db):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/api/v1/datasets/",
        "/api/v1/datasets/{slug}/items/",
        "/api/v1/datasets/{slug}/removals/",
        "/api/v1/datasets/{slug}/removals/ack/",
        "/api/v1/webhooks/",
        "/api/v1/webhooks/{webhook_id}/",
    ):
        assert path in paths, (path, sorted(paths))
    assert client.get("/api/v1/docs/").status_code == 200


# Enum names drf-spectacular derived from hashes when the fields first collided, served since:
# pinned in settings, they stay, and generating the document warns of nothing.
SERVED_ENUM_NAMES = {
    ("Removal", "reason"): "ReasonC2bEnum",
    ("Removal", "source"): "Source76cEnum",
    ("Removal", "search"): "Search994Enum",
    ("FilingRow", "basis"): "BasisEnum",
    ("FilingRow", "choice"): "ChoiceEnum",
    ("ChoiceChange", "new"): "ChoiceEnum",
    ("Preferences", "train_ai"): "TrainAi7cfEnum",
    ("Preferences", "search"): "Search7cfEnum",
    ("Filing", "state"): "StateC81Enum",
    ("Filing", "source"): "Source4fbEnum",
    ("Dispute", "reason"): "Reason7f0Enum",
}


def test_it_generates_the_document_without_a_warning(db, capsys):
    from django.core.management import call_command

    call_command("spectacular", "--fail-on-warn", "--file", "/dev/null")
    printed = capsys.readouterr()
    assert "Warning" not in printed.err + printed.out, printed.err


def test_the_enums_keep_the_names_they_were_served_under(schema):
    schemas = schema["components"]["schemas"]
    for (name, field), enum in SERVED_ENUM_NAMES.items():
        prop = schemas[name]["properties"][field]
        ref = prop["$ref"] if "$ref" in prop else prop["allOf"][0]["$ref"]  # allOf: with a description
        assert ref == f"#/components/schemas/{enum}", (name, field, ref)
    assert schemas["TrainAi7cfEnum"]["enum"] == schemas["Search7cfEnum"]["enum"]
    assert schemas["ReasonC2bEnum"]["enum"] == schemas["BasisEnum"]["enum"]
