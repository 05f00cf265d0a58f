"""Filing through the API: rows accepted, rejected by index and field, duplicates that change nothing."""

from __future__ import annotations

from partners.models import Filing, FilingRow, RowState
from tests.helpers import assert_error, partner_row

FILE = "/api/v1/partner/filings/"


def test_a_filing_stores_good_rows_and_lists_bad_ones(partner_api, partner):
    rows = [
        partner_row(0),
        partner_row(1, work_url="https://elsewhere.example/w/1.jpg"),
        partner_row(2, choice="licence"),
        partner_row(3, phash="not-hex"),
        partner_row(4),
    ]
    response = partner_api.post(FILE, {"attestation": True, "rows": rows}, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["id"].startswith("pf_") and body["total"] == 5 and body["state"] == "queued"
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [
        (1, "work_url"),
        (2, "licence"),
        (3, "phash"),
    ]
    assert "not on a domain this partner serves" in body["rejected"][0]["error"]
    assert "Choose a licence: cc0, cc-by, cc-by-sa, custom" in body["rejected"][1]["error"]
    assert "hexadecimal" in body["rejected"][2]["error"]
    assert body["duplicates"] == []
    assert body["counts"]["pending"] == 2 and body["counts"]["rejected"] == 3
    filing = Filing.objects.get(public_id=body["id"])
    assert filing.attestation == partner.partner.attestation_text
    assert list(filing.rows.values_list("index", "state")) == [
        (0, "pending"), (1, "rejected"), (2, "rejected"), (3, "rejected"), (4, "pending"),
    ]  # fmt: skip


def test_the_same_row_twice_changes_nothing(partner_api):
    first = partner_api.post(FILE, {"attestation": True, "rows": [partner_row(0)]}, format="json").json()
    again = partner_api.post(
        FILE, {"attestation": True, "rows": [partner_row(0), partner_row(1), partner_row(1)]}, format="json"
    ).json()
    assert again["duplicates"] == [
        {"index": 0, "filing": first["id"], "row": 0},
        {"index": 2, "filing": again["id"], "row": 1},
    ]
    assert again["counts"]["pending"] == 1 and again["counts"]["duplicate"] == 2
    assert FilingRow.objects.filter(state=RowState.PENDING).count() == 2
    # Upper-case creator ids are the same creator; another hash is another row.
    third = partner_api.post(
        FILE,
        {
            "attestation": True,
            "rows": [partner_row(0, creator={"id": "C0", "profile_url": "https://art.example/u"})],
        },
        format="json",
    ).json()
    assert len(third["duplicates"]) == 1


def test_without_the_attestation_nothing_is_stored(partner_api, partner):
    for body in ({"rows": [partner_row(0)]}, {"attestation": False, "rows": [partner_row(0)]},
                 {"attestation": "yes", "rows": [partner_row(0)]}):  # fmt: skip
        error = assert_error(partner_api.post(FILE, body, format="json"), 400, "attestation_required")
        assert '"attestation": true' in error["message"] and "written instruction" in error["message"]
    assert not Filing.objects.exists()


def test_a_suspended_partner_cannot_file_but_can_read(partner_api, partner):
    from partners.services import partner_suspend

    created = partner_api.post(FILE, {"attestation": True, "rows": [partner_row(0)]}, format="json").json()
    partner_suspend(partner=partner.partner, reason="review")
    error = assert_error(
        partner_api.post(FILE, {"attestation": True, "rows": [partner_row(1)]}, format="json"),
        403,
        "partner_suspended",
    )
    assert "suspended" in error["message"]
    assert Filing.objects.count() == 1
    assert partner_api.get(f"{FILE}{created['id']}/").status_code == 200


def test_detail_list_and_rows_by_state_paginate(partner_api):
    ids = []
    for start in (0, 10):
        rows = [partner_row(i) for i in range(start, start + 10)] + [partner_row(99, basis="fame")]
        ids.append(partner_api.post(FILE, {"attestation": True, "rows": rows}, format="json").json()["id"])
    page = partner_api.get(f"{FILE}?limit=1").json()
    assert [f["id"] for f in page["results"]] == ids[:1] and page["next"]
    assert [f["id"] for f in partner_api.get(f"{FILE}?cursor={page['next']}").json()["results"]] == ids[1:]
    detail = partner_api.get(f"{FILE}{ids[0]}").json()
    assert detail["total"] == 11 and detail["counts"]["pending"] == 10 and detail["counts"]["rejected"] == 1
    rejected = partner_api.get(f"{FILE}{ids[0]}/rows/?state=rejected").json()
    assert [(r["index"], r["field"]) for r in rejected["results"]] == [(10, "basis")]
    assert "'copyright'" in rejected["results"][0]["error"]
    first = partner_api.get(f"{FILE}{ids[0]}/rows/?limit=4").json()
    assert [r["index"] for r in first["results"]] == [0, 1, 2, 3] and first["next"]
    assert_error(partner_api.get(f"{FILE}{ids[0]}/rows/?state=nope"), 400, "invalid_state")
    assert_error(partner_api.get(f"{FILE}pf_missing/"), 404, "not_found")
