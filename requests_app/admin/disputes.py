"""The dispute desk: a queue of disputes with their clock, and one page per dispute with the
disputed removal beside the original request's evidence (or the partner filing it came from),
the exchange, and the forms that note and decide (registry.services.dispute_decide).

The moderator sees both sides; what the disputant receives is written by registry.dispute_mail,
which never names the artist.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from core.admin import ReadOnlyAdmin, StaffRequest, outside_text_problem
from core.text import parse_id
from registry import services as registry_services
from registry.models import DISPUTE_OPEN_STATES, Dispute, DisputeState, RemovalSource

from ..models import Match, RemovalRequest
from .decisions import clock

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

DECIDE_PERMISSION = "registry.decide_dispute"


def time_left(dispute: Dispute, now: Any = None) -> str:
    """The counter-notice clock as the queue shows it: "3d 4h left", "overdue 2d", or "—"."""
    if dispute.state not in DISPUTE_OPEN_STATES or dispute.response_due_at is None:
        return "—"
    delta: timedelta = dispute.response_due_at - (now or timezone.now())
    hours = int(abs(delta.total_seconds()) // 3600)
    days, hours = divmod(hours, 24)
    text = clock(days=days, hours=hours)
    if delta.total_seconds() > 0:
        return gettext("%(time)s left") % {"time": text}
    return gettext("ran out %(time)s ago") % {"time": text}


class DisputeStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, StrOrPromise]]:
        return [("waiting", _("Waiting for a decision")), *((s.value, str(s.label)) for s in DisputeState)]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Dispute]) -> QuerySet[Dispute]:
        value = self.value()
        if value == "waiting":
            return queryset.filter(state__in=(DisputeState.ANSWERED, DisputeState.DUE))
        if value in DisputeState.values:
            return queryset.filter(state=value)
        return queryset


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    change_form_template = "admin/registry/dispute/change_form.html"
    list_display = ("public_id", "state", "reason", "removal_id_shown", "filer", "clock", "created_at")
    list_filter = (DisputeStateFilter, "reason", "filer")
    list_select_related = ("removal__dataset",)
    search_fields = ("public_id", "removal__public_id")
    ordering = ("response_due_at", "id")
    fields = (
        "public_id",
        "state",
        "reason",
        "filer",
        "created_at",
        "opened_at",
        "response_due_at",
        "decided_at",
    )

    @admin.display(description=_("removal"))
    def removal_id_shown(self, obj: Dispute) -> str:
        return f"{obj.removal.public_id} ({obj.removal.dataset.slug})"

    @admin.display(description=_("clock"))
    def clock(self, obj: Dispute) -> str:
        return time_left(obj)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Dispute]:
        # The desk never lists disputes whose address is not confirmed: nobody was told of them.
        return super().get_queryset(request).exclude(state=DisputeState.UNCONFIRMED)

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.has_perm(DECIDE_PERMISSION)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        dispute = self._dispute(request, object_id)
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "desk": self._desk(request, dispute)}
        )

    def _desk(self, request: HttpRequest, dispute: Dispute) -> dict[str, Any]:
        removal = dispute.removal
        ticket = None
        matches: list[Match] = []
        if removal.source == RemovalSource.ARTIST:
            ticket = (
                RemovalRequest.objects.select_related("artist__user")
                .filter(reference=removal.source_ref)
                .first()
            )
        if ticket is not None and removal.item_id is not None:
            matches = list(
                Match.objects.filter(work__request=ticket, item_id=removal.item_id).select_related("work")
            )
        return {
            "dispute": dispute,
            "removal": removal,
            "clock": time_left(dispute),
            "exchange": list(dispute.messages.select_related("actor")),
            "ticket": ticket,
            "ticket_url": reverse("admin:requests_app_removalrequest_change", args=[ticket.pk])
            if ticket
            else "",
            "matches": matches,
            "partner_filing": removal.source_ref if removal.source == RemovalSource.PARTNER else "",
            "evidence_url": reverse("admin:registry_dispute_evidence", args=[dispute.pk])
            if dispute.evidence
            else "",
            "can_decide": dispute.state in DISPUTE_OPEN_STATES and self.has_decide_permission(request),
            "decide_url": reverse("admin:registry_dispute_decide", args=[dispute.pk]),
            "note_url": reverse("admin:registry_dispute_note", args=[dispute.pk]),
        }

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view  # staff check and CSRF protection
        return [
            path(
                "<path:object_id>/decide/",
                view(require_POST(self._checked(self.decide_view))),
                name="registry_dispute_decide",
            ),
            path(
                "<path:object_id>/note/",
                view(require_POST(self._checked(self.note_view))),
                name="registry_dispute_note",
            ),
            path(
                "<path:object_id>/evidence/",
                view(require_GET(self.evidence_view)),
                name="registry_dispute_evidence",
            ),
            *super().get_urls(),
        ]

    def _dispute(self, request: HttpRequest, object_id: str) -> Dispute:
        if parse_id(unquote(object_id)) is None:
            raise Http404("No such dispute.")
        dispute = (
            self.get_queryset(request)
            .select_related("removal__dataset", "maintainer")
            .filter(pk=unquote(object_id))
            .first()
        )
        if dispute is None:
            raise Http404("No such dispute.")
        if not self.has_view_permission(request, dispute):
            raise PermissionDenied
        return dispute

    def _back(self, dispute: Dispute) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:registry_dispute_change", args=[dispute.pk]))

    def _checked(self, handler: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        """Every form's fields pass core.text's check first: a refused value is a message, nothing written."""

        @wraps(handler)
        def checked(request: StaffRequest, object_id: str) -> HttpResponse:
            dispute = self._dispute(request, object_id)
            if not self.has_decide_permission(request):
                raise PermissionDenied
            problem = outside_text_problem(request.POST)
            if problem is not None:
                messages.error(request, gettext("%(problem)s Nothing was saved.") % {"problem": problem})
                return self._back(dispute)
            return handler(request, dispute)

        return checked

    def decide_view(self, request: StaffRequest, dispute: Dispute) -> HttpResponse:
        outcome = request.POST.get("outcome", "")
        try:
            registry_services.dispute_decide(
                dispute=dispute,
                moderator=request.user,
                outcome=outcome,
                reason=request.POST.get("reason", ""),
            )
        except registry_services.DisputeRefused as exc:
            said = gettext("%(dispute)s: %(why)s Nothing was changed.")
            messages.error(request, said % {"dispute": dispute.public_id, "why": exc.message})
        else:
            if outcome == "revoke":
                said = gettext(
                    "%(dispute)s decided, removal %(removal)s revoked: maintainers are sent removal.revoked."
                )
            else:
                said = gettext("%(dispute)s decided, removal %(removal)s upheld: the removal stays.")
            messages.success(
                request, said % {"dispute": dispute.public_id, "removal": dispute.removal.public_id}
            )
        return self._back(dispute)

    def note_view(self, request: StaffRequest, dispute: Dispute) -> HttpResponse:
        try:
            registry_services.dispute_note(
                dispute=dispute, moderator=request.user, body=request.POST.get("note", "")
            )
        except registry_services.DisputeRefused as exc:
            messages.error(request, gettext("%(problem)s Nothing was saved.") % {"problem": exc.message})
        else:
            messages.success(request, gettext("Note added."))
        return self._back(dispute)

    def evidence_view(self, request: StaffRequest, object_id: str) -> FileResponse:
        """The disputant's file, to moderators only, as a download (never rendered in the page)."""
        dispute = self._dispute(request, object_id)
        if not dispute.evidence:
            raise Http404("This dispute has no file.")
        response = FileResponse(
            dispute.evidence.open("rb"),
            as_attachment=True,
            filename=(dispute.evidence.name or "").rsplit("/", 1)[-1],
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "sandbox"
        return response
