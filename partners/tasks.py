"""Thin Celery tasks over partners' services. Each is safe to run twice."""

from __future__ import annotations

from celery import shared_task

from core.retrying import DatabaseRetryTask

from . import services


@shared_task(base=DatabaseRetryTask, name="partners.tasks.filing_process", acks_late=True, ignore_result=True)
def filing_process(filing_id: int) -> str:
    """Match and decide a filing (or resume it after its cursor). A second copy finds it claimed and stops."""
    filing = services.filing_claim(filing_id)
    if filing is None:
        return "not-claimed"
    return services.filing_run(filing).state


@shared_task(base=DatabaseRetryTask, name="partners.tasks.filings_resume", ignore_result=True)
def filings_resume() -> int:
    """Re-queue filings whose message was lost or whose worker died (beat), and file filings whose
    reading stopped the same way."""
    stale = services.filings_stale()
    for filing_id in stale:
        filing_process.delay(filing_id)
    unread = services.file_filings_stale()
    for filing_id in unread:
        filing_file_read.delay(filing_id)
    # Held filings whose rows on the desk were never matched for it (a lost message, a dead worker).
    services.file_uploads_expire()  # uploads never finished: their partial bytes are deleted
    unmatched = services.filings_evidence_missing()
    for filing_id in unmatched:
        filing_evidence.delay(filing_id)
    return len(stale) + len(unread) + len(unmatched)


@shared_task(
    base=DatabaseRetryTask, name="partners.tasks.filing_file_read", acks_late=True, ignore_result=True
)
def filing_file_read(filing_id: int) -> str:
    """Read a file filing's rows (or resume after its cursor), then queue its matching. A second copy
    finds it claimed and stops."""
    filing = services.file_claim(filing_id)
    if filing is None:
        return "not-claimed"
    return services.file_read(filing).state


@shared_task(
    base=DatabaseRetryTask, name="partners.tasks.filing_evidence", acks_late=True, ignore_result=True
)
def filing_evidence(filing_id: int) -> int:
    """Match a held filing's rows on the desk (its sample failed) for the desk to show. Idempotent."""
    from .models import Filing

    filing = Filing.objects.filter(pk=filing_id).first()
    return services.desk_rows_refresh(filing=filing) if filing is not None else 0
