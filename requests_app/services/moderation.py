"""The moderators' desk: review, approval, rejection, notes and replies, assignment,
questions to the artist, and the SLA clock with its escalation.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from registry import services as registry_services
from registry.hosts import Scope
from registry.models import Dataset

from .. import notify, selectors, timeline
from ..models import (
    EventKind,
    Priority,
    RemovalRequest,
    TicketEvent,
    WorkDecision,
)
from ..workflow import ASSIGNABLE, DECIDABLE, REJECTABLE, Status
from . import approval
from ._ticket import ActionRefused, _event, _locked, _not_decidable, _owned, _transition
from .completion import _enqueue_rematch
from .conflicts import _locked_with_rivals, _rivals_free
from .domains import scopes_still_proved


@transaction.atomic
def request_start_review(*, ticket: RemovalRequest, moderator: User) -> RemovalRequest:
    ticket = _locked(ticket)
    _transition(ticket, Status.IN_REVIEW, actor=moderator)
    if ticket.assignee_id is None:
        ticket.assignee = moderator
        ticket.save(update_fields=["assignee"])
        _assignment_event(ticket, moderator=moderator, old="", new=moderator.get_username())
    notify.request_changed(
        ticket=ticket, headline=gettext_lazy("A moderator is reviewing your removal request")
    )
    return ticket


@transaction.atomic
def request_approve(*, ticket: RemovalRequest, moderator: User, reason: str = "") -> RemovalRequest:
    """Approve: record a registry Removal for every confirmed match, with its outbox rows, atomically.

    Conflicts hold only the works they touch: those stay HELD (services.approval) and the rest is
    approved; a request whose every work is held, or lost to another artist, is refused as before.
    Streamed at any size (5,000 works, 50,000 matches): see services.approval.works_approve.
    """
    ticket = _locked(ticket)
    if ticket.status not in DECIDABLE:
        raise ActionRefused(_not_decidable(ticket))
    holds = selectors.approval_holds(ticket)
    undecided = ticket.works.filter(decision=WorkDecision.UNDECIDED)
    works = undecided.exclude(pk__in=holds.held | holds.lost)
    scopes = scopes_still_proved(ticket)
    if not approval._has_removals(ticket, works) and not scopes:
        if holds.open_conflicts:
            other = holds.open_conflicts[0].other(ticket)
            raise ActionRefused(
                _(
                    "%(reference)s is held: %(other)s (%(artist)s) claims the same image(s). "
                    "Resolve the conflict first."
                )
                % {
                    "reference": ticket.reference,
                    "other": other.reference,
                    "artist": other.artist.display_name,
                }
            )
        if holds.open_partner_conflicts:
            by_partner = holds.open_partner_conflicts[0]
            raise ActionRefused(
                _(
                    "%(reference)s is held: the partner %(partner)s had the same registered copies removed "
                    "for a creator of its own (filing %(filing)s). Resolve the conflict first."
                )
                % {
                    "reference": ticket.reference,
                    "partner": by_partner.partner,
                    "filing": by_partner.filing_ref,
                }
            )
        if holds.lost_conflicts:
            raise ActionRefused(
                _(
                    "%(reference)s: the conflict with %(other)s was resolved in favour of the other artist; "
                    "reject this request instead."
                )
                % {"reference": ticket.reference, "other": holds.lost_conflicts[0].other(ticket).reference}
            )
        raise ActionRefused(
            _("%(reference)s has no checked works and no confirmed matches to remove.")
            % {"reference": ticket.reference}
        )
    _transition(ticket, Status.APPROVED, actor=moderator, message=reason)
    ticket.decision_reason = reason
    ticket.save(update_fields=["decision_reason"])
    summary = approval._works_approve(ticket, works)
    # The request's choice is its domain rules' choice (a domain request has one choice for its lines).
    covered = registry_services.domain_optouts_record(
        source_ref=ticket.reference or "",
        reason=ticket.basis,
        scopes=scopes,
        approved_at=ticket.decided_at,
        consent=ticket.consent(),
    )
    held = undecided.filter(pk__in=holds.held).update(decision=WorkDecision.HELD)
    dropped = undecided.filter(pk__in=holds.lost).update(decision=WorkDecision.DROPPED)
    reference = ticket.reference or ""
    transaction.on_commit(lambda: _enqueue_rematch(reference))
    approval._removals_event(
        ticket, summary, moderator, count=covered.removals, dataset_ids=covered.removals_by_dataset
    )
    if scopes:
        _event(ticket, kind=EventKind.REMOVALS, actor=moderator, params=_domain_params(scopes, covered))
    if held:
        _event(ticket, kind=EventKind.REMOVALS, actor=moderator, params={"text": "works_held", "count": held})
    if dropped:
        _event(
            ticket,
            kind=EventKind.REMOVALS,
            actor=moderator,
            params={"text": "works_dropped", "count": dropped},
        )
    notify.request_changed(
        ticket=ticket,
        headline=gettext_lazy("Your removal request was approved"),
        message=reason or gettext_lazy("We have sent the removals to the data set maintainers."),
    )
    # A request whose works were all licensed recorded no removal to wait for: it completes now.
    approval.request_complete_if_acknowledged(reference=reference)
    return ticket


def _domain_params(scopes: Sequence[Scope], covered: registry_services.OptOutsRecorded) -> dict[str, object]:
    """The timeline row of a domain request's approval: per scope line, its removals per data set."""
    written = {*covered.removals_by_dataset, *covered.grants_by_dataset}
    labels = dict(
        (d.pk, f"{d.name} ({d.maintainer.name})")
        for d in Dataset.objects.filter(pk__in=list(written)).select_related("maintainer")
    )
    return {
        "text": "domain_removals",
        # Added with domain choices: what the lines' rules say (their counts are grants for a licence).
        "choice": covered.rules[0].choice if covered.rules else "remove",
        "scopes": [
            {"scope": str(scope), "datasets": {labels[pk]: n for pk, n in counts.items()}}
            for scope, counts in zip(scopes, covered.per_rule, strict=True)
        ],
    }


