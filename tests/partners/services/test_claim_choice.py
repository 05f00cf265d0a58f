"""partners.services.claim_choice: a claimed creator changes the choice a partner filed for a
work (remove <-> search only <-> licence) or lifts a licence, with the same signed events as an
artist's own change (the old statement revoked first, then the new one recorded) and an audit row
per change; hostile terms are refused with nothing written."""

from __future__ import annotations

import pytest

from partners import services
from partners.models import FilingRow, FilingRowLicence, PartnerAction, PartnerActionKind, PartnerKey
from registry.models import GrantState, LicenceGrant, Removal, RemovalState, WebhookEvent
from tests.helpers import PARTNER_HOST, partner_row

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


def _events() -> list[str]:
    return list(WebhookEvent.objects.order_by("pk").values_list("event_type", flat=True))


@pytest.fixture
def licensed(partner, partner_dataset, auto_policy):
    """Ada's work 0 filed as a licence, work 1 as a removal; both approved."""
    return _file(
        partner,
        [partner_row(0, creator=ADA, **CC_BY), partner_row(1, creator=ADA)],
    )


def test_a_claimed_licence_becomes_a_removal_then_search_only_with_events_in_order(licensed, partner, artist):
    claim = _claim(artist.user, partner)
    row = services.claim_rows(claim).get(index=0)
    assert LicenceGrant.objects.get(source_ref=licensed.public_id).state == GrantState.ACTIVE
    before = len(_events())
    done = services.claim_row_choice_set(claim=claim, user=artist.user, row_id=row.pk, choice="remove")
    assert (done.changed, done.revoked, done.removed, done.granted) == (True, 1, 1, 0)
    grant = LicenceGrant.objects.get(source_ref=licensed.public_id)
    assert grant.state == GrantState.REVOKED and "changed their choice" in grant.revoked_reason
    removal = Removal.objects.get(source_ref=licensed.public_id, item_id=grant.item_id)
    assert (removal.state, removal.train_ai, removal.search) == ("pending", "disallowed", "unknown")
    assert _events()[before:] == ["licence.revoked", "removal.approved"]
    row.refresh_from_db()
    assert row.choice == "remove" and not FilingRowLicence.objects.filter(row=row).exists()

    done = services.claim_row_choice_set(claim=claim, user=artist.user, row_id=row.pk, choice="search_only")
    assert (done.revoked, done.removed) == (1, 1)
    live = Removal.objects.filter(source_ref=licensed.public_id, item_id=grant.item_id).exclude(
        state=RemovalState.REVOKED
    )
    assert [r.search for r in live] == ["allowed"]
    assert _events()[before + 2 :] == ["removal.revoked", "removal.approved"]
    # The row still shows its removals on the claim's page; the history holds both changes.
    assert services.claim_removals(claim).filter(item_id=grant.item_id).exclude(state="revoked").count() == 1
    audit = PartnerAction.objects.filter(kind=PartnerActionKind.ROW_CHOICE_CHANGED).order_by("pk")
    assert [(a.detail["old"], a.detail["new"]) for a in audit] == [
        ("licence", "remove"),
        ("remove", "search_only"),
    ]
    assert all(a.actor == artist.user for a in audit)


def test_a_claimed_removal_becomes_a_licence_and_the_same_choice_again_changes_nothing(
    licensed, partner, artist
):
    claim = _claim(artist.user, partner)
    row = services.claim_rows(claim).get(index=1)
    done = services.claim_row_choice_set(claim=claim, user=artist.user, row_id=row.pk, **CC_BY)
    assert (done.revoked, done.removed, done.granted) == (1, 0, 1)
    grant = LicenceGrant.objects.get(source_ref=licensed.public_id, state=GrantState.ACTIVE, external_id="e1")
    assert (grant.licence, grant.attribution, grant.source) == ("cc-by", "Photo: Ada", "partner")
    assert Removal.objects.get(external_id="e1").state == RemovalState.REVOKED
    events = len(_events())
    again = services.claim_row_choice_set(claim=claim, user=artist.user, row_id=row.pk, **CC_BY)
    assert again.changed is False and len(_events()) == events
    # Another licence's terms are a change: the grant is restated under them.
    done = services.claim_row_choice_set(
        claim=claim, user=artist.user, row_id=row.pk, choice="licence", licence="cc0"
    )
    assert (done.revoked, done.granted) == (1, 1)
    assert LicenceGrant.objects.get(external_id="e1", state=GrantState.ACTIVE).licence == "cc0"


def test_lifting_a_licence_row_revokes_its_grant(licensed, partner, artist):
    claim = _claim(artist.user, partner)
    row = services.claim_rows(claim).get(index=0)
    lifted = services.claim_lift(claim=claim, user=artist.user, row_ids=[row.pk])
    assert (lifted.rows, lifted.removals, lifted.grants) == (1, 0, 1)
    assert LicenceGrant.objects.get().state == GrantState.REVOKED
    assert _events()[-1] == "licence.revoked"
    with pytest.raises(services.ClaimError, match="lifted"):
        services.claim_row_choice_set(claim=claim, user=artist.user, row_id=row.pk, choice="remove")


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        ({"choice": "delete"}, "Choose one of"),
        ({"choice": "licence", "licence": "mit"}, "Choose a licence"),
        ({"choice": "licence", "licence": "cc-by", "attribution": "<b>Ada</b>"}, "plain text"),
        ({"choice": "licence", "licence": "custom", "licence_url": "javascript:alert(1)"}, "http"),
        ({"choice": "licence", "licence": "cc0", "attribution": "A\x00da"}, "control characters"),
    ],
)
def test_a_bad_choice_is_refused_with_nothing_written(licensed, partner, artist, terms, message):
    claim = _claim(artist.user, partner)
    row = services.claim_rows(claim).get(index=1)
    events = len(_events())
    with pytest.raises(services.ClaimError, match=message):
        services.claim_row_choice_set(claim=claim, user=artist.user, row_id=row.pk, **terms)
    assert len(_events()) == events and FilingRow.objects.get(pk=row.pk).choice == row.choice
    assert not PartnerAction.objects.filter(kind=PartnerActionKind.ROW_CHOICE_CHANGED).exists()


def test_only_the_claiming_account_changes_and_only_its_own_rows(licensed, partner, artist, other_artist):
    claim = _claim(artist.user, partner)
    row = services.claim_rows(claim).get(index=1)
    with pytest.raises(services.ClaimError, match="Only the account"):
        services.claim_row_choice_set(
            claim=claim, user=other_artist.user, row_id=row.pk, choice="search_only"
        )
    other = _file(partner, [partner_row(5)]).rows.get()
    with pytest.raises(services.ClaimError, match="not among"):
        services.claim_row_choice_set(claim=claim, user=artist.user, row_id=other.pk, choice="search_only")
    assert Removal.objects.get(external_id="e1").state == "pending"
