"""/datasets/{slug}/imports/ and /imports/{id}/: index files uploaded whole, imported in the background."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import parsers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ... import imports, services
from ...models import ImportJob
from ...serialize import iso
from .. import serializers as s
from ..auth import maintainer_of
from ..errors import ApiError
from ._common import ERRORS, own_dataset


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
        dataset = own_dataset(request, slug)
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
