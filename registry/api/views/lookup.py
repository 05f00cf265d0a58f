"""/lookup/: whether URLs are removed and which removals pHashes fall near, registry-wide."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ... import selectors, services
from ...hashing import hex_to_code
from .. import serializers as s
from ..errors import ApiError
from ._common import ERRORS


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
