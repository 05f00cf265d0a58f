"""Thin Celery tasks over requests_app services. Each is safe to run twice."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="requests_app.tasks.work_hash", acks_late=True, ignore_result=True)
def work_hash(work_id: int) -> str:
    return services.work_hash_and_match(work_id=work_id)


@shared_task(name="requests_app.tasks.hashing_sweep", ignore_result=True)
def hashing_sweep() -> int:
    due = services.hashing_due()
    for work_id in due:
        work_hash.delay(work_id)
    return len(due)


@shared_task(name="requests_app.tasks.proofs_recheck", ignore_result=True)
def proofs_recheck() -> int:
    """Expire what is past its date, then re-check verified automatic proofs that are due."""
    services.proofs_expire()
    checked = 0
    for proof_id in services.proofs_recheck_due():
        proof = services.IdentityProof.objects.filter(pk=proof_id).first()
        if proof is not None:
            services.proof_check(proof=proof)
            checked += 1
    return checked


@shared_task(name="requests_app.tasks.proof_documents_purge", ignore_result=True)
def proof_documents_purge() -> int:
    return services.proof_documents_purge()


@shared_task(name="requests_app.tasks.sla_escalate", ignore_result=True)
def sla_escalate() -> int:
    return services.sla_escalate()
