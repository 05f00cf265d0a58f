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
            _("A request that is %(old)s cannot become %(new)s.")
            % {"old": str(Status(old).label).lower(), "new": str(Status(new).label).lower()}
        )


def check_transition(old: str, new: str) -> None:
    if new not in TRANSITIONS[old]:
        raise TransitionNotAllowed(old, new)
