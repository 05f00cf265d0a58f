"""Listens to registry's signals: the one place the arrow registry -> requests_app is reversed."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from registry import signals

from . import services


@receiver(signals.removals_acknowledged)
def complete_acknowledged_requests(sender: Any, source_refs: set[str], **kwargs: Any) -> None:
    for reference in sorted(source_refs):
        services.request_complete_if_acknowledged(reference=reference)


@receiver(signals.removals_rematched)
def record_rematched_copies(sender: Any, source_refs: set[str], **kwargs: Any) -> None:
    for reference in sorted(source_refs):
        services.request_copies_found(reference=reference)


@receiver(signals.grants_rematched)
def record_rematched_licences(sender: Any, grants: dict[str, dict[int, int]], **kwargs: Any) -> None:
    for reference, per_dataset in sorted(grants.items()):
        services.request_licences_extended(reference=reference, per_dataset=per_dataset)


@receiver(signals.dispute_changed)
def record_dispute_step(sender: Any, dispute: Any, what: str, message: Any, **kwargs: Any) -> None:
    services.dispute_step_record(dispute=dispute, what=what, message=message)
