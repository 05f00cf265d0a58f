"""The ticket's private core: the refusal every service raises, the row lock, the
checked status change and the timeline row each state change writes.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .. import timeline
from ..models import (
    EventKind,
    RemovalRequest,
    TicketEvent,
)
from ..workflow import Status, TransitionNotAllowed, check_transition


class ActionRefused(Exception):
    """A request to change something that cannot be done now; the message says why, for a person.

    `field` names the form field the refusal is about ("signed_name"), so a page can show
    the message next to it; "" when it is about the request as a whole.
    """

    def __init__(self, message: object = "", *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def _en(value: object) -> str:
    """In English whatever the active language: for what is stored on the timeline.

    `value` is a lazy string, an object whose str() uses choice labels, or a getter such as
    `proof.get_method_display` (which translates when called, so it is called in here).
    """
    with translation.override(settings.LANGUAGE_CODE):
        return str(value() if callable(value) else value)


def _event(
    ticket: RemovalRequest,
    *,
    kind: str,
    actor: User | None,
    old: str = "",
    new: str = "",
    message: str = "",
    params: dict[str, object] | None = None,
) -> TicketEvent:
    """One timeline row. With `params` (see timeline.py), `message` defaults to their English rendering."""
    params = params or {}
    if params and not message:
        message = timeline.render_english(params)
    return TicketEvent.objects.create(
        request=ticket,
        kind=kind,
        actor=actor,
        old_value=old,
        new_value=new,
        message=message,
        params=params,
    )


def _locked(ticket: RemovalRequest) -> RemovalRequest:
    # Two moderators (or a moderator and the artist) acting on one request at
    # once: the second waits for the first and then sees its result.
    return RemovalRequest.objects.select_for_update().select_related("artist__user").get(pk=ticket.pk)


def _transition(
    ticket: RemovalRequest,
    new: str,
    *,
    actor: User | None,
    message: str = "",
    params: dict[str, object] | None = None,
) -> None:
    old = ticket.status
    try:
        check_transition(old, new)
    except TransitionNotAllowed as exc:
        raise ActionRefused(f"{ticket.reference}: {exc}") from None
    ticket.status = new
    now = timezone.now()
    stamps: dict[str, str] = {
        Status.SUBMITTED: "submitted_at",
        Status.APPROVED: "decided_at",
        Status.REJECTED: "decided_at",
        Status.COMPLETED: "completed_at",
    }
    fields = ["status", "updated_at", "sla_due_at"]
    if new in stamps:
        setattr(ticket, stamps[new], now)
        fields.append(stamps[new])
    # Each status has its own clock (settings.SLA_HOURS); the artist's turn and decided ones have none.
    hours = settings.SLA_HOURS.get(new)
    ticket.sla_due_at = now + timedelta(hours=hours) if hours else None
    ticket.save(update_fields=fields)
    _event(ticket, kind=EventKind.STATUS, actor=actor, old=old, new=new, message=message, params=params)


def _not_decidable(ticket: RemovalRequest) -> str:
    return _("%(reference)s is %(status)s; only submitted or in-review requests can be decided.") % {
        "reference": ticket.reference,
        "status": str(ticket.get_status_display()).lower(),
    }


def _owned(ticket: RemovalRequest, actor: User) -> None:
    if ticket.artist.user_id != actor.pk:
        raise ActionRefused(_("This request belongs to another account."))
