"""API.md basics: bearer keys, the error body, trailing slashes, other organisations' objects."""

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


@pytest.mark.parametrize("path", ["/api/v1/datasets", "/api/v1/datasets/"])
def test_it_answers_with_and_without_the_trailing_slash(api, path):
    response = api.get(path)
    assert response.status_code == 200
    assert response.json() == {"results": [], "next": None}


def test_it_accepts_a_post_without_the_trailing_slash(api):
    response = api.post("/api/v1/datasets", {"slug": "a", "name": "A"}, format="json")
    assert response.status_code == 201


def test_it_answers_unknown_api_paths_in_the_error_format(api):
    assert_error(api.get("/api/v1/nothing-here/"), 404, "not_found")


def test_it_explains_malformed_json(api):
    response = api.post("/api/v1/datasets/", data=b'{"slug": ', content_type="application/json")
    assert_error(response, 400, "malformed_json")


def test_it_refuses_a_non_json_body_with_415(api):
    response = api.post("/api/v1/datasets/", data="slug=a", content_type="application/x-www-form-urlencoded")
    assert_error(response, 415, "unsupported_media_type")


def test_it_refuses_a_wrong_method_in_the_error_format(api):
    assert_error(api.delete("/api/v1/datasets/"), 405, "method_not_allowed")


def test_it_hides_other_organisations_data_sets(maintainer, other_maintainer):
    services.dataset_create(maintainer=other_maintainer.maintainer, slug="theirs", name="Theirs")
    client = maintainer.client()
    assert client.get("/api/v1/datasets/").json()["results"] == []
    assert_error(client.get("/api/v1/datasets/theirs/"), 404, "not_found")
    assert_error(client.get("/api/v1/datasets/theirs/removals/"), 404, "not_found")
    assert_error(
        client.post("/api/v1/datasets/theirs/items/", {"items": []}, format="json"), 404, "not_found"
    )
    assert_error(
        client.post("/api/v1/datasets/theirs/removals/ack/", {"ids": ["rm_x"]}, format="json"),
        404,
        "not_found",
    )


def test_it_serves_the_openapi_document_and_its_docs(client, db):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/api/v1/datasets/",
        "/api/v1/datasets/{slug}/items/",
        "/api/v1/datasets/{slug}/removals/",
        "/api/v1/datasets/{slug}/removals/ack/",
        "/api/v1/webhooks/",
        "/api/v1/webhooks/{webhook_id}/",
    ):
        assert path in paths, (path, sorted(paths))
    assert client.get("/api/v1/docs/").status_code == 200
