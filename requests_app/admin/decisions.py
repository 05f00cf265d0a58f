"""What a moderator can decide on a request, where each decision can be taken, and how the
desk words what happens (refusals, ages, what a request waits for, bulk skips)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext

from .. import evidence, services
from ..models import RemovalRequest
from ..workflow import DECIDABLE, REJECTABLE, REVIEWABLE, Status, TransitionNotAllowed

MODERATE_PERMISSION = "requests_app.moderate_removalrequest"
# Refusals a moderator can act on: shown as messages, never as a 500.
REFUSALS = (services.ActionRefused, TransitionNotAllowed)


@dataclass(frozen=True)
class Decision:
    name: str
    label: str
    done: str  # "Approved", for "Approved 3 requests"
    reason_required: bool
    takes_reason: bool
    call: Callable[[RemovalRequest, User, str], object]
    statuses: frozenset[str]  # where it can be taken


DECISIONS = {
    "start_review": Decision(
        name="start_review",
        label="Start review",
        done="Started review of",
        reason_required=False,
        takes_reason=False,
        call=lambda ticket, mod, reason: services.request_start_review(ticket=ticket, moderator=mod),
        statuses=REVIEWABLE,
    ),
    "approve": Decision(
        name="approve",
        label="Approve",
        done="Approved",
        reason_required=False,
        takes_reason=True,
        call=lambda ticket, mod, reason: services.request_approve(
            ticket=ticket, moderator=mod, reason=reason
        ),
        statuses=DECIDABLE,
    ),
    "reject": Decision(
        name="reject",
        label="Reject",
        done="Rejected",
        reason_required=True,
        takes_reason=True,
        call=lambda ticket, mod, reason: services.request_reject(ticket=ticket, moderator=mod, reason=reason),
        statuses=REJECTABLE,
    ),
}


def refusal_text(ticket: RemovalRequest, exc: Exception) -> str:
    text = str(exc)
    return text if ticket.reference and text.startswith(ticket.reference) else f"{ticket}: {text}"


def age(since: Any) -> str:
    if since is None:
        return "—"
    delta: timedelta = timezone.now() - since
    minutes = int(delta.total_seconds() // 60)
    days, hours = divmod(minutes // 60, 24)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes % 60}m"
    return f"{minutes}m"


def waiting_on(status: str) -> str:
    """What the request waits for when no moderator decision moves it: said on the desk."""
    said: dict[str, str] = {
        Status.DRAFT: gettext("The artist has not submitted it yet: nothing to decide."),
        Status.NEEDS_INFO: gettext("Waiting for the artist's answer. Reject it if it cannot go further."),
        Status.APPROVED: gettext(
            "Approved: waiting for the maintainers to acknowledge the removals. It completes by itself "
            "when every data set has."
        ),
        Status.REJECTED: gettext("Closed: rejected."),
        Status.WITHDRAWN: gettext("Closed: withdrawn by the artist."),
        Status.COMPLETED: gettext("Closed: every data set acknowledged the removals."),
    }
    return said.get(status, "")


def breakable_email(address: str) -> str:
    """An address that may wrap before its "@" in a narrow column."""
    local, at, domain = address.partition("@")
    return format_html("{}<wbr>{}{}", local, at, domain) if at else address


def requests_phrase(count: int) -> str:
    return f"{count} request" if count == 1 else f"{count} requests"


def bulk_skips(tickets: list[RemovalRequest], decision: Decision) -> list[tuple[RemovalRequest, str]]:
    """Which of the selected requests a bulk decision will leave alone, and why (as _decide_all does)."""
    skipped = []
    for ticket in tickets:
        if ticket.status not in decision.statuses:
            status = str(ticket.get_status_display()).lower()
            skipped.append((ticket, f"is {status} and cannot be {decision.done.lower()}"))
        elif decision.name == "approve":
            weaknesses = evidence.for_request(ticket).weaknesses
            if weaknesses:
                skipped.append((ticket, f"needs a look on its own: {'; '.join(weaknesses)}"))
    return skipped
