"""An artist's account as a whole: export of everything held, and deletion."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from registry.selectors import removals_for_source

from ..models import (
    PUBLIC_EVENT_KINDS,
    ArtistProfile,
    EventKind,
    IdentityProof,
    RemovalRequest,
    SiteSignals,
    TicketEvent,
    VerificationLevel,
    Work,
)
from ._ticket import _event

log = logging.getLogger(__name__)


def _hex(code: int | None) -> str | None:
    return None if code is None else f"{code & (2**64 - 1):016x}"


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def account_export(*, user: User) -> dict[str, object]:
    """Everything Removal Desk holds about an artist, as JSON-ready data (the artist's own copy)."""
    profile = ArtistProfile.objects.select_related("user").get(user=user)
    requests_out = []
    for ticket in RemovalRequest.objects.filter(artist=profile).order_by("created_at"):
        works = ticket.works.prefetch_related("matches__item__dataset")
        requests_out.append(
            {
                "reference": ticket.reference,
                "status": ticket.status,
                "basis": ticket.basis,
                "description": ticket.description,
                "signed_name": ticket.signed_name,
                "signed_at": _when(ticket.signed_at),
                "statement": ticket.statement,
                "created_at": _when(ticket.created_at),
                "submitted_at": _when(ticket.submitted_at),
                "decided_at": _when(ticket.decided_at),
                "completed_at": _when(ticket.completed_at),
                "decision_reason": ticket.decision_reason,
                "works": [_work_export(w) for w in works],
                "timeline": [
                    {
                        "at": _when(e.created_at),
                        "kind": e.kind,
                        "old": e.old_value,
                        "new": e.new_value,
                        "message": e.message,
                        "by_you": e.actor_id == user.pk,
                    }
                    for e in ticket.events.filter(kind__in=PUBLIC_EVENT_KINDS)
                ],
                "removals": [
                    {
                        "id": r.public_id,
                        "dataset": r.dataset.name,
                        "url": r.url,
                        "state": r.state,
                        "approved_at": _when(r.approved_at),
                        "delivered_at": _when(r.delivered_at),
                        "acknowledged_at": _when(r.acknowledged_at),
                    }
                    for r in (removals_for_source(ticket.reference) if ticket.reference else [])
                ],
            }
        )
    return {
        "format": "removal-desk-export/1",
        "exported_at": timezone.now().isoformat(),
        "profile": {
            "email": profile.user.email,
            "display_name": profile.display_name,
            "verification_level": profile.verification_level,
            "created_at": _when(profile.created_at),
            "proofs": [
                {
                    "method": p.method,
                    "target": p.target,
                    "status": p.status,
                    "verified_at": _when(p.verified_at),
                }
                for p in profile.proofs.all()
            ],
            "site_signals": [
                {"site": s.site, "fetched_at": _when(s.fetched_at), "scope": s.scope}
                for s in profile.site_signals.order_by("site")
            ],
        },
        "requests": requests_out,
        "works_without_request": [_work_export(w) for w in profile.works.filter(request__isnull=True)],
    }


def _work_export(work: Work) -> dict[str, object]:
    return {
        "id": work.pk,
        "original_name": work.original_name,
        "sha256": work.sha256,
        "size_bytes": work.size_bytes,
        "format": work.format,
        "width": work.width,
        "height": work.height,
        "phash": _hex(work.phash),
        "dhash": _hex(work.dhash),
        "hash_state": work.hash_state,
        "created_at": _when(work.created_at),
        "matches": [
            {
                "dataset": m.item.dataset.name,
                "item_url": m.item.url,
                "algorithm": m.algorithm,
                "distance": m.distance,
                "state": m.state,
            }
            for m in work.matches.all()
        ],
    }


ANONYMISED_NAME = "(deleted account)"


@dataclass
class AccountDeleted:
    requests_deleted: int
    requests_anonymised: int
    works_deleted: int


@transaction.atomic
def account_delete(*, user: User) -> AccountDeleted:
    """Delete an artist's account: works (files and rows), proofs, and requests.

    A request whose removals reach the registry (approved or completed) is
    the maintainers' record and stays, anonymised: no description, signature,
    works, file names or messages by the artist. Its registry Removals are
    untouched. Everything else is deleted, and the user with it; if an
    anonymised request remains, the user row stays as a locked, nameless
    placeholder that owns it.
    """
    user = get_user_model().objects.select_for_update().get(pk=user.pk)
    profile = ArtistProfile.objects.get(user=user)
    works = list(Work.objects.filter(artist=profile))
    files = [(w.file.storage, w.file.name) for w in works if w.file.name]
    Work.objects.filter(pk__in=[w.pk for w in works]).delete()

    keep_refs = {
        r.reference
        for r in RemovalRequest.objects.filter(artist=profile, reference__isnull=False)
        if removals_for_source(r.reference or "").exists()
    }
    kept = RemovalRequest.objects.filter(artist=profile, reference__in=keep_refs)
    deleted_requests = RemovalRequest.objects.filter(artist=profile).exclude(reference__in=keep_refs).count()
    RemovalRequest.objects.filter(artist=profile).exclude(reference__in=keep_refs).delete()
    kept.update(description="", signed_name="", assignee=None)
    TicketEvent.objects.filter(request__in=kept, actor=user).update(actor=None, message="", params={})
    # A "works added" row names the artist's files, in its message and in its params.
    TicketEvent.objects.filter(request__in=kept, kind=EventKind.WORKS).update(message="", params={})
    for ticket in kept:
        _event(ticket, kind=EventKind.INTERNAL_NOTE, actor=None, params={"text": "account_deleted"})
    anonymised = len(keep_refs)

    if anonymised:
        IdentityProof.objects.filter(artist=profile).delete()
        SiteSignals.objects.filter(artist=profile).delete()
        profile.display_name = ANONYMISED_NAME
        profile.verification_level = VerificationLevel.NONE
        profile.save(update_fields=["display_name", "verification_level"])
        user.username = f"deleted-{user.pk}-{secrets.token_hex(6)}"
        user.email = ""
        user.first_name = user.last_name = ""
        user.is_active = False
        user.set_unusable_password()
        user.save()
    else:
        user.delete()

    def remove_files() -> None:
        for storage, name in files:
            try:
                storage.delete(name or "")
            except OSError:
                log.warning("could not delete the file of a deleted work: %s", name)

    transaction.on_commit(remove_files)
    return AccountDeleted(
        requests_deleted=deleted_requests, requests_anonymised=anonymised, works_deleted=len(works)
    )
