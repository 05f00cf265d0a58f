"""The portfolio: every work of the artist, where each was found, filters with their counts, and
the selection that starts a request, joins an editable one or goes back to the portfolio."""

from __future__ import annotations

import contextlib

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core.text import parse_id, text_problem
from registry.models import RemovalReason

from .. import portfolio, services
from ..forms import ConsentForm
from ..models import ArtistProfile, HashState, RemovalRequest, Work
from ..portfolio import FilterInvalid, PortfolioFilter
from ._common import REFUSED, ArtistRequest, _artist, _detail_url, artist_required

# At most this many boxes ticked by hand in one form; more is "every work matching the filter".
MAX_TICKED = 10_000


def filter_refused(request: ArtistRequest, message: str, back: str) -> HttpResponse:
    """A filter or selection the page cannot use: a 400 that says why and links back."""
    return render(request, "requests_app/filter_invalid.html", {"message": message, "back": back}, status=400)


@require_GET
@never_cache
@artist_required
def portfolio_page(request: ArtistRequest) -> HttpResponse:
    return _portfolio_page(request)


def _portfolio_page(request: ArtistRequest, consent_form: ConsentForm | None = None) -> HttpResponse:
    artist = _artist(request)
    try:
        flt = portfolio.filter_parse(request.GET)
    except FilterInvalid as exc:
        return filter_refused(request, str(exc), reverse("portfolio"))
    base = portfolio.works_of(artist)
    with portfolio.reads_planned():
        works = portfolio.works_filtered(base, flt).select_related("request")
        page = Paginator(works, portfolio.PAGE_SIZE).get_page(_page_number(request))
        rows = portfolio.page_rows(list(page.object_list))
        counts = portfolio.filter_counts(base, flt)
        references = portfolio.references_of(artist)
        editable = portfolio.editable_requests_of(artist)
        within_ticket = _editable_ticket(artist.pk, flt.within)
    for row in rows:
        if row.work.hash_state == HashState.FAILED and row.work.hash_error:
            row.work.hash_error = _(row.work.hash_error)  # the fixed messages are in the catalogue
    return render(
        request,
        "requests_app/portfolio.html",
        {
            "filter": flt,
            "page": page,
            "rows": rows,
            "counts": counts,
            "states": [(key, label, counts.states[key]) for key, label in portfolio.STATES.items()],
            "references": references,
            "editable": editable,
            "bases": RemovalReason.choices,
            "within_ticket": within_ticket,
            "page_query": flt.query(),
            "default_consent": artist.default_consent(),
            "consent_form": consent_form or ConsentForm(initial=portfolio_consent_initial(artist)),
        },
    )


def portfolio_consent_initial(artist: ArtistProfile) -> dict[str, str]:
    return {
        "choice": artist.default_choice,
        "licence": artist.default_licence,
        "licence_url": artist.default_licence_url if artist.default_licence == "custom" else "",
        "attribution": artist.default_attribution,
    }


@require_POST
@artist_required
def portfolio_choice(request: ArtistRequest) -> HttpResponse:
    """The portfolio's default choice: where new requests start and what works in no request follow."""
    artist = _artist(request)
    form = ConsentForm(request.POST)
    if form.is_valid():
        try:
            changed = services.portfolio_choice_set(actor=request.user, artist=artist, **form.cleaned_data)
        except REFUSED as exc:
            field = getattr(exc, "field", "")
            form.add_error(field if field in form.fields else None, str(exc))
        else:
            messages.success(
                request,
                _("Your portfolio's default choice is saved: new requests start from it.")
                if changed
                else _("Nothing changed: that was your choice already."),
            )
            return redirect(reverse("portfolio") + "#default-choice")
    for name in form.errors:
        if name in form.fields:
            form.fields[name].widget.attrs["autofocus"] = True
            break
    # A refused form comes back with 200, as every form of the site does (the browser shows it).
    return _portfolio_page(request, consent_form=form)


def _page_number(request: ArtistRequest) -> str:
    """The page asked for: Paginator.get_page shows the first page for what is not a number and
    the last one for a number past the end (page=10**30 included)."""
    return request.GET.get("page", "1")


def _editable_ticket(artist_id: int, reference: str) -> RemovalRequest | None:
    """The request the "in" filter names when it can still give works back to the portfolio."""
    if not reference.startswith("RR-"):
        return None
    ticket = RemovalRequest.objects.filter(artist_id=artist_id, reference=reference).first()
    return ticket if ticket is not None and ticket.status in portfolio.EDITABLE else None


