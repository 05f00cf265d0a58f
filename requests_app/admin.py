"""The moderators' desk: the queue of requests, one page to judge a request, and the decisions.

Moderators never edit a request's row: every decision, note and reply is
a POST to a small view (or a bulk action) that calls a service, which
locks the row, checks the transition table and writes the timeline.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
from django.views.decorators.http import require_POST

from core.admin import ReadOnlyAdmin, ReadOnlyInline, outside_text_problem
from core.text import parse_id, printable
from registry.admin import HashColumns
from registry.hashing import code_to_hex
from registry.selectors import removals_for_source

from . import (
    converters,  # noqa: F401  (registers <id:...>, used by get_urls)
    evidence,
    selectors,
    services,
    timeline,
)
from .models import (
    PUBLIC_EVENT_KINDS,
    ArtistProfile,
    ConflictResolution,
    IdentityProof,
    Match,
    MatchState,
    Priority,
    RemovalRequest,
    RequestConflict,
    TicketEvent,
    Work,
)
from .roles import MODERATOR_GROUP
from .workflow import DECIDABLE, REJECTABLE, Status, TransitionNotAllowed

MODERATE_PERMISSION = "requests_app.moderate_removalrequest"
# Refusals a moderator can act on: shown as messages, never as a 500.
REFUSALS = (services.ActionRefused, TransitionNotAllowed)


# --- decisions ----------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    name: str
    label: str
    done: str  # "Approved", for "Approved 3 requests"
    reason_required: bool
    takes_reason: bool
    call: Callable[[RemovalRequest, User, str], object]
    statuses: frozenset[str]  # where it can be taken


DECISIONS = {
    "start_review": Decision(
        name="start_review",
        label="Start review",
        done="Started review of",
        reason_required=False,
        takes_reason=False,
        call=lambda req, mod, reason: services.request_start_review(request=req, moderator=mod),
        statuses=frozenset({Status.SUBMITTED}),
    ),
    "approve": Decision(
        name="approve",
        label="Approve",
        done="Approved",
        reason_required=False,
        takes_reason=True,
        call=lambda req, mod, reason: services.request_approve(request=req, moderator=mod, reason=reason),
        statuses=DECIDABLE,
    ),
    "reject": Decision(
        name="reject",
        label="Reject",
        done="Rejected",
        reason_required=True,
        takes_reason=True,
        call=lambda req, mod, reason: services.request_reject(request=req, moderator=mod, reason=reason),
        statuses=REJECTABLE,
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


def _waiting_on(status: str) -> str:
    """What the request waits for when no moderator decision moves it: said on the desk."""
    said: dict[str, str] = {
        Status.DRAFT: "The artist has not submitted it yet: nothing to decide.",
        Status.NEEDS_INFO: "Waiting for the artist's answer. Reject it if it cannot go further.",
        Status.APPROVED: (
            "Approved: waiting for the maintainers to acknowledge the removals. It completes by itself "
            "when every data set has."
        ),
        Status.REJECTED: "Closed: rejected.",
        Status.WITHDRAWN: "Closed: withdrawn by the artist.",
        Status.COMPLETED: "Closed: every data set acknowledged the removals.",
    }
    return said.get(status, "")


def _breakable_email(address: str) -> str:
    """An address that may wrap before its "@" in a narrow column."""
    local, at, domain = address.partition("@")
    return format_html("{}<wbr>{}{}", local, at, domain) if at else address


def _moderators() -> QuerySet[User]:
    """Who a request can be assigned to: active staff in the Moderators group, and superusers."""
    return (
        User.objects.filter(is_active=True, is_staff=True)
        .filter(Q(groups__name=MODERATOR_GROUP) | Q(is_superuser=True))
        .distinct()
        .order_by("username")
    )


# --- queue filters --------------------------------------------------------------


class AgeFilter(admin.SimpleListFilter):
    title = "age since submission"
    parameter_name = "age"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("1d", "under a day"), ("7d", "1 to 7 days"), ("old", "over 7 days")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        now = timezone.now()
        day, week = now - timedelta(days=1), now - timedelta(days=7)
        if self.value() == "1d":
            return queryset.filter(submitted_at__gt=day)
        if self.value() == "7d":
            return queryset.filter(submitted_at__lte=day, submitted_at__gt=week)
        if self.value() == "old":
            return queryset.filter(submitted_at__lte=week)
        return queryset


class SlaFilter(admin.SimpleListFilter):
    title = "SLA"
    parameter_name = "sla"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("overdue", "overdue"), ("due_soon", "due soon"), ("on_track", "on track")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        now = timezone.now()
        soon = now + timedelta(hours=settings.SLA_DUE_SOON_HOURS)
        running = queryset.filter(status__in=list(settings.SLA_HOURS), sla_due_at__isnull=False)
        if self.value() == "overdue":
            return running.filter(sla_due_at__lte=now)
        if self.value() == "due_soon":
            return running.filter(sla_due_at__gt=now, sla_due_at__lte=soon)
        if self.value() == "on_track":
            return running.filter(sla_due_at__gt=soon)
        return queryset


class AssigneeFilter(admin.SimpleListFilter):
    title = "assignee"
    parameter_name = "assignee"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        people = [(str(u.pk), u.get_username()) for u in _moderators()]
        return [("mine", "mine"), ("unassigned", "unassigned"), *people]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if value == "mine":
            return queryset.filter(assignee=request.user)
        if value == "unassigned":
            return queryset.filter(assignee__isnull=True)
        if not value:
            return queryset
        assignee_id = parse_id(value)
        if assignee_id is None:
            messages.error(
                request,
                f"The assignee filter takes mine, unassigned or a moderator from its list, not "
                f"“{printable(value, 40)}”; no request matches it.",
            )
            return queryset.none()
        return queryset.filter(assignee_id=assignee_id)


class EvidenceFilter(admin.SimpleListFilter):
    title = "evidence"
    parameter_name = "evidence"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("domain", "copies on a verified domain"), ("none", "none on a verified domain")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in ("domain", "none"):
            ids = evidence.request_ids_with_domain_evidence()
            if self.value() == "domain":
                return queryset.filter(pk__in=ids)
            return queryset.exclude(pk__in=ids)
        return queryset


class ConflictFilter(admin.SimpleListFilter):
    title = "conflicts"
    parameter_name = "conflict"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("open", "unresolved conflict"), ("any", "any conflict"), ("none", "no conflict")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        any_conflict = Exists(
            RequestConflict.objects.filter(Q(first=OuterRef("pk")) | Q(second=OuterRef("pk")))
        )
        if self.value() == "open":
            return queryset.filter(selectors.open_conflict_exists())
        if self.value() == "any":
            return queryset.filter(any_conflict)
        if self.value() == "none":
            return queryset.exclude(any_conflict)
        return queryset


# --- the queue and the desk ---------------------------------------------------


@admin.register(RemovalRequest)
class RemovalRequestAdmin(ReadOnlyAdmin):
    change_form_template = "admin/requests_app/removalrequest/change_form.html"
    change_list_template = "admin/requests_app/removalrequest/change_list.html"
    confirmation_template = "admin/requests_app/removalrequest/decision_confirmation.html"
    list_display = (
        "reference_label",
        "artist_label",
        "status",
        "urgency",
        "verification_level",
        "work_count",
        "conflict_flag",
        "assignee_label",
        "age",
    )
    list_filter = (
        "status",
        SlaFilter,
        AgeFilter,
        AssigneeFilter,
        "artist__verification_level",
        EvidenceFilter,
        ConflictFilter,
        "priority",
        "basis",
    )
    search_fields = (
        "reference",
        "artist__user__email",
        "artist__display_name",
        "works__matches__item__url",
    )
    search_help_text = "Reference, artist email or name, or a matched item URL."
    # Most urgent first: priority, then the nearest SLA; requests with no clock (the
    # artist's turn, or decided) after them on every database (SQLite sorts NULLs first).
    ordering = ("-priority", F("sla_due_at").asc(nulls_last=True), "-created_at")
    list_select_related = ("artist__user", "assignee")
    list_per_page = 50
    actions = ["start_review_selected", "approve_selected", "reject_selected"]
    fieldsets = (
        (None, {"fields": ("reference", "status", "basis", "priority", "assignee", "sla_due_at")}),
        ("What the artist said", {"fields": ("description", "statement", "signed_name", "signed_at")}),
        ("Decision", {"fields": ("decision_reason", "decided_at", "completed_at")}),
        ("Times", {"fields": ("created_at", "submitted_at", "updated_at"), "classes": ("collapse",)}),
    )

    # Nobody edits the row (ReadOnlyAdmin): decisions go through the services (see get_urls and
    # the actions).
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
                has_open_conflict=selectors.open_conflict_exists(),
            )
        )

    # --- list columns

    @admin.display(description="artist", ordering="artist__display_name")
    def artist_label(self, obj: RemovalRequest) -> str:
        return format_html(
            "{}<small>{}</small>", obj.artist.display_name, _breakable_email(obj.artist.user.email)
        )

    @admin.display(description="verification", ordering="artist__verification_level")
    def verification_level(self, obj: RemovalRequest) -> str:
        return obj.artist.get_verification_level_display()

    @admin.display(description="works", ordering="work_count")
    def work_count(self, obj: Any) -> str:
        confirmed = obj.confirmed_match_count
        return format_html(
            "{}<small>{} cop{} confirmed</small>", obj.work_count, confirmed, "y" if confirmed == 1 else "ies"
        )

    @admin.display(description="assignee", ordering="assignee__username")
    def assignee_label(self, obj: RemovalRequest) -> str:
        if obj.assignee is None:
            return mark_safe('<span class="muted">nobody</span>')
        return _breakable_email(obj.assignee.get_username())

    # Paired columns (reference and basis, priority and SLA, works and copies): the queue must fit
    # a 1280 px screen beside its filters without breaking words.
    @admin.display(description="reference", ordering="reference")
    def reference_label(self, obj: RemovalRequest) -> str:
        return format_html("{}<small>{}</small>", obj.reference, obj.get_basis_display())

    @admin.display(description="priority, SLA", ordering="priority")
    def urgency(self, obj: RemovalRequest) -> str:
        if obj.priority == Priority.HIGH:
            priority = format_html('<strong class="desk-high">{}</strong>', obj.get_priority_display())
        else:
            priority = format_html("{}", obj.get_priority_display())
        state = services.sla_state(obj)
        if not state:
            return format_html('{}<small class="muted">no SLA</small>', priority)
        label = {"overdue": "overdue", "due_soon": "due soon", "on_track": "on track"}[state]
        due = timezone.localtime(obj.sla_due_at).strftime("%Y-%m-%d %H:%M") if obj.sla_due_at else ""
        return format_html(
            '{}<small class="sla-{}" title="due {}">SLA {}</small>', priority, state, due, label
        )

    @admin.display(description="conflict", ordering="has_open_conflict")
    def conflict_flag(self, obj: Any) -> str:
        # Words, not the admin's boolean icons: a green tick read as "all good" for a held request.
        if obj.has_open_conflict:
            return format_html(
                '<strong class="desk-conflict" title="{}">'
                '<span aria-hidden="true">⚠</span> Conflict</strong>',
                "Another artist claims the same image; approval is held until a moderator resolves it.",
            )
        return mark_safe('<span class="muted" title="No unresolved conflict">None</span>')

    @admin.display(description="age", ordering="submitted_at")
    def age(self, obj: RemovalRequest) -> str:
        since = obj.submitted_at or obj.created_at
        what = "submitted" if obj.submitted_at else "created"
        return format_html(
            '<span title="{} {}">{}</span>',
            what,
            timezone.localtime(since).strftime("%Y-%m-%d %H:%M"),
            _age(since),
        )

    # The queue and the request page take the whole width: no navigation sidebar (the breadcrumbs
    # lead back to the index).
    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        return super().changelist_view(request, {**(extra_context or {}), "is_nav_sidebar_enabled": False})

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
        extra_context = {**(extra_context or {}), "is_nav_sidebar_enabled": False}
        return super().change_view(request, object_id, form_url, extra_context)

    def _desk_context(self, request: HttpRequest, ticket: RemovalRequest) -> dict[str, Any]:
        artist = ticket.artist
        proofs = list(artist.proofs.select_related("decided_by").order_by("-status", "method", "target"))
        found = evidence.for_request(ticket)
        for work_evidence in found.works:
            work = work_evidence.work
            work.image_url = reverse("work_image", args=[work.pk])  # type: ignore[attr-defined]
            work.phash_hex = code_to_hex(work.phash)  # type: ignore[attr-defined]
        events = list(ticket.events.select_related("actor"))
        can_moderate = self.has_moderate_permission(request)
        open_statuses = (Status.SUBMITTED, Status.IN_REVIEW, Status.NEEDS_INFO, Status.APPROVED, Status.DRAFT)
        lost = found.lost_conflicts
        suggested_reason = winners = ""
        if lost:
            winners = ", ".join(f"{c.other(ticket)} ({c.other(ticket).artist.display_name})" for c in lost)
            suggested_reason = (
                f"Another artist's claim to the same image(s) was upheld ({winners}), so we cannot "
                "send removals for this request."
            )
        return {
            "desk": {
                "ticket": ticket,
                "artist": artist,
                "proofs": proofs,
                "evidence": found,
                "conflicts": found.conflicts,
                "public_events": [e for e in events if e.kind in PUBLIC_EVENT_KINDS],
                "internal_events": [e for e in events if e.kind not in PUBLIC_EVENT_KINDS],
                "removals": list(removals_for_source(ticket.reference)) if ticket.reference else [],
                "can_moderate": can_moderate,
                "can_start_review": can_moderate and ticket.status == Status.SUBMITTED,
                "can_approve": can_moderate and ticket.status in DECIDABLE and not lost,
                "can_reject": can_moderate and ticket.status in REJECTABLE,
                "can_ask_info": can_moderate and ticket.status in DECIDABLE,
                "lost_to": winners,
                "suggested_reason": suggested_reason,
                "waiting_on": _waiting_on(ticket.status),
                "can_assign": can_moderate and ticket.status in open_statuses,
                "sla_state": services.sla_state(ticket),
                "moderators": list(_moderators()) if can_moderate else [],
                "canned": settings.MODERATION_CANNED_RESPONSES,
                "resolutions": [
                    (ConflictResolution.FIRST, "first"),
                    (ConflictResolution.SECOND, "second"),
                    (ConflictResolution.BOTH, "both"),
                ],
                "decide_url": reverse("admin:requests_app_removalrequest_decide", args=[ticket.pk]),
                "note_url": reverse("admin:requests_app_removalrequest_note", args=[ticket.pk]),
                "assign_url": reverse("admin:requests_app_removalrequest_assign", args=[ticket.pk]),
                "ask_info_url": reverse("admin:requests_app_removalrequest_ask_info", args=[ticket.pk]),
                "age": _age(ticket.submitted_at or ticket.created_at),
            }
        }

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view  # staff check and CSRF protection
        return [
            path(
                "<path:object_id>/decide/",
                view(require_POST(self._checked_post(self.decide_view))),
                name="requests_app_removalrequest_decide",
            ),
            path(
                "<path:object_id>/note/",
                view(require_POST(self._checked_post(self.note_view))),
                name="requests_app_removalrequest_note",
            ),
            path(
                "<path:object_id>/assign/",
                view(require_POST(self._checked_post(self.assign_view))),
                name="requests_app_removalrequest_assign",
            ),
            path(
                "<path:object_id>/ask-info/",
                view(require_POST(self._checked_post(self.ask_info_view))),
                name="requests_app_removalrequest_ask_info",
            ),
            path(
                "<path:object_id>/conflicts/<id:conflict_id>/resolve/",
                view(require_POST(self._checked_post(self.conflict_resolve_view))),
                name="requests_app_removalrequest_conflict_resolve",
            ),
            path(
                "<path:object_id>/proofs/<id:proof_id>/review/",
                view(require_POST(self._checked_post(self.proof_review_view))),
                name="requests_app_removalrequest_proof_review",
            ),
            *super().get_urls(),
        ]

    def _checked_post(self, handler: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        """Every desk form's fields pass core.text's check before its handler runs: a refused
        value is a message on the request's page, and nothing is written."""

        @wraps(handler)
        def checked(request: HttpRequest, object_id: str, **kwargs: Any) -> HttpResponse:
            problem = outside_text_problem(request.POST)
            if problem is None:
                return handler(request, object_id, **kwargs)
            ticket = self._ticket_for_moderation(request, object_id)  # who may post, first
            messages.error(request, f"{problem} Nothing was saved.")
            return HttpResponseRedirect(self._change_url(ticket))

        return checked

    def _ticket_for_moderation(self, request: HttpRequest, object_id: str) -> RemovalRequest:
        if parse_id(unquote(object_id)) is None:
            raise Http404("No such request.")
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

    def assign_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        ticket = self._ticket_for_moderation(request, object_id)
        choice = request.POST.get("assignee", "")
        assignee: User | None
        if choice == "me":
            assignee = request.user  # type: ignore[assignment]
        elif choice == "":
            assignee = None
        else:
            assignee_id = parse_id(choice)
            assignee = _moderators().filter(pk=assignee_id).first() if assignee_id is not None else None
            if assignee is None:
                messages.error(request, "Choose a moderator.")
                return HttpResponseRedirect(self._change_url(ticket))
        try:
            services.request_assign(request=ticket, moderator=request.user, assignee=assignee)  # type: ignore[arg-type]
        except REFUSALS as exc:
            messages.error(request, _refusal_text(ticket, exc))
        else:
            who = assignee.get_username() if assignee else "nobody"
            messages.success(request, f"{ticket} is assigned to {who}.")
        return HttpResponseRedirect(self._change_url(ticket))

    def ask_info_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        ticket = self._ticket_for_moderation(request, object_id)
        try:
            services.request_ask_info(
                request=ticket,
                moderator=request.user,  # type: ignore[arg-type]
                message=request.POST.get("message", ""),
                canned=request.POST.get("canned", ""),
            )
        except REFUSALS as exc:
            messages.error(request, _refusal_text(ticket, exc))
        else:
            messages.success(request, f"Asked the artist for more information; {ticket} needs information.")
        return HttpResponseRedirect(self._change_url(ticket))

    def conflict_resolve_view(self, request: HttpRequest, object_id: str, conflict_id: int) -> HttpResponse:
        ticket = self._ticket_for_moderation(request, object_id)
        conflict = (
            RequestConflict.objects.filter(pk=conflict_id).filter(Q(first=ticket) | Q(second=ticket)).first()
        )
        if conflict is None:
            raise PermissionDenied
        try:
            services.conflict_resolve(
                conflict=conflict,
                moderator=request.user,  # type: ignore[arg-type]
                resolution=request.POST.get("resolution", ""),
                note=request.POST.get("note", ""),
            )
        except REFUSALS as exc:
            messages.error(request, _refusal_text(ticket, exc))
        else:
            messages.success(request, "Conflict resolved; both requests' timelines record it.")
        return HttpResponseRedirect(self._change_url(ticket) + "#evidence")

    def proof_review_view(self, request: HttpRequest, object_id: str, proof_id: int) -> HttpResponse:
        ticket = self._ticket_for_moderation(request, object_id)
        proof = IdentityProof.objects.filter(pk=proof_id, artist_id=ticket.artist_id).first()
        if proof is None:
            raise PermissionDenied
        try:
            services.proof_document_review(
                proof=proof,
                moderator=request.user,  # type: ignore[arg-type]
                accept=request.POST.get("verdict") == "accept",
                note=request.POST.get("note", ""),
            )
        except REFUSALS as exc:
            messages.error(request, _refusal_text(ticket, exc))
        else:
            messages.success(request, "Document review recorded; the artist was told by email.")
        return HttpResponseRedirect(self._change_url(ticket) + "#proofs")

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
        tickets = list(queryset.select_related("artist__user").order_by("pk"))
        skipped = _bulk_skips(tickets, decision)
        going = len(tickets) - len(skipped)
        verb = decision.label
        plan = f"{verb} {_requests(going)}"
        if skipped:
            why = "; ".join(f"{t} {reason}" for t, reason in skipped)
            plan += f"; {len(skipped)} will be skipped because {why}."
        else:
            plan += "."
        context = {
            **self.admin_site.each_context(request),
            "title": f"{verb} {_requests(going)}?" if going else f"Nothing to {verb.lower()}",
            "opts": self.model._meta,
            "decision": decision,
            "action": action,
            "tickets": tickets,
            "skipped": skipped,
            "going": going,
            "plan": plan,
            "submit_label": f"{verb} {_requests(going)}",
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
            if decision.name == "approve" and ticket.status in DECIDABLE:
                # In bulk only what needs no second look; the rest is opened and decided one by one.
                weaknesses = evidence.for_request(ticket).weaknesses
                if weaknesses:
                    messages.error(
                        request,
                        f"{ticket} was not approved in bulk: {'; '.join(weaknesses)}. Open it and decide it "
                        "on its own.",
                    )
                    continue
            try:
                decision.call(ticket, request.user, reason)  # type: ignore[arg-type]
            except REFUSALS as exc:
                messages.error(request, _refusal_text(ticket, exc))
            else:
                done.append(str(ticket))
        if done:
            messages.success(request, f"{decision.done} {_requests(len(done))}: {', '.join(done)}.")


def _requests(count: int) -> str:
    return f"{count} request" if count == 1 else f"{count} requests"


def _bulk_skips(tickets: list[RemovalRequest], decision: Decision) -> list[tuple[RemovalRequest, str]]:
    """Which of the selected requests a bulk decision will leave alone, and why (as _decide_all does)."""
    skipped = []
    for ticket in tickets:
        if ticket.status not in decision.statuses:
            status = str(ticket.get_status_display()).lower()
            skipped.append((ticket, f"is {status} and cannot be {decision.done.lower()}"))
        elif decision.name == "approve":
            weaknesses = evidence.for_request(ticket).weaknesses
            if weaknesses:
                skipped.append((ticket, f"needs a look on its own: {'; '.join(weaknesses)}"))
    return skipped


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
    list_display = (
        "artist",
        "method",
        "target",
        "status",
        "checked_at",
        "verified_at",
        "expires_at",
        "document_link",
    )
    list_filter = ("method", "status")
    list_select_related = ("artist__user",)
    search_fields = ("target", "artist__user__email", "artist__display_name")
    exclude = ("document", "token")

    @admin.display(description="document")
    def document_link(self, obj: IdentityProof) -> str:
        if obj.document_deleted_at:
            return f"deleted {obj.document_deleted_at:%Y-%m-%d}"
        if not obj.document:
            return "—"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">open</a>',
            reverse("identity_document", args=[obj.pk]),
        )


@admin.register(Work)
class WorkAdmin(HashColumns, ReadOnlyAdmin):
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
        return Truncator(timeline.event_text(obj)).chars(100)
