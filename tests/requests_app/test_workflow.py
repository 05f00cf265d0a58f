"""The transition table and the services that move a request along it."""

from __future__ import annotations

import pytest

from requests_app import services
from requests_app.models import EventKind, TicketEvent
from requests_app.workflow import TRANSITIONS, Status, TransitionNotAllowed, check_transition


def test_every_status_has_a_row_in_the_table():
    assert set(TRANSITIONS) == set(Status.values)
    for targets in TRANSITIONS.values():
        assert targets <= set(Status.values)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (Status.DRAFT, Status.APPROVED),
        (Status.REJECTED, Status.APPROVED),
        (Status.COMPLETED, Status.WITHDRAWN),
        (Status.APPROVED, Status.REJECTED),
        (Status.WITHDRAWN, Status.SUBMITTED),
    ],
)
def test_it_refuses_illegal_transitions(old, new):
    with pytest.raises(TransitionNotAllowed) as excinfo:
        check_transition(old, new)
    assert "cannot become" in str(excinfo.value)


def test_a_draft_cannot_be_approved_and_nothing_is_written(artist, moderator):
    request = services.request_create(artist=artist, basis="copyright")
    with pytest.raises(services.ActionRefused, match="only submitted or in-review"):
        services.request_approve(request=request, moderator=moderator)
    request.refresh_from_db()
    assert request.status == Status.DRAFT
    assert not TicketEvent.objects.filter(request=request, kind=EventKind.STATUS).exists()


def test_reject_needs_a_reason(artist, moderator):
    request = services.request_create(artist=artist, basis="copyright")
    with pytest.raises(services.ActionRefused, match="reason"):
        services.request_reject(request=request, moderator=moderator, reason="  ")


def test_an_artist_can_withdraw_a_draft_but_not_someone_elses(artist, other_artist):
    request = services.request_create(artist=artist, basis="copyright")
    with pytest.raises(services.ActionRefused, match="another account"):
        services.request_withdraw(request=request, actor=other_artist.user)
    services.request_withdraw(request=request, actor=artist.user)
    request.refresh_from_db()
    assert request.status == Status.WITHDRAWN
    event = TicketEvent.objects.filter(request=request, kind=EventKind.STATUS).get()
    assert (event.old_value, event.new_value, event.actor) == ("draft", "withdrawn", artist.user)


def test_submit_needs_a_verified_email(db):
    from tests.conftest import make_artist

    unverified = make_artist("new@example.com", verified=False)
    request = services.request_create(artist=unverified, basis="copyright")
    with pytest.raises(services.ActionRefused, match="Confirm your email"):
        services.request_submit(request=request, actor=unverified.user, signed_name="New Person")


def test_references_are_public_and_ordered(artist):
    first = services.request_create(artist=artist, basis="copyright")
    second = services.request_create(artist=artist, basis="privacy")
    assert first.reference.startswith("RR-20") and len(first.reference) == len("RR-2026-000001")
    assert int(second.reference.rsplit("-", 1)[1]) > int(first.reference.rsplit("-", 1)[1])


def test_the_named_status_sets_keep_their_members():
    from requests_app import workflow as w

    assert {Status.SUBMITTED, Status.IN_REVIEW, Status.NEEDS_INFO} == w.OPEN
    assert w.OPEN | {Status.APPROVED, Status.COMPLETED} == w.CLAIMING
    assert {Status.APPROVED, Status.COMPLETED} == w.REACHES_REGISTRY
    assert {Status.SUBMITTED} == w.REVIEWABLE
    # A moderator can be assigned to any request that is not closed.
    assert set(Status.values) - w.TERMINAL == w.ASSIGNABLE
    assert w.QUEUE == (Status.SUBMITTED, Status.IN_REVIEW, Status.NEEDS_INFO, Status.APPROVED)
