"""partners.services.late_conflicts: an artist's request submitted after a partner's rows claimed
the same registered items puts the waiting rows in conflict, and holds the request's works when
the partner's removals were approved already, until a moderator decides."""

from __future__ import annotations

from partners import services
from partners.models import (
    ClaimMethod,
    ClaimStatus,
    CreatorClaim,
    FilingRow,
    FilingRowConflict,
    PartnerAction,
    PartnerActionKind,
    PartnerKey,
    RowState,
)
from registry.models import Removal, RemovalState
from requests_app import services as request_services
from requests_app.models import PartnerConflict, PartnerConflictResolution, WorkDecision
from requests_app.services import ActionRefused
from tests.helpers import logged_in, make_request, partner_row, photo_url

DESK = "/admin/requests_app/removalrequest/"


def file_and_run(partner, rows):
    key = PartnerKey.objects.get(partner=partner.partner)
    filing = services.filing_create(key=key, rows=rows, attestation=True).filing
    return services.filing_run(services.filing_claim(filing.pk))


def test_it_puts_a_waiting_row_in_conflict_when_an_artist_claims_its_item_later(
    partner, photo_dataset, artist, moderator
):
    filing = file_and_run(partner, [partner_row(0, work_url=photo_url("chelsea.png"))])
    row = FilingRow.objects.get(filing=filing)
    assert row.state == RowState.WAITING  # the policy is off: the desk decides
    ticket = make_request(artist, "chelsea.png")
    row.refresh_from_db()
    assert row.state == RowState.CONFLICT
    conflict = FilingRowConflict.objects.get(row=row)
    assert conflict.request == ticket and conflict.item.url == photo_url("chelsea.png")
    audit = PartnerAction.objects.get(kind=PartnerActionKind.ROWS_IN_CONFLICT)
    assert audit.detail == {"request": ticket.reference, "rows": [row.pk], "moved_to_conflict": [row.pk]}
    # On the partners' desk, with the artist's request beside it.
    page = logged_in(moderator).get("/admin/partners/deskrow/?state__exact=conflict").content.decode()
    assert ticket.reference in page
    # Nothing is held on the artist's side: the partner has removed nothing.
    assert not PartnerConflict.objects.exists()


def test_a_row_of_a_creator_the_artist_claimed_is_no_conflict(partner, photo_dataset, artist):
    filing = file_and_run(partner, [partner_row(0, work_url=photo_url("chelsea.png"))])
    row = FilingRow.objects.get(filing=filing)
    CreatorClaim.objects.create(
        partner=partner.partner,
        creator_id=row.creator_id,
        creator_key=row.creator_id.lower(),
        user=artist.user,
        method=ClaimMethod.EMAIL,
        status=ClaimStatus.VERIFIED,
        target="ada@example.com",
    )
    make_request(artist, "chelsea.png")
    row.refresh_from_db()
    assert row.state == RowState.WAITING and not FilingRowConflict.objects.exists()


def _approved_then_claimed(partner, artist, moderator):
    filing = file_and_run(partner, [partner_row(0, work_url=photo_url("chelsea.png"))])
    assert filing.rows.get().state == RowState.APPROVED
    ticket = make_request(artist, "chelsea.png")
    request_services.request_start_review(ticket=ticket, moderator=moderator)
    return filing, ticket


def test_an_artists_later_claim_on_an_approved_row_is_held_until_a_moderator_decides(
    partner, photo_dataset, auto_policy, artist, moderator
):
    filing, ticket = _approved_then_claimed(partner, artist, moderator)
    conflict = PartnerConflict.objects.get(request=ticket)
    assert (conflict.filing_ref, conflict.partner, conflict.is_open) == (filing.public_id, "ArtPlace", True)
    assert FilingRowConflict.objects.get().request == ticket  # the row's page shows it too
    client = logged_in(moderator)
    queue = client.get(f"{DESK}?conflict=open").content.decode()
    assert ticket.reference in queue
    page = client.get(f"{DESK}{ticket.pk}/change/").content.decode()
    assert 'id="partner-conflicts"' in page and filing.public_id in page
    # The later claim is held: its only work cannot be approved; the partner's removal stays.
    try:
        request_services.request_approve(ticket=ticket, moderator=moderator)
    except ActionRefused as refused:
        assert filing.public_id in str(refused)
    else:
        raise AssertionError("approving a request held by a partner's conflict must be refused")
    partner_removal = Removal.objects.get(source_ref=filing.public_id)
    assert partner_removal.state != RemovalState.REVOKED
    # The moderator decides for the artist through the desk's form: the work is no longer held.
    answer = client.post(
        f"{DESK}{ticket.pk}/partner-conflicts/{filing.public_id}/resolve/",
        {"resolution": "artist", "note": "The artist showed the original file."},
    )
    assert answer.status_code == 302
    conflict.refresh_from_db()
    assert conflict.resolution == PartnerConflictResolution.ARTIST and conflict.resolved_by == moderator
    request_services.request_approve(ticket=ticket, moderator=moderator)
    assert Removal.objects.filter(source_ref=ticket.reference).exists()
    assert Removal.objects.get(pk=partner_removal.pk).state != RemovalState.REVOKED


def test_a_work_the_partners_creator_owns_is_never_approved_for_the_artist(
    partner, photo_dataset, auto_policy, artist, moderator
):
    filing, ticket = _approved_then_claimed(partner, artist, moderator)
    work = ticket.works.get()
    try:
        request_services.partner_conflict_resolve(
            ticket=ticket, filing_ref=filing.public_id, moderator=moderator, resolution="partner", note=" "
        )
    except ActionRefused as refused:
        assert "why" in str(refused).lower()
    else:
        raise AssertionError("a resolution without a reason must be refused")
    resolved = request_services.partner_conflict_resolve(
        ticket=ticket,
        filing_ref=filing.public_id,
        moderator=moderator,
        resolution="partner",
        note="The platform's creator published it first.",
    )
    assert resolved == 1
    try:
        request_services.request_approve(ticket=ticket, moderator=moderator)
    except ActionRefused:
        pass
    else:
        raise AssertionError("a request whose only work the partner's creator owns approves nothing")
    work.refresh_from_db()
    assert work.decision != WorkDecision.APPROVED
    assert not Removal.objects.filter(source_ref=ticket.reference).exists()
    # Resolved once: a second ruling on the same filing is refused, saying so.
    try:
        request_services.partner_conflict_resolve(
            ticket=ticket, filing_ref=filing.public_id, moderator=moderator, resolution="artist", note="No."
        )
    except ActionRefused as refused:
        assert "already" in str(refused)
    else:
        raise AssertionError("a resolved conflict is not resolved twice")


def test_a_revoked_filing_holds_nothing(partner, photo_dataset, auto_policy, artist, moderator):
    filing, ticket = _approved_then_claimed(partner, artist, moderator)
    services.filing_revoke(filing=filing, actor=moderator, reason="Filed by mistake.")
    request_services.request_approve(ticket=ticket, moderator=moderator)
    assert Removal.objects.filter(source_ref=ticket.reference).exists()
