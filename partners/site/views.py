"""Creators claim what a partner platform filed for them, then see it and may lift it.

Served on the site (config/urls.py), for logged-in artists: partners may use the site's parts
(its artist guard, base template, proofs checker and mail), the site never imports partners. A
few lines per view: partners.services.claims holds the claim and the lift; the selector 404s on
another artist's claim.
"""

from __future__ import annotations

import time

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.text import parse_id
from partners import selectors as partner_selectors
from partners import services as partner_services
from partners.models import FilingRow, Partner, PartnerAction, PartnerActionKind
from partners.services.claims import MAX_CREATOR_ID_LENGTH
from registry.preferences import Choice
from requests_app.forms import ConsentForm, OutsideTextForm
from requests_app.selectors import removals_progress
from requests_app.views._common import ArtistRequest, artist_required

ROWS_PER_PAGE = 50
SEND_INTERVAL_SECONDS = 60


class CreatorForm(OutsideTextForm):
    partner = forms.ModelChoiceField(
        label=gettext_lazy("Platform"),
        queryset=Partner.objects.order_by("name"),
        to_field_name="slug",
        empty_label=None,
    )
    creator_id = forms.CharField(
        label=gettext_lazy("Your creator id on that platform"),
        max_length=MAX_CREATOR_ID_LENGTH,
        help_text=gettext_lazy("Usually the name in your profile's address, as the platform shows it."),
    )


def _creator(request: ArtistRequest, form: CreatorForm) -> partner_services.Creator | None:
    if not form.is_valid():
        return None
    try:
        return partner_services.creator_find(
            partner=form.cleaned_data["partner"], creator_id=form.cleaned_data["creator_id"]
        )
    except partner_services.ClaimError as exc:
        form.add_error("creator_id", str(exc))
        return None


def _claims_page(request: ArtistRequest, form: CreatorForm, status: int = 200) -> HttpResponse:
    claims = list(partner_services.claims_of(request.user))
    return render(request, "partners/claims.html", {"claims": claims, "form": form}, status=status)


@require_http_methods(["GET", "POST"])
@artist_required
def claims(request: ArtistRequest) -> HttpResponse:
    """The artist's claims, and the form that finds a creator a platform filed for."""
    if request.method != "POST":
        return _claims_page(request, CreatorForm())
    form = CreatorForm(request.POST)
    creator = _creator(request, form)
    if creator is None:
        return _claims_page(request, form, status=400)
    return render(
        request,
        "partners/claim_new.html",
        {
            "creator": creator,
            "form": form,
            "masked_email": partner_services.masked_email(creator.email) if creator.email else "",
        },
    )


@require_POST
@artist_required
def claim_email(request: ArtistRequest) -> HttpResponse:
    form = CreatorForm(request.POST)
    creator = _creator(request, form)
    if creator is None:
        return _claims_page(request, form, status=400)
    # One email a minute: each press sends mail to an address that is not the account's.
    if time.time() - request.session.get("claim_email_sent_at", 0) < SEND_INTERVAL_SECONDS:
        messages.info(
            request, _("We sent a link less than a minute ago; check that inbox and its spam folder.")
        )
        return redirect("claims")
    try:
        email = partner_services.claim_email_send(profile=request.artist, creator=creator)
    except partner_services.ClaimError as exc:
        form.add_error(None, str(exc))
        return _claims_page(request, form, status=400)
    request.session["claim_email_sent_at"] = time.time()
    messages.success(
        request,
        _("We sent a link to %(email)s. Open it while logged in to this account.")
        % {"email": partner_services.masked_email(email)},
    )
    return redirect("claims")


@require_POST
@artist_required
def claim_profile(request: ArtistRequest) -> HttpResponse:
    form = CreatorForm(request.POST)
    creator = _creator(request, form)
    if creator is None:
        return _claims_page(request, form, status=400)
    try:
        claim = partner_services.claim_start_profile(user=request.user, creator=creator)
    except partner_services.ClaimError as exc:
        form.add_error(None, str(exc))
        return _claims_page(request, form, status=400)
    return redirect("claim_detail", claim_id=claim.pk)


