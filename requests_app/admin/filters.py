"""The queue's filters: age, SLA, assignee, evidence on a verified domain, conflicts."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.text import parse_id, printable

from .. import evidence, selectors
from ..models import RequestConflict

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class AgeFilter(admin.SimpleListFilter):
    title = _("age since submission")
    parameter_name = "age"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, StrOrPromise]]:
        return [("1d", _("under a day")), ("7d", _("1 to 7 days")), ("old", _("over 7 days"))]

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
    title = _("SLA")
    parameter_name = "sla"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, StrOrPromise]]:
        return [("overdue", _("overdue")), ("due_soon", _("due soon")), ("on_track", _("on track"))]

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
    title = _("assignee")
    parameter_name = "assignee"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, StrOrPromise]]:
        people = [(str(u.pk), u.get_username()) for u in selectors.moderators()]
        return [("mine", _("mine")), ("unassigned", _("unassigned")), *people]

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
    title = _("evidence")
    parameter_name = "evidence"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, StrOrPromise]]:
        return [("domain", _("copies on a verified domain")), ("none", _("none on a verified domain"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() in ("domain", "none"):
            ids = evidence.request_ids_with_domain_evidence()
            if self.value() == "domain":
                return queryset.filter(pk__in=ids)
            return queryset.exclude(pk__in=ids)
        return queryset


class ConflictFilter(admin.SimpleListFilter):
    title = _("conflicts")
    parameter_name = "conflict"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, StrOrPromise]]:
        return [("open", _("unresolved conflict")), ("any", _("any conflict")), ("none", _("no conflict"))]

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
