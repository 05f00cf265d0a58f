"""A policy's sample: drawn once at random, held for the desk, passed or failed by a moderator."""

from __future__ import annotations

import pytest

from partners import services
from partners.models import (
    Filing,
    FilingState,
    PartnerAction,
    PartnerActionKind,
    PartnerKey,
    RowState,
    SampleState,
)
from registry.models import Removal
from tests.helpers import partner_row


@pytest.fixture
def sampling(partner):
    services.filing_policy_update(
        policy=partner.partner.policy, auto_approve_verified_hashed=True, sample_size=3
    )


def filed(partner, n: int) -> Filing:
    key = PartnerKey.objects.get(partner=partner.partner)
    filing = services.filing_create(key=key, rows=[partner_row(i) for i in range(n)], attestation=True).filing
    return services.filing_run(services.filing_claim(filing.pk))


def counts(filing) -> dict[str, int]:
    from partners.selectors import row_counts

    return {state: n for state, n in row_counts(filing).items() if n}


def test_a_sampled_filing_is_held_with_its_sample_for_the_desk(partner, partner_dataset, sampling):
    filing = filed(partner, 10)
    assert (filing.state, filing.sample_state) == (FilingState.HELD, SampleState.PENDING)
    assert counts(filing) == {"sampled": 3, "pending": 7}
    assert not Removal.objects.exists()
    drawn = PartnerAction.objects.get(kind=PartnerActionKind.SAMPLE_DRAWN)
    assert drawn.detail["rows"] == 3 and drawn.detail["settings"]["sample_size"] == 3
    assert services.filing_claim(filing.pk) is None and services.filings_stale() == []
    # Another run (a duplicate message) draws nothing more.
    assert services.filing_sample_hold(filing=filing)
    assert counts(filing) == {"sampled": 3, "pending": 7}


def test_samples_are_drawn_at_random(partner, partner_dataset, sampling):
    drawn = set()
    for round_ in range(4):
        key = PartnerKey.objects.get(partner=partner.partner)
        rows = [partner_row(1000 * (round_ + 1) + i) for i in range(30)]
        filing = services.filing_create(key=key, rows=rows, attestation=True).filing
        services.filing_run(services.filing_claim(filing.pk))
        drawn.add(tuple(sorted(filing.rows.filter(state=RowState.SAMPLED).values_list("index", flat=True))))
    assert len(drawn) > 1


def test_a_passed_sample_lets_the_policy_decide_the_whole_filing(
    partner, partner_dataset, sampling, moderator
):
    filing = filed(partner, 10)
    services.filing_sample_pass(filing=filing, actor=moderator)
    filing.refresh_from_db()
    assert (filing.state, filing.sample_state) == (FilingState.QUEUED, SampleState.PASSED)
    filing = services.filing_run(services.filing_claim(filing.pk))
    assert filing.state == FilingState.COMPLETED and counts(filing) == {"approved": 10}
    assert Removal.objects.filter(source_ref=filing.public_id).count() == 10
    passed = PartnerAction.objects.get(kind=PartnerActionKind.SAMPLE_PASSED)
    assert passed.actor == moderator and passed.detail == {"rows": 3}
    with pytest.raises(services.SampleError, match="no sample waiting"):
        services.filing_sample_pass(filing=filing, actor=moderator)


def test_a_failed_sample_holds_the_filing_and_approves_nothing(partner, partner_dataset, sampling, moderator):
    filing = filed(partner, 10)
    with pytest.raises(services.SampleError, match="Say why"):
        services.filing_sample_fail(filing=filing, actor=moderator, reason="")
    services.filing_sample_fail(filing=filing, actor=moderator, reason="Works of another artist")
    filing.refresh_from_db()
    assert (filing.state, filing.sample_state) == (FilingState.HELD, SampleState.FAILED)
    assert counts(filing) == {"waiting": 10}
    assert services.filing_claim(filing.pk) is None
    assert services.filing_run(filing).state == FilingState.HELD and not Removal.objects.exists()
    failed = PartnerAction.objects.get(kind=PartnerActionKind.SAMPLE_FAILED)
    assert failed.detail == {"rows": 10, "reason": "Works of another artist"}


def test_no_sample_when_nothing_would_be_approved_automatically(partner, partner_dataset):
    services.filing_policy_update(
        policy=partner.partner.policy, auto_approve_verified_hashed=False, sample_size=3
    )
    filing = filed(partner, 5)
    assert filing.state == FilingState.COMPLETED and counts(filing) == {"waiting": 5}


def test_a_sample_larger_than_the_filing_takes_all_of_it(partner, partner_dataset, sampling):
    filing = filed(partner, 2)
    assert counts(filing) == {"sampled": 2}