@require_GET
@artist_required
def claim_confirm(request: ArtistRequest, token: str) -> HttpResponse:
    # A GET that changes state: it is the link in an email, and confirming twice changes nothing.
    try:
        claim = partner_services.claim_by_email(user=request.user, token=token)
    except partner_services.ClaimError as exc:
        return render(request, "partners/claim_failed.html", {"reason": str(exc)}, status=400)
    messages.success(
        request,
        _("Claimed: these are the works %(partner)s filed for you.") % {"partner": claim.partner.name},
    )
    return redirect("claim_detail", claim_id=claim.pk)


@require_GET
@artist_required
def claim_detail(request: ArtistRequest, claim_id: int) -> HttpResponse:
    claim = partner_selectors.claim_for_artist(request.user.pk, claim_id)
    if not claim.verified:
        return render(request, "partners/claim_pending.html", {"claim": claim})
    rows = partner_services.claim_rows(claim).order_by("-filing_id", "index")
    page = Paginator(rows, ROWS_PER_PAGE).get_page(request.GET.get("page", "1"))
    on_page = list(page.object_list)
    counts = partner_selectors.rows_removal_counts([row.pk for row in on_page])
    # What the platform asked to change and is not decided yet: a lifted row keeps what it is.
    changes = partner_services.changes_pending(claim, [row.pk for row in on_page if row.lifted_at is None])
    removals = partner_services.claim_removals(claim)
    return render(
        request,
        "partners/claim_detail.html",
        {
            "claim": claim,
            "page": page,
            "rows": [(row, counts.get(row.pk, (0, 0)), changes.get(row.pk, [])) for row in on_page],
            "progress": removals_progress(removals),
            "liftable": partner_services.claim_rows(claim).filter(lifted_at__isnull=True).count(),
            "lifted": partner_services.claim_rows(claim).filter(lifted_at__isnull=False).count(),
        },
    )


@require_POST
@artist_required
def claim_check(request: ArtistRequest, claim_id: int) -> HttpResponse:
    claim = partner_selectors.claim_for_artist(request.user.pk, claim_id)
    try:
        claim, detail = partner_services.claim_profile_check(claim=claim)
    except partner_services.ClaimError as exc:
        messages.error(request, str(exc))
    else:
        if claim.verified:
            messages.success(
                request,
                _("Claimed: these are the works %(partner)s filed for you.")
                % {"partner": claim.partner.name},
            )
        else:
            messages.error(request, detail)
    return HttpResponseRedirect(reverse("claim_detail", args=[claim.pk]))


@require_POST
@artist_required
def claim_lift(request: ArtistRequest, claim_id: int) -> HttpResponse:
    claim = partner_selectors.claim_for_artist(request.user.pk, claim_id)
    if request.POST.get("all"):
        if not request.POST.get("confirm"):
            messages.error(request, _("Tick the box to confirm that every removal is to be lifted."))
            return HttpResponseRedirect(reverse("claim_detail", args=[claim.pk]))
        row_ids = None
    else:
        row_id = parse_id(request.POST.get("row"))
        if row_id is None:
            messages.error(request, _("Choose the work to lift."))
            return HttpResponseRedirect(reverse("claim_detail", args=[claim.pk]))
        row_ids = [row_id]
    try:
        lifted = partner_services.claim_lift(claim=claim, user=request.user, row_ids=row_ids)
    except partner_services.ClaimError as exc:
        messages.error(request, str(exc))
    else:
        if lifted.rows:
            messages.success(
                request,
                _("Lifted %(rows)d work(s): %(removals)d removal(s) revoked; the maintainers are told.")
                % {"rows": lifted.rows, "removals": lifted.removals},
            )
        else:
            messages.info(request, _("Nothing to lift: it was lifted already."))
    return HttpResponseRedirect(reverse("claim_detail", args=[claim.pk]))


