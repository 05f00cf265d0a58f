"""Ownership conflicts: two artists claiming the same copies, detected and resolved."""

from __future__ import annotations

import numpy as np
from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import signals
from ..models import (
    ConflictResolution,
    EventKind,
    RemovalRequest,
    RequestConflict,
    Work,
)
from ..workflow import CLAIMING, REACHES_REGISTRY
from . import approval
from ._ticket import ActionRefused, _event
from .completion import request_complete_if_acknowledged


def conflicts_detect(*, ticket: RemovalRequest) -> list[RequestConflict]:
    """Record which other artists' claiming requests hold the same image as this one.

    Same sha256 (an indexed query), or pHash within CONFLICT_PHASH_MAX_DISTANCE
    bits (one numpy popcount pass over the other claiming works' codes per
    work: about 1 ms per million). Runs on submission, so the later of two
    claims finds the earlier, whichever it is.
    """
    mine = list(ticket.works.values_list("pk", "sha256", "phash"))
    if not mine:
        return []
    others = (
        Work.objects.filter(request__status__in=CLAIMING)
        .exclude(artist_id=ticket.artist_id)
        .exclude(request_id=ticket.pk)
    )
    found: dict[int, list[dict[str, object]]] = {}
    same_file: set[tuple[int, int]] = set()
    by_sha: dict[str, list[int]] = {}
    for work_id, sha, _phash in mine:
        by_sha.setdefault(sha, []).append(work_id)
    for other_id, other_request_id, other_sha in others.filter(sha256__in=list(by_sha)).values_list(
        "pk", "request_id", "sha256"
    ):
        for work_id in by_sha[other_sha]:
            same_file.add((work_id, other_id))
            found.setdefault(other_request_id, []).append(
                {"work": work_id, "other_work": other_id, "kind": "sha256", "distance": 0}
            )
    rows = list(others.filter(phash__isnull=False).values_list("pk", "request_id", "phash"))
    if rows:
        other_ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        other_requests = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows))
        codes = np.fromiter((r[2] for r in rows), dtype=np.int64, count=len(rows)).view(np.uint64)
        limit = settings.CONFLICT_PHASH_MAX_DISTANCE
        for work_id, _sha, phash in mine:
            if phash is None:
                continue
            distances = np.bitwise_count(codes ^ np.array([phash], dtype=np.int64).view(np.uint64)[0])
            for k in np.flatnonzero(distances <= limit):
                other_id = int(other_ids[k])
                if (work_id, other_id) in same_file:
                    continue
                found.setdefault(int(other_requests[k]), []).append(
                    {"work": work_id, "other_work": other_id, "kind": "phash", "distance": int(distances[k])}
                )
    conflicts = []
    for other_request_id, pairs in sorted(found.items()):
        conflicts.append(_conflict_record(ticket, other_request_id, pairs))
    # The partners app records the request's conflicts with partners' rows (services.partner_conflicts).
    signals.ticket_submitted.send(sender=RemovalRequest, ticket=ticket)
    return conflicts


def _conflict_record(
    ticket: RemovalRequest, other_id: int, pairs: list[dict[str, object]]
) -> RequestConflict:
    swap = other_id < ticket.pk
    first_id, second_id = (other_id, ticket.pk) if swap else (ticket.pk, other_id)
    oriented = [
        {**p, "work": p["other_work"], "other_work": p["work"]} if swap else p  # always first -> second
        for p in pairs
    ]
    with transaction.atomic():
        conflict, created = RequestConflict.objects.select_for_update().get_or_create(
            first_id=first_id, second_id=second_id, defaults={"pairs": oriented}
        )
        if not created:
            known = {(p["work"], p["other_work"]) for p in conflict.pairs}
            new = [p for p in oriented if (p["work"], p["other_work"]) not in known]
            if not new:
                return conflict
            # New shared images after a resolution: the old verdict did not cover them.
            conflict.pairs = conflict.pairs + new
            conflict.resolution, conflict.resolved_by, conflict.resolved_at = (
                ConflictResolution.OPEN,
                None,
                None,
            )
            conflict.save()
        both = RemovalRequest.objects.select_related("artist").filter(pk__in=[first_id, second_id])
        by_id = {r.pk: r for r in both}
        for this, that in ((first_id, second_id), (second_id, first_id)):
            _event(
                by_id[this],
                kind=EventKind.CONFLICT,
                actor=None,
                new="open",
                params={
                    "text": "conflict_found",
                    "count": len(oriented),
                    "artist": by_id[that].artist.display_name,
                    "reference": by_id[that].reference,
                },
            )
    return conflict


