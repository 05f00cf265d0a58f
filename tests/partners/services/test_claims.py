"""partners.services.claims: a creator a partner filed for claims their account (a mailed link,
or a token on their profile page fetched from a real web server on loopback), one account per
creator, audited; then lifts rows, which revokes exactly their removals."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.core import signing

from partners import services
from partners.models import ClaimStatus, CreatorClaim, FilingRow, PartnerAction, PartnerActionKind, PartnerKey
from registry.models import Removal, WebhookEvent
from tests.helpers import PARTNER_HOST, partner_row, web_server

ADA = {"id": "Ada", "profile_url": f"https://{PARTNER_HOST}/u/ada", "email": "ada@creators.example"}


def ada_row(i: int, **creator: str) -> dict:
    return partner_row(i, creator={**ADA, **creator})


def file_and_run(partner, rows):
    key = PartnerKey.objects.get(partner=partner.partner)
    filing = services.filing_create(key=key, rows=rows, attestation=True).filing
    return services.filing_run(services.filing_claim(filing.pk))


@pytest.fixture
def filed(partner, partner_dataset, auto_policy):
    """Ada's works 0 and 1 and Bob's work 2, approved; Ada's work 30 matched nothing."""
    return file_and_run(partner, [ada_row(0), ada_row(1), partner_row(2), ada_row(30)])


def _claimed_by_email(user, partner) -> CreatorClaim:
    creator = services.creator_find(partner=partner.partner, creator_id="ada")  # ids ignore case
    _, token = services.claim_email_token(user=user, creator=creator)
    return services.claim_by_email(user=user, token=token)


def test_the_creator_is_found_by_id_whatever_its_case(filed, partner):
    creator = services.creator_find(partner=partner.partner, creator_id="  ADA ")
    assert (creator.creator_id, creator.key, creator.email) == ("Ada", "ada", "ada@creators.example")
    assert creator.profile_url == ADA["profile_url"]


@pytest.mark.parametrize(
    ("creator_id", "message"),
    [
        ("", "Type your creator id"),
        ("a\x00b", "plain text"),
        ("x" * 201, "plain text"),
        ("\ud800", "plain text"),
        ("nobody", "filed nothing"),
    ],
)
def test_a_creator_id_that_is_not_one_is_refused_saying_why(filed, partner, creator_id, message):
    with pytest.raises(services.ClaimError, match=message):
        services.creator_find(partner=partner.partner, creator_id=creator_id)


def test_the_mailed_link_claims_the_creator_for_the_account_that_asked(filed, partner, artist):
    claim = _claimed_by_email(artist.user, partner)
    assert claim.status == ClaimStatus.VERIFIED and claim.method == "email" and claim.target == ADA["email"]
    audit = PartnerAction.objects.get(kind=PartnerActionKind.CREATOR_CLAIMED)
    assert (audit.actor, audit.object_type, audit.object_id) == (artist.user, "claim", claim.pk)
    assert audit.detail == {"creator_id": "Ada", "method": "email", "target": ADA["email"]}
    # Opening it again changes nothing.
    assert _claimed_by_email(artist.user, partner).pk == claim.pk
    assert PartnerAction.objects.filter(kind=PartnerActionKind.CREATOR_CLAIMED).count() == 1


def test_a_tampered_expired_or_borrowed_link_claims_nothing(filed, partner, artist, other_artist):
    creator = services.creator_find(partner=partner.partner, creator_id="Ada")
    _, token = services.claim_email_token(user=artist.user, creator=creator)
    with pytest.raises(services.ClaimError, match="not valid"):
        services.claim_by_email(
            user=artist.user, token=token[:-2] + ("AA" if not token.endswith("AA") else "BB")
        )
    with pytest.raises(services.ClaimError, match="another account"):
        services.claim_by_email(user=other_artist.user, token=token)
    forged = signing.dumps(
        {"u": artist.user.pk, "p": partner.partner.pk, "c": "ada", "e": "x@y.example"}, salt="other"
    )
    with pytest.raises(services.ClaimError, match="not valid"):
        services.claim_by_email(user=artist.user, token=forged)
    with mock.patch("django.core.signing.time.time", return_value=time.time() - 4 * 24 * 3600):
        _, old = services.claim_email_token(user=artist.user, creator=creator)
    with pytest.raises(services.ClaimError, match="expired"):
        services.claim_by_email(user=artist.user, token=old)
    # The platform no longer gives that address: the link proves nothing now.
    FilingRow.objects.filter(creator_email=ADA["email"]).update(creator_email="new@creators.example")
    with pytest.raises(services.ClaimError, match="no longer names"):
        services.claim_by_email(user=artist.user, token=token)
    assert not CreatorClaim.objects.exists()


