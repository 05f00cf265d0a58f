"""What your site already says: robots.txt, ai.txt and tdmrep.json of a verified domain.

The page shows what was read last time (never fetching on a GET), a button to read the site
again, and a link that opens a domain request with the scope the files reserve. Its companion,
the publish page, writes those files the other way round: what to put on the site so crawlers
honour the artist's choice without asking us (site_signals.publish).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from .. import selectors, services, site_signals
from ..models import IdentityProof, SiteSignals
from ..site_signals import publish
from ._common import ArtistRequest, artist_required

# The domain request page (views/domains.py) takes its scope lines from ?scope=LINE&scope=LINE.
# Servers commonly refuse request lines over 8 KB: the link carries the lines that fit.
LINK_MAX_CHARS = 8000


def domain_request_url(scope: list[str]) -> tuple[str, int]:
    """The domain request page with as many of `scope` as fit in a link, and how many those are."""
    base = reverse("domain_request_new")
    pairs: list[str] = []
    length = len(base) + 1
    for line in scope:
        pair = urlencode([("scope", line)])
        if length + len(pair) > LINK_MAX_CHARS:
            break
        pairs.append(pair)
        length += len(pair) + 1
    return (f"{base}?{'&'.join(pairs)}" if pairs else base), len(pairs)


def _files(record: SiteSignals | None) -> list[dict[str, Any]]:
    """Each file as the template shows it, its findings worded in the active language."""
    if record is None:
        return []
    shown = []
    for file in site_signals.FILES:
        data = record.files.get(file.key) or {}
        label = file.label

        def words(findings: list[dict[str, Any]], label: str = label) -> list[str]:
            return [site_signals.describe(f, file_label=label) for f in findings]

        shown.append(
            {
                "key": file.key,
                "label": label,
                "status": data.get("status", site_signals.UNREACHABLE),
                "url": data.get("url", ""),
                "error": site_signals.describe(data["error"], file_label=label) if data.get("error") else "",
                "scope": data.get("scope", []),
                "more_scope": data.get("more_scope", 0),
                "notes": words(data.get("notes", [])),
                "more_notes": data.get("more_notes", 0),
                "problems": words(data.get("problems", [])),
                "more_problems": data.get("more_problems", 0),
            }
        )
    return shown


def _page(request: ArtistRequest, proof: IdentityProof, *, status: int = 200) -> HttpResponse:
    refusal = selectors.site_signals_refusal(proof)
    record = None if refusal else selectors.site_signals_of(proof)
    scope = list(record.scope) if record else []
    link, carried = domain_request_url(scope)
    return render(
        request,
        "requests_app/site_signals.html",
        {
            "proof": proof,
            "refusal": refusal,
            "record": record,
            "files": _files(record),
            "scope": scope,
            "domain_request_url": link,
            "carried": carried,
            "scope_total": record.scope_total if record else 0,
            "host": proof.target.split(":", 1)[0],
            "agents": site_signals.AI_TRAINING_AGENTS,
        },
        status=403 if refusal else status,
    )


@require_GET
@artist_required
def site_signals_page(request: ArtistRequest, proof_id: int) -> HttpResponse:
    return _page(request, selectors.proof_for_artist(request.user, proof_id))


@require_POST
@artist_required
def site_signals_fetch(request: ArtistRequest, proof_id: int) -> HttpResponse:
    proof = selectors.proof_for_artist(request.user, proof_id)
    if selectors.site_signals_refusal(proof):
        return _page(request, proof)
    try:
        services.site_signals_fetch(proof=proof, actor=request.user)
    except services.ActionRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("We read your site again; here is what it says."))
    return HttpResponseRedirect(reverse("site_signals", args=[proof.pk]))


# A domain request's choice (registry.preferences.Choice) as the publish page's preference.
DOMAIN_CHOICE_PREFERENCE = {"remove": "reserve", "search_only": "search-only", "licence": "allow"}

# The files the publish page offers as downloads: ?download=KEY.
DOWNLOADS = {
    "robots.txt": ("robots_txt", "text/plain"),
    "headers.txt": ("headers", "text/plain"),
    "tdmrep.json": ("tdmrep_json", "application/json"),
    "ai.txt": ("ai_txt", "text/plain"),
}


@require_GET
@artist_required
def site_signals_publish(request: ArtistRequest, proof_id: int) -> HttpResponse:
    """What to publish on a verified domain for a preference and a path (a GET form: links to
    the page keep the choice), each text shown to copy and offered as a download."""
    proof = selectors.proof_for_artist(request.user, proof_id)
    refusal = selectors.site_signals_refusal(proof)
    # Unasked, the page starts from the choice of the artist's domain request for this domain.
    default = DOMAIN_CHOICE_PREFERENCE.get(selectors.domain_choice_of(proof), "reserve")
    choice = request.GET.get("preference", default)
    if choice not in publish.PREFERENCES:
        choice = default
    path = request.GET.get("path", "/")
    error, texts = "", None
    if not refusal:
        try:
            texts = publish.snippets(publish.PREFERENCES[choice], path=path)
        except publish.PublishRefused as exc:
            error = str(exc)
    download = request.GET.get("download", "")
    if texts is not None and download in DOWNLOADS:
        field, content_type = DOWNLOADS[download]
        response = HttpResponse(getattr(texts, field), content_type=f"{content_type}; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{download}"'
        return response
    host = proof.target.split(":", 1)[0]
    return render(
        request,
        "requests_app/site_publish.html",
        {
            "proof": proof,
            "refusal": refusal,
            "error": error,
            "choice": choice,
            "path": path,  # shown back as typed: a shortened one would be sent again shortened
            "texts": texts,
            "host": host,
            "query": urlencode({"preference": choice, "path": path}),
        },
        status=403 if refusal else (400 if error else 200),
    )
