"""A dispute about a removal a partner filed: each step is audited on the filing, the partner's
contact is told when it opens and when it is decided, and the disputant is never told who filed."""

from __future__ import annotations

import pytest
from django.core import mail

from partners import services
from partners.models import Filing, PartnerAction, PartnerActionKind, PartnerKey
from registry import services as registry_services
from registry.models import Removal
from tests.helpers import partner_row

STATEMENT = "This photograph is mine, not the partner's creator's: my original is dated 2018."


@pytest.fixture
def filed_removal(partner, partner_dataset, auto_policy):
    key = PartnerKey.objects.get(partner=partner.partner)
    filing = services.filing_create(key=key, rows=[partner_row(0)], attestation=True).filing
    filing = services.filing_run(services.filing_claim(filing.pk), chunk=1000)
    removal = Removal.objects.get(source_ref=filing.public_id)
    registry_services.removals_mark_delivered(removals=[removal])
    return Filing.objects.get(pk=filing.pk), Removal.objects.get(pk=removal.pk)


def test_each_step_is_audited_on_the_filing_and_the_partner_is_told(
    filed_removal, partner, moderator, django_capture_on_commit_callbacks
):
    filing, removal = filed_removal
    with django_capture_on_commit_callbacks(execute=True):
        dispute = registry_services.dispute_file(
            removal=removal, email="d@example.org", reason="own_work", statement=STATEMENT, links=[]
        )
        registry_services.dispute_confirm(token=registry_services.dispute_confirm_token(dispute))
    with django_capture_on_commit_callbacks(execute=True):
        registry_services.dispute_answer(
            dispute=dispute, body="Our creator's RAW file is attached.", links=[], actor=None
        )
    with django_capture_on_commit_callbacks(execute=True):
        registry_services.dispute_decide(
            dispute=dispute, moderator=moderator, outcome="uphold", reason="A copy."
        )
    steps = [
        a.detail["step"]
        for a in PartnerAction.objects.filter(kind=PartnerActionKind.DISPUTE, object_id=filing.pk).order_by(
            "pk"
        )
    ]
    assert steps == ["opened", "answered", "decided"]
    to_partner = [m for m in mail.outbox if m.to == [partner.partner.contact_email]]
    assert len(to_partner) == 2 and STATEMENT in to_partner[0].body and "A copy." in to_partner[1].body
    to_disputant = [m for m in mail.outbox if m.to == ["d@example.org"]]
    for message in to_disputant:
        assert partner.partner.name not in message.body and filing.public_id not in message.body
