"""Reads that encode who may see what, and the read models the artist's pages show."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, Max, OuterRef, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image

from registry import matching
from registry import selectors as registry_selectors
from registry.hashing import ImageHashes
from registry.hosts import Scope
from registry.models import Dataset, DatasetItem, Dispute, DisputeState, Removal, RemovalSource, RemovalState
from registry.selectors import removals_for_source

from . import likeness, timeline
from .models import (
    DOMAIN_METHODS,
    PUBLIC_EVENT_KINDS,
    ConflictResolution,
    EventKind,
    IdentityProof,
    MatchConfidence,
    PartnerConflict,
    PartnerConflictResolution,
    PortfolioUpload,
    ProofMethod,
    ProofStatus,
    RemovalRequest,
    RequestConflict,
    SiteSignals,
    TicketEvent,
    UploadState,
    Work,
    WorkDecision,
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


@dataclass(frozen=True)
class PortfolioUsage:
    """What an artist's portfolio holds, against the quotas (PORTFOLIO_QUOTA_BYTES / _WORKS)."""

    works: int
    bytes: int  # the works' stored (sanitized) bytes
    pending: int  # bytes of files announced or received and not unpacked yet

    @property
    def total(self) -> int:
        return self.bytes + self.pending


UNPACKED_STATES = (UploadState.RECEIVING, UploadState.QUEUED, UploadState.PROCESSING)


def portfolio_usage(artist_id: int, *, with_pending: bool = True) -> PortfolioUsage:
    """Two aggregate queries (one without `with_pending`). An upload being unpacked counts for its
    members not done yet, so its works are not counted twice."""
    held = Work.objects.filter(artist_id=artist_id).aggregate(n=Count("id"), size=Sum("size_bytes"))
    pending = 0
    if with_pending:
        unpacked = PortfolioUpload.objects.filter(artist_id=artist_id, state__in=UNPACKED_STATES)
        for size, members, processed in unpacked.values_list("size", "members", "processed"):
            pending += size if not members else size * max(0, members - processed) // members
    return PortfolioUsage(works=held["n"], bytes=held["size"] or 0, pending=pending)


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


def conflict_works(conflict: RequestConflict, ticket: RemovalRequest) -> set[int]:
    """The works of `ticket` that the conflict's pairs touch (pairs run first -> second)."""
    key = "work" if ticket.pk == conflict.first_id else "other_work"
    return {int(pair[key]) for pair in conflict.pairs}


@dataclass
class Holds:
    """The works of a request that approval must leave out, and why: conflicts hold only the
    works their pairs touch, so the rest of a big request can be approved."""

    held: set[int] = field(default_factory=set)  # an open conflict touches them
    lost: set[int] = field(default_factory=set)  # a conflict was resolved for another artist
    open_conflicts: list[RequestConflict] = field(default_factory=list)
    lost_conflicts: list[RequestConflict] = field(default_factory=list)
    # Conflicts with partners' filings (models.PartnerConflict): the same holding, per work.
    open_partner_conflicts: list[PartnerConflict] = field(default_factory=list)


def approval_holds(ticket: RemovalRequest) -> Holds:
    holds = Holds()
    for conflict in conflicts_of(ticket):
        touched = conflict_works(conflict, ticket)
        if conflict.is_open:
            holds.held |= touched
            holds.open_conflicts.append(conflict)
        elif (owner := conflict.owner_request_id()) is not None and owner != ticket.pk:
            holds.lost |= touched
            holds.lost_conflicts.append(conflict)
    for partner_conflict in partner_conflicts_of(ticket):
        if partner_conflict.is_open:
            holds.held.add(partner_conflict.work_id)
            holds.open_partner_conflicts.append(partner_conflict)
        elif partner_conflict.resolution == PartnerConflictResolution.PARTNER:
            holds.lost.add(partner_conflict.work_id)
    holds.held -= holds.lost  # lost for good beats waiting
    return holds


def partner_conflicts_of(ticket: RemovalRequest) -> list[PartnerConflict]:
    """The request's conflicts with partners' filings whose removal of the item is still in force
    (a filing revoked, or a row its creator lifted, holds nothing any more)."""
    in_force = Removal.objects.filter(
        source=RemovalSource.PARTNER, source_ref=OuterRef("filing_ref"), item_id=OuterRef("item_id")
    ).exclude(state=RemovalState.REVOKED)
    return list(
        PartnerConflict.objects.filter(request=ticket)
        .filter(Exists(in_force))
        .select_related("resolved_by")
        .order_by("filing_ref", "pk")
    )


