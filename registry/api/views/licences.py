"""/datasets/{slug}/licences/: the licence grants of a data set (artists who allowed training)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ...models import LicenceGrant
from ...serialize import grant_to_dict
from .. import serializers as s
from ..pagination import paginate
from ._common import ERRORS, PAGE_PARAMS, own_dataset


class LicenceFeedView(APIView):
    @extend_schema(
        operation_id="dataset_licences_list",
        parameters=PAGE_PARAMS,
        responses={200: s.LicenceGrantPageSerializer, **ERRORS},
        description=(
            "Every licence grant for this data set in the order recorded: an artist allowed "
            "training on the item (or hash) under a licence (`licence`, `licence_url`), credited "
            "as `attribution` says. Paginated and polled like the removals feed (`next`, `poll`). "
            "A grant is never a removal and never appears in the removals feed. A grant the artist "
            "withdrew reads `state` revoked here; withdrawing it always records a new removal "
            "(the removals feed), and lookup stops answering for it at once."
        ),
    )
    def get(self, request: Request, slug: str) -> Response:
        dataset = own_dataset(request, slug)
        page = paginate(LicenceGrant.objects.filter(dataset=dataset), request)
        return Response(
            {
                "results": [grant_to_dict(g, dataset_slug=dataset.slug) for g in page.rows],
                "next": page.next,
                "poll": page.poll,
            }
        )
