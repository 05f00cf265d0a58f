"""A random sample of a big request's works for a moderator to check, recorded in the audit trail.

The draw is seeded (random.Random(seed) over the request's work ids in id order), so the
same seed on the same works gives the same sample: anyone can redo it from the internal
timeline row, which keeps the size, the seed, the works shown and who drew it. The review of
a sample (which works the moderator checked, which they doubt) is a second row.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from ..models import EventKind, RemovalRequest, TicketEvent
from ._ticket import ActionRefused, _event

SEED_MAX = 2**31 - 1


def sample_ids(work_ids: Sequence[int], *, size: int, seed: int) -> list[int]:
    """The works of a sample, in id order: the same for the same ids, size and seed."""
    ordered = sorted(work_ids)
    return sorted(random.Random(seed).sample(ordered, min(size, len(ordered))))


@transaction.atomic
def request_sample_draw(
    *, ticket: RemovalRequest, moderator: User, size: int, seed: int | None = None
) -> TicketEvent:
    """Draw `size` of the request's works at random (all of them when it has fewer) and record it."""
    if not 1 <= size <= settings.DESK_SAMPLE_MAX:
        raise ActionRefused(
            _("Choose a sample size from 1 to %(max)d works.") % {"max": settings.DESK_SAMPLE_MAX}
        )
    if seed is not None and not 0 <= seed <= SEED_MAX:
        raise ActionRefused(_("A seed is a whole number from 0 to %(max)d.") % {"max": SEED_MAX})
    work_ids = list(ticket.works.values_list("pk", flat=True))
    if not work_ids:
        raise ActionRefused(_("%(reference)s has no works to sample.") % {"reference": ticket.reference})
    seed = secrets.randbelow(SEED_MAX + 1) if seed is None else seed
    chosen = sample_ids(work_ids, size=size, seed=seed)
    return _event(
        ticket,
        kind=EventKind.SAMPLE,
        actor=moderator,
        params={
            "text": "sample_drawn",
            "size": len(chosen),
            "total": len(work_ids),
            "seed": seed,
            "works": chosen,
        },
    )


@transaction.atomic
def request_sample_review(
    *,
    ticket: RemovalRequest,
    moderator: User,
    sample: TicketEvent,
    checked: Sequence[int],
    doubtful: Sequence[int],
) -> TicketEvent:
    """Record which works of `sample` the moderator checked and which they doubt."""
    if sample.request_id != ticket.pk or sample.kind != EventKind.SAMPLE or "works" not in sample.params:
        raise ActionRefused(_("That sample is not one of this request's."))
    shown = set(sample.params["works"])
    checked_ids, doubtful_ids = sorted(set(checked)), sorted(set(doubtful))
    if not set(checked_ids) | set(doubtful_ids) <= shown:
        raise ActionRefused(_("Mark only works of the sample shown."))
    if set(checked_ids) & set(doubtful_ids):
        raise ActionRefused(_("A work is either checked or doubtful, not both."))
    if not checked_ids and not doubtful_ids:
        raise ActionRefused(_("Mark at least one work as checked or doubtful."))
    return _event(
        ticket,
        kind=EventKind.SAMPLE,
        actor=moderator,
        params={
            "text": "sample_reviewed",
            "sample": sample.pk,
            "seed": sample.params["seed"],
            "checked": checked_ids,
            "doubtful": doubtful_ids,
        },
    )
