"""The artist's domain request: everything under a domain they verified, from every data set."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from registry.preferences import Choice

from .. import selectors, services
from ..forms import DomainRequestForm, ScopeEditForm
from ..services import ActionRefused
from ._common import ArtistRequest, _artist, _detail_url, artist_required

MAX_PREFILLED_LINES = 50


@require_http_methods(["GET", "POST"])
@artist_required
def domain_request_new(request: ArtistRequest) -> HttpResponse:
    """GET `?scope=...&scope=...` fills the lines in (other pages link here with a proposed scope)."""
    artist = _artist(request)
    if request.method == "POST":
        form = DomainRequestForm(request.POST)
        if form.is_valid():
            try:
                ticket = services.domain_request_create(
                    artist=artist,
                    basis=form.cleaned_data["basis"],
                    lines=form.scope_lines(),
                    description=form.cleaned_data["description"],
                    **form.consent_data(),
                )
            except ActionRefused as exc:
                if exc.field in form.fields and exc.field != "scope":
                    form.add_error(exc.field, str(exc))  # the choice: nothing else was checked yet
                else:
                    check = services.scope_lines_check(artist=artist, lines=form.scope_lines())
                    for error in check.errors or [str(exc)]:
                        form.add_error("scope", error)
            else:
                return redirect(_detail_url(ticket))
    else:
        lines = [line.strip() for line in request.GET.getlist("scope")[:MAX_PREFILLED_LINES] if line.strip()]
        # The choice starts as the portfolio's default, or as the page that linked here proposed.
        default = artist.default_consent()
        proposed = request.GET.get("choice", "")
        form = DomainRequestForm(
            initial={
                "scope": "\n".join(line[:2000] for line in lines),
                "choice": proposed if proposed in Choice.values else default.choice,
                "licence": default.licence,
                "licence_url": default.licence_url if default.licence == "custom" else "",
                "attribution": default.attribution,
            }
        )
    proofs = services.verified_domain_proofs(artist)
    return render(
        request,
        "requests_app/domain_request_new.html",
        {"form": form, "domains": [proof.target for proof in proofs]},
        status=200 if not form.errors else 400,
    )


@require_http_methods(["GET", "POST"])
@never_cache
@artist_required
def request_scope_edit(request: ArtistRequest, reference: str) -> HttpResponse:
    """A draft domain request's scope lines: shown as they are, changed when all check out."""
    ticket = selectors.request_for_artist(request.user, reference)
    artist = _artist(request)
    refusal = ""
    if request.method == "POST":
        form = ScopeEditForm(request.POST)
        if form.is_valid():
            try:
                services.request_scopes_set(ticket=ticket, actor=request.user, lines=form.scope_lines())
            except ActionRefused as exc:
                if exc.field == "scope":
                    check = services.scope_lines_check(artist=artist, lines=form.scope_lines())
                    for error in check.errors or [str(exc)]:
                        form.add_error("scope", error)
                else:
                    refusal = str(exc)
            else:
                return redirect(_detail_url(ticket, "scope"))
    else:
        lines = [str(services.scope_of(row)) for row in ticket.scopes.order_by("pk")]
        form = ScopeEditForm(initial={"scope": "\n".join(lines)})
    proofs = services.verified_domain_proofs(artist)
    return render(
        request,
        "requests_app/request_scope_edit.html",
        {"form": form, "ticket": ticket, "domains": [proof.target for proof in proofs], "refusal": refusal},
        status=400 if form.errors or refusal else 200,
    )
