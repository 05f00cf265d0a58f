"""The artist's domain request: everything under a domain they verified, from every data set."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from .. import services
from ..forms import DomainRequestForm
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
                )
            except ActionRefused:
                check = services.scope_lines_check(artist=artist, lines=form.scope_lines())
                for error in check.errors:
                    form.add_error("scope", error)
            else:
                return redirect(_detail_url(ticket))
    else:
        lines = [line.strip() for line in request.GET.getlist("scope")[:MAX_PREFILLED_LINES] if line.strip()]
        form = DomainRequestForm(initial={"scope": "\n".join(line[:2000] for line in lines)})
    proofs = services.verified_domain_proofs(artist)
    return render(
        request,
        "requests_app/domain_request_new.html",
        {"form": form, "domains": [proof.target for proof in proofs]},
        status=200 if not form.errors else 400,
    )