@dataclass
class PartnerConflictGroup:
    """The request's conflicts with one partner filing, as the desk shows and resolves them."""

    filing_ref: str
    partner: str
    conflicts: list[PartnerConflict]

    @property
    def is_open(self) -> bool:
        return any(c.is_open for c in self.conflicts)

    @property
    def works(self) -> int:
        return len({c.work_id for c in self.conflicts})


def partner_conflict_groups(ticket: RemovalRequest) -> list[PartnerConflictGroup]:
    groups: dict[str, PartnerConflictGroup] = {}
    for conflict in partner_conflicts_of(ticket):
        group = groups.setdefault(
            conflict.filing_ref, PartnerConflictGroup(conflict.filing_ref, conflict.partner, [])
        )
        group.conflicts.append(conflict)
    return list(groups.values())


def open_conflict_exists() -> ExpressionWrapper:
    """For annotating a RemovalRequest queryset: an unresolved conflict with a claiming request."""
    claiming = list(CLAIMING)
    with_artist = Exists(
        RequestConflict.objects.filter(resolution=ConflictResolution.OPEN).filter(
            Q(first=OuterRef("pk"), second__status__in=claiming)
            | Q(second=OuterRef("pk"), first__status__in=claiming)
        )
    )
    in_force = Removal.objects.filter(
        source=RemovalSource.PARTNER, source_ref=OuterRef("filing_ref"), item_id=OuterRef("item_id")
    ).exclude(state=RemovalState.REVOKED)
    with_partner = Exists(
        PartnerConflict.objects.filter(
            request=OuterRef("pk"), resolution=PartnerConflictResolution.OPEN
        ).filter(Exists(in_force))
    )
    return ExpressionWrapper(Q(with_artist) | Q(with_partner), output_field=BooleanField())


def proof_for_artist(user: User, proof_id: int) -> IdentityProof:
    proof = IdentityProof.objects.filter(pk=proof_id, artist__user=user).select_related("artist").first()
    if proof is None:
        raise Http404("No such proof.")
    return proof


def site_signals_refusal(proof: IdentityProof) -> str:
    """Why this proof's site may not be read for what it says (not a domain, not verified), or ""."""
    if proof.method not in DOMAIN_METHODS:
        return _(
            "Only a domain proven by DNS, a file or a meta tag can be read for what it says about AI "
            "training; this proof's method: %(method)s."
        ) % {"method": str(proof.get_method_display()).lower()}
    expired = proof.expires_at is not None and proof.expires_at <= timezone.now()
    if proof.status != ProofStatus.VERIFIED or expired:
        return _(
            "%(domain)s is not verified (this proof is %(status)s), so we do not read what it says. "
            "Verify the domain first, then come back."
        ) % {"domain": proof.target, "status": str(proof.get_status_display()).lower()}
    return ""


def site_signals_of(proof: IdentityProof) -> SiteSignals | None:
    """What the proof's domain said when last fetched for its artist, or None if never fetched."""
    return SiteSignals.objects.filter(artist_id=proof.artist_id, site=proof.target).first()


def domain_choice_of(proof: IdentityProof) -> str:
    """The choice (registry.preferences.Choice) of the artist's latest approved domain request
    whose lines lie on the proof's domain, or "" when none does: what the publish page starts from."""
    domain = proof.target.split(":", 1)[0].lower().rstrip(".")
    if not domain:
        return ""
    ticket = (
        RemovalRequest.objects.filter(
            artist_id=proof.artist_id, status__in=[Status.APPROVED, Status.COMPLETED]
        )
        .filter(Q(scopes__host=domain) | Q(scopes__host__endswith="." + domain))
        .order_by("-decided_at", "-pk")
        .first()
    )
    return ticket.choice if ticket is not None else ""


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


@dataclass
class ScopeRow:
    """A domain request's scope line: the proof that covers it and, per data set, the items it covers
    (counted now on the host index before approval; as recorded at approval after)."""

    line: str
    proof: IdentityProof | None
    recorded: bool
    datasets: list[tuple[str, int]]


def _scope(row: Any) -> Scope:
    return Scope(host=row.host, include_subdomains=row.include_subdomains, path_prefix=row.path_prefix)


def dataset_labels() -> dict[int, str]:
    return {d.pk: f"{d.name} ({d.maintainer.name})" for d in Dataset.objects.select_related("maintainer")}


