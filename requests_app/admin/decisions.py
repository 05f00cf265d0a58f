"""What a moderator can decide on a request, where each decision can be taken, and how the
desk words what happens (refusals, ages, what a request waits for, bulk skips)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _

from .. import evidence, services
from ..models import RemovalRequest
from ..workflow import DECIDABLE, REJECTABLE, REVIEWABLE, Status, TransitionNotAllowed

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

MODERATE_PERMISSION = "requests_app.moderate_removalrequest"
# Refusals a moderator can act on: shown as messages, never as a 500.
REFUSALS = (services.ActionRefused, TransitionNotAllowed)


@dataclass(frozen=True)
class Decision:
    """One decision and how the desk words it: each sentence whole in the catalogue, with its
    count (ngettext), so that a translation never glues pieces together."""

    name: str
    label: StrOrPromise  # "Approve": the button and the bulk page's breadcrumb
    reason_required: bool
    takes_reason: bool
    call: Callable[[RemovalRequest, User, str], object]
    statuses: frozenset[str]  # where it can be taken
    done_one: StrOrPromise  # "Approved %(ticket)s."
    done_many: StrOrPromise  # "Approved %(count)d requests: %(tickets)s."
    ask: StrOrPromise  # the bulk page's title: "Approve %(count)d requests?"
    act: StrOrPromise  # its button: "Approve %(count)d requests"
    plan: StrOrPromise  # what the button will do: "Approve %(count)d requests."
    none: StrOrPromise  # its title when nothing can be decided
    none_here: StrOrPromise
    intro: StrOrPromise
    not_now: StrOrPromise  # why a selected request is skipped: "%(ticket)s is draft and cannot be..."


DECISIONS = {
    "start_review": Decision(
        name="start_review",
        label=_("Start review"),
        reason_required=False,
        takes_reason=False,
        call=lambda ticket, mod, reason: services.request_start_review(ticket=ticket, moderator=mod),
        statuses=REVIEWABLE,
        done_one=_("Started review of %(ticket)s."),
        done_many=ngettext_lazy(
            "Started review of %(count)d request: %(tickets)s.",
            "Started review of %(count)d requests: %(tickets)s.",
            "count",
        ),
        ask=ngettext_lazy(
            "Start review of %(count)d request?", "Start review of %(count)d requests?", "count"
        ),
        act=ngettext_lazy("Start review of %(count)d request", "Start review of %(count)d requests", "count"),
        plan=ngettext_lazy(
            "Start review of %(count)d request.", "Start review of %(count)d requests.", "count"
        ),
        none=_("Nothing to start reviewing"),
        none_here=_("Nothing here can start review in bulk."),
        intro=_(
            "Start review of these requests? Each is decided on its own: one whose review cannot start "
            "is reported and the others go on."
        ),
        not_now=_("%(ticket)s is %(status)s and its review cannot start"),
    ),
    "approve": Decision(
        name="approve",
        label=_("Approve"),
        reason_required=False,
        takes_reason=True,
        call=lambda ticket, mod, reason: services.request_approve(
            ticket=ticket, moderator=mod, reason=reason
        ),
        statuses=DECIDABLE,
        done_one=_("Approved %(ticket)s."),
        done_many=ngettext_lazy(
            "Approved %(count)d request: %(tickets)s.", "Approved %(count)d requests: %(tickets)s.", "count"
        ),
        ask=ngettext_lazy("Approve %(count)d request?", "Approve %(count)d requests?", "count"),
        act=ngettext_lazy("Approve %(count)d request", "Approve %(count)d requests", "count"),
        plan=ngettext_lazy("Approve %(count)d request.", "Approve %(count)d requests.", "count"),
        none=_("Nothing to approve"),
        none_here=_("Nothing here can be approved in bulk."),
        intro=_(
            "Approve these requests? Each is decided on its own: one that cannot be approved is "
            "reported and the others go on."
        ),
        not_now=_("%(ticket)s is %(status)s and cannot be approved"),
    ),
    "reject": Decision(
        name="reject",
        label=_("Reject"),
        reason_required=True,
        takes_reason=True,
        call=lambda ticket, mod, reason: services.request_reject(ticket=ticket, moderator=mod, reason=reason),
        statuses=REJECTABLE,
        done_one=_("Rejected %(ticket)s."),
        done_many=ngettext_lazy(
            "Rejected %(count)d request: %(tickets)s.", "Rejected %(count)d requests: %(tickets)s.", "count"
        ),
        ask=ngettext_lazy("Reject %(count)d request?", "Reject %(count)d requests?", "count"),
        act=ngettext_lazy("Reject %(count)d request", "Reject %(count)d requests", "count"),
        plan=ngettext_lazy("Reject %(count)d request.", "Reject %(count)d requests.", "count"),
        none=_("Nothing to reject"),
        none_here=_("Nothing here can be rejected in bulk."),
        intro=_(
            "Reject these requests? Each is decided on its own: one that cannot be rejected is "
            "reported and the others go on."
        ),
        not_now=_("%(ticket)s is %(status)s and cannot be rejected"),
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
    return clock(days=days, hours=hours, minutes=minutes % 60)


def clock(*, days: int, hours: int, minutes: int | None = None) -> str:
    """A short duration in the reader's language: "3d 4h" ("3 j 4 h"), "5h 12m", "7m"; minutes
    only when under a day (None: never). The desk's ages and the dispute clocks say it so."""
    if days:
        return gettext("%(days)dd %(hours)dh") % {"days": days, "hours": hours}
    if hours or minutes is None:
        if minutes is None:
            return gettext("%(hours)dh") % {"hours": hours}
        return gettext("%(hours)dh %(minutes)dm") % {"hours": hours, "minutes": minutes}
    return gettext("%(minutes)dm") % {"minutes": minutes}


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


def bulk_skips(tickets: list[RemovalRequest], decision: Decision) -> list[tuple[RemovalRequest, str]]:
    """Which of the selected requests a bulk decision will leave alone, and why, each reason a
    clause naming its request (as _decide_all does)."""
    skipped = []
    for ticket in tickets:
        if ticket.status not in decision.statuses:
            status = str(ticket.get_status_display()).lower()
            skipped.append((ticket, str(decision.not_now) % {"ticket": ticket, "status": status}))
        elif decision.name == "approve":
            weaknesses = evidence.for_request(ticket).weaknesses
            if weaknesses:
                why = gettext("%(ticket)s needs a look on its own: %(why)s")
                skipped.append((ticket, why % {"ticket": ticket, "why": "; ".join(weaknesses)}))
    return skipped


def bulk_plan(decision: Decision, going: int, skipped: list[tuple[RemovalRequest, str]]) -> str:
    """What the bulk page's button will do, and what it leaves alone and why."""
    plan = str(decision.plan % {"count": going})
    if skipped:
        plan += " " + ngettext(
            "%(count)d will be skipped because %(why)s.",
            "%(count)d will be skipped because %(why)s.",
            len(skipped),
        ) % {"count": len(skipped), "why": "; ".join(why for _ticket, why in skipped)}
    return plan
