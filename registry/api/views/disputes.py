"""/datasets/{slug}/disputes/: a maintainer disputes a removal of its own data set, and follows it."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ... import services
from ...models import Dataset, Dispute
from .. import dispute_serializers as ds
from .. import serializers as s
from ..auth import maintainer_of
from ..errors import ApiError
from ..pagination import paginate
from ._common import ERRORS, PAGE_PARAMS, own_dataset


def _disputes(dataset: Dataset, request: Request) -> QuerySet[Dispute]:
    return Dispute.objects.filter(removal__dataset=dataset, maintainer=maintainer_of(request)).select_related(
        "removal"
    )


class DisputeListView(APIView):
    @extend_schema(
        operation_id="dataset_disputes_list",
        parameters=PAGE_PARAMS,
        responses={200: ds.DisputePageSerializer, **ERRORS},
        description="Your organisation's disputes about removals of this data set, oldest first.",
    )
    def get(self, request: Request, slug: str) -> Response:
        dataset = own_dataset(request, slug)
        page = paginate(_disputes(dataset, request), request)
        return Response(
            {
                "results": [ds.dispute_to_dict(d, dataset_slug=dataset.slug) for d in page.rows],
                "next": page.next,
            }
        )

    @extend_schema(
        operation_id="dataset_disputes_create",
        request=ds.DisputeCreateSerializer,
        responses={201: ds.DisputeSerializer, 409: s.ErrorSerializer, **ERRORS},
        description=(
            "Dispute a removal of this data set (say the item is not a copy, for instance). The side "
            "that asked for the removal is told and may answer within the counter-notice period "
            "(`response_due_at`); a moderator then upholds the removal or revokes it (a revocation "
            "reaches you as `removal.revoked` and in the revocations feed). Refused: a removal that "
            "is not this data set's (400 `unknown_removal`), one not in force: pending or revoked "
            "(409 `removal_not_disputable`), one you disputed already (409 `dispute_exists`)."
        ),
    )
    def post(self, request: Request, slug: str) -> Response:
        dataset = own_dataset(request, slug)
        serializer = ds.DisputeCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            ref = data["removal"].strip()
            if not ref.startswith("rm_"):
                raise services.DisputeRefused(
                    "Name the removal by its id (rm_...), as the feed and webhooks give it.",
                    code="unknown_removal",
                    field="removal",
                )
            removal = services.disputable_removal(ref=ref, dataset=dataset)
            dispute = services.dispute_file(
                removal=removal,
                maintainer=maintainer_of(request),
                reason=data["reason"],
                statement=data["statement"],
                links=data["links"],
            )
        except services.DisputeRefused as exc:
            raise ApiError(exc.code, exc.message, status_code=exc.status, details=exc.details) from None
        return Response(
            ds.dispute_to_dict(dispute, dataset_slug=dataset.slug), status=status.HTTP_201_CREATED
        )


class DisputeDetailView(APIView):
    @extend_schema(
        operation_id="dataset_dispute_get",
        responses={200: ds.DisputeSerializer, **ERRORS},
        description="One of your disputes: its state, and once decided its outcome and the reason.",
    )
    def get(self, request: Request, slug: str, dispute_id: str) -> Response:
        dataset = own_dataset(request, slug)
        dispute = get_object_or_404(_disputes(dataset, request), public_id=dispute_id)
        return Response(ds.dispute_to_dict(dispute, dataset_slug=dataset.slug))
