"""The private image of a work: only to its artist and to moderators."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from requests_app import services
from requests_app.models import Work
from tests.conftest import photo_bytes


def _work(artist, name: str = "chelsea.png", fmt: str = "PNG") -> Work:
    removal_request = services.request_create(artist=artist, basis="copyright")
    added = services.works_add(
        request=removal_request,
        actor=artist.user,
        files=[SimpleUploadedFile(name, photo_bytes("chelsea.png", fmt))],
    )
    [work] = added.works
    return work


def _get(user, work: Work):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client.get(reverse("work_image", args=[work.pk]))


def _body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_it_streams_the_work_to_its_artist_privately(artist):
    work = _work(artist)
    response = _get(artist.user, work)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("inline")
    with work.file.open("rb") as handle:
        assert _body(response) == handle.read()


def test_it_gives_each_format_its_content_type(artist):
    jpeg, webp = _work(artist, "c.jpg", "JPEG"), _work(artist, "c.webp", "WEBP")
    assert _get(artist.user, jpeg)["Content-Type"] == "image/jpeg"
    assert _get(artist.user, webp)["Content-Type"] == "image/webp"


def test_it_never_serves_a_work_to_another_artist(artist, other_artist):
    work = _work(artist)
    assert _get(other_artist.user, work).status_code == 404


def test_it_sends_anonymous_visitors_to_log_in(artist):
    work = _work(artist)
    response = _get(None, work)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_serves_the_work_to_a_moderator(artist, moderator):
    work = _work(artist)
    response = _get(moderator, work)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


def test_it_never_serves_a_work_to_staff_without_the_moderator_permission(artist, db):
    staff = User.objects.create_user("staff@example.com", "staff@example.com", "pw", is_staff=True)
    assert _get(staff, _work(artist)).status_code == 404


def test_it_answers_404_for_a_work_that_does_not_exist(artist):
    assert Client().get(reverse("work_image", args=[999_999])).status_code == 302
    client = Client()
    client.force_login(artist.user)
    assert client.get(reverse("work_image", args=[999_999])).status_code == 404
