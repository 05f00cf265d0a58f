"""The home page: what Removal Desk is, with its public figures."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from registry import selectors as registry_selectors


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", registry_selectors.public_figures())
