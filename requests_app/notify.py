"""Email to artists. Django's mail backend is the interface: console in development, SMTP in production.

Every email to an artist is written in their language (ArtistProfile.language): its
subject and body are rendered under translation.override, whatever language the
caller runs in (a French artist's email sent from an English moderator's action or
a Celery task is French). Callers therefore pass headlines and messages as lazy
strings (gettext_lazy, or later() for one with placeholders), which are translated
only here. Free text a person wrote (a moderator's reason, a note) is sent as written.
Emails to moderators stay in English.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext as _

from registry.models import Dispute

from .models import ArtistProfile, IdentityProof, RemovalRequest

# A headline or message: a plain string, or a lazy one translated when the email is rendered.
Text = str | Promise


def later(build: Callable[[], str]) -> str:
    """A text built (and translated) only when the email is rendered, in the artist's language.

    For messages with placeholders: `later(lambda: _("%(count)d copies") % {"count": n})`.
    """
    return lazy(build, str)()


def language_of(profile: ArtistProfile) -> str:
    """The language Removal Desk writes to this artist in (emails, a check's findings)."""
    codes = {code for code, _name in settings.LANGUAGES}
    return profile.language if profile.language in codes else settings.LANGUAGE_CODE


def _send(
    *,
    profile: ArtistProfile,
    subject: Callable[[], str],
    template: str,
    context: dict[str, object],
    to: str = "",
) -> None:
    """`to`: another address than the account's (a claim link goes where the partner said)."""
    with translation.override(language_of(profile)):
        body = render_to_string(template, {**context, "site_url": settings.SITE_URL})
        subject_text = str(subject())
    to = to or profile.user.email
    transaction.on_commit(lambda: send_mail(subject_text, body, None, [to], fail_silently=False))


def email_verification(*, profile: ArtistProfile, link: str) -> None:
    _send(
        profile=profile,
        subject=lambda: _("Confirm your email address for Removal Desk"),
        template="emails/verify_email.txt",
        context={"name": profile.display_name, "link": link},
    )


def creator_claim_link(*, profile: ArtistProfile, to: str, link: str, partner: str) -> None:
    """The link that proves the account's holder reads the address a partner gave for a creator."""
    _send(
        profile=profile,
        subject=lambda: _("Claim the works %(partner)s filed for you") % {"partner": partner},
        template="emails/creator_claim.txt",
        context={
            "name": profile.display_name,
            "link": link,
            "partner": partner,
            "account": profile.user.email,
        },
        to=to,
    )


def request_changed(*, ticket: RemovalRequest, headline: Text, message: Text = "") -> None:
    _send(
        profile=ticket.artist,
        subject=lambda: f"[{ticket.reference}] {headline}",
        template="emails/request_changed.txt",
        context={"request": ticket, "headline": headline, "message": message},
    )


def request_needs_info(*, ticket: RemovalRequest, message: Text) -> None:
    _send(
        profile=ticket.artist,
        subject=lambda: _("[%(reference)s] We need more information") % {"reference": ticket.reference},
        template="emails/request_needs_info.txt",
        context={"request": ticket, "message": message},
    )


def sla_overdue(*, ticket: RemovalRequest, recipients: list[str]) -> None:
    """To the assignee, or every moderator when nobody has claimed the request (in English, like the desk)."""
    if not recipients:
        return
    with translation.override(settings.LANGUAGE_CODE):
        body = render_to_string("emails/sla_overdue.txt", {"request": ticket, "site_url": settings.SITE_URL})
        subject = f"[{ticket.reference}] Overdue: {str(ticket.get_status_display()).lower()}"
    transaction.on_commit(lambda: send_mail(subject, body, None, recipients, fail_silently=False))


def proof_lapsed(*, proof: IdentityProof, reason: Text) -> None:
    _send(
        profile=proof.artist,
        subject=lambda: _("One of your identity proofs no longer holds"),
        template="emails/proof_lapsed.txt",
        context={"proof": proof, "reason": reason, "name": proof.artist.display_name},
    )


def proof_reviewed(*, proof: IdentityProof, accepted: bool, note: str) -> None:
    _send(
        profile=proof.artist,
        subject=lambda: _("Your document was reviewed") if accepted else _("Your document was not accepted"),
        template="emails/proof_reviewed.txt",
        context={"proof": proof, "accepted": accepted, "note": note, "name": proof.artist.display_name},
    )


def request_dispute(*, ticket: RemovalRequest, dispute: Dispute, what: str) -> None:
    """A dispute about one of the request's removals was opened (answer by its deadline) or decided.
    Only the dispute's reason is told, never who filed it."""
    ids = {"dispute": dispute.public_id, "removal": dispute.removal.public_id}
    due = dispute.response_due_at.strftime("%Y-%m-%d %H:%M") if dispute.response_due_at else ""
    reason = dispute.get_reason_display
    if what == "opened":
        headline = later(lambda: _("Someone disputes removal %(removal)s") % ids)
        message = later(
            lambda: (
                _(
                    "Dispute %(dispute)s says: %(reason)s. You may answer with your own evidence on your "
                    "request's page until %(due)s (UTC); a moderator then decides whether the removal stays."
                )
                % {**ids, "reason": reason(), "due": due}
            )
        )
    elif dispute.state == "revoked":
        headline = later(lambda: _("Removal %(removal)s was revoked after a dispute") % ids)
        message = later(lambda: _("The moderator's reason: %(why)s") % {"why": dispute.decision_reason})
    else:
        headline = later(lambda: _("Removal %(removal)s stays: the dispute was decided") % ids)
        message = later(lambda: _("The moderator's reason: %(why)s") % {"why": dispute.decision_reason})
    request_changed(ticket=ticket, headline=headline, message=message)


def dispute_due(*, dispute: Dispute, recipients: list[str]) -> None:
    """To the moderators: a dispute's answer time ran out, it waits for a decision (in English)."""
    if not recipients:
        return
    subject = f"[{dispute.public_id}] Dispute waiting for a decision"
    body = (
        f"The time to answer dispute {dispute.public_id} about removal {dispute.removal.public_id} "
        f"ran out. It is in the desk's dispute queue: {settings.SITE_URL}/admin/registry/dispute/\n"
    )
    transaction.on_commit(lambda: send_mail(subject, body, None, recipients, fail_silently=False))
