"""A partner's change of choice is applied when the row stating it is decided, not when it is
stored: a filing held by its sample changes nothing until the sample passes; a failed sample leaves
the change to the desk, which applies it by approving or drops it by declining; a policy that
approves nothing leaves it to the desk too; a file that fails to be read changes nothing."""

from __future__ import annotations

import pytest

from partners import services
from partners.models import (
    Filing,
    FilingRow,
    FilingState,
    PartnerAction,
    PartnerActionKind,
    PartnerKey,
    RowState,
    SampleMark,
    SampleState,
)
from registry.models import GrantState, LicenceGrant, Removal, RemovalState
from tests.helpers import logged_in, partner_row
from tests.partners.file_helpers import csv_bytes, read_and_decide_here, upload

CC_BY = {"choice": "licence", "licence": "cc-by", "attribution": "Photo: C. Creator"}


def _file(partner, rows, *, run=True):
    key = PartnerKey.objects.get(partner=partner.partner)
    filing = services.filing_create(key=key, rows=rows, attestation=True).filing
    if run:
        return services.filing_run(services.filing_claim(filing.pk))
    return filing


def _unchanged() -> bool:
    return Removal.objects.get().state == RemovalState.PENDING and not LicenceGrant.objects.exists()


@pytest.fixture
def removed(partner, partner_dataset, auto_policy):
    return _file(partner, [partner_row(0)])


def _sampling(partner, size):
    services.filing_policy_update(
        policy=partner.partner.policy, auto_approve_verified_hashed=True, sample_size=size
    )


def test_it_waits_for_the_sample_then_the_policy_applies_it(removed, partner, moderator):
    _sampling(partner, 1)
    held = _file(partner, [partner_row(0, **CC_BY)])
    assert held.state == FilingState.HELD and _unchanged()
    [change] = held.rows.all()
    assert change.state == RowState.SAMPLED and change.duplicate_of.filing == removed
    services.sample_rows_mark(row_ids=[change.pk], actor=moderator, mark=SampleMark.GOOD)
    services.filing_run(services.filing_claim(held.pk))
    assert Removal.objects.get().state == RemovalState.REVOKED
    assert LicenceGrant.objects.get().source_ref == removed.public_id
    change.refresh_from_db()
    assert change.state == RowState.DUPLICATE and change.error.endswith("; applied")
    audit = PartnerAction.objects.get(kind=PartnerActionKind.ROW_CHOICE_CHANGED)
    assert (audit.actor, audit.detail["by"], audit.detail["old"], audit.detail["new"]) == (
        None,
        "policy",
        "remove",
        "licence",
    )


def test_a_failed_sample_leaves_it_to_the_desk(removed, partner, moderator):
    _sampling(partner, 2)
    held = _file(partner, [partner_row(0, **CC_BY), partner_row(1, choice="search_only")])
    sampled = list(held.rows.order_by("index").values_list("pk", flat=True))
    services.sample_rows_mark(row_ids=sampled[1:], actor=moderator, mark=SampleMark.GOOD)
    services.sample_rows_mark(row_ids=sampled[:1], actor=moderator, mark=SampleMark.BAD, note="Not theirs")
    assert Filing.objects.get(pk=held.pk).sample_state == SampleState.FAILED
    assert _unchanged()
    change = FilingRow.objects.get(pk=sampled[0])
    assert change.state == RowState.WAITING
    # Declined: nothing changes, and the earlier row keeps its removal.
    services.rows_decline(
        row_ids=[change.pk], actor=moderator, reason="The platform's change is not credible"
    )
    assert FilingRow.objects.get(pk=change.pk).state == RowState.DECLINED and _unchanged()


def test_the_desk_applies_it_when_the_policy_approves_nothing(removed, partner, moderator):
    services.filing_policy_update(policy=partner.partner.policy, auto_approve_verified_hashed=False)
    waiting = _file(partner, [partner_row(0, choice="search_only")])
    [change] = waiting.rows.all()
    assert change.state == RowState.WAITING and _unchanged()
    page = logged_in(moderator).get(f"/admin/partners/deskrow/{change.pk}/change/").content.decode()
    assert "change of choice" in page and "from remove to search_only once this row is decided" in page
    result = services.rows_approve(row_ids=[change.pk], actor=moderator)
    assert result.decided == 1 and result.skipped == []
    live = Removal.objects.exclude(state=RemovalState.REVOKED)
    assert [(r.search, r.source_ref) for r in live] == [("allowed", removed.public_id)]
    audit = PartnerAction.objects.get(kind=PartnerActionKind.ROW_CHOICE_CHANGED)
    assert (audit.actor, audit.detail["by"]) == (moderator, "desk")
    assert FilingRow.objects.get(pk=change.pk).state == RowState.DUPLICATE


def test_a_file_that_fails_to_be_read_changes_nothing(removed, partner, partner_api, settings):
    settings.PARTNER_FILE_BATCH_ROWS = 2
    settings.PARTNER_FILE_MAX_CSV_LINE_BYTES = 4096
    data = csv_bytes([partner_row(0, **CC_BY), partner_row(1), partner_row(2)])
    data += b"x" * 5000 + b"\n"  # line 5: too long, the file fails after its first batches
    sent = upload(partner_api, data, "rows.csv")
    assert sent["status"] == 200, sent
    failed = read_and_decide_here(sent["id"])
    assert failed.state == FilingState.FAILED
    assert (
        _unchanged() and not PartnerAction.objects.filter(kind=PartnerActionKind.ROW_CHOICE_CHANGED).exists()
    )
    assert GrantState.ACTIVE not in LicenceGrant.objects.values_list("state", flat=True)
