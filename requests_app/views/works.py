"""The request's works: uploads (a form's files, or one file from the page's uploader), the
artist's answer on each copy found, and the private image itself."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.text import text_problem

from .. import selectors, services
from ..forms import (
    MATCH_CHOICES,
    WorksAddForm,
)
from ..models import (
    Match,
    Work,
)
from ..services import ActionRefused
from ._common import (
    _CHOICE_OF_STATE,
    REFUSED,
    ArtistRequest,
    _detail_url,
    _render_detail,
    _works_add,
    artist_required,
)

CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


@require_POST
@artist_required
def request_upload(request: ArtistRequest, reference: str) -> HttpResponse:
    ticket = selectors.request_for_artist(request.user, reference)
    form = WorksAddForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(_detail_url(ticket, "works"))
    return _works_add(request, ticket, form.cleaned_data["works"], form.cleaned_data["zip"])


@require_POST
@artist_required
def work_upload_one(request: ArtistRequest, reference: str) -> JsonResponse:
    """One file from the page's uploader: one work (or a zip's works), answered as JSON.

    A refused file is a normal answer ({"ok": false, "error": ...}, status 200) that the
    page shows next to the file; only a malformed call is a 400.
    """
    ticket = selectors.request_for_artist(request.user, reference)
    upload = request.FILES.get("work")
    if upload is None:
        return JsonResponse({"ok": False, "name": "", "error": _("No file was sent.")}, status=400)
    name = upload.name or "upload"
    # The page's uploader sends one upload action file by file, each with the action's id.
    batch = request.POST.get("batch", "")
    if len(batch) > 64 or text_problem(batch):
        error = _("This upload's batch id is not valid.")
        return JsonResponse({"ok": False, "name": name, "error": error}, status=400)
    try:
        if name.lower().endswith(".zip"):
            added = services.works_add_zip(
                ticket=ticket,
                actor=request.user,
                upload=upload,
                batch=batch,
            )
        else:
            added = services.works_add(
                ticket=ticket,
                actor=request.user,
                files=[upload],
                batch=batch,
            )
    except ActionRefused as exc:
        return JsonResponse({"ok": False, "name": name, "error": str(exc)})
    if not name.lower().endswith(".zip"):
        error = added.errors[0].message if added.errors else ""
        return JsonResponse({"ok": not added.errors, "name": name, "error": error})
    return JsonResponse(
        {
            "ok": bool(added.works),
            "name": name,
            "error": "" if added.works else _("No image of this zip could be added."),
            "added": len(added.works),
            "errors": [{"name": e.name, "error": e.message} for e in added.errors],
        }
    )


@require_POST
@artist_required
def request_matches(request: ArtistRequest, reference: str) -> HttpResponse:
    """One answer per copy (mine, not mine, undecided). A bad answer is shown on its row, and the
    page keeps every other answer the artist gave; nothing is saved until all are valid."""
    ticket = selectors.request_for_artist(request.user, reference)
    matches = list(Match.objects.filter(work__request=ticket).order_by("work_id", "distance", "id"))
    choices: dict[int, str] = {}
    errors: dict[int, str] = {}
    for match in matches:
        value = request.POST.get(f"match-{match.pk}")
        if value is None:
            continue  # not on the page the artist saw: unchanged
        choices[match.pk] = value
        if value not in MATCH_CHOICES:
            errors[match.pk] = _("Choose mine, not mine or undecided for this copy.")
    if errors:
        return _render_detail(request, ticket, choices=choices, choice_errors=errors)
    bulk = ""
    if request.POST.get("confirm_all"):
        bulk = "mine"
    elif request.POST.get("exclude_all"):
        bulk = "not_mine"
    if bulk:
        # "All undecided" means the ones the artist left undecided on this page (or has not answered).
        for match in matches:
            if choices.get(match.pk, _CHOICE_OF_STATE.get(match.state)) == "undecided":
                choices[match.pk] = bulk
    try:
        changed = services.matches_decide(
            ticket=ticket,
            actor=request.user,
            confirm=[pk for pk, value in choices.items() if value == "mine"],
            exclude=[pk for pk, value in choices.items() if value == "not_mine"],
            undecide=[pk for pk, value in choices.items() if value == "undecided"],
        )
    except REFUSED as exc:
        return _render_detail(request, ticket, choices=choices, matches_error=str(exc))
    if changed:
        messages.success(request, _("Your choices are saved."))
    else:
        messages.info(request, _("Nothing changed."))
    return redirect(_detail_url(ticket, "matches"))


# --- the private image ------------------------------------------------------


@require_GET
@login_required
def work_image(request: HttpRequest, work_id: int) -> FileResponse:
    work: Work = selectors.work_for_viewer(request.user, work_id)
    extension = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}.get(work.format, "bin")
    response = FileResponse(
        work.file.open("rb"),
        content_type=CONTENT_TYPES.get(work.format, "application/octet-stream"),
        as_attachment=False,
        filename=f"work-{work.pk}.{extension}",
    )
    # A private file: no shared cache may keep it, and no browser may read it as anything but an image.
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