def _selection(request: ArtistRequest, base: QuerySet[Work], *, in_request: bool) -> QuerySet[Work]:
    """The works the form selected: every one matching the sent filter, or the boxes ticked."""
    if request.POST.get("all") == "1":
        flt = portfolio.filter_parse(request.POST, in_request=in_request)
        return portfolio.works_filtered(base, flt)
    raw = request.POST.getlist("work")
    if len(raw) > MAX_TICKED:
        raise FilterInvalid(
            _("Tick at most %(count)d works, or select every work matching the filter.")
            % {"count": MAX_TICKED}
        )
    ids = [parse_id(value) for value in raw]
    if any(i is None for i in ids):
        raise FilterInvalid(
            _("The selection holds something that is not a work; reload the page and try again.")
        )
    return base.filter(pk__in=[i for i in ids if i is not None])


@require_POST
@artist_required
def portfolio_selection(request: ArtistRequest) -> HttpResponse:
    """One action on a selection: start a request, add to one, or take back from one."""
    artist = _artist(request)
    action = request.POST.get("action", "")
    target_ref = request.POST.get("remove_from" if action == "remove" else "target", "")
    from_request = request.POST.get("from") == "request"
    back = reverse("portfolio")
    for value in (action, target_ref):
        problem = text_problem(value)
        if problem:
            return filter_refused(
                request, _("This form was altered: a value %(problem)s.") % {"problem": problem}, back
            )
    target = None
    if action in ("add", "remove"):
        target = (
            RemovalRequest.objects.filter(artist=artist, reference=target_ref).first() if target_ref else None
        )
        if target is None:
            return filter_refused(request, _("Choose one of your requests."), back)
        if from_request:
            back = _detail_url(target, "works")
    elif action != "start":
        return filter_refused(request, _("Choose what to do with the selected works."), back)
    base = portfolio.works_of(artist)
    if from_request and target is not None:
        base = base.filter(request=target)
    try:
        works = _selection(request, base, in_request=from_request)
    except FilterInvalid as exc:
        return filter_refused(request, str(exc), back)
    if not from_request:
        with contextlib.suppress(FilterInvalid):
            back = reverse("portfolio") + _query_back(portfolio.filter_parse(request.POST))
    try:
        if action == "start":
            basis = request.POST.get("basis", "")
            if basis not in RemovalReason.values:
                return filter_refused(request, _("Choose the basis of the new request."), back)
            result = services.portfolio_request_start(
                artist=artist, actor=request.user, works=works, basis=basis
            )
            back = _detail_url(result.ticket, "works")
        elif action == "add" and target is not None:
            result = services.portfolio_works_add(ticket=target, actor=request.user, works=works)
        elif target is not None:
            result = services.portfolio_works_remove(ticket=target, actor=request.user, works=works)
    except REFUSED as exc:
        messages.error(request, str(exc))
        return redirect(back)
    _report(request, action, result)
    return redirect(back)


def _query_back(flt: PortfolioFilter) -> str:
    query = flt.query()
    return f"?{query}" if query else ""


def _report(request: ArtistRequest, action: str, result: services.SelectionMoved) -> None:
    reference = result.ticket.reference
    if action == "remove":
        text = ngettext(
            "%(count)d work taken out of %(reference)s; it stays in your portfolio.",
            "%(count)d works taken out of %(reference)s; they stay in your portfolio.",
            result.moved,
        )
    elif action == "start":
        text = ngettext(
            "Request %(reference)s started with %(count)d work.",
            "Request %(reference)s started with %(count)d works.",
            result.moved,
        )
    else:
        text = ngettext(
            "%(count)d work added to %(reference)s.", "%(count)d works added to %(reference)s.", result.moved
        )
    messages.success(request, text % {"count": result.moved, "reference": reference})
    if result.left_out:
        where = ", ".join(f"{ref} ({n})" for ref, n in result.left_out.items())
        messages.warning(
            request,
            ngettext(
                "%(count)d work was left out: it is already in another request: %(where)s.",
                "%(count)d works were left out: they are already in other requests: %(where)s.",
                result.left_out_count,
            )
            % {"count": result.left_out_count, "where": where},
        )
