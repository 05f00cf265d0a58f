"""A policy's sample: before anything of a filing is approved automatically, a moderator checks a
random sample of its rows. Passed: the filing is decided by the policy. Failed: it is held, and
every row of it waits for the desk."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from ..choices import in_english
from ..models import (
    Filing,
    FilingPolicy,
    FilingRow,
    FilingState,
    Partner,
    PartnerActionKind,
    RowState,
    SampleState,
)
from .audit import partner_action_record
from .filings import filing_enqueue


class SampleError(ValueError):
    """The filing has no sample waiting for the desk; the message says what it has."""


@transaction.atomic
def filing_sample_hold(*, filing: Filing) -> bool:
    """Draw the filing's sample when its policy asks for one (once), and say whether it is held.

    A filing is held while its sample waits for the desk, and for good once the sample failed.
    """
    locked = Filing.objects.select_for_update().get(pk=filing.pk)
    if locked.sample_state in (SampleState.PENDING, SampleState.FAILED):
        return True
    if locked.sample_state == SampleState.PASSED:
        return False
    partner = Partner.objects.get(pk=locked.partner_id)
    policy = FilingPolicy.objects.get(partner=partner)
    if not (policy.auto_approve_verified_hashed and policy.sample_size and partner.is_active):
        return False  # nothing would be approved automatically: nothing to sample
    pending = FilingRow.objects.filter(filing=locked, state=RowState.PENDING)
    # ORDER BY random() over one filing's rows (at most 10,000): a uniform sample, one query.
    chosen = list(pending.order_by("?").values_list("pk", flat=True)[: policy.sample_size])
    if not chosen:
        return False
    FilingRow.objects.filter(pk__in=chosen).update(state=RowState.SAMPLED)
    Filing.objects.filter(pk=locked.pk).update(state=FilingState.HELD, sample_state=SampleState.PENDING)
    partner_action_record(
        actor=None,
        kind=PartnerActionKind.SAMPLE_DRAWN,
        obj=locked,
        detail={"policy": policy.pk, "settings": policy.settings_dict(), "rows": len(chosen)},
    )
    return True


def _waiting_sample(filing: Filing) -> Filing:
    locked = Filing.objects.select_for_update().get(pk=filing.pk)
    if locked.sample_state != SampleState.PENDING:
        shown = in_english(locked.get_sample_state_display).lower()
        raise SampleError(f"{locked.public_id} has no sample waiting for the desk ({shown}).")
    return locked


@transaction.atomic
def filing_sample_pass(*, filing: Filing, actor: User | None) -> Filing:
    """The moderator found the sample sound: the filing is decided by its policy, sample included."""
    locked = _waiting_sample(filing)
    rows = FilingRow.objects.filter(filing=locked, state=RowState.SAMPLED).update(state=RowState.PENDING)
    locked.sample_state, locked.state, locked.cursor = SampleState.PASSED, FilingState.QUEUED, 0
    locked.save(update_fields=["sample_state", "state", "cursor"])
    partner_action_record(
        actor=actor, kind=PartnerActionKind.SAMPLE_PASSED, obj=locked, detail={"rows": rows}
    )
    filing_id = locked.pk
    transaction.on_commit(lambda: filing_enqueue(filing_id))
    return locked


@transaction.atomic
def filing_sample_fail(*, filing: Filing, actor: User | None, reason: str) -> Filing:
    """The sample failed: nothing of the filing is approved automatically; every row waits for the desk."""
    if not reason.strip():
        raise SampleError("Say why the sample failed: the reason is kept in the partner's audit trail.")
    locked = _waiting_sample(filing)
    rows = FilingRow.objects.filter(filing=locked, state__in=[RowState.SAMPLED, RowState.PENDING]).update(
        state=RowState.WAITING
    )
    locked.sample_state = SampleState.FAILED
    locked.save(update_fields=["sample_state"])
    partner_action_record(
        actor=actor, kind=PartnerActionKind.SAMPLE_FAILED, obj=locked, detail={"rows": rows, "reason": reason}
    )
    return locked
