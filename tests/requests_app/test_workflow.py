"""The transition table and the services that move a request along it."""

from __future__ import annotations

import pytest

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


def test_the_named_status_sets_keep_their_members():
    from requests_app import workflow as w

    assert {Status.SUBMITTED, Status.IN_REVIEW, Status.NEEDS_INFO} == w.OPEN
    assert w.OPEN | {Status.APPROVED, Status.COMPLETED} == w.CLAIMING
    assert {Status.APPROVED, Status.COMPLETED} == w.REACHES_REGISTRY
    assert {Status.SUBMITTED} == w.REVIEWABLE
    # A moderator can be assigned to any request that is not closed.
    assert set(Status.values) - w.TERMINAL == w.ASSIGNABLE
    assert w.QUEUE == (Status.SUBMITTED, Status.IN_REVIEW, Status.NEEDS_INFO, Status.APPROVED)
