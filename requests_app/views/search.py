"""The public search: "have my works been used?", for anyone, without an account."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadhandler import MemoryFileUploadHandler
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from core.text import parse_id
from registry.hashing import ImageRejected, compute_hashes, open_image
from registry.shards import ShardUnavailable

from .. import selectors
from ..forms import (
    PublicSearchForm,
)

# --- "have my works been used?" ---------------------------------------------

SEARCH_MAX_BYTES = 10 * 1024 * 1024
SEARCH_LIMIT_PER_HOUR = 20


class _InMemoryOnly(MemoryFileUploadHandler):
    """Keep an uploaded file in memory up to SEARCH_MAX_BYTES; never write it to a temporary file."""

    def handle_raw_input(
        self, input_data: Any, META: Any, content_length: int, *args: Any, **kwargs: Any
    ) -> None:
        self.activated = content_length <= SEARCH_MAX_BYTES + 64 * 1024


def _client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def _search_allowed(request: HttpRequest) -> bool:
    """At most SEARCH_LIMIT_PER_HOUR searches an hour from one address (a fixed window in the cache)."""
    key = f"public-search:{_client_ip(request)}:{int(time.time() // 3600)}"
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        count = 1
    return count <= SEARCH_LIMIT_PER_HOUR


@csrf_exempt
@require_http_methods(["GET", "POST"])
def public_search(request: HttpRequest) -> HttpResponse:
    # The upload handlers must be set before anything reads request.POST (the CSRF check
    # does), hence csrf_exempt here and csrf_protect on the view that does the work.
    request.upload_handlers = [_InMemoryOnly(request)]
    return _public_search(request)


@csrf_protect
def _public_search(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {"searched": False, "hits": []}
    if request.method != "POST":
        context["form"] = PublicSearchForm()
        return render(request, "requests_app/search.html", context)
    if not _search_allowed(request):
        context["form"] = PublicSearchForm()
        context["limited"] = True
        return render(request, "requests_app/search.html", context, status=429)
    form = PublicSearchForm(request.POST, request.FILES)
    context["form"] = form
    if not form.is_valid():
        if not request.FILES and (parse_id(request.META.get("CONTENT_LENGTH")) or 0) > SEARCH_MAX_BYTES:
            form.errors.pop("image", None)
            form.add_error("image", _("The file is larger than 10 MB; choose a smaller version."))
        return render(request, "requests_app/search.html", context)
    upload = form.cleaned_data["image"]
    data = upload.read(SEARCH_MAX_BYTES + 1)
    try:
        if len(data) > SEARCH_MAX_BYTES:
            raise ImageRejected(_("The file is larger than 10 MB; choose a smaller version."))
        hashes = compute_hashes(data, max_pixels=settings.UPLOAD_MAX_PIXELS)
    except ImageRejected as exc:
        form.add_error("image", str(exc))
        return render(request, "requests_app/search.html", context)
    try:
        context["hits"] = selectors.public_search_hits(
            hashes, image=lambda: open_image(data, max_pixels=settings.UPLOAD_MAX_PIXELS, draft=True)
        )
    except ShardUnavailable:
        # Part of a data set's index did not answer: no answer rather than a wrong "not found".
        form.add_error(
            "image",
            _(
                "Part of the registry did not answer, so this search has no complete result. Try again in a few minutes."  # noqa: E501
            ),
        )
        return render(request, "requests_app/search.html", context, status=503)
    context["searched"] = True
    context["form"] = PublicSearchForm()
    return render(request, "requests_app/search.html", context)
