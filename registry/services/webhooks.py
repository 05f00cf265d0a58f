"""A maintainer's webhook endpoints: creating, deleting, signing secrets, disabling and enabling."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q

from core import clock, crypto, outbound

from ..models import Dataset, DeliveryState, Maintainer, OperatorActionKind, WebhookEndpoint, WebhookSecret
from .audit import operator_action_record

SECRET_ROTATION_OVERLAP = timedelta(hours=24)


def _new_signing_secret() -> str:
    import base64

    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@transaction.atomic
def webhook_endpoint_create(
    *, maintainer: Maintainer, url: str, event_types: Sequence[str], datasets: Sequence[Dataset] = ()
) -> tuple[WebhookEndpoint, str]:
    """Raises outbound.OutboundRefused when `url` could never be delivered to (not a public address)."""
    outbound.vet_destination(url)
    endpoint = WebhookEndpoint.objects.create(
        maintainer=maintainer, url=url, event_types=sorted(set(event_types))
    )
    if datasets:
        endpoint.datasets.set(datasets)
    secret = _new_signing_secret()
    WebhookSecret.objects.create(endpoint=endpoint, secret_encrypted=crypto.encrypt(secret))
    return endpoint, secret


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Soft-delete: the delivery log stays for the maintainer's and our records."""
    now = clock.now()
    endpoint.deleted_at = now
    endpoint.enabled = False
    endpoint.disabled_reason = "deleted by the maintainer"
    endpoint.disabled_at = now
    endpoint.save(update_fields=["deleted_at", "enabled", "disabled_reason", "disabled_at"])
    endpoint.deliveries.filter(state=DeliveryState.PENDING).update(
        state=DeliveryState.FAILED, last_error="endpoint deleted", next_attempt_at=None
    )


@transaction.atomic
def webhook_secret_rotate(*, endpoint: WebhookEndpoint) -> str:
    """A new signing secret; the current ones keep signing alongside it for 24 hours."""
    now = clock.now()
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.secrets.filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now + SECRET_ROTATION_OVERLAP)
    ).update(expires_at=now + SECRET_ROTATION_OVERLAP)
    secret = _new_signing_secret()
    WebhookSecret.objects.create(endpoint=endpoint, secret_encrypted=crypto.encrypt(secret))
    return secret


def webhook_live_secrets(endpoint: WebhookEndpoint) -> list[str]:
    now = clock.now()
    return [
        crypto.decrypt(s.secret_encrypted)
        for s in endpoint.secrets.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now)).order_by(
            "-created_at"
        )
    ]


@transaction.atomic
def webhook_endpoint_disable(
    *, endpoint: WebhookEndpoint, reason: str, actor: User | None = None
) -> WebhookEndpoint:
    """Stop calling an endpoint; its pending deliveries fail (redeliverable) and its organisation is told.

    Called by the delivery engine (410, or failing for 5 days; no actor) and by
    operators (`actor`); either way an audit row says who and why. Disabling a
    disabled endpoint changes nothing and sends no second email.
    """
    from django.core.mail import send_mail

    endpoint = WebhookEndpoint.objects.select_for_update().select_related("maintainer").get(pk=endpoint.pk)
    if not endpoint.enabled:
        return endpoint
    endpoint.enabled = False
    endpoint.disabled_reason = reason[:200]
    endpoint.disabled_at = clock.now()
    endpoint.save(update_fields=["enabled", "disabled_reason", "disabled_at"])
    endpoint.deliveries.filter(state=DeliveryState.PENDING).update(
        state=DeliveryState.FAILED, next_attempt_at=None, last_error=f"endpoint disabled: {reason}"
    )
    operator_action_record(
        actor=actor,
        kind=OperatorActionKind.ENDPOINT_DISABLED,
        obj=endpoint,
        detail={"public_id": endpoint.public_id, "url": endpoint.url, "reason": endpoint.disabled_reason},
    )
    url, public_id, email = endpoint.url, endpoint.public_id, endpoint.maintainer.email
    transaction.on_commit(
        lambda: send_mail(
            subject=f"Removal Desk: webhook endpoint {url} disabled",
            message=(
                f"Your webhook endpoint {url} ({public_id}) was disabled: {reason}.\n\n"
                "Removals are still listed in the pull feed (GET /api/v1/datasets/{slug}/removals/). "
                "Fix the endpoint, enable it again, and redeliver failed deliveries from the API "
                "or ask us to."
            ),
            from_email=None,
            recipient_list=[email],
            fail_silently=True,
        )
    )
    return endpoint


@transaction.atomic
def webhook_endpoint_enable(*, endpoint: WebhookEndpoint, actor: User | None = None) -> WebhookEndpoint:
    """Call an endpoint again, with a clean slate: the 5-day failure count starts over.

    Deliveries that failed while it was disabled stay failed until redelivered.
    A deleted endpoint cannot be enabled.
    """
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if endpoint.deleted_at is not None:
        raise ValueError("A deleted endpoint cannot be enabled.")
    previous_reason = endpoint.disabled_reason
    endpoint.enabled = True
    endpoint.disabled_reason = ""
    endpoint.disabled_at = None
    endpoint.failing_since = None
    endpoint.save(update_fields=["enabled", "disabled_reason", "disabled_at", "failing_since"])
    operator_action_record(
        actor=actor,
        kind=OperatorActionKind.ENDPOINT_ENABLED,
        obj=endpoint,
        detail={"public_id": endpoint.public_id, "url": endpoint.url, "was_disabled_for": previous_reason},
    )
    return endpoint
