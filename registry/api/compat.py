"""`POST /api/v2/query/urls/`: the opt-out query protocol existing tools already speak.

Body: URLs, one per line, `Content-Type: text/plain` (or none); header `Authorization: API <key>`.
Answer: `{"urls": [{"url", "optIn": bool, "optOut": bool}, ...]}` (`optIn` for a URL an artist
licensed for training, unless a removal disallows it): one entry per input
line, in order, empty lines included (as `"url": ""`), because clients read answers by position.
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.utils.datastructures import MultiValueDict
from drf_spectacular.utils import extend_schema
from rest_framework import parsers, serializers, status
from rest_framework.parsers import DataAndFiles
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.text import text_problem

from .. import selectors
from ..lookup_index import lookup_index
from ..services import MAX_ITEMS_PER_BATCH
from .auth import ApiKeyAuthentication
from .errors import ApiError
from .fastjson import FastJSONRenderer


class CompatKeyAuthentication(ApiKeyAuthentication):
    keyword = "API"


class PlainTextParser(parsers.BaseParser):
    media_type = "text/plain"

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: Any = None
    ) -> DataAndFiles[str, MultiValueDict[str, UploadedFile]]:
        # The body is text, not a mapping: request.data is that text, and there are no files.
        return DataAndFiles(decode_lines(stream.read() if stream is not None else b""), MultiValueDict())


def decode_lines(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError("invalid_encoding", "Send the URLs as UTF-8 text, one per line.") from None


def split_lines(text: str) -> list[str]:
    """One entry per line ("\n" or "\r\n"), empty lines kept; a final newline ends the last line."""
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return list(map(str.strip, lines))  # in C: 10,000 lines


class CompatUrlSerializer(serializers.Serializer[Any]):
    url = serializers.CharField()
    optIn = serializers.BooleanField()  # the protocol spells it so
    optOut = serializers.BooleanField()


class CompatAnswerSerializer(serializers.Serializer[Any]):
    urls = CompatUrlSerializer(many=True)


class QueryUrlsView(APIView):
    # Only `API <key>`: a `Bearer` header gets a 401 that names the scheme to use.
    authentication_classes = [CompatKeyAuthentication]
    parser_classes = [PlainTextParser]
    renderer_classes = [FastJSONRenderer]  # 10,000 entries out: orjson, the same bytes

    @extend_schema(
        operation_id="compat_query_urls",
        request={"text/plain": str},
        responses={200: CompatAnswerSerializer},
        description=(
            "Compatibility with the opt-out query protocol: URLs one per line (at most 10,000), "
            "`Content-Type: text/plain` (or none), `Authorization: API <key>`. `optIn` is true for "
            "a URL an artist allowed training on (a licence grant, or a domain rule that licenses) "
            "that no removal or removing domain rule covers. The "
            "answer has one entry per input line, in request order; an empty line answers "
            '`{"url": "", "optIn": false, "optOut": false}`.'
        ),
    )
    def post(self, request: Request) -> Response:
        # DRF ignores a body that has no Content-Type; this protocol's clients often send none.
        text = request.data if request.content_type else decode_lines(request.body)
        urls = split_lines(text if isinstance(text, str) else "")
        if len(urls) > MAX_ITEMS_PER_BATCH:
            raise ApiError(
                "too_many_urls",
                f"{len(urls):,} URLs in one call; send at most {MAX_ITEMS_PER_BATCH:,}.",
                status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            )
        # The whole text is checked once; only a text with a problem is searched for its line.
        for number, url in enumerate(urls if text_problem("".join(urls)) else (), start=1):
            problem = text_problem(url)
            if problem:
                raise ApiError(
                    "invalid_text",
                    f"Line {number} {problem}; send one URL per line.",
                    details={"line": number},
                )
        asked = list(filter(None, urls))  # the URLs without the empty lines
        index = lookup_index()  # as /api/v1/lookup/: from memory when it can answer
        removed = selectors.removed_urls(asked, index=index)
        # optIn: the artist allowed training (a standing licence grant, or a domain rule that
        # licenses) and nothing disallows it: a removal or a removing rule wins over either
        # (disallow wins), so the two are never both true.
        unremoved = set(asked) - removed
        granted = set(selectors.licensed_urls(unremoved, index=index))
        granted |= set(selectors.optouts_covering(unremoved, index=index, licensing=True))
        return Response({"urls": [{"url": u, "optIn": u in granted, "optOut": u in removed} for u in urls]})
