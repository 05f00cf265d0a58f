"""/api/v1/partner/disputes/: a partner lists the disputes about its filings' removals and
answers them before the deadline; another partner's, a decided one or hostile text is a clear
error with nothing written."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core import clock
from partners import services
from partners.models import PartnerKey
from registry import services as registry_services
from registry.models import Dispute, DisputeMessage, Removal
from tests.helpers import assert_error, partner_row

ANSWER = "Our creator made this photograph; the original is dated 2019."


@pytest.fixture
def dispute(partner, partner_dataset, auto_policy, maintainer):
    key = PartnerKey.objects.get(partner=partner.partner)
    filing = services.filing_create(key=key, rows=[partner_row(0)], attestation=True).filing
    services.filing_run(services.filing_claim(filing.pk), chunk=1000)
    removal = Removal.objects.get(source_ref=filing.public_id)
    registry_services.removals_mark_delivered(removals=[removal])
    return registry_services.dispute_file(
        removal=removal,
        maintainer=maintainer.maintainer,
        reason="not_a_copy",
        statement="The item is another photograph of the same place.",
        links=[],
    )


def test_the_partner_lists_and_answers_its_disputes(partner_api, dispute):
    listed = partner_api.get("/api/v1/partner/disputes").json()
    assert [d["id"] for d in listed["results"]] == [dispute.public_id] and listed["next"] is None
    answered = partner_api.post(
        f"/api/v1/partner/disputes/{dispute.public_id}/answer/", {"answer": ANSWER}, format="json"
    )
    assert answered.status_code == 200, answered.content
    assert answered.json()["state"] == "answered" and answered.json()["answered"] is True
    assert DisputeMessage.objects.filter(dispute=dispute, kind="answer", body=ANSWER).exists()


def test_another_partners_dispute_is_not_there(other_partner, dispute):
    client = other_partner.client()
    assert client.get("/api/v1/partner/disputes/").json()["results"] == []
    response = client.post(
        f"/api/v1/partner/disputes/{dispute.public_id}/answer/", {"answer": ANSWER}, format="json"
    )
    assert_error(response, 404, "not_found")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"answer": "short"}, "invalid_answer"),
        ({"answer": "<b>ours</b> and nobody else's, see the file"}, "invalid_answer"),
        ({"answer": "NUL \x00 in an answer that is long enough"}, "invalid_request"),
        ({"answer": ANSWER, "links": ["javascript:alert(1)"]}, "invalid_links"),
        ({}, "invalid_request"),
    ],
)
def test_a_bad_answer_is_refused_with_nothing_written(partner_api, dispute, body, code):
    response = partner_api.post(f"/api/v1/partner/disputes/{dispute.public_id}/answer/", body, format="json")
    assert_error(response, 400, code)
    assert Dispute.objects.get().state == "open" and not DisputeMessage.objects.filter(kind="answer").exists()


def test_too_late_or_decided_is_409(partner_api, dispute, moderator, clock_back):
    url = f"/api/v1/partner/disputes/{dispute.public_id}/answer/"
    clock.travel(timedelta(days=15))
    assert_error(partner_api.post(url, {"answer": ANSWER}, format="json"), 409, "answer_too_late")
    clock.reset()
    registry_services.dispute_decide(dispute=dispute, moderator=moderator, outcome="uphold", reason="A copy.")
    assert_error(partner_api.post(url, {"answer": ANSWER}, format="json"), 409, "dispute_closed")


def test_a_maintainer_key_is_refused(api, dispute):
    assert_error(api.get("/api/v1/partner/disputes/"), 403, "maintainer_key")
