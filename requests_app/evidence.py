"""Ownership evidence for a request, computed when a moderator looks (and for bulk approval).

Computed, not stored: it follows from the artist's proofs (which lapse and
are re-checked), the matches (which the artist changes while the request
needs information) and other artists' requests (which are withdrawn or
rejected). A stored copy would be stale the moment one of those moved.
Only conflicts are stored (RequestConflict), because they carry a
moderator's resolution and hold approval.

What each piece means, honestly:
- domain: a confirmed data set copy at a URL on a domain the artist proved
  they control (DNS TXT, well-known file, meta tag). Good evidence that the
  artist published that image; not proof that they made it.
- profile link-back: proves control of one profile page; it counts for
  copies whose URL lies under that page's address only, never for the whole
  host (an Instagram profile does not make all of instagram.com theirs).
- detail: data set items carry no pixel size, so the upload's pixel count is
  compared with a fixed threshold, and its PDQ quality (0-100, how much
  gradient detail the hash saw) with the copy's where the copy has one. A
  large, detailed upload suggests access to an original; it proves nothing
  on its own, since anyone can upscale.
- conflict: another artist's claiming request holds the same image.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Prefetch
from django.utils.translation import gettext, ngettext

from registry.models import DatasetItem

from . import proofs, selectors
from .models import (
    AUTOMATIC_METHODS,
    ArtistProfile,
    IdentityProof,
    Match,
    MatchState,
    ProofMethod,
    ProofStatus,
    RemovalRequest,
    RequestConflict,
    Work,
)

CLAIMED_MATCH_STATES = (MatchState.CONFIRMED, MatchState.APPROVED)


@dataclass(frozen=True)
class ArtistClaims:
    """What the artist's verified proofs cover: whole host names, and profile URL prefixes."""

    domains: frozenset[str]
    url_prefixes: tuple[str, ...]

    def covers(self, url: str) -> str:
        """The domain or profile that covers a URL, or ""."""
        host = (urlsplit(url).hostname or "").lower()
        for domain in self.domains:
            if host == domain or host.endswith("." + domain) or host == "www." + domain:
                return domain
        for prefix in self.url_prefixes:
            if url.startswith(prefix):
                return prefix
        return ""


def claims_from(proof_rows: Iterable[IdentityProof]) -> ArtistClaims:
    domains: set[str] = set()
    prefixes: list[str] = []
    for proof in proof_rows:
        if proof.status != ProofStatus.VERIFIED:
            continue
        domain = proofs.domain_of(proof)
        if domain:
            domains.add(domain.removeprefix("www."))
        elif proof.method == ProofMethod.PROFILE_LINK:
            prefixes.append(proof.target.rstrip("/") + "/")
    return ArtistClaims(frozenset(domains), tuple(prefixes))


def artist_claims(artist: ArtistProfile) -> ArtistClaims:
    return claims_from(artist.proofs.filter(status=ProofStatus.VERIFIED))


@dataclass
class MatchEvidence:
    match: Match
    covered_by: str  # the verified domain or profile the item URL lies under, or ""
    work_quality_higher: bool | None  # None: one side has no PDQ quality


@dataclass
class WorkEvidence:
    work: Work
    pixels: int
    large: bool
    detailed: bool | None
    matches: list[MatchEvidence]