def _choice_history(claim_id: int, row_id: int) -> list[tuple[object, str]]:
    """The row's changes of choice, oldest first: the claim's audit rows about it."""
    rows = PartnerAction.objects.filter(
        kind=PartnerActionKind.ROW_CHOICE_CHANGED, object_type="claim", object_id=claim_id, detail__row=row_id
    ).order_by("created_at", "pk")
    labels = dict(Choice.choices)
    out: list[tuple[object, str]] = []
    for a in rows:
        names = {"old": labels.get(a.detail.get("old"), "?"), "new": labels.get(a.detail.get("new"), "?")}
        aside = len(a.detail.get("set_aside") or [])
        kept = (a.detail.get("old"), a.detail.get("old_licence")) == (
            a.detail.get("new"),
            a.detail.get("new_licence"),
        )
        if not aside:
            text = _("From “%(old)s” to “%(new)s”.") % names
        elif kept:
            text = (
                ngettext(
                    "Kept “%(old)s”: the platform's change, not decided yet, was set aside.",
                    "Kept “%(old)s”: the platform's changes, not decided yet, were set aside.",
                    aside,
                )
                % names
            )
        else:
            text = (
                ngettext(
                    "From “%(old)s” to “%(new)s”: the platform's change, not decided yet, was set aside.",
                    "From “%(old)s” to “%(new)s”: the platform's changes, not decided yet, were set aside.",
                    aside,
                )
                % names
            )
        out.append((a.created_at, text))
    return out


def _said(result: partner_services.RowChoiceResult) -> str:
    n = result.set_aside
    if n and not result.changed:
        return ngettext(
            "Your choice stands: the platform's change, not decided yet, will not be applied.",
            "Your choice stands: the platform's changes, not decided yet, will not be applied.",
            n,
        )
    if n and (result.revoked or result.removed or result.granted):
        return ngettext(
            "Your choice is saved and the data set maintainers are told; the platform's change, "
            "not decided yet, will not be applied.",
            "Your choice is saved and the data set maintainers are told; the platform's changes, "
            "not decided yet, will not be applied.",
            n,
        )
    if n:
        return ngettext(
            "Your choice is saved; the platform's change, not decided yet, will not be applied.",
            "Your choice is saved; the platform's changes, not decided yet, will not be applied.",
            n,
        )
    if not result.changed:
        return _("Nothing changed: that was your choice already.")
    if result.revoked or result.removed or result.granted:
        return _("Your choice is saved and the data set maintainers are told.")
    return _("Your choice is saved.")


@require_http_methods(["GET", "POST"])
@artist_required
def claim_row_choice(request: ArtistRequest, claim_id: int, row_id: int) -> HttpResponse:
    """What AI may do with one work a platform filed for the creator: the choice the platform sent,
    changed here (its removals or licence grants restated at the registry)."""
    claim = partner_selectors.claim_for_artist(request.user.pk, claim_id)
    if not claim.verified:
        return redirect("claim_detail", claim_id=claim.pk)
    row: FilingRow | None = partner_services.claim_rows(claim).filter(pk=row_id).first()
    if row is None:
        raise Http404(_("This work is not among those filed for you."))
    consent = partner_services.row_consent(row)
    initial = {
        "choice": consent.choice,
        "licence": consent.licence,
        "licence_url": consent.licence_url if consent.licence == "custom" else "",
        "attribution": consent.attribution,
    }
    form = ConsentForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                result = partner_services.claim_row_choice_set(
                    claim=claim, user=request.user, row_id=row.pk, **form.cleaned_data
                )
            except partner_services.ClaimError as exc:
                form.add_error(None, str(exc))
            else:
                said = _said(result)
                if result.changed or result.set_aside:
                    messages.success(request, said)
                else:
                    messages.info(request, said)
                return HttpResponseRedirect(reverse("claim_detail", args=[claim.pk]) + "#rows")
        status = 400
    return render(
        request,
        "partners/claim_row_choice.html",
        {
            "claim": claim,
            "row": row,
            "consent": consent,
            "form": form,
            "action": reverse("claim_row_choice", args=[claim.pk, row.pk]),
            "closed": row.lifted_at is not None,
            "changes": []
            if row.lifted_at
            else partner_services.changes_pending(claim, [row.pk]).get(row.pk, []),
            "history": _choice_history(claim.pk, row.pk),
        },
        status=status,
    )
