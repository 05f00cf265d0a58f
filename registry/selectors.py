"""Reads that other parts (the API, the upstream app) share."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import ApiKey, Dataset, Maintainer, Removal, WebhookEndpoint


def datasets_of(maintainer: Maintainer) -> QuerySet[Dataset]:
    return Dataset.objects.filter(maintainer=maintainer)


def endpoints_of(maintainer: Maintainer) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(maintainer=maintainer, deleted_at__isnull=True)


def removals_for_source(source_ref: str) -> QuerySet[Removal]:
    """Every removal recorded for one upstream reference, with its data set."""
    return Removal.objects.filter(source_ref=source_ref).select_related("dataset", "dataset__maintainer")


def active_keys_of(maintainer: Maintainer) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(maintainer=maintainer, revoked_at__isnull=True)
