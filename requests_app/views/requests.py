"""The artist's requests: the list, a new request, its page and the page's status poll."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime

from django.conf import settings
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from registry.hashing import code_to_hex

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


RECEIPT_CSV_COLUMNS = (
    "removal",
    "data_set",
    "maintainer",
    "external_id",
    "url",
    "phash",
    "state",
    "approved_at",
    "delivered_at",
    "acknowledged_at",
)
RECEIPT_CSV_CHUNK = 2000


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: item URLs and ids come from maintainers, and a
    leading =, +, - or @ would make a formula of them."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@require_GET
@never_cache
@artist_required
def request_removals_csv(request: ArtistRequest, reference: str) -> StreamingHttpResponse:
    """The artist's own removals of one request as CSV, streamed in chunks (50,000 rows or more)."""
    removals = selectors.removals_for_artist(request.user, reference)
    rows = removals.values_list(
        "public_id",
        "dataset__name",
        "dataset__maintainer__name",
        "external_id",
        "url",
        "phash",
        "state",
        "approved_at",
        "delivered_at",
        "acknowledged_at",
    ).iterator(chunk_size=RECEIPT_CSV_CHUNK)

    def lines() -> Iterator[bytes]:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(RECEIPT_CSV_COLUMNS)
        for count, row in enumerate(rows, start=1):
            removal, dataset, maintainer, external_id, url, phash, *rest = row
            writer.writerow(
                [
                    _cell(v)
                    for v in (removal, dataset, maintainer, external_id, url, code_to_hex(phash), *rest)
                ]
            )
            if count % RECEIPT_CSV_CHUNK == 0:
                yield out.getvalue().encode()
                out.seek(0)
                out.truncate()
        yield out.getvalue().encode()

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{reference}-removals.csv"'
    return response
