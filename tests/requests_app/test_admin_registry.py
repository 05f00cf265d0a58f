"""The registry's side of the admin: keys created and revoked through services, read-only rows."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from registry import services as registry_services
from registry.models import ApiKey, Maintainer


@pytest.fixture
def superuser(db: Any) -> User:
    return User.objects.create_superuser("root@example.com", "root@example.com", "pw")


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def key_in_messages(response: Any) -> str:
    [key] = [m for text in get_messages(response.wsgi_request) for m in re.findall(r"rdk_[\w-]+", str(text))]
    return key


def authenticates(key: str) -> bool:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client.get("/api/v1/datasets/").status_code == 200


def test_a_superuser_creates_a_key_shown_once_and_revokes_it(superuser, maintainer):
    client = logged_in(superuser)
    response = client.post(
        reverse("admin:registry_maintainer_changelist"),
        {"action": "create_key", "_selected_action": [maintainer.maintainer.pk]},
    )
    assert response.status_code == 302
    key = key_in_messages(response)
    assert authenticates(key)
    new = ApiKey.objects.get(prefix=key[:12])

    change = reverse("admin:registry_maintainer_change", args=[maintainer.maintainer.pk])
    assert key in client.get(change).content.decode()  # the message, once
    page = client.get(change)
    assert new.prefix in page.content.decode() and key not in page.content.decode()

    client.post(
        reverse("admin:registry_apikey_changelist"), {"action": "revoke", "_selected_action": [new.pk]}
    )
    new.refresh_from_db()
    assert new.revoked_at is not None
    assert not authenticates(key)
    assert authenticates(maintainer.key)  # the other key is untouched


def test_adding_a_maintainer_in_the_admin_gives_it_a_key(superuser):
    response = logged_in(superuser).post(
        reverse("admin:registry_maintainer_add"),
        {
            "name": "New Org",
            "email": "ops@new.example",
            "api_keys-TOTAL_FORMS": "0",
            "api_keys-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    org = Maintainer.objects.get(name="New Org")
    key = key_in_messages(response)
    assert ApiKey.objects.get(maintainer=org).prefix == key[:12]
    assert authenticates(key)


def test_a_moderator_reads_the_registry_but_cannot_touch_keys(moderator, maintainer):
    dataset = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="demo", name="Demo")
    registry_services.items_upsert(
        dataset=dataset,
        rows=[{"external_id": "1", "url": "https://img.example/1.jpg", "phash": "b15fe6465121175e"}],
    )
    client = logged_in(moderator)
    datasets = client.get(reverse("admin:registry_dataset_changelist"))
    assert datasets.status_code == 200
    assert datasets.context["cl"].result_list.get().item_count == 1
    items = client.get(reverse("admin:registry_datasetitem_changelist"))
    assert "b15fe6465121175e" in items.content.decode()
    assert client.get(reverse("admin:registry_removal_changelist")).status_code == 200
    assert client.get(reverse("admin:registry_webhookdelivery_changelist")).status_code == 200
    assert client.get(reverse("admin:registry_apikey_changelist")).status_code == 403
    listing = client.get(reverse("admin:registry_maintainer_changelist"))
    assert listing.status_code == 200 and "create_key" not in listing.content.decode()
    client.post(
        reverse("admin:registry_maintainer_changelist"),
        {"action": "create_key", "_selected_action": [maintainer.maintainer.pk]},
    )
    assert ApiKey.objects.filter(maintainer=maintainer.maintainer).count() == 1


def test_nobody_edits_removals_or_items_directly(superuser, maintainer):
    client = logged_in(superuser)
    assert client.get(reverse("admin:registry_removal_add")).status_code == 403
    assert client.get(reverse("admin:registry_datasetitem_add")).status_code == 403
    assert client.get(reverse("admin:requests_app_removalrequest_add")).status_code == 403
