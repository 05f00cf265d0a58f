"""The ticket's statuses and every transition allowed between them: one table."""

from __future__ import annotations

from django.db import models


class Status(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    IN_REVIEW = "in_review", "In review"
    NEEDS_INFO = "needs_info", "Needs information"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"
    COMPLETED = "completed", "Completed"


TRANSITIONS: dict[str, frozenset[str]] = {
    Status.DRAFT: frozenset({Status.SUBMITTED, Status.WITHDRAWN}),
    Status.SUBMITTED: frozenset({Status.IN_REVIEW, Status.APPROVED, Status.REJECTED, Status.WITHDRAWN}),
    Status.IN_REVIEW: frozenset({Status.NEEDS_INFO, Status.APPROVED, Status.REJECTED}),
    Status.NEEDS_INFO: frozenset({Status.SUBMITTED, Status.WITHDRAWN}),
    Status.APPROVED: frozenset({Status.COMPLETED}),
    Status.REJECTED: frozenset(),
    Status.WITHDRAWN: frozenset(),
    Status.COMPLETED: frozenset(),
}

# Statuses in which a moderator can decide (approve or reject).
DECIDABLE = frozenset({Status.SUBMITTED, Status.IN_REVIEW})
# Statuses in which the artist can still change works and matches.
EDITABLE = frozenset({Status.DRAFT, Status.NEEDS_INFO})


class TransitionNotAllowed(Exception):
    def __init__(self, old: str, new: str) -> None:
        self.old, self.new = old, new
        super().__init__(
            f"A request that is {Status(old).label.lower()} cannot become {Status(new).label.lower()}."
        )


def check_transition(old: str, new: str) -> None:
    if new not in TRANSITIONS[old]:
        raise TransitionNotAllowed(old, new)
