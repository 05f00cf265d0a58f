"""The artist's side of a dispute about one of their removals (registry.services.disputes holds
the dispute itself): the timeline rows and emails each step brings, and the artist's answer.

Registry tells this side through `registry.signals.dispute_changed` (requests_app/receivers.py),
inside the step's transaction, so the timeline row commits with the step.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from registry import services as registry_services
from registry.models import Dispute, DisputeMessage, RemovalSource

from .. import notify, selectors
from ..models import EventKind, RemovalRequest
from ._ticket import ActionRefused, _event, _owned


def _ticket_of(dispute: Dispute) -> RemovalRequest | None:
    removal = dispute.removal
    if removal.source != RemovalSource.ARTIST:
        return None
    return RemovalRequest.objects.select_related("artist__user").filter(reference=removal.source_ref).first()


def dispute_step_record(*, dispute: Dispute, what: str, message: DisputeMessage) -> None:
    """One step of a dispute on the request's timeline, and the email it brings the artist (or,
    when the clock ran out, the moderators). Nothing about the disputant but their reason."""
    ticket = _ticket_of(dispute)
    params: dict[str, object] = {
        "text": "dispute",
        "step": what,
        "dispute": dispute.public_id,
        "removal": dispute.removal.public_id,
    }
    if what == "opened" and dispute.response_due_at is not None:
        params["due"] = dispute.response_due_at.strftime("%Y-%m-%d %H:%M")
    if what == "decided":
        params["outcome"] = dispute.state
        params["reason"] = dispute.decision_reason
    if ticket is not None:
        _event(ticket, kind=EventKind.DISPUTE, actor=message.actor, params=params)
    if what == "due":
        notify.dispute_due(dispute=dispute, recipients=[u.email for u in selectors.moderators() if u.email])
    if ticket is None or what not in ("opened", "decided"):
        return
    notify.request_dispute(ticket=ticket, dispute=dispute, what=what)


@transaction.atomic
def dispute_artist_answer(
    *, ticket: RemovalRequest, dispute_id: str, body: str, links: list[str], actor: User
) -> DisputeMessage:
    """The artist answers a dispute about one of this request's removals, before its deadline."""
    _owned(ticket, actor)
    dispute = selectors.disputes_of_ticket(ticket).filter(public_id=dispute_id[:40]).first()
    if dispute is None:
        raise ActionRefused(_("This request has no such dispute."))
    try:
        return registry_services.dispute_answer(dispute=dispute, body=body, links=links, actor=actor)
    except registry_services.DisputeRefused as exc:
        # The answer's text is the service's "statement"; its form calls the field "body".
        raise ActionRefused(
            exc.message, field={"statement": "body"}.get(exc.field, exc.field) or "body"
        ) from None
