"""Every error under /api/ answers the contract's JSON body: unexpected failures, unknown paths."""

from __future__ import annotations

import logging

import pytest
from django.test import Client

from tests.helpers import assert_error


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["get", "post"])
def test_an_unexpected_error_in_an_api_view_is_json_and_logged_with_its_traceback(
    unexpected_urls, caplog, method
):
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.ERROR):
        response = getattr(client, method)("/api/v1/test-unexpected/")
    error = assert_error(response, 500, "server_error")
    assert response["Content-Type"] == "application/json"
    assert "logged" in error["message"] and "unexpected failure" not in error["message"]
    [record] = [r for r in caplog.records if r.exc_info and r.levelno >= logging.ERROR]
    assert "unexpected failure inside a DRF view" in str(record.exc_info[1])
    assert "/api/v1/test-unexpected/" in record.getMessage()


@pytest.mark.django_db
def test_an_unexpected_error_outside_drf_under_api_is_json_too(unexpected_urls, caplog):
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/test-unexpected-plain/")
    assert_error(response, 500, "server_error")
    assert any(r.exc_info and "outside DRF" in str(r.exc_info[1]) for r in caplog.records)


@pytest.mark.django_db
def test_the_site_keeps_its_html_error_page(unexpected_urls):
    response = Client(raise_request_exception=False).get("/test-unexpected-page/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "delete", "put", "patch"])
@pytest.mark.parametrize("path", ["/api/nothing/", "/api/v1/nothing", "/api/v3/query/urls/"])
def test_an_unknown_api_path_answers_the_json_404_to_every_method(method, path):
    # A real client has no CSRF cookie: the test client must check CSRF as the site does.
    client = Client(enforce_csrf_checks=True)
    assert_error(getattr(client, method)(path, data=b"{}", content_type="application/json"), 404, "not_found")
