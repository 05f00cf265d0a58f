"""/api/v1/partner/filings/...: a partner files opt-outs in batches and follows them."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from registry.api.errors import ApiError
from registry.api.pagination import paginate
from registry.api.serializers import ErrorSerializer
from registry.serialize import iso

from .. import selectors, services
from ..models import Filing, FilingRow, RowState
from . import serializers as s
from .auth import IsPartner, PartnerKeyAuthentication, key_of, partner_of
from .throttling import PartnerKeyRateThrottle

ERRORS = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}
PAGE_PARAMS = [
    OpenApiParameter("cursor", str, description="The `next` value of the previous page."),
    OpenApiParameter("limit", int, description="Rows per page: 1 to 1000, default 100."),
]
FILING = "(?P<filing_id>pf_[A-Za-z0-9]+)"


def filing_to_dict(filing: Filing) -> dict[str, Any]:
    return {
        "id": filing.public_id,
        "state": filing.state,
        "total": filing.total,
        "counts": selectors.row_counts(filing),
        "created_at": iso(filing.created_at),
        "finished_at": iso(filing.finished_at),
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
            "`duplicates` and changes nothing. Rows are matched and decided in the background."
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
        answer.update(rejected=result.rejected, duplicates=result.duplicates)
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
        page = paginate(selectors.rows_of(filing, state=state), request)
        return Response({"results": [row_to_dict(r) for r in page.rows], "next": page.next})
