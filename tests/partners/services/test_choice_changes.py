"""A partner files a row it filed before (the same creator, work and hashes) with another choice:
a change of choice, not a duplicate. The earlier row's statement is revoked and the new one
recorded, events in that order; the identical row sent again still changes nothing."""

from __future__ import annotations

import pytest

from partners import services
from partners.models import Filing, FilingRow, PartnerAction, PartnerActionKind, PartnerKey, RowState
from registry.models import GrantState, LicenceGrant, Removal, RemovalState, WebhookEvent
from tests.helpers import partner_row

CC_BY = {"choice": "licence", "licence": "cc-by", "attribution": "Photo: C. Creator"}


def _file(partner, rows):
    key = PartnerKey.objects.get(partner=partner.partner)
    result = services.filing_create(key=key, rows=rows, attestation=True)
    services.filing_run(services.filing_claim(result.filing.pk))
    return result


def _events() -> list[str]:
    return list(WebhookEvent.objects.order_by("pk").values_list("event_type", flat=True))


@pytest.fixture
def removed(partner, partner_dataset, auto_policy):
    first = _file(partner, [partner_row(0)])
    assert Removal.objects.get().state == RemovalState.PENDING
    return first.filing


def test_a_licence_for_a_work_filed_as_a_removal_changes_the_choice(removed, partner):
    before = len(_events())
    second = _file(partner, [partner_row(0, **CC_BY)])
    assert second.duplicates == []
    assert second.changes == [
        {
            "index": 0,
            "filing": removed.public_id,
            "row": 0,
            "old": "remove",
            "new": "licence",
            "applied": False,  # at filing: applied when the row is decided (the run below)
        }
    ]
    assert Removal.objects.get().state == RemovalState.REVOKED
    grant = LicenceGrant.objects.get()
    assert (grant.source_ref, grant.licence, grant.attribution, grant.state) == (
        removed.public_id,
        "cc-by",
        "Photo: C. Creator",
        GrantState.ACTIVE,
    )
    assert _events()[before:] == ["removal.revoked", "licence.granted"]
    earlier = FilingRow.objects.get(filing=removed, index=0)
    assert earlier.choice == "licence" and earlier.licence_terms.attribution == "Photo: C. Creator"
    echo = FilingRow.objects.get(filing=second.filing)
    assert echo.state == RowState.DUPLICATE and "changes the choice" in echo.error
    audit = PartnerAction.objects.get(kind=PartnerActionKind.ROW_CHOICE_CHANGED)
    assert (audit.actor, audit.detail["old"], audit.detail["new"]) == (None, "remove", "licence")

    # The identical licence row again: a duplicate, nothing changes.
    events = len(_events())
    third = _file(partner, [partner_row(0, **CC_BY)])
    assert third.changes == [] and len(third.duplicates) == 1 and len(_events()) == events
    # Back to a removal, then search only: each a change, revoked first then recorded.
    back = _file(partner, [partner_row(0)])
    assert [c["new"] for c in back.changes] == ["remove"]
    assert _events()[events:] == ["licence.revoked", "removal.approved"]
    assert LicenceGrant.objects.get().state == GrantState.REVOKED
    _file(partner, [partner_row(0, choice="search_only")])
    live = Removal.objects.exclude(state=RemovalState.REVOKED)
    assert [r.search for r in live] == ["allowed"]


def test_a_lifted_row_stays_lifted_whatever_the_partner_sends(removed, partner, artist):
    row = FilingRow.objects.get(filing=removed, index=0)
    FilingRow.objects.filter(pk=row.pk).update(lifted_at=row.decided_at)
    changed = _file(partner, [partner_row(0, **CC_BY)])
    assert [c["applied"] for c in changed.changes] == [False]
    assert not LicenceGrant.objects.exists()
    assert FilingRow.objects.get(pk=row.pk).choice in ("", "remove")


def test_in_the_api_the_change_is_listed_and_bad_terms_are_rejected(removed, partner_api):
    response = partner_api.post(
        "/api/v1/partner/filings/",
        {"attestation": True, "rows": [partner_row(0, **CC_BY)]},
        format="json",
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["changes"][0]["old"] == "remove" and body["changes"][0]["new"] == "licence"
    assert body["duplicates"] == [] and body["changes"][0]["applied"] is False
    # Applied when the row sent is decided, not when it is stored.
    assert not LicenceGrant.objects.exists()
    assert Removal.objects.get().state == RemovalState.PENDING
    services.filing_run(services.filing_claim(Filing.objects.get(public_id=body["id"]).pk))
    assert LicenceGrant.objects.filter(state=GrantState.ACTIVE).count() == 1
    hostile = partner_api.post(
        "/api/v1/partner/filings/",
        {
            "attestation": True,
            "rows": [partner_row(0, choice="licence", licence="cc0", attribution="<i>x</i>")],
        },
        format="json",
    )
    assert hostile.status_code == 202
    assert hostile.json()["changes"] == [] and hostile.json()["rejected"][0]["field"] == "attribution"
    assert LicenceGrant.objects.filter(state=GrantState.ACTIVE).count() == 1
