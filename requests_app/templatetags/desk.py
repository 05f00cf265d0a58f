"""The moderators' counts on the admin index page, and the desk's small formatting filters."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import template
from django.conf import settings
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from registry.hashing import code_to_hex
from requests_app import selectors
from requests_app.models import RemovalRequest
from requests_app.workflow import OPEN, QUEUE

register = template.Library()


@register.simple_tag(takes_context=True)
def desk_counts(context: Any) -> dict[str, Any] | None:
    """Counts per status and per SLA state, each with a link to the filtered queue; one query."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.has_perm("requests_app.view_removalrequest"):
        return None
    now = timezone.now()
    soon = now + timedelta(hours=settings.SLA_DUE_SOON_HOURS)
    running = Q(status__in=list(settings.SLA_HOURS), sla_due_at__isnull=False)
    counts = RemovalRequest.objects.aggregate(
        **{status.value: Count("pk", filter=Q(status=status)) for status in QUEUE},
        overdue=Count("pk", filter=running & Q(sla_due_at__lte=now)),
        due_soon=Count("pk", filter=running & Q(sla_due_at__gt=now, sla_due_at__lte=soon)),
        unassigned=Count("pk", filter=Q(status__in=list(OPEN), assignee__isnull=True)),
        mine=Count("pk", filter=Q(status__in=list(OPEN), assignee=user)),
        conflicts=Count("pk", filter=selectors.open_conflict_exists()),
    )
    base = reverse("admin:requests_app_removalrequest_changelist")
    rows = [(status.label, counts[status.value], f"{base}?status__exact={status.value}") for status in QUEUE]
    open_only = "&status__in=" + ",".join(OPEN)
    attention = [
        (gettext("Overdue"), counts["overdue"], f"{base}?sla=overdue"),
        (gettext("Due soon"), counts["due_soon"], f"{base}?sla=due_soon"),
        (gettext("Unassigned (open)"), counts["unassigned"], f"{base}?assignee=unassigned{open_only}"),
        (gettext("Mine (open)"), counts["mine"], f"{base}?assignee=mine{open_only}"),
        (gettext("Unresolved conflicts"), counts["conflicts"], f"{base}?conflict=open"),
    ]
    return {"statuses": rows, "attention": attention}


@register.filter
def hash_hex(code: int | None) -> str:
    """A stored 64-bit hash as the 16 hex digits the hasher prints (stored signed in the database)."""
    return code_to_hex(code) or ""
