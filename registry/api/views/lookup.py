"""/lookup/: whether URLs are removed and which removals pHashes fall near, registry-wide."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.text import is_clean_text

from ... import selectors, services
from ...hashing import hex_to_code
from ...lookup_index import lookup_index
from ...models import DomainOptOut
from ...serialize import grant_to_dict, rule_to_dict
from .. import serializers as s
from ..errors import ApiError
from ..fastjson import FastJSONParser, FastJSONRenderer, fragment
from ._common import ERRORS

URL_MAX_LENGTH = 4096  # as LookupSerializer's fields
PHASH_MAX_LENGTH = 64


def plain_texts(data: object, name: str, *, max_length: int) -> list[str] | None:
    """`data[name]` as LookupSerializer would validate it (stripped strings), when every entry
    is plainly valid; None when any is not, for the serializer to refuse with its own words.

    Running 10,000 CharFields costs more than the rest of a look-up; this checks the same rules
    (a list of strings, not blank once stripped, at most `max_length`, text PostgreSQL and JSON
    can carry) once over the batch. Numbers, which the serializer turns into strings, go to it.
    """
    if type(data) is not dict:
        return None
    values = data.get(name, [])
    # map and set in C: 10,000 generator steps each cost more than the check itself.
    if type(values) is not list or not set(map(type, values)) <= {str}:
        return None
    stripped = list(map(str.strip, values))
    lengths = list(map(len, stripped))
    if lengths and not (min(lengths) > 0 and max(lengths) <= max_length):
        return None
    return stripped if is_clean_text("".join(stripped)) else None


class LookupView(APIView):
    # 10,000 URLs in and 20,000 entries out: orjson, with the standard library's results.
    parser_classes = [FastJSONParser]
    renderer_classes = [FastJSONRenderer]

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
            "or a licensing domain rule allows it, and disallowed wins); `domain_rules` the active "
            "domain rules covering each URL with their choice (remove, search_only, licence). "
            "`domains` names only rules that remove. At most 10,000 entries together."
        ),
    )
    def post(self, request: Request) -> Response:
        urls = plain_texts(request.data, "urls", max_length=URL_MAX_LENGTH)
        phashes = plain_texts(request.data, "phashes", max_length=PHASH_MAX_LENGTH)
        if urls is None or phashes is None:  # something to refuse: the serializer words it
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
        # The process's index of live removals when it can answer (PostgreSQL, built, caught up
        # with every commit), else the database: the same answers either way.
        memory = lookup_index()
        covering = selectors.optouts_covering(urls, index=memory)
        licensing = selectors.optouts_covering(urls, index=memory, licensing=True)
        said = selectors.url_removal_origins(urls, index=memory)  # one read: sources and search
        # Rules by the object's id, not its pk (a Python property: 10,000 calls a batch): each
        # URL's, and the few distinct ones, which the sources and the preferences share.
        rule_ids = list(map(id, covering.values()))
        rules = dict(zip(rule_ids, covering.values(), strict=True))
        sources = selectors.removed_url_sources(urls, covered=covering, origins=said, rules=rules)
        grants = selectors.licensed_urls(urls, index=memory)
        near = selectors.removals_near_codes(
            list(set(codes.values())), radius=settings.MATCH_PHASH_MAX_DISTANCE
        )
        # A batch under one opt-out has one scope and one set of sources for thousands of URLs:
        # each is written out once, as JSON (an orjson Fragment the renderer copies as it is),
        # and the same value answers every URL that has it.
        scopes = {i: str(selectors.rule_scope(rule)) for i, rule in rules.items()}
        described: dict[int, dict[str, object]] = {}  # each rule written out once

        def rule_dict(rule: DomainOptOut) -> dict[str, object]:
            key = id(rule)
            if key not in described:
                scope = scopes[key] if key in scopes else str(selectors.rule_scope(rule))
                described[key] = rule_to_dict(rule, scope=scope)
            return described[key]

        # A URL under one removing rule shares that rule's list; one under a removing and a
        # licensing rule, the list of that pair (the removing rule first).
        alone = {key: fragment([rule_dict(rule)]) for key, rule in rules.items()}
        domain_rules: dict[str, Any] = dict(zip(covering, map(alone.__getitem__, rule_ids), strict=True))
        pairs: dict[tuple[int, int], Any] = {}
        for url, rule in licensing.items():
            removing = covering.get(url)
            pair = (0 if removing is None else id(removing), id(rule))
            if pair not in pairs:
                both = [rule_dict(rule)] if removing is None else [rule_dict(removing), rule_dict(rule)]
                pairs[pair] = fragment(both)
            domain_rules[url] = pairs[pair]
        origins = {  # URLs that say the same share one frozenset
            who: fragment([{"source": source, "partner": partner} for source, partner in sorted(who)])
            for who in set(sources.values())
        }
        removed_or_not = dict.fromkeys(urls, False)
        removed_or_not.update(dict.fromkeys(sources, True))  # each URL stays where it is
        return Response(
            {
                "urls": removed_or_not,
                "phashes": {text: near[code] for text, code in codes.items()},
                # URLs removed by a domain opt-out, registered in a data set or not: its scope.
                "domains": dict(zip(covering, map(scopes.__getitem__, rule_ids), strict=True)),
                # Added: who asked for each removed URL (an artist, or a partner by its public name).
                "sources": dict(zip(sources, map(origins.__getitem__, sources.values()), strict=True)),
                # Added with choices: the licence grants standing for each URL, and each URL's
                # train-ai and search preferences, every statement combined (disallow wins).
                "licences": {url: [grant_to_dict(g) for g in found] for url, found in grants.items()},
                "preferences": selectors.url_preferences(
                    urls,
                    removed=sources,
                    grants=grants,
                    origins=said,
                    ruled=covering,
                    licensed=licensing,
                    rules=rules,
                ),
                # Added with domain choices: the active rules covering each URL, with their choice
                # (a removing rule, and a licensing one; a URL under both is removed: disallow wins).
                "domain_rules": domain_rules,
            }
        )
