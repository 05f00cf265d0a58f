"""Email to artists. Django's mail backend is the interface: console in development, SMTP in production."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string

from .models import IdentityProof, RemovalRequest


def _send(*, to: str, subject: str, template: str, context: dict[str, object]) -> None:
    body = render_to_string(template, {**context, "site_url": settings.SITE_URL})
    transaction.on_commit(lambda: send_mail(subject, body, None, [to], fail_silently=False))


def email_verification(*, to: str, name: str, link: str) -> None:
    _send(
        to=to,
        subject="Confirm your email address for Removal Desk",
        template="emails/verify_email.txt",
        context={"name": name, "link": link},
    )


def request_changed(*, request: RemovalRequest, headline: str, message: str = "") -> None:
    _send(
        to=request.artist.user.email,
        subject=f"[{request.reference}] {headline}",
        template="emails/request_changed.txt",
        context={"request": request, "headline": headline, "message": message},
    )


def request_needs_info(*, request: RemovalRequest, message: str) -> None:
    _send(
        to=request.artist.user.email,
        subject=f"[{request.reference}] We need more information",
        template="emails/request_needs_info.txt",
        context={"request": request, "message": message},
    )


def sla_overdue(*, request: RemovalRequest, recipients: list[str]) -> None:
    """To the assignee, or every moderator when nobody has claimed the request."""
    if not recipients:
        return
    body = render_to_string("emails/sla_overdue.txt", {"request": request, "site_url": settings.SITE_URL})
    subject = f"[{request.reference}] Overdue: {request.get_status_display().lower()}"
    transaction.on_commit(lambda: send_mail(subject, body, None, recipients, fail_silently=False))


def proof_lapsed(*, proof: IdentityProof, reason: str) -> None:
    _send(
        to=proof.artist.user.email,
        subject="One of your identity proofs no longer holds",
        template="emails/proof_lapsed.txt",
        context={"proof": proof, "reason": reason, "name": proof.artist.display_name},
    )


def proof_reviewed(*, proof: IdentityProof, accepted: bool, note: str) -> None:
    _send(
        to=proof.artist.user.email,
        subject="Your document was reviewed" if accepted else "Your document was not accepted",
        template="emails/proof_reviewed.txt",
        context={"proof": proof, "accepted": accepted, "note": note, "name": proof.artist.display_name},
    )
