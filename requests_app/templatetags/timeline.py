"""Timeline rows and dates, in the reader's language: `{% load timeline %}`."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.formats import date_format as localized

from requests_app import timeline
from requests_app.models import TicketEvent

register = template.Library()


@register.filter
def event_text(event: TicketEvent) -> str:
    """What the row says, rendered from its params in the active language (or its stored message)."""
    return timeline.event_text(event)


@register.filter
def when(value: datetime | None) -> str:
    """Date and time in the active language's own format ("1 décembre 2026 07:48 UTC")."""
    if value is None:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return f"{localized(local, 'DATETIME_FORMAT')} {date_format(local, 'T')}"


@register.filter
def day(value: datetime | None) -> str:
    """The date alone, in the active language's format ("1 décembre 2026", "Dec. 1, 2026")."""
    if value is None:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return localized(local, "DATE_FORMAT")
