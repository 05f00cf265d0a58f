"""/removals/export/ and /licences/export/: every removal (or licence grant) of the caller's data
sets as one streamed file."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from ... import selectors
from .. import export
from ..auth import maintainer_of
from ..errors import ApiError
from ._common import ERRORS

SLUG_PATTERN = re.compile(r"[-a-zA-Z0-9_]{1,100}")


def _export_schema(operation_id: str, *, dataset_help: str, description: str) -> Any:
    """The two exports' documentation: the same format parameter and streamed answers."""
    return extend_schema(
        operation_id=operation_id,
        parameters=[
            OpenApiParameter(
                "format", str, enum=list(export.WRITERS), description="jsonl (default), csv or parquet"
            ),
            OpenApiParameter("dataset", str, description=dataset_help),
        ],
        responses={
            (200, "application/x-ndjson"): OpenApiTypes.BINARY,
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, "application/vnd.apache.parquet"): OpenApiTypes.BINARY,
            **ERRORS,
        },
        description=description,
    )


class ExportView(APIView):
    @_export_schema(
        "removals_export",
        dataset_help="Only this data set's removals.",
        description=(
            "Every removal of your data sets as one streamed file, for filtering before training: "
            "`application/x-ndjson` (jsonl), `text/csv` (csv, with a header row) or "
            "`application/vnd.apache.parquet` (parquet)."
        ),
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        return _export(request, "removals")


class LicenceExportView(APIView):
    @_export_schema(
        "licences_export",
        dataset_help="Only this data set's licence grants.",
        description=(
            "Every licence grant of your data sets (standing and revoked; keep those whose state is "
            "`active`) as one streamed file, in the order recorded: the licence grant object per "
            "line (jsonl), or its fields as CSV columns or Parquet columns."
        ),
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        return _export(request, "licences")


def _export(request: Request, what: str) -> StreamingHttpResponse:
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
    if what == "licences":
        shape = export.LICENCES
        rows: QuerySet[Any] = selectors.grants_for_export(maintainer, dataset=dataset)
    else:
        shape = export.REMOVALS
        rows = selectors.removals_for_export(maintainer, dataset=dataset)
    response = StreamingHttpResponse(export.WRITERS[fmt](rows, shape), content_type=export.CONTENT_TYPES[fmt])
    name = f"{what}-{slug or 'all'}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