def scope_rows(ticket: RemovalRequest, *, count_now: bool = False) -> list[ScopeRow]:
    """The ticket's scope lines. `count_now`: count the registered items each covers today (the
    desk, before approval); otherwise the counts recorded when it was approved, if it was."""
    rows = list(ticket.scopes.select_related("proof"))
    if not rows:
        return []
    event = (
        ticket.events.filter(kind=EventKind.REMOVALS, params__text="domain_removals")
        .order_by("-created_at", "-pk")
        .first()
    )
    if count_now:
        labels = dataset_labels()
        counts = registry_selectors.scope_item_counts([_scope(row) for row in rows])
        return [
            ScopeRow(
                line=str(row),
                proof=row.proof,
                recorded=event is not None,
                datasets=sorted((labels.get(pk, str(pk)), n) for pk, n in found.items()),
            )
            for row, found in zip(rows, counts, strict=True)
        ]
    recorded = {
        str(r.get("scope")): dict(r.get("datasets", {}))
        for r in (event.params if event else {}).get("scopes", [])
    }
    return [
        ScopeRow(
            line=str(row),
            proof=row.proof,
            recorded=event is not None,
            datasets=sorted((name, int(n)) for name, n in recorded.get(str(row), {}).items()),
        )
        for row in rows
    ]


def receipt_progress(reference: str) -> list[DatasetProgress]:
    """Per data set, what its maintainers did with the request's removals: one grouped query,
    whatever the number of removals (50,000 for a big request are counted, not loaded)."""
    return removals_progress(removals_for_source(reference))


def removals_progress(removals: QuerySet[Removal]) -> list[DatasetProgress]:
    """receipt_progress of any set of removals (a claimed creator's, across a partner's filings)."""
    live = ~Q(state=RemovalState.REVOKED)
    # A maintainer pulling the feed may acknowledge what no webhook delivered: both count as received.
    received = Q(state__in=[RemovalState.DELIVERED, RemovalState.ACKNOWLEDGED])
    acknowledged = Q(state=RemovalState.ACKNOWLEDGED)
    rows = (
        removals.values("dataset_id", "dataset__name", "dataset__maintainer__name")
        .annotate(
            total=Count("id", filter=live),
            delivered=Count("id", filter=received),
            acknowledged=Count("id", filter=acknowledged),
            revoked=Count("id", filter=~live),
            delivered_at=Max("delivered_at", filter=received),
            acknowledged_at=Max("acknowledged_at", filter=acknowledged),
        )
        .order_by()
    )
    progress = [
        DatasetProgress(
            name=row["dataset__name"],
            maintainer=row["dataset__maintainer__name"],
            total=row["total"],
            delivered=row["delivered"],
            acknowledged=row["acknowledged"],
            revoked=row["revoked"],
            delivered_at=row["delivered_at"],
            acknowledged_at=row["acknowledged_at"],
        )
        for row in rows
    ]
    return sorted(progress, key=lambda r: r.name)


def removals_for_artist(user: User, reference: str) -> QuerySet[Removal]:
    """The removals of the artist's own request (404 for anyone else's), in the order recorded."""
    ticket = request_for_artist(user, reference)
    return removals_for_source(ticket.reference or "").order_by("pk")


def held_works_count(ticket: RemovalRequest) -> int:
    """Works of an approved request that an ownership conflict still holds."""
    return ticket.works.filter(decision=WorkDecision.HELD).count()


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
        elif event.kind == EventKind.WORKS and (event.params or {}).get("text") in (
            "works_removed",
            "works_moved",
        ):
            title = _("Works removed")
        elif (event.params or {}).get("text") == "choice_changed":
            title = _("Choice changed")
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


def latest_sample(ticket: RemovalRequest) -> TicketEvent | None:
    """The last random sample drawn for a big request on the desk (services.sampling)."""
    return (
        TicketEvent.objects.filter(request=ticket, kind=EventKind.SAMPLE, params__text="sample_drawn")
        .select_related("actor")
        .order_by("-created_at", "-pk")
        .first()
    )


def ticket_has_disputes(ticket: RemovalRequest) -> bool:
    """Whether any dispute the artist sees concerns the request: one indexed read of the disputes
    alone, so the page of a request with thousands of removals pays nothing when there is none."""
    return (
        Dispute.objects.filter(source_ref=ticket.reference)
        .exclude(state__in=(DisputeState.UNCONFIRMED, DisputeState.EXPIRED))
        .exists()
    )


def disputes_of_ticket(ticket: RemovalRequest) -> QuerySet[Dispute]:
    """The disputes the artist of `ticket` sees: those opened about its removals (never one whose
    filer has not confirmed their address yet, nor an expired one)."""
    return (
        Dispute.objects.filter(source_ref=ticket.reference, removal__source=RemovalSource.ARTIST)
        .exclude(state__in=(DisputeState.UNCONFIRMED, DisputeState.EXPIRED))
        .select_related("removal__dataset")
        .prefetch_related("messages")
        .order_by("id")
    )
