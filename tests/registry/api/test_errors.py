"""The error body of API.md on every failure the API itself answers: unknown paths, malformed or
non-JSON bodies, wrong methods."""

from __future__ import annotations

import json

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404
from rest_framework import exceptions

from registry.api.errors import SERVER_ERROR, ApiError, error_body, exception_handler
from tests.helpers import assert_error


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


def test_the_handler_turns_a_validation_error_into_its_first_message_with_every_detail():
    exc = exceptions.ValidationError({"slug": ["Enter a valid slug."], "name": ["Required."]})
    response = exception_handler(exc, {})
    assert response.status_code == 400
    assert response.data == {
        "error": {
            "code": "invalid_request",
            "message": "slug: Enter a valid slug.",
            "details": {"slug": ["Enter a valid slug."], "name": ["Required."]},
        }
    }
    response = exception_handler(exceptions.ValidationError({"non_field_errors": ["Send one."]}), {})
    assert response.data["error"]["message"] == "Send one."
    response = exception_handler(exceptions.ValidationError(["First.", "Second."]), {})
    assert response.data["error"]["message"] == "First."
    assert response.data["error"]["details"] == {"errors": ["First.", "Second."]}


def test_the_handler_keeps_an_api_errors_code_status_and_details():
    exc = ApiError("too_many_items", "Too many.", status_code=413, details={"max": 3})
    response = exception_handler(exc, {})
    assert response.status_code == 413
    assert response.data == {
        "error": {"code": "too_many_items", "message": "Too many.", "details": {"max": 3}}
    }


def test_the_handler_maps_djangos_404_and_permission_denied_and_a_too_large_body():
    assert exception_handler(Http404(), {}).data["error"]["code"] == "not_found"
    denied = exception_handler(PermissionDenied(), {})
    assert (denied.status_code, denied.data["error"]["code"]) == (403, "forbidden")
    big = exception_handler(RequestDataTooBig(), {})
    assert (big.status_code, big.data["error"]["code"]) == (413, "payload_too_large")


def test_the_handler_answers_an_unexpected_exception_with_the_server_error_and_logs_it(caplog):
    response = exception_handler(RuntimeError("boom"), {})
    assert response.status_code == 500
    assert response.data == error_body(*SERVER_ERROR)
    assert "Unexpected error in ? ?" in caplog.text and "boom" in caplog.text


def test_the_error_body_never_echoes_text_that_cannot_be_encoded():
    body = error_body("invalid_request", "bad \ud800 value", {"value": "a\ud800b"})
    json.dumps(body).encode("utf-8")  # a lone surrogate would make this raise
    assert "\ud800" not in body["error"]["message"] and "\ud800" not in body["error"]["details"]["value"]
