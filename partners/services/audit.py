"""The audit row every change to a partner writes (PartnerAction), in the change's transaction."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from ..models import CreatorClaim, Filing, FilingPolicy, Partner, PartnerAction, PartnerDomain, PartnerKey

_OBJECT_TYPES: dict[type, str] = {
    Partner: "partner",
    PartnerDomain: "domain",
    PartnerKey: "key",
    FilingPolicy: "policy",
    Filing: "filing",
    CreatorClaim: "claim",
}

Audited = Partner | PartnerDomain | PartnerKey | FilingPolicy | Filing | CreatorClaim


def partner_action_record(
    *, actor: User | None, kind: str, obj: Audited, detail: dict[str, Any]
) -> PartnerAction:
    partner_id = obj.pk if isinstance(obj, Partner) else obj.partner_id
    return PartnerAction.objects.create(
        actor=actor,
        kind=kind,
        partner_id=partner_id,
        object_type=_OBJECT_TYPES[type(obj)],
        object_id=obj.pk,
        detail=detail,
    )
