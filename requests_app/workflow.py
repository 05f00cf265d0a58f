"""The ticket's statuses and every transition allowed between them: one table."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy


class Status(models.TextChoices):
    # With a context: "Submitted" is also the request page's date label ("Envoyée le").
    DRAFT = "draft", pgettext_lazy("request status", "Draft")
    SUBMITTED = "submitted", pgettext_lazy("request status", "Submitted")
    IN_REVIEW = "in_review", pgettext_lazy("request status", "In review")
    NEEDS_INFO = "needs_info", pgettext_lazy("request status", "Needs information")
    APPROVED = "approved", pgettext_lazy("request status", "Approved")
    REJECTED = "rejected", pgettext_lazy("request status", "Rejected")
    WITHDRAWN = "withdrawn", pgettext_lazy("request status", "Withdrawn")
    COMPLETED = "completed", pgettext_lazy("request status", "Completed")


TRANSITIONS: dict[str, frozenset[str]] = {
    Status.DRAFT: frozenset({Status.SUBMITTED, Status.WITHDRAWN}),
    Status.SUBMITTED: frozenset({Status.IN_REVIEW, Status.APPROVED, Status.REJECTED, Status.WITHDRAWN}),
    Status.IN_REVIEW: frozenset({Status.NEEDS_INFO, Status.APPROVED, Status.REJECTED}),
    # A moderator may also reject while waiting: the artist never answers, or a conflict was
    # resolved in the other artist's favour. Without it a request waiting for information had no
    # way forward but the artist's.
    Status.NEEDS_INFO: frozenset({Status.SUBMITTED, Status.WITHDRAWN, Status.REJECTED}),
    Status.APPROVED: frozenset({Status.COMPLETED}),
    Status.REJECTED: frozenset(),
    Status.WITHDRAWN: frozenset(),
    Status.COMPLETED: frozenset(),
}


class Actor(models.TextChoices):
    ARTIST = "artist", "artist"
    MODERATOR = "moderator", "moderator"
    # Approved -> completed happens when the last data set's maintainers acknowledge the removals.
    MAINTAINERS = "maintainers", "maintainers"


# Who takes each transition: every non-terminal status has at least one (tests/requests_app/
# test_workflow_walk.py walks every one through the services and the desk).
TRANSITION_ACTORS: dict[tuple[str, str], Actor] = {
    (Status.DRAFT, Status.SUBMITTED): Actor.ARTIST,
    (Status.DRAFT, Status.WITHDRAWN): Actor.ARTIST,
    (Status.SUBMITTED, Status.IN_REVIEW): Actor.MODERATOR,
    (Status.SUBMITTED, Status.APPROVED): Actor.MODERATOR,
    (Status.SUBMITTED, Status.REJECTED): Actor.MODERATOR,
    (Status.SUBMITTED, Status.WITHDRAWN): Actor.ARTIST,
    (Status.IN_REVIEW, Status.NEEDS_INFO): Actor.MODERATOR,
    (Status.IN_REVIEW, Status.APPROVED): Actor.MODERATOR,
    (Status.IN_REVIEW, Status.REJECTED): Actor.MODERATOR,
    (Status.NEEDS_INFO, Status.SUBMITTED): Actor.ARTIST,
    (Status.NEEDS_INFO, Status.WITHDRAWN): Actor.ARTIST,
    (Status.NEEDS_INFO, Status.REJECTED): Actor.MODERATOR,
    (Status.APPROVED, Status.COMPLETED): Actor.MAINTAINERS,
}

TERMINAL = frozenset(status for status, targets in TRANSITIONS.items() if not targets)

# Statuses in which a moderator can decide (approve or reject).
DECIDABLE = frozenset({Status.SUBMITTED, Status.IN_REVIEW})
# Statuses in which a moderator can reject: also while waiting for the artist's answer.
REJECTABLE = DECIDABLE | {Status.NEEDS_INFO}
# Statuses in which the artist can still change works and matches.
EDITABLE = frozenset({Status.DRAFT, Status.NEEDS_INFO})
# Statuses in which a moderator can start the review.
REVIEWABLE = frozenset({Status.SUBMITTED})
# Requests in front of the moderators: submitted and not yet decided.
OPEN = frozenset({Status.SUBMITTED, Status.IN_REVIEW, Status.NEEDS_INFO})
# Requests whose claims still count: a rejected or withdrawn claim conflicts with nobody.
CLAIMING = OPEN | {Status.APPROVED, Status.COMPLETED}
# Requests closed without effect: their works may join another request from the portfolio.
RELEASED = frozenset({Status.REJECTED, Status.WITHDRAWN})
# Requests whose removals reach the registry: approved, and completed once acknowledged.
REACHES_REGISTRY = frozenset({Status.APPROVED, Status.COMPLETED})
# Requests a moderator can be assigned to: every one not closed (TERMINAL).
ASSIGNABLE = frozenset({Status.DRAFT, Status.SUBMITTED, Status.IN_REVIEW, Status.NEEDS_INFO, Status.APPROVED})
# The statuses counted on the admin index page, in the order shown.
QUEUE = (Status.SUBMITTED, Status.IN_REVIEW, Status.NEEDS_INFO, Status.APPROVED)


class TransitionNotAllowed(Exception):
    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new
        super().__init__(
            _("A request that is %(old)s cannot become %(new)s.")
            % {"old": str(Status(old).label).lower(), "new": str(Status(new).label).lower()}
        )


def check_transition(old: str, new: str) -> None:
    if new not in TRANSITIONS[old]:
        raise TransitionNotAllowed(old, new)
