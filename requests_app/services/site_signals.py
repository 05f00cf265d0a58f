"""What an artist's verified domain already says about AI training, fetched and recorded.

Fetched inline, when the artist asks, rather than in a Celery task: the artist is on the page
waiting for the answer (as with "Check now" on a proof), the three files are fetched side by
side under one short deadline (SITE_SIGNALS_TIMEOUT_SECONDS), and nothing is lost if it fails:
the page says what went wrong and the artist presses again. A queue would add a page that polls
and a sweep for nothing. The fetch runs outside any transaction; only its result is written.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import selectors, site_signals
from ..models import IdentityProof, SiteSignals
from ._ticket import ActionRefused

# Scope lines kept per domain: a domain request is about a few places, and a hostile robots.txt
# can name 20,000. The page says when there were more, and suggests the whole host instead.
SCOPE_LINES_MAX = 100


def site_signals_fetch(*, proof: IdentityProof, actor: User) -> SiteSignals:
    """Read robots.txt, ai.txt and tdmrep.json of the proof's verified domain; keep what they say.

    Refused (ActionRefused, nothing written) for another artist's proof, a proof that is not a
    verified domain, or a second fetch within SITE_SIGNALS_MIN_SECONDS.
    """
    if proof.artist.user_id != actor.pk:
        raise ActionRefused(_("This proof belongs to another account."))
    refusal = selectors.site_signals_refusal(proof)
    if refusal:
        raise ActionRefused(refusal)
    previous = selectors.site_signals_of(proof)
    if (
        previous is not None
        and (timezone.now() - previous.fetched_at).total_seconds() < settings.SITE_SIGNALS_MIN_SECONDS
    ):
        raise ActionRefused(
            _("Read a moment ago; wait %(seconds)s seconds before reading your site again.")
            % {"seconds": settings.SITE_SIGNALS_MIN_SECONDS}
        )
    results = site_signals.fetch_site(proof.target)
    scope = site_signals.merge([line for result in results.values() for line in result.reading.scope])
    with transaction.atomic():
        record, _created = SiteSignals.objects.select_for_update().update_or_create(
            artist=proof.artist,
            site=proof.target,
            defaults={
                "fetched_at": timezone.now(),
                "files": {key: result.as_json() for key, result in results.items()},
                "scope": [line.scope for line in scope[:SCOPE_LINES_MAX]],
                "scope_total": len(scope),
            },
        )
    return record
