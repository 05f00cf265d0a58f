"""What the endpoint modules share: the error responses, the paging parameters, own data sets."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request

from ... import selectors
from ...models import Dataset
from .. import serializers as s
from ..auth import maintainer_of

ERRORS = {400: s.ErrorSerializer, 401: s.ErrorSerializer, 404: s.ErrorSerializer}
PAGE_PARAMS = [
    OpenApiParameter("cursor", str, description="The `next` value of the previous page."),
    OpenApiParameter("limit", int, description="Rows per page: 1 to 1000, default 100."),
]


def own_dataset(request: Request, slug: str) -> Dataset:
    """The caller's data set with this slug, or 404 (another organisation's data set is not there)."""
    return get_object_or_404(selectors.datasets_of(maintainer_of(request)), slug=slug)
