"""The artist's choice of what AI may do with their works: per request (the default) and per work."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import selectors, services, timeline
from ..forms import ConsentForm
from ..models import RemovalRequest, Work
from ..workflow import RELEASED
from ._common import REFUSED, ArtistRequest, _detail_url, _render_detail, artist_required


def consent_initial(row: Work | RemovalRequest) -> dict[str, str]:
    return {
        "choice": row.choice,
        "licence": row.licence,
        "licence_url": row.licence_url if row.licence == "custom" else "",
        "attribution": row.attribution,
    }


def _said(result: services.ChoiceResult) -> str:
    if not result.changed:
        return _("Nothing changed: that was your choice already.")
    if result.revoked or result.removed or result.granted:
        return _("Your choice is saved and the data set maintainers are told.")
    return _("Your choice is saved.")


def work_choice_history(ticket: RemovalRequest, work: Work) -> list[tuple[object, str]]:
    """The work's receipt of choices: its own changes and the request's default changes, oldest
    first, each as (time, sentence in the reader's language)."""
    rows = ticket.events.filter(params__text="choice_changed").filter(
        Q(params__work=work.pk) | Q(params__work__isnull=True)
    )
    return [(row.created_at, timeline.event_text(row)) for row in rows.order_by("created_at", "pk")]


@require_POST
@artist_required
def request_choice(request: ArtistRequest, reference: str) -> HttpResponse:
    ticket = selectors.request_for_artist(request.user, reference)
    form = ConsentForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, ticket, consent_form=form)
    try:
        result = services.request_choice_set(actor=request.user, ticket=ticket, **form.cleaned_data)
    except REFUSED as exc:
        field = getattr(exc, "field", "")
        form.add_error(field if field in form.fields else None, str(exc))
        ticket.refresh_from_db()
        return _render_detail(request, ticket, consent_form=form)
    messages.success(request, _said(result))
    return redirect(_detail_url(ticket) + "#choice")


@artist_required
def work_choice(request: ArtistRequest, reference: str, work_id: int) -> HttpResponse:
    """One work's own choice (GET: the form; POST: save it). "As the request" clears it."""
    ticket = selectors.request_for_artist(request.user, reference)
    work = get_object_or_404(Work, pk=work_id, request=ticket)
    form = ConsentForm(initial=consent_initial(work) if work.choice else consent_initial(ticket))
    if request.method == "POST":
        form = ConsentForm(request.POST)
        if form.is_valid():
            try:
                result = services.work_choice_set(actor=request.user, work=work, **form.cleaned_data)
            except REFUSED as exc:
                field = getattr(exc, "field", "")
                form.add_error(field if field in form.fields else None, str(exc))
            else:
                messages.success(request, _said(result))
                return redirect(_detail_url(ticket) + f"#work-{work.pk}")
        # A refused form comes back with 200, as every form of the site does (the browser shows it).
        for name in form.errors:
            if name in form.fields:
                form.fields[name].widget.attrs["autofocus"] = True
                break
    context = {
        "ticket": ticket,
        "work": work,
        "form": form,
        "closed": ticket.status in RELEASED,
        "action": reverse("work_choice", args=[ticket.reference, work.pk]),
        "history": work_choice_history(ticket, work),
    }
    return render(request, "requests_app/work_choice.html", context)