def conflict_resolve(
    *, conflict: RequestConflict, moderator: User, resolution: str, note: str
) -> RequestConflict:
    """A moderator decides who owns the shared images; both requests' timelines record it.

    An approved request whose works this conflict held gets them approved now (its removals
    recorded in this transaction) when its artist owns them or both may ask, or dropped.
    """
    if resolution not in (ConflictResolution.FIRST, ConflictResolution.SECOND, ConflictResolution.BOTH):
        raise ActionRefused(_("Choose who owns the works, or that it is not a conflict."))
    note = note.strip()
    if not note:
        raise ActionRefused(_("Write down why: the next moderator will read it."))
    with transaction.atomic():
        # Both requests, in id order, so two moderators resolving from either side cannot deadlock.
        locked = list(
            RemovalRequest.objects.select_for_update()
            .select_related("artist")
            .filter(pk__in=[conflict.first_id, conflict.second_id])
            .order_by("pk")
        )
        conflict = RequestConflict.objects.select_for_update().get(pk=conflict.pk)
        if not conflict.is_open:
            raise ActionRefused(
                _("This conflict was resolved already by %(moderator)s: %(resolution)s.")
                % {
                    "moderator": conflict.resolved_by or _("a moderator"),
                    "resolution": str(conflict.get_resolution_display()).lower(),
                }
            )
        conflict.resolution, conflict.note = resolution, note
        conflict.resolved_by, conflict.resolved_at = moderator, timezone.now()
        conflict.save()
        by_id = {r.pk: r for r in locked}
        owner_id = conflict.owner_request_id()
        for request in locked:
            other = by_id[conflict.second_id if request.pk == conflict.first_id else conflict.first_id]
            if owner_id is None:
                verdict = "none"
            elif owner_id == request.pk:
                verdict = "owner"
            else:
                verdict = "other"
            _event(
                request,
                kind=EventKind.CONFLICT,
                actor=moderator,
                old="open",
                new=resolution,
                params={
                    "text": "conflict_resolved",
                    "verdict": verdict,
                    "reference": other.reference,
                    "note": note,
                },
            )
            if request.status in REACHES_REGISTRY:
                # Approved while this conflict held some of its works: they go now, or never.
                approval._held_works_settle(
                    ticket=request, conflict=conflict, owner=verdict != "other", moderator=moderator
                )
    return conflict


def _locked_with_rivals(ticket: RemovalRequest) -> RemovalRequest:
    """Lock `ticket` and every request in a conflict with it, in id order as conflict_resolve does,
    so that a withdrawal or rejection that frees the rivals' held works cannot deadlock with a
    moderator's ruling on the same conflict. Returns the locked `ticket`."""
    pairs = RequestConflict.objects.filter(Q(first=ticket) | Q(second=ticket)).values_list(
        "first_id", "second_id"
    )
    ids = {ticket.pk, *(pk for pair in pairs for pk in pair)}
    locked = (
        RemovalRequest.objects.select_for_update()
        .select_related("artist__user")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    return next(r for r in locked if r.pk == ticket.pk)


def _rivals_free(*, leaving: RemovalRequest) -> int:
    """`leaving` was just withdrawn or rejected (in this transaction, under _locked_with_rivals):
    the works its conflicts held in the other requests are held no more (services.approval)."""
    freed = 0
    conflicts = (
        RequestConflict.objects.filter(Q(first=leaving) | Q(second=leaving))
        .select_related("first__artist__user", "second__artist__user")
        .order_by("pk")
    )
    for conflict in conflicts:
        survivor = conflict.other(leaving)
        count = approval._held_works_free(ticket=survivor, conflict=conflict, leaving=leaving)
        if count and survivor.status in REACHES_REGISTRY:
            # Nothing may be left to send: then nothing else would complete the request.
            request_complete_if_acknowledged(reference=survivor.reference or "")
        freed += count
    return freed
