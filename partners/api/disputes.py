"""/api/v1/partner/disputes/: disputes about removals a partner filed, and the partner's answer
(docs/api.md, "Partners"). The dispute object is the maintainers' (registry.api)."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from registry import services as registry_services
from registry.api import dispute_serializers as ds
from registry.api.errors import ApiError
from registry.api.fields import OutsideTextField
from registry.api.pagination import paginate
from registry.api.serializers import ErrorSerializer
from registry.dispute_checks import LINK_MAX_LENGTH, MAX_LINKS, STATEMENT_MAX_LENGTH

from .. import selectors
from .auth import partner_of
from .views import ERRORS, PAGE_PARAMS, PartnerView

DISPUTE = "(?P<dispute_id>dp_[A-Za-z0-9]+)"


class AnswerSerializer(serializers.Serializer[Any]):
    answer = OutsideTextField(
        max_length=STATEMENT_MAX_LENGTH,
        trim_whitespace=False,
        help_text="Why the removal is right, as plain text (no markup): at least 20 characters.",
    )
    links = serializers.ListField(
        child=OutsideTextField(max_length=LINK_MAX_LENGTH), max_length=MAX_LINKS, required=False, default=list
    )


def _slug(dispute: Any) -> str:
    return str(dispute.removal.dataset.slug)


class PartnerDisputeListView(PartnerView):
    @extend_schema(
        operation_id="partner_disputes_list",
        parameters=PAGE_PARAMS,
        responses={200: ds.DisputePageSerializer, **ERRORS},
        description="Disputes about removals your filings asked for, oldest first.",
    )
    def get(self, request: Request) -> Response:
        page = paginate(selectors.disputes_of(partner_of(request)), request)
        return Response(
            {"results": [ds.dispute_to_dict(d, dataset_slug=_slug(d)) for d in page.rows], "next": page.next}
        )


class PartnerDisputeAnswerView(PartnerView):
    @extend_schema(
        operation_id="partner_dispute_answer",
        request=AnswerSerializer,
        responses={200: ds.DisputeSerializer, 409: ErrorSerializer, **ERRORS},
        description=(
            "Answer a dispute with your evidence, before its `response_due_at` (409 `answer_too_late` "
            "after it, 409 `dispute_closed` once decided). The disputant never sees the answer."
        ),
    )
    def post(self, request: Request, dispute_id: str) -> Response:
        dispute = get_object_or_404(selectors.disputes_of(partner_of(request)), public_id=dispute_id)
        serializer = AnswerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            registry_services.dispute_answer(
                dispute=dispute,
                body=serializer.validated_data["answer"],
                links=serializer.validated_data["links"],
                actor=None,
            )
        except registry_services.DisputeRefused as exc:
            code = "invalid_answer" if exc.code == "invalid_statement" else exc.code
            raise ApiError(code, exc.message, status_code=exc.status, details=exc.details) from None
        dispute.refresh_from_db()
        return Response(ds.dispute_to_dict(dispute, dataset_slug=_slug(dispute)))
