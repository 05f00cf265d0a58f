"""requests_app.services.partner_conflicts: a request's conflicts with a partner's filing are
recorded once, hold the works they touch while the partner's removal is in force, and are
resolved per filing with a reason. (How the partners app finds them: tests/partners/services/
test_late_conflicts.py.)"""

from __future__ import annotations

import pytest

from registry import services as registry_services
from registry.models import RemovalSource
from registry.services.removals import RemovalQuery
from requests_app import selectors, services
from requests_app.models import EventKind, PartnerConflict, TicketEvent
from requests_app.services import ActionRefused, PartnerClaim
from tests.helpers import make_request

FILING = "pf_test14"


def _partner_removal(item) -> None:
    registry_services.removals_record_many(
        source_ref=FILING,
        reason="copyright",
        source=RemovalSource.PARTNER,
        partner="ArtPlace",
        entries=[
            registry_services.RemovalEntry(
                dataset=item.dataset,
                item_id=item.pk,
                external_id=item.external_id,
                url=item.url,
                phash=item.phash,
            )
        ],
    )


def _claimed(ticket):
    work = ticket.works.get()
    match = work.matches.select_related("item__dataset").get()
    return work, match.item


def test_it_records_each_claim_once_and_holds_its_work(dataset, artist):
    ticket = make_request(artist, "chelsea.png")
    work, item = _claimed(ticket)
    _partner_removal(item)
    claim = PartnerClaim(
        work_id=work.pk, item_id=item.pk, filing_ref=FILING, partner="ArtPlace", creator_id="c1"
    )
    assert services.partner_conflicts_record(ticket=ticket, claims=[claim, claim]) == 1
    assert services.partner_conflicts_record(ticket=ticket, claims=[claim]) == 0
    events = TicketEvent.objects.filter(request=ticket, kind=EventKind.CONFLICT, new_value="partner")
    assert [e.params["filing"] for e in events] == [FILING]
    holds = selectors.approval_holds(ticket)
    assert holds.held == {work.pk} and holds.open_partner_conflicts[0].partner == "ArtPlace"
    # Once the partner's removal is revoked (its filing withdrawn) it holds nothing.
    registry_services.removals_revoke(removals=RemovalQuery.of_sources([FILING]), why="withdrawn")
    assert selectors.approval_holds(ticket).held == set()


@pytest.mark.parametrize("resolution", ["", "mine", "owner"])
def test_a_resolution_must_say_who_owns_the_works(dataset, artist, moderator, resolution):
    ticket = make_request(artist, "chelsea.png")
    work, item = _claimed(ticket)
    _partner_removal(item)
    services.partner_conflicts_record(
        ticket=ticket,
        claims=[PartnerClaim(work_id=work.pk, item_id=item.pk, filing_ref=FILING, partner="ArtPlace")],
    )
    with pytest.raises(ActionRefused):
        services.partner_conflict_resolve(
            ticket=ticket, filing_ref=FILING, moderator=moderator, resolution=resolution, note="Because."
        )
    assert PartnerConflict.objects.get().is_open
