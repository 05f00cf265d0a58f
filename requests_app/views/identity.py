"""The artist's identity page: their proofs, how to make each one, and "check now".

Plus the one page moderators use outside the admin: an identity document,
decrypted and streamed to them only.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import proofs, selectors, services
from ..forms import OutsideTextForm
from ..models import AUTOMATIC_METHODS, ProofMethod, ProofStatus
from ._common import ArtistRequest, _artist, artist_required

AUTOMATIC_CHOICES = [(m.value, m.label) for m in ProofMethod if m in AUTOMATIC_METHODS]


class ProofStartForm(OutsideTextForm):
    method = forms.ChoiceField(
        label=gettext_lazy("How will you prove it?"), choices=AUTOMATIC_CHOICES, widget=forms.RadioSelect
    )
    target = forms.CharField(
        label=gettext_lazy("Your domain, or the address of your profile page"),
        max_length=500,
        help_text=gettext_lazy("A domain such as example.com, or a full profile URL for a link-back."),
    )


class DocumentForm(OutsideTextForm):
    description = forms.CharField(
        label=gettext_lazy("What is it?"),
        max_length=400,
        help_text=gettext_lazy("For example: passport, or the contract with my publisher."),
    )
    document = forms.FileField(
        label=gettext_lazy("Document (PDF, PNG or JPEG)"),
        help_text=gettext_lazy("Encrypted when stored, seen by moderators only, deleted after the review."),
    )


@require_GET
@artist_required
def identity(request: ArtistRequest) -> HttpResponse:
    profile = _artist(request)
    return render(
        request,
        "requests_app/identity.html",
        {
            "profile": profile,
            "proofs": list(profile.proofs.order_by("-created_at")),
            "email_verified": services.email_is_verified(profile),
            "start_form": ProofStartForm(),
            "document_form": DocumentForm(),
        },
    )


@require_http_methods(["POST"])
@artist_required
def identity_proof_new(request: ArtistRequest) -> HttpResponse:
    profile = _artist(request)
    if request.POST.get("kind") == "document":
        document_form = DocumentForm(request.POST, request.FILES)
        if document_form.is_valid():
            try:
                services.proof_document_upload(
                    artist=profile,
                    upload=document_form.cleaned_data["document"],
                    description=document_form.cleaned_data["description"],
                )
            except services.ActionRefused as exc:
                document_form.add_error("document", str(exc))
            else:
                messages.success(request, _("Document received; a moderator will review it."))
                return redirect("identity")
        start_form = ProofStartForm()
    else:
        start_form = ProofStartForm(request.POST)
        if start_form.is_valid():
            try:
                proof = services.proof_start(
                    artist=profile,
                    method=start_form.cleaned_data["method"],
                    target=start_form.cleaned_data["target"],
                )
            except services.ActionRefused as exc:
                start_form.add_error("target", str(exc))
            else:
                return redirect("identity_proof", proof_id=proof.pk)
        document_form = DocumentForm()
    return render(
        request,
        "requests_app/identity.html",
        {
            "profile": profile,
            "proofs": list(profile.proofs.order_by("-created_at")),
            "email_verified": services.email_is_verified(profile),
            "start_form": start_form,
            "document_form": document_form,
        },
        status=400,
    )


@require_GET
@artist_required
def identity_proof(request: ArtistRequest, proof_id: int) -> HttpResponse:
    proof = selectors.proof_for_artist(request.user, proof_id)
    return render(
        request,
        "requests_app/identity_proof.html",
        {
            "proof": proof,
            "txt_value": proofs.TXT_PREFIX + proof.token,
            "txt_name": proofs.domain_of(proof),
            "meta_name": proofs.META_NAME,
            "well_known_url": proofs.well_known_url(proof) if proofs.domain_of(proof) else "",
            "home_url": proofs.home_url(proof) if proofs.domain_of(proof) else "",
            "checkable": proof.is_automatic and proof.status != ProofStatus.EXPIRED,
            "deletable": proof.status in (ProofStatus.FAILED, ProofStatus.EXPIRED),
            "signals_available": not selectors.site_signals_refusal(proof),
        },
    )


@require_POST
@artist_required
def identity_proof_check(request: ArtistRequest, proof_id: int) -> HttpResponse:
    proof = selectors.proof_for_artist(request.user, proof_id)
    try:
        proof = services.proof_check(proof=proof, actor=request.user)
    except services.ActionRefused as exc:
        messages.error(request, str(exc))
    else:
        if proof.status == ProofStatus.VERIFIED:
            messages.success(request, _("Verified. Keep the token in place: we check it again regularly."))
        # Otherwise the proof's page shows what the check found, once, with when it ran.
    return HttpResponseRedirect(reverse("identity_proof", args=[proof.pk]))


@require_POST
@artist_required
def identity_proof_delete(request: ArtistRequest, proof_id: int) -> HttpResponse:
    proof = selectors.proof_for_artist(request.user, proof_id)  # 404 if not theirs
    what = f"{proof.get_method_display()}: {proof.target}"
    try:
        services.proof_delete(proof=proof, actor=request.user)
    except services.ActionRefused as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(reverse("identity_proof", args=[proof.pk]))
    messages.success(request, _("Proof deleted (%(what)s).") % {"what": what})
    return redirect("identity")


@never_cache
@require_GET
def identity_document(request: HttpRequest, proof_id: int) -> HttpResponse:
    """Moderators only (404 for everyone else, its artist included): decrypted, never cached."""
    proof = selectors.document_for_moderator(request.user, proof_id)
    try:
        data = services.proof_document_read(proof=proof)
    except services.ActionRefused as exc:
        return HttpResponse(str(exc), status=410, content_type="text/plain; charset=utf-8")
    response = HttpResponse(data, content_type=proof.document_content_type or "application/octet-stream")
    response["Content-Disposition"] = f'inline; filename="document-{proof.pk}"'
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    return response
