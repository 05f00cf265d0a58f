"""What the artist decides on a request: submit it, withdraw it, or write to the moderators."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from .. import selectors, services
from ..forms import (
    ArtistReplyForm,
    SubmitForm,
    WithdrawForm,
)
from ..services import ActionRefused
from ._common import (
    REFUSED,
    ArtistRequest,
    _detail_url,
    _render_detail,
    artist_required,
)


@require_POST
@artist_required
def request_submit(request: ArtistRequest, reference: str) -> HttpResponse:
    ticket = selectors.request_for_artist(request.user, reference)
    form = SubmitForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, ticket, submit_form=form)
    try:
        services.request_submit(
            ticket=ticket,
            actor=request.user,
            signed_name=form.cleaned_data["signed_name"],
            language=form.cleaned_data["language"] or translation.get_language() or settings.LANGUAGE_CODE,
        )
    except REFUSED as exc:
        field = getattr(exc, "field", "")
        if field in form.fields:
            form.add_error(field, str(exc))
            return _render_detail(request, ticket, submit_form=form)
        ticket.refresh_from_db()
        return _render_detail(request, ticket, submit_form=form, submit_error=str(exc))
    messages.success(
        request,
        _("Request %(reference)s is submitted. A moderator will review it; we email you when it changes.")
        % {"reference": ticket.reference},
    )
    return redirect(_detail_url(ticket))


@require_POST
@artist_required
def request_withdraw(request: ArtistRequest, reference: str) -> HttpResponse:
    """Withdrawing cannot be undone: the form's box must be ticked (no script needed)."""
    ticket = selectors.request_for_artist(request.user, reference)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, ticket, withdraw_form=form)
    try:
        services.request_withdraw(ticket=ticket, actor=request.user)
    except REFUSED as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Request %(reference)s is withdrawn.") % {"reference": ticket.reference})
    return redirect(_detail_url(ticket))


@require_POST
@artist_required
def request_reply(request: ArtistRequest, reference: str) -> HttpResponse:
    ticket = selectors.request_for_artist(request.user, reference)
    form = ArtistReplyForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, ticket, reply_form=form)
    try:
        services.request_artist_reply(
            ticket=ticket,
            artist_user=request.user,
            message=form.cleaned_data["message"],
        )
    except ActionRefused as exc:
        form.add_error("message", str(exc))
        return _render_detail(request, ticket, reply_form=form)
    messages.success(request, _("Your message is sent; the moderators see it on this request."))
    return redirect(_detail_url(ticket, "history"))
