"""The artist's account: sign up, log in, confirm the email address, rename, export, delete."""

from __future__ import annotations

import json
import time
from typing import Any

from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.text import text_problem

from .. import services
from ..forms import (
    AccountDeleteForm,
    AccountNameForm,
    EmailAuthenticationForm,
    SignupForm,
)
from ..services import ActionRefused
from ._common import (
    ArtistRequest,
    _artist,
    artist_required,
)

RESEND_INTERVAL_SECONDS = 60


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
def verify_email_resend(request: ArtistRequest) -> HttpResponse:
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


def _account_page(request: ArtistRequest, **forms: Any) -> HttpResponse:
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
def account(request: ArtistRequest) -> HttpResponse:
    return _account_page(request)


@require_POST
@artist_required
def account_name(request: ArtistRequest) -> HttpResponse:
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
def account_export(request: ArtistRequest) -> HttpResponse:
    data = services.account_export(user=request.user)
    response = HttpResponse(
        json.dumps(data, indent=2, ensure_ascii=False), content_type="application/json; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="removal-desk-my-data.json"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@artist_required
def account_delete(request: ArtistRequest) -> HttpResponse:
    form = AccountDeleteForm(request.POST, user=request.user)
    if not form.is_valid():
        return _account_page(request, delete_form=form)
    services.account_delete(user=request.user)
    logout(request)
    messages.success(request, _("Your account is deleted, with your works and your personal data."))
    return redirect("home")
