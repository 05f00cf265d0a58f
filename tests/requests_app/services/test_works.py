"""requests_app.services.works: zip archives (each member added or named with its reason, limits read
before anything is unpacked) and overlong file names, which keep their extension."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from requests_app import services
from requests_app.models import (
    Work,
)
from requests_app.services import ActionRefused, works
from tests.helpers import photo_bytes, zip_upload

pytestmark = pytest.mark.django_db


def test_a_zip_member_with_a_300_character_name_is_added_as_the_png_it_is(artist):
    ticket = services.request_create(artist=artist, basis="copyright")
    long_name = "a" * 296 + ".png"
    added = services.works_add_zip(
        ticket=ticket,
        actor=artist.user,
        upload=zip_upload({f"folder/{long_name}": photo_bytes("chelsea.png")}),
    )
    assert added.errors == []
    [work] = added.works
    assert len(work.original_name) == 255 and work.original_name.endswith("aaa.png")


# --- zip archives -----------------------------------------------------------


def test_a_zip_adds_each_image_and_names_each_bad_member(artist):
    ticket = services.request_create(artist=artist, basis="copyright")
    added = services.works_add_zip(
        ticket=ticket,
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
    assert ticket.works.count() == 2


def test_a_zip_with_too_many_members_is_refused_before_anything_is_read(artist, settings):
    settings.UPLOAD_ZIP_MAX_MEMBERS = 3
    ticket = services.request_create(artist=artist, basis="copyright")
    members = {f"w{i}.png": b"x" for i in range(4)}
    with pytest.raises(ActionRefused, match="holds 4 files"):
        services.works_add_zip(ticket=ticket, actor=artist.user, upload=zip_upload(members))
    assert not Work.objects.exists()


def test_a_zip_bomb_is_refused_on_its_declared_sizes(artist, settings):
    settings.UPLOAD_ZIP_MAX_UNCOMPRESSED = 1024 * 1024
    ticket = services.request_create(artist=artist, basis="copyright")
    # 2 MB of zeros compress to a few kB
    bomb = zip_upload({"a.png": b"\0" * (1024 * 1024), "b.png": b"\0" * (1024 * 1024)})
    assert bomb.size < 20_000
    with pytest.raises(ActionRefused, match="would unpack to"):
        services.works_add_zip(ticket=ticket, actor=artist.user, upload=bomb)


def test_a_zip_member_over_the_size_limit_is_skipped(artist, settings):
    settings.UPLOAD_MAX_BYTES = 100_000
    ticket = services.request_create(artist=artist, basis="copyright")
    added = services.works_add_zip(
        ticket=ticket,
        actor=artist.user,
        upload=zip_upload({"big.png": b"\0" * 200_000, "cat.jpg": photo_bytes("chelsea.png", "JPEG")}),
    )
    assert [w.original_name for w in added.works] == ["cat.jpg"]
    assert [e.name for e in added.errors] == ["big.png"]
    assert "MB allowed" in added.errors[0].message


def test_a_file_that_is_not_a_zip_is_refused(artist):
    ticket = services.request_create(artist=artist, basis="copyright")
    with pytest.raises(ActionRefused, match="not a zip file"):
        services.works_add_zip(ticket=ticket, actor=artist.user, upload=SimpleUploadedFile("x.zip", b"nope"))


def _archive(names: list[str]) -> zipfile.ZipFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(f"folder/{name}", name.encode())
    buffer.seek(0)
    return zipfile.ZipFile(buffer)


def test_the_members_read_by_index_and_by_slice():
    archive = _archive(["a.png", "b.png", "c.png"])
    accepted, errors = works.zip_members_check(archive)
    members = works._ZipMembers(archive, accepted, errors)
    assert len(members) == 3
    assert (members[0].name, members[-1].name) == ("a.png", "c.png")
    assert members[1].read() == b"b.png"
    assert [m.name for m in members[1:]] == ["b.png", "c.png"]
    assert [m.name for m in members[::2]] == ["a.png", "c.png"]
    assert [m.name for m in members] == ["a.png", "b.png", "c.png"]
    assert errors == []
