"""Artist-facing pages.

Views are a few lines each: they read through selectors (which 404 on
another artist's request), change state only through services, and show
a refused action's message to the person who asked.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ObjectDoesNotExist
from django.core.files.uploadhandler import MemoryFileUploadHandler
from django.db.models import Count, Prefetch
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.text import parse_id, text_problem
from registry import matching
from registry import selectors as registry_selectors
from registry.hashing import ImageRejected, compute_hashes
from registry.models import DatasetItem, RemovalState
from registry.selectors import removals_for_source

from .. import selectors, services, timeline
from ..forms import (
    MATCH_CHOICES,
    AccountDeleteForm,
    AccountNameForm,
    ArtistReplyForm,
    EmailAuthenticationForm,
    PublicSearchForm,
    RequestNewForm,
    SignupForm,
    SubmitForm,
    WithdrawForm,
    WorksAddForm,
    description_with_pages,
    split_description,
)
from ..models import (
    PUBLIC_EVENT_KINDS,
    ArtistProfile,
    EventKind,
    HashState,
    Match,
    MatchState,
    RemovalRequest,
    Work,
)
from ..services import ActionRefused
from ..workflow import EDITABLE, TRANSITIONS, Status, TransitionNotAllowed

View = Callable[..., HttpResponse]

# The refusals a person can act on: shown to them, never a server error.
REFUSED = (ActionRefused, TransitionNotAllowed)
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
RESEND_INTERVAL_SECONDS = 60
STATUS_REFRESH_SECONDS = 3


# --- guards -----------------------------------------------------------------


def artist_required(view: View) -> View:
    """Logged in, with an artist profile: staff accounts without one get a page that says so."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            request.artist = request.user.artist  # type: ignore[attr-defined,union-attr]
        except ObjectDoesNotExist:
            return render(request, "requests_app/not_an_artist.html", status=403)
        _remember_language(request.artist, request)  # type: ignore[attr-defined]
        return view(request, *args, **kwargs)

    return wrapper


def _remember_language(profile: ArtistProfile, request: HttpRequest) -> None:
    """Emails follow the language the artist last used on their pages.

    Checked here, on every artist page, rather than in the set_language view: it costs a
    comparison (one UPDATE when it changed), covers every way the language is chosen (the
    switcher's cookie, the browser's Accept-Language), and set_language returns the artist
    to the page they were on, which passes through here.
    """
    language = getattr(request, "LANGUAGE_CODE", "") or translation.get_language()
    if language and language != profile.language:
        ArtistProfile.objects.filter(pk=profile.pk).update(language=language)
        profile.language = language


def _artist(request: HttpRequest) -> ArtistProfile:
    return request.artist  # type: ignore[attr-defined,no-any-return]


# --- public pages -----------------------------------------------------------


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "home.html", registry_selectors.public_figures())


login_view = auth_views.LoginView.as_view(
    template_name="registration/login.html", authentication_form=EmailAuthenticationForm
)


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("request_list")
    form = SignupForm(request.POST) if request.method == "POST" else SignupForm()
    if form.is_bound and form.is_valid():
        try:
            profile = services.artist_signup(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
                display_name=form.cleaned_data["display_name"],
                language=translation.get_language(),
            )
        except ActionRefused as exc:
            form.add_error("email", str(exc))
        else:
            login(request, profile.user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request,
                _(
                    "Welcome, %(name)s. We sent a confirmation link to %(email)s: open it to confirm "
                    "your address. You can prepare a request meanwhile."
                )
                % {"name": profile.display_name, "email": profile.user.email},
            )
            return redirect("request_list")
    return render(request, "registration/signup.html", {"form": form})


@require_GET
def verify_email(request: HttpRequest, token: str) -> HttpResponse:
    # A GET that changes state: it is the link in an email, and verifying twice changes nothing.
    try:
        profile = services.email_verify(token=token)
    except ActionRefused as exc:
        return render(request, "registration/verify_email_failed.html", {"reason": str(exc)}, status=400)
    if request.user.is_authenticated and request.user.pk == profile.user_id:
        messages.success(request, _("Thank you: your email address is confirmed."))
        return redirect("request_list")
    return render(request, "registration/verify_email_done.html", {"profile": profile})


