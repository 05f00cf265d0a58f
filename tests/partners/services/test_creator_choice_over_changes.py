"""A claimed creator's own choice wins over a change of choice the partner sent that is not
decided yet: choosing (even keeping the choice the row has) sets the change aside, and when the
change is decided later, by the policy after the sample or by the desk, the earlier row keeps
the creator's choice. A change the partner sends after the creator chose is pending again."""

from __future__ import annotations

import pytest

from partners import services
from partners.models import FilingRow, PartnerAction, PartnerActionKind, PartnerKey, RowState, SampleMark
from registry.models import LicenceGrant, Removal, RemovalState
from tests.helpers import PARTNER_HOST, logged_in, partner_row

ADA = {"id": "Ada", "profile_url": f"https://{PARTNER_HOST}/u/ada", "email": "ada@creators.example"}
CC_BY = {"choice": "licence", "licence": "cc-by", "attribution": "Photo: Ada"}


def _file(partner, rows):
    key = PartnerKey.objects.get(partner=partner.partner)
    filing = services.filing_create(key=key, rows=rows, attestation=True).filing
    return services.filing_run(services.filing_claim(filing.pk))


def _claim(user, partner):
    creator = services.creator_find(partner=partner.partner, creator_id="Ada")
    _, token = services.claim_email_token(user=user, creator=creator)
    return services.claim_by_email(user=user, token=token)


def _live() -> list[tuple[str, str]]:
    return list(
        Removal.objects.exclude(state=RemovalState.REVOKED)
        .order_by("pk")
        .values_list("external_id", "search")
    )


@pytest.fixture
def removed(partner, partner_dataset, auto_policy):
    """Ada's work 0, filed as a removal and approved by the policy."""
    return _file(partner, [partner_row(0, creator=ADA)])


def _partner_changes_to_a_licence(partner, *, sample: int = 0, auto: bool = True):
    services.filing_policy_update(
        policy=partner.partner.policy, auto_approve_verified_hashed=auto, sample_size=sample
    )
    filing = _file(partner, [partner_row(0, creator=ADA, **CC_BY)])
    [change] = filing.rows.all()
    return filing, change


def test_the_creator_s_choice_made_while_a_change_waits_for_its_sample_stands(
    removed, partner, artist, moderator
):
    filing, change = _partner_changes_to_a_licence(partner, sample=1)
    assert change.state == RowState.SAMPLED
    claim = _claim(artist.user, partner)
    row = services.claim_rows(claim).get()
    [pending] = services.changes_pending(claim, [row.pk])[row.pk]
    assert (pending.row_id, pending.consent.choice, pending.consent.licence) == (
        change.pk,
        "licence",
        "cc-by",
    )
    assert pending.sent_at == filing.created_at

    done = services.claim_row_choice_set(claim=claim, user=artist.user, row_id=row.pk, choice="search_only")
    assert (done.changed, done.revoked, done.removed, done.set_aside) == (True, 1, 1, 1)
    assert services.changes_pending(claim, [row.pk]) == {}
    audit = PartnerAction.objects.get(kind=PartnerActionKind.ROW_CHOICE_CHANGED, actor=artist.user)
    assert audit.detail["set_aside"] == [change.pk]

    # The sample passes and the policy decides the change: it is not applied.
    services.sample_rows_mark(row_ids=[change.pk], actor=moderator, mark=SampleMark.GOOD)
    services.filing_run(services.filing_claim(filing.pk))
    change.refresh_from_db()
    assert change.state == RowState.DUPLICATE
    assert change.error.endswith(
        "; not applied: the creator of the earlier row chose for it after this change was sent"
    )
    row.refresh_from_db()
    assert row.choice == "search_only" and _live() == [("e0", "allowed")]
    assert not LicenceGrant.objects.exists()
    assert not PartnerAction.objects.filter(kind=PartnerActionKind.ROW_CHOICE_CHANGED, detail__by="policy")


