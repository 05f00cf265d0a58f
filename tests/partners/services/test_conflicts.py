"""partners.services.conflicts: a partner's row naming a work an artist claims in a request of their
own is held in conflict (never approved by policy), with both sides' evidence; the moderator rules.
And the other way round: an artist's request submitted after a partner's removals of the same
items is flagged on its internal timeline, naming the filing."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partners import services
from partners.models import ConflictKind, FilingRow, FilingRowConflict, PartnerKey, RowState
from registry.hashing import code_to_hex, compute_hashes
from registry.models import Removal
from requests_app import services as request_services
from requests_app.models import EventKind, TicketEvent
from tests.helpers import logged_in, make_request, partner_row, photo_bytes, photo_url


def file_and_run(partner, rows):
    key = PartnerKey.objects.get(partner=partner.partner)
    filing = services.filing_create(key=key, rows=rows, attestation=True).filing
    return services.filing_run(services.filing_claim(filing.pk))


def chelsea_phash() -> str:
    return code_to_hex(compute_hashes(photo_bytes("chelsea.png"), max_pixels=10**8).phash)


def test_a_row_naming_an_artists_claimed_work_is_held_in_conflict(
    partner, photo_dataset, auto_policy, artist, moderator
):
    ticket = make_request(artist, "chelsea.png")  # submitted, its copy in the data set confirmed
    rows = [
        partner_row(0, work_url=photo_url("chelsea.png"), phash=None),  # the same item, by URL
        partner_row(1, phash=chelsea_phash()),  # the artist's very picture, by pHash
        partner_row(2, work_url=photo_url("coffee.png")),  # nobody's claim: approved by policy
    ]
    filing = file_and_run(partner, rows)
    found = {r.index: r for r in FilingRow.objects.filter(filing=filing)}
    assert found[0].state == RowState.CONFLICT and found[1].state == RowState.CONFLICT
    assert found[2].state == RowState.APPROVED
    by_url = FilingRowConflict.objects.get(row=found[0])
    assert (by_url.request, by_url.kind) == (ticket, ConflictKind.ITEM)
    assert by_url.item.url == photo_url("chelsea.png")
    by_hash = FilingRowConflict.objects.get(row=found[1])
    assert (by_hash.request, by_hash.kind, by_hash.distance) == (ticket, ConflictKind.PHASH, 0)
    assert list(Removal.objects.filter(source_ref=filing.public_id).values_list("url", flat=True)) == [
        photo_url("coffee.png")
    ]
    # The moderator rules for the partner: the row's item is removed, named as the partner's.
    result = services.rows_approve(row_ids=[found[0].pk], actor=moderator)
    assert result.decided == 1 and result.removals == 1
    assert Removal.objects.filter(source_ref=filing.public_id, url=photo_url("chelsea.png")).exists()
    # ...or against it: nothing is removed, the reason is kept.
    services.rows_decline(row_ids=[found[1].pk], actor=moderator, reason="The artist holds the original.")
    declined = FilingRow.objects.get(pk=found[1].pk)
    assert declined.state == RowState.DECLINED and declined.decided_by == moderator


def test_a_withdrawn_or_draft_claim_is_no_conflict(partner, photo_dataset, auto_policy, artist):
    ticket = make_request(artist, "chelsea.png")
    request_services.request_withdraw(ticket=ticket, actor=artist.user)
    make_request(artist, "coffee.png", submit=False)  # a draft claims nothing yet
    filing = file_and_run(
        partner,
        [partner_row(0, work_url=photo_url("chelsea.png")), partner_row(1, work_url=photo_url("coffee.png"))],
    )
    assert set(filing.rows.values_list("state", flat=True)) == {RowState.APPROVED}
    assert not FilingRowConflict.objects.exists()


@pytest.mark.parametrize("full_read_max", [0, 20_000], ids=["probed", "read"])
def test_the_check_costs_the_same_queries_for_5_rows_as_for_50(
    partner, photo_dataset, artist, monkeypatch, full_read_max
):
    from partners.services import conflicts

    monkeypatch.setattr(conflicts, "FULL_READ_MAX", full_read_max)
    make_request(artist, "chelsea.png")
    key = PartnerKey.objects.get(partner=partner.partner)
    rows = [partner_row(i, work_url=photo_url("chelsea.png")) for i in range(50)]
    filing = services.filing_create(key=key, rows=rows, attestation=True).filing
    objects = list(filing.rows.order_by("index"))
    item = photo_dataset.items.get(external_id="chelsea.png").pk
    counts = []
    for size in (5, 50):
        chosen = objects[:size]
        with CaptureQueriesContext(connection) as queries:
            found = services.rows_conflicts(chosen, {row.pk: {item} for row in chosen})
        assert len(found) == size
        counts.append(len(queries))
    # The items, the bounded count, then the pHashes: one read, or one statement of probes (with
    # JIT off around it in a savepoint).
    assert counts[0] == counts[1] <= 7


def test_an_artists_request_after_a_partners_removal_is_flagged_naming_the_filing(
    partner, photo_dataset, auto_policy, artist, moderator
):
    filing = file_and_run(partner, [partner_row(0, work_url=photo_url("chelsea.png"))])
    assert filing.rows.get().state == RowState.APPROVED
    ticket = make_request(artist, "chelsea.png")
    flagged = TicketEvent.objects.get(request=ticket, kind=EventKind.CONFLICT, new_value="partner")
    assert flagged.params["filing"] == filing.public_id and flagged.params["partner"] == partner.partner.name
    assert filing.public_id in flagged.message and "ArtPlace" in flagged.message
    # The artists' desk shows it, on the request's internal timeline, in the moderator's language.
    page = logged_in(moderator).get(f"/admin/requests_app/removalrequest/{ticket.pk}/change/")
    assert (
        filing.public_id in page.content.decode()
        and "removed already for the partner" in page.content.decode()
    )
    french = logged_in(moderator)
    french.cookies["django_language"] = "fr"
    shown = french.get(f"/admin/requests_app/removalrequest/{ticket.pk}/change/").content.decode()
    assert "déjà été retirée pour le partenaire ArtPlace" in shown
    # Submitted again (after a question), the same filing is not flagged twice.
    request_services.request_ask_info(ticket=ticket, moderator=moderator, message="Which one?", canned="")
    request_services.request_submit(ticket=ticket, actor=artist.user, signed_name=artist.display_name)
    assert (
        TicketEvent.objects.filter(request=ticket, kind=EventKind.CONFLICT, new_value="partner").count() == 1
    )


@pytest.mark.parametrize("full_read_max", [0, 20_000], ids=["probed", "read"])
def test_the_phash_bands_find_every_work_within_5_bits_and_measure_it(
    partner, photo_dataset, artist, settings, monkeypatch, full_read_max
):
    """Exact: every claiming work within the distance is found with its distance, none beyond,
    through the bands' probes as through a read of every claiming work (few of them)."""
    import numpy as np

    from partners.services import conflicts
    from partners.services.conflicts import claiming_works_near
    from requests_app.models import Work

    monkeypatch.setattr(conflicts, "FULL_READ_MAX", full_read_max)
    settings.CONFLICT_PHASH_MAX_DISTANCE = 5
    ticket = make_request(artist, "chelsea.png")
    template = ticket.works.get()
    rng = np.random.default_rng(14)
    codes = rng.integers(-(2**63), 2**63 - 1, size=60, dtype=np.int64)
    theirs = []
    for code in codes:
        for distance in range(8):  # 0 to 7 bits off: 6 and 7 must not come back
            bits = rng.choice(64, size=distance, replace=False)
            near = (int(code) % (1 << 64)) ^ sum(1 << int(b) for b in bits)  # unsigned, then signed
            theirs.append(near - (1 << 64) if near >= 1 << 63 else near)
    Work.objects.bulk_create(
        [
            Work(
                artist=artist, request=ticket, file=template.file.name, original_name=f"{k}.png",
                sha256=f"{k:064x}", size_bytes=1, format="PNG", width=1, height=1, phash=phash,
            )
            for k, phash in enumerate(theirs)
        ]
    )  # fmt: skip
    mine = [int(c) for c in codes]
    found = claiming_works_near(mine)
    expected = set()
    for work_id, request_id, phash in Work.objects.filter(request=ticket).values_list(
        "pk", "request_id", "phash"
    ):
        for code in mine:
            distance = ((code ^ phash) % (1 << 64)).bit_count()
            if distance <= 5:
                expected.add((code, distance, work_id, request_id))
    assert set(found) == expected and len(found) == len(expected)
    assert len(expected) >= 60 * 6  # each code's own six, and any chance meeting
    # A withdrawn request claims nothing any more.
    request_services.request_withdraw(ticket=ticket, actor=artist.user)
    assert claiming_works_near(mine) == []


def test_the_conflict_check_reads_only_the_works_near_the_chunks_codes(
    partner, photo_dataset, artist, monkeypatch
):
    from partners.services import conflicts
    from partners.services.conflicts import claiming_works_near

    monkeypatch.setattr(conflicts, "FULL_READ_MAX", 0)  # the probes, whatever the count

    ticket = make_request(artist, "chelsea.png")
    work = ticket.works.get()
    near = work.phash ^ 0b1011  # 3 bits off
    far = ~work.phash  # every bit off
    assert claiming_works_near([near]) == [(near, 3, work.pk, ticket.pk)]
    assert claiming_works_near([far]) == []
    assert claiming_works_near([]) == []


def test_a_distance_the_bands_cannot_find_is_refused(settings):
    from django.core.exceptions import ImproperlyConfigured

    from partners.services.conflicts import claiming_works_near

    settings.CONFLICT_PHASH_MAX_DISTANCE = 6
    with pytest.raises(ImproperlyConfigured, match="up to 5 only"):
        claiming_works_near([1])
