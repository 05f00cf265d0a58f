"""Reads that encode who may see what, and the read models the artist's pages show."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from PIL import Image

from registry import matching
from registry import selectors as registry_selectors
from registry.hashing import ImageHashes
from registry.models import DatasetItem, RemovalState
from registry.selectors import removals_for_source

from . import likeness, timeline
from .models import (
    PUBLIC_EVENT_KINDS,
    ConflictResolution,
    EventKind,
    IdentityProof,
    MatchConfidence,
    PortfolioUpload,
    ProofMethod,
    RemovalRequest,
    RequestConflict,
    Work,
)
from .roles import MODERATOR_GROUP
from .workflow import CLAIMING, Status


def moderators() -> QuerySet[User]:
    """Who moderates: active staff in the Moderators group, and active staff superusers. They
    can be assigned a request, are told of overdue ones, and see works and identity documents."""
    return (
        User.objects.filter(is_active=True, is_staff=True)
        .filter(Q(groups__name=MODERATOR_GROUP) | Q(is_superuser=True))
        .distinct()
        .order_by("username")
    )


def is_moderator(user: User | AnonymousUser) -> bool:
    """Whether the user is one of moderators()."""
    return user.is_authenticated and moderators().filter(pk=user.pk).exists()


def requests_of(user: User) -> QuerySet[RemovalRequest]:
    """The artist's requests, newest first. Explicit: Meta.ordering is dropped from any query
    that groups (the list counts works per request), which listed them oldest first."""
    return (
        RemovalRequest.objects.filter(artist__user=user)
        .select_related("artist")
        .order_by("-created_at", "-id")
    )


def request_for_artist(user: User, reference: str) -> RemovalRequest:
    """The artist's own request, or 404 (never 403: another's request must not be confirmed to exist)."""
    ticket = requests_of(user).filter(reference=reference).first()
    if ticket is None:
        raise Http404("No such request.")
    return ticket


def upload_for_artist(user: User, key: str) -> PortfolioUpload:
    """The artist's own upload, or 404 (another artist's upload id is not confirmed to exist)."""
    upload = PortfolioUpload.objects.filter(key=key, artist__user=user).select_related("ticket").first()
    if upload is None:
        raise Http404("No such upload.")
    return upload


def work_for_viewer(user: User | AnonymousUser, work_id: int) -> Work:
    work = Work.objects.select_related("artist__user").filter(pk=work_id).first()
    if work is None or not (is_moderator(user) or work.artist.user_id == user.pk):
        raise Http404("No such work.")
    return work


def conflicts_of(ticket: RemovalRequest) -> list[RequestConflict]:
    """Conflicts with other artists' requests that still claim the works (not rejected or withdrawn)."""
    rows = RequestConflict.objects.filter(Q(first=ticket) | Q(second=ticket)).select_related(
        "first__artist__user", "second__artist__user", "resolved_by"
    )
    return [c for c in rows if c.other(ticket).status in CLAIMING]


def open_conflict_exists() -> Exists:
    """For annotating a RemovalRequest queryset: an unresolved conflict with a claiming request."""
    claiming = list(CLAIMING)
    return Exists(
        RequestConflict.objects.filter(resolution=ConflictResolution.OPEN).filter(
            Q(first=OuterRef("pk"), second__status__in=claiming)
            | Q(second=OuterRef("pk"), first__status__in=claiming)
        )
    )


def proof_for_artist(user: User, proof_id: int) -> IdentityProof:
    proof = IdentityProof.objects.filter(pk=proof_id, artist__user=user).select_related("artist").first()
    if proof is None:
        raise Http404("No such proof.")
    return proof


def document_for_moderator(user: User | AnonymousUser, proof_id: int) -> IdentityProof:
    """Identity documents are for moderators only: not even their artist reads them back."""
    if not is_moderator(user):
        raise Http404("No such document.")
    proof = IdentityProof.objects.filter(pk=proof_id, method=ProofMethod.DOCUMENT).first()
    if proof is None or not proof.document:
        raise Http404("No such document.")
    return proof


# --- read models of the artist's pages -------------------------------------


@dataclass
class DatasetProgress:
    """What the maintainers of one data set did with this request's removals."""

    name: str
    maintainer: str
    total: int = 0
    delivered: int = 0
    acknowledged: int = 0
    revoked: int = 0
    delivered_at: datetime | None = None
    acknowledged_at: datetime | None = None

    @property
    def state(self) -> str:
        if self.total and self.acknowledged == self.total:
            return RemovalState.ACKNOWLEDGED
        if self.total and self.delivered == self.total:
            return RemovalState.DELIVERED
        if not self.total and self.revoked:
            return RemovalState.REVOKED
        return RemovalState.PENDING


