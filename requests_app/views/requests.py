"""The artist's requests: the list, a new request, its page and the page's status poll."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from .. import portfolio, selectors, services
from ..forms import (
    RequestNewForm,
    description_with_pages,
)
from ..models import (
    Match,
)
from ._common import (
    ArtistRequest,
    _artist,
    _detail_url,
    _render_detail,
    _works_add,
    artist_required,
)


@require_GET
@artist_required
def request_list(request: ArtistRequest) -> HttpResponse:
    tickets = selectors.requests_of(request.user).annotate(work_count=Count("works"))
    return render(
        request,
        "requests_app/request_list.html",
        {
            "tickets": tickets,
            "email_verified": services.email_is_verified(_artist(request)),
        },
    )


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_http_methods(["GET", "POST"])
@artist_required
def request_new(request: ArtistRequest) -> HttpResponse:
    form = RequestNewForm(request.POST, request.FILES) if request.method == "POST" else RequestNewForm()
    if form.is_bound and not form.is_valid() and _wants_json(request):
        errors = {
            str(form.fields[name].label if name in form.fields else name): [str(e) for e in errs]
            for name, errs in form.errors.items()
        }
        return JsonResponse({"ok": False, "errors": errors})
    if form.is_bound and form.is_valid():
        ticket = services.request_create(
            artist=_artist(request),
            basis=form.cleaned_data["basis"],
            description=description_with_pages(
                form.cleaned_data["description"], form.cleaned_data["page_urls"]
            ),
        )
        if form.cleaned_data["js_upload"] and _wants_json(request):
            # The page's script uploads the images one by one, with a progress bar each.
            return JsonResponse(
                {
                    "ok": True,
                    "reference": ticket.reference,
                    "upload_url": reverse("work_upload_one", args=[ticket.reference]),
                    "detail_url": _detail_url(ticket),
                }
            )
        return _works_add(request, ticket, form.cleaned_data["works"], form.cleaned_data["zip"])
    return render(
        request, "requests_app/request_new.html", {"form": form, "max_files": settings.UPLOAD_MAX_FILES}
    )


@require_GET
@never_cache
@artist_required
def request_detail(request: ArtistRequest, reference: str) -> HttpResponse:
    ticket = selectors.request_for_artist(request.user, reference)
    try:
        works_filter = portfolio.filter_parse(request.GET, in_request=True)
    except portfolio.FilterInvalid as exc:
        return render(
            request,
            "requests_app/filter_invalid.html",
            {"message": str(exc), "back": _detail_url(ticket, "works")},
            status=400,
        )
    return _render_detail(
        request, ticket, works_filter=works_filter, page_number=request.GET.get("page", "1")
    )


@require_GET
@never_cache
@artist_required
def request_status(request: ArtistRequest, reference: str) -> JsonResponse:
    ticket = selectors.request_for_artist(request.user, reference)
    works = ticket.works.values("id", "hash_state", "hash_error")
    return JsonResponse(
        {
            "status": ticket.status,
            "works": [
                {"id": w["id"], "hash_state": w["hash_state"], "error": w["hash_error"]} for w in works
            ],
            "matches": Match.objects.filter(work__request=ticket).count(),
        }
    )
