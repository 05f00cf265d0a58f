"""The desk: one page with everything needed to judge a request (identity and ownership evidence
side by side, conflicts, the timeline), and the small POST views behind its forms.

Moderators never edit a request's row: every decision, note and reply is a POST that calls a
service, which locks the row, checks the transition table and writes the timeline.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, wraps
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from core.admin import StaffRequest, outside_text_problem
from core.text import parse_id
from registry.selectors import removals_for_source

from .. import (
    converters,  # noqa: F401  (registers <id:...>, used by get_urls)
    evidence,
    selectors,
    services,
    summary,
)
from ..models import (
    PUBLIC_EVENT_KINDS,
    ConflictResolution,
    EventKind,
    IdentityProof,
    RemovalRequest,
    RequestConflict,
    TicketEvent,
)
from ..workflow import ASSIGNABLE, DECIDABLE, REJECTABLE, REVIEWABLE
from .decisions import DECISIONS, REFUSALS, age, refusal_text, waiting_on
from .queue import QueueAdmin

# The sample sizes offered on a big request's desk (any other size can be typed).
SAMPLE_SIZES = (20, 50, 100)


@admin.register(RemovalRequest)
class RemovalRequestAdmin(QueueAdmin):
    change_form_template = "admin/requests_app/removalrequest/change_form.html"
    fieldsets = (
        (None, {"fields": ("reference", "status", "basis", "priority", "assignee", "sla_due_at")}),
        (_("What the artist said"), {"fields": ("description", "statement", "signed_name", "signed_at")}),
        (_("Decision"), {"fields": ("decision_reason", "decided_at", "completed_at")}),
        (_("Times"), {"fields": ("created_at", "submitted_at", "updated_at"), "classes": ("collapse",)}),
    )

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
        # A big request is judged from its summary and a random sample, never work by work.
        big = summary.for_request(ticket) if summary.is_big(ticket) else None
        sample = selectors.latest_sample(ticket) if big else None
        found = (
            evidence.for_request(ticket, work_ids=sample.params["works"] if sample else ())
            if big
            else (evidence.for_request(ticket))
        )
        events = list(ticket.events.select_related("actor"))
        can_moderate = self.has_moderate_permission(request)
        holds = selectors.approval_holds(ticket)
        # Conflicts lost hold only their works: approval is refused only when nothing else is left.
        lost = holds.lost_conflicts if not ticket.works.exclude(pk__in=holds.lost).exists() else []
        suggested_reason = winners = ""
        if lost:
            winners = ", ".join(f"{c.other(ticket)} ({c.other(ticket).artist.display_name})" for c in lost)
            suggested_reason = ngettext(
                "Another artist's claim to the same image was upheld (%(winners)s), so we cannot send "
                "removals for this request.",
                "Other artists' claims to the same images were upheld (%(winners)s), so we cannot send "
                "removals for this request.",
                len(lost),
            ) % {"winners": winners}
        return {
            "desk": {
                "ticket": ticket,
                "artist": artist,
                "proofs": proofs,
                "evidence": found,
                "conflicts": found.conflicts,
                "partner_conflicts": selectors.partner_conflict_groups(ticket),
                "public_events": [e for e in events if e.kind in PUBLIC_EVENT_KINDS],
                "internal_events": [e for e in events if e.kind not in PUBLIC_EVENT_KINDS],
                "removals": list(removals_for_source(ticket.reference))
                if ticket.reference and not big
                else [],
                # Per data set for a big request: tens of thousands of removals are no list to read.
                # A domain request: its lines, the proof of each, and what each covers in each data set.
                "scopes": selectors.scope_rows(ticket, count_now=True),
                "progress": selectors.receipt_progress(ticket.reference) if ticket.reference and big else [],
                "big": big,
                "sample": sample,
                "sample_sizes": SAMPLE_SIZES,
                "sample_max": settings.DESK_SAMPLE_MAX,
                "sample_url": reverse("admin:requests_app_removalrequest_sample", args=[ticket.pk]),
                "held_open": len(holds.held),
                "held_works": selectors.held_works_count(ticket),
                "can_moderate": can_moderate,
                "can_start_review": can_moderate and ticket.status in REVIEWABLE,
                "can_approve": can_moderate and ticket.status in DECIDABLE and not lost,
                "can_reject": can_moderate and ticket.status in REJECTABLE,
                "can_ask_info": can_moderate and ticket.status in DECIDABLE,
                "lost_to": winners,
                "suggested_reason": suggested_reason,
                "waiting_on": waiting_on(ticket.status),
                "can_assign": can_moderate and ticket.status in ASSIGNABLE,
                "sla_state": services.sla_state(ticket),
                "moderators": list(selectors.moderators()) if can_moderate else [],
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
                "age": age(ticket.submitted_at or ticket.created_at),
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
                "<path:object_id>/partner-conflicts/<str:filing_ref>/resolve/",
                view(require_POST(self._checked_post(self.partner_conflict_resolve_view))),
                name="requests_app_removalrequest_partner_conflict_resolve",
            ),
            path(
                "<path:object_id>/sample/",
                view(require_POST(self._checked_post(self.sample_view))),
                name="requests_app_removalrequest_sample",
            ),
            path(
                "<path:object_id>/sample/<id:event_id>/review/",
                view(require_POST(self._checked_post(self.sample_review_view))),
                name="requests_app_removalrequest_sample_review",
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
            messages.error(request, gettext("%(problem)s Nothing was saved.") % {"problem": problem})
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

    def decide_view(self, request: StaffRequest, object_id: str) -> HttpResponse:
        ticket = self._ticket_for_moderation(request, object_id)
        decision = DECISIONS.get(request.POST.get("decision", ""))
        if decision is None:
            messages.error(request, gettext("Choose start review, approve or reject."))
            return HttpResponseRedirect(self._change_url(ticket))
        reason = request.POST.get("reason", "").strip()
        if decision.reason_required and not reason:
            messages.error(request, gettext("Give the artist a reason for the rejection."))
            return HttpResponseRedirect(self._change_url(ticket))
        try:
            decision.call(ticket, request.user, reason)
        except REFUSALS as exc:
            messages.error(request, refusal_text(ticket, exc))
        else:
            messages.success(request, str(decision.done_one) % {"ticket": ticket})
        return HttpResponseRedirect(self._change_url(ticket))

    def note_view(self, request: StaffRequest, object_id: str) -> HttpResponse:
        ticket = self._ticket_for_moderation(request, object_id)
        public = request.POST.get("visibility") == "public"
        try:
            services.request_note_add(
                ticket=ticket,
                moderator=request.user,
                message=request.POST.get("message", ""),
                public=public,
            )
        except services.ActionRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(
                request,
                gettext("Reply sent to the artist.")
                if public
                else gettext("Internal note added (moderators only)."),
            )
        return HttpResponseRedirect(self._change_url(ticket) + "#timeline")

    def assign_view(self, request: StaffRequest, object_id: str) -> HttpResponse:
        ticket = self._ticket_for_moderation(request, object_id)
        choice = request.POST.get("assignee", "")
        assignee: User | None
        if choice == "me":
            assignee = request.user
        elif choice == "":
            assignee = None
        else:
            assignee_id = parse_id(choice)
            assignee = None if assignee_id is None else selectors.moderators().filter(pk=assignee_id).first()
            if assignee is None:
                messages.error(request, gettext("Choose a moderator."))
                return HttpResponseRedirect(self._change_url(ticket))
        try:
            services.request_assign(ticket=ticket, moderator=request.user, assignee=assignee)
        except REFUSALS as exc:
            messages.error(request, refusal_text(ticket, exc))
        else:
            if assignee:
                said = gettext("%(ticket)s is assigned to %(who)s.") % {
                    "ticket": ticket,
                    "who": assignee.get_username(),
                }
            else:
                said = gettext("%(ticket)s is assigned to nobody.") % {"ticket": ticket}
            messages.success(request, said)
        return HttpResponseRedirect(self._change_url(ticket))

    def ask_info_view(self, request: StaffRequest, object_id: str) -> HttpResponse:
        ticket = self._ticket_for_moderation(request, object_id)
        try:
            services.request_ask_info(
                ticket=ticket,
                moderator=request.user,
                message=request.POST.get("message", ""),
                canned=request.POST.get("canned", ""),
            )
        except REFUSALS as exc:
            messages.error(request, refusal_text(ticket, exc))
        else:
            said = gettext("Asked the artist for more information; %(ticket)s needs information.")
            messages.success(request, said % {"ticket": ticket})
        return HttpResponseRedirect(self._change_url(ticket))

    def conflict_resolve_view(self, request: StaffRequest, object_id: str, conflict_id: int) -> HttpResponse:
        ticket = self._ticket_for_moderation(request, object_id)
        conflict = (
            RequestConflict.objects.filter(pk=conflict_id).filter(Q(first=ticket) | Q(second=ticket)).first()
        )
        if conflict is None:
            raise PermissionDenied
        return self._conflict_settle(
            request,
            ticket,
            partial(services.conflict_resolve, conflict=conflict),
            done=gettext("Conflict resolved; both requests' timelines record it."),
            anchor="#evidence",
        )

    def partner_conflict_resolve_view(
        self, request: StaffRequest, object_id: str, filing_ref: str
    ) -> HttpResponse:
        ticket = self._ticket_for_moderation(request, object_id)
        return self._conflict_settle(
            request,
            ticket,
            partial(services.partner_conflict_resolve, ticket=ticket, filing_ref=filing_ref),
            done=gettext("Conflict with the partner's filing resolved; the timeline records it."),
            anchor="#partner-conflicts",
        )

    def _conflict_settle(
        self,
        request: StaffRequest,
        ticket: RemovalRequest,
        resolve: Callable[..., object],
        *,
        done: str,
        anchor: str,
    ) -> HttpResponse:
        """Either kind of conflict: resolved as the moderator chose, with their note; the desk
        says so (or why not) and goes back to where the conflict is shown."""
        try:
            resolve(
                moderator=request.user,
                resolution=request.POST.get("resolution", ""),
                note=request.POST.get("note", ""),
            )
        except REFUSALS as exc:
            messages.error(request, refusal_text(ticket, exc))
        else:
            messages.success(request, done)
        return HttpResponseRedirect(self._change_url(ticket) + anchor)

    def sample_view(self, request: StaffRequest, object_id: str) -> HttpResponse:
        """Draw a random sample of a big request's works (size from the choices or typed)."""
        ticket = self._ticket_for_moderation(request, object_id)
        raw_size = request.POST.get("custom_size", "").strip() or request.POST.get("size", "")
        raw_seed = request.POST.get("seed", "").strip()
        size, seed = parse_id(raw_size), parse_id(raw_seed)
        if size is None or (raw_seed and seed is None):
            messages.error(request, gettext("Give the sample size (and the seed, if any) as whole numbers."))
            return HttpResponseRedirect(self._change_url(ticket) + "#works")
        try:
            drawn = services.request_sample_draw(ticket=ticket, moderator=request.user, size=size, seed=seed)
        except REFUSALS as exc:
            messages.error(request, refusal_text(ticket, exc))
        else:
            said = ngettext(
                "Sample of %(size)d work drawn (seed %(seed)d); recorded.",
                "Sample of %(size)d works drawn (seed %(seed)d); recorded.",
                drawn.params["size"],
            )
            messages.success(request, said % {"size": drawn.params["size"], "seed": drawn.params["seed"]})
        return HttpResponseRedirect(self._change_url(ticket) + "#works")

    def sample_review_view(self, request: StaffRequest, object_id: str, event_id: int) -> HttpResponse:
        """Record which works of the sample shown the moderator checked, and which they doubt."""
        ticket = self._ticket_for_moderation(request, object_id)
        sample = TicketEvent.objects.filter(pk=event_id, request=ticket, kind=EventKind.SAMPLE).first()
        if sample is None:
            raise PermissionDenied
        marks: dict[str, list[int]] = {"checked": [], "doubtful": []}
        for key, value in request.POST.items():
            work_id = parse_id(key.removeprefix("mark-")) if key.startswith("mark-") else None
            if work_id is not None and value in marks:
                marks[value].append(work_id)
        try:
            services.request_sample_review(
                ticket=ticket,
                moderator=request.user,
                sample=sample,
                checked=marks["checked"],
                doubtful=marks["doubtful"],
            )
        except REFUSALS as exc:
            messages.error(request, refusal_text(ticket, exc))
        else:
            checked, doubtful = len(marks["checked"]), len(marks["doubtful"])
            said = gettext("Sample review recorded: %(checked)d checked, %(doubtful)d doubtful.")
            messages.success(request, said % {"checked": checked, "doubtful": doubtful})
        return HttpResponseRedirect(self._change_url(ticket) + "#works")

    def proof_review_view(self, request: StaffRequest, object_id: str, proof_id: int) -> HttpResponse:
        ticket = self._ticket_for_moderation(request, object_id)
        proof = IdentityProof.objects.filter(pk=proof_id, artist_id=ticket.artist_id).first()
        if proof is None:
            raise PermissionDenied
        try:
            services.proof_document_review(
                proof=proof,
                moderator=request.user,
                accept=request.POST.get("verdict") == "accept",
                note=request.POST.get("note", ""),
            )
        except REFUSALS as exc:
            messages.error(request, refusal_text(ticket, exc))
        else:
            messages.success(request, gettext("Document review recorded; the artist was told by email."))
        return HttpResponseRedirect(self._change_url(ticket) + "#proofs")