def receipt_progress(reference: str) -> list[DatasetProgress]:
    by_dataset: dict[int, DatasetProgress] = {}
    for removal in removals_for_source(reference):
        row = by_dataset.setdefault(
            removal.dataset_id, DatasetProgress(removal.dataset.name, removal.dataset.maintainer.name)
        )
        if removal.state == RemovalState.REVOKED:
            row.revoked += 1
            continue
        row.total += 1
        # A maintainer pulling the feed may acknowledge what no webhook delivered: both count as received.
        if removal.state in (RemovalState.DELIVERED, RemovalState.ACKNOWLEDGED):
            row.delivered += 1
            if removal.delivered_at and (row.delivered_at is None or removal.delivered_at > row.delivered_at):
                row.delivered_at = removal.delivered_at
        if removal.state == RemovalState.ACKNOWLEDGED:
            row.acknowledged += 1
            ack = removal.acknowledged_at
            if ack and (row.acknowledged_at is None or ack > row.acknowledged_at):
                row.acknowledged_at = ack
    return sorted(by_dataset.values(), key=lambda r: r.name)


@dataclass
class TimelineEntry:
    at: datetime
    title: str
    message: str
    # "you" (the artist), "desk" (Removal Desk's own rows), or "" (the title says who wrote it)
    by: str


def _status_label(value: str) -> str:
    return str(Status(value).label) if value in Status.values else value


def public_timeline(ticket: RemovalRequest) -> list[TimelineEntry]:
    """The public part of the request's history; internal notes and assignments never leave the admin."""
    titles: dict[str, str] = {
        EventKind.CREATED: _("Request created"),
        EventKind.PUBLIC_REPLY: _("Message from Removal Desk"),
        EventKind.WORKS: _("Works added"),
        EventKind.REMOVALS: _("Data set maintainers"),
    }
    artist_user_id = ticket.artist.user_id
    entries = []
    for event in ticket.events.filter(kind__in=PUBLIC_EVENT_KINDS):
        by_artist = event.actor_id is not None and event.actor_id == artist_user_id
        if event.kind == EventKind.STATUS:
            title = _("%(old)s → %(new)s") % {
                "old": _status_label(event.old_value),
                "new": _status_label(event.new_value),
            }
        elif event.kind == EventKind.PUBLIC_REPLY and by_artist:
            title = _("Your message to the moderators")
        else:
            title = str(titles.get(event.kind, event.get_kind_display()))
        if by_artist:
            by = "you"
        elif event.kind == EventKind.PUBLIC_REPLY:
            by = ""  # "Message from Removal Desk" says who wrote it already
        else:
            by = "desk"
        entries.append(
            TimelineEntry(at=event.created_at, title=title, message=timeline.event_text(event), by=by)
        )
    return entries


def safe_href(url: str) -> str:
    """Item URLs come from maintainers: link only http(s), never javascript: or data:."""
    return url if url.lower().startswith(("https://", "http://")) else ""


@dataclass
class SearchHit:
    dataset: str
    maintainer: str
    url: str
    href: str
    distance: int
    # The hashes that agree and how sure (registry.matching.Hit).
    signals: tuple[matching.Signal, ...] = ()
    confidence: str = ""
    # A live removal of this copy (of the item, or of its hash in its data set): when it was
    # approved, and whether the maintainer confirmed it.
    removed_at: datetime | None = None
    removal_confirmed_at: datetime | None = None

    @property
    def agreement(self) -> str:
        return likeness.agreement_text(self.signals)

    @property
    def confidence_label(self) -> str:
        return str(MatchConfidence(self.confidence).label) if self.confidence else ""


def public_search_hits(
    hashes: ImageHashes, image: Callable[[], Image.Image | None] | None = None
) -> list[SearchHit]:
    """The data set items that look like the searched image, with any live removal of each.

    `image`: the searched picture, for verifying mirrored or turned copies (see matching.search_work).
    """
    found = matching.search_work(
        phash=hashes.phash,
        dhash=hashes.dhash,
        phash_variants=hashes.phash_variants,
        pdq=hashes.pdq,
        pdq_quality=hashes.pdq_quality,
        image=image,
    )
    items = DatasetItem.objects.select_related("dataset__maintainer").in_bulk([h.item_id for h in found])
    removed = registry_selectors.live_removals_of_items(list(items.values()))
    return [
        SearchHit(
            dataset=item.dataset.name,
            maintainer=item.dataset.maintainer.name,
            url=item.url or "",
            href=safe_href(item.url or ""),
            distance=hit.distance,
            signals=hit.signals,
            confidence=hit.confidence,
            removed_at=removal.approved_at if (removal := removed.get(item.pk)) else None,
            removal_confirmed_at=removal.acknowledged_at
            if removal and removal.state == RemovalState.ACKNOWLEDGED
            else None,
        )
        for hit in found
        if (item := items.get(hit.item_id)) is not None
    ]
