"""The portfolio's reads: an artist's works filtered by where they were found, the counts per
filter, and what each work of a page looks like in each data set.

An artist's portfolio is every `Work` of theirs; a work with no request is in the portfolio
and in no request. Everything here is a fixed number of queries whatever the size of the
portfolio: filters are EXISTS subqueries, counts are one aggregate each, and the per-data-set
summary of a page is one GROUP BY over the matches of that page's works.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db import connection, transaction
from django.db.models import Case, Count, Exists, Max, OuterRef, Q, QuerySet, When
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.text import parse_id, printable, text_problem
from registry.models import Dataset, Removal, RemovalState

from .converters import REFERENCE_PATTERN
from .models import ArtistProfile, HashState, Match, MatchState, RemovalRequest, Work
from .workflow import EDITABLE

PAGE_SIZE = 60
SEARCH_MAX = 200

# The states a work can be filtered by, in the order the page lists them.
STATES: dict[str, object] = {
    "found": gettext_lazy("Found"),
    "not_found": gettext_lazy("Not found"),
    "removed": gettext_lazy("Removed"),
    "excluded": gettext_lazy("Excluded"),
    "pending": gettext_lazy("Being checked"),
    "failed": gettext_lazy("Could not be checked"),
}
# "in": every work, works in no request, works in some request, or the works of one request.
IN_NONE, IN_ANY = "none", "any"
# The parameters a filter reads; the page's own (page) and the selection's are not filters.
FILTER_KEYS = ("state", "dataset", "in", "q")


class FilterInvalid(Exception):
    """A filter value the page cannot use; the message says which, for a person (a 400)."""


@dataclass(frozen=True)
class PortfolioFilter:
    state: str = ""
    dataset: int | None = None
    within: str = ""  # "", IN_NONE, IN_ANY or a request reference
    q: str = ""

    @property
    def active(self) -> bool:
        return bool(self.state or self.dataset or self.within or self.q)

    def params(self, **override: object) -> dict[str, str]:
        values: dict[str, object] = {
            "state": self.state,
            "dataset": self.dataset or "",
            "in": self.within,
            "q": self.q,
        }
        values.update(override)
        return {key: str(value) for key, value in values.items() if value not in ("", None)}

    def query(self, **override: object) -> str:
        """The query string of this filter (with `override`), for links; "" when empty."""
        return urlencode(self.params(**override))


def filter_parse(data: Mapping[str, str], *, in_request: bool = False) -> PortfolioFilter:
    """The filter of a query string or form; FilterInvalid for a value that is not one.

    `in_request`: the works list of one request's page, where "in" has no meaning.
    """
    values: dict[str, str] = {}
    for key in FILTER_KEYS:
        value = data.get(key, "") or ""
        problem = text_problem(value)
        if problem:
            raise FilterInvalid(_("The filter “%(name)s” %(problem)s.") % {"name": key, "problem": problem})
        values[key] = value.strip()
    state = values["state"]
    if state and state not in STATES:
        raise FilterInvalid(
            _("“%(value)s” is not a state to filter by; choose one of: %(states)s.")
            % {"value": printable(state, 40), "states": ", ".join(STATES)}
        )
    dataset: int | None = None
    if values["dataset"]:
        dataset = parse_id(values["dataset"])
        if dataset is None:
            raise FilterInvalid(
                _("“%(value)s” is not a data set: choose one from the list.")
                % {"value": printable(values["dataset"], 40)}
            )
    within = "" if in_request else values["in"]
    if within and within not in (IN_NONE, IN_ANY) and not re.fullmatch(REFERENCE_PATTERN, within):
        raise FilterInvalid(
            _("“%(value)s” is not a request: choose one from the list.") % {"value": printable(within, 40)}
        )
    q = values["q"]
    if len(q) > SEARCH_MAX:
        raise FilterInvalid(_("Search with at most %(count)d characters.") % {"count": SEARCH_MAX})
    return PortfolioFilter(state=state, dataset=dataset, within=within, q=q)


@contextmanager
def reads_planned() -> Iterator[None]:
    """The portfolio's reads in one transaction without PostgreSQL's JIT compiler.

    Their EXISTS and grouped counts are estimated costly enough at 10,000 works for PostgreSQL
    to compile them, which took 1.5 to 3.5 s of a 0.3 s query (bench/portfolio_page.py); the
    plans themselves are the same. SET LOCAL ends with the transaction; other backends need nothing.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        yield