def test_a_creator_claimed_by_one_account_cannot_be_claimed_by_another(filed, partner, artist, other_artist):
    creator = services.creator_find(partner=partner.partner, creator_id="Ada")
    _, late_token = services.claim_email_token(user=other_artist.user, creator=creator)
    _claimed_by_email(artist.user, partner)
    with pytest.raises(services.ClaimError, match="Another account has claimed"):
        services.claim_email_token(user=other_artist.user, creator=creator)
    with pytest.raises(services.ClaimError, match="Another account has claimed"):
        services.claim_start_profile(user=other_artist.user, creator=creator)
    # A link mailed before the other account won proves nothing afterwards either.
    with pytest.raises(services.ClaimError, match="Another account has claimed"):
        services.claim_by_email(user=other_artist.user, token=late_token)
    assert CreatorClaim.objects.filter(status=ClaimStatus.VERIFIED).count() == 1


def test_a_creator_without_an_address_claims_by_profile_only(filed, partner, artist):
    creator = services.creator_find(partner=partner.partner, creator_id="c2")
    assert creator.email == ""
    with pytest.raises(services.ClaimError, match="no email address"):
        services.claim_email_token(user=artist.user, creator=creator)


def test_the_token_on_the_profile_page_claims_the_creator(filed, partner, artist):
    with web_server() as site:
        # The platform's profile page, served on loopback (art.example cannot point here).
        FilingRow.objects.filter(creator_id="Ada").update(creator_url=site.url("/u/ada"))
        creator = services.creator_find(partner=partner.partner, creator_id="Ada")
        claim = services.claim_start_profile(user=artist.user, creator=creator)
        assert claim.status == ClaimStatus.PENDING and claim.token.startswith("rdc-")
        assert services.claim_start_profile(user=artist.user, creator=creator).token == claim.token
        site.page("/u/ada", "<html><body><p>Painter.</p></body></html>")
        claim, detail = services.claim_profile_check(claim=claim)
        assert claim.status == ClaimStatus.PENDING and "not in the text" in detail
        assert claim.checked_at is not None
        site.page("/u/ada", f"<html><body><script>'{claim.token}'</script></body></html>")
        claim, _ = services.claim_profile_check(claim=claim)
        assert claim.status == ClaimStatus.PENDING  # in a script: not the bio
        site.page("/u/ada", f"<html><body><p class=bio>Painter. {claim.token}</p></body></html>")
        claim, _ = services.claim_profile_check(claim=claim)
    assert claim.status == ClaimStatus.VERIFIED and claim.method == "profile_link"
    assert PartnerAction.objects.get(kind=PartnerActionKind.CREATOR_CLAIMED).actor == artist.user


