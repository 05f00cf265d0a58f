"""Resumable uploads into the artist's portfolio (docs/uploads.md): the upload page, and the
small JSON protocol its script speaks: announce a file, send its chunks, ask where it stands.

Every answer is JSON; a refused call says why in `error`, names the case in `code` and, when
bytes are held, gives the `offset` to resume from. Nothing changes on a refused call.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.text import parse_id, text_problem

from .. import selectors, services
from ..models import PortfolioUpload, UploadState
from ..services import ActionRefused, UploadRefused
from ._common import ArtistRequest, artist_required

REPORTS_SHOWN = 500  # per-file reports in one status answer


def _refused(exc: ActionRefused) -> JsonResponse:
    if not isinstance(exc, UploadRefused):
        return JsonResponse({"error": str(exc), "code": "refused"}, status=400)
    body: dict[str, Any] = {"error": str(exc), "code": exc.code, **exc.details}
    if exc.offset is not None:
        body["offset"] = exc.offset
    return JsonResponse(body, status=exc.status)


def _bad(message: str, code: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": message, "code": code}, status=status)


def upload_json(upload: PortfolioUpload) -> dict[str, Any]:
    """What the page shows of an upload: bytes in, then the unpacking's counters and per-file notes."""
    return {
        "id": upload.key.hex,
        "url": reverse("portfolio_upload_detail", args=[upload.key]),
        "name": upload.name,
        "size": upload.size,
        "offset": upload.received,
        "chunk_size": settings.PORTFOLIO_CHUNK_BYTES,
        "state": upload.state,
        "state_label": str(upload.get_state_display()),
        "finished": upload.state in (UploadState.DONE, UploadState.FAILED, UploadState.EXPIRED),
        "error": upload.error,
        "ticket": upload.ticket.reference if upload.ticket is not None else None,
        "members": upload.members,
        "processed": upload.processed,
        "added": upload.added,
        "duplicates": upload.duplicates,
        "failed": upload.failed,
        "reports": upload.reports[:REPORTS_SHOWN],
        "reports_total": upload.duplicates + upload.failed,
    }


@require_GET
@artist_required
def portfolio_upload(request: ArtistRequest) -> HttpResponse:
    """The page: drop or choose images, zips or a folder; they go into the portfolio."""
    usage = selectors.portfolio_usage(request.artist.pk)
    return render(
        request,
        "requests_app/portfolio/upload.html",
        {
            "upload_ticket": None,
            "usage": usage,
            "quota_works": formats.number_format(settings.PORTFOLIO_QUOTA_WORKS, force_grouping=True),
            "quota_bytes": settings.PORTFOLIO_QUOTA_BYTES,
            "quota_full": services.quota_full(usage),
        },
    )


@require_POST
@artist_required
def portfolio_upload_create(request: ArtistRequest) -> JsonResponse:
    """Announce a file: {"name", "size", "sha256"?, "ticket"?} -> 201 with its id and URL."""
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return _bad(_("The body must be a JSON object."), "bad_json")
    if not isinstance(body, dict):
        return _bad(_("The body must be a JSON object."), "bad_json")
    name, size, sha256, reference = (
        body.get("name"),
        body.get("size"),
        body.get("sha256", ""),
        body.get("ticket"),
    )
    if not isinstance(name, str) or not name:
        return _bad(_("Give the file's name."), "bad_name")
    if isinstance(size, bool) or not isinstance(size, int):
        return _bad(_("Give the file's size in bytes, as a whole number."), "bad_size")
    if not isinstance(sha256, str):
        return _bad(_("The sha256 must be 64 hexadecimal digits."), "bad_sha256")
    if reference is not None and (
        not isinstance(reference, str) or text_problem(reference) or len(reference) > 40
    ):
        return _bad(_("No such request."), "no_ticket", status=404)
    ticket = selectors.request_for_artist(request.user, reference) if reference else None
    try:
        upload = services.upload_create(
            artist=request.artist, actor=request.user, name=name, size=size, sha256=sha256, ticket=ticket
        )
    except ActionRefused as exc:
        return _refused(exc)
    return JsonResponse(upload_json(upload), status=201)


@require_http_methods(["GET", "PATCH"])
@artist_required
def portfolio_upload_detail(request: ArtistRequest, key: Any) -> JsonResponse:
    """GET: where the upload stands (resume from `offset`). PATCH: one chunk, its first byte's
    position in the Upload-Offset header, the bytes as the body."""
    upload = selectors.upload_for_artist(request.user, str(key))
    if request.method == "GET":
        return JsonResponse(upload_json(upload))
    offset = parse_id(request.headers.get("Upload-Offset"))
    if offset is None:
        return _bad(
            _("Say where this chunk starts with an Upload-Offset header (a whole number)."), "bad_offset"
        )
    limit = settings.PORTFOLIO_CHUNK_BYTES
    declared = parse_id(request.META.get("CONTENT_LENGTH"))
    if declared is not None and declared > limit:
        return _refused(
            UploadRefused(
                _("A chunk may hold at most %(limit)d bytes.") % {"limit": limit},
                code="chunk_too_large",
                status=413,
                offset=upload.received,
            )
        )
    data = request.read(limit + 1)
    if declared is not None and len(data) != declared:
        return _bad(_("The chunk was cut short; send it again."), "short_chunk")
    try:
        upload = services.upload_chunk_write(upload=upload, offset=offset, data=data)
    except ActionRefused as exc:
        return _refused(exc)
    if upload.state == UploadState.FAILED:
        body = upload_json(upload)
        return JsonResponse({**body, "code": "file_refused"}, status=422)
    return JsonResponse(upload_json(upload))
