"""Email to artists. Django's mail backend is the interface: console in development, SMTP in production."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string

from .models import RemovalRequest


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