@transaction.atomic
def request_reject(*, ticket: RemovalRequest, moderator: User, reason: str) -> RemovalRequest:
    if not reason.strip():
        raise ActionRefused(_("Give the artist a reason for the rejection."))
    ticket = _locked_with_rivals(ticket)  # its conflicts' held works are freed in the other requests
    if ticket.status not in REJECTABLE:
        raise ActionRefused(
            _(
                "%(reference)s is %(status)s; only submitted, in-review or needs-information requests "
                "can be rejected."
            )
            % {"reference": ticket.reference, "status": str(ticket.get_status_display()).lower()}
        )
    _transition(ticket, Status.REJECTED, actor=moderator, message=reason)
    ticket.decision_reason = reason
    ticket.save(update_fields=["decision_reason"])
    _rivals_free(leaving=ticket)
    notify.request_changed(
        ticket=ticket, headline=gettext_lazy("Your removal request was rejected"), message=reason
    )
    return ticket


@transaction.atomic
def request_note_add(*, ticket: RemovalRequest, moderator: User, message: str, public: bool) -> TicketEvent:
    """A moderator writes on the timeline: an internal note (moderators only) or a public reply.

    A public reply is also emailed to the artist. Neither changes the
    request's status, so no lock is needed: two notes at once are two rows.
    """
    message = message.strip()
    if not message:
        raise ActionRefused(_("Write something first: the note is empty."))
    if len(message) > 10_000:
        raise ActionRefused(_("Keep a note or reply under 10,000 characters."))
    ticket = RemovalRequest.objects.select_related("artist__user").get(pk=ticket.pk)
    event = _event(
        ticket,
        kind=EventKind.PUBLIC_REPLY if public else EventKind.INTERNAL_NOTE,
        actor=moderator,
        message=message,
    )
    if public:
        notify.request_changed(
            ticket=ticket,
            headline=gettext_lazy("A moderator replied to your removal request"),
            message=message,
        )
    return event


@transaction.atomic
def request_assign(*, ticket: RemovalRequest, moderator: User, assignee: User | None) -> RemovalRequest:
    """Claim (assignee is the moderator), hand over to another moderator, or unassign (None)."""
    ticket = _locked(ticket)
    if ticket.status not in ASSIGNABLE:
        raise ActionRefused(
            _("%(reference)s is %(status)s; nothing to work on.")
            % {"reference": ticket.reference, "status": str(ticket.get_status_display()).lower()}
        )
    if assignee is not None and not selectors.is_moderator(assignee):
        raise ActionRefused(_("%(user)s is not a moderator.") % {"user": assignee.get_username()})
    if ticket.assignee_id == (assignee.pk if assignee else None):
        return ticket
    old = ticket.assignee.get_username() if ticket.assignee else ""
    ticket.assignee = assignee
    ticket.save(update_fields=["assignee", "updated_at"])
    _assignment_event(ticket, moderator=moderator, old=old, new=assignee.get_username() if assignee else "")
    return ticket


def _assignment_event(ticket: RemovalRequest, *, moderator: User, old: str, new: str) -> None:
    _event(
        ticket,
        kind=EventKind.ASSIGNMENT,
        actor=moderator,
        old=old,
        new=new,
        params={"text": "assignment", "old": old, "new": new},
    )


