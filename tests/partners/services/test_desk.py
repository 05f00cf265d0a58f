"""partners.services.desk: a moderator approves or declines the rows the policy left to a person,
each decision audited with the moderator; sampled rows are marked one by one and the sample passes
or fails from the marks."""

from __future__ import annotations

import pytest

from partners import services
from partners.models import (
    FilingRow,
    FilingState,
    PartnerAction,
    PartnerActionKind,
    PartnerKey,
    RowState,
    SampleMark,
    SampleState,
)
from registry.models import Removal
from tests.helpers import partner_row


def file_and_run(partner, rows):
    key = PartnerKey.objects.get(partner=partner.partner)
    filing = services.filing_create(key=key, rows=rows, attestation=True).filing
    return services.filing_run(services.filing_claim(filing.pk))


def test_approving_waiting_rows_records_their_removals_as_the_partners(partner, partner_dataset, moderator):
    filing = file_and_run(partner, [partner_row(i) for i in range(3)] + [partner_row(40)])  # policy off
    rows = {r.index: r for r in filing.rows.all()}
    assert {r.state for r in rows.values()} == {RowState.WAITING}
    result = services.rows_approve(row_ids=[r.pk for r in rows.values()], actor=moderator, note="checked")
    assert (result.decided, result.removals, result.skipped) == (4, 3, [])
    states = dict(filing.rows.values_list("index", "state"))
    assert states == {0: "approved", 1: "approved", 2: "approved", 3: "unmatched"}
    removals = Removal.objects.filter(source_ref=filing.public_id)
    assert removals.count() == 3 and {(r.source, r.partner) for r in removals} == {("partner", "ArtPlace")}
    audit = PartnerAction.objects.get(kind=PartnerActionKind.ROWS_APPROVED_BY_DESK)
    assert audit.actor == moderator and audit.object_id == filing.pk
    assert (
        audit.detail["rows"] == 4
        and audit.detail["removals"] == 3
        and audit.detail["indices"] == [0, 1, 2, 3]
    )
    # Twice changes nothing: the rows are decided.
    again = services.rows_approve(row_ids=[r.pk for r in rows.values()], actor=moderator)
    assert again.decided == 0 and len(again.skipped) == 4 and removals.count() == 3


def test_declining_needs_a_reason_and_removes_nothing(partner, partner_dataset, moderator):
    filing = file_and_run(partner, [partner_row(0)])
    row = filing.rows.get()
    with pytest.raises(services.DeskError, match="Say why"):
        services.rows_decline(row_ids=[row.pk], actor=moderator, reason="  ")
    services.rows_decline(row_ids=[row.pk], actor=moderator, reason="Not on their site")
    row.refresh_from_db()
    assert (row.state, row.decision_reason, row.decided_by) == (
        RowState.DECLINED,
        "Not on their site",
        moderator,
    )
    assert not Removal.objects.exists()
    audit = PartnerAction.objects.get(kind=PartnerActionKind.ROWS_DECLINED_BY_DESK)
    assert audit.detail["reason"] == "Not on their site" and audit.actor == moderator


def test_a_suspended_partners_rows_are_approved_by_nobody(partner, partner_dataset, moderator):
    filing = file_and_run(partner, [partner_row(0)])
    services.partner_suspend(partner=partner.partner, reason="complaint")
    result = services.rows_approve(row_ids=list(filing.rows.values_list("pk", flat=True)), actor=moderator)
    assert result.decided == 0 and "suspended" in result.skipped[0]
    assert not Removal.objects.exists()


def sampled_filing(partner, n=4, sample=2):
    services.filing_policy_update(
        policy=partner.partner.policy, auto_approve_verified_hashed=True, sample_size=sample
    )
    return file_and_run(partner, [partner_row(i) for i in range(n)])


def test_sampled_rows_are_matched_for_the_desk_and_marked_not_approved(partner, partner_dataset, moderator):
    filing = sampled_filing(partner)
    assert filing.state == FilingState.HELD
    sampled = list(filing.rows.filter(state=RowState.SAMPLED))
    assert len(sampled) == 2 and all(r.matched_at is not None and r.matched == 1 for r in sampled)
    evidence = services.desk_evidence(sampled)
    assert all(len(evidence[r.pk].items) == 1 for r in sampled)
    shown = evidence[sampled[0].pk].items[0]
    assert shown.by_url and shown.phash_distance == 0 and shown.summary == "same URL"
    # A sampled row is judged by its mark, not approved on its own.
    result = services.rows_approve(row_ids=[sampled[0].pk], actor=moderator)
    assert result.decided == 0 and "In the sample" in result.skipped[0]


def test_all_rows_marked_good_pass_the_sample(partner, partner_dataset, moderator):
    filing = sampled_filing(partner)
    first, second = filing.rows.filter(state=RowState.SAMPLED).order_by("pk")
    result = services.sample_rows_mark(row_ids=[first.pk], actor=moderator, mark=SampleMark.GOOD)
    assert result.decided == 1 and result.samples == []
    assert filing.__class__.objects.get(pk=filing.pk).sample_state == SampleState.PENDING
    result = services.sample_rows_mark(row_ids=[second.pk], actor=moderator, mark=SampleMark.GOOD)
    assert "sample passed" in result.samples[0]
    filing.refresh_from_db()
    assert filing.sample_state == SampleState.PASSED
    marked = PartnerAction.objects.filter(kind=PartnerActionKind.SAMPLE_ROWS_MARKED, actor=moderator)
    assert marked.count() == 2
    assert PartnerAction.objects.get(kind=PartnerActionKind.SAMPLE_PASSED).actor == moderator
    # The policy decides the filing now (the worker's job; run here).
    services.filing_run(services.filing_claim(filing.pk))
    assert set(filing.rows.values_list("state", flat=True)) == {RowState.APPROVED}


def test_one_row_marked_bad_fails_the_sample_and_every_row_is_matched_for_the_desk(
    partner, partner_dataset, moderator
):
    filing = sampled_filing(partner)
    first, second = filing.rows.filter(state=RowState.SAMPLED).order_by("pk")
    with pytest.raises(services.DeskError, match="what is wrong"):
        services.sample_rows_mark(row_ids=[first.pk], actor=moderator, mark=SampleMark.BAD)
    services.sample_rows_mark(row_ids=[first.pk], actor=moderator, mark=SampleMark.BAD, note="Stock photo")
    result = services.sample_rows_mark(row_ids=[second.pk], actor=moderator, mark=SampleMark.GOOD)
    assert "sample failed" in result.samples[0]
    filing.refresh_from_db()
    assert filing.sample_state == SampleState.FAILED
    failed = PartnerAction.objects.get(kind=PartnerActionKind.SAMPLE_FAILED)
    assert "1 of 2 sampled rows marked bad: Stock photo" in failed.detail["reason"]
    assert set(filing.rows.values_list("state", flat=True)) == {RowState.WAITING}
    # The rows the sample held were never matched: the worker's evidence task does it (run here).
    assert services.desk_rows_refresh(filing=filing) == 2
    assert all(r.matched_at is not None and r.matched == 1 for r in FilingRow.objects.filter(filing=filing))
    result = services.rows_approve(row_ids=list(filing.rows.values_list("pk", flat=True)), actor=moderator)
    assert result.decided == 4 and result.removals == 4
