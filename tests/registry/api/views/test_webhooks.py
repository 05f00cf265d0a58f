"""/webhooks/...: the secret is shown once and stored encrypted, rotation signs with both secrets,
deliveries are listed and redelivered; organisations stay apart."""

from __future__ import annotations

import pytest
from standardwebhooks.webhooks import Webhook

from registry import services
from registry.models import WebhookDelivery, WebhookEndpoint, WebhookSecret
from tests.helpers import assert_error, removal_with_hash


def test_it_creates_an_endpoint_and_shows_the_secret_once(api, maintainer):
    services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    response = api.post(
        "/api/v1/webhooks/",
        {"url": "https://hooks.example/removals", "events": ["removal.approved"], "datasets": ["d"]},
        format="json",
    )
    assert response.status_code == 201
    created = response.json()
    assert created["secret"].startswith("whsec_")
    assert created["id"].startswith("we_") and created["datasets"] == ["d"]
    stored = WebhookSecret.objects.get()
    assert created["secret"] not in stored.secret_encrypted
    listed = api.get("/api/v1/webhooks").json()["results"]
    assert [w["id"] for w in listed] == [created["id"]]
    assert "secret" not in listed[0]
    assert "secret" not in api.get(f"/api/v1/webhooks/{created['id']}/").json()


def test_it_explains_bad_endpoint_input(api):
    assert_error(
        api.post("/api/v1/webhooks/", {"url": "not a url", "events": ["removal.approved"]}, format="json"),
        400,
        "invalid_request",
    )
    assert_error(
        api.post("/api/v1/webhooks/", {"url": "https://h.example/", "events": ["nope"]}, format="json"),
        400,
        "invalid_request",
    )
    assert_error(
        api.post("/api/v1/webhooks/", {"url": "https://h.example/", "events": []}, format="json"),
        400,
        "invalid_request",
    )
    error = assert_error(
        api.post(
            "/api/v1/webhooks/",
            {"url": "https://h.example/", "events": ["removal.approved"], "datasets": ["ghost"]},
            format="json",
        ),
        400,
        "unknown_dataset",
    )
    assert error["details"] == {"datasets": ["ghost"]}
    assert WebhookEndpoint.objects.count() == 0


def test_it_deletes_only_its_own_endpoints(api, maintainer, other_maintainer):
    theirs, _ = services.webhook_endpoint_create(
        maintainer=other_maintainer.maintainer, url="https://o.example/", event_types=["removal.approved"]
    )
    assert_error(api.delete(f"/api/v1/webhooks/{theirs.public_id}/"), 404, "not_found")
    assert_error(api.get(f"/api/v1/webhooks/{theirs.public_id}"), 404, "not_found")
    mine = api.post(
        "/api/v1/webhooks/", {"url": "https://m.example/", "events": ["removal.approved"]}, format="json"
    ).json()
    assert api.delete(f"/api/v1/webhooks/{mine['id']}").status_code == 204
    assert api.get("/api/v1/webhooks/").json()["results"] == []
    assert_error(api.delete(f"/api/v1/webhooks/{mine['id']}/"), 404, "not_found")
    theirs.refresh_from_db()
    assert theirs.enabled


NOT_PUBLIC = [
    "http://127.0.0.1/hook",
    "https://localhost/hook",
    "http://10.0.0.5/hook",
    "http://192.168.1.20:8080/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/hook",
    "http://[::ffff:10.0.0.5]/hook",
    "http://0.0.0.0/hook",
]


@pytest.mark.parametrize("url", NOT_PUBLIC)
def test_it_refuses_an_endpoint_that_is_not_a_public_address_at_creation(api, settings, url):
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    response = api.post("/api/v1/webhooks/", {"url": url, "events": ["removal.approved"]}, format="json")
    error = assert_error(response, 400, "webhook_url_refused")
    assert "not a public address" in error["message"]
    assert error["details"] == {"url": url}
    assert WebhookEndpoint.objects.count() == 0


def test_loopback_is_accepted_only_when_the_setting_allows_it(api, settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    for url in ("http://127.0.0.1:8001/hook", "https://localhost/hook"):
        response = api.post("/api/v1/webhooks/", {"url": url, "events": ["removal.approved"]}, format="json")
        assert response.status_code == 201, response.content
    # Private networks stay refused: the setting is for a receiver on this machine.
    response = api.post(
        "/api/v1/webhooks/", {"url": "http://10.0.0.5/hook", "events": ["removal.approved"]}, format="json"
    )
    assert_error(response, 400, "webhook_url_refused")


def test_a_name_that_does_not_resolve_yet_is_accepted_and_vetted_at_delivery(api, settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    response = api.post(
        "/api/v1/webhooks/", {"url": "https://hooks.invalid/x", "events": ["removal.approved"]}, format="json"
    )
    assert response.status_code == 201


def test_rotation_signs_with_both_secrets(maintainer, receiver):
    api = maintainer.client()
    created = api.post(
        "/api/v1/webhooks/", {"url": receiver.url, "events": ["removal.approved"]}, format="json"
    ).json()
    rotated = api.post(f"/api/v1/webhooks/{created['id']}/rotate-secret/").json()["secret"]
    assert rotated.startswith("whsec_") and rotated != created["secret"]
    removal_with_hash(maintainer)
    row = WebhookDelivery.objects.get()
    assert services.delivery_attempt(row.pk) == "succeeded"
    [got] = receiver.received
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    Webhook(created["secret"]).verify(got.body, got.headers)
    Webhook(rotated).verify(got.body, got.headers)


def test_deliveries_are_listed_and_redelivered_with_the_same_id(maintainer, receiver):
    api = maintainer.client()
    created = api.post(
        "/api/v1/webhooks/", {"url": receiver.url, "events": ["removal.approved"]}, format="json"
    ).json()
    removal_with_hash(maintainer)
    row = WebhookDelivery.objects.get()
    services.delivery_attempt(row.pk)
    [listed] = api.get(f"/api/v1/webhooks/{created['id']}/deliveries/").json()["results"]
    assert listed["state"] == "succeeded" and listed["event_id"] == row.event.public_id
    response = api.post(f"/api/v1/webhooks/{created['id']}/deliveries/{listed['id']}/redeliver")
    assert response.status_code == 202
    assert services.delivery_attempt(row.pk) == "succeeded"
    assert [r.headers["webhook-id"] for r in receiver.received] == [row.event.public_id] * 2
    assert_error(
        api.post(f"/api/v1/webhooks/{created['id']}/deliveries/dl_nope/redeliver/"), 404, "not_found"
    )