@transaction.atomic
def request_ask_info(
    *, ticket: RemovalRequest, moderator: User, message: str = "", canned: str = ""
) -> RemovalRequest:
    """Send the request back to the artist with a question; their resubmission puts it back in the queue.

    `canned` names one of MODERATION_CANNED_RESPONSES: it is stored by its key, so each reader
    gets it in their language; `message` is the moderator's own words, kept as typed.
    """
    note = message.strip()
    texts = {key: text for key, _title, text in settings.MODERATION_CANNED_RESPONSES}
    if canned and canned not in texts:
        raise ActionRefused(_("Choose one of the canned questions, or none."))
    if not canned and not note:
        raise ActionRefused(_("Write what you need from the artist."))
    if len(note) > 10_000:
        raise ActionRefused(_("Keep the question under 10,000 characters."))
    params: dict[str, object] = {"text": "needs_info", "canned": canned, "note": note}
    ticket = _locked(ticket)
    if ticket.status == Status.SUBMITTED:
        # Asking is reviewing: the request passes through in_review, so the table holds.
        _transition(ticket, Status.IN_REVIEW, actor=moderator)
        if ticket.assignee_id is None:
            ticket.assignee = moderator
            ticket.save(update_fields=["assignee"])
            _assignment_event(ticket, moderator=moderator, old="", new=moderator.get_username())
    _transition(ticket, Status.NEEDS_INFO, actor=moderator, params=params)
    notify.request_needs_info(ticket=ticket, message=notify.later(lambda: timeline.render(params)))
    return ticket


def sla_state(ticket: RemovalRequest, now: datetime | None = None) -> str:
    """ "overdue", "due_soon", "on_track", or "" (no clock runs in this status)."""
    if ticket.sla_due_at is None or ticket.status not in settings.SLA_HOURS:
        return ""
    now = now or timezone.now()
    if ticket.sla_due_at <= now:
        return "overdue"
    if ticket.sla_due_at <= now + timedelta(hours=settings.SLA_DUE_SOON_HOURS):
        return "due_soon"
    return "on_track"


def sla_escalate(*, now: datetime | None = None) -> int:
    """Raise the priority of overdue requests, note it, and tell the assignee (or every moderator).

    Once per due time: escalated_at is compared with sla_due_at, and every
    transition sets a new due time. Safe to run twice.
    """
    from django.db.models import F, Q

    now = now or timezone.now()
    due = RemovalRequest.objects.filter(status__in=list(settings.SLA_HOURS), sla_due_at__lte=now).filter(
        Q(escalated_at__isnull=True) | Q(escalated_at__lt=F("sla_due_at"))
    )
    count = 0
    for request_id in list(due.values_list("pk", flat=True)[:500]):
        with transaction.atomic():
            ticket = (
                RemovalRequest.objects.select_for_update(of=("self",))
                .select_related("assignee")
                .get(pk=request_id)
            )
            if sla_state(ticket, now) != "overdue" or (
                ticket.escalated_at is not None
                and ticket.sla_due_at is not None
                and ticket.escalated_at >= ticket.sla_due_at
            ):
                continue
            old_priority = ticket.priority
            ticket.priority = Priority.HIGH
            ticket.escalated_at = now
            ticket.save(update_fields=["priority", "escalated_at"])
            late = now - ticket.sla_due_at if ticket.sla_due_at else timedelta(0)
            _event(
                ticket,
                kind=EventKind.ESCALATION,
                actor=None,
                old=str(old_priority),
                new=str(Priority.HIGH),
                params={
                    "text": "sla_escalated",
                    "hours": int(late.total_seconds() // 3600),
                    "status": ticket.status,
                },
            )
            notify.sla_overdue(ticket=ticket, recipients=_escalation_recipients(ticket))
            count += 1
    return count


def _escalation_recipients(ticket: RemovalRequest) -> list[str]:
    if ticket.assignee is not None and ticket.assignee.is_active and ticket.assignee.email:
        return [ticket.assignee.email]
    return sorted(set(selectors.moderators().exclude(email="").values_list("email", flat=True)))


ARTIST_REPLY_MAX = 10_000


@transaction.atomic
def request_artist_reply(*, ticket: RemovalRequest, artist_user: User, message: str) -> TicketEvent:
    """The artist writes to the moderators on the request's timeline (a public reply by the artist)."""
    ticket = RemovalRequest.objects.select_related("artist__user").get(pk=ticket.pk)
    _owned(ticket, artist_user)
    message = message.strip()
    if not message:
        raise ActionRefused(_("Write something first: the message is empty."))
    if len(message) > ARTIST_REPLY_MAX:
        raise ActionRefused(_("Keep a message under 10,000 characters."))
    if ticket.status == Status.WITHDRAWN:
        raise ActionRefused(_("This request is withdrawn; start a new one to write to the moderators."))
    return _event(ticket, kind=EventKind.PUBLIC_REPLY, actor=artist_user, message=message)
