"""The desk's summary of a big request: what a moderator needs to judge 5,000 works without
looking at each, in a handful of aggregate queries (no row of a work or a match is loaded).

- works: how many, hashed / failed / pending, and their PDQ quality in buckets (the threshold
  EVIDENCE_PDQ_QUALITY_MIN splits "detailed" from "low", as evidence.py does per work);
- copies per data set: matches by state and by confidence, and how many works have one there;
- the share of matched item URLs on a domain or profile the artist verified (the regular
  expression below says in SQL what evidence.ArtistClaims.covers says in Python);
- conflicts, with how many of this request's works each touches, and what approval did.

A request is big above DESK_BIG_REQUEST_WORKS works; smaller ones keep the per-work desk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Count, Q

from . import evidence, selectors
from .models import (
    HashState,
    Match,
    MatchConfidence,
    MatchState,
    RemovalRequest,
    RequestConflict,
    Work,
    WorkDecision,
)

CLAIMED = list(evidence.CLAIMED_MATCH_STATES)


def is_big(ticket: RemovalRequest, works: int | None = None) -> bool:
    count = ticket.works.count() if works is None else works
    return count > settings.DESK_BIG_REQUEST_WORKS


@dataclass
class DatasetCopies:
    name: str
    maintainer: str
    matches: int = 0
    works: int = 0  # works with at least one copy here
    by_state: dict[str, int] = field(default_factory=dict)
    by_confidence: dict[str, int] = field(default_factory=dict)

    def states(self) -> list[tuple[str, int]]:
        return [(str(label), self.by_state.get(value, 0)) for value, label in MatchState.choices]

    def confidences(self) -> list[tuple[str, int]]:
        rows = [(str(value), self.by_confidence.get(value, 0)) for value in MatchConfidence.values]
        return [*rows, ("unrated", self.by_confidence.get("", 0))]


@dataclass
class ConflictTouch:
    conflict: RequestConflict
    other: RemovalRequest
    works: int  # of this request's works
    names: list[str]  # the first few of them


@dataclass
class RequestSummary:
    works: int
    hashed: int
    failed: int
    pending: int
    pdq: list[tuple[str, int]]  # (bucket, works)
    decisions: dict[str, int]
    datasets: list[DatasetCopies]
    matches: int
    claimed: int  # confirmed or approved by the artist
    matches_on_domain: int
    claimed_on_domain: int
    domains: list[str]
    profiles: list[str]
    conflicts: list[ConflictTouch]

    @property
    def claimed_share(self) -> int:
        """Percent of claimed copies on a verified domain or profile (rounded down)."""
        return self.claimed_on_domain * 100 // self.claimed if self.claimed else 0

    @property
    def matches_share(self) -> int:
        return self.matches_on_domain * 100 // self.matches if self.matches else 0

    @property
    def held(self) -> int:
        return self.decisions.get(WorkDecision.HELD, 0)


def claims_condition(claims: evidence.ArtistClaims, prefix: str = "item__") -> Q | None:
    """A filter for matches whose item URL lies on a verified domain (its host the domain, a
    subdomain or www.) or under a verified profile's address; None when the artist has neither.

    Regular expressions run on PostgreSQL and on SQLite (Django registers REGEXP there)."""
    condition = Q()
    if claims.domains:
        hosts = "|".join(re.escape(d) for d in sorted(claims.domains))
        pattern = rf"^https?://([^/?#]*[.@])?({hosts})(:[0-9]+)?([/?#]|$)"
        condition |= Q(**{f"{prefix}url__iregex": pattern})
    for profile in claims.url_prefixes:
        condition |= Q(**{f"{prefix}url__startswith": profile})
    return condition if (claims.domains or claims.url_prefixes) else None


def pdq_buckets(works: dict[str, int]) -> list[tuple[str, int]]:
    low = settings.EVIDENCE_PDQ_QUALITY_MIN
    return [
        ("no PDQ hash", works["pdq_none"]),
        (f"low (under {low})", works["pdq_low"]),
        (f"detailed ({low} and over)", works["pdq_high"]),
    ]


def for_request(ticket: RemovalRequest) -> RequestSummary:
    low = settings.EVIDENCE_PDQ_QUALITY_MIN
    works = Work.objects.filter(request=ticket).aggregate(
        total=Count("id"),
        hashed=Count("id", filter=Q(hash_state=HashState.DONE)),
        failed=Count("id", filter=Q(hash_state=HashState.FAILED)),
        pending=Count("id", filter=Q(hash_state=HashState.PENDING)),
        pdq_none=Count("id", filter=Q(pdq_quality__isnull=True)),
        pdq_low=Count("id", filter=Q(pdq_quality__lt=low)),
        pdq_high=Count("id", filter=Q(pdq_quality__gte=low)),
        **{
            f"decision_{value or 'none'}": Count("id", filter=Q(decision=value))
            for value in WorkDecision.values
        },
    )
    decisions = {value: works[f"decision_{value or 'none'}"] for value in WorkDecision.values}
    matches = Match.objects.filter(work__request=ticket)
    datasets: dict[int, DatasetCopies] = {}
    grouped = matches.values(
        "item__dataset_id", "item__dataset__name", "item__dataset__maintainer__name", "state", "confidence"
    ).annotate(n=Count("id"))
    for row in grouped.order_by():
        copies = datasets.setdefault(
            row["item__dataset_id"],
            DatasetCopies(row["item__dataset__name"], row["item__dataset__maintainer__name"]),
        )
        copies.matches += row["n"]
        copies.by_state[row["state"]] = copies.by_state.get(row["state"], 0) + row["n"]
        copies.by_confidence[row["confidence"]] = copies.by_confidence.get(row["confidence"], 0) + row["n"]
    per_dataset = matches.values_list("item__dataset_id").annotate(works=Count("work", distinct=True))
    for dataset_id, with_copy in per_dataset.order_by():
        datasets[dataset_id].works = with_copy
    claims = evidence.artist_claims(ticket.artist)
    on_domain = claims_condition(claims)
    claimed = Q(state__in=CLAIMED)
    shares = matches.aggregate(
        total=Count("id"),
        claimed=Count("id", filter=claimed),
        on_domain=Count("id", filter=on_domain) if on_domain is not None else Count("id", filter=Q(pk=None)),
        claimed_on_domain=Count("id", filter=claimed & on_domain)
        if on_domain is not None
        else Count("id", filter=Q(pk=None)),
    )
    return RequestSummary(
        works=works["total"],
        hashed=works["hashed"],
        failed=works["failed"],
        pending=works["pending"],
        pdq=pdq_buckets(works),
        decisions=decisions,
        datasets=sorted(datasets.values(), key=lambda d: (d.name, d.maintainer)),
        matches=shares["total"],
        claimed=shares["claimed"],
        matches_on_domain=shares["on_domain"],
        claimed_on_domain=shares["claimed_on_domain"],
        domains=sorted(claims.domains),
        profiles=list(claims.url_prefixes),
        conflicts=_conflicts(ticket),
    )


CONFLICT_NAMES_SHOWN = 5


def _conflicts(ticket: RemovalRequest) -> list[ConflictTouch]:
    rows = []
    for conflict in selectors.conflicts_of(ticket):
        touched = selectors.conflict_works(conflict, ticket)
        names = list(
            Work.objects.filter(pk__in=touched, request=ticket)
            .order_by("pk")
            .values_list("original_name", flat=True)[:CONFLICT_NAMES_SHOWN]
        )
        rows.append(
            ConflictTouch(conflict=conflict, other=conflict.other(ticket), works=len(touched), names=names)
        )
    return rows
