"""The v2 compatibility protocol (/api/v2/query/urls/): its own key scheme, text/plain lines in,
one answer per line in request order."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from registry.api.compat import decode_lines, split_lines
from registry.api.errors import ApiError
from registry.services import MAX_ITEMS_PER_BATCH
from tests.helpers import assert_error, removal_with_hash


def test_the_compat_protocol_answers_in_request_order(maintainer):
    removal_with_hash(maintainer)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"API {maintainer.key}")
    response = client.post(
        "/api/v2/query/urls/",
        data="https://img.example/dog.jpg\n\nhttps://img.example/cat.jpg\n",
        content_type="text/plain",
    )
    assert response.status_code == 200
    # One answer per line, the empty one included: clients read the answers by position.
    assert response.json() == {
        "urls": [
            {"url": "https://img.example/dog.jpg", "optIn": False, "optOut": False},
            {"url": "", "optIn": False, "optOut": False},
            {"url": "https://img.example/cat.jpg", "optIn": False, "optOut": True},
        ]
    }
    client.credentials(HTTP_AUTHORIZATION="API wrong")
    assert_error(client.post("/api/v2/query/urls", data="x", content_type="text/plain"), 401, "unauthorized")


def test_the_compat_protocol_names_its_own_scheme_to_a_bearer_key(maintainer):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {maintainer.key}")
    error = assert_error(
        client.post("/api/v2/query/urls/", data="x", content_type="text/plain"), 401, "unauthorized"
    )
    assert "Authorization: API <key>" in error["message"] and "not valid" not in error["message"]
    error = assert_error(
        APIClient().post("/api/v2/query/urls/", data="x", content_type="text/plain"), 401, "unauthorized"
    )
    assert "Authorization: API <key>" in error["message"]
    client.credentials(HTTP_AUTHORIZATION="API rdk_nope")
    error = assert_error(
        client.post("/api/v2/query/urls/", data="x", content_type="text/plain"), 401, "unauthorized"
    )
    assert "not valid or was revoked" in error["message"]


def test_the_compat_protocol_asks_for_text_plain_when_sent_json(maintainer):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"API {maintainer.key}")
    response = client.post("/api/v2/query/urls/", {"urls": ["https://a.example/"]}, format="json")
    error = assert_error(response, 415, "unsupported_media_type")
    assert "text/plain" in error["message"] and "application/json" not in error["message"]


def test_the_compat_protocol_without_content_type_answers_every_line_in_order(maintainer):
    removal_with_hash(maintainer)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"API {maintainer.key}")
    body = b"https://img.example/cat.jpg\n\n  \nhttps://img.example/dog.jpg\r\nhttps://img.example/cat.jpg"
    response = client.generic("POST", "/api/v2/query/urls/", body, content_type="")
    assert response.status_code == 200, response.content
    assert [(u["url"], u["optOut"]) for u in response.json()["urls"]] == [
        ("https://img.example/cat.jpg", True),
        ("", False),
        ("", False),
        ("https://img.example/dog.jpg", False),
        ("https://img.example/cat.jpg", True),
    ]


def test_lines_split_on_either_newline_keep_empty_lines_and_a_final_newline_ends_the_last():
    assert split_lines("") == []
    assert split_lines("a\n") == ["a"]
    assert split_lines("a\r\n\n  b  \n") == ["a", "", "b"]
    assert split_lines("\n") == [""]
    assert split_lines("a\n\n") == ["a", ""]


def test_the_body_must_be_utf8():
    assert decode_lines("é\n".encode()) == "é\n"
    with pytest.raises(ApiError) as caught:
        decode_lines(b"\xff\xfe")
    assert caught.value.error_code == "invalid_encoding"


def test_the_compat_protocol_refuses_more_than_a_batch_of_lines(maintainer):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"API {maintainer.key}")
    body = "\n".join(f"https://i.example/{i}" for i in range(MAX_ITEMS_PER_BATCH + 1))
    response = client.post("/api/v2/query/urls/", data=body, content_type="text/plain")
    error = assert_error(response, 413, "too_many_urls")
    assert f"{MAX_ITEMS_PER_BATCH:,}" in error["message"]


def test_the_compat_protocol_opts_out_unregistered_urls_under_a_domain(maintainer):
    from registry import services
    from registry.hosts import Scope

    services.domain_optouts_record(
        source_ref="RR-2026-000042",
        reason="copyright",
        scopes=[Scope("artist.example", include_subdomains=True)],
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"API {maintainer.key}")
    response = client.post(
        "/api/v2/query/urls/",
        data="https://img.artist.example/new.jpg\nhttps://notartist.example/a.jpg\n",
        content_type="text/plain",
    )
    assert [entry["optOut"] for entry in response.json()["urls"]] == [True, False]
