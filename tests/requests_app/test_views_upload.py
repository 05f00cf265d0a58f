"""Uploading works: a new request with its files, and more files later."""

from __future__ import annotations

import html
import re
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from requests_app import services
from requests_app.models import RemovalRequest, Work
from requests_app.workflow import Status
from tests.conftest import photo, photo_bytes


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


def _file_errors(content: str) -> dict[str, str]:
    """{file name: message} from the page's list of files that were not added."""
    pairs = re.findall(
        r'<span class="file-name">(.*?)</span>: <span class="file-error">(.*?)</span>', content, re.S
    )
    return {html.unescape(name): html.unescape(message) for name, message in pairs}


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

    removal_request = RemovalRequest.objects.get()
    assert (
        response.redirect_chain[0][0]
        == f"{reverse('request_detail', args=[removal_request.reference])}#works"
    )
    assert removal_request.status == Status.DRAFT
    assert removal_request.description == "My cat and my coffee."
    assert sorted(Work.objects.values_list("original_name", flat=True)) == ["cat.png", "coffee.jpg"]

    content = response.content.decode()
    assert "2 works added; we are checking them now." in content
    errors = _file_errors(content)
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
    removal_request = RemovalRequest.objects.get()
    detail = reverse("request_detail", args=[removal_request.reference])

    assert "x.png" in _file_errors(client.get(detail).content.decode())  # a refresh while hashing
    services.work_hash_and_match(work_id=Work.objects.get().pk)
    assert "x.png" in _file_errors(client.get(detail).content.decode())  # the first page after hashing
    assert _file_errors(client.get(detail).content.decode()) == {}


def test_it_refuses_more_files_than_a_request_holds(client, artist, settings):
    settings.UPLOAD_MAX_FILES = 2
    client.force_login(artist.user)
    files = [_upload(f"{i}.png", photo_bytes("chelsea.png")) for i in range(3)]

    response = client.post(reverse("request_new"), {"basis": "copyright", "works": files})

    assert response.status_code == 200
    assert "You chose 3 files; a request holds at most 2." in response.content.decode()
    assert not RemovalRequest.objects.exists()
    assert not Work.objects.exists()


def test_it_refuses_more_works_than_a_request_holds_when_adding(client, artist, settings):
    settings.UPLOAD_MAX_FILES = 2
    removal_request = services.request_create(artist=artist, basis="copyright")
    services.works_add(
        request=removal_request,
        actor=artist.user,
        files=[_upload("a.png", photo_bytes("chelsea.png")), _upload("b.png", photo_bytes("coffee.png"))],
    )
    client.force_login(artist.user)

    response = client.post(
        reverse("request_upload", args=[removal_request.reference]),
        {"works": [_upload("c.png", photo_bytes("coins.png"))]},
        follow=True,
    )

    assert "A request holds at most 2 works; it has 2." in response.content.decode()
    assert removal_request.works.count() == 2


def test_it_adds_more_works_to_a_draft(client, artist):
    removal_request = services.request_create(artist=artist, basis="likeness")
    client.force_login(artist.user)

    response = client.post(
        reverse("request_upload", args=[removal_request.reference]),
        {"works": [_upload("me.png", photo_bytes("astronaut.png")), _upload("empty.png", b"")]},
        follow=True,
    )

    assert [w.original_name for w in removal_request.works.all()] == ["me.png"]
    content = response.content.decode()
    assert "1 work added; we are checking it now." in content
    assert "empty.png" in _file_errors(content)


def test_it_asks_for_at_least_one_file(client, artist):
    client.force_login(artist.user)
    response = client.post(reverse("request_new"), {"basis": "copyright"})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not RemovalRequest.objects.exists()


def test_it_refuses_works_once_submitted(client, artist, maintainer):
    removal_request = services.request_create(artist=artist, basis="copyright")
    removal_request.status = Status.SUBMITTED  # arrange: a request past the editable statuses
    removal_request.save(update_fields=["status"])
    client.force_login(artist.user)

    response = client.post(
        reverse("request_upload", args=[removal_request.reference]),
        {"works": [_upload("late.png", photo_bytes("chelsea.png"))]},
        follow=True,
    )

    assert "Works can be added only while the request is a draft or needs information." in (
        response.content.decode()
    )
    assert not Work.objects.exists()
    assert "Add more works" not in response.content.decode()


def test_it_never_adds_works_to_another_artists_request(client, artist, other_artist):
    removal_request = services.request_create(artist=other_artist, basis="copyright")
    client.force_login(artist.user)
    response = client.post(
        reverse("request_upload", args=[removal_request.reference]),
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
