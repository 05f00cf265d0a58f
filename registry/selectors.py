"""Reads that other parts (the API, the upstream app) share."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from .models import (
    ApiKey,
    Dataset,
    DatasetItem,
    Maintainer,
    Removal,
    RemovalState,
    WebhookEndpoint,
    url_key,
)


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


def live_removals_of_items(items: list[DatasetItem]) -> dict[int, Removal]:
    """For each item, its earliest live (not revoked) removal: of the item itself, or of its
    pHash in the item's data set (a removal recorded by hash, with no item)."""
    if not items:
        return {}
    by_hash = [(i.dataset_id, i.phash) for i in items if i.phash is not None]
    condition = Q(item_id__in=[i.pk for i in items])
    for dataset_id, phash in by_hash:
        condition |= Q(item__isnull=True, dataset_id=dataset_id, phash=phash)
    found: dict[int, Removal] = {}
    rows = Removal.objects.filter(condition).exclude(state=RemovalState.REVOKED).order_by("approved_at", "pk")
    for removal in rows.select_related("dataset"):
        for item in items:
            same_item = removal.item_id == item.pk
            same_hash = (
                removal.item_id is None
                and removal.dataset_id == item.dataset_id
                and removal.phash is not None
                and removal.phash == item.phash
            )
            if (same_item or same_hash) and item.pk not in found:
                found[item.pk] = removal
    return found


def removals_near_codes(codes: list[int], *, radius: int) -> dict[int, list[str]]:
    """For each pHash code, the public ids of the live removals within `radius` bits (the removal index)."""
    from .matching import removal_index

    unique = list(dict.fromkeys(codes))
    results = removal_index().search_many(unique, radius) if unique else []
    pks = {pk for hits in results for pk, _ in hits}
    public = dict(Removal.objects.filter(pk__in=pks).values_list("pk", "public_id"))
    return {code: [public[pk] for pk, _ in hits] for code, hits in zip(unique, results, strict=True)}


def removals_for_export(maintainer: Maintainer, *, dataset: Dataset | None = None) -> QuerySet[Removal]:
    qs = Removal.objects.filter(dataset__maintainer=maintainer).select_related("dataset").order_by("pk")
    return qs.filter(dataset=dataset) if dataset is not None else qs


FIGURES_CACHE_SECONDS = 300


def public_figures() -> dict[str, object]:
    """What the landing page shows: data sets with their item counts, and removal totals.

    Counting the items of data sets with millions of rows on every visit would
    scan them each time; the figures are cached for a few minutes instead.
    """
    from django.core.cache import cache
    from django.db.models import Count, Q

    def compute() -> dict[str, object]:
        datasets = [
            {"name": d.name, "maintainer": d.maintainer.name, "item_count": d.item_count}
            for d in Dataset.objects.select_related("maintainer")
            .annotate(item_count=Count("items"))
            .order_by("name")
        ]
        totals = Removal.objects.exclude(state=RemovalState.REVOKED).aggregate(
            recorded=Count("id"), acknowledged=Count("id", filter=Q(state=RemovalState.ACKNOWLEDGED))
        )
        return {"datasets": datasets, "totals": totals}

    figures = cache.get_or_set("registry:public-figures", compute, FIGURES_CACHE_SECONDS)
    return figures if figures is not None else compute()
