"""Bearer keys: missing, wrong, wrong scheme and revoked keys are 401; only a hash of a key is stored."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from registry import services
from tests.helpers import assert_error


@pytest.mark.django_db
def test_it_refuses_a_missing_key():
    error = assert_error(APIClient().get("/api/v1/datasets/"), 401, "unauthorized")
    assert "Bearer" in error["message"]


@pytest.mark.django_db
def test_it_refuses_a_wrong_key_and_a_wrong_scheme(maintainer):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer rdk_nope")
    response = client.get("/api/v1/datasets/")
    assert_error(response, 401, "unauthorized")
    assert response["WWW-Authenticate"].startswith("Bearer")
    client.credentials(HTTP_AUTHORIZATION=f"Token {maintainer.key}")
    assert_error(client.get("/api/v1/datasets/"), 401, "unauthorized")


def test_it_refuses_a_revoked_key(maintainer):
    key = maintainer.maintainer.api_keys.get()
    services.api_key_revoke(key=key)
    assert_error(maintainer.client().get("/api/v1/datasets/"), 401, "unauthorized")


def test_it_stores_only_a_hash_of_the_key_and_records_last_use(maintainer):
    key = maintainer.maintainer.api_keys.get()
    assert maintainer.key not in (key.key_hash, key.prefix)
    assert maintainer.key.startswith(key.prefix)
    assert key.last_used_at is None
    assert maintainer.client().get("/api/v1/datasets/").status_code == 200
    key.refresh_from_db()
    assert key.last_used_at is not None
