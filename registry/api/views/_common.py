"""What the endpoint modules share: the error responses, the paging parameters, own data sets,
and the shape of a data set's feed."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ... import selectors
from ...models import Dataset
from .. import serializers as s
from ..auth import maintainer_of
from ..pagination import Page, paginate

ERRORS = {400: s.ErrorSerializer, 401: s.ErrorSerializer, 404: s.ErrorSerializer}
PAGE_PARAMS = [
    OpenApiParameter("cursor", str, description="The `next` value of the previous page."),
    OpenApiParameter("limit", int, description="Rows per page: 1 to 1000, default 100."),
]


def own_dataset(request: Request, slug: str) -> Dataset:
    """The caller's data set with this slug, or 404 (another organisation's data set is not there)."""
    return get_object_or_404(selectors.datasets_of(maintainer_of(request)), slug=slug)


class DatasetFeedView(APIView):
    """A feed of one of the caller's data sets: its rows in the order written, a page at a time,
    with `next` (the following page) and `poll` (just after this page, to ask later for what is
    new). A feed names its rows, how each is written, and what its last page adds."""

    def feed_rows(self, dataset: Dataset) -> QuerySet[Any]:
        raise NotImplementedError

    def feed_row(self, row: Any, dataset: Dataset) -> dict[str, Any]:
        raise NotImplementedError

    def feed_extra(self, rows: QuerySet[Any], page: Page) -> dict[str, Any]:
        return {}

    def get(self, request: Request, slug: str) -> Response:
        dataset = own_dataset(request, slug)
        rows = self.feed_rows(dataset)
        page = paginate(rows, request)
        return Response(
            {
                "results": [self.feed_row(row, dataset) for row in page.rows],
                "next": page.next,
                "poll": page.poll,
                **self.feed_extra(rows, page),
            }
        )
