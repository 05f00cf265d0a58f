"""The maintainer API (../API.md). Each view is a few lines around a service or selector."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import parsers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.outbound import OutboundRefused

from .. import imports, selectors, services
from ..hashing import hex_to_code
from ..models import Dataset, ImportJob, Removal
from ..serialize import iso, removal_to_dict
from . import export
from . import serializers as s
from .auth import maintainer_of
from .errors import ApiError
from .pagination import paginate

ERRORS = {400: s.ErrorSerializer, 401: s.ErrorSerializer, 404: s.ErrorSerializer}
PAGE_PARAMS = [
    OpenApiParameter("cursor", str, description="The `next` value of the previous page."),
    OpenApiParameter("limit", int, description="Rows per page: 1 to 1000, default 100."),
]


SLUG_PATTERN = re.compile(r"[-a-zA-Z0-9_]{1,100}")


def _dataset(request: Request, slug: str) -> Dataset:
    return get_object_or_404(selectors.datasets_of(maintainer_of(request)), slug=slug)


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
        return Response(s.DatasetSerializer(_dataset(request, slug)).data)


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
        dataset = _dataset(request, slug)
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


class RemovalFeedView(APIView):
    @extend_schema(
        operation_id="dataset_removals_list",
        parameters=PAGE_PARAMS,
        responses={200: s.RemovalPageSerializer, **ERRORS},
        description=(
            "Every removal for this data set in the order recorded. `next` is the cursor of the "
            "following page and null on the last page. `poll` is the cursor just after this page: "
            "keep the last `poll` you received and call with it later to receive exactly what was "
            "recorded since (keeping the last non-null `next` also misses nothing, but repeats the "
            "last page)."
        ),
    )
    def get(self, request: Request, slug: str) -> Response:
        dataset = _dataset(request, slug)
        page = paginate(Removal.objects.filter(dataset=dataset), request)
        return Response(
            {
                "results": [removal_to_dict(r, dataset_slug=dataset.slug) for r in page.rows],
                "next": page.next,
                "poll": page.poll,
            }
        )


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
        dataset = _dataset(request, slug)
        serializer = s.AckSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = services.removals_acknowledge(dataset=dataset, ids=serializer.validated_data["ids"])
        return Response({"acknowledged": result.acknowledged, "unknown": result.unknown})


class WebhookListView(APIView):
    @extend_schema(
        operation_id="webhooks_list",
        parameters=PAGE_PARAMS,
        responses={200: s.WebhookPageSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        endpoints = selectors.endpoints_of(maintainer_of(request)).prefetch_related("datasets")
        page = paginate(endpoints, request)
        return Response({"results": [s.webhook_to_dict(e) for e in page.rows], "next": page.next})

    @extend_schema(
        operation_id="webhooks_create",
        request=s.WebhookCreateSerializer,
        responses={201: s.WebhookCreatedSerializer, **ERRORS},
    )
    def post(self, request: Request) -> Response:
        serializer = s.WebhookCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        maintainer = maintainer_of(request)
        slugs = list(dict.fromkeys(serializer.validated_data["datasets"]))
        datasets = list(selectors.datasets_of(maintainer).filter(slug__in=slugs))
        missing = sorted(set(slugs) - {d.slug for d in datasets})
        if missing:
            raise ApiError(
                "unknown_dataset",
                f"You have no data set {missing[0]!r}; create it first.",
                details={"datasets": missing},
            )
        try:
            endpoint, secret = services.webhook_endpoint_create(
                maintainer=maintainer,
                url=serializer.validated_data["url"],
                event_types=serializer.validated_data["events"],
                datasets=datasets,
            )
        except OutboundRefused as exc:
            raise ApiError(
                "webhook_url_refused", str(exc), details={"url": serializer.validated_data["url"]}
            ) from None
        return Response({**s.webhook_to_dict(endpoint), "secret": secret}, status=status.HTTP_201_CREATED)


class WebhookDetailView(APIView):
    def _endpoint(self, request: Request, webhook_id: str) -> Any:
        return get_object_or_404(selectors.endpoints_of(maintainer_of(request)), public_id=webhook_id)

    @extend_schema(operation_id="webhooks_retrieve", responses={200: s.WebhookSerializer, **ERRORS})
    def get(self, request: Request, webhook_id: str) -> Response:
        return Response(s.webhook_to_dict(self._endpoint(request, webhook_id)))

    @extend_schema(operation_id="webhooks_delete", responses={204: None, **ERRORS})
    def delete(self, request: Request, webhook_id: str) -> Response:
        services.webhook_endpoint_delete(endpoint=self._endpoint(request, webhook_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateSecretView(APIView):
    @extend_schema(
        operation_id="webhooks_rotate_secret",
        request=None,
        responses={200: s.SecretSerializer, **ERRORS},
        description="A new signing secret. The previous one keeps signing alongside it for 24 hours.",
    )
    def post(self, request: Request, webhook_id: str) -> Response:
        endpoint = get_object_or_404(selectors.endpoints_of(maintainer_of(request)), public_id=webhook_id)
        return Response({"secret": services.webhook_secret_rotate(endpoint=endpoint)})


class WebhookDeliveriesView(APIView):
    @extend_schema(
        operation_id="webhooks_deliveries_list",
        parameters=PAGE_PARAMS,
        responses={200: s.DeliveryPageSerializer, **ERRORS},
    )
    def get(self, request: Request, webhook_id: str) -> Response:
        endpoint = get_object_or_404(selectors.endpoints_of(maintainer_of(request)), public_id=webhook_id)
        page = paginate(endpoint.deliveries.select_related("event"), request)
        return Response({"results": [s.delivery_to_dict(d) for d in page.rows], "next": page.next})


class WebhookRedeliverView(APIView):
    @extend_schema(
        operation_id="webhooks_deliveries_redeliver",
        request=None,
        responses={202: s.DeliverySerializer, 409: s.ErrorSerializer, **ERRORS},
        description="Send a delivery again now, with the same webhook-id.",
    )
    def post(self, request: Request, webhook_id: str, delivery_id: str) -> Response:
        endpoint = get_object_or_404(selectors.endpoints_of(maintainer_of(request)), public_id=webhook_id)
        row = get_object_or_404(endpoint.deliveries.select_related("event"), public_id=delivery_id)
        if not endpoint.enabled:
            raise ApiError(
                "endpoint_disabled",
                f"This endpoint is disabled ({endpoint.disabled_reason}); fix it and enable it first.",
                status_code=status.HTTP_409_CONFLICT,
            )
        row = services.delivery_redeliver(delivery=row)
        return Response(s.delivery_to_dict(row), status=status.HTTP_202_ACCEPTED)


class LookupView(APIView):
    @extend_schema(
        operation_id="lookup",
        request=s.LookupSerializer,
        responses={200: s.LookupResultSerializer, 413: s.ErrorSerializer, **ERRORS},
        description=(
            "Whether each URL is removed anywhere in the registry, and which removals each pHash "
            "falls within the match radius of. At most 10,000 entries together."
        ),
    )
    def post(self, request: Request) -> Response:
        serializer = s.LookupSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        urls = serializer.validated_data["urls"]
        phashes = serializer.validated_data["phashes"]
        if len(urls) + len(phashes) > services.MAX_ITEMS_PER_BATCH:
            raise ApiError(
                "too_many_entries",
                f"{len(urls) + len(phashes):,} entries in one call; send at most "
                f"{services.MAX_ITEMS_PER_BATCH:,} URLs and hashes together.",
                status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        codes: dict[str, int] = {}
        for index, text in enumerate(phashes):
            try:
                codes[text] = hex_to_code(text)
            except ValueError as exc:
                raise ApiError(
                    "invalid_hash", f"phashes[{index}] {exc}.", details={"index": index, "value": text}
                ) from None
        removed = selectors.removed_urls(urls)
        near = selectors.removals_near_codes(
            list(set(codes.values())), radius=settings.MATCH_PHASH_MAX_DISTANCE
        )
        return Response(
            {
                "urls": {url: url in removed for url in urls},
                "phashes": {text: near[code] for text, code in codes.items()},
            }
        )


class ExportView(APIView):
    @extend_schema(
        operation_id="removals_export",
        parameters=[
            OpenApiParameter(
                "format", str, enum=list(export.WRITERS), description="jsonl (default), csv or parquet"
            ),
            OpenApiParameter("dataset", str, description="Only this data set's removals."),
        ],
        responses={
            (200, "application/x-ndjson"): OpenApiTypes.BINARY,
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, "application/vnd.apache.parquet"): OpenApiTypes.BINARY,
            **ERRORS,
        },
        description=(
            "Every removal of your data sets as one streamed file, for filtering before training: "
            "`application/x-ndjson` (jsonl), `text/csv` (csv, with a header row) or "
            "`application/vnd.apache.parquet` (parquet)."
        ),
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        fmt = request.query_params.get("format", "jsonl")
        if fmt not in export.WRITERS:
            raise ApiError("invalid_format", "format must be jsonl, csv or parquet.")
        maintainer = maintainer_of(request)
        slug = request.query_params.get("dataset")
        if slug is not None and not SLUG_PATTERN.fullmatch(slug):
            raise ApiError(
                "invalid_dataset",
                "dataset must be the slug of one of your data sets (letters, digits, - and _).",
            )
        dataset = get_object_or_404(selectors.datasets_of(maintainer), slug=slug) if slug else None
        rows = selectors.removals_for_export(maintainer, dataset=dataset)
        response = StreamingHttpResponse(export.WRITERS[fmt](rows), content_type=export.CONTENT_TYPES[fmt])
        name = f"removals-{slug or 'all'}.{fmt}"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


def import_to_dict(job: ImportJob) -> dict[str, Any]:
    return {
        "id": job.public_id,
        "dataset": job.dataset.slug,
        "status": job.status,
        "processed": job.processed,
        "total": job.total,
        "created": job.created_count,
        "updated": job.updated_count,
        "error_count": job.error_count,
        "errors": job.errors,
        "message": job.message,
        "created_at": iso(job.created_at),
        "finished_at": iso(job.finished_at),
    }


class ImportCreateView(APIView):
    parser_classes = [parsers.MultiPartParser]

    @extend_schema(
        operation_id="dataset_imports_create",
        request={"multipart/form-data": s.ImportUploadSerializer},
        responses={202: s.ImportSerializer, 413: s.ErrorSerializer, 415: s.ErrorSerializer, **ERRORS},
        description=(
            "Upload an index file of any size (multipart field `file`): CSV with a header row, NDJSON, "
            "or Parquet, with the columns external_id, url, phash?, dhash?, pdq?. Rows are upserted by "
            "external_id; bad rows are reported with their line numbers and skipped."
        ),
    )
    def post(self, request: Request, slug: str) -> Response:
        dataset = _dataset(request, slug)
        upload = request.FILES.get("file")
        if upload is None:
            raise ApiError("file_missing", "Send the index file in the multipart field `file`.")
        if upload.size is not None and upload.size > settings.IMPORT_MAX_BYTES:
            raise ApiError(
                "file_too_large",
                f"The file is larger than the {settings.IMPORT_MAX_BYTES:,} bytes accepted; split it.",
                status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        try:
            job = services.import_create(dataset=dataset, upload=upload, name=upload.name or "upload")
        except imports.ImportFileError as exc:
            raise ApiError("unreadable_file", str(exc)) from None
        return Response(import_to_dict(job), status=status.HTTP_202_ACCEPTED)


class ImportDetailView(APIView):
    @extend_schema(operation_id="imports_retrieve", responses={200: s.ImportSerializer, **ERRORS})
    def get(self, request: Request, import_id: str) -> Response:
        job = get_object_or_404(
            ImportJob.objects.select_related("dataset").filter(dataset__maintainer=maintainer_of(request)),
            public_id=import_id,
        )
        return Response(import_to_dict(job))