def test_keeping_the_choice_the_row_has_sets_the_change_aside_too(removed, partner, artist, moderator):
    _, change = _partner_changes_to_a_licence(partner, auto=False)
    assert change.state == RowState.WAITING
    claim = _claim(artist.user, partner)
    row = services.claim_rows(claim).get()
    done = services.claim_row_choice_set(claim=claim, user=artist.user, row_id=row.pk, choice="remove")
    assert (done.changed, done.revoked, done.set_aside) == (False, 0, 1)
    audit = PartnerAction.objects.get(kind=PartnerActionKind.ROW_CHOICE_CHANGED, actor=artist.user)
    assert (audit.detail["old"], audit.detail["new"], audit.detail["set_aside"]) == (
        "remove",
        "remove",
        [change.pk],
    )
    # Saying it again, with nothing pending any more, records nothing.
    again = services.claim_row_choice_set(claim=claim, user=artist.user, row_id=row.pk, choice="remove")
    assert (again.changed, again.set_aside) == (False, 0)
    assert PartnerAction.objects.filter(kind=PartnerActionKind.ROW_CHOICE_CHANGED).count() == 1

    # The desk's page of the change says so; approving it decides it, and applies nothing.
    page = logged_in(moderator).get(f"/admin/partners/deskrow/{change.pk}/change/").content.decode()
    assert "the creator chose for the earlier row after this change was sent" in page
    result = services.rows_approve(row_ids=[change.pk], actor=moderator)
    assert result.decided == 1 and result.skipped == []
    assert FilingRow.objects.get(pk=change.pk).state == RowState.DUPLICATE
    assert _live() == [("e0", "unknown")] and not LicenceGrant.objects.exists()


def test_a_change_sent_after_the_creator_chose_is_pending_again(removed, partner, artist):
    claim = _claim(artist.user, partner)
    row = services.claim_rows(claim).get()
    first = services.claim_row_choice_set(claim=claim, user=artist.user, row_id=row.pk, choice="search_only")
    assert (first.changed, first.set_aside) == (True, 0)
    assert "set_aside" not in PartnerAction.objects.get(kind=PartnerActionKind.ROW_CHOICE_CHANGED).detail
    _, change = _partner_changes_to_a_licence(partner, auto=False)
    assert [c.row_id for c in services.changes_pending(claim, [row.pk])[row.pk]] == [change.pk]
    # A lifted row keeps what it is: nothing is pending for it on the creator's page.
    services.claim_lift(claim=claim, user=artist.user, row_ids=[row.pk])
    page = services.changes_pending(claim, [r.pk for r in services.claim_rows(claim) if r.lifted_at is None])
    assert page == {}


BOB = {"id": "Bob", "profile_url": f"https://{PARTNER_HOST}/u/bob", "email": "bob@creators.example"}


def test_a_batch_of_changes_sets_aside_only_those_their_creator_chose_after(
    partner, partner_dataset, auto_policy, artist, moderator, django_assert_max_num_queries
):
    _file(partner, [partner_row(0, creator=ADA), partner_row(1, creator=BOB)])
    services.filing_policy_update(
        policy=partner.partner.policy, auto_approve_verified_hashed=False, sample_size=0
    )
    filing = _file(partner, [partner_row(0, creator=ADA, **CC_BY), partner_row(1, creator=BOB, **CC_BY)])
    ada_change, bob_change = filing.rows.order_by("index")
    assert {ada_change.state, bob_change.state} == {RowState.WAITING}
    claim = _claim(artist.user, partner)  # Ada claims and keeps her removal
    row = services.claim_rows(claim).get()
    services.claim_row_choice_set(claim=claim, user=artist.user, row_id=row.pk, choice="remove")

    with django_assert_max_num_queries(2):  # the creators' claims, then their choices: per batch
        assert services.changes_set_aside([ada_change, bob_change]) == {ada_change.pk}
    result = services.rows_approve(row_ids=[ada_change.pk, bob_change.pk], actor=moderator)
    assert result.decided == 2
    ada_change.refresh_from_db()
    bob_change.refresh_from_db()
    assert ada_change.error.endswith("after this change was sent") and bob_change.error.endswith("; applied")
    assert list(LicenceGrant.objects.values_list("external_id", flat=True)) == ["e1"]  # Bob's only
