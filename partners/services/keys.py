"""Partners' API keys (`rdp_...`): hashed as maintainers' keys are, shown once, revocable."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from registry.services import hashed_key_new, hashed_key_revoke, live_key_find

from ..models import Partner, PartnerActionKind, PartnerKey
from .audit import partner_action_record

PARTNER_KEY_PREFIX = "rdp_"


@transaction.atomic
def partner_key_create(
    *, partner: Partner, name: str = "default", actor: User | None = None
) -> tuple[PartnerKey, str]:
    """Create a key; the raw key is returned once and never stored. `actor`: the operator, if any."""
    key, raw = hashed_key_new(PartnerKey, key_prefix=PARTNER_KEY_PREFIX, name=name, partner=partner)
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
    if hashed_key_revoke(key):
        partner_action_record(
            actor=actor, kind=PartnerActionKind.KEY_REVOKED, obj=key, detail={"prefix": key.prefix}
        )
