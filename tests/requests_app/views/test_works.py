"""Works (views/works.py): uploading them with a new request, more later, one file per call from
the page's script; the artist's answers on each match; the private image of a work."""

from __future__ import annotations

import re
import struct
import zlib

from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from requests_app import services
from requests_app.models import (
    EventKind,
    Match,
    MatchState,
    RemovalRequest,
    TicketEvent,
    Work,
)
from requests_app.workflow import Status
from tests.helpers import (
    dataset_with_copy,
    detail,
    distinct_png,
    file_errors,
    hashed_draft,
    logged_in,
    photo,
    photo_bytes,
    zip_upload,
)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def decompression_bomb(side: int = 20_000) -> bytes:
    """A valid all-black 1-bit PNG of side x side pixels: 50 MB of pixels in about 50 kB."""
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1-bit greyscale
    row = b"\x00" * (1 + (side + 7) // 8)  # filter byte + pixels
    compressor = zlib.compressobj(9)
    data = b"".join(compressor.compress(row) for _ in range(side)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )


def _upload(name: str, data: bytes, content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def test_it_shows_the_upload_form(client, artist):
    client.force_login(artist.user)
    content = client.get(reverse("request_new")).content.decode()
    assert re.search(r'<input type="file" name="works"[^>]* multiple', content)
    assert 'accept="image/jpeg,image/png,image/webp"' in content
    assert 'enctype="multipart/form-data"' in content
    for basis in ("copyright", "likeness", "privacy"):
        assert f'value="{basis}"' in content
    assert '<label for="id_works">' in content


def test_it_keeps_the_good_files_and_names_each_bad_one(client, artist):
    client.force_login(artist.user)
    jpeg = photo_bytes("coffee.png", "JPEG", quality=85)
    files = [
        _upload("cat.png", photo_bytes("chelsea.png")),
        _upload("coffee.jpg", jpeg, "image/jpeg"),
        _upload("corrupt.png", b"\x89PNG these are not the bytes of an image"),
        _upload("truncated.png", photo_bytes("astronaut.png")[:20_000]),
        _upload("truncated.jpg", jpeg[: len(jpeg) // 2], "image/jpeg"),
        _upload("animated.gif", photo_bytes("camera.png", "GIF"), "image/gif"),
        _upload("scan.bmp", photo_bytes("coins.png", "BMP"), "image/bmp"),
        _upload("bomb.png", decompression_bomb()),
        _upload("huge.png", decompression_bomb(8_000)),  # under Pillow's own limit, over ours
    ]

    response = client.post(
        reverse("request_new"),
        {"basis": "copyright", "description": "My cat and my coffee.", "works": files},
        follow=True,
    )

    ticket = RemovalRequest.objects.get()
    assert response.redirect_chain[0][0] == f"{reverse('request_detail', args=[ticket.reference])}#works"
    assert ticket.status == Status.DRAFT
    assert ticket.description == "My cat and my coffee."
    assert sorted(Work.objects.values_list("original_name", flat=True)) == ["cat.png", "coffee.jpg"]

    content = response.content.decode()
    assert "2 works added; we are checking them now." in content
    errors = file_errors(content)
    assert set(errors) == {
        "corrupt.png",
        "truncated.png",
        "truncated.jpg",
        "animated.gif",
        "scan.bmp",
        "bomb.png",
        "huge.png",
    }
    assert "not an image we can read" in errors["corrupt.png"]
    assert "damaged or incomplete" in errors["truncated.png"]
    assert "damaged or incomplete" in errors["truncated.jpg"]
    assert "GIF files are not accepted" in errors["animated.gif"]
    assert "BMP files are not accepted" in errors["scan.bmp"]
    assert "50,000,000 allowed" in errors["bomb.png"]
    assert "8000 x 8000 pixels" in errors["huge.png"]
    # The good ones are on the page, waiting to be checked.
    for work in Work.objects.all():
        assert reverse("work_image", args=[work.pk]) in content
    assert "checking…" in content


def test_it_keeps_the_file_errors_while_the_page_refreshes_then_clears_them(client, artist):
    client.force_login(artist.user)
    client.post(
        reverse("request_new"),
        {
            "basis": "copyright",
            "works": [_upload("ok.png", photo_bytes("chelsea.png")), _upload("x.png", b"x")],
        },
    )
    ticket = RemovalRequest.objects.get()
    detail = reverse("request_detail", args=[ticket.reference])

    assert "x.png" in file_errors(client.get(detail).content.decode())  # a refresh while hashing
    services.work_hash_and_match(work_id=Work.objects.get().pk)
    assert "x.png" in file_errors(client.get(detail).content.decode())  # the first page after hashing
    assert file_errors(client.get(detail).content.decode()) == {}


def test_it_refuses_more_files_than_one_form_post_takes(client, artist, settings):
    settings.UPLOAD_MAX_FILES = 2
    client.force_login(artist.user)
    files = [_upload(f"{i}.png", photo_bytes("chelsea.png")) for i in range(3)]

    response = client.post(reverse("request_new"), {"basis": "copyright", "works": files})

    assert response.status_code == 200
    assert "You chose 3 files; this form takes at most 2 at once." in response.content.decode()
    assert not RemovalRequest.objects.exists()
    assert not Work.objects.exists()


def test_a_request_holds_more_works_than_one_form_post_takes(client, artist, settings):
    """UPLOAD_MAX_FILES is a batch limit, not a cap on the request: a third post adds a third work."""
    settings.UPLOAD_MAX_FILES = 2
    ticket = services.request_create(artist=artist, basis="copyright")
    services.works_add(
        ticket=ticket,
        actor=artist.user,
        files=[_upload("a.png", photo_bytes("chelsea.png")), _upload("b.png", photo_bytes("coffee.png"))],
    )
    client.force_login(artist.user)

    response = client.post(
        reverse("request_upload", args=[ticket.reference]),
        {"works": [_upload("c.png", photo_bytes("coins.png"))]},
        follow=True,
    )

    assert "1 work added" in response.content.decode()
    assert ticket.works.count() == 3


def test_it_adds_more_works_to_a_draft(client, artist):
    ticket = services.request_create(artist=artist, basis="likeness")
    client.force_login(artist.user)

    response = client.post(
        reverse("request_upload", args=[ticket.reference]),
        {"works": [_upload("me.png", photo_bytes("astronaut.png")), _upload("empty.png", b"")]},
        follow=True,
    )

    assert [w.original_name for w in ticket.works.all()] == ["me.png"]
    content = response.content.decode()
    assert "1 work added; we are checking it now." in content
    assert "empty.png" in file_errors(content)


def test_it_asks_for_at_least_one_file(client, artist):
    client.force_login(artist.user)
    response = client.post(reverse("request_new"), {"basis": "copyright"})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not RemovalRequest.objects.exists()


def test_it_refuses_works_once_submitted(client, artist, maintainer):
    ticket = services.request_create(artist=artist, basis="copyright")
    ticket.status = Status.SUBMITTED  # arrange: a request past the editable statuses
    ticket.save(update_fields=["status"])
    client.force_login(artist.user)

    response = client.post(
        reverse("request_upload", args=[ticket.reference]),
        {"works": [_upload("late.png", photo_bytes("chelsea.png"))]},
        follow=True,
    )

    assert "Works can be added only while the request is a draft or needs information." in (
        response.content.decode()
    )
    assert not Work.objects.exists()
    assert "Add more works" not in response.content.decode()


def test_it_never_adds_works_to_another_artists_request(client, artist, other_artist):
    ticket = services.request_create(artist=other_artist, basis="copyright")
    client.force_login(artist.user)
    response = client.post(
        reverse("request_upload", args=[ticket.reference]),
        {"works": [_upload("sneaky.png", photo_bytes("chelsea.png"))]},
    )
    assert response.status_code == 404
    assert not Work.objects.exists()


def test_it_strips_metadata_from_what_it_stores(client, artist):
    from PIL import Image

    client.force_login(artist.user)
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    data = photo_bytes("coffee.png", "JPEG", exif=exif.tobytes())
    assert b"SecretCam" in data
    client.post(
        reverse("request_new"), {"basis": "copyright", "works": [_upload("c.jpg", data, "image/jpeg")]}
    )
    work = Work.objects.get()
    with work.file.open("rb") as handle:
        assert b"SecretCam" not in handle.read()
    assert (work.width, work.height) == photo("coffee.png").size


# --- the page's uploader: create, then one file at a time ---------------------


def test_the_script_creates_the_request_then_adds_one_file_per_call(artist):
    client = logged_in(artist)
    created = client.post(
        reverse("request_new"),
        {"basis": "likeness", "js_upload": "on"},
        HTTP_ACCEPT="application/json",
    ).json()
    ticket = RemovalRequest.objects.get()
    assert created == {
        "ok": True,
        "reference": ticket.reference,
        "upload_url": reverse("work_upload_one", args=[ticket.reference]),
        "detail_url": detail(ticket),
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
    assert [w.original_name for w in ticket.works.all()] == ["me.png", "a.png"]
    assert client.post(created["upload_url"], {}).status_code == 400


def test_the_script_gets_form_errors_as_json(artist):
    answer = logged_in(artist).post(
        reverse("request_new"), {"basis": "nonsense", "js_upload": "on"}, HTTP_ACCEPT="application/json"
    )
    assert answer.json()["ok"] is False
    assert "Why should these images be removed?" in answer.json()["errors"]
    assert not RemovalRequest.objects.exists()


def test_one_file_calls_stop_at_another_artists_request_and_after_submission(artist, other_artist):
    ticket = services.request_create(artist=other_artist, basis="copyright")
    url = reverse("work_upload_one", args=[ticket.reference])
    upload = SimpleUploadedFile("me.png", photo_bytes("astronaut.png"))
    assert logged_in(artist).post(url, {"work": upload}).status_code == 404
    RemovalRequest.objects.filter(pk=ticket.pk).update(status=Status.SUBMITTED)
    answer = logged_in(other_artist).post(url, {"work": upload}).json()
    assert answer["ok"] is False and "only while the request is a draft" in answer["error"]
    assert not Work.objects.exists()


# --- matches: exclude all, thumbnails -----------------------------------------


def test_exclude_all_excludes_the_undecided_and_keeps_confirmations(artist, maintainer):
    dataset_with_copy(maintainer, slug="alpha", name="Alpha Set", url="https://img.example/a/cat.jpg")
    dataset_with_copy(maintainer, slug="beta", name="Beta Set", url="https://img.example/b/cat.jpg")
    ticket = hashed_draft(artist, "chelsea.png")
    first, second = Match.objects.order_by("id")
    services.matches_decide(ticket=ticket, actor=artist.user, confirm=[first.pk])
    client = logged_in(artist)
    page = client.get(detail(ticket)).content.decode()
    assert 'name="exclude_all"' in page
    work = ticket.works.get()
    assert re.search(rf'<img class="match-thumb" src="{reverse("work_image", args=[work.pk])}"', page)
    client.post(reverse("request_matches", args=[ticket.reference]), {"exclude_all": "1"})
    assert Match.objects.get(pk=first.pk).state == MatchState.CONFIRMED
    assert Match.objects.get(pk=second.pk).state == MatchState.EXCLUDED


# --- item 8: one answer per match; errors beside the control, in view ------------------


def test_mine_and_not_mine_on_two_copies_save_together_and_undecided_takes_a_choice_back(
    nora, alpha, maintainer
):
    dataset_with_copy(maintainer, slug="beta", name="Beta Set", url="https://b.example/cat.jpg")
    ticket = hashed_draft(nora, "chelsea.png")
    first, second = Match.objects.order_by("pk")
    client = logged_in(nora)
    url = reverse("request_matches", args=[ticket.reference])

    response = client.post(url, {f"match-{first.pk}": "mine", f"match-{second.pk}": "not_mine"})
    assert response.status_code == 302
    states = dict(Match.objects.values_list("pk", "state"))
    assert states == {first.pk: MatchState.CONFIRMED, second.pk: MatchState.EXCLUDED}

    client.post(url, {f"match-{first.pk}": "undecided", f"match-{second.pk}": "not_mine"})
    first.refresh_from_db()
    assert first.state == MatchState.SUGGESTED


def test_confirm_all_undecided_uses_the_answers_on_the_page(nora, alpha, maintainer):
    dataset_with_copy(maintainer, slug="beta", name="Beta Set", url="https://b.example/cat.jpg")
    ticket = hashed_draft(nora, "chelsea.png")
    first, second = Match.objects.order_by("pk")
    logged_in(nora).post(
        reverse("request_matches", args=[ticket.reference]),
        {f"match-{first.pk}": "not_mine", f"match-{second.pk}": "undecided", "confirm_all": "1"},
    )
    states = dict(Match.objects.values_list("pk", "state"))
    assert states == {first.pk: MatchState.EXCLUDED, second.pk: MatchState.CONFIRMED}


def test_a_refused_matches_save_shows_its_reason_beside_the_save_button_and_keeps_the_answers(nora, alpha):
    ticket = hashed_draft(nora, "chelsea.png")
    [match] = Match.objects.all()
    client = logged_in(nora)
    page = client.get(detail(ticket)).content.decode()  # the page the artist had open
    assert f'name="match-{match.pk}"' in page
    services.request_withdraw(ticket=ticket, actor=nora.user)  # e.g. from another tab

    response = client.post(
        reverse("request_matches", args=[ticket.reference]), {f"match-{match.pk}": "not_mine"}
    )

    assert response.status_code == 200  # the form again, with the error beside its field
    content = response.content.decode()
    error = re.search(r'<p class="message message--error" role="alert" id="matches-error">(.*?)</p>', content)
    assert error and "only while the request is a draft or needs information" in error.group(1)
    # The message sits in the matches form, not at the top of the page.
    section = content[content.index('id="matches"') : content.index('id="history"')]
    assert 'id="matches-error"' in section


def test_one_upload_action_sent_file_by_file_is_one_timeline_row(nora):
    ticket = services.request_create(artist=nora, basis="copyright")
    client = logged_in(nora)
    url = reverse("work_upload_one", args=[ticket.reference])
    for i, name in enumerate(f"w{i:02d}.png" for i in range(12)):
        answer = client.post(url, {"work": SimpleUploadedFile(name, distinct_png(i)), "batch": "b1"})
        assert answer.json()["ok"]
    client.post(url, {"work": SimpleUploadedFile("later.png", photo_bytes("coins.png")), "batch": "b2"})

    rows = list(TicketEvent.objects.filter(request=ticket, kind=EventKind.WORKS).order_by("pk"))
    assert [r.params["count"] for r in rows] == [12, 1]
    names = ", ".join(f"w{i:02d}.png" for i in range(10))
    assert rows[0].message == f"12 works added: {names}…"
    content = client.get(detail(ticket)).content.decode()
    assert content.count('<span class="timeline-title">Works added</span>') == 2


def test_the_plain_form_upload_is_one_row_too(nora):
    ticket = services.request_create(artist=nora, basis="copyright")
    logged_in(nora).post(
        reverse("request_upload", args=[ticket.reference]),
        {
            "works": [
                SimpleUploadedFile(n, distinct_png(i)) for i, n in enumerate(("a.png", "b.png", "c.png"))
            ]
        },
    )
    [row] = TicketEvent.objects.filter(request=ticket, kind=EventKind.WORKS)
    assert row.params["count"] == 3


def test_the_same_picture_twice_is_one_work_and_the_second_is_reported(nora):
    """Duplicates are found by content in the portfolio, on the plain form too."""
    ticket = services.request_create(artist=nora, basis="copyright")
    client = logged_in(nora)
    url = reverse("work_upload_one", args=[ticket.reference])
    assert client.post(url, {"work": SimpleUploadedFile("a.png", distinct_png(1))}).json()["ok"]
    answer = client.post(url, {"work": SimpleUploadedFile("again.png", distinct_png(1))}).json()
    assert answer == {"ok": False, "name": "again.png", "error": "Already in this request as a.png."}
    assert ticket.works.count() == 1


def _work(artist, name: str = "chelsea.png", fmt: str = "PNG") -> Work:
    ticket = services.request_create(artist=artist, basis="copyright")
    added = services.works_add(
        ticket=ticket,
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
