"""Timeline rows and dates, in the reader's language: `{% load timeline %}`."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.formats import date_format as localized
from django.utils.formats import get_format

from requests_app import timeline
from requests_app.models import EventKind, TicketEvent
from requests_app.workflow import Status

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


@register.filter
def short_day(value: datetime | None) -> str:
    """The date with the month abbreviated, for narrow columns ("1 déc. 2026", "Dec. 1, 2026")."""
    if value is None:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return date_format(local, str(get_format("DATE_FORMAT")).replace("F", "N"))


@register.filter
def event_value(value: str, event: TicketEvent) -> str:
    """An old or new value of a row: a status change's values by their label, others as stored."""
    if event.kind in (EventKind.STATUS, EventKind.CREATED) and value in Status.values:
        return str(Status(value).label)
    return value
