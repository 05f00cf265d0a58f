"""What the artist's pages share: the artist guard, the request page and the upload step.

Views are a few lines each: they read through selectors (which 404 on
another artist's request), change state only through services, and show
a refused action's message to the person who asked.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import portfolio, selectors, services
from ..forms import (
    ArtistReplyForm,
    ConsentForm,
    SubmitForm,
    WithdrawForm,
    WorksAddForm,
    split_description,
)
from ..models import (
    ArtistProfile,
    HashState,
    Match,
    MatchState,
    RemovalRequest,
    Work,
)
from ..services import ActionRefused
from ..workflow import EDITABLE, REACHES_REGISTRY, RELEASED, TRANSITIONS, Status, TransitionNotAllowed

View = Callable[..., HttpResponseBase]  # streamed responses (CSV) too


class ArtistRequest(HttpRequest):
    """The request of a view behind artist_required: its user is logged in and has an artist profile.

    Typed so that views pass request.user and request.artist on without casts (as healthchecks
    types its AuthenticatedHttpRequest); artist_required is what makes the annotation true.
    """

    user: User
    artist: ArtistProfile


# The refusals a person can act on: shown to them, never a server error.
REFUSED = (ActionRefused, TransitionNotAllowed)
STATUS_REFRESH_SECONDS = 3


# --- guards -----------------------------------------------------------------


def artist_required(view: View) -> View:
    """Logged in, with an artist profile: staff accounts without one get a page that says so."""

    @login_required
    @wraps(view)
    def wrapper(request: ArtistRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            request.artist = request.user.artist
        except ObjectDoesNotExist:
            return render(request, "requests_app/not_an_artist.html", status=403)
        _remember_language(request)
        return view(request, *args, **kwargs)

    return wrapper


def _remember_language(request: ArtistRequest) -> None:
    """Emails follow the language the artist last used on their pages.

    Checked here, on every artist page, rather than in the set_language view: it costs a
    comparison (one UPDATE when it changed), covers every way the language is chosen (the
    switcher's cookie, the browser's Accept-Language), and set_language returns the artist
    to the page they were on, which passes through here.
    """
    language = getattr(request, "LANGUAGE_CODE", "") or translation.get_language() or ""
    services.profile_remember_language(profile=request.artist, language=language)


def _artist(request: ArtistRequest) -> ArtistProfile:
    return request.artist


def _works_add(
    request: ArtistRequest, ticket: RemovalRequest, files: list[Any], zip_file: Any = None
) -> HttpResponse:
    added = services.WorksAdded(works=[], errors=[])
    batch = uuid.uuid4().hex  # the images and the zip of one form: one timeline row
    try:
        if files:
            added = services.works_add(ticket=ticket, actor=request.user, files=files, batch=batch)
        if zip_file is not None:
            from_zip = services.works_add_zip(
                ticket=ticket,
                actor=request.user,
                upload=zip_file,
                batch=batch,
            )
            added.works += from_zip.works
            added.errors += from_zip.errors
    except ActionRefused as exc:
        messages.error(request, str(exc))
        request.session[_upload_errors_key(ticket)] = [[e.name, e.message] for e in added.errors]
        return redirect(_detail_url(ticket, "works"))
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
    request.session[_upload_errors_key(ticket)] = [[e.name, e.message] for e in added.errors]
    return redirect(_detail_url(ticket, "works"))


def _upload_errors_key(ticket: RemovalRequest) -> str:
    return f"upload_errors:{ticket.reference}"


def _detail_url(ticket: RemovalRequest, anchor: str = "") -> str:
    url = reverse("request_detail", args=[ticket.reference])
    return f"{url}#{anchor}" if anchor else url


_CHOICE_OF_STATE: dict[str, str] = {
    MatchState.CONFIRMED: "mine",
    MatchState.APPROVED: "mine",
    MatchState.EXCLUDED: "not_mine",
    MatchState.SUGGESTED: "undecided",
}


@dataclass(frozen=True)
class MatchRow:
    """One match on the request page: its link (when safe), the artist's choice and its error."""

    match: Match
    href: str
    choice: str
    error: str


@dataclass(frozen=True)
class WorkMatches:
    """A work and the rows of its matches, in the page's "copies found" section."""

    work: Work
    matches: list[MatchRow]


