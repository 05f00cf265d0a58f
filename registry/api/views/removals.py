"""/datasets/{slug}/removals/ and /datasets/{slug}/removals/ack/: the feed and its acknowledgements."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ... import services
from ...models import Dataset, Removal, WebhookEvent, WebhookEventType
from ...serialize import removal_to_dict
from .. import serializers as s
from ..pagination import Page, decode_cursor
from ._common import ERRORS, PAGE_PARAMS, DatasetFeedView, own_dataset


@extend_schema_view(
    get=extend_schema(
        operation_id="dataset_removals_list",
        parameters=PAGE_PARAMS,
        responses={200: s.RemovalPageSerializer, **ERRORS},
        description=(
            "Every removal for this data set in the order recorded. `next` is the cursor of the "
            "following page and null on the last page. `poll` is the cursor just after this page: "
            "keep the last `poll` you received and call with it later to receive exactly what was "
            "recorded since (keeping the last non-null `next` also misses nothing, but repeats the "
            "last page). `recorded`, on the last page only (null on the others), is how many "
            "removals of this data set were recorded up to that page's end, revoked ones included: "
            "a copy that holds fewer missed some (a removal committed late, below a cursor already "
            "passed) and should read the feed again from the start."
        ),
    )
)
class RemovalFeedView(DatasetFeedView):
    def feed_rows(self, dataset: Dataset) -> QuerySet[Removal]:
        return Removal.objects.filter(dataset=dataset)

    def feed_row(self, row: Removal, dataset: Dataset) -> dict[str, Any]:
        return removal_to_dict(row, dataset_slug=dataset.slug)

    def feed_extra(self, rows: QuerySet[Any], page: Page) -> dict[str, Any]:
        # Counted on the last page only: on every page, reading a long feed would count its
        # head again for each page (quadratic); once per poll it is one index scan.
        return {"recorded": None if page.next else rows.filter(pk__lte=decode_cursor(page.poll)).count()}


@extend_schema_view(
    get=extend_schema(
        operation_id="dataset_revocations_list",
        parameters=PAGE_PARAMS,
        responses={200: s.RevocationPageSerializer, **ERRORS},
        description=(
            "Every revoked removal of this data set, in the order the revocations happened (a removal "
            "once, with `state` revoked, `revoked_at` and `revoked_reason`). The removals feed shows "
            "each removal's state as it is now, but only new removals come after its `poll` cursor: "
            "poll this feed the same way (keep the last `poll`) to learn of every revocation, even "
            "without webhooks. Take a revoked removal back into your data set: it is no longer "
            "removed."
        ),
    )
)
class RevocationFeedView(DatasetFeedView):
    def feed_rows(self, dataset: Dataset) -> QuerySet[Any]:
        # Each revoked removal is linked once to a removal.revoked event: the links' own key
        # orders the revocations as they were written, and only grows.
        return WebhookEvent.removals.through.objects.filter(
            webhookevent__dataset=dataset, webhookevent__event_type=WebhookEventType.REMOVAL_REVOKED
        ).select_related("removal")

    def feed_row(self, row: Any, dataset: Dataset) -> dict[str, Any]:
        return removal_to_dict(row.removal, dataset_slug=dataset.slug)


class RemovalAckView(APIView):
    @extend_schema(
        operation_id="dataset_removals_ack",
        request=s.AckSerializer,
        responses={200: s.AckResultSerializer, **ERRORS},
        description=(
            "Acknowledge removals you have acted on. Idempotent; unknown ids are listed, not an error."
        ),
    )
    def post(self, request: Request, slug: str) -> Response:
        dataset = own_dataset(request, slug)
        serializer = s.AckSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = services.removals_acknowledge(dataset=dataset, ids=serializer.validated_data["ids"])
        return Response({"acknowledged": result.acknowledged, "unknown": result.unknown})