@require_POST
@artist_required
def verify_email_resend(request: HttpRequest) -> HttpResponse:
    profile = _artist(request)
    next_url = request.POST.get("next", "")
    # A path on this site, taken as an address: redirect() would read "²" as a view's name.
    if (
        not next_url.startswith("/")
        or text_problem(next_url)
        or not url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure())
    ):
        next_url = reverse("request_list")
    if services.email_is_verified(profile):
        messages.info(request, _("Your email address is confirmed already."))
        return HttpResponseRedirect(next_url)
    # One email a minute: the button is easy to press twice, and each press sends mail.
    last = request.session.get("verify_email_sent_at", 0)
    if time.time() - last < RESEND_INTERVAL_SECONDS:
        messages.info(request, _("We sent a link less than a minute ago; check your inbox and spam folder."))
        return HttpResponseRedirect(next_url)
    services.email_verification_send(profile=profile)
    request.session["verify_email_sent_at"] = time.time()
    messages.success(
        request, _("We sent a new confirmation link to %(email)s.") % {"email": profile.user.email}
    )
    return HttpResponseRedirect(next_url)


# --- the artist's requests --------------------------------------------------


@require_GET
@artist_required
def request_list(request: HttpRequest) -> HttpResponse:
    removal_requests = selectors.requests_of(request.user).annotate(work_count=Count("works"))  # type: ignore[arg-type]
    return render(
        request,
        "requests_app/request_list.html",
        {
            "removal_requests": removal_requests,
            "email_verified": services.email_is_verified(_artist(request)),
        },
    )


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_http_methods(["GET", "POST"])
@artist_required
def request_new(request: HttpRequest) -> HttpResponse:
    form = RequestNewForm(request.POST, request.FILES) if request.method == "POST" else RequestNewForm()
    if form.is_bound and not form.is_valid() and _wants_json(request):
        errors = {
            str(form.fields[name].label if name in form.fields else name): [str(e) for e in errs]
            for name, errs in form.errors.items()
        }
        return JsonResponse({"ok": False, "errors": errors})
    if form.is_bound and form.is_valid():
        removal_request = services.request_create(
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
                    "reference": removal_request.reference,
                    "upload_url": reverse("work_upload_one", args=[removal_request.reference]),
                    "detail_url": _detail_url(removal_request),
                }
            )
        return _works_add(request, removal_request, form.cleaned_data["works"], form.cleaned_data["zip"])
    return render(
        request, "requests_app/request_new.html", {"form": form, "max_files": settings.UPLOAD_MAX_FILES}
    )


@require_POST
@artist_required
def request_upload(request: HttpRequest, reference: str) -> HttpResponse:
    removal_request = selectors.request_for_artist(request.user, reference)  # type: ignore[arg-type]
    form = WorksAddForm(request.POST, request.FILES)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(_detail_url(removal_request, "works"))
    return _works_add(request, removal_request, form.cleaned_data["works"], form.cleaned_data["zip"])


def _works_add(
    request: HttpRequest, removal_request: RemovalRequest, files: list[Any], zip_file: Any = None
) -> HttpResponse:
    added = services.WorksAdded(works=[], errors=[])
    batch = uuid.uuid4().hex  # the images and the zip of one form: one timeline row
    try:
        if files:
            added = services.works_add(request=removal_request, actor=request.user, files=files, batch=batch)  # type: ignore[arg-type]
        if zip_file is not None:
            from_zip = services.works_add_zip(
                request=removal_request,
                actor=request.user,  # type: ignore[arg-type]
                upload=zip_file,
                batch=batch,
            )
            added.works += from_zip.works
            added.errors += from_zip.errors
    except ActionRefused as exc:
        messages.error(request, str(exc))
        request.session[_upload_errors_key(removal_request)] = [[e.name, e.message] for e in added.errors]
        return redirect(_detail_url(removal_request, "works"))
    if added.works:
        count = len(added.works)
        messages.success(
            request,
            ngettext(
                "%(count)d work added; we are checking it now.",
                "%(count)d works added; we are checking them now.",
                count,
            )
            % {"count": count},
        )
    # Kept in the session (not a flash message) so the errors stay next to the
    # file names while the page refreshes itself during hashing.
    request.session[_upload_errors_key(removal_request)] = [[e.name, e.message] for e in added.errors]
    return redirect(_detail_url(removal_request, "works"))


