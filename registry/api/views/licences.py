"""/datasets/{slug}/licences/: the licence grants of a data set (artists who allowed training)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view

from ...models import Dataset, LicenceGrant
from ...serialize import grant_to_dict
from .. import serializers as s
from ._common import ERRORS, PAGE_PARAMS, DatasetFeedView


@extend_schema_view(
    get=extend_schema(
        operation_id="dataset_licences_list",
        parameters=PAGE_PARAMS,
        responses={200: s.LicenceGrantPageSerializer, **ERRORS},
        description=(
            "Every licence grant for this data set in the order recorded: an artist allowed "
            "training on the item (or hash) under a licence (`licence`, `licence_url`), credited "
            "as `attribution` says. Paginated and polled like the removals feed (`next`, `poll`). "
            "A grant is never a removal and never appears in the removals feed. A grant the artist "
            "withdrew reads `state` revoked here; withdrawing it always records a new removal "
            "(the removals feed), and lookup stops answering for it at once."
        ),
    )
)
class LicenceFeedView(DatasetFeedView):
    def feed_rows(self, dataset: Dataset) -> QuerySet[LicenceGrant]:
        return LicenceGrant.objects.filter(dataset=dataset)

    def feed_row(self, row: LicenceGrant, dataset: Dataset) -> dict[str, Any]:
        return grant_to_dict(row, dataset_slug=dataset.slug)