@dataclass
class RequestEvidence:
    ticket: RemovalRequest
    claims: ArtistClaims
    works: list[WorkEvidence]
    conflicts: list[RequestConflict]
    notes: list[str] = field(default_factory=list)

    @property
    def claimed(self) -> list[MatchEvidence]:
        return [m for w in self.works for m in w.matches if m.match.state in CLAIMED_MATCH_STATES]

    @property
    def on_verified_domain(self) -> list[MatchEvidence]:
        return [m for m in self.claimed if m.covered_by]

    @property
    def open_conflicts(self) -> list[RequestConflict]:
        return [c for c in self.conflicts if c.is_open]

    @property
    def lost_conflicts(self) -> list[RequestConflict]:
        return [
            c
            for c in self.conflicts
            if c.owner_request_id() is not None and c.owner_request_id() != self.ticket.pk
        ]

    @property
    def weaknesses(self) -> list[str]:
        """Why this request is not safe to approve in bulk; empty when it is."""
        reasons = []
        claimed = self.claimed
        if self.open_conflicts:
            others = ", ".join(str(c.other(self.ticket)) for c in self.open_conflicts)
            reasons.append(gettext("an unresolved conflict with %(others)s") % {"others": others})
        if self.lost_conflicts:
            reasons.append(gettext("a conflict resolved in favour of another artist"))
        if not claimed:
            reasons.append(gettext("no confirmed copies"))
        elif not self.claims.domains and not self.claims.url_prefixes:
            reasons.append(gettext("no verified domain or profile"))
        else:
            outside = len(claimed) - len(self.on_verified_domain)
            if outside:
                said = ngettext(
                    "%(outside)d of %(claimed)d confirmed copies is not on a verified domain",
                    "%(outside)d of %(claimed)d confirmed copies are not on a verified domain",
                    outside,
                )
                reasons.append(said % {"outside": outside, "claimed": len(claimed)})
        return reasons

    @property
    def strong(self) -> bool:
        """Every confirmed copy on a domain the artist verified, and no conflict: safe in bulk."""
        return not self.weaknesses


def for_request(ticket: RemovalRequest, *, work_ids: Iterable[int] | None = None) -> RequestEvidence:
    """Every work of the request with its matches, or only `work_ids` (a big request's sample)."""
    claims = artist_claims(ticket.artist)
    chosen = ticket.works.all() if work_ids is None else ticket.works.filter(pk__in=list(work_ids))
    works = list(
        chosen.prefetch_related(
            Prefetch("matches", queryset=Match.objects.select_related("item__dataset").order_by("distance"))
        )
    )
    large_at = settings.EVIDENCE_LARGE_WORK_PIXELS
    quality_min = settings.EVIDENCE_PDQ_QUALITY_MIN
    result = []
    for work in works:
        rows = []
        for match in work.matches.all():
            item: DatasetItem = match.item
            higher = None
            if work.pdq_quality is not None and item.pdq_quality is not None:
                higher = work.pdq_quality > item.pdq_quality
            rows.append(
                MatchEvidence(match=match, covered_by=claims.covers(item.url), work_quality_higher=higher)
            )
        result.append(
            WorkEvidence(
                work=work,
                pixels=work.width * work.height,
                large=work.width * work.height >= large_at,
                detailed=None if work.pdq_quality is None else work.pdq_quality >= quality_min,
                matches=rows,
            )
        )
    return RequestEvidence(
        ticket=ticket, claims=claims, works=result, conflicts=selectors.conflicts_of(ticket)
    )


def request_ids_with_domain_evidence(requests: Iterable[RemovalRequest] | None = None) -> set[int]:
    """Requests with at least one confirmed copy on a domain or profile their artist verified.

    Two queries: the verified proofs of artists who have any, then the claimed
    matches of those artists' requests. Host matching happens here, in
    Python, because "host is under domain" is not portable SQL.
    """
    proof_rows = IdentityProof.objects.filter(
        status=ProofStatus.VERIFIED,
        method__in=list(AUTOMATIC_METHODS),
    )
    by_artist: dict[int, list[IdentityProof]] = defaultdict(list)
    for proof in proof_rows:
        by_artist[proof.artist_id].append(proof)
    if not by_artist:
        return set()
    claims = {artist_id: claims_from(rows) for artist_id, rows in by_artist.items()}
    matches = Match.objects.filter(
        state__in=CLAIMED_MATCH_STATES, work__request__artist_id__in=list(claims)
    ).values_list("work__request_id", "work__request__artist_id", "item__url")
    if requests is not None:
        matches = matches.filter(work__request_id__in=[r.pk for r in requests])
    return {req_id for req_id, artist_id, url in matches if req_id and claims[artist_id].covers(url)}