@require_POST
@artist_required
def work_upload_one(request: HttpRequest, reference: str) -> JsonResponse:
    """One file from the page's uploader: one work (or a zip's works), answered as JSON.

    A refused file is a normal answer ({"ok": false, "error": ...}, status 200) that the
    page shows next to the file; only a malformed call is a 400.
    """
    removal_request = selectors.request_for_artist(request.user, reference)  # type: ignore[arg-type]
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
                request=removal_request,
                actor=request.user,  # type: ignore[arg-type]
                upload=upload,
                batch=batch,
            )
        else:
            added = services.works_add(
                request=removal_request,
                actor=request.user,  # type: ignore[arg-type]
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


def _upload_errors_key(removal_request: RemovalRequest) -> str:
    return f"upload_errors:{removal_request.reference}"


def _detail_url(removal_request: RemovalRequest, anchor: str = "") -> str:
    url = reverse("request_detail", args=[removal_request.reference])
    return f"{url}#{anchor}" if anchor else url


@dataclass
class DatasetProgress:
    """What the maintainers of one data set did with this request's removals."""

    name: str
    maintainer: str
    total: int = 0
    delivered: int = 0
    acknowledged: int = 0
    revoked: int = 0
    delivered_at: datetime | None = None
    acknowledged_at: datetime | None = None

    @property
    def state(self) -> str:
        if self.total and self.acknowledged == self.total:
            return RemovalState.ACKNOWLEDGED
        if self.total and self.delivered == self.total:
            return RemovalState.DELIVERED
        if not self.total and self.revoked:
            return RemovalState.REVOKED
        return RemovalState.PENDING


def _progress_by_dataset(reference: str) -> list[DatasetProgress]:
    by_dataset: dict[int, DatasetProgress] = {}
    for removal in removals_for_source(reference):
        row = by_dataset.setdefault(
            removal.dataset_id, DatasetProgress(removal.dataset.name, removal.dataset.maintainer.name)
        )
        if removal.state == RemovalState.REVOKED:
            row.revoked += 1
            continue
        row.total += 1
        # A maintainer pulling the feed may acknowledge what no webhook delivered: both count as received.
        if removal.state in (RemovalState.DELIVERED, RemovalState.ACKNOWLEDGED):
            row.delivered += 1
            if removal.delivered_at and (row.delivered_at is None or removal.delivered_at > row.delivered_at):
                row.delivered_at = removal.delivered_at
        if removal.state == RemovalState.ACKNOWLEDGED:
            row.acknowledged += 1
            ack = removal.acknowledged_at
            if ack and (row.acknowledged_at is None or ack > row.acknowledged_at):
                row.acknowledged_at = ack
    return sorted(by_dataset.values(), key=lambda r: r.name)


def _safe_href(url: str) -> str:
    """Item URLs come from maintainers: link only http(s), never javascript: or data:."""
    return url if url.lower().startswith(("https://", "http://")) else ""


@require_GET
@never_cache
@artist_required
def request_detail(request: HttpRequest, reference: str) -> HttpResponse:
    removal_request = selectors.request_for_artist(request.user, reference)  # type: ignore[arg-type]
    return _render_detail(request, removal_request)


def _render_detail(
    request: HttpRequest,
    removal_request: RemovalRequest,
    *,
    choices: dict[int, str] | None = None,
    choice_errors: dict[int, str] | None = None,
    matches_error: str = "",
    **forms: Any,
) -> HttpResponse:
    """The request's page; a refused form comes back here with what the artist entered and the
    error beside its control (`choices`, `choice_errors`, `matches_error`, or a bound form)."""
    works = list(
        removal_request.works.prefetch_related(
            Prefetch("matches", queryset=Match.objects.select_related("item__dataset__maintainer"))
        )
    )
    choices, choice_errors = choices or {}, choice_errors or {}
    for work in works:
        for match in work.matches.all():
            match.href = _safe_href(match.item.url)  # type: ignore[attr-defined]
            match.choice = choices.get(match.pk) or _CHOICE_OF_STATE.get(match.state, "undecided")  # type: ignore[attr-defined]
            match.error = choice_errors.get(match.pk, "")  # type: ignore[attr-defined]
        if work.hash_state == HashState.FAILED and work.hash_error:
            # Stored in English by the hashing worker; the fixed messages (no file-specific
            # detail in them) are in the catalogue and shown in the page's language. Never saved.
            work.hash_error = _(work.hash_error)
    any_pending = any(w.hash_state == HashState.PENDING for w in works)
    match_count = sum(len(w.matches.all()) for w in works)
    confirmed = sum(1 for w in works for m in w.matches.all() if m.state == MatchState.CONFIRMED)
    key = _upload_errors_key(removal_request)
    upload_errors = request.session.get(key, []) if any_pending else request.session.pop(key, [])
    req_status = removal_request.status
    editable = req_status in EDITABLE
    approved = req_status in (Status.APPROVED, Status.COMPLETED)
    description, page_urls = split_description(removal_request.description)
    language = translation.get_language() or settings.LANGUAGE_CODE
    submit_form = forms.get("submit_form") or SubmitForm(initial={"language": language})
    for form in forms.values():
        # A form that comes back with errors: focus (and so scroll to) its first field in error.
        for name in getattr(form, "errors", {}):
            if name in getattr(form, "fields", {}):
                form.fields[name].widget.attrs["autofocus"] = True
                break
    context = {
        "req": removal_request,
        "description": description,
        "page_urls": [(url, _safe_href(url)) for url in page_urls],
        "reply_form": (forms.get("reply_form") or ArtistReplyForm())
        if req_status != Status.WITHDRAWN
        else None,
        "works": works,
        "any_pending": any_pending,
        "pending_count": sum(1 for w in works if w.hash_state == HashState.PENDING),
        "refresh_seconds": STATUS_REFRESH_SECONDS,
        "match_count": match_count,
        "confirmed_count": confirmed,
        "upload_errors": upload_errors,
        "editable": editable,
        "can_submit": Status.SUBMITTED in TRANSITIONS[req_status] and editable,
        "can_withdraw": Status.WITHDRAWN in TRANSITIONS[req_status],
        "email_verified": services.email_is_verified(_artist(request)),
        "upload_form": WorksAddForm() if editable else None,
        "submit_form": submit_form,
        "submit_error": forms.get("submit_error", ""),
        "withdraw_form": forms.get("withdraw_form") or WithdrawForm(),
        "matches_error": matches_error,
        "first_choice_error": next((pk for pk in choices if pk in choice_errors), None),
        "statement": services.statement_text(submit_form["language"].value() or language),
        "statement_language": submit_form["language"].value() or language,
        "timeline": _timeline(removal_request),
        "progress": _progress_by_dataset(removal_request.reference or "") if approved else [],
        "max_files": settings.UPLOAD_MAX_FILES,
    }
    return render(request, "requests_app/request_detail.html", context)


@dataclass
class TimelineEntry:
    at: datetime
    title: str
    message: str
    # "you" (the artist), "desk" (Removal Desk's own rows), or "" (the title says who wrote it)
    by: str


def _status_label(value: str) -> str:
    return str(Status(value).label) if value in Status.values else value


def _timeline(removal_request: RemovalRequest) -> list[TimelineEntry]:
    """The public part of the request's history; internal notes and assignments never leave the admin."""
    titles: dict[str, str] = {
        EventKind.CREATED: _("Request created"),
        EventKind.PUBLIC_REPLY: _("Message from Removal Desk"),
        EventKind.WORKS: _("Works added"),
        EventKind.REMOVALS: _("Data set maintainers"),
    }
    artist_user_id = removal_request.artist.user_id
    entries = []
    for event in removal_request.events.filter(kind__in=PUBLIC_EVENT_KINDS):
        by_artist = event.actor_id is not None and event.actor_id == artist_user_id
        if event.kind == EventKind.STATUS:
            title = _("%(old)s → %(new)s") % {
                "old": _status_label(event.old_value),
                "new": _status_label(event.new_value),
            }
        elif event.kind == EventKind.PUBLIC_REPLY and by_artist:
            title = _("Your message to the moderators")
        else:
            title = str(titles.get(event.kind, event.get_kind_display()))
        if by_artist:
            by = "you"
        elif event.kind == EventKind.PUBLIC_REPLY:
            by = ""  # "Message from Removal Desk" says who wrote it already
        else:
            by = "desk"
        entries.append(
            TimelineEntry(at=event.created_at, title=title, message=timeline.event_text(event), by=by)
        )
    return entries


# The radio button that shows a match's state, and the state each button asks for.
_CHOICE_OF_STATE: dict[str, str] = {
    MatchState.CONFIRMED: "mine",
    MatchState.APPROVED: "mine",
    MatchState.EXCLUDED: "not_mine",
    MatchState.SUGGESTED: "undecided",
}


@require_POST
@artist_required
def request_matches(request: HttpRequest, reference: str) -> HttpResponse:
    """One answer per copy (mine, not mine, undecided). A bad answer is shown on its row, and the
    page keeps every other answer the artist gave; nothing is saved until all are valid."""
    removal_request = selectors.request_for_artist(request.user, reference)  # type: ignore[arg-type]
    matches = list(Match.objects.filter(work__request=removal_request).order_by("work_id", "distance", "id"))
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
        return _render_detail(request, removal_request, choices=choices, choice_errors=errors)
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
            request=removal_request,
            actor=request.user,  # type: ignore[arg-type]
            confirm=[pk for pk, value in choices.items() if value == "mine"],
            exclude=[pk for pk, value in choices.items() if value == "not_mine"],
            undecide=[pk for pk, value in choices.items() if value == "undecided"],
        )
    except REFUSED as exc:
        return _render_detail(request, removal_request, choices=choices, matches_error=str(exc))
    if changed:
        messages.success(request, _("Your choices are saved."))
    else:
        messages.info(request, _("Nothing changed."))
    return redirect(_detail_url(removal_request, "matches"))


