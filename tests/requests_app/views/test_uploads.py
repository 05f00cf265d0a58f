"""The portfolio upload protocol over HTTP (requests_app/views/uploads.py, docs/uploads.md):
announce, chunks with Upload-Offset, resume by asking the offset, clear JSON refusals, CSRF,
login, and another artist's upload id as a 404; the upload page in English and French."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.test import Client
from django.urls import reverse

from registry.hashing import sanitize
from requests_app import services
from requests_app.models import PortfolioUpload, UploadState, Work
from requests_app.workflow import Status
from tests.helpers import distinct_png, french_client, logged_in, make_zip

pytestmark = pytest.mark.django_db

CREATE = "/portfolio/uploads/"


def _announce(client: Client, **body):
    return client.post(CREATE, json.dumps(body), content_type="application/json")


def _patch(client: Client, url: str, offset: int | str, data: bytes):
    return client.generic(
        "PATCH", url, data, content_type="application/offset+octet-stream", HTTP_UPLOAD_OFFSET=str(offset)
    )


def test_the_urls_are_the_documented_ones():
    assert reverse("portfolio_upload") == "/portfolio/upload/"
    assert reverse("portfolio_upload_create") == CREATE


def test_a_zip_sent_in_chunks_over_http_is_queued_then_unpacked(artist, settings):
    settings.PORTFOLIO_CHUNK_BYTES = 2048
    client = logged_in(artist)
    data = make_zip({f"w{i}.png": distinct_png(i) for i in range(30)})
    created = _announce(client, name="works.zip", size=len(data), sha256=hashlib.sha256(data).hexdigest())
    assert created.status_code == 201, created.content
    upload = created.json()
    assert (upload["offset"], upload["chunk_size"], upload["state"]) == (0, 2048, "receiving")

    for offset in range(0, len(data), 2048):
        answer = _patch(client, upload["url"], offset, data[offset : offset + 2048])
        assert answer.status_code == 200, answer.content
        assert answer.json()["offset"] == min(len(data), offset + 2048)
    assert answer.json()["state"] == "queued"

    services.upload_process(upload_id=PortfolioUpload.objects.get().pk)  # what the worker runs
    status = client.get(upload["url"]).json()
    assert (status["state"], status["members"], status["added"], status["finished"]) == ("done", 30, 30, True)
    assert Work.objects.filter(artist=artist, request=None).count() == 30


def test_an_interrupted_transfer_resumes_from_the_offset_the_server_holds(artist, settings):
    settings.PORTFOLIO_CHUNK_BYTES = 4096
    client = logged_in(artist)
    data = bytes(range(256)) * 80  # 20 kB: five chunks (the protocol does not look inside)
    upload = _announce(client, name="big.png", size=len(data)).json()
    assert _patch(client, upload["url"], 0, data[:4096]).status_code == 200
    # The connection dropped during the next chunk: the sender asks where the upload stands...
    assert client.get(upload["url"]).json()["offset"] == 4096
    # ... and a chunk sent from the wrong place is refused with the offset to resume from.
    wrong = _patch(client, upload["url"], 0, data[:4096])
    assert wrong.status_code == 409
    assert wrong.json()["code"] == "offset_mismatch" and wrong.json()["offset"] == 4096
    for offset in range(4096, len(data), 4096):
        assert _patch(client, upload["url"], offset, data[offset : offset + 4096]).status_code == 200
    assert client.get(upload["url"]).json()["state"] == "queued"


@pytest.mark.parametrize(
    ("headers", "body", "status", "code"),
    [
        ({}, b"abc", 400, "bad_offset"),
        ({"HTTP_UPLOAD_OFFSET": "-1"}, b"abc", 400, "bad_offset"),
        ({"HTTP_UPLOAD_OFFSET": "٣"}, b"abc", 400, "bad_offset"),
        ({"HTTP_UPLOAD_OFFSET": "9" * 40}, b"abc", 400, "bad_offset"),
        ({"HTTP_UPLOAD_OFFSET": "0"}, b"", 400, "empty_chunk"),
        ({"HTTP_UPLOAD_OFFSET": "0"}, b"x" * 2000, 400, "past_size"),
        ({"HTTP_UPLOAD_OFFSET": "5"}, b"abc", 409, "offset_mismatch"),
    ],
)
def test_a_chunk_that_does_not_fit_gets_a_clear_error_and_changes_nothing(
    artist, headers, body, status, code
):
    client = logged_in(artist)
    upload = _announce(client, name="a.png", size=1000).json()
    answer = client.generic(
        "PATCH", upload["url"], body, content_type="application/offset+octet-stream", **headers
    )
    assert answer.status_code == status and answer.json()["code"] == code
    assert answer.json()["error"]
    assert PortfolioUpload.objects.get().received == 0


def test_a_chunk_over_the_chunk_size_is_413(artist, settings):
    settings.PORTFOLIO_CHUNK_BYTES = 1024
    client = logged_in(artist)
    upload = _announce(client, name="a.png", size=5000).json()
    answer = _patch(client, upload["url"], 0, b"x" * 1025)
    assert answer.status_code == 413 and answer.json() == {
        "error": "A chunk may hold at most 1024 bytes.",
        "code": "chunk_too_large",
        "offset": 0,
    }


def test_a_file_whose_sha256_differs_is_refused_at_its_last_chunk(artist):
    client = logged_in(artist)
    data = make_zip({"a.png": distinct_png(1)})
    upload = _announce(client, name="works.zip", size=len(data), sha256="a" * 64).json()
    answer = _patch(client, upload["url"], 0, data)
    assert answer.status_code == 422
    assert answer.json()["code"] == "file_refused" and answer.json()["state"] == "failed"
    assert "sha256" in answer.json()["error"]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("not json", "bad_json"),
        ("[1, 2]", "bad_json"),
        (json.dumps({"size": 10}), "bad_name"),
        (json.dumps({"name": "a.png", "size": "10"}), "bad_size"),
        (json.dumps({"name": "a.png", "size": True}), "bad_size"),
        (json.dumps({"name": "a.png", "size": 10, "sha256": 5}), "bad_sha256"),
        (json.dumps({"name": "a\u0000.png", "size": 10}), "bad_name"),
        (json.dumps({"name": "a.gif", "size": 10}), "bad_type"),
        (json.dumps({"name": "a.png", "size": 10**12}), "too_large"),
        (json.dumps({"name": "a.png", "size": 10, "ticket": "RR-\u0000"}), "no_ticket"),
        (json.dumps({"name": "a.png", "size": 10, "ticket": 12}), "no_ticket"),
    ],
)
def test_a_bad_announcement_gets_a_clear_error(artist, body, code):
    answer = logged_in(artist).post(CREATE, body, content_type="application/json")
    assert answer.status_code in (400, 404) and answer.json()["code"] == code
    assert not PortfolioUpload.objects.exists()


def test_an_upload_into_a_request_of_ones_own_that_is_editable(artist, other_artist):
    client = logged_in(artist)
    draft = services.request_create(artist=artist, basis="copyright")
    created = _announce(client, name="a.png", size=10, ticket=draft.reference)
    assert created.status_code == 201 and created.json()["ticket"] == draft.reference
    theirs = services.request_create(artist=other_artist, basis="copyright")
    assert _announce(client, name="a.png", size=10, ticket=theirs.reference).status_code == 404
    draft.status = Status.SUBMITTED
    draft.save(update_fields=["status"])
    refused = _announce(client, name="a.png", size=10, ticket=draft.reference)
    assert refused.status_code == 409 and refused.json()["code"] == "not_editable"


def test_another_artists_upload_is_a_404(artist, other_artist):
    upload = _announce(logged_in(artist), name="a.png", size=10).json()
    intruder = logged_in(other_artist)
    assert intruder.get(upload["url"]).status_code == 404
    assert _patch(intruder, upload["url"], 0, b"0123456789").status_code == 404
    assert PortfolioUpload.objects.get().received == 0
    assert (
        logged_in(artist).get("/portfolio/uploads/00000000-0000-0000-0000-000000000000/").status_code == 404
    )
    assert logged_in(artist).get("/portfolio/uploads/not-a-uuid/").status_code == 404


def test_the_protocol_needs_a_login_and_the_csrf_token(artist):
    anonymous = Client()
    assert anonymous.post(CREATE, "{}", content_type="application/json").status_code == 302
    assert anonymous.get("/portfolio/upload/").status_code == 302
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(artist.user)
    body = json.dumps({"name": "a.png", "size": 10})
    assert strict.post(CREATE, body, content_type="application/json").status_code == 403
    strict.get("/portfolio/upload/")  # sets the CSRF cookie, as the page does
    token = strict.cookies["csrftoken"].value
    created = strict.post(CREATE, body, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert created.status_code == 201
    url = created.json()["url"]
    no_token = strict.generic("PATCH", url, b"0123456789", HTTP_UPLOAD_OFFSET="0")
    assert no_token.status_code == 403
    with_token = strict.generic("PATCH", url, b"0123456789", HTTP_UPLOAD_OFFSET="0", HTTP_X_CSRFTOKEN=token)
    assert with_token.status_code == 200 and with_token.json()["state"] == "queued"


def test_the_upload_page_in_english_and_french(artist):
    page = logged_in(artist).get("/portfolio/upload/").content.decode()
    assert "Upload to your portfolio" in page and "data-uploader" in page
    assert "webkitdirectory" in page and "js/uploader.js" in page
    french = french_client(artist).get("/portfolio/upload/").content.decode()
    assert "Ajouter à votre portfolio" in french
    assert "Ou un dossier entier" in french


def test_an_editable_request_page_has_the_uploader_with_the_request_as_target(artist):
    draft = services.request_create(artist=artist, basis="copyright")
    page = logged_in(artist).get(reverse("request_detail", args=[draft.reference])).content.decode()
    assert f'data-ticket="{draft.reference}"' in page
    assert "<noscript>" in page  # the plain form, for browsers without JavaScript
    draft.status = Status.WITHDRAWN
    draft.save(update_fields=["status"])
    page = logged_in(artist).get(reverse("request_detail", args=[draft.reference])).content.decode()
    assert "data-portfolio-uploader" not in page


def test_a_processed_upload_reports_its_files(artist):
    client = logged_in(artist)
    data = make_zip({"a.png": distinct_png(1), "b.png": distinct_png(1), "c.txt": b"x"})
    upload = _announce(client, name="works.zip", size=len(data)).json()
    _patch(client, upload["url"], 0, data)
    services.upload_process(upload_id=PortfolioUpload.objects.get().pk)
    status = client.get(upload["url"]).json()
    assert status["state"] == UploadState.DONE
    assert (status["added"], status["duplicates"], status["failed"], status["reports_total"]) == (1, 1, 1, 2)
    assert {r["kind"] for r in status["reports"]} == {"duplicate", "error"}


def test_a_file_over_the_quota_is_a_413_saying_the_limit_and_the_use(artist, settings):
    settings.PORTFOLIO_QUOTA_BYTES = 1024 * 1024
    client = logged_in(artist)
    assert _announce(client, name="a.zip", size=700_000).status_code == 201
    refused = _announce(client, name="b.zip", size=400_000)
    assert refused.status_code == 413
    body = refused.json()
    assert body["code"] == "over_quota"
    assert body["error"].startswith("b.zip (390.6\xa0KB) does not fit in your portfolio: it uses 683.6\xa0KB")
    assert body["quota"] == {"bytes": 1024 * 1024, "works": 50_000}
    assert body["used"] == {"bytes": 700_000, "works": 0, "pending_bytes": 700_000}
    assert PortfolioUpload.objects.count() == 1


def test_the_upload_page_says_how_full_the_portfolio_is(artist, settings):
    client = logged_in(artist)
    page = client.get("/portfolio/upload/").content.decode()
    assert "Your portfolio holds 0 works (0\xa0bytes); it may hold up to 50,000 works and 20.0\xa0GB." in page
    assert "data-quota-full" not in page
    settings.PORTFOLIO_QUOTA_WORKS = 1
    services.work_store(
        artist=artist,
        ticket=None,
        name="one.png",
        clean_content=sanitize(distinct_png(1), max_pixels=50_000_000),
    )
    page = client.get("/portfolio/upload/").content.decode()
    assert "Your portfolio holds 1 work (" in page and "may hold up to 1 works" in page
    assert "data-quota-full>Your portfolio is full: it holds 1 works" in page
    french = french_client(artist).get("/portfolio/upload/").content.decode()
    assert "Votre portfolio contient 1 œuvre" in french and "Votre portfolio est plein" in french
