"""Test-only URLs: views that fail unexpectedly, to hold every 5xx under /api/ to the contract."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from rest_framework.request import Request
from rest_framework.views import APIView

from config.urls import handler500
from config.urls import urlpatterns as site_urlpatterns


class UnexpectedApiView(APIView):
    authentication_classes: list[type] = []
    permission_classes: list[type] = []

    def get(self, request: Request) -> HttpResponse:
        raise RuntimeError("an unexpected failure inside a DRF view")

    post = get


def unexpected_plain_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("an unexpected failure outside DRF")


urlpatterns = [
    path("api/v1/test-unexpected/", UnexpectedApiView.as_view()),
    path("api/v1/test-unexpected-plain/", unexpected_plain_view),
    path("test-unexpected-page/", unexpected_plain_view),
    *site_urlpatterns,
]
__all__ = ["handler500", "urlpatterns"]