@require_POST
@artist_required
def request_submit(request: HttpRequest, reference: str) -> HttpResponse:
    removal_request = selectors.request_for_artist(request.user, reference)  # type: ignore[arg-type]
    form = SubmitForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, removal_request, submit_form=form)
    try:
        services.request_submit(
            request=removal_request,
            actor=request.user,  # type: ignore[arg-type]
            signed_name=form.cleaned_data["signed_name"],
            language=form.cleaned_data["language"] or translation.get_language() or settings.LANGUAGE_CODE,
        )
    except REFUSED as exc:
        field = getattr(exc, "field", "")
        if field in form.fields:
            form.add_error(field, str(exc))
            return _render_detail(request, removal_request, submit_form=form)
        removal_request.refresh_from_db()
        return _render_detail(request, removal_request, submit_form=form, submit_error=str(exc))
    messages.success(
        request,
        _("Request %(reference)s is submitted. A moderator will review it; we email you when it changes.")
        % {"reference": removal_request.reference},
    )
    return redirect(_detail_url(removal_request))


@require_POST
@artist_required
def request_withdraw(request: HttpRequest, reference: str) -> HttpResponse:
    """Withdrawing cannot be undone: the form's box must be ticked (no script needed)."""
    removal_request = selectors.request_for_artist(request.user, reference)  # type: ignore[arg-type]
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, removal_request, withdraw_form=form)
    try:
        services.request_withdraw(request=removal_request, actor=request.user)  # type: ignore[arg-type]
    except REFUSED as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, _("Request %(reference)s is withdrawn.") % {"reference": removal_request.reference}
        )
    return redirect(_detail_url(removal_request))


