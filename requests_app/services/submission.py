"""The artist's side of a ticket: creating it, deciding matches, signing the statement,
submitting and withdrawing.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from ..models import (
    ArtistProfile,
    EventKind,
    HashState,
    Match,
    MatchState,
    RemovalRequest,
)
from ..workflow import EDITABLE, Status
from ._ticket import ActionRefused, _event, _locked, _owned, _transition
from .artists import email_is_verified
from .conflicts import _locked_with_rivals, _rivals_free, conflicts_detect

# The statement an artist signs; shown in the page's language and stored, as signed, with that language.
STATEMENT_TEXT = gettext_noop(
    "I state in good faith that I am the author of the works listed in this request, or the "
    "holder of the rights in them, or authorised to act for that person; that the data set copies "
    "I confirmed are copies of those works; and that the information I have given is accurate."
)


@transaction.atomic
def request_create(*, artist: ArtistProfile, basis: str, description: str = "") -> RemovalRequest:
    default = artist.default_consent()  # a new request starts from the portfolio's default choice
    ticket = RemovalRequest.objects.create(
        artist=artist,
        basis=basis,
        description=description,
        choice=default.choice,
        licence=default.licence,
        licence_url=default.licence_url,
        attribution=default.attribution,
    )
    ticket.reference = f"RR-{ticket.created_at.year}-{ticket.pk:06d}"
    ticket.save(update_fields=["reference"])
    _event(ticket, kind=EventKind.CREATED, actor=artist.user, new=Status.DRAFT)
    return ticket


@transaction.atomic
def matches_decide(
    *,
    ticket: RemovalRequest,
    actor: User,
    confirm: Iterable[int] = (),
    exclude: Iterable[int] = (),
    undecide: Iterable[int] = (),
) -> int:
    """The artist confirms matches as copies of their works, excludes them, or takes a choice back."""
    ticket = _locked(ticket)
    _owned(ticket, actor)
    if ticket.status not in EDITABLE:
        raise ActionRefused(
            _("Matches can be changed only while the request is a draft or needs information.")
        )
    confirm, exclude, undecide = set(confirm), set(exclude), set(undecide)
    if confirm & exclude or (confirm | exclude) & undecide:
        raise ActionRefused(_("Choose one answer for each copy: mine, not mine or undecided."))
    mine = Match.objects.filter(work__request=ticket)
    changed = (
        mine.filter(pk__in=confirm).exclude(state=MatchState.CONFIRMED).update(state=MatchState.CONFIRMED)
    )
    changed += (
        mine.filter(pk__in=exclude).exclude(state=MatchState.EXCLUDED).update(state=MatchState.EXCLUDED)
    )
    changed += (
        mine.filter(pk__in=undecide).exclude(state=MatchState.SUGGESTED).update(state=MatchState.SUGGESTED)
    )
    if changed:
        _event(
            ticket,
            kind=EventKind.MATCHES,
            actor=actor,
            params={
                "text": "matches_decided",
                "confirmed": len(confirm),
                "excluded": len(exclude),
                "undecided": len(undecide),
            },
        )
    return changed


def signature_key(name: str) -> str:
    """A name as signatures are compared: NFKC, case-folded, runs of white space made one space."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def account_names(profile: ArtistProfile) -> list[str]:
    """The names a signature may match: the profile's display name and the account's full name."""
    names = [profile.display_name, profile.user.get_full_name()]
    return [name.strip() for name in names if signature_key(name)]


def signature_check(*, profile: ArtistProfile, signed_name: str) -> None:
    """Refuse a signature that is empty or is not the account's name (see signature_key)."""
    if not signature_key(signed_name):
        raise ActionRefused(_("Type your full name to sign the statement."), field="signed_name")
    names = account_names(profile)
    if not names:
        raise ActionRefused(
            _("Your account has no name yet: add your name on your account page, then sign with it."),
            field="signed_name",
        )
    if signature_key(signed_name) not in {signature_key(name) for name in names}:
        raise ActionRefused(
            _("Sign with the name of your account, %(name)s: the signature must be yours.")
            % {"name": names[0]},
            field="signed_name",
        )


def statement_text(language: str) -> str:
    """The statement an artist signs, in `language` (English when it is not one of the site's)."""
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    with translation.override(language):
        return _(STATEMENT_TEXT)


@transaction.atomic
def request_submit(
    *, ticket: RemovalRequest, actor: User, signed_name: str, language: str = settings.LANGUAGE_CODE
) -> RemovalRequest:
    """Sign and submit. `language` is the one the statement was shown in: it is stored as signed."""
    ticket = _locked(ticket)
    _owned(ticket, actor)
    if not email_is_verified(ticket.artist):
        raise ActionRefused(_("Confirm your email address first: follow the link we sent you."))
    signature_check(profile=ticket.artist, signed_name=signed_name)
    works = ticket.works.all()
    has_scope = ticket.scopes.exists()  # a domain request: its scope lines are what it removes
    if not works.exists() and not has_scope:
        raise ActionRefused(_("Add at least one work before submitting."))
    if works.filter(hash_state=HashState.PENDING).exists():
        raise ActionRefused(_("Some works are still being checked; wait a moment and submit again."))
    # A work with no copy found today is still worth submitting: its hash is removed from every
    # data set, and copies that arrive later are found (see services.approval.work_entries).
    if works.exists() and not works.exclude(hash_state=HashState.FAILED).exists():
        raise ActionRefused(_("None of these works could be read; add a work we can check."))
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    ticket.statement = statement_text(language)
    ticket.statement_language = language
    ticket.signed_name = " ".join(signed_name.split())[:150]
    ticket.signed_at = timezone.now()
    ticket.save(update_fields=["statement", "statement_language", "signed_name", "signed_at"])
    _transition(ticket, Status.SUBMITTED, actor=actor)
    conflicts_detect(ticket=ticket)
    return ticket


@transaction.atomic
def request_withdraw(*, ticket: RemovalRequest, actor: User) -> RemovalRequest:
    """The artist takes the request back; works it held in a conflict are freed in the other request."""
    ticket = _locked_with_rivals(ticket)
    _owned(ticket, actor)
    _transition(ticket, Status.WITHDRAWN, actor=actor)
    _rivals_free(leaving=ticket)
    return ticket
