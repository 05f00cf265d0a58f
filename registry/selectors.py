"""Reads that other parts (the API, the upstream app) share."""

from __future__ import annotations

import numpy as np
from django.db.models import QuerySet

from .models import ApiKey, Dataset, Maintainer, Removal, RemovalState, WebhookEndpoint, url_key


def datasets_of(maintainer: Maintainer) -> QuerySet[Dataset]:
    return Dataset.objects.filter(maintainer=maintainer)


def endpoints_of(maintainer: Maintainer) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(maintainer=maintainer, deleted_at__isnull=True)


def removals_for_source(source_ref: str) -> QuerySet[Removal]:
    """Every removal recorded for one upstream reference, with its data set."""
    return Removal.objects.filter(source_ref=source_ref).select_related("dataset", "dataset__maintainer")


def active_keys_of(maintainer: Maintainer) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(maintainer=maintainer, revoked_at__isnull=True)


def removed_urls(urls: list[str]) -> set[str]:
    """Which of `urls` are removed (not revoked) in any data set of the registry."""
    wanted = set(urls)
    keys = list({url_key(u) for u in wanted})
    found: set[str] = set()
    for start in range(0, len(keys), 2000):
        found.update(
            url
            for url in Removal.objects.filter(url_key__in=keys[start : start + 2000])
            .exclude(state=RemovalState.REVOKED)
            .values_list("url", flat=True)
            .distinct()
            if url in wanted
        )
    return found


def removals_near_codes(codes: list[int], *, radius: int) -> dict[int, list[str]]:
    """For each pHash code, the public ids of the (not revoked) removals within `radius` bits."""
    rows = list(
        Removal.objects.filter(phash__isnull=False)
        .exclude(state=RemovalState.REVOKED)
        .order_by("pk")
        .values_list("public_id", "phash")
    )
    result: dict[int, list[str]] = {code: [] for code in codes}
    if not rows:
        return result
    ids = [r[0] for r in rows]
    table = np.fromiter((r[1] for r in rows), dtype=np.int64, count=len(rows)).view(np.uint64)
    for code in result:
        query = np.array([code], dtype=np.int64).view(np.uint64)[0]
        hits = np.flatnonzero(np.bitwise_count(table ^ query) <= radius)
        result[code] = [ids[i] for i in hits]
    return result


def removals_for_export(maintainer: Maintainer, *, dataset: Dataset | None = None) -> QuerySet[Removal]:
    qs = Removal.objects.filter(dataset__maintainer=maintainer).select_related("dataset").order_by("pk")
    return qs.filter(dataset=dataset) if dataset is not None else qs
