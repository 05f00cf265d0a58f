"""A dispute about a removal a partner filed (registry.services.disputes holds the dispute): each
step is audited on the filing, and the partner's contact is told when it opens and is decided."""

from __future__ import annotations

from django.core.mail import send_mail
from django.db import transaction

from registry.models import Dispute, DisputeMessage, RemovalSource

from ..models import Filing, PartnerActionKind
from .audit import partner_action_record


def filing_dispute_record(*, dispute: Dispute, what: str, message: DisputeMessage) -> None:
    removal = dispute.removal
    if removal.source != RemovalSource.PARTNER:
        return
    filing = Filing.objects.select_related("partner").filter(public_id=removal.source_ref).first()
    if filing is None:
        return
    partner_action_record(
        actor=message.actor,
        kind=PartnerActionKind.DISPUTE,
        obj=filing,
        detail={
            "dispute": dispute.public_id,
            "removal": removal.public_id,
            "step": what,
            "state": dispute.state,
            "reason": dispute.reason,
        },
    )
    if what == "opened":
        due = dispute.response_due_at.strftime("%Y-%m-%d %H:%M UTC") if dispute.response_due_at else ""
        subject = f"[{dispute.public_id}] A removal you filed is disputed"
        body = (
            f"Dispute {dispute.public_id} says removal {removal.public_id} (filing {filing.public_id}, "
            f"item {removal.url or removal.external_id or '-'}) is wrong: {dispute.get_reason_display()}.\n\n"
            f"Their statement:\n{dispute.statement}\n\n"
            f"Answer with your evidence before {due}: "
            f"POST /api/v1/partner/disputes/{dispute.public_id}/answer/ (docs/api.md, Partners). "
            "A moderator then keeps the removal or revokes it."
        )
    elif what == "decided":
        kept = "stays in force" if dispute.state == "upheld" else "is revoked"
        subject = f"[{dispute.public_id}] Dispute decided: removal {removal.public_id} {kept}"
        body = f"The moderator's reason: {dispute.decision_reason}\n"
    else:
        return
    to = filing.partner.contact_email
    transaction.on_commit(lambda: send_mail(subject, body, None, [to], fail_silently=False))
