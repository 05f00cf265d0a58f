"""/api/v1/partner/filings/...: a partner files opt-outs in batches or as a file, and follows them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.text import parse_id
from registry.api.errors import ApiError
from registry.api.pagination import paginate
from registry.api.serializers import ErrorSerializer
from registry.serialize import iso

from .. import selectors, services
from ..models import Filing, FilingRow, FilingSource, FilingState, RowState
from . import serializers as s
from .auth import IsPartner, PartnerKeyAuthentication, key_of, partner_of
from .throttling import PartnerKeyRateThrottle

ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}
PAGE_PARAMS = [
    OpenApiParameter("cursor", str, description="The `next` value of the previous page."),
    OpenApiParameter("limit", int, description="Rows per page: 1 to 1000, default 100."),
]
FILING = "(?P<filing_id>pf_[A-Za-z0-9]+)"
# The rows' `lifted` filter: its accepted values.
LIFTED = {"true": True, "false": False}


def filing_to_dict(filing: Filing) -> dict[str, Any]:
    from_file = filing.source == FilingSource.FILE
    return {
        "id": filing.public_id,
        "state": filing.state,
        "total": filing.total,
        "counts": selectors.row_counts(filing),
        "created_at": iso(filing.created_at),
        "finished_at": iso(filing.finished_at),
        "source": filing.source,
        "progress": {
            "rows_read": filing.rows_read if from_file else filing.total,
            "rows_total": filing.rows_total if from_file else filing.total,
        },
        "file": file_to_dict(filing) if from_file else None,
        "message": filing.message,
    }


def _file_url(filing: Filing) -> str:
    return f"/api/v1/partner/filings/{filing.public_id}/file/"


def file_to_dict(filing: Filing) -> dict[str, Any]:
    return {
        "name": filing.file_name,
        "format": filing.file_format,
        "size": filing.file_size,
        "received": filing.received,
        "chunk_size": settings.PARTNER_FILE_CHUNK_BYTES,
        "url": _file_url(filing),
    }


def file_state(filing: Filing) -> dict[str, Any]:
    return {
        "offset": filing.received,
        "size": filing.file_size,
        "chunk_size": settings.PARTNER_FILE_CHUNK_BYTES,
        "state": filing.state,
        "message": filing.message,
    }


def row_to_dict(row: FilingRow) -> dict[str, Any]:
    return {
        "index": row.index,
        "state": row.state,
        "creator_id": row.creator_id,
        "work_url": row.work_url,
        "basis": row.basis,
        "matched": row.matched,
        "field": row.error_field,
        "error": row.error,
        "line": row.line,
        "lifted_at": iso(row.lifted_at),
    }


class PartnerView(APIView):
    authentication_classes = [PartnerKeyAuthentication]
    permission_classes = [IsPartner]
    throttle_classes = [PartnerKeyRateThrottle]


def _own_filing(request: Request, filing_id: str) -> Filing:
    return get_object_or_404(selectors.filings_of(partner_of(request)), public_id=filing_id)


class FilingListView(PartnerView):
    @extend_schema(
        operation_id="partner_filings_list",
        parameters=PAGE_PARAMS,
        responses={200: s.FilingPageSerializer, **ERRORS},
    )
    def get(self, request: Request) -> Response:
        page = paginate(selectors.filings_of(partner_of(request)), request)
        return Response({"results": [filing_to_dict(f) for f in page.rows], "next": page.next})

    @extend_schema(
        operation_id="partner_filings_create",
        request=s.FilingCreateSerializer,
        responses={202: s.FilingCreatedSerializer, 413: ErrorSerializer, **ERRORS},
        description=(
            "File up to 10,000 opt-outs with `attestation: true`. A bad row is listed under `rejected` "
            "(its index, field and why) and the others are stored; a row filed before is listed under "
            "`duplicates` and changes nothing; one that names a row filed before with another choice is "
            "listed under `changes`, and that row's choice changes once the row sent is decided; a second "
            "row of a work earlier in the same filing with another choice is rejected. Rows are "
            "matched and decided in the background."
        ),
    )
    def post(self, request: Request) -> Response:
        body = request.data
        if not isinstance(body, dict):
            raise ApiError("invalid_request", "The body must be an object with `attestation` and `rows`.")
        rows = body.get("rows")
        if not isinstance(rows, list):
            raise ApiError(
                "invalid_request",
                "`rows` is required: a list of up to 10,000 row objects.",
                details={"field": "rows"},
            )
        try:
            result = services.filing_create(
                key=key_of(request), rows=rows, attestation=body.get("attestation")
            )
        except services.FilingRefused as exc:
            details = (
                {"max": services.MAX_ROWS_PER_FILING, "received": len(rows)} if exc.status == 413 else {}
            )
            raise ApiError(exc.code, exc.message, status_code=exc.status, details=details) from None
        answer = filing_to_dict(result.filing)
        answer.update(rejected=result.rejected, duplicates=result.duplicates, changes=result.changes)
        return Response(answer, status=status.HTTP_202_ACCEPTED)


class FilingDetailView(PartnerView):
    @extend_schema(operation_id="partner_filings_retrieve", responses={200: s.FilingSerializer, **ERRORS})
    def get(self, request: Request, filing_id: str) -> Response:
        return Response(filing_to_dict(_own_filing(request, filing_id)))


class FilingRowsView(PartnerView):
    @extend_schema(
        operation_id="partner_filing_rows_list",
        parameters=[
            *PAGE_PARAMS,
            OpenApiParameter("state", str, enum=RowState.values, description="Only rows in this state."),
            OpenApiParameter(
                "lifted",
                str,
                enum=list(LIFTED),
                description="true: only the rows their creator lifted; false: only the others.",
            ),
        ],
        responses={200: s.RowPageSerializer, **ERRORS},
    )
    def get(self, request: Request, filing_id: str) -> Response:
        filing = _own_filing(request, filing_id)
        state = request.query_params.get("state")
        if state is not None and state not in RowState.values:
            accepted = ", ".join(RowState.values)
            raise ApiError(
                "invalid_state", f"state must be one of {accepted}.", details={"accepted": RowState.values}
            )
        lifted = request.query_params.get("lifted")
        if lifted is not None and lifted not in LIFTED:
            raise ApiError(
                "invalid_lifted", "lifted must be true or false.", details={"accepted": list(LIFTED)}
            )
        rows = selectors.rows_of(filing, state=state, lifted=None if lifted is None else LIFTED[lifted])
        page = paginate(rows, request)
        return Response({"results": [row_to_dict(r) for r in page.rows], "next": page.next})


# --- file filings -----------------------------------------------------------

CHUNK_TYPES = ("application/offset+octet-stream", "application/octet-stream")


class FileFilingCreateView(PartnerView):
    @extend_schema(
        operation_id="partner_file_filings_create",
        request=s.FileFilingCreateSerializer,
        responses={201: s.FilingSerializer, 413: ErrorSerializer, **ERRORS},
        description=(
            "Announce a file of opt-outs (NDJSON, CSV or Parquet) with `attestation: true`, its name and "
            "size; then send its bytes in chunks to the `file.url` of the answer (PATCH with "
            "Upload-Offset). Once it is all in, a worker reads it: a bad row is rejected with its line, "
            "a row filed before changes nothing, and the rows are then matched and decided as a batch's."
        ),
    )
    def post(self, request: Request) -> Response:
        body = request.data
        if not isinstance(body, dict):
            raise ApiError(
                "invalid_request", "The body must be an object with `attestation`, `name` and `size`."
            )
        try:
            filing = services.file_filing_create(
                key=key_of(request),
                attestation=body.get("attestation"),
                name=body.get("name"),
                size=body.get("size"),
                file_format=body.get("format"),
                sha256=body.get("sha256", ""),
            )
        except services.FilingRefused as exc:
            raise ApiError(exc.code, exc.message, status_code=exc.status) from None
        return Response(filing_to_dict(filing), status=status.HTTP_201_CREATED)


class FilingFileView(PartnerView):
    @extend_schema(
        operation_id="partner_filing_file_retrieve",
        responses={200: s.FileStateSerializer, 409: ErrorSerializer, **ERRORS},
        description="Where a filing's file stands: after a dropped connection, send from `offset`.",
    )
    def get(self, request: Request, filing_id: str) -> Response:
        filing = _own_file_filing(request, filing_id)
        return Response(file_state(filing))

    @extend_schema(
        operation_id="partner_filing_file_send",
        request={CHUNK_TYPES[0]: OpenApiTypes.BINARY, CHUNK_TYPES[1]: OpenApiTypes.BINARY},
        parameters=[
            OpenApiParameter(
                "Upload-Offset",
                int,
                location=OpenApiParameter.HEADER,
                required=True,
                description="The chunk's first byte in the file: the bytes the server holds.",
            )
        ],
        responses={
            200: s.FileStateSerializer,
            409: ErrorSerializer,
            413: ErrorSerializer,
            415: ErrorSerializer,
            422: ErrorSerializer,
            **ERRORS,
        },
        description=(
            "One chunk of the file, at most `chunk_size` bytes, starting at `Upload-Offset` (which must "
            "equal the bytes received: 409 `offset_mismatch` otherwise, with the right `offset` in "
            "`details`). The chunk that completes the file has it checked (size, sha256, format): 200 "
            "with state `reading`, or 422 `file_refused` and the filing failed."
        ),
    )
    def patch(self, request: Request, filing_id: str) -> Response:
        filing = _own_file_filing(request, filing_id)
        content_type = (request.content_type or "").split(";", 1)[0].strip().lower()
        if content_type not in CHUNK_TYPES:
            raise ApiError(
                "unsupported_media_type",
                f"Send the chunk's bytes as `Content-Type: {CHUNK_TYPES[0]}`.",
                status_code=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            )
        offset = parse_id(request.headers.get("Upload-Offset"))
        if offset is None:
            raise ApiError(
                "bad_offset",
                "Say where this chunk starts with an Upload-Offset header (a whole number).",
                details={"offset": filing.received},
            )
        limit = settings.PARTNER_FILE_CHUNK_BYTES
        declared = parse_id(request.META.get("CONTENT_LENGTH"))
        if declared is not None and declared > limit:
            raise ApiError(
                "chunk_too_large",
                f"A chunk may hold at most {limit:,} bytes.",
                status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                details={"offset": filing.received},
            )
        data = request._request.read(limit + 1)
        if declared is not None and len(data) != declared:
            raise ApiError(
                "short_chunk", "The chunk was cut short; send it again.", details={"offset": filing.received}
            )
        try:
            filing = services.file_chunk_write(filing=filing, offset=offset, data=data)
        except services.FileRefused as exc:
            details = {} if exc.offset is None else {"offset": exc.offset}
            raise ApiError(exc.code, exc.message, status_code=exc.status, details=details) from None
        if filing.state == FilingState.FAILED:
            raise ApiError(
                "file_refused",
                filing.message,
                status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
                details={"state": filing.state, "offset": filing.received},
            )
        return Response(file_state(filing))


def _own_file_filing(request: Request, filing_id: str) -> Filing:
    filing = _own_filing(request, filing_id)
    if filing.source != FilingSource.FILE:
        raise ApiError(
            "not_a_file_filing",
            "This filing came as JSON rows; it has no file.",
            status_code=status.HTTP_409_CONFLICT,
        )
    if filing.state == FilingState.EXPIRED:
        raise ApiError(
            "upload_expired",
            filing.message,
            status_code=status.HTTP_409_CONFLICT,
            details={"state": filing.state, "offset": 0},
        )
    return filing
