"""Listens to requests_app's signals: the one place requests_app tells the partners app something."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from requests_app import signals
from requests_app.models import RemovalRequest

from .services.late_conflicts import ticket_partner_conflicts_record


@receiver(signals.ticket_submitted)
def partner_rows_put_in_conflict(sender: Any, ticket: RemovalRequest, **kwargs: Any) -> None:
    ticket_partner_conflicts_record(ticket=ticket)
