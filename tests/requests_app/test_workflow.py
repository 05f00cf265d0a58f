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
