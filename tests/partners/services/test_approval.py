"""Deciding a filing: chunks, the policy, its audit rows, suspension, resuming after a crash."""

from __future__ import annotations

from datetime import timedelta

from partners import services
from partners.models import (
    Filing,
    FilingRow,
    FilingState,
    PartnerAction,
    PartnerActionKind,
    PartnerKey,
    RowState,
)
from registry.models import Removal, WebhookDelivery
from tests.helpers import partner_row


def file_rows(partner, rows) -> Filing:
    key = PartnerKey.objects.get(partner=partner.partner)
    return services.filing_create(key=key, rows=rows, attestation=True).filing


def states(filing) -> dict[int, str]:
    return dict(filing.rows.values_list("index", "state"))


def test_with_the_policy_off_every_row_waits_for_the_desk(partner, partner_dataset):
    filing = file_rows(partner, [partner_row(i) for i in range(3)])
    filing = services.filing_run(services.filing_claim(filing.pk))
    assert filing.state == FilingState.COMPLETED and filing.finished_at is not None
    assert set(states(filing).values()) == {RowState.WAITING}
    assert list(filing.rows.values_list("matched", flat=True)) == [1, 1, 1]
    assert not Removal.objects.exists()


def test_the_policy_approves_hashed_rows_on_a_verified_domain_and_says_so(
    partner, partner_dataset, auto_policy, endpoint_on_pd
):
    rows = [
        partner_row(0),
        partner_row(1, basis="privacy"),
        {**partner_row(2), "phash": None},  # no hashes: the desk decides
        partner_row(30),  # hashed, on the domain, matches nothing registered
    ]
    filing = file_rows(partner, rows)
    services.filing_run(services.filing_claim(filing.pk), chunk=2)
    assert states(filing) == {0: "approved", 1: "approved", 2: "waiting", 3: "unmatched"}
    removals = Removal.objects.filter(source_ref=filing.public_id).order_by("external_id")
    assert [(r.external_id, r.reason) for r in removals] == [("e0", "copyright"), ("e1", "privacy")]
    # Maintainers see who filed them: the partner, by its public name.
    assert {(r.source, r.partner) for r in removals} == {("partner", partner.partner.name)}
    assert WebhookDelivery.objects.filter(endpoint=endpoint_on_pd).count() >= 1
    audit = PartnerAction.objects.filter(kind=PartnerActionKind.ROWS_APPROVED_BY_POLICY).order_by("pk")
    assert [a.detail["rows"] for a in audit] == [2, 1]  # one row per chunk that approved something
    first = audit[0]
    assert first.actor is None and first.object_type == "filing" and first.object_id == filing.pk
    assert first.detail["policy"] == partner.partner.policy.pk
    assert first.detail["settings"] == {"auto_approve_verified_hashed": True, "sample_size": 0}
    assert first.detail["removals"] == 2 and (first.detail["rows_from"], first.detail["rows_to"]) == (0, 1)


def test_rows_on_a_domain_not_verified_wait(other_partner, partner_dataset):
    from partners.models import PartnerDomain

    services.filing_policy_update(policy=other_partner.partner.policy, auto_approve_verified_hashed=True)
    services.partner_domain_add(partner=other_partner.partner, host="unverified.example")
    key = PartnerKey.objects.get(partner=other_partner.partner)
    row = partner_row(0, work_url="https://unverified.example/w.jpg")
    row["creator"]["profile_url"] = "https://unverified.example/u"
    filing = services.filing_create(key=key, rows=[row], attestation=True).filing
    services.filing_run(services.filing_claim(filing.pk))
    assert states(filing) == {0: "waiting"}
    assert not PartnerDomain.objects.get(host="unverified.example").verified


def test_a_suspended_partner_gets_no_approval(partner, partner_dataset, auto_policy):
    filing = file_rows(partner, [partner_row(i) for i in range(4)])
    services.filing_claim(filing.pk)
    assert services.filing_decide_chunk(filing=filing, chunk=2)
    services.partner_suspend(partner=partner.partner, reason="complaint")
    services.filing_run(filing, chunk=2)
    assert states(filing) == {0: "approved", 1: "approved", 2: "waiting", 3: "waiting"}
    assert Removal.objects.filter(source_ref=filing.public_id).count() == 2


def test_a_run_resumes_after_its_last_chunk_and_records_nothing_twice(partner, partner_dataset, auto_policy):
    filing = file_rows(partner, [partner_row(i) for i in range(5)])
    assert services.filing_claim(filing.pk) is not None
    assert services.filing_claim(filing.pk) is None  # taken, and its worker is alive
    services.filing_decide_chunk(filing=filing, chunk=2)
    filing.refresh_from_db()
    assert filing.state == FilingState.MATCHING and filing.cursor == filing.rows.get(index=1).pk
    # The worker died: its heartbeat goes stale, the sweep finds it, another run takes over.
    Filing.objects.filter(pk=filing.pk).update(heartbeat_at=filing.heartbeat_at - timedelta(minutes=10))
    assert services.filings_stale() == [filing.pk]
    again = services.filing_claim(filing.pk)
    assert again is not None
    services.filing_run(again, chunk=2)
    assert set(states(filing).values()) == {RowState.APPROVED}
    assert Removal.objects.filter(source_ref=filing.public_id).count() == 5
    # A chunk decided twice (rows put back by hand) records nothing twice.
    FilingRow.objects.filter(filing=filing).update(state=RowState.PENDING)
    Filing.objects.filter(pk=filing.pk).update(cursor=0, state=FilingState.QUEUED)
    services.filing_run(services.filing_claim(filing.pk))
    assert Removal.objects.filter(source_ref=filing.public_id).count() == 5


def test_a_queued_filing_whose_message_was_lost_is_stale_after_a_while(partner):
    filing = file_rows(partner, [partner_row(0)])
    assert services.filings_stale() == []
    Filing.objects.filter(pk=filing.pk).update(created_at=filing.created_at - timedelta(minutes=10))
    assert services.filings_stale() == [filing.pk]


def test_a_recorded_run_says_where_its_time_went(partner, partner_dataset, auto_policy, endpoint_on_pd):
    from core import stages

    filing = file_rows(partner, [partner_row(i) for i in range(3)])
    with stages.recording() as times:
        services.filing_run(services.filing_claim(filing.pk), chunk=2)
    assert {
        "images: rows needing one", "chunk (all, with its commit)", "rows: locks and read",
        "match: URL join", "conflicts with artists' requests", "rows: updates",
        "removals: insert", "removals: events and outbox", "removals: row items", "audit row",
    } <= set(times)  # fmt: skip
    assert all(wall >= 0 and cpu >= 0 for wall, cpu, _ in times.values())
    assert times["chunk (all, with its commit)"][0] >= times["removals: insert"][0]
    assert Removal.objects.count() == 3


def test_a_search_only_row_becomes_a_removal_that_allows_search(partner, partner_dataset, auto_policy):
    filing = file_rows(partner, [partner_row(0), partner_row(1, choice="search_only")])
    services.filing_run(services.filing_claim(filing.pk))
    assert states(filing) == {0: "approved", 1: "approved"}
    removals = Removal.objects.filter(source_ref=filing.public_id).order_by("external_id")
    assert [(r.external_id, r.train_ai, r.search) for r in removals] == [
        ("e0", "disallowed", "unknown"),
        ("e1", "disallowed", "allowed"),
    ]
