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
from ...serialize import grant_to_dict
from .. import serializers as s
from ..errors import ApiError
from ._common import ERRORS


class LookupView(APIView):
    @extend_schema(
        operation_id="lookup",
        request=s.LookupSerializer,
        responses={200: s.LookupResultSerializer, 413: s.ErrorSerializer, **ERRORS},
        description=(
            "Whether each URL is removed anywhere in the registry (by a removal, or because it is "
            "under a domain opt-out even if no data set holds it), and which removals each pHash "
            "falls within the match radius of. `domains` names the opt-out scope of each URL a "
            "domain opt-out covers; `sources` who asked for each removed URL (`artist`, or `partner` "
            "with the partner's public name); `licences` the standing licence grants of each URL "
            "an artist allowed training on; `preferences` each URL's `train_ai` and `search` "
            "(allowed, disallowed or unknown; a removal or opt-out disallows training, a grant "
            "allows it, and disallowed wins). At most 10,000 entries together."
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
        covering = selectors.optouts_covering(urls)
        sources = selectors.removed_url_sources(urls, covered=covering)
        grants = selectors.licensed_urls(urls)
        near = selectors.removals_near_codes(
            list(set(codes.values())), radius=settings.MATCH_PHASH_MAX_DISTANCE
        )
        return Response(
            {
                "urls": {url: url in sources for url in urls},
                "phashes": {text: near[code] for text, code in codes.items()},
                # URLs removed by a domain opt-out, registered in a data set or not: its scope.
                "domains": {url: str(selectors.rule_scope(rule)) for url, rule in covering.items()},
                # Added: who asked for each removed URL (an artist, or a partner by its public name).
                "sources": {
                    url: [{"source": source, "partner": partner} for source, partner in sorted(pairs)]
                    for url, pairs in sources.items()
                },
                # Added with choices: the licence grants standing for each URL, and each URL's
                # train-ai and search preferences, every statement combined (disallow wins).
                "licences": {url: [grant_to_dict(g) for g in found] for url, found in grants.items()},
                "preferences": selectors.url_preferences(urls, removed=sources, grants=grants),
            }
        )
