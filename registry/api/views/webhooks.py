"""/webhooks/...: endpoints, their secrets, their deliveries and redelivery."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.outbound import OutboundRefused

from ... import selectors, services
from .. import serializers as s
from ..auth import maintainer_of
from ..errors import ApiError
from ..pagination import paginate
from ._common import ERRORS, PAGE_PARAMS


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
