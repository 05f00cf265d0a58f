"""`POST /api/v2/query/urls/`: the opt-out query protocol existing tools already speak.

Body: URLs, one per line, `Content-Type: text/plain`; header `Authorization: API <key>`.
Answer: `{"urls": [{"url", "optIn": false, "optOut": bool}, ...]}` in request order.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import parsers, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import selectors
from ..services import MAX_ITEMS_PER_BATCH
from .auth import ApiKeyAuthentication
from .errors import ApiError


class CompatKeyAuthentication(ApiKeyAuthentication):
    keyword = "API"


class PlainTextParser(parsers.BaseParser):
    media_type = "text/plain"

    # The body is text, not a mapping: the stubs' return type does not fit.
    def parse(  # type: ignore[override]
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> str:
        raw = stream.read() if stream is not None else b""
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ApiError("invalid_encoding", "Send the URLs as UTF-8 text, one per line.") from None


class CompatUrlSerializer(serializers.Serializer[Any]):
    url = serializers.CharField()
    optIn = serializers.BooleanField()  # the protocol spells it so
    optOut = serializers.BooleanField()


class CompatAnswerSerializer(serializers.Serializer[Any]):
    urls = CompatUrlSerializer(many=True)


class QueryUrlsView(APIView):
    authentication_classes = [CompatKeyAuthentication, ApiKeyAuthentication]
    parser_classes = [PlainTextParser]

    @extend_schema(
        operation_id="compat_query_urls",
        request={"text/plain": str},
        responses={200: CompatAnswerSerializer},
        description=(
            "Compatibility with the opt-out query protocol: URLs one per line (at most 10,000), "
            "`Authorization: API <key>`. Answers in request order."
        ),
    )
    def post(self, request: Request) -> Response:
        text = request.data if isinstance(request.data, str) else ""
        urls = [line.strip() for line in text.splitlines() if line.strip()]
        if len(urls) > MAX_ITEMS_PER_BATCH:
            raise ApiError(
                "too_many_urls",
                f"{len(urls):,} URLs in one call; send at most {MAX_ITEMS_PER_BATCH:,}.",
                status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        removed = selectors.removed_urls(urls)
        return Response({"urls": [{"url": u, "optIn": False, "optOut": u in removed} for u in urls]})
