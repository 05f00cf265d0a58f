"""registry.services.webhooks: endpoints created with an encrypted secret, soft-deleted, rotated with
a 24-hour overlap, disabled (audited, their organisation emailed once) and enabled again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail

from core import clock, crypto
from core.outbound import OutboundRefused
from registry import services
from registry.models import DeliveryState, OperatorAction, OperatorActionKind, WebhookDelivery
from tests.helpers import record_removals


def test_an_endpoint_is_created_with_its_event_types_once_and_its_secret_encrypted(maintainer, dataset):
    endpoint, secret = services.webhook_endpoint_create(
        maintainer=maintainer.maintainer,
        url="https://hooks.example/x",
        event_types=["removal.approved", "removal.approved"],
        datasets=[dataset],
    )
    assert endpoint.event_types == ["removal.approved"] and endpoint.enabled
    assert list(endpoint.datasets.all()) == [dataset]
    [stored] = endpoint.secrets.all()
    assert secret.startswith("whsec_") and secret not in stored.secret_encrypted
    assert crypto.decrypt(stored.secret_encrypted) == secret and stored.expires_at is None
    assert services.webhook_live_secrets(endpoint) == [secret]


def test_the_service_refuses_a_private_address(maintainer, settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    with pytest.raises(OutboundRefused):
        services.webhook_endpoint_create(
            maintainer=maintainer.maintainer, url="http://10.0.0.5/", event_types=["removal.approved"]
        )


def test_deleting_keeps_the_row_and_fails_what_was_still_pending(dataset, endpoint):
    record_removals(dataset, 1)
    [delivery] = WebhookDelivery.objects.filter(endpoint=endpoint)
    assert delivery.state == DeliveryState.PENDING
    services.webhook_endpoint_delete(endpoint=endpoint)
    endpoint.refresh_from_db()
    delivery.refresh_from_db()
    assert endpoint.deleted_at is not None and not endpoint.enabled
    assert endpoint.disabled_reason == "deleted by the maintainer"
    assert (delivery.state, delivery.last_error, delivery.next_attempt_at) == (
        DeliveryState.FAILED,
        "endpoint deleted",
        None,
    )


def test_a_rotated_secret_signs_beside_the_old_one_for_24_hours_only(endpoint):
    [old] = services.webhook_live_secrets(endpoint)
    new = services.webhook_secret_rotate(endpoint=endpoint)
    assert new != old
    assert services.webhook_live_secrets(endpoint) == [new, old]  # newest first
    with clock.travel(services.webhooks.SECRET_ROTATION_OVERLAP - timedelta(minutes=1)):
        assert services.webhook_live_secrets(endpoint) == [new, old]
    with clock.travel(services.webhooks.SECRET_ROTATION_OVERLAP + timedelta(minutes=1)):
        assert services.webhook_live_secrets(endpoint) == [new]


def test_rotating_twice_never_extends_an_expiring_secret(endpoint):
    [first] = services.webhook_live_secrets(endpoint)
    services.webhook_secret_rotate(endpoint=endpoint)
    expires = endpoint.secrets.get(expires_at__isnull=False).expires_at
    with clock.travel(timedelta(hours=1)):
        services.webhook_secret_rotate(endpoint=endpoint)
    assert [crypto.decrypt(s.secret_encrypted) for s in endpoint.secrets.filter(expires_at=expires)] == [
        first
    ]


def test_disabling_fails_pending_deliveries_audits_and_emails_once(
    dataset, endpoint, moderator, django_capture_on_commit_callbacks
):
    record_removals(dataset, 1)
    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_endpoint_disable(endpoint=endpoint, reason="answers 410", actor=moderator)
    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.disabled_reason == "answers 410" and endpoint.disabled_at
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert (delivery.state, delivery.last_error) == (DeliveryState.FAILED, "endpoint disabled: answers 410")
    action = OperatorAction.objects.get(kind=OperatorActionKind.ENDPOINT_DISABLED)
    assert action.actor == moderator and action.detail["reason"] == "answers 410"
    [message] = mail.outbox
    assert message.to == [endpoint.maintainer.email] and endpoint.url in message.subject

    with django_capture_on_commit_callbacks(execute=True):
        services.webhook_endpoint_disable(endpoint=endpoint, reason="again", actor=moderator)
    assert len(mail.outbox) == 1
    assert OperatorAction.objects.filter(kind=OperatorActionKind.ENDPOINT_DISABLED).count() == 1


def test_enabling_starts_the_failure_count_over_and_a_deleted_endpoint_stays_off(endpoint):
    endpoint.failing_since = clock.now() - timedelta(days=4)
    endpoint.save(update_fields=["failing_since"])
    services.webhook_endpoint_disable(endpoint=endpoint, reason="failing for 5 days")
    endpoint = services.webhook_endpoint_enable(endpoint=endpoint)
    assert endpoint.enabled and endpoint.failing_since is None and endpoint.disabled_reason == ""
    action = OperatorAction.objects.get(kind=OperatorActionKind.ENDPOINT_ENABLED)
    assert action.actor is None and action.detail["was_disabled_for"] == "failing for 5 days"

    services.webhook_endpoint_delete(endpoint=endpoint)
    with pytest.raises(ValueError, match="deleted"):
        services.webhook_endpoint_enable(endpoint=endpoint)