@require_POST
@artist_required
def request_reply(request: HttpRequest, reference: str) -> HttpResponse:
    removal_request = selectors.request_for_artist(request.user, reference)  # type: ignore[arg-type]
    form = ArtistReplyForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, removal_request, reply_form=form)
    try:
        services.request_artist_reply(
            request=removal_request,
            artist_user=request.user,  # type: ignore[arg-type]
            message=form.cleaned_data["message"],
        )
    except ActionRefused as exc:
        form.add_error("message", str(exc))
        return _render_detail(request, removal_request, reply_form=form)
    messages.success(request, _("Your message is sent; the moderators see it on this request."))
    return redirect(_detail_url(removal_request, "history"))


@require_GET
@never_cache
@artist_required
def request_status(request: HttpRequest, reference: str) -> JsonResponse:
    removal_request = selectors.request_for_artist(request.user, reference)  # type: ignore[arg-type]
    works = removal_request.works.values("id", "hash_state", "hash_error")
    return JsonResponse(
        {
            "status": removal_request.status,
            "works": [
                {"id": w["id"], "hash_state": w["hash_state"], "error": w["hash_error"]} for w in works
            ],
            "matches": Match.objects.filter(work__request=removal_request).count(),
        }
    )


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


# --- "have my works been used?" ---------------------------------------------

