"""Disputes, from the outside: the public page that files one (no account: the address is
confirmed by a signed link), that link's page, and the artist's page of a dispute about one of
their removals, where they answer."""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from registry import services as registry_services
from registry.dispute_checks import links_from_lines
from registry.models import DisputeAuthor, DisputeState

from .. import selectors, services
from ..dispute_forms import (
    DisputeAnswerForm,
    DisputeNewForm,
    EvidenceLimit,
    dispute_body_too_large,
    evidence_refused_form,
)
from ..services import ActionRefused
from ._common import ArtistRequest, artist_required


def _client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def _counted(key: str, *, window: int, limit: int) -> bool:
    """One more in a fixed window of `window` seconds; whether the count is still within `limit`."""
    key = f"{key}:{int(time.time() // window)}"
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return count <= limit


@csrf_exempt
@require_http_methods(["GET", "POST"])
def dispute_new(request: HttpRequest) -> HttpResponse:
    # An oversized document is refused before Django receives it: by the length the request
    # announces, before its body is read, then part by part as it arrives (EvidenceLimit). The
    # handlers must be set before anything reads request.POST (the CSRF check does), hence
    # csrf_exempt here and csrf_protect on the view that does the work.
    if request.method == "POST":
        if dispute_body_too_large(request):
            context = {"days": settings.DISPUTE_RESPONSE_DAYS, "form": evidence_refused_form()}
            return render(request, "requests_app/dispute_new.html", context, status=413)
        request.upload_handlers.insert(0, EvidenceLimit(request))
    return _dispute_new(request)


@csrf_protect
def _dispute_new(request: HttpRequest) -> HttpResponse:
    context: dict[str, object] = {"days": settings.DISPUTE_RESPONSE_DAYS}
    if request.method != "POST":
        return render(request, "requests_app/dispute_new.html", {**context, "form": DisputeNewForm()})
    limit = next((h for h in request.upload_handlers if isinstance(h, EvidenceLimit)), None)
    request.POST  # noqa: B018 (parses the body: the handler says whether it stopped the document)
    if limit is not None and limit.too_large:
        context["form"] = evidence_refused_form(request.POST)
        return render(request, "requests_app/dispute_new.html", context, status=413)
    form = DisputeNewForm(request.POST, request.FILES)
    context["form"] = form
    if not _counted(
        f"dispute-ip:{_client_ip(request)}", window=3600, limit=settings.DISPUTE_LIMIT_PER_IP_HOUR
    ):
        context["limited"] = _(
            "Many disputes were sent from your address in the last hour. Wait a while and try again."
        )
        return render(request, "requests_app/dispute_new.html", context, status=429)
    if not form.is_valid():
        return render(request, "requests_app/dispute_new.html", context)
    data = form.cleaned_data
    email = data["email"].strip().lower()
    if not _counted(f"dispute-email:{email}", window=86400, limit=settings.DISPUTE_LIMIT_PER_EMAIL_DAY):
        context["limited"] = _("Many disputes were sent for this email address today. Try again tomorrow.")
        return render(request, "requests_app/dispute_new.html", context, status=429)
    try:
        removal = registry_services.disputable_removal(ref=data["removal"])
        dispute = registry_services.dispute_file(
            removal=removal,
            email=email,
            language=translation.get_language() or settings.LANGUAGE_CODE,
            reason=data["reason"],
            statement=data["statement"],
            links=links_from_lines(data["links"]),
            evidence=data["evidence"],
        )
    except registry_services.DisputeRefused as exc:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return render(
            request, "requests_app/dispute_new.html", context, status=429 if exc.status == 429 else 200
        )
    token = registry_services.dispute_confirm_token(dispute)
    link = settings.SITE_URL + reverse("dispute_confirm", args=[token])
    registry_services.dispute_confirm_link_send(dispute=dispute, link=link)
    return render(
        request, "requests_app/dispute_sent.html", {"email": email, "hours": settings.DISPUTE_CONFIRM_HOURS}
    )


@require_http_methods(["GET", "POST"])
def dispute_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button, POST confirms: a mail scanner that follows links confirms nothing."""
    if request.method != "POST":
        return render(request, "requests_app/dispute_confirm.html", {})
    try:
        dispute = registry_services.dispute_confirm(token=token)
    except registry_services.DisputeRefused as exc:
        return render(request, "requests_app/dispute_confirm.html", {"error": exc.message}, status=400)
    return render(request, "requests_app/dispute_confirm.html", {"dispute": dispute})


@require_http_methods(["GET", "POST"])
@artist_required
def request_dispute(request: ArtistRequest, reference: str, dispute_id: str) -> HttpResponse:
    ticket = selectors.request_for_artist(request.user, reference)
    dispute = selectors.disputes_of_ticket(ticket).filter(public_id=dispute_id).first()
    if dispute is None:
        raise Http404(_("This request has no such dispute."))
    form = DisputeAnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.dispute_artist_answer(
                ticket=ticket,
                dispute_id=dispute.public_id,
                body=form.cleaned_data["body"],
                links=links_from_lines(form.cleaned_data["links"]),
                actor=request.user,
            )
        except ActionRefused as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        else:
            messages.success(request, _("Your answer is sent; a moderator will decide."))
            return redirect(reverse("request_detail", args=[ticket.reference]) + "#disputes")
    answers = [m for m in dispute.messages.all() if m.author == DisputeAuthor.REQUESTER]
    return render(
        request,
        "requests_app/request_dispute.html",
        {
            "ticket": ticket,
            "dispute": dispute,
            "form": form,
            "answers": answers,
            "answerable": dispute.state in (DisputeState.OPEN, DisputeState.ANSWERED),
            "links": [(url, selectors.safe_href(url)) for url in dispute.links],
            "item_href": selectors.safe_href(dispute.removal.url or ""),
        },
    )
