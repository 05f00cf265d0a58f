"""Listens to requests_app's and registry's signals: where the partners app hears what happened
upstream (a ticket submitted) and downstream (a dispute about a removal a partner filed)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from registry import signals as registry_signals
from requests_app import signals
from requests_app.models import RemovalRequest

from .services.disputes import filing_dispute_record
from .services.late_conflicts import ticket_partner_conflicts_record


@receiver(signals.ticket_submitted)
def partner_rows_put_in_conflict(sender: Any, ticket: RemovalRequest, **kwargs: Any) -> None:
    ticket_partner_conflicts_record(ticket=ticket)


@receiver(registry_signals.dispute_changed)
def partner_dispute_audited(sender: Any, dispute: Any, what: str, message: Any, **kwargs: Any) -> None:
    filing_dispute_record(dispute=dispute, what=what, message=message)
