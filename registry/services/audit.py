"""The audit row every operator change in registry writes (OperatorAction), in the change's transaction."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User

from ..models import ApiKey, Maintainer, OperatorAction, WebhookEndpoint

_OBJECT_TYPES: dict[type, str] = {
    Maintainer: "maintainer",
    ApiKey: "api_key",
    WebhookEndpoint: "webhook_endpoint",
}


def operator_action_record(
    *, actor: User | None, kind: str, obj: Maintainer | ApiKey | WebhookEndpoint, detail: dict[str, Any]
) -> OperatorAction:
    maintainer_id = obj.pk if isinstance(obj, Maintainer) else obj.maintainer_id
    return OperatorAction.objects.create(
        actor=actor,
        kind=kind,
        maintainer_id=maintainer_id,
        object_type=_OBJECT_TYPES[type(obj)],
        object_id=obj.pk,
        detail=detail,
    )
