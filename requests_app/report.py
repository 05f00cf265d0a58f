"""The public transparency report: what Removal Desk did, in figures anyone may read.

- requests by month of submission, by outcome and by basis (the last REPORT_MONTHS months);
- removals per data set: in force, acknowledged, revoked, and how many came from partners;
- per maintainer, the median and 95th-percentile time from approval to acknowledgement;
- licences granted: standing and revoked grants per licence, and grants per month (`licences`).
- disputes opened by month, and how they ended (the removal upheld or revoked) or still open.

Computed by a few aggregate queries (percentiles by PostgreSQL's percentile_cont; on the
embedded SQLite default, from the sorted durations), every REPORT_CACHE_SECONDS by beat
(tasks.transparency_refresh), and cached for twice that: visitors read the cache, and the page
says when its figures were computed. No artist, work or request is named: only counts, and
maintainers' and data sets' public names, which the home page shows already.
"""

from __future__ import annotations

import csv
import io
import math
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone

from registry.models import (
    DISPUTE_DECIDED_STATES,
    Dataset,
    Dispute,
    GrantState,
    LicenceGrant,
    Maintainer,
    Removal,
    RemovalReason,
    RemovalSource,
    RemovalState,
)
from registry.preferences import Licence

from .models import RemovalRequest
from .workflow import Status

# v3: the figures gained `licences` and `disputes`; a cache written before holds neither.
CACHE_KEY = "requests_app:transparency-report:v3"
# Outcomes as the report groups them: a completed request was approved first.
OUTCOMES: dict[str, str] = {
    Status.APPROVED.value: "approved",
    Status.COMPLETED.value: "approved",
    Status.REJECTED.value: "rejected",
    Status.WITHDRAWN.value: "withdrawn",
}
OUTCOME_KEYS = ("approved", "rejected", "withdrawn", "open")
BASIS_KEYS = tuple(RemovalReason.values)
DATASET_COUNTS = ("in_force", "acknowledged", "revoked", "from_partners")
LICENCE_KEYS = tuple(Licence.values)
LICENCE_COUNTS = ("in_force", "revoked", "from_partners")


def report() -> dict[str, Any]:
    """The report's figures, from the cache (kept fresh by `refresh`, which beat runs every
    REPORT_CACHE_SECONDS); computed here only when the cache has none (a new deployment)."""
    figures = cache.get(CACHE_KEY)
    return figures if figures is not None else refresh()


def refresh() -> dict[str, Any]:
    """Compute the figures and cache them for twice the refresh period, so a late beat never
    leaves visitors to compute them."""
    figures = compute()
    cache.set(CACHE_KEY, figures, 2 * settings.REPORT_CACHE_SECONDS or None)
    return figures


def _months(now: datetime) -> list[str]:
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    months = []
    for _ in range(settings.REPORT_MONTHS):
        months.append(first.strftime("%Y-%m"))
        first = (first - timedelta(days=1)).replace(day=1)
    return months[::-1]


def compute(now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    months = _months(now)
    since = datetime.fromisoformat(months[0] + "-01").replace(tzinfo=now.tzinfo)
    by_month: dict[str, dict[str, int]] = {m: dict.fromkeys(OUTCOME_KEYS + BASIS_KEYS, 0) for m in months}
    rows = (
        RemovalRequest.objects.filter(submitted_at__gte=since)
        .annotate(month=TruncMonth("submitted_at"))
        .values("month", "status", "basis")
        .annotate(n=Count("id"))
    )
    for row in rows:
        month = row["month"].strftime("%Y-%m")
        if month not in by_month:
            continue
        by_month[month][OUTCOMES.get(row["status"], "open")] += row["n"]
        if row["basis"] in BASIS_KEYS:
            by_month[month][row["basis"]] += row["n"]
    # One pass over the removals, grouped: four filtered counts joined per data set read it four times.
    counts: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(DATASET_COUNTS, 0))
    for dataset_id, state, source, n in (
        Removal.objects.order_by().values_list("dataset_id", "state", "source").annotate(n=Count("id"))
    ):
        tally = counts[dataset_id]
        if state == RemovalState.REVOKED:
            tally["revoked"] += n
            continue
        tally["in_force"] += n
        tally["acknowledged"] += n if state == RemovalState.ACKNOWLEDGED else 0
        tally["from_partners"] += n if source == RemovalSource.PARTNER else 0
    datasets = [
        {"dataset": d.name, "maintainer": d.maintainer.name, **counts[d.pk]}
        for d in Dataset.objects.select_related("maintainer").order_by("name")
    ]
    return {
        "computed_at": now.isoformat(),
        "fresh_seconds": settings.REPORT_CACHE_SECONDS,
        "months": [{"month": m, **by_month[m]} for m in months],
        "datasets": datasets,
        "maintainers": _acknowledgement_times(),
        "licences": licences_granted(months, since),
        "disputes": disputes_by_month(months, since),
    }


