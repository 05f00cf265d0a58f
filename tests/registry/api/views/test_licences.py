"""Licence grants as maintainers read them: their own feed, lookup's `licences` and `preferences`,
and `optIn` of the v2 protocol; a grant never appears as a removal."""

from __future__ import annotations

from rest_framework.test import APIClient

from registry import services
from registry.preferences import consent_clean
from tests.helpers import assert_error

GRANTED = "https://img.example/granted.jpg"
REMOVED = "https://img.example/removed.jpg"
BOTH = "https://img.example/both.jpg"
CC_BY_SA = consent_clean(choice="licence", licence="cc-by-sa", attribution="Photo: Ada & Co")


def _world(maintainer):
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    services.items_upsert(
        dataset=dataset,
        rows=[{"external_id": str(n), "url": url} for n, url in enumerate([GRANTED, REMOVED, BOTH])],
    )
    items = {item.url: item for item in dataset.items.all()}
    [grant, _both_grant] = services.licence_grants_record(
        source_ref="RR-2026-000001",
        consent=CC_BY_SA,
        entries=[services.RemovalEntry(dataset=dataset, item=items[url]) for url in (GRANTED, BOTH)],
    )
    # Another artist removes a copy the first licensed: the two statements conflict.
    services.removals_record(
        source_ref="RR-2026-000002",
        reason="copyright",
        entries=[services.RemovalEntry(dataset=dataset, item=items[url]) for url in (REMOVED, BOTH)],
        search="allowed",
    )
    return dataset, grant


def test_the_licences_feed_lists_grants_and_the_removals_feed_does_not(api, maintainer):
    _dataset, grant = _world(maintainer)
    page = api.get("/api/v1/datasets/d/licences/").json()
    assert [row["url"] for row in page["results"]] == [GRANTED, BOTH] and page["next"] is None
    row = page["results"][0]
    assert row["id"] == grant.public_id and row["id"].startswith("lg_")
    assert (row["train_ai"], row["search"], row["licence"], row["attribution"]) == (
        "allowed",
        "unknown",
        "cc-by-sa",
        "Photo: Ada & Co",
    )
    assert row["licence_url"] == "https://creativecommons.org/licenses/by-sa/4.0/"
    assert (row["state"], row["revoked_at"], row["request"]) == ("active", None, "RR-2026-000001")
    removals = api.get("/api/v1/datasets/d/removals/").json()["results"]
    assert {r["url"] for r in removals} == {REMOVED, BOTH}
    assert {(r["train_ai"], r["search"]) for r in removals} == {("disallowed", "allowed")}
    # Polled like the removals feed: nothing new after the last poll.
    assert api.get(f"/api/v1/datasets/d/licences/?cursor={page['poll']}").json()["results"] == []
    assert_error(api.get("/api/v1/datasets/d/licences/?cursor=nonsense"), 400, "invalid_cursor")


def test_another_organisation_cannot_read_the_licences_feed(maintainer, other_maintainer):
    _world(maintainer)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {other_maintainer.key}")
    assert_error(client.get("/api/v1/datasets/d/licences/"), 404, "not_found")


def test_lookup_combines_the_statements_and_disallow_wins(api, maintainer):
    _world(maintainer)
    unknown = "https://img.example/nobody.jpg"
    body = api.post("/api/v1/lookup/", {"urls": [GRANTED, REMOVED, BOTH, unknown]}, format="json").json()
    assert body["urls"] == {GRANTED: False, REMOVED: True, BOTH: True, unknown: False}
    assert body["preferences"] == {
        GRANTED: {"train_ai": "allowed", "search": "unknown"},
        REMOVED: {"train_ai": "disallowed", "search": "allowed"},
        BOTH: {"train_ai": "disallowed", "search": "allowed"},
        unknown: {"train_ai": "unknown", "search": "unknown"},
    }
    assert set(body["licences"]) == {GRANTED, BOTH}
    assert body["licences"][GRANTED][0]["licence"] == "cc-by-sa"


def test_the_v2_protocol_answers_opt_in_for_a_licensed_url_only_when_nothing_removes_it(maintainer):
    _world(maintainer)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"API {maintainer.key}")
    answer = client.post(
        "/api/v2/query/urls/", data=f"{GRANTED}\n{REMOVED}\n{BOTH}\n", content_type="text/plain"
    )
    assert answer.json()["urls"] == [
        {"url": GRANTED, "optIn": True, "optOut": False},
        {"url": REMOVED, "optIn": False, "optOut": True},
        {"url": BOTH, "optIn": False, "optOut": True},
    ]


def test_a_revoked_grant_stops_answering_and_reads_revoked_in_the_feed(api, maintainer):
    _dataset, grant = _world(maintainer)
    revoked = services.licence_grants_revoke(
        grants=services.GrantSelection(source_ref="RR-2026-000001", item_ids=[grant.item_id]), why="changed"
    )
    assert revoked == 1
    [row, _both] = api.get("/api/v1/datasets/d/licences/").json()["results"]
    assert (row["state"], row["revoked_reason"]) == ("revoked", "changed") and row["revoked_at"]
    body = api.post("/api/v1/lookup/", {"urls": [GRANTED]}, format="json").json()
    assert body["licences"] == {} and body["preferences"][GRANTED]["train_ai"] == "unknown"
    # Revoking again changes nothing.
    assert (
        services.licence_grants_revoke(
            grants=services.GrantSelection(source_ref="RR-2026-000001", item_ids=[grant.item_id]), why="x"
        )
        == 0
    )