def _render_detail(
    request: ArtistRequest,
    ticket: RemovalRequest,
    *,
    choices: dict[int, str] | None = None,
    choice_errors: dict[int, str] | None = None,
    matches_error: str = "",
    works_filter: portfolio.PortfolioFilter | None = None,
    page_number: str = "1",
    **forms: Any,
) -> HttpResponse:
    """The request's page; a refused form comes back here with what the artist entered and the
    error beside its control (`choices`, `choice_errors`, `matches_error`, or a bound form).

    Its works are listed a page at a time (`works_filter`, `page_number`: the portfolio's filters),
    with the copies found of that page's works; the counts cover the whole request.
    """
    works_filter = works_filter or portfolio.PortfolioFilter()
    with portfolio.reads_planned():
        filtered = portfolio.works_filtered(ticket.works.all(), works_filter, order="id")
        page = Paginator(filtered, portfolio.PAGE_SIZE).get_page(page_number)
        works = list(
            filtered.filter(pk__in=[w.pk for w in page.object_list]).prefetch_related(
                Prefetch("matches", queryset=Match.objects.select_related("item__dataset__maintainer"))
            )
        )
        totals = Work.objects.filter(request=ticket).aggregate(
            all=Count("pk"),
            pending=Count("pk", filter=Q(hash_state=HashState.PENDING)),
        )
        matched = Match.objects.filter(work__request=ticket).aggregate(
            all=Count("pk"), confirmed=Count("pk", filter=Q(state=MatchState.CONFIRMED))
        )
        # A big request (or a filtered one) shows the portfolio's filters over its works.
        paged = int(totals["all"]) > portfolio.PAGE_SIZE or works_filter.active
        counts = portfolio.filter_counts(ticket.works.all(), works_filter) if paged else None
    choices, choice_errors = choices or {}, choice_errors or {}
    match_groups = [
        WorkMatches(
            work=work,
            matches=[
                MatchRow(
                    match=match,
                    href=selectors.safe_href(match.item.url),
                    choice=choices.get(match.pk) or _CHOICE_OF_STATE.get(match.state, "undecided"),
                    error=choice_errors.get(match.pk, ""),
                )
                for match in work.matches.all()
            ],
        )
        for work in works
    ]
    for work in works:
        if work.hash_state == HashState.FAILED and work.hash_error:
            # Stored in English by the hashing worker; the fixed messages (no file-specific
            # detail in them) are in the catalogue and shown in the page's language. Never saved.
            work.hash_error = _(work.hash_error)
    any_pending = bool(totals["pending"])
    match_count = int(matched["all"])
    confirmed = int(matched["confirmed"])
    key = _upload_errors_key(ticket)
    upload_errors = request.session.get(key, []) if any_pending else request.session.pop(key, [])
    req_status = ticket.status
    editable = req_status in EDITABLE
    approved = req_status in REACHES_REGISTRY
    description, page_urls = split_description(ticket.description)
    language = translation.get_language() or settings.LANGUAGE_CODE
    submit_form = forms.get("submit_form") or SubmitForm(initial={"language": language})
    for form in forms.values():
        # A form that comes back with errors: focus (and so scroll to) its first field in error.
        for name in getattr(form, "errors", {}):
            if name in getattr(form, "fields", {}):
                form.fields[name].widget.attrs["autofocus"] = True
                break
    context = {
        "ticket": ticket,
        "description": description,
        "page_urls": [(url, selectors.safe_href(url)) for url in page_urls],
        "reply_form": (forms.get("reply_form") or ArtistReplyForm())
        if req_status != Status.WITHDRAWN
        else None,
        "works": works,
        "works_page": page,
        "works_total": int(totals["all"]),
        "works_filter": works_filter,
        "works_query": works_filter.query(),
        "works_paged": paged,
        "works_counts": counts,
        "works_states": [(key, label, counts.states[key]) for key, label in portfolio.STATES.items()]
        if counts
        else [],
        "match_groups": [group for group in match_groups if group.matches],
        "any_pending": any_pending,
        "pending_count": int(totals["pending"]),
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
        # The request's default choice: shown until the request is closed without effect.
        "consent_form": (
            forms.get("consent_form")
            or ConsentForm(
                initial={
                    "choice": ticket.choice,
                    "licence": ticket.licence,
                    "licence_url": ticket.licence_url if ticket.licence == "custom" else "",
                    "attribution": ticket.attribution,
                }
            )
        )
        if req_status not in RELEASED
        else None,
        "choice_ticket": ticket if req_status not in RELEASED else None,
        "matches_error": matches_error,
        "first_choice_error": next((pk for pk in choices if pk in choice_errors), None),
        "statement": services.statement_text(submit_form["language"].value() or language),
        "statement_language": submit_form["language"].value() or language,
        "timeline": selectors.public_timeline(ticket),
        "progress": selectors.receipt_progress(ticket.reference or "") if approved else [],
        "held_works": selectors.held_works_count(ticket) if approved else 0,
        "max_files": settings.UPLOAD_MAX_FILES,
        "scope_rows": selectors.scope_rows(ticket),
        "disputes": list(selectors.disputes_of_ticket(ticket))
        if approved and selectors.ticket_has_disputes(ticket)
        else [],
    }
    return render(request, "requests_app/request_detail.html", context)
