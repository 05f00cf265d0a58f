"""Reads of the partners' side: a partner's filings, a filing's rows and counts."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from .models import Filing, FilingRow, Partner, RowState


def filings_of(partner: Partner) -> QuerySet[Filing]:
    return Filing.objects.filter(partner=partner)


def rows_of(filing: Filing, *, state: str | None = None) -> QuerySet[FilingRow]:
    rows = FilingRow.objects.filter(filing=filing)
    return rows.filter(state=state) if state else rows


def row_counts(filing: Filing) -> dict[str, int]:
    """How many of the filing's rows are in each state (every state named, zeros included)."""
    counts = dict(
        FilingRow.objects.filter(filing=filing)
        .values_list("state")
        .annotate(n=Count("pk"))
        .values_list("state", "n")
    )
    return {state: counts.get(state, 0) for state in RowState.values}
