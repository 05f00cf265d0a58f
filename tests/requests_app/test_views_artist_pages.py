"""Artist pages added for the browser-facing work: zip uploads, one-file uploads, page URLs,
"exclude all", replies to moderators, the public search, account export and deletion,
password reset, languages and the Content Security Policy."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from registry.models import Removal
from requests_app import services
from requests_app.forms import PAGES_SEPARATOR
from requests_app.models import (
    ArtistProfile,
    EventKind,
    IdentityProof,
    Match,
    MatchState,
    RemovalRequest,
    TicketEvent,
    Work,
)
from requests_app.services import ActionRefused
from requests_app.workflow import Status
from tests.conftest import photo_bytes
from tests.requests_app.test_views_request import dataset_with_copy, detail, hashed_draft, logged_in

pytestmark = pytest.mark.django_db


def make_zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def zip_upload(members: dict[str, bytes], name: str = "works.zip") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, make_zip(members), content_type="application/zip")


# --- zip archives -----------------------------------------------------------


def test_a_zip_adds_each_image_and_names_each_bad_member(artist):
    removal_request = services.request_create(artist=artist, basis="copyright")
    added = services.works_add_zip(
        request=removal_request,
        actor=artist.user,
        upload=zip_upload(
            {
                "portfolio/2024/cat.png": photo_bytes("chelsea.png"),
                "coffee.jpg": photo_bytes("coffee.png", "JPEG"),
                "notes.txt": b"hello",
                "broken.png": b"not pixels",
                "__MACOSX/._cat.png": b"resource fork",
                ".DS_Store": b"x",
                "portfolio/": b"",
            }
        ),
    )
    assert sorted(w.original_name for w in added.works) == ["cat.png", "coffee.jpg"]
    errors = {e.name: e.message for e in added.errors}
    assert set(errors) == {"notes.txt", "broken.png"}
    assert "JPEG, PNG or WebP" in errors["notes.txt"]
    assert "not an image we can read" in errors["broken.png"]
    assert removal_request.works.count() == 2


def test_a_zip_with_too_many_members_is_refused_before_anything_is_read(artist, settings):
    settings.UPLOAD_MAX_FILES = 3
    removal_request = services.request_create(artist=artist, basis="copyright")
    members = {f"w{i}.png": b"x" for i in range(4)}
    with pytest.raises(ActionRefused, match="holds 4 files"):
        services.works_add_zip(request=removal_request, actor=artist.user, upload=zip_upload(members))
    assert not Work.objects.exists()


def test_a_zip_bomb_is_refused_on_its_declared_sizes(artist, monkeypatch):
    monkeypatch.setattr(services.works, "ZIP_MAX_TOTAL_UNCOMPRESSED", 1024 * 1024)
    removal_request = services.request_create(artist=artist, basis="copyright")
    # 2 MB of zeros compress to a few kB
    bomb = zip_upload({"a.png": b"\0" * (1024 * 1024), "b.png": b"\0" * (1024 * 1024)})
    assert bomb.size < 20_000
    with pytest.raises(ActionRefused, match="would unpack to"):
        services.works_add_zip(request=removal_request, actor=artist.user, upload=bomb)


def test_a_zip_member_over_the_size_limit_is_skipped(artist, settings):
    settings.UPLOAD_MAX_BYTES = 100_000
    removal_request = services.request_create(artist=artist, basis="copyright")
    added = services.works_add_zip(
        request=removal_request,
        actor=artist.user,
        upload=zip_upload({"big.png": b"\0" * 200_000, "cat.jpg": photo_bytes("chelsea.png", "JPEG")}),
    )
    assert [w.original_name for w in added.works] == ["cat.jpg"]
    assert [e.name for e in added.errors] == ["big.png"]
    assert "MB allowed" in added.errors[0].message


def test_a_file_that_is_not_a_zip_is_refused(artist):
    removal_request = services.request_create(artist=artist, basis="copyright")
    with pytest.raises(ActionRefused, match="not a zip file"):
        services.works_add_zip(
            request=removal_request, actor=artist.user, upload=SimpleUploadedFile("x.zip", b"nope")
        )


def test_the_new_request_form_takes_a_zip_and_page_urls(artist):
    client = logged_in(artist)
    response = client.post(
        reverse("request_new"),
        {
            "basis": "copyright",
            "description": "First shown at my gallery.",
            "page_urls": "https://ada.example/portfolio\n\nhttps://shop.example/ada\nhttps://ada.example/portfolio",
            "zip": zip_upload({"cat.png": photo_bytes("chelsea.png"), "readme.md": b"#"}),
        },
        follow=True,
    )
    removal_request = RemovalRequest.objects.get()
    assert removal_request.description == (
        f"First shown at my gallery.{PAGES_SEPARATOR}https://ada.example/portfolio\nhttps://shop.example/ada"
    )
    assert [w.original_name for w in removal_request.works.all()] == ["cat.png"]
    content = response.content.decode()
    assert "1 work added" in content
    assert "readme.md" in content
    assert '<a href="https://shop.example/ada"' in content
    assert PAGES_SEPARATOR.strip() not in content


def test_the_new_request_form_refuses_addresses_that_are_not_web_pages(artist):
    response = logged_in(artist).post(
        reverse("request_new"),
        {"basis": "copyright", "page_urls": "javascript:alert(1)", "works": SimpleUploadedFile("a.png", b"")},
    )
    assert response.status_code == 200
    assert "These are not web addresses" in response.content.decode()
    assert not RemovalRequest.objects.exists()


# --- the page's uploader: create, then one file at a time ---------------------


def test_the_script_creates_the_request_then_adds_one_file_per_call(artist):
    client = logged_in(artist)
    created = client.post(
        reverse("request_new"),
        {"basis": "likeness", "js_upload": "on"},
        HTTP_ACCEPT="application/json",
    ).json()
    removal_request = RemovalRequest.objects.get()
    assert created == {
        "ok": True,
        "reference": removal_request.reference,
        "upload_url": reverse("work_upload_one", args=[removal_request.reference]),
        "detail_url": detail(removal_request),
    }
    good = client.post(
        created["upload_url"], {"work": SimpleUploadedFile("me.png", photo_bytes("astronaut.png"))}
    )
    assert good.status_code == 200
    assert good.json() == {"ok": True, "name": "me.png", "error": ""}
    bad = client.post(created["upload_url"], {"work": SimpleUploadedFile("me.gif", b"GIF89a nonsense")})
    assert bad.json()["ok"] is False and bad.json()["name"] == "me.gif" and bad.json()["error"]
    from_zip = client.post(
        created["upload_url"], {"work": zip_upload({"a.png": photo_bytes("coins.png"), "b.doc": b"x"})}
    ).json()
    assert from_zip["ok"] is True and from_zip["added"] == 1
    assert from_zip["errors"][0]["name"] == "b.doc"
    assert [w.original_name for w in removal_request.works.all()] == ["me.png", "a.png"]
    assert client.post(created["upload_url"], {}).status_code == 400


def test_the_script_gets_form_errors_as_json(artist):
    answer = logged_in(artist).post(
        reverse("request_new"), {"basis": "nonsense", "js_upload": "on"}, HTTP_ACCEPT="application/json"
    )
    assert answer.json()["ok"] is False
    assert "Why should these images be removed?" in answer.json()["errors"]
    assert not RemovalRequest.objects.exists()


def test_one_file_calls_stop_at_another_artists_request_and_after_submission(artist, other_artist):
    removal_request = services.request_create(artist=other_artist, basis="copyright")
    url = reverse("work_upload_one", args=[removal_request.reference])
    upload = SimpleUploadedFile("me.png", photo_bytes("astronaut.png"))
    assert logged_in(artist).post(url, {"work": upload}).status_code == 404
    RemovalRequest.objects.filter(pk=removal_request.pk).update(status=Status.SUBMITTED)
    answer = logged_in(other_artist).post(url, {"work": upload}).json()
    assert answer["ok"] is False and "only while the request is a draft" in answer["error"]
    assert not Work.objects.exists()


# --- matches: exclude all, thumbnails -----------------------------------------


def test_exclude_all_excludes_the_undecided_and_keeps_confirmations(artist, maintainer):
    dataset_with_copy(maintainer, slug="alpha", name="Alpha Set", url="https://img.example/a/cat.jpg")
    dataset_with_copy(maintainer, slug="beta", name="Beta Set", url="https://img.example/b/cat.jpg")
    removal_request = hashed_draft(artist, "chelsea.png")
    first, second = Match.objects.order_by("id")
    services.matches_decide(request=removal_request, actor=artist.user, confirm=[first.pk])
    client = logged_in(artist)
    page = client.get(detail(removal_request)).content.decode()
    assert 'name="exclude_all"' in page
    work = removal_request.works.get()
    assert re.search(rf'<img class="match-thumb" src="{reverse("work_image", args=[work.pk])}"', page)
    client.post(reverse("request_matches", args=[removal_request.reference]), {"exclude_all": "1"})
    assert Match.objects.get(pk=first.pk).state == MatchState.CONFIRMED
    assert Match.objects.get(pk=second.pk).state == MatchState.EXCLUDED


# --- replies to the moderators ------------------------------------------------


def test_the_artist_replies_on_the_timeline(artist, moderator):
    removal_request = services.request_create(artist=artist, basis="copyright")
    services.request_note_add(
        request=removal_request, moderator=moderator, message="Which site is yours?", public=True
    )
    client = logged_in(artist)
    response = client.post(
        reverse("request_reply", args=[removal_request.reference]),
        {"message": "  https://ada.example is mine.  "},
        follow=True,
    )
    event = TicketEvent.objects.get(kind=EventKind.PUBLIC_REPLY, actor=artist.user)
    assert event.message == "https://ada.example is mine."
    content = response.content.decode()
    assert "Your message to the moderators" in content
    assert "Message from Removal Desk" in content
    assert content.index("Which site is yours?") < content.index("https://ada.example is mine.")


def test_a_reply_must_say_something_and_be_the_artists_own(artist, other_artist):
    removal_request = services.request_create(artist=artist, basis="copyright")
    with pytest.raises(ActionRefused, match="empty"):
        services.request_artist_reply(request=removal_request, artist_user=artist.user, message="   ")
    with pytest.raises(ActionRefused, match="another account"):
        services.request_artist_reply(request=removal_request, artist_user=other_artist.user, message="hi")
    assert (
        logged_in(other_artist)
        .post(reverse("request_reply", args=[removal_request.reference]), {"message": "hi"})
        .status_code
        == 404
    )
    services.request_withdraw(request=removal_request, actor=artist.user)
    with pytest.raises(ActionRefused, match="withdrawn"):
        services.request_artist_reply(request=removal_request, artist_user=artist.user, message="hi")
    assert not TicketEvent.objects.filter(kind=EventKind.PUBLIC_REPLY).exists()


# --- the public search ----------------------------------------------------------


@pytest.fixture
def clear_cache():
    cache.clear()
    yield
    cache.clear()


def _private_files() -> list[Path]:
    return [p for p in Path(settings.PRIVATE_MEDIA_ROOT).rglob("*") if p.is_file()]


def test_the_public_search_shows_matches_and_stores_nothing(client, maintainer, clear_cache):
    dataset_with_copy(maintainer, slug="alpha", name="Alpha Set", url="https://img.example/a/cat.jpg")
    files_before = _private_files()
    assert client.get(reverse("public_search")).status_code == 200
    response = client.post(
        reverse("public_search"), {"image": SimpleUploadedFile("cat.png", photo_bytes("chelsea.png"))}
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert "Alpha Set" in content and "https://img.example/a/cat.jpg" in content
    assert re.search(r'<td class="num" data-label="Distance">\d+</td>', content)
    assert not Work.objects.exists()
    assert _private_files() == files_before
    miss = client.post(
        reverse("public_search"), {"image": SimpleUploadedFile("coins.png", photo_bytes("coins.png"))}
    )
    assert "We found no image like this one" in miss.content.decode()


def test_the_public_search_names_a_bad_file_and_limits_each_address(client, clear_cache):
    bad = client.post(reverse("public_search"), {"image": SimpleUploadedFile("x.png", b"not an image")})
    assert bad.status_code == 200
    assert "not an image we can read" in bad.content.decode()
    for _ in range(18):
        client.post(reverse("public_search"), {"image": SimpleUploadedFile("x.png", b"no")})
    assert (
        client.post(reverse("public_search"), {"image": SimpleUploadedFile("x.png", b"no")}).status_code
        == 200
    )
    limited = client.post(reverse("public_search"), {"image": SimpleUploadedFile("x.png", b"no")})
    assert limited.status_code == 429
    assert "You searched many times" in limited.content.decode()
    other = client.post(
        reverse("public_search"), {"image": SimpleUploadedFile("x.png", b"no")}, REMOTE_ADDR="10.0.0.9"
    )
    assert other.status_code == 200


def test_the_public_search_checks_the_csrf_token(maintainer, clear_cache):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        reverse("public_search"), {"image": SimpleUploadedFile("cat.png", photo_bytes("chelsea.png"))}
    )
    assert response.status_code == 403


# --- export and deletion ------------------------------------------------------


def approved_request(artist, maintainer, moderator) -> RemovalRequest:
    dataset_with_copy(maintainer, slug="alpha", name="Alpha Set", url="https://img.example/a/cat.jpg")
    removal_request = hashed_draft(artist, "chelsea.png")
    services.matches_decide(
        request=removal_request, actor=artist.user, confirm=Match.objects.values_list("pk", flat=True)
    )
    services.request_submit(request=removal_request, actor=artist.user, signed_name="Ada Lovelace")
    services.request_artist_reply(request=removal_request, artist_user=artist.user, message="My cat.")
    return services.request_approve(request=removal_request, moderator=moderator, reason="Clear.")


def test_the_export_holds_profile_requests_works_matches_timeline_and_removals(artist, maintainer, moderator):
    approved = approved_request(artist, maintainer, moderator)
    RemovalRequest.objects.filter(pk=approved.pk).update(
        description=f"Mine.{PAGES_SEPARATOR}https://ada.example"
    )
    services.request_note_add(request=approved, moderator=moderator, message="internal only", public=False)
    response = logged_in(artist).get(reverse("account_export"))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="removal-desk-my-data.json"'
    data = json.loads(response.content)
    assert data["profile"]["email"] == "ada@example.com"
    assert data["profile"]["display_name"] == "Ada Lovelace"
    assert [p["method"] for p in data["profile"]["proofs"]] == ["email"]
    [req] = data["requests"]
    assert req["reference"] == approved.reference and req["status"] == "approved"
    assert req["signed_name"] == "Ada Lovelace"
    assert "https://ada.example" in req["description"]
    [work] = req["works"]
    assert work["original_name"] == "chelsea.png" and len(work["phash"]) == 16
    assert work["matches"][0]["item_url"] == "https://img.example/a/cat.jpg"
    assert work["matches"][0]["state"] == "approved"
    kinds = [e["kind"] for e in req["timeline"]]
    assert "public_reply" in kinds and "internal_note" not in kinds
    assert "internal only" not in response.content.decode()
    assert req["removals"][0]["dataset"] == "Alpha Set" and req["removals"][0]["state"] == "pending"


def test_deleting_the_account_keeps_approved_requests_anonymised_and_deletes_the_rest(
    artist, maintainer, moderator, django_capture_on_commit_callbacks
):
    approved = approved_request(artist, maintainer, moderator)
    draft = hashed_draft(artist, "coffee.png")
    files = [Path(w.file.path) for w in Work.objects.all()]
    assert len(files) == 2 and all(f.exists() for f in files)
    removals_before = list(Removal.objects.values_list("public_id", "state"))
    client = logged_in(artist)

    wrong = client.post(reverse("account_delete"), {"password": "nope"})
    assert wrong.status_code == 200 and "This is not your password." in wrong.content.decode()
    assert RemovalRequest.objects.count() == 2

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            reverse("account_delete"), {"password": "correct horse battery staple"}, follow=True
        )
    assert "Your account is deleted" in response.content.decode()
    assert not response.context["user"].is_authenticated

    assert not RemovalRequest.objects.filter(pk=draft.pk).exists()
    kept = RemovalRequest.objects.get(pk=approved.pk)
    assert kept.description == "" and kept.signed_name == ""
    assert not Work.objects.exists() and not Match.objects.exists()
    assert len(callbacks) == 1, callbacks
    assert [f for f in files if f.exists()] == []
    assert not TicketEvent.objects.filter(request=kept, message__contains="My cat").exists()
    assert not TicketEvent.objects.filter(request=kept, message__contains="chelsea").exists()
    assert list(Removal.objects.values_list("public_id", "state")) == removals_before
    profile = ArtistProfile.objects.get(pk=artist.pk)
    assert profile.display_name == "(deleted account)"
    assert profile.user.email == "" and not profile.user.is_active and not profile.user.has_usable_password()
    assert "ada" not in profile.user.username
    assert not IdentityProof.objects.exists()
    assert not client.login(username="ada@example.com", password="correct horse battery staple")


def test_deleting_an_account_without_approved_requests_deletes_the_user(artist, other_artist):
    hashed_draft(artist, "coffee.png")
    result = services.account_delete(user=artist.user)
    assert (result.requests_deleted, result.requests_anonymised, result.works_deleted) == (1, 0, 1)
    assert not ArtistProfile.objects.filter(pk=artist.pk).exists()
    assert ArtistProfile.objects.filter(pk=other_artist.pk).exists()


# --- password reset ---------------------------------------------------------------


def test_an_artist_resets_a_forgotten_password(client, artist):
    assert 'href="/password-reset/"' in client.get(reverse("login")).content.decode()
    response = client.post(reverse("password_reset"), {"email": "ADA@example.com"}, follow=True)
    assert "Check your email" in response.content.decode()
    [message] = [m for m in mail.outbox if "new password" in m.subject]
    link = re.search(r"http://testserver(/password-reset/\S+/)", message.body).group(1)
    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a brand new pass phrase 7", "new_password2": "a brand new pass phrase 7"},
        follow=True,
    )
    assert "Your new password is saved" in done.content.decode()
    assert client.login(username="ada@example.com", password="a brand new pass phrase 7")


# --- languages and the Content Security Policy ------------------------------------


def test_the_pages_speak_french_when_asked(client):
    response = client.post(reverse("set_language"), {"language": "fr", "next": "/"}, follow=True)
    content = response.content.decode()
    assert '<html lang="fr">' in content
    assert "Retirez vos images des données d\u2019entraînement de l\u2019IA" in content
    english = client.post(reverse("set_language"), {"language": "en", "next": "/"}, follow=True)
    assert "Take your images out of AI training data" in english.content.decode()


def test_site_pages_carry_a_strict_policy_and_the_admin_and_api_their_own(client, artist):
    policy = client.get(reverse("home"))["Content-Security-Policy"]
    assert policy == (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
    )
    assert "'unsafe-inline'" in client.get("/admin/login/")["Content-Security-Policy"]
    # The API docs page sets its own policy (registry/api/docs.py): nothing from another origin.
    assert client.get("/api/v1/docs/")["Content-Security-Policy"].startswith("default-src 'none'")
    removal_request = hashed_draft(artist, "coffee.png")
    work = removal_request.works.get()
    image = logged_in(artist).get(reverse("work_image", args=[work.pk]))
    assert image["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_no_site_template_has_inline_script_or_style():
    root = Path(settings.BASE_DIR) / "templates"
    for path in root.rglob("*.html"):
        if "admin" in path.parts:
            continue
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), path
        assert not re.search(r"<style|\sstyle=", text), path
