"""Every status has a way forward: each transition of the table is taken by its actor through what
that actor really has (the artist's services, the moderator's desk, the maintainers' API), and from
every status a request is walked on to a closed (terminal) status."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from registry.models import Removal
from requests_app import services
from requests_app.models import (
    ConflictResolution,
    MatchState,
    RemovalRequest,
    RequestConflict,
)
from requests_app.workflow import TERMINAL, TRANSITION_ACTORS, TRANSITIONS, Actor, Status
from tests.helpers import change_url, decide_url, make_artist, make_request

ASK_INFO = "admin:requests_app_removalrequest_ask_info"


class Walk:
    """One artist, one moderator at the desk, one maintainer on the API."""

    def __init__(self, artist: Any, moderator: Any, api: Any, capture: Callable[..., Any]) -> None:
        self.artist, self.api, self.capture = artist, api, capture
        self.desk = Client()
        self.desk.force_login(moderator)

    # --- reaching a status

    def request_in(self, status: str) -> RemovalRequest:
        if status == Status.DRAFT:
            return make_request(self.artist, "chelsea.png", submit=False)
        ticket = make_request(self.artist, "chelsea.png")
        path = {
            Status.SUBMITTED: [],
            Status.IN_REVIEW: [Status.IN_REVIEW],
            Status.NEEDS_INFO: [Status.IN_REVIEW, Status.NEEDS_INFO],
            Status.APPROVED: [Status.APPROVED],
        }[status]
        for step in path:
            self.take(ticket, step)
        ticket.refresh_from_db()
        assert ticket.status == status
        return ticket

    # --- taking one transition, as its actor

    def take(self, ticket: RemovalRequest, new: str) -> None:
        ticket.refresh_from_db()
        actor = TRANSITION_ACTORS[(ticket.status, new)]
        {Actor.ARTIST: self._artist, Actor.MODERATOR: self._moderator, Actor.MAINTAINERS: self._maintainers}[
            actor
        ](ticket, new)
        ticket.refresh_from_db()
        assert ticket.status == new, (ticket.reference, ticket.status, new)

    def _artist(self, ticket: RemovalRequest, new: str) -> None:
        user = self.artist.user
        if new == Status.WITHDRAWN:
            services.request_withdraw(ticket=ticket, actor=user)
            return
        assert new == Status.SUBMITTED
        if ticket.status == Status.DRAFT:
            pending = ticket.works.get().matches.filter(state=MatchState.SUGGESTED)
            services.matches_decide(
                ticket=ticket, actor=user, confirm=list(pending.values_list("pk", flat=True))
            )
        services.request_submit(ticket=ticket, actor=user, signed_name=self.artist.display_name)

    def _moderator(self, ticket: RemovalRequest, new: str) -> None:
        page = self.desk.get(change_url(ticket)).content.decode()
        if new == Status.NEEDS_INFO:
            from django.urls import reverse

            url = reverse(ASK_INFO, args=[ticket.pk])
            assert f'action="{url}"' in page, f"the desk offers no question on a {ticket.status} request"
            self.desk.post(url, {"message": "Which site did you first publish this on?"})
            return
        decision = {Status.IN_REVIEW: "start_review", Status.APPROVED: "approve", Status.REJECTED: "reject"}[
            new
        ]
        assert f'name="decision" value="{decision}"' in page, (
            f"the desk offers no {decision} on a {ticket.status} request"
        )
        self.desk.post(decide_url(ticket), {"decision": decision, "reason": "Decided at the desk."})

    def _maintainers(self, ticket: RemovalRequest, new: str) -> None:
        assert new == Status.COMPLETED
        removals = Removal.objects.filter(source_ref=ticket.reference).select_related("dataset")
        assert removals
        with self.capture(execute=True):  # the acknowledgement's signal runs on commit
            for removal in removals:
                response = self.api.post(
                    f"/api/v1/datasets/{removal.dataset.slug}/removals/ack/",
                    {"ids": [removal.public_id]},
                    format="json",
                )
                assert response.status_code == 200, response.content


@pytest.fixture
def walk(artist, moderator, api, dataset, django_capture_on_commit_callbacks) -> Walk:
    return Walk(artist, moderator, api, django_capture_on_commit_callbacks)


def test_every_transition_has_one_actor_and_every_open_status_a_way_out():
    assert set(TRANSITION_ACTORS) == {(old, new) for old, targets in TRANSITIONS.items() for new in targets}
    assert {Status.REJECTED, Status.WITHDRAWN, Status.COMPLETED} == TERMINAL
    for status in set(Status.values) - TERMINAL:
        assert TRANSITIONS[status], f"{status} is a dead end"
    # A moderator can always close a request that waits on someone else (except a draft, which
    # is the artist's own until submitted, and an approved one, which the maintainers complete).
    for status in (Status.SUBMITTED, Status.IN_REVIEW, Status.NEEDS_INFO):
        assert TRANSITION_ACTORS[(status, Status.REJECTED)] == Actor.MODERATOR


# The quickest way on to a closed status from each open one (used after each first step).
ONWARD = {
    Status.DRAFT: Status.WITHDRAWN,
    Status.SUBMITTED: Status.REJECTED,
    Status.IN_REVIEW: Status.REJECTED,
    Status.NEEDS_INFO: Status.REJECTED,
    Status.APPROVED: Status.COMPLETED,
}


@pytest.mark.parametrize(("old", "new"), sorted(TRANSITION_ACTORS))
def test_each_transition_is_taken_by_its_actor_and_the_request_reaches_an_end(walk, old, new):
    ticket = walk.request_in(old)
    walk.take(ticket, new)
    for _ in range(len(Status.values)):
        if ticket.status in TERMINAL:
            break
        walk.take(ticket, ONWARD[ticket.status])
    assert ticket.status in TERMINAL


def test_the_rival_of_a_resolved_conflict_is_rejected_at_the_desk(walk, moderator, dataset):
    """The dead end that was: the losing artist's request waits for information, and the desk said
    "No decision possible"; now it offers Reject, with a reason that says why."""
    owner = walk.request_in(Status.SUBMITTED)
    rival_artist = make_artist("rival@example.com", name="Rival Artist")
    rival = make_request(rival_artist, "chelsea.png")
    conflict = RequestConflict.objects.get()
    # The rival is asked for more, then the conflict goes the owner's way.
    walk.take(rival, Status.IN_REVIEW)
    walk.take(rival, Status.NEEDS_INFO)
    services.conflict_resolve(
        conflict=conflict,
        moderator=moderator,
        resolution=ConflictResolution.FIRST if conflict.first_id == owner.pk else ConflictResolution.SECOND,
        note="The owner's site has the originals from 2019.",
    )
    page = walk.desk.get(change_url(rival)).content.decode()
    assert "No decision possible" not in page
    assert f"resolved in favour of {owner.reference} (Ada Lovelace)" in page
    assert 'name="decision" value="reject"' in page and 'name="decision" value="approve"' not in page
    assert "claim to the same image was upheld" in page  # the suggested reason, ready to send
    walk.desk.post(decide_url(rival), {"decision": "reject", "reason": "The works are another artist's."})
    rival.refresh_from_db()
    assert rival.status == Status.REJECTED and rival.decision_reason == "The works are another artist's."
    # The owner's request is no longer held and goes on.
    walk.take(owner, Status.APPROVED)
