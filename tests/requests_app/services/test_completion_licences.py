"""A request whose works are all licensed completes at approval (a licence asks nothing of
maintainers to acknowledge), and its receipt says what was recorded; a request of removals still
completes only once they are acknowledged."""

from __future__ import annotations

from django.utils import translation

from registry import services as registry_services
from registry.models import Removal
from requests_app import services
from requests_app import timeline as timeline_text
from requests_app.models import TicketEvent
from requests_app.workflow import Status
from tests.helpers import dataset_with_copy, make_request

COPY = "https://img.example/cat.jpg"
CC_BY = {"choice": "licence", "licence": "cc-by", "attribution": "Photo: A. Artist"}


def _receipt(ticket) -> list[str]:
    return [timeline_text.event_text(e) for e in TicketEvent.objects.filter(request=ticket).order_by("pk")]


def _submitted(artist, **default):
    ticket = make_request(artist, "chelsea.png", submit=False)
    if default:
        services.request_choice_set(actor=artist.user, ticket=ticket, **default)
    services.matches_decide(
        ticket=ticket,
        actor=artist.user,
        confirm=list(ticket.works.get().matches.values_list("pk", flat=True)),
    )
    services.request_submit(ticket=ticket, actor=artist.user, signed_name=artist.display_name)
    return ticket


def test_an_all_licensed_request_completes_at_approval_and_says_what_was_recorded(
    artist, moderator, maintainer
):
    dataset_with_copy(maintainer, slug="d", name="D", url=COPY)
    ticket = _submitted(artist, **CC_BY)
    services.request_approve(ticket=ticket, moderator=moderator)
    ticket.refresh_from_db()
    assert ticket.status == Status.COMPLETED and ticket.completed_at is not None
    assert not Removal.objects.filter(source_ref=ticket.reference).exists()
    receipt = _receipt(ticket)
    assert any("licence grant stands, sent to the maintainers" in row for row in receipt), receipt
    assert not any("confirmed the removal" in row for row in receipt)
    with translation.override("fr"):
        assert any("Demande terminée : 1 licence accordée" in row for row in _receipt(ticket))


def test_beside_a_licensed_request_a_removal_request_still_waits_for_its_acknowledgement(
    artist, moderator, maintainer, django_capture_on_commit_callbacks
):
    dataset = dataset_with_copy(maintainer, slug="d", name="D", url=COPY)
    licensed = _submitted(artist, **CC_BY)
    services.request_approve(ticket=licensed, moderator=moderator)
    removed = make_request(artist, "chelsea.png", fmt="JPEG")
    services.request_approve(ticket=removed, moderator=moderator)
    removed.refresh_from_db()
    assert removed.status == Status.APPROVED  # its removal waits for the maintainer
    ids = list(Removal.objects.filter(source_ref=removed.reference).values_list("public_id", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        registry_services.removals_acknowledge(dataset=dataset, ids=ids)
    removed.refresh_from_db()
    assert removed.status == Status.COMPLETED
    assert any("confirmed the removal" in row for row in _receipt(removed))


def test_a_request_turned_from_removal_to_licence_after_approval_completes(artist, moderator, maintainer):
    dataset_with_copy(maintainer, slug="d", name="D", url=COPY)
    ticket = _submitted(artist)
    services.request_approve(ticket=ticket, moderator=moderator)
    ticket.refresh_from_db()
    assert ticket.status == Status.APPROVED
    services.request_choice_set(actor=artist.user, ticket=ticket, **CC_BY)
    ticket.refresh_from_db()
    assert ticket.status == Status.COMPLETED
    assert any("licence grant stands" in row for row in _receipt(ticket))


def test_an_approved_request_that_recorded_nothing_does_not_complete(artist):
    assert services.request_complete_if_acknowledged(reference="RR-2026-999999") is False
