"""Reads of the partners' side: a partner's filings, a filing's rows and counts."""

from __future__ import annotations

from django.db import connection
from django.db.models import Count, QuerySet
from django.http import Http404

from registry.models import Dispute, DisputeState, RemovalSource

from .models import CreatorClaim, Filing, FilingRow, Partner, RowState


def filings_of(partner: Partner) -> QuerySet[Filing]:
    return Filing.objects.filter(partner=partner)


def disputes_of(partner: Partner) -> QuerySet[Dispute]:
    """The disputes about removals the partner's filings asked for, once opened (a public
    disputant's unconfirmed or expired ones were never told to anyone)."""
    return (
        Dispute.objects.filter(
            source_ref__in=Filing.objects.filter(partner=partner).values("public_id"),
            removal__source=RemovalSource.PARTNER,
        )
        .exclude(state__in=(DisputeState.UNCONFIRMED, DisputeState.EXPIRED))
        .select_related("removal__dataset")
    )


def rows_of(filing: Filing, *, state: str | None = None, lifted: bool | None = None) -> QuerySet[FilingRow]:
    """The filing's rows, those in `state` only if given, those its creator lifted (or not) only
    if `lifted` is given (the lifted ones from their own partial index: a few of the filing's)."""
    rows = FilingRow.objects.filter(filing=filing)
    if state:
        rows = rows.filter(state=state)
    if lifted is not None:
        rows = rows.filter(lifted_at__isnull=not lifted)
    return rows


def row_counts(filing: Filing) -> dict[str, int]:
    """How many of the filing's rows are in each state (every state named, zeros included)."""
    counts = dict(
        FilingRow.objects.filter(filing=filing)
        .values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    return {state: counts.get(state, 0) for state in RowState.values}


def rows_removal_counts(row_ids: list[int]) -> dict[int, tuple[int, int]]:
    """For each row (a page of a claimed creator's): its live removals and how many of them the
    maintainers acknowledged, through the items it matched at approval; one grouped query."""
    if not row_ids:
        return {}
    marks = ", ".join("%s" for _ in row_ids)
    sql = f"""
        SELECT l.row_id,
               sum(CASE WHEN r.state <> 'revoked' THEN 1 ELSE 0 END),
               sum(CASE WHEN r.state = 'acknowledged' THEN 1 ELSE 0 END)
        FROM partners_filingrowitem l
        JOIN partners_filingrow fr ON fr.id = l.row_id
        JOIN partners_filing f ON f.id = fr.filing_id
        JOIN registry_removal r ON r.source_ref = f.public_id AND r.item_id = l.item_id
        WHERE l.row_id IN ({marks}) AND fr.choice <> 'licence'
        GROUP BY l.row_id
    """  # noqa: S608 (placeholders only; every value is a parameter)
    with connection.cursor() as cursor:
        cursor.execute(sql, [int(i) for i in row_ids])
        return {int(row): (int(live or 0), int(acked or 0)) for row, live, acked in cursor.fetchall()}


def claim_for_artist(user_id: int, claim_id: int) -> CreatorClaim:
    """The artist's own claim of a partner's creator; 404 for anyone else's."""
    claim = CreatorClaim.objects.select_related("partner").filter(pk=claim_id, user_id=user_id).first()
    if claim is None:
        raise Http404("No such claim.")
    return claim
