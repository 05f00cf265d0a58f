"""requests_app.services._ticket, what every service writing to a request shares: the refusal with the
field it is about, a status change (its stamp, its SLA clock, its timeline row), timeline rows stored
in English, and the check that a request is the actor's own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from requests_app import timeline
from requests_app.models import EventKind, RemovalRequest, TicketEvent
from requests_app.services import ActionRefused, request_create
from requests_app.services._ticket import _en, _event, _owned, _transition
from requests_app.workflow import Status


@pytest.fixture
def ticket(artist) -> RemovalRequest:
    return request_create(artist=artist, basis="copyright")


def test_a_refusal_names_the_field_it_is_about_or_none():
    assert ActionRefused("Type your name.", field="signed_name").field == "signed_name"
    assert ActionRefused("No.").field == ""
    assert str(ActionRefused("No.")) == "No."


def test_a_status_change_stamps_it_starts_its_clock_and_writes_one_row(ticket, artist, settings):
    settings.SLA_HOURS = {"submitted": 48, "in_review": 120}
    before = timezone.now()
    _transition(ticket, Status.SUBMITTED, actor=artist.user)

    ticket.refresh_from_db()
    assert ticket.status == Status.SUBMITTED
    assert ticket.submitted_at >= before
    assert ticket.sla_due_at - ticket.submitted_at == timedelta(hours=48)
    [row] = TicketEvent.objects.filter(request=ticket, kind=EventKind.STATUS)
    assert (row.old_value, row.new_value, row.actor) == (Status.DRAFT, Status.SUBMITTED, artist.user)


def test_a_status_without_a_clock_clears_it(ticket, artist, moderator, settings):
    settings.SLA_HOURS = {"submitted": 48}
    _transition(ticket, Status.SUBMITTED, actor=artist.user)
    _transition(ticket, Status.REJECTED, actor=moderator, message="Stock photos.")
    ticket.refresh_from_db()
    assert ticket.sla_due_at is None and ticket.decided_at is not None
    assert TicketEvent.objects.filter(request=ticket, kind=EventKind.STATUS).last().message == "Stock photos."


def test_an_illegal_status_change_is_refused_with_the_reference_and_writes_nothing(ticket, moderator):
    with pytest.raises(ActionRefused, match=ticket.reference):
        _transition(ticket, Status.APPROVED, actor=moderator)
    ticket.refresh_from_db()
    assert ticket.status == Status.DRAFT and ticket.decided_at is None
    assert not TicketEvent.objects.filter(request=ticket, kind=EventKind.STATUS).exists()


def test_rows_are_stored_in_english_whatever_the_active_language(ticket, artist):
    params = {"text": "removals_confirmed"}
    with translation.override("fr"):
        row = _event(ticket, kind=EventKind.REMOVALS, actor=None, params=params)
        assert _en(Status.SUBMITTED.label) == "Submitted"
        assert _en(ticket.get_status_display) == "Draft"
    assert row.params == params
    assert row.message == timeline.render_english(params) != ""


def test_a_typed_message_is_kept_beside_the_params(ticket, artist):
    row = _event(ticket, kind=EventKind.PUBLIC_REPLY, actor=artist.user, message="as typed")
    assert (row.message, row.params) == ("as typed", {})


def test_a_request_is_only_its_artists_own(ticket, artist, other_artist):
    _owned(ticket, artist.user)
    with pytest.raises(ActionRefused, match="another account"):
        _owned(ticket, other_artist.user)