# --- the conditions ---------------------------------------------------------


def _matches_of_work(dataset: int | None) -> QuerySet[Match]:
    matches = Match.objects.filter(work_id=OuterRef("pk"))
    return matches.filter(item__dataset_id=dataset) if dataset else matches


def _live_removal(acknowledged: bool = False) -> Exists:
    """For a Match queryset: the removal its work's request recorded for its item (not revoked)."""
    removals = Removal.objects.filter(
        item_id=OuterRef("item_id"), source_ref=OuterRef("work__request__reference")
    )
    if acknowledged:
        return Exists(removals.filter(state=RemovalState.ACKNOWLEDGED))
    return Exists(removals.exclude(state=RemovalState.REVOKED))


def _removed() -> Q:
    """A match that was approved and whose removal the registry holds."""
    return Q(state=MatchState.APPROVED) & Q(_live_removal())


def _found() -> Q:
    """A copy the artist has not excluded and that is not removed (yet)."""
    return Q(state__in=[MatchState.SUGGESTED, MatchState.CONFIRMED]) | (
        Q(state=MatchState.APPROVED) & ~Q(_live_removal())
    )


def state_condition(state: str, dataset: int | None = None) -> Q:
    """For a Work queryset: the works in `state` (in `dataset`, for the states of copies)."""
    if state == "pending":
        return Q(hash_state=HashState.PENDING)
    if state == "failed":
        return Q(hash_state=HashState.FAILED)
    matches = _matches_of_work(dataset)
    if state == "not_found":
        return Q(hash_state=HashState.DONE) & ~Q(Exists(matches))
    if state == "found":
        return Q(Exists(matches.filter(_found())))
    if state == "removed":
        return Q(Exists(matches.filter(_removed())))
    if state == "excluded":
        return Q(Exists(matches.filter(state=MatchState.EXCLUDED)))
    raise FilterInvalid(state)


def _within_condition(within: str) -> Q:
    if within == IN_NONE:
        return Q(request__isnull=True)
    if within == IN_ANY:
        return Q(request__isnull=False)
    if within:
        return Q(request__reference=within)
    return Q()


def _search_condition(q: str) -> Q:
    return Q(original_name__icontains=q) if q else Q()


def works_of(artist: ArtistProfile) -> QuerySet[Work]:
    """The artist's portfolio: every work of theirs, in a request or not."""
    return Work.objects.filter(artist=artist)


def works_filtered(base: QuerySet[Work], flt: PortfolioFilter, *, order: str = "-id") -> QuerySet[Work]:
    """`base` (works of one artist) narrowed by the filter, newest first (or in `order`)."""
    works = base.filter(_within_condition(flt.within), _search_condition(flt.q))
    if flt.state:
        works = works.filter(state_condition(flt.state, flt.dataset))
    elif flt.dataset:
        works = works.filter(Exists(_matches_of_work(flt.dataset)))
    return works.order_by(order)


# --- counts per filter ------------------------------------------------------


@dataclass
class FilterCounts:
    """How many works each choice of the filter would show, the other choices as they are."""

    states: dict[str, int] = field(default_factory=dict)
    total: int = 0
    datasets: list[tuple[int, str, int]] = field(default_factory=list)  # (id, name, works)
    within: dict[str, int] = field(default_factory=dict)  # IN_NONE / IN_ANY -> works


