"""Partners' API keys (`rdp_...`): hashed as maintainers' keys are, shown once, revocable."""

from __future__ import annotations

import secrets

from django.contrib.auth.models import User
from django.db import transaction

from core import clock
from registry.services import api_key_hash, live_key_find

from ..models import Partner, PartnerActionKind, PartnerKey
from .audit import partner_action_record

PARTNER_KEY_PREFIX = "rdp_"


@transaction.atomic
def partner_key_create(
    *, partner: Partner, name: str = "default", actor: User | None = None
) -> tuple[PartnerKey, str]:
    """Create a key; the raw key is returned once and never stored. `actor`: the operator, if any."""
    raw = PARTNER_KEY_PREFIX + secrets.token_urlsafe(32)
    key = PartnerKey.objects.create(partner=partner, name=name, prefix=raw[:12], key_hash=api_key_hash(raw))
    partner_action_record(
        actor=actor, kind=PartnerActionKind.KEY_CREATED, obj=key, detail={"prefix": key.prefix, "name": name}
    )
    return key, raw


def partner_key_authenticate(raw: str) -> PartnerKey | None:
    """The live key with this value (its partner loaded), or None."""
    return live_key_find(PartnerKey.objects.select_related("partner"), raw)


@transaction.atomic
def partner_key_revoke(*, key: PartnerKey, actor: User | None = None) -> None:
    """Revoke a key (requests with it get 401 from now on). Revoking a revoked key changes nothing."""
    # The row lock: two operators revoking at once write one revocation and one audit row.
    locked = PartnerKey.objects.select_for_update().get(pk=key.pk)
    if locked.revoked_at is not None:
        key.revoked_at = locked.revoked_at
        return
    key.revoked_at = locked.revoked_at = clock.now()
    locked.save(update_fields=["revoked_at"])
    partner_action_record(
        actor=actor, kind=PartnerActionKind.KEY_REVOKED, obj=locked, detail={"prefix": locked.prefix}
    )