SEARCH_MAX_BYTES = 10 * 1024 * 1024
SEARCH_LIMIT_PER_HOUR = 20


class _InMemoryOnly(MemoryFileUploadHandler):
    """Keep an uploaded file in memory up to SEARCH_MAX_BYTES; never write it to a temporary file."""

    def handle_raw_input(
        self, input_data: Any, META: Any, content_length: int, *args: Any, **kwargs: Any
    ) -> None:
        self.activated = content_length <= SEARCH_MAX_BYTES + 64 * 1024


@dataclass
class SearchHit:
    dataset: str
    maintainer: str
    url: str
    href: str
    distance: int
    # A live removal of this copy (of the item, or of its hash in its data set): when it was
    # approved, and whether the maintainer confirmed it.
    removed_at: datetime | None = None
    removal_confirmed_at: datetime | None = None


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
    found = matching.search_work(phash=hashes.phash, dhash=hashes.dhash, phash_variants=hashes.phash_variants)
    items = DatasetItem.objects.select_related("dataset__maintainer").in_bulk([h.item_id for h in found])
    removed = registry_selectors.live_removals_of_items(list(items.values()))
    context["hits"] = [
        SearchHit(
            dataset=item.dataset.name,
            maintainer=item.dataset.maintainer.name,
            url=item.url or "",
            href=_safe_href(item.url or ""),
            distance=hit.distance,
            removed_at=removal.approved_at if (removal := removed.get(item.pk)) else None,
            removal_confirmed_at=removal.acknowledged_at
            if removal and removal.state == RemovalState.ACKNOWLEDGED
            else None,
        )
        for hit in found
        if (item := items.get(hit.item_id)) is not None
    ]
    context["searched"] = True
    context["form"] = PublicSearchForm()
    return render(request, "requests_app/search.html", context)


# --- the artist's account ---------------------------------------------------


def _account_page(request: HttpRequest, **forms: Any) -> HttpResponse:
    profile = _artist(request)
    context = {
        "profile": profile,
        "delete_form": forms.get("delete_form") or AccountDeleteForm(user=request.user),
        "name_form": forms.get("name_form")
        or AccountNameForm(initial={"display_name": profile.display_name}),
    }
    return render(request, "requests_app/account.html", context)


@require_GET
@artist_required
def account(request: HttpRequest) -> HttpResponse:
    return _account_page(request)


@require_POST
@artist_required
def account_name(request: HttpRequest) -> HttpResponse:
    form = AccountNameForm(request.POST)
    if form.is_valid():
        try:
            services.profile_rename(profile=_artist(request), display_name=form.cleaned_data["display_name"])
        except ActionRefused as exc:
            form.add_error("display_name", str(exc))
        else:
            messages.success(request, _("Your name is saved."))
            return redirect("account")
    return _account_page(request, name_form=form)


@require_GET
@never_cache
@artist_required
def account_export(request: HttpRequest) -> HttpResponse:
    data = services.account_export(user=request.user)  # type: ignore[arg-type]
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="removal-desk-my-data.json"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@artist_required
def account_delete(request: HttpRequest) -> HttpResponse:
    form = AccountDeleteForm(request.POST, user=request.user)
    if not form.is_valid():
        return _account_page(request, delete_form=form)
    services.account_delete(user=request.user)  # type: ignore[arg-type]
    logout(request)
    messages.success(request, _("Your account is deleted, with your works and your personal data."))
    return redirect("home")
