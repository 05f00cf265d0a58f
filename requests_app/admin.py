"""The moderators' desk: the queue of requests, one page to judge a request, and the decisions.

Moderators never edit a request's row: every decision, note and reply is
a POST to a small view (or a bulk action) that calls a service, which
locks the row, checks the transition table and writes the timeline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.views.decorators.http import require_POST

from registry.admin import ReadOnlyAdmin, ReadOnlyInline
from registry.hashing import code_to_hex
from registry.selectors import removals_for_source

from . import services
from .models import (
    ArtistProfile,
    IdentityProof,
    Match,
    MatchState,
    ProofMethod,
    ProofStatus,
    RemovalRequest,
    TicketEvent,
    Work,
)
from .workflow import DECIDABLE, Status, TransitionNotAllowed

MODERATE_PERMISSION = "requests_app.moderate_removalrequest"
# Refusals a moderator can act on: shown as messages, never as a 500.
REFUSALS = (services.ActionRefused, TransitionNotAllowed)
DOMAIN_METHODS = {ProofMethod.DNS_TXT, ProofMethod.WELL_KNOWN, ProofMethod.META_TAG, ProofMethod.PROFILE_LINK}


# --- decisions ----------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    name: str
    label: str
    done: str  # "Approved", for "Approved 3 request(s)"
    reason_required: bool
    takes_reason: bool
    call: Callable[[RemovalRequest, User, str], object]


DECISIONS = {
    "start_review": Decision(
        name="start_review",
        label="Start review",
        done="Started review of",
        reason_required=False,
        takes_reason=False,
        call=lambda req, mod, reason: services.request_start_review(request=req, moderator=mod),
    ),
    "approve": Decision(
        name="approve",
        label="Approve",
        done="Approved",
        reason_required=False,
        takes_reason=True,
        call=lambda req, mod, reason: services.request_approve(request=req, moderator=mod, reason=reason),
    ),
    "reject": Decision(
        name="reject",
        label="Reject",
        done="Rejected",
        reason_required=True,
        takes_reason=True,
        call=lambda req, mod, reason: services.request_reject(request=req, moderator=mod, reason=reason),
    ),
}


def _refusal_text(ticket: RemovalRequest, exc: Exception) -> str:
    text = str(exc)
    return text if ticket.reference and text.startswith(ticket.reference) else f"{ticket}: {text}"


def _age(since: Any) -> str:
    if since is None:
        return "—"
    delta: timedelta = timezone.now() - since
    minutes = int(delta.total_seconds() // 60)
    days, hours = divmod(minutes // 60, 24)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes % 60}m"
    return f"{minutes}m"


def _host_is_under(host: str, domains: set[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def _proof_domain(target: str) -> str:
    return (urlsplit(target if "//" in target else "//" + target).hostname or "").removeprefix("www.")


# --- the queue and the desk ---------------------------------------------------


@admin.register(RemovalRequest)
class RemovalRequestAdmin(admin.ModelAdmin):
    change_form_template = "admin/requests_app/removalrequest/change_form.html"
    confirmation_template = "admin/requests_app/removalrequest/decision_confirmation.html"
    list_display = (
        "reference",
        "artist_label",
        "status",
        "basis",
        "verification_level",
        "work_count",
        "confirmed_match_count",
        "assignee",
        "submitted_at",
        "age",
    )
    list_filter = (
        "status",
        "basis",
        ("assignee", admin.RelatedOnlyFieldListFilter),
        "artist__verification_level",
    )
    search_fields = (
        "reference",
        "artist__user__email",
        "artist__display_name",
        "works__matches__item__url",
    )
    list_select_related = ("artist__user", "assignee")
    list_per_page = 50
    actions = ["start_review_selected", "approve_selected", "reject_selected"]
    fieldsets = (
        (None, {"fields": ("reference", "status", "basis", "priority", "assignee", "sla_due_at")}),
        ("What the artist said", {"fields": ("description", "statement", "signed_name", "signed_at")}),
        ("Decision", {"fields": ("decision_reason", "decided_at", "completed_at")}),
        ("Times", {"fields": ("created_at", "submitted_at", "updated_at"), "classes": ("collapse",)}),
    )

    # Nobody edits the row: decisions go through the services (see get_urls and the actions).
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_moderate_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm(MODERATE_PERMISSION)

    def get_queryset(self, request: HttpRequest) -> QuerySet[RemovalRequest]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                work_count=Count("works", distinct=True),
                confirmed_match_count=Count(
                    "works__matches",
                    filter=Q(works__matches__state__in=[MatchState.CONFIRMED, MatchState.APPROVED]),
                    distinct=True,
                ),
            )
        )

    # --- list columns

    @admin.display(description="artist", ordering="artist__display_name")
    def artist_label(self, obj: RemovalRequest) -> str:
        return format_html("{}<br><small>{}</small>", obj.artist.display_name, obj.artist.user.email)

    @admin.display(description="verification", ordering="artist__verification_level")
    def verification_level(self, obj: RemovalRequest) -> str:
        return obj.artist.get_verification_level_display()

    @admin.display(description="works", ordering="work_count")
    def work_count(self, obj: Any) -> int:
        return obj.work_count

    @admin.display(description="confirmed matches", ordering="confirmed_match_count")
    def confirmed_match_count(self, obj: Any) -> int:
        return obj.confirmed_match_count

    @admin.display(description="age", ordering="submitted_at")
    def age(self, obj: RemovalRequest) -> str:
        return _age(obj.submitted_at or obj.created_at)

    # --- the change page: everything needed to judge, side by side

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        ticket = self.get_object(request, unquote(object_id))
        if ticket is not None and self.has_view_permission(request, ticket):
            extra_context = {**(extra_context or {}), **self._desk_context(request, ticket)}
        return super().change_view(request, object_id, form_url, extra_context)

    def _desk_context(self, request: HttpRequest, ticket: RemovalRequest) -> dict[str, Any]:
        artist = ticket.artist
        proofs = list(artist.proofs.order_by("-status", "method", "target"))
        verified_domains = {
            _proof_domain(p.target)
            for p in proofs
            if p.status == ProofStatus.VERIFIED and p.method in DOMAIN_METHODS
        } - {""}
        works = list(
            ticket.works.prefetch_related(
                Prefetch("matches", queryset=Match.objects.select_related("item__dataset"))
            )
        )
        for work in works:
            work.image_url = reverse("work_image", args=[work.pk])  # type: ignore[attr-defined]
            work.phash_hex = code_to_hex(work.phash)  # type: ignore[attr-defined]
            for match in work.matches.all():
                host = (urlsplit(match.item.url).hostname or "").removeprefix("www.")
                match.on_verified_domain = _host_is_under(host, verified_domains)  # type: ignore[attr-defined]
        # Another artist who uploaded the very same image: a conflict to look at before deciding.
        conflicts = list(
            Work.objects.filter(sha256__in=[w.sha256 for w in works])
            .exclude(artist_id=artist.pk)
            .select_related("artist__user", "request")
        )
        can_moderate = self.has_moderate_permission(request)
        return {
            "desk": {
                "ticket": ticket,
                "artist": artist,
                "proofs": proofs,
                "works": works,
                "conflicts": conflicts,
                "events": list(ticket.events.select_related("actor")),
                "removals": list(removals_for_source(ticket.reference)) if ticket.reference else [],
                "can_moderate": can_moderate,
                "can_start_review": can_moderate and ticket.status == Status.SUBMITTED,
                "can_decide": can_moderate and ticket.status in DECIDABLE,
                "decide_url": reverse("admin:requests_app_removalrequest_decide", args=[ticket.pk]),
                "note_url": reverse("admin:requests_app_removalrequest_note", args=[ticket.pk]),
                "age": _age(ticket.submitted_at or ticket.created_at),
            }
        }

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view  # staff check and CSRF protection
        return [
            path(
                "<path:object_id>/decide/",
                view(require_POST(self.decide_view)),
                name="requests_app_removalrequest_decide",
            ),
            path(
                "<path:object_id>/note/",
                view(require_POST(self.note_view)),
                name="requests_app_removalrequest_note",
            ),
            *super().get_urls(),
        ]

    def _ticket_for_moderation(self, request: HttpRequest, object_id: str) -> RemovalRequest:
        ticket = self.get_object(request, unquote(object_id))
        if ticket is None or not self.has_view_permission(request, ticket):
            raise PermissionDenied
        if not self.has_moderate_permission(request, ticket):
            raise PermissionDenied
        return ticket

    def _change_url(self, ticket: RemovalRequest) -> str:
        return reverse("admin:requests_app_removalrequest_change", args=[ticket.pk])

    def decide_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        ticket = self._ticket_for_moderation(request, object_id)
        decision = DECISIONS.get(request.POST.get("decision", ""))
        if decision is None:
            messages.error(request, "Choose start review, approve or reject.")
            return HttpResponseRedirect(self._change_url(ticket))
        reason = request.POST.get("reason", "").strip()
        if decision.reason_required and not reason:
            messages.error(request, "Give the artist a reason for the rejection.")
            return HttpResponseRedirect(self._change_url(ticket))
        try:
            decision.call(ticket, request.user, reason)  # type: ignore[arg-type]
        except REFUSALS as exc:
            messages.error(request, _refusal_text(ticket, exc))
        else:
            messages.success(request, f"{decision.done} {ticket}.")
        return HttpResponseRedirect(self._change_url(ticket))

    def note_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        ticket = self._ticket_for_moderation(request, object_id)
        public = request.POST.get("visibility") == "public"
        try:
            services.request_note_add(
                request=ticket,
                moderator=request.user,  # type: ignore[arg-type]
                message=request.POST.get("message", ""),
                public=public,
            )
        except services.ActionRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request, "Reply sent to the artist." if public else "Internal note added (moderators only)."
            )
        return HttpResponseRedirect(self._change_url(ticket) + "#timeline")

    # --- bulk decisions

    @admin.action(description="Start review of the selected requests", permissions=["moderate"])
    def start_review_selected(self, request: HttpRequest, queryset: QuerySet[RemovalRequest]) -> None:
        self._decide_all(request, queryset, DECISIONS["start_review"], reason="")

    @admin.action(description="Approve the selected requests…", permissions=["moderate"])
    def approve_selected(
        self, request: HttpRequest, queryset: QuerySet[RemovalRequest]
    ) -> HttpResponse | None:
        return self._confirm_then_decide(request, queryset, DECISIONS["approve"], "approve_selected")

    @admin.action(description="Reject the selected requests…", permissions=["moderate"])
    def reject_selected(
        self, request: HttpRequest, queryset: QuerySet[RemovalRequest]
    ) -> HttpResponse | None:
        return self._confirm_then_decide(request, queryset, DECISIONS["reject"], "reject_selected")

    def _confirm_then_decide(
        self,
        request: HttpRequest,
        queryset: QuerySet[RemovalRequest],
        decision: Decision,
        action: str,
    ) -> HttpResponse | None:
        reason = request.POST.get("reason", "").strip()
        error = ""
        if request.POST.get("post") == "yes":
            if decision.reason_required and not reason:
                error = "Give the artists a reason for the rejection."
            else:
                self._decide_all(request, queryset, decision, reason=reason)
                return None  # back to the list, with the messages
        tickets = list(queryset.select_related("artist__user"))
        context = {
            **self.admin_site.each_context(request),
            "title": f"{decision.label} {len(tickets)} request(s)?",
            "opts": self.model._meta,
            "decision": decision,
            "action": action,
            "tickets": tickets,
            "undecidable": [t for t in tickets if t.status not in DECIDABLE],
            "reason": reason,
            "error": error,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, self.confirmation_template, context)

    def _decide_all(
        self, request: HttpRequest, queryset: QuerySet[RemovalRequest], decision: Decision, *, reason: str
    ) -> None:
        """Each request in its own transaction: a refused one is reported and the rest go on."""
        done: list[str] = []
        for ticket in queryset.select_related("artist__user").order_by("pk"):
            try:
                decision.call(ticket, request.user, reason)  # type: ignore[arg-type]
            except REFUSALS as exc:
                messages.error(request, _refusal_text(ticket, exc))
            else:
                done.append(str(ticket))
        if done:
            messages.success(request, f"{decision.done} {len(done)} request(s): {', '.join(done)}.")


# --- read-only views of the rest ----------------------------------------------


class IdentityProofInline(ReadOnlyInline):
    model = IdentityProof
    fields = ("method", "target", "status", "checked_at", "verified_at", "expires_at")
    readonly_fields = fields


class ArtistRequestInline(ReadOnlyInline):
    model = RemovalRequest
    fk_name = "artist"
    fields = ("reference", "status", "basis", "submitted_at", "decided_at")
    readonly_fields = fields
    verbose_name_plural = "requests"


@admin.register(ArtistProfile)
class ArtistProfileAdmin(ReadOnlyAdmin):
    list_display = ("display_name", "email", "verification_level", "request_count", "created_at")
    list_filter = ("verification_level",)
    list_select_related = ("user",)
    search_fields = ("display_name", "user__email")
    fields = ("user", "display_name", "verification_level", "created_at")
    inlines = [IdentityProofInline, ArtistRequestInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ArtistProfile]:
        return super().get_queryset(request).annotate(request_count=Count("requests"))

    @admin.display(description="email", ordering="user__email")
    def email(self, obj: ArtistProfile) -> str:
        return obj.user.email

    @admin.display(description="requests", ordering="request_count")
    def request_count(self, obj: Any) -> int:
        return obj.request_count


@admin.register(IdentityProof)
class IdentityProofAdmin(ReadOnlyAdmin):
    list_display = ("artist", "method", "target", "status", "checked_at", "verified_at")
    list_filter = ("method", "status")
    list_select_related = ("artist__user",)
    search_fields = ("target", "artist__user__email", "artist__display_name")


@admin.register(Work)
class WorkAdmin(ReadOnlyAdmin):
    list_display = ("original_name", "artist", "request", "hash_state", "format", "size", "created_at")
    list_filter = ("hash_state", "format")
    list_select_related = ("artist__user", "request")
    search_fields = ("original_name", "sha256", "request__reference", "artist__user__email")
    fields = (
        "thumbnail",
        "artist",
        "request",
        "original_name",
        "format",
        "size",
        "size_bytes",
        "sha256",
        "hash_state",
        "hash_error",
        "phash_hex",
        "dhash_hex",
        "pdq_quality",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description="image")
    def thumbnail(self, obj: Work) -> str:
        return format_html(
            '<img src="{}" alt="" style="max-width:320px;max-height:320px">',
            reverse("work_image", args=[obj.pk]),
        )

    @admin.display(description="size")
    def size(self, obj: Work) -> str:
        return f"{obj.width} x {obj.height}"

    @admin.display(description="pHash")
    def phash_hex(self, obj: Work) -> str | None:
        return code_to_hex(obj.phash)

    @admin.display(description="dHash")
    def dhash_hex(self, obj: Work) -> str | None:
        return code_to_hex(obj.dhash)


@admin.register(Match)
class MatchAdmin(ReadOnlyAdmin):
    list_display = ("work", "request_ref", "dataset", "item_url", "algorithm", "distance", "state")
    list_filter = ("state", "item__dataset")
    list_select_related = ("work__request", "item__dataset")
    search_fields = ("item__url", "work__request__reference")

    @admin.display(description="request", ordering="work__request__reference")
    def request_ref(self, obj: Match) -> str:
        return str(obj.work.request or "—")

    @admin.display(description="data set", ordering="item__dataset__slug")
    def dataset(self, obj: Match) -> str:
        return obj.item.dataset.slug

    @admin.display(description="item URL")
    def item_url(self, obj: Match) -> str:
        return Truncator(obj.item.url).chars(80)


@admin.register(TicketEvent)
class TicketEventAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "request",
        "kind",
        "is_public",
        "actor",
        "old_value",
        "new_value",
        "excerpt",
    )
    list_filter = ("kind",)
    list_select_related = ("request", "actor")
    search_fields = ("request__reference", "message")

    @admin.display(boolean=True, description="artist sees it")
    def is_public(self, obj: TicketEvent) -> bool:
        return obj.is_public

    @admin.display(description="message")
    def excerpt(self, obj: TicketEvent) -> str:
        return Truncator(obj.message).chars(100)
