"""Email to whoever filed a dispute: a public disputant (in the language of the page they filed
from) or the maintainer organisation (its operational address, in English, like its other notices).

What the disputant receives never names the side that asked for the removal: no artist's name,
address, request reference or work file. Only the removal's id, its data set, the address of the
item they named, the state of the dispute and the moderator's reason.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from .models import Dispute, DisputeFiler


def _language(dispute: Dispute) -> str:
    codes = {code for code, _name in settings.LANGUAGES}
    if dispute.filer == DisputeFiler.PUBLIC and dispute.language in codes:
        return dispute.language
    return settings.LANGUAGE_CODE


def _recipient(dispute: Dispute) -> str:
    if dispute.filer == DisputeFiler.PUBLIC:
        return dispute.email
    return dispute.maintainer.email if dispute.maintainer else ""


def _send(dispute: Dispute, *, subject: Callable[[], str], template: str, context: dict[str, object]) -> None:
    to = _recipient(dispute)
    if not to:
        return
    removal = dispute.removal
    with translation.override(_language(dispute)):
        body = render_to_string(
            template,
            {
                **context,
                "dispute": dispute,
                "removal_id": removal.public_id,
                "dataset": removal.dataset.name,
                "item_url": removal.url or "",
                "site_url": settings.SITE_URL,
            },
        )
        subject_text = f"[{dispute.public_id}] {subject()}"
    transaction.on_commit(lambda: send_mail(subject_text, body, None, [to], fail_silently=False))


def confirm_link(dispute: Dispute, *, link: str) -> None:
    _send(
        dispute,
        subject=lambda: _("Confirm your dispute"),
        template="emails/dispute_confirm.txt",
        context={"link": link, "hours": settings.DISPUTE_CONFIRM_HOURS},
    )


def opened(dispute: Dispute) -> None:
    _send(
        dispute,
        subject=lambda: _("Your dispute is open"),
        template="emails/dispute_opened.txt",
        context={"due": dispute.response_due_at},
    )


def answered(dispute: Dispute) -> None:
    _send(
        dispute,
        subject=lambda: _("The removal's requester answered your dispute"),
        template="emails/dispute_answered.txt",
        context={},
    )


def decided(dispute: Dispute) -> None:
    _send(
        dispute,
        subject=lambda: _("Your dispute was decided"),
        template="emails/dispute_decided.txt",
        context={"revoked": dispute.state == "revoked", "reason": dispute.decision_reason},
    )
