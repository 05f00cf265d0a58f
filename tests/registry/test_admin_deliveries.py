"""Deliveries in the admin: the per-endpoint log, the failed filter, redeliver, disable and enable,
and who may do the last three."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.core import mail
from django.urls import reverse

from core import clock
from registry import services
from registry.models import DeliveryState, WebhookEndpoint
from tests.helpers import logged_in

DELIVERIES = reverse("admin:registry_webhookdelivery_changelist")
ENDPOINTS = reverse("admin:registry_webhookendpoint_changelist")


def staff_with(*codenames: str) -> User:
    user = User.objects.create_user(f"staff-{len(codenames)}@example.com", password="pw", is_staff=True)
    perms = Permission.objects.filter(content_type__app_label="registry", codename__in=codenames)
    user.user_permissions.add(*perms)
    return User.objects.get(pk=user.pk)


def test_each_endpoint_links_to_its_delivery_log_and_its_failures(superuser, two_endpoints):
    _, bad, failed = two_endpoints
    client = logged_in(superuser)
    page = client.get(ENDPOINTS).content.decode()
    assert f"?endpoint__id__exact={bad.pk}&amp;problem=failed" in page
    assert "2 deliveries</a>, " in page and "1 failed</a>" in page

    log = client.get(DELIVERIES, {"endpoint__id__exact": bad.pk})
    assert log.status_code == 200
    shown = {row.pk for row in log.context["cl"].result_list}
    assert shown == set(bad.deliveries.values_list("pk", flat=True))
    change = client.get(reverse("admin:registry_webhookendpoint_change", args=[bad.pk])).content.decode()
    assert f"?endpoint__id__exact={bad.pk}" in change

    failures = client.get(DELIVERIES, {"problem": "failed"})
    assert [row.pk for row in failures.context["cl"].result_list] == [failed.pk]
    retrying = client.get(DELIVERIES, {"problem": "retrying"})
    assert [row.endpoint_id for row in retrying.context["cl"].result_list] == [bad.pk]
    detail = client.get(reverse("admin:registry_webhookdelivery_change", args=[failed.pk])).content.decode()
    assert "network error" in detail  # the attempt log inline


def test_redeliver_queues_a_failed_delivery_that_is_then_sent(
    superuser, two_endpoints, receiver, django_capture_on_commit_callbacks
):
    _, bad, failed = two_endpoints
    WebhookEndpoint.objects.filter(pk=bad.pk).update(url=receiver.url)
    before = len(receiver.received)
    with django_capture_on_commit_callbacks() as queued:
        response = logged_in(superuser).post(
            DELIVERIES, {"action": "redeliver", "_selected_action": [failed.pk]}, follow=True
        )
    assert "Queued 1 delivery(ies) again." in response.content.decode()
    assert len(queued) == 1  # the message to the worker, after commit
    failed.refresh_from_db()
    assert failed.state == DeliveryState.PENDING and failed.next_attempt_at <= clock.now()
    # What the queued task does (the worker's part is tested with a real worker in tests/faults).
    assert services.delivery_attempt(failed.pk) == "succeeded"
    assert receiver.received[before].headers["webhook-id"] == failed.event.public_id


def test_redeliver_skips_deliveries_of_a_disabled_endpoint(superuser, two_endpoints):
    _, bad, failed = two_endpoints
    services.webhook_endpoint_disable(endpoint=bad, reason="test")
    response = logged_in(superuser).post(
        DELIVERIES, {"action": "redeliver", "_selected_action": [failed.pk]}, follow=True
    )
    assert "enable the endpoint first" in response.content.decode()
    failed.refresh_from_db()
    assert failed.state == DeliveryState.FAILED


def test_disable_and_enable_go_through_the_services(
    superuser, two_endpoints, django_capture_on_commit_callbacks
):
    good, bad, _ = two_endpoints
    client = logged_in(superuser)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(ENDPOINTS, {"action": "disable", "_selected_action": [bad.pk]})
    bad.refresh_from_db()
    assert not bad.enabled and "root@example.com" in bad.disabled_reason
    assert not bad.deliveries.filter(state=DeliveryState.PENDING).exists()
    [message] = mail.outbox
    assert message.to == ["ops@laion.example"]
    assert WebhookEndpoint.objects.get(pk=good.pk).enabled
    # Disabling again changes nothing and sends no second email.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(ENDPOINTS, {"action": "disable", "_selected_action": [bad.pk]})
    assert len(mail.outbox) == 1

    assert bad.failing_since is not None
    client.post(ENDPOINTS, {"action": "enable", "_selected_action": [bad.pk]})
    bad.refresh_from_db()
    assert bad.enabled and bad.failing_since is None and bad.disabled_reason == "" and bad.disabled_at is None


def test_a_deleted_endpoint_stays_disabled(superuser, two_endpoints):
    _, bad, _ = two_endpoints
    services.webhook_endpoint_delete(endpoint=bad)
    logged_in(superuser).post(ENDPOINTS, {"action": "enable", "_selected_action": [bad.pk]})
    bad.refresh_from_db()
    assert not bad.enabled
    with pytest.raises(ValueError):
        services.webhook_endpoint_enable(endpoint=bad)


def test_only_users_who_may_change_endpoints_get_the_actions(two_endpoints):
    _, bad, failed = two_endpoints
    viewer = logged_in(staff_with("view_webhookdelivery", "view_webhookendpoint"))
    page = viewer.get(DELIVERIES)
    assert page.status_code == 200
    assert page.context["action_form"] is None  # no action offered at all
    viewer.post(DELIVERIES, {"action": "redeliver", "_selected_action": [failed.pk]})
    viewer.post(ENDPOINTS, {"action": "disable", "_selected_action": [bad.pk]})
    failed.refresh_from_db()
    bad.refresh_from_db()
    assert failed.state == DeliveryState.FAILED and bad.enabled

    operator = logged_in(staff_with("view_webhookdelivery", "view_webhookendpoint", "change_webhookendpoint"))
    operator.post(DELIVERIES, {"action": "redeliver", "_selected_action": [failed.pk]})
    failed.refresh_from_db()
    assert failed.state == DeliveryState.PENDING
    operator.post(ENDPOINTS, {"action": "disable", "_selected_action": [bad.pk]})
    bad.refresh_from_db()
    assert not bad.enabled
    # Rows stay read-only even for the operator: no edit form.
    form = operator.get(reverse("admin:registry_webhookendpoint_change", args=[bad.pk])).content.decode()
    assert 'name="url"' not in form
