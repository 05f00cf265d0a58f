"""partners.services.late_conflicts: an artist's request submitted after a partner's rows claimed
the same registered items puts the waiting rows in conflict, and holds the request's works when
the partner's removals were approved already, until a moderator decides."""

from __future__ import annotations

from partners import services
from partners.models import (
    ClaimMethod,
    ClaimStatus,
    ConflictKind,
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


def test_a_waiting_row_near_an_artists_later_work_by_phash_alone_is_put_in_conflict(
    partner, photo_dataset, artist, moderator
):
    from registry.hashing import code_to_hex, compute_hashes
    from tests.helpers import photo_bytes

    chelsea = compute_hashes(photo_bytes("chelsea.png"), max_pixels=10**8).phash
    rows = [
        # Another URL, no registered item shared: only the pHash, 2 bits off, says it is the same.
        partner_row(0, work_url="https://cdn.art.example/elsewhere/0.jpg", phash=code_to_hex(chelsea ^ 0b11)),
        partner_row(1),  # some other picture
    ]
    filing = file_and_run(partner, rows)
    near, other = FilingRow.objects.filter(filing=filing).order_by("index")
    assert near.state == other.state == RowState.WAITING and near.matched == 0
    ticket = make_request(artist, "chelsea.png")
    near.refresh_from_db()
    other.refresh_from_db()
    assert (near.state, other.state) == (RowState.CONFLICT, RowState.WAITING)
    conflict = FilingRowConflict.objects.get(row=near)
    assert (conflict.request, conflict.kind, conflict.distance, conflict.item) == (
        ticket, ConflictKind.PHASH, 2, None
    )  # fmt: skip
    assert conflict.work == ticket.works.get()
    audit = PartnerAction.objects.get(kind=PartnerActionKind.ROWS_IN_CONFLICT)
    assert audit.detail["by_phash_only"] == [near.pk] and audit.detail["moved_to_conflict"] == [near.pk]
    # Submitted again (after a question), nothing is recorded twice.
    request_services.request_ask_info(ticket=ticket, moderator=moderator, message="Which one?", canned="")
    request_services.request_submit(ticket=ticket, actor=artist.user, signed_name=artist.display_name)
    assert FilingRowConflict.objects.filter(row=near).count() == 1


def test_a_sampled_or_lifted_row_near_by_phash(partner, photo_dataset, artist):
    """A sampled row keeps its place in the sample with the conflict beside it; a lifted one is
    left alone (its creator took it back)."""
    from django.utils import timezone

    from registry.hashing import code_to_hex, compute_hashes
    from tests.helpers import photo_bytes

    chelsea = compute_hashes(photo_bytes("chelsea.png"), max_pixels=10**8).phash
    rows = [
        partner_row(i, work_url=f"https://cdn.art.example/elsewhere/{i}.jpg", phash=code_to_hex(chelsea))
        for i in range(2)
    ]
    filing = file_and_run(partner, rows)
    sampled, lifted = FilingRow.objects.filter(filing=filing).order_by("index")
    FilingRow.objects.filter(pk=sampled.pk).update(state=RowState.SAMPLED)
    FilingRow.objects.filter(pk=lifted.pk).update(lifted_at=timezone.now())
    ticket = make_request(artist, "chelsea.png")
    sampled.refresh_from_db()
    lifted.refresh_from_db()
    assert (sampled.state, lifted.state) == (RowState.SAMPLED, RowState.WAITING)
    assert list(FilingRowConflict.objects.values_list("row_id", "request_id", "kind")) == [
        (sampled.pk, ticket.pk, ConflictKind.PHASH)
    ]


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


def test_revoking_the_partners_filing_releases_the_works_its_conflict_held(
    partner, photo_dataset, auto_policy, artist, moderator
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from requests_app.models import EventKind, TicketEvent
    from tests.helpers import photo_bytes

    filing = file_and_run(partner, [partner_row(0, work_url=photo_url("chelsea.png"))])
    ticket = request_services.request_create(artist=artist, basis="copyright", description="mine")
    added = request_services.works_add(
        ticket=ticket,
        actor=artist.user,
        files=[SimpleUploadedFile(n, photo_bytes(n)) for n in ("chelsea.png", "coffee.png")],
    )
    for work in added.works:
        assert request_services.work_hash_and_match(work_id=work.pk) == "done"
    confirm = [m for w in added.works for m in w.matches.values_list("pk", flat=True)]
    request_services.matches_decide(ticket=ticket, actor=artist.user, confirm=confirm)
    request_services.request_submit(ticket=ticket, actor=artist.user, signed_name=artist.display_name)
    request_services.request_start_review(ticket=ticket, moderator=moderator)
    request_services.request_approve(ticket=ticket, moderator=moderator)  # coffee goes, chelsea is held
    held = ticket.works.get(original_name="chelsea.png")
    assert held.decision == WorkDecision.HELD
    assert not Removal.objects.filter(source_ref=ticket.reference, url=photo_url("chelsea.png")).exists()

    services.filing_revoke(filing=filing, actor=moderator, reason="Filed for the wrong creator.")
    held.refresh_from_db()
    assert held.decision == WorkDecision.APPROVED  # as a moderator ruling for the artist would
    assert Removal.objects.filter(source_ref=ticket.reference, url=photo_url("chelsea.png")).exists()
    conflict = PartnerConflict.objects.get(request=ticket)
    assert (conflict.resolution, conflict.resolved_by) == (PartnerConflictResolution.WITHDRAWN, moderator)
    said = TicketEvent.objects.get(request=ticket, kind=EventKind.CONFLICT, new_value="withdrawn")
    assert said.actor == moderator and filing.public_id in said.message and "revoked" in said.message
    assert TicketEvent.objects.filter(request=ticket, params__text="works_released").exists()
    audit = PartnerAction.objects.get(kind=PartnerActionKind.FILING_REVOKED)
    assert audit.detail["artists_conflicts_withdrawn"] == 1
    # Revoked again: nothing more happens.
    services.filing_revoke(filing=filing, actor=moderator, reason="Again.")
    assert TicketEvent.objects.filter(request=ticket, new_value="withdrawn").count() == 1


def test_suspending_and_revoking_the_partner_releases_the_works_too(
    partner, photo_dataset, auto_policy, artist, moderator
):
    _filing, ticket = _approved_then_claimed(partner, artist, moderator)
    services.partner_suspend_and_revoke(partner=partner.partner, actor=moderator, reason="Agreement ended.")
    conflict = PartnerConflict.objects.get(request=ticket)
    assert conflict.resolution == PartnerConflictResolution.WITHDRAWN
    # Nothing held any more: the request, in review, is approved whole.
    request_services.request_approve(ticket=ticket, moderator=moderator)
    assert ticket.works.get().decision == WorkDecision.APPROVED
    assert (
        PartnerAction.objects.get(kind=PartnerActionKind.PARTNER_REVOKED).detail[
            "artists_conflicts_withdrawn"
        ]
        == 1
    )