def filter_counts(base: QuerySet[Work], flt: PortfolioFilter) -> FilterCounts:
    """Four aggregate queries: per hash state, per state of the copies (one pass over the matches,
    grouped by work), per data set, and in a request or not."""
    counts = FilterCounts()
    by_state = base.filter(_within_condition(flt.within), _search_condition(flt.q))
    works = by_state.order_by().aggregate(
        every=Count("pk"),
        pending=Count("pk", filter=Q(hash_state=HashState.PENDING)),
        failed=Count("pk", filter=Q(hash_state=HashState.FAILED)),
        done=Count("pk", filter=Q(hash_state=HashState.DONE)),
    )
    matches = Match.objects.filter(work__in=by_state.values("pk"))
    if flt.dataset:
        matches = matches.filter(item__dataset_id=flt.dataset)
    per_work = (
        matches.values("work_id")
        .annotate(
            n_found=Count("pk", filter=_found()),
            n_removed=Count("pk", filter=_removed()),
            n_excluded=Count("pk", filter=Q(state=MatchState.EXCLUDED)),
            checked=Max(Case(When(work__hash_state=HashState.DONE, then=1), default=0)),
        )
        .order_by()
    )
    copies = per_work.aggregate(
        matched=Count("work_id"),
        matched_checked=Count("work_id", filter=Q(checked=1)),
        found=Count("work_id", filter=Q(n_found__gt=0)),
        removed=Count("work_id", filter=Q(n_removed__gt=0)),
        excluded=Count("work_id", filter=Q(n_excluded__gt=0)),
    )
    # Under a data set, "every state" is the works found there; "not found", those checked
    # and found nowhere in it.
    counts.total = int(copies["matched"] if flt.dataset else works["every"])
    counts.states = {
        "found": int(copies["found"]),
        "not_found": int(works["done"]) - int(copies["matched_checked"]),
        "removed": int(copies["removed"]),
        "excluded": int(copies["excluded"]),
        "pending": int(works["pending"]),
        "failed": int(works["failed"]),
    }
    narrowed = base.filter(_within_condition(flt.within), _search_condition(flt.q))
    if flt.state:
        narrowed = narrowed.filter(state_condition(flt.state))
    counts.datasets = [
        (int(r["item__dataset_id"]), str(r["item__dataset__name"]), int(r["works"]))
        for r in Match.objects.filter(work__in=narrowed.values("pk"))
        .values("item__dataset_id", "item__dataset__name")
        .annotate(works=Count("work_id", distinct=True))
        .order_by("item__dataset__name", "item__dataset_id")
    ]
    scoped = base.filter(_search_condition(flt.q))
    if flt.state:
        scoped = scoped.filter(state_condition(flt.state, flt.dataset))
    elif flt.dataset:
        scoped = scoped.filter(Exists(_matches_of_work(flt.dataset)))
    row = scoped.order_by().aggregate(
        none=Count("pk", filter=Q(request__isnull=True)), any=Count("pk", filter=Q(request__isnull=False))
    )
    counts.within = {IN_NONE: int(row["none"]), IN_ANY: int(row["any"])}
    return counts


# --- one page's works, per data set -----------------------------------------


@dataclass
class DatasetFinding:
    """Where one work was found in one data set: how many copies in each state."""

    dataset: str
    found: int = 0
    removed: int = 0
    acknowledged: int = 0
    excluded: int = 0


@dataclass
class PortfolioRow:
    work: Work
    findings: list[DatasetFinding]

    @property
    def copies(self) -> int:
        return sum(f.found + f.removed + f.excluded for f in self.findings)


def page_rows(works: list[Work]) -> list[PortfolioRow]:
    """Each work of a page with its findings per data set: one GROUP BY query for the page."""
    by_work: dict[int, list[DatasetFinding]] = {w.pk: [] for w in works}
    if works:
        rows = (
            Match.objects.filter(work_id__in=list(by_work))
            .values("work_id", "item__dataset_id", "item__dataset__name")
            .annotate(
                found=Count("pk", filter=_found()),
                removed=Count("pk", filter=_removed()),
                acknowledged=Count(
                    "pk", filter=Q(state=MatchState.APPROVED) & Q(_live_removal(acknowledged=True))
                ),
                excluded=Count("pk", filter=Q(state=MatchState.EXCLUDED)),
            )
            .order_by("work_id", "item__dataset__name", "item__dataset_id")
        )
        for r in rows:
            by_work[r["work_id"]].append(
                DatasetFinding(
                    dataset=str(r["item__dataset__name"]),
                    found=int(r["found"]),
                    removed=int(r["removed"]),
                    acknowledged=int(r["acknowledged"]),
                    excluded=int(r["excluded"]),
                )
            )
    return [PortfolioRow(work=w, findings=by_work[w.pk]) for w in works]


def editable_requests_of(artist: ArtistProfile) -> list[RemovalRequest]:
    """The artist's requests that can still take or give back works (EDITABLE), newest first."""
    return list(
        RemovalRequest.objects.filter(artist=artist, status__in=list(EDITABLE)).order_by("-created_at", "-id")
    )


def references_of(artist: ArtistProfile) -> list[tuple[str, str]]:
    """(reference, status) of every request of the artist, for the "in request" filter."""
    return [
        (str(ref), str(status))
        for ref, status in RemovalRequest.objects.filter(artist=artist, reference__isnull=False)
        .order_by("-created_at", "-id")
        .values_list("reference", "status")
    ]


def dataset_exists(dataset_id: int) -> bool:
    return Dataset.objects.filter(pk=dataset_id).exists()