def licences_granted(months: list[str], since: datetime) -> dict[str, Any]:
    """Licence grants (an artist's, or a partner's for its creators, permission to train under a
    licence): per licence, those standing, revoked and filed by partners (one grouped pass); and
    per month of the months shown, the grants recorded under each licence."""
    per_licence: dict[str, dict[str, int]] = {k: dict.fromkeys(LICENCE_COUNTS, 0) for k in LICENCE_KEYS}
    for licence, state, source, n in (
        LicenceGrant.objects.order_by().values_list("licence", "state", "source").annotate(n=Count("id"))
    ):
        if licence not in per_licence:
            continue
        tally = per_licence[licence]
        if state == GrantState.REVOKED:
            tally["revoked"] += n
            continue
        tally["in_force"] += n
        tally["from_partners"] += n if source == RemovalSource.PARTNER else 0
    by_month: dict[str, dict[str, int]] = {m: dict.fromkeys(LICENCE_KEYS, 0) for m in months}
    rows = (
        LicenceGrant.objects.filter(granted_at__gte=since)
        .annotate(month=TruncMonth("granted_at"))
        .order_by()
        .values_list("month", "licence")
        .annotate(n=Count("id"))
    )
    for month_start, licence, n in rows:
        month = month_start.strftime("%Y-%m")
        if month in by_month and licence in LICENCE_KEYS:
            by_month[month][licence] += n
    return {
        "by_licence": [{"licence": k, **per_licence[k]} for k in LICENCE_KEYS],
        "by_month": [{"month": m, **by_month[m]} for m in months],
    }


def _acknowledgement_times() -> list[dict[str, Any]]:
    """Per maintainer with removals: how many were acknowledged, and the median and 95th
    percentile of approval -> acknowledgement, in hours."""
    names = dict(Maintainer.objects.values_list("pk", "name"))
    totals = dict(
        Removal.objects.values("dataset__maintainer")
        .annotate(n=Count("id"))
        .values_list("dataset__maintainer", "n")
    )
    found: dict[int, tuple[int, float | None, float | None]] = {}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT d.maintainer_id, count(*),
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY s),
                       percentile_cont(0.95) WITHIN GROUP (ORDER BY s)
                FROM (SELECT dataset_id, extract(epoch FROM acknowledged_at - approved_at) AS s
                      FROM registry_removal WHERE acknowledged_at IS NOT NULL) r
                JOIN registry_dataset d ON d.id = r.dataset_id
                GROUP BY d.maintainer_id
                """
            )
            for maintainer, n, median, p95 in cursor.fetchall():
                found[maintainer] = (n, float(median), float(p95))
    else:
        durations: dict[int, list[float]] = defaultdict(list)
        for maintainer, approved, acknowledged in Removal.objects.filter(
            acknowledged_at__isnull=False
        ).values_list("dataset__maintainer", "approved_at", "acknowledged_at"):
            if acknowledged is not None:  # the filter says so; the type does not
                durations[maintainer].append((acknowledged - approved).total_seconds())
        for maintainer, values in durations.items():
            values.sort()
            found[maintainer] = (len(values), _percentile(values, 0.5), _percentile(values, 0.95))
    out = []
    for maintainer, total in sorted(totals.items(), key=lambda kv: names.get(kv[0], "")):
        n, median, p95 = found.get(maintainer, (0, None, None))
        out.append(
            {
                "maintainer": names.get(maintainer, ""),
                "removals": total,
                "acknowledged": n,
                "median_hours": None if median is None else round(median / 3600, 2),
                "p95_hours": None if p95 is None else round(p95 / 3600, 2),
            }
        )
    return out


DISPUTE_OUTCOME_KEYS = ("upheld", "revoked", "open")


def disputes_by_month(months: list[str], since: datetime) -> list[dict[str, Any]]:
    """Disputes opened each month (filed and, from the public page, confirmed), by outcome: the
    removal upheld, revoked, or not decided yet. One grouped query."""
    by_month = {m: dict.fromkeys(("filed", *DISPUTE_OUTCOME_KEYS), 0) for m in months}
    rows = (
        Dispute.objects.filter(opened_at__gte=since)
        .annotate(month=TruncMonth("opened_at"))
        .values("month", "state")
        .annotate(n=Count("id"))
    )
    for row in rows:
        month = row["month"].strftime("%Y-%m")
        if month not in by_month:
            continue
        outcome = row["state"] if row["state"] in DISPUTE_DECIDED_STATES else "open"
        by_month[month]["filed"] += row["n"]
        by_month[month][outcome] += row["n"]
    return [{"month": m, **by_month[m]} for m in months]


def _disputes_csv(writer: Any, figures: dict[str, Any]) -> None:
    writer.writerow(["section", "month", "filed", *DISPUTE_OUTCOME_KEYS])
    for row in figures.get("disputes", []):
        writer.writerow(["disputes", row["month"], row["filed"], *(row[k] for k in DISPUTE_OUTCOME_KEYS)])


def _percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks: what percentile_cont computes."""
    at = (len(values) - 1) * q
    low, high = math.floor(at), math.ceil(at)
    return values[low] + (values[high] - values[low]) * (at - low)