def test_a_profile_on_a_private_address_is_never_fetched(filed, partner, artist, settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    FilingRow.objects.filter(creator_id="Ada").update(creator_url="http://169.254.169.254/latest/meta-data/")
    creator = services.creator_find(partner=partner.partner, creator_id="Ada")
    claim = services.claim_start_profile(user=artist.user, creator=creator)
    claim, detail = services.claim_profile_check(claim=claim)
    assert claim.status == ClaimStatus.PENDING and "cannot fetch" in detail


# --- lifting --------------------------------------------------------------------------


def test_the_claim_shows_the_creators_rows_and_their_removals_only(filed, partner, artist):
    claim = _claimed_by_email(artist.user, partner)
    assert sorted(services.claim_rows(claim).values_list("index", flat=True)) == [0, 1, 3]
    removals = services.claim_removals(claim)
    assert sorted(removals.values_list("external_id", flat=True)) == ["e0", "e1"]


def test_lifting_a_row_revokes_its_removals_only_and_is_audited(filed, partner, artist, maintainer):
    claim = _claimed_by_email(artist.user, partner)
    row = services.claim_rows(claim).get(index=0)
    done = services.claim_lift(claim=claim, user=artist.user, row_ids=[row.pk])
    assert (done.rows, done.removals) == (1, 1)
    states = dict(Removal.objects.values_list("external_id", "state"))
    assert states == {"e0": "revoked", "e1": "pending", "e2": "pending"}
    assert Removal.objects.get(external_id="e0").revoked_reason == services.claims.LIFTED_BY_CREATOR
    assert WebhookEvent.objects.filter(event_type="removal.revoked").count() == 1
    row.refresh_from_db()
    assert row.lifted_at is not None
    audit = PartnerAction.objects.get(kind=PartnerActionKind.ROWS_LIFTED)
    assert audit.actor == artist.user and audit.detail["rows"] == 1 and audit.detail["removals"] == 1
    # Lifting it again does nothing.
    assert services.claim_lift(claim=claim, user=artist.user, row_ids=[row.pk]).rows == 0


def test_lifting_everything_leaves_other_creators_alone(filed, partner, artist):
    claim = _claimed_by_email(artist.user, partner)
    bob = FilingRow.objects.get(creator_id="c2")
    done = services.claim_lift(claim=claim, user=artist.user, row_ids=[bob.pk])
    assert done.rows == 0  # not Ada's row
    done = services.claim_lift(claim=claim, user=artist.user)
    assert (done.rows, done.removals) == (3, 2)  # the unmatched row is marked too
    assert dict(Removal.objects.values_list("external_id", "state")) == {
        "e0": "revoked",
        "e1": "revoked",
        "e2": "pending",
    }


def test_a_removal_two_rows_share_stays_until_both_are_lifted(partner, partner_dataset, auto_policy, artist):
    # Ada and Bob filed the same work: one removal of the item under the filing, held by both rows.
    shared = partner_row(0, creator={"id": "bob", "profile_url": f"https://{PARTNER_HOST}/u/bob"})
    shared["dhash"] = "0000000000000001"  # another row (key), the same work and item
    file_and_run(partner, [ada_row(0), shared])
    assert Removal.objects.count() == 1
    claim = _claimed_by_email(artist.user, partner)
    assert services.claim_lift(claim=claim, user=artist.user).removals == 0
    assert Removal.objects.get().state == "pending"


def test_only_the_account_that_claimed_lifts(filed, partner, artist, other_artist):
    claim = _claimed_by_email(artist.user, partner)
    with pytest.raises(services.ClaimError, match="Only the account"):
        services.claim_lift(claim=claim, user=other_artist.user)
    pending = services.claim_start_profile(
        user=other_artist.user, creator=services.creator_find(partner=partner.partner, creator_id="c2")
    )
    with pytest.raises(services.ClaimError, match="Only the account"):
        services.claim_lift(claim=pending, user=other_artist.user)
    assert not Removal.objects.filter(state="revoked").exists()


def test_a_lifted_row_filed_again_stays_lifted(filed, partner, artist):
    claim = _claimed_by_email(artist.user, partner)
    services.claim_lift(claim=claim, user=artist.user)
    again = file_and_run(partner, [ada_row(0)])
    assert again.rows.get().state == "duplicate"
    assert Removal.objects.get(external_id="e0").state == "revoked"
    assert not Removal.objects.filter(source_ref=again.public_id).exists()


def test_a_lifted_row_not_yet_decided_is_never_approved_by_the_policy(
    partner, partner_dataset, auto_policy, artist
):
    key = PartnerKey.objects.get(partner=partner.partner)
    first = file_and_run(partner, [ada_row(5)])
    filing = services.filing_create(key=key, rows=[ada_row(0)], attestation=True).filing
    claim = _claimed_by_email(artist.user, partner)
    assert services.claim_lift(claim=claim, user=artist.user).rows == 2
    services.filing_run(services.filing_claim(filing.pk))
    assert filing.rows.get().state == "waiting"
    assert not Removal.objects.filter(source_ref=filing.public_id).exists()
    assert Removal.objects.get(source_ref=first.public_id).state == "revoked"
