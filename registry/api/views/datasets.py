"""/datasets/, /datasets/{slug}/ and /datasets/{slug}/items/: data sets and their index rows."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ... import selectors, services
from .. import serializers as s
from ..auth import maintainer_of
from ..errors import ApiError
from ..pagination import paginate
from ._common import ERRORS, PAGE_PARAMS, own_dataset


class DatasetListView(APIView):
    @extend_schema(
        operation_id="datasets_list",
        parameters=PAGE_PARAMS,
        responses={200: s.DatasetPageSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        page = paginate(selectors.datasets_of(maintainer_of(request)), request)
        return Response({"results": s.DatasetSerializer(page.rows, many=True).data, "next": page.next})

    @extend_schema(
        operation_id="datasets_create",
        request=s.DatasetSerializer,
        responses={201: s.DatasetSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        serializer = s.DatasetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        maintainer = maintainer_of(request)
        try:
            with transaction.atomic():
                dataset = services.dataset_create(maintainer=maintainer, **serializer.validated_data)
        except IntegrityError:
            raise ApiError(
                "slug_taken",
                f"You already have a data set with the slug {serializer.validated_data['slug']!r}; "
                "choose another slug or use that one.",
                status_code=status.HTTP_409_CONFLICT,
            ) from None
        return Response(s.DatasetSerializer(dataset).data, status=status.HTTP_201_CREATED)


class DatasetDetailView(APIView):
    @extend_schema(operation_id="datasets_retrieve", responses={200: s.DatasetSerializer, **ERRORS})
    def get(self, request: Request, slug: str) -> Response:
        return Response(s.DatasetSerializer(own_dataset(request, slug)).data)


class ItemsUpsertView(APIView):
    @extend_schema(
        operation_id="dataset_items_upsert",
        request=s.ItemsUpsertSerializer,
        responses={200: s.ItemsUpsertResultSerializer, 413: s.ErrorSerializer, **ERRORS},
        description=(
            "Insert or update up to 10,000 index rows by external_id. Each row is "
            "`{external_id, url, phash?, dhash?, pdq?}` with hashes in lowercase hex. A bad row is "
            "listed under `rejected` with its index; the other rows are stored."
        ),
    )
    def post(self, request: Request, slug: str) -> Response:
        dataset = own_dataset(request, slug)
        serializer = s.ItemsUpsertSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rows = serializer.validated_data["items"]
        if len(rows) > services.MAX_ITEMS_PER_BATCH:
            raise ApiError(
                "too_many_items",
                f"{len(rows):,} items in one call; send at most {services.MAX_ITEMS_PER_BATCH:,}, or "
                "upload a file to the imports endpoint.",
                status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                details={"max": services.MAX_ITEMS_PER_BATCH, "received": len(rows)},
            )
        result = services.items_upsert(dataset=dataset, rows=rows)
        return Response({"created": result.created, "updated": result.updated, "rejected": result.rejected})
