"""An artist's choice per work (remove, licence, search only) and changing it later.

A domain request's choice (the request's own) is the choice of its domain lines: changing it
restates the request's registry rules as well (registry.services.domain_optouts_choice_set).

The choice is checked by registry.preferences.consent_clean and stored on the work (or, as the
default of its works, on the request). Before approval it is only stored. Once a work's
statement has reached the registry (its request approved, the work approved), a change
restates it there in the same transaction: what was said is revoked (removals through
registry's revocation writer, which sends signed `removal.revoked` events in the order things
happened; grants marked revoked) and what is now said is recorded (new removals, or licence
grants). The request's timeline, the artist's receipt, keeps a row per change.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from registry import services as registry_services
from registry.models import Removal, RemovalState
from registry.preferences import Consent, ConsentError, consent_clean

from ..models import ArtistProfile, EventKind, Match, MatchState, RemovalRequest, Work, WorkDecision
from ..workflow import REACHES_REGISTRY, RELEASED
from ._ticket import ActionRefused, _event, _locked, _owned
from .approval import work_entries
from .completion import request_complete_if_acknowledged

CHANGED_BY_ARTIST = "The artist changed their choice for this work."
CHANGED_FOR_DOMAIN = registry_services.RULE_CHOICE_CHANGED
_MASK = (1 << 64) - 1


@dataclass(frozen=True)
class ChoiceResult:
    """What a change did at the registry: statements revoked, removals and grants recorded."""

    changed: bool
    revoked: int = 0
    removed: int = 0
    granted: int = 0


def _clean(choice: str, licence: str, licence_url: str, attribution: str) -> Consent:
    try:
        return consent_clean(choice=choice, licence=licence, licence_url=licence_url, attribution=attribution)
    except ConsentError as exc:
        raise ActionRefused(exc.message, field=exc.field) from None


def _open_for_choice(ticket: RemovalRequest) -> None:
    if ticket.status in RELEASED:
        raise ActionRefused(
            _("%(reference)s is closed: its works can join another request from the portfolio.")
            % {"reference": ticket.reference or _("This request")}
        )


def _store(row: Work | RemovalRequest, consent: Consent) -> None:
    row.choice = consent.choice
    row.licence = consent.licence
    row.licence_url = consent.licence_url
    row.attribution = consent.attribution
    row.save(update_fields=["choice", "licence", "licence_url", "attribution"])


def _params(old: Consent, new: Consent, result: ChoiceResult, work: Work | None = None) -> dict[str, object]:
    params: dict[str, object] = {
        "text": "choice_changed",
        "old": old.choice,
        "old_licence": old.licence,
        "new": new.choice,
        "new_licence": new.licence,
        "revoked": result.revoked,
        "removed": result.removed,
        "granted": result.granted,
    }
    if work is not None:
        params["name"] = work.original_name
        params["work"] = work.pk
    return params


@transaction.atomic
def work_choice_set(
    *, actor: User, work: Work, choice: str, licence: str = "", licence_url: str = "", attribution: str = ""
) -> ChoiceResult:
    """Set one work's choice (ActionRefused with the field at fault when it cannot be recorded).

    A work of an approved request has its statement restated at the registry (see the module)."""
    consent = _clean(choice, licence, licence_url, attribution)
    ticket = _locked(work.request) if work.request is not None else None
    if ticket is None:
        raise ActionRefused(_("Add the work to a request first: the choice is sent with a request."))
    _owned(ticket, actor)
    _open_for_choice(ticket)
    work = Work.objects.select_for_update().get(pk=work.pk)
    work.request = ticket
    old = work.consent()
    if old == consent:
        return ChoiceResult(changed=False)
    _store(work, consent)
    result = ChoiceResult(changed=True)
    if ticket.status in REACHES_REGISTRY and work.decision == WorkDecision.APPROVED:
        result = _restate(ticket, Work.objects.filter(pk=work.pk), old, consent)
    _event(ticket, kind=EventKind.WORKS, actor=actor, params=_params(old, consent, result, work))
    if result.revoked:
        # What is left to wait for may be nothing now (every removal became a licence).
        request_complete_if_acknowledged(reference=ticket.reference or "")
    return result


@transaction.atomic
def request_choice_set(
    *,
    actor: User,
    ticket: RemovalRequest,
    choice: str,
    licence: str = "",
    licence_url: str = "",
    attribution: str = "",
) -> ChoiceResult:
    """Set a request's default choice: it holds for every work of it that makes none of its own.
    The approved ones among those are restated at the registry (see the module)."""
    consent = _clean(choice, licence, licence_url, attribution)
    ticket = _locked(ticket)
    _owned(ticket, actor)
    _open_for_choice(ticket)
    old = Consent(ticket.choice, ticket.licence, ticket.licence_url, ticket.attribution)
    if old == consent:
        return ChoiceResult(changed=False)
    _store(ticket, consent)
    result = ChoiceResult(changed=True)
    if ticket.status in REACHES_REGISTRY:
        following = ticket.works.select_for_update().filter(choice="", decision=WorkDecision.APPROVED)
        if following.exists():
            result = _restate(ticket, following, old, consent)
        # A domain request's lines take the request's choice: its registry rules are restated too.
        rules = registry_services.domain_optouts_choice_set(
            source_ref=ticket.reference or "", consent=consent, why=CHANGED_FOR_DOMAIN
        )
        result = ChoiceResult(
            changed=True,
            revoked=result.revoked + rules.revoked,
            removed=result.removed + rules.removed,
            granted=result.granted + rules.granted,
        )
    _event(ticket, kind=EventKind.WORKS, actor=actor, params=_params(old, consent, result))
    if result.revoked:
        request_complete_if_acknowledged(reference=ticket.reference or "")
    return result


@transaction.atomic
def portfolio_choice_set(
    *,
    actor: User,
    artist: ArtistProfile,
    choice: str,
    licence: str = "",
    licence_url: str = "",
    attribution: str = "",
) -> bool:
    """Set the portfolio's default choice (ActionRefused with the field at fault when it cannot be
    recorded); returns whether it changed. New requests start from it and works in no request
    follow it; requests made already keep their own choice (each is changed on its page), so
    nothing is restated at the registry here."""
    consent = _clean(choice, licence, licence_url, attribution)
    artist = ArtistProfile.objects.select_for_update().get(pk=artist.pk)
    if artist.user_id != actor.pk:
        raise ActionRefused(_("This portfolio belongs to another account."))
    if artist.default_consent() == consent:
        return False
    artist.default_choice = consent.choice
    artist.default_licence = consent.licence
    artist.default_licence_url = consent.licence_url
    artist.default_attribution = consent.attribution
    artist.save(
        update_fields=["default_choice", "default_licence", "default_licence_url", "default_attribution"]
    )
    return True


def _restate(ticket: RemovalRequest, works: QuerySet[Work], old: Consent, new: Consent) -> ChoiceResult:
    """Revoke what `works` said at the registry (`old`) and record what they say now (`new`)."""
    reference = ticket.reference or ""
    if old.is_removal:
        ids = _live_removal_ids(ticket, works)
        revoked = registry_services.removals_revoke(
            removals=registry_services.RemovalQuery.of_ids(ids), why=CHANGED_BY_ARTIST
        ).count
    else:
        selection = registry_services.GrantSelection(
            source_ref=reference,
            item_ids=list(Match.objects.filter(work__in=works).values_list("item_id", flat=True)),
            phashes=[p for p in works.values_list("phash", flat=True) if p is not None],
        )
        revoked = registry_services.licence_grants_revoke(grants=selection, why=CHANGED_BY_ARTIST)
    entries = work_entries(works, state=MatchState.APPROVED)
    if new.is_removal:
        removed = registry_services.removals_record_many(
            source_ref=reference, reason=ticket.basis, entries=entries, search=new.search
        ).count
        return ChoiceResult(changed=True, revoked=revoked, removed=removed)
    granted = len(registry_services.licence_grants_record(source_ref=reference, consent=new, entries=entries))
    return ChoiceResult(changed=True, revoked=revoked, granted=granted)


def _live_removal_ids(ticket: RemovalRequest, works: QuerySet[Work]) -> list[int]:
    """The live removals of the request that speak for `works`: of their matched items, their bare
    hashes, and the copies re-matching found later (items no work of the request matched, within
    the re-matching radius of one of the works' pHashes)."""
    own_items = set(Match.objects.filter(work__in=works).values_list("item_id", flat=True))
    request_items = set(Match.objects.filter(work__request=ticket).values_list("item_id", flat=True))
    codes = [p for p in works.values_list("phash", flat=True) if p is not None]
    radius = settings.REMATCH_PHASH_MAX_DISTANCE
    found: list[int] = []
    live = (
        Removal.objects.filter(source_ref=ticket.reference or "")
        .exclude(state=RemovalState.REVOKED)
        .values_list("pk", "item_id", "phash")
        .order_by("pk")
    )
    for pk, item_id, phash in live.iterator(chunk_size=5000):
        if item_id is None:
            speaks = phash in codes
        elif item_id in own_items:
            speaks = True
        else:
            speaks = (
                item_id not in request_items
                and phash is not None
                and any(((phash ^ code) & _MASK).bit_count() <= radius for code in codes)
            )
        if speaks:
            found.append(pk)
    return found