def as_csv(figures: dict[str, Any]) -> str:
    """One table per section, each row led by its section's name."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "key", *OUTCOME_KEYS, *BASIS_KEYS])
    for month in figures["months"]:
        writer.writerow(["requests", month["month"], *(month[k] for k in OUTCOME_KEYS + BASIS_KEYS)])
    writer.writerow(
        ["section", "dataset", "maintainer", "in_force", "acknowledged", "revoked", "from_partners"]
    )
    for row in figures["datasets"]:
        writer.writerow(["removals", *row.values()])
    writer.writerow(["section", "maintainer", "removals", "acknowledged", "median_hours", "p95_hours"])
    for row in figures["maintainers"]:
        writer.writerow(["acknowledgement", *("" if v is None else v for v in row.values())])
    licences_csv(writer, figures["licences"])
    _disputes_csv(writer, figures)
    return out.getvalue()


def licences_csv(writer: Any, licences: dict[str, Any]) -> None:
    """The licences section: grants per licence, then grants per month and licence."""
    writer.writerow(["section", "licence", *LICENCE_COUNTS])
    for row in licences["by_licence"]:
        writer.writerow(["licences", *row.values()])
    writer.writerow(["section", "month", *LICENCE_KEYS])
    for row in licences["by_month"]:
        writer.writerow(["licences_by_month", *row.values()])


def bars(
    values: list[tuple[str, int]], *, width: int = 300, font: int = 14, bar: int = 16, gap: int = 12
) -> dict[str, Any]:
    """An SVG horizontal bar chart's geometry (the template draws it): one bar per (label, value),
    scaled to the largest, each label on its own line above its bar so that it has the whole
    width. `font` is the text's size in site.css. Drawn 300 wide, about the width a 375 px phone
    gives it (309 px), so that its text is drawn near its own size there (14.4 px for 14); the
    page caps how far it grows on a desktop.

    Coordinates are strings: a template would localise a number ("15,4" in French), which SVG
    reads as a list of positions, one per glyph."""
    top = max((v for _, v in values), default=0) or 1
    room = width - 8 * font // 2  # the value after the longest bar: up to seven digits
    pitch = font + 6 + bar + gap  # the label's line, a small space, the bar, the gap to the next
    rows = []
    for i, (label, value) in enumerate(values):
        length = max(1, round(room * value / top)) if value else 0
        y = i * pitch + font + 6
        rows.append(
            {
                "label": label,
                "value": value,
                "label_y": str(i * pitch + font),
                "y": str(y),
                "text_y": str(y + bar - (bar - font * 3 // 4) // 2),
                "x": "0",
                "length": str(length),
                "value_x": str(length + 6),
            }
        )
    return {
        "width": str(width),
        "height": str(max(1, len(values)) * pitch - gap),
        "bar": str(bar),
        "rows": rows,
    }
