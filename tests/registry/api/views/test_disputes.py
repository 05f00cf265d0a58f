"""/api/v1/datasets/{slug}/disputes/: a maintainer disputes its own data set's removals and follows
them; everything else (another organisation's, pending, revoked, twice, hostile text) is a clear
error with nothing stored."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from registry import services
from registry.models import Dispute
from tests.helpers import assert_error, published_removals, record_removals

STATEMENT = "The item is a different photograph of the same bridge, taken by our own staff."


@pytest.fixture
def removals(maintainer):
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    return published_removals(dataset, 2)


def body(of, **overrides):
    return {"removal": of.public_id, "reason": "not_a_copy", "statement": STATEMENT, **overrides}


def test_it_files_lists_and_shows_a_dispute(api, removals):
    created = api.post(
        "/api/v1/datasets/d/disputes/", body(removals[0], links=["https://x.example/a"]), format="json"
    )
    assert created.status_code == 201, created.content
    dispute = created.json()
    assert dispute["id"].startswith("dp_") and dispute["removal"] == removals[0].public_id
    assert (dispute["state"], dispute["outcome"], dispute["answered"]) == ("open", None, False)
    assert dispute["response_due_at"] and dispute["links"] == ["https://x.example/a"]
    listed = api.get("/api/v1/datasets/d/disputes").json()
    assert [d["id"] for d in listed["results"]] == [dispute["id"]] and listed["next"] is None
    shown = api.get(f"/api/v1/datasets/d/disputes/{dispute['id']}/").json()
    assert shown == dispute


def test_the_answer_is_told_but_not_shown(api, removals):
    dispute_id = api.post("/api/v1/datasets/d/disputes/", body(removals[0]), format="json").json()["id"]
    services.dispute_answer(
        dispute=Dispute.objects.get(public_id=dispute_id),
        body="The artist's secret answer: see my private portfolio.",
        links=["https://private.example/portfolio"],
        actor=None,
    )
    shown = api.get(f"/api/v1/datasets/d/disputes/{dispute_id}").json()
    assert shown["state"] == "answered" and shown["answered"] is True
    assert "secret" not in str(shown) and "private.example" not in str(shown)


def test_another_organisations_data_set_or_dispute_is_not_there(other_maintainer, api, removals):
    other = other_maintainer.client()
    response = other.post("/api/v1/datasets/d/disputes/", body(removals[0]), format="json")
    assert_error(response, 404, "not_found")
    services.dataset_create(maintainer=other_maintainer.maintainer, slug="mine", name="Mine")
    response = other.post("/api/v1/datasets/mine/disputes/", body(removals[0]), format="json")
    assert_error(response, 400, "unknown_removal")
    dispute_id = api.post("/api/v1/datasets/d/disputes/", body(removals[0]), format="json").json()["id"]
    assert_error(other.get(f"/api/v1/datasets/mine/disputes/{dispute_id}/"), 404, "not_found")
    assert other.get("/api/v1/datasets/mine/disputes/").json()["results"] == []
    assert Dispute.objects.count() == 1


def test_a_pending_revoked_or_unknown_removal_is_refused(api, maintainer, removals):
    dataset = removals[0].dataset
    [pending] = record_removals(dataset, 1, ref="RR-2026-000005")
    error = assert_error(
        api.post("/api/v1/datasets/d/disputes/", body(pending), format="json"), 409, "removal_not_disputable"
    )
    assert error["details"]["state"] == "pending"
    services.removals_revoke(
        removals=services.RemovalQuery.of_ids([removals[1].pk]), why="Lifted by the artist."
    )
    error = assert_error(
        api.post("/api/v1/datasets/d/disputes/", body(removals[1]), format="json"),
        409,
        "removal_not_disputable",
    )
    assert error["details"]["state"] == "revoked"
    unknown = {**body(removals[0]), "removal": "rm_nothere"}
    assert_error(api.post("/api/v1/datasets/d/disputes/", unknown, format="json"), 400, "unknown_removal")
    by_url = {**body(removals[0]), "removal": removals[0].url[:40]}
    assert_error(api.post("/api/v1/datasets/d/disputes/", by_url, format="json"), 400, "unknown_removal")
    assert not Dispute.objects.exists()


def test_a_second_dispute_of_the_same_removal_is_refused(api, removals):
    first = api.post("/api/v1/datasets/d/disputes/", body(removals[0]), format="json").json()
    error = assert_error(
        api.post("/api/v1/datasets/d/disputes/", body(removals[0], reason="licensed"), format="json"),
        409,
        "dispute_exists",
    )
    assert error["details"] == {"dispute": first["id"]}
    assert Dispute.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"statement": "short"}, "invalid_statement", "statement"),
        ({"statement": "NUL \x00 in the statement, which is long enough"}, "invalid_request", "statement"),
        ({"statement": "x" * 5001}, "invalid_request", "statement"),
        (
            {"statement": "<img src=x onerror=alert(1)> is not a copy of anything"},
            "invalid_statement",
            "markup",
        ),
        ({"reason": "because"}, "invalid_request", "reason"),
        ({"links": ["javascript:alert(1)"]}, "invalid_links", "http"),
        ({"links": "https://x.example"}, "invalid_request", "links"),
        ({"links": [f"https://x.example/{i}" for i in range(11)]}, "invalid_request", "links"),
        ({"removal": None}, "invalid_request", "removal"),
        ({"removal": "rm_" + "a" * 60}, "invalid_request", "removal"),
    ],
)
def test_hostile_bodies_are_400_with_nothing_stored(api, removals, overrides, code, field):
    response = api.post("/api/v1/datasets/d/disputes/", body(removals[0], **overrides), format="json")
    error = assert_error(response, 400, code)
    assert field in error["message"], error
    assert not Dispute.objects.exists()


@pytest.mark.parametrize("field", ["statement", "reason", "removal"])
def test_a_lone_surrogate_is_400_and_never_echoed_raw(api, removals, field):
    import json

    fields = {**body(removals[0]), field: "PLACEHOLDER"}
    raw = json.dumps(fields).replace('"PLACEHOLDER"', '"a lone surrogate \\ud800 in a text long enough"')
    response = api.generic(
        "POST", "/api/v1/datasets/d/disputes/", raw.encode(), content_type="application/json"
    )
    error = assert_error(response, 400, "invalid_request")
    assert field in error["message"] and not Dispute.objects.exists()


def test_a_body_that_is_not_json_is_malformed(api, removals):
    response = api.generic(
        "POST", "/api/v1/datasets/d/disputes/", b'{"removal": ', content_type="application/json"
    )
    assert_error(response, 400, "malformed_json")


def test_without_a_key_it_is_401(removals):
    assert_error(APIClient().get("/api/v1/datasets/d/disputes/"), 401, "unauthorized")
