"""The queue: every request in one list, most urgent first, with the columns a moderator sorts
by, the filters, and the bulk decisions (each request in its own transaction)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Count, F, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.admin import ReadOnlyAdmin, StaffRequest

from .. import evidence, selectors, services
from ..models import MatchState, Priority, RemovalRequest
from ..workflow import DECIDABLE
from .decisions import (
    DECISIONS,
    MODERATE_PERMISSION,
    REFUSALS,
    Decision,
    age,
    breakable_email,
    bulk_plan,
    bulk_skips,
    refusal_text,
)
from .filters import AgeFilter, AssigneeFilter, ConflictFilter, EvidenceFilter, SlaFilter


class QueueAdmin(ReadOnlyAdmin):
    """The change list of requests. Nobody edits a row (ReadOnlyAdmin): decisions go through the
    services, here in bulk and one by one on the desk (desk.py)."""

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
    search_help_text = _("Reference, artist email or name, or a matched item URL.")
    # Most urgent first: priority, then the nearest SLA; requests with no clock (the
    # artist's turn, or decided) after them on every database (SQLite sorts NULLs first).
    ordering = ("-priority", F("sla_due_at").asc(nulls_last=True), "-created_at")
    list_select_related = ("artist__user", "assignee")
    list_per_page = 50
    actions = ["start_review_selected", "approve_selected", "reject_selected"]

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

    @admin.display(description=_("artist"), ordering="artist__display_name")
    def artist_label(self, obj: RemovalRequest) -> str:
        return format_html(
            "{}<small>{}</small>", obj.artist.display_name, breakable_email(obj.artist.user.email)
        )

    @admin.display(description=_("verification"), ordering="artist__verification_level")
    def verification_level(self, obj: RemovalRequest) -> str:
        return obj.artist.get_verification_level_display()

    @admin.display(description=_("works"), ordering="work_count")
    def work_count(self, obj: Any) -> str:
        confirmed = obj.confirmed_match_count
        return format_html(
            "{}<small>{}</small>",
            obj.work_count,
            ngettext("%(count)d copy confirmed", "%(count)d copies confirmed", confirmed)
            % {"count": confirmed},
        )

    @admin.display(description=_("assignee"), ordering="assignee__username")
    def assignee_label(self, obj: RemovalRequest) -> str:
        if obj.assignee is None:
            return format_html('<span class="muted">{}</span>', gettext("nobody"))
        return breakable_email(obj.assignee.get_username())

    # Paired columns (reference and basis, priority and SLA, works and copies): the queue must fit
    # a 1280 px screen beside its filters without breaking words.
    @admin.display(description=_("reference"), ordering="reference")
    def reference_label(self, obj: RemovalRequest) -> str:
        return format_html("{}<small>{}</small>", obj.reference, obj.get_basis_display())

    @admin.display(description=_("priority, SLA"), ordering="priority")
    def urgency(self, obj: RemovalRequest) -> str:
        if obj.priority == Priority.HIGH:
            priority = format_html('<strong class="desk-high">{}</strong>', obj.get_priority_display())
        else:
            priority = format_html("{}", obj.get_priority_display())
        state = services.sla_state(obj)
        if not state:
            return format_html('{}<small class="muted">{}</small>', priority, gettext("no SLA"))
        label = {
            "overdue": gettext("overdue"),
            "due_soon": gettext("due soon"),
            "on_track": gettext("on track"),
        }[state]
        due = timezone.localtime(obj.sla_due_at).strftime("%Y-%m-%d %H:%M") if obj.sla_due_at else ""
        return format_html(
            '{}<small class="sla-{}" title="{}">{}</small>',
            priority,
            state,
            gettext("due %(when)s") % {"when": due},
            gettext("SLA %(state)s") % {"state": label},
        )

    @admin.display(description=_("conflict"), ordering="has_open_conflict")
    def conflict_flag(self, obj: Any) -> str:
        # Words, not the admin's boolean icons: a green tick read as "all good" for a held request.
        if obj.has_open_conflict:
            return format_html(
                '<strong class="desk-conflict" title="{}"><span aria-hidden="true">⚠</span> {}</strong>',
                gettext(
                    "Another artist claims the same image; approval is held until a moderator resolves it."
                ),
                gettext("Conflict"),
            )
        return format_html(
            '<span class="muted" title="{}">{}</span>', gettext("No unresolved conflict"), gettext("None")
        )

    @admin.display(description=_("age"), ordering="submitted_at")
    def age(self, obj: RemovalRequest) -> str:
        since = obj.submitted_at or obj.created_at
        when = timezone.localtime(since).strftime("%Y-%m-%d %H:%M")
        what = gettext("submitted %(when)s") if obj.submitted_at else gettext("created %(when)s")
        return format_html(
            '<span title="{}">{}</span>',
            what % {"when": when},
            age(since),
        )

    # --- bulk decisions

    @admin.action(description=_("Start review of the selected requests"), permissions=["moderate"])
    def start_review_selected(self, request: StaffRequest, queryset: QuerySet[RemovalRequest]) -> None:
        self._decide_all(request, queryset, DECISIONS["start_review"], reason="")

    @admin.action(description=_("Approve the selected requests…"), permissions=["moderate"])
    def approve_selected(
        self, request: StaffRequest, queryset: QuerySet[RemovalRequest]
    ) -> HttpResponse | None:
        return self._confirm_then_decide(request, queryset, DECISIONS["approve"], "approve_selected")

    @admin.action(description=_("Reject the selected requests…"), permissions=["moderate"])
    def reject_selected(
        self, request: StaffRequest, queryset: QuerySet[RemovalRequest]
    ) -> HttpResponse | None:
        return self._confirm_then_decide(request, queryset, DECISIONS["reject"], "reject_selected")

    def _confirm_then_decide(
        self,
        request: StaffRequest,
        queryset: QuerySet[RemovalRequest],
        decision: Decision,
        action: str,
    ) -> HttpResponse | None:
        reason = request.POST.get("reason", "").strip()
        error = ""
        if request.POST.get("post") == "yes":
            if decision.reason_required and not reason:
                error = gettext("Give the artists a reason for the rejection.")
            else:
                self._decide_all(request, queryset, decision, reason=reason)
                return None  # back to the list, with the messages
        tickets = list(queryset.select_related("artist__user").order_by("pk"))
        skipped = bulk_skips(tickets, decision)
        going = len(tickets) - len(skipped)
        context = {
            **self.admin_site.each_context(request),
            "title": str(decision.ask % {"count": going}) if going else decision.none,
            "opts": self.model._meta,
            "decision": decision,
            "action": action,
            "tickets": tickets,
            "skipped": skipped,
            "going": going,
            "plan": bulk_plan(decision, going, skipped),
            "submit_label": str(decision.act % {"count": going}),
            "reason": reason,
            "error": error,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, self.confirmation_template, context)

    def _decide_all(
        self, request: StaffRequest, queryset: QuerySet[RemovalRequest], decision: Decision, *, reason: str
    ) -> None:
        """Each request in its own transaction: a refused one is reported and the rest go on."""
        done: list[str] = []
        for ticket in queryset.select_related("artist__user").order_by("pk"):
            if decision.name == "approve" and ticket.status in DECIDABLE:
                # In bulk only what needs no second look; the rest is opened and decided one by one.
                weaknesses = evidence.for_request(ticket).weaknesses
                if weaknesses:
                    said = gettext(
                        "%(ticket)s was not approved in bulk: %(why)s. Open it and decide it on its own."
                    )
                    messages.error(request, said % {"ticket": ticket, "why": "; ".join(weaknesses)})
                    continue
            try:
                decision.call(ticket, request.user, reason)
            except REFUSALS as exc:
                messages.error(request, refusal_text(ticket, exc))
            else:
                done.append(str(ticket))
        if done:
            said = str(decision.done_many % {"count": len(done), "tickets": ", ".join(done)})
            messages.success(request, said)
