"""requests_app.services.submission: submitting needs a verified address; withdrawal is the artist's own."""

from __future__ import annotations

import pytest

from requests_app import services
from requests_app.models import EventKind, TicketEvent
from requests_app.workflow import Status
from tests.helpers import (
    confirm_all,
    hashed_draft,
    make_artist,
)


def test_an_artist_can_withdraw_a_draft_but_not_someone_elses(artist, other_artist):
    ticket = services.request_create(artist=artist, basis="copyright")
    with pytest.raises(services.ActionRefused, match="another account"):
        services.request_withdraw(ticket=ticket, actor=other_artist.user)
    services.request_withdraw(ticket=ticket, actor=artist.user)
    ticket.refresh_from_db()
    assert ticket.status == Status.WITHDRAWN
    event = TicketEvent.objects.filter(request=ticket, kind=EventKind.STATUS).get()
    assert (event.old_value, event.new_value, event.actor) == ("draft", "withdrawn", artist.user)


def test_submit_needs_a_verified_email(db):

    unverified = make_artist("new@example.com", verified=False)
    ticket = services.request_create(artist=unverified, basis="copyright")
    with pytest.raises(services.ActionRefused, match="Confirm your email"):
        services.request_submit(ticket=ticket, actor=unverified.user, signed_name="New Person")


# --- item 9: the signature must be the account's name ----------------------------------


def test_someone_elses_name_is_not_a_signature(nora, alpha):
    ticket = hashed_draft(nora, "chelsea.png")
    confirm_all(ticket, nora)
    with pytest.raises(services.ActionRefused) as refused:
        services.request_submit(ticket=ticket, actor=nora.user, signed_name="Someone Else")
    assert refused.value.field == "signed_name"
    ticket.refresh_from_db()
    assert ticket.status == Status.DRAFT and ticket.signed_name == ""
