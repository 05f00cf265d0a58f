"""Resumable portfolio uploads (requests_app/services/uploads.py): chunks at their offset, the
checks once every byte is in, unpacking member by member (zips of any size, duplicates by
content, hostile names and members), resuming, and the sweeps."""

from __future__ import annotations

import hashlib
import io
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from requests_app import services
from requests_app.models import EventKind, PortfolioUpload, TicketEvent, UploadState, Work
from requests_app.services import UploadRefused
from requests_app.storage import private_storage
from requests_app.workflow import Status
from tests.helpers import distinct_png, make_zip, photo_bytes, upload_send

pytestmark = pytest.mark.django_db


def _create(artist, data: bytes, name: str = "works.zip", **extra):
    return services.upload_create(artist=artist, actor=artist.user, name=name, size=len(data), **extra)


def _received(artist, data: bytes, name: str = "works.zip", chunk: int = 4096, **extra):
    return upload_send(_create(artist, data, name, **extra), data, chunk=chunk)


def _part(upload) -> Path:
    return Path(private_storage.path(upload.path))


# --- receiving ----------------------------------------------------------------


def test_chunks_append_and_the_last_one_queues_the_file(artist):
    data = make_zip({f"w{i}.png": distinct_png(i) for i in range(3)})
    upload = _create(artist, data)
    for offset in range(0, len(data), 700):
        assert upload.received == offset
        upload = services.upload_chunk_write(upload=upload, offset=offset, data=data[offset : offset + 700])
    assert upload.state == UploadState.QUEUED
    assert upload.received == len(data) and upload.completed_at is not None
    assert _part(upload).read_bytes() == data


def test_a_chunk_at_the_wrong_offset_is_refused_and_changes_nothing(artist):
    data = make_zip({"a.png": distinct_png(1)})
    upload = services.upload_chunk_write(upload=_create(artist, data), offset=0, data=data[:100])
    for offset in (0, 50, 150):
        with pytest.raises(UploadRefused) as refused:
            services.upload_chunk_write(upload=upload, offset=offset, data=data[offset : offset + 100])
        assert (refused.value.code, refused.value.status, refused.value.offset) == (
            "offset_mismatch",
            409,
            100,
        )
        assert "send from byte 100" in str(refused.value)
    upload.refresh_from_db()
    assert upload.received == 100 and _part(upload).read_bytes() == data[:100]


def test_a_chunk_past_the_announced_size_is_refused(artist):
    data = make_zip({"a.png": distinct_png(1)})
    upload = _create(artist, data)
    with pytest.raises(UploadRefused) as refused:
        services.upload_chunk_write(upload=upload, offset=0, data=data + b"extra")
    assert refused.value.code == "past_size"
    upload.refresh_from_db()
    assert upload.received == 0 and not _part(upload).exists()


def test_a_chunk_larger_than_the_chunk_size_or_empty_is_refused(artist, settings):
    settings.PORTFOLIO_CHUNK_BYTES = 1024
    data = b"x" * 5000
    upload = _create(artist, data, "a.png")
    with pytest.raises(UploadRefused, match="at most 1024 bytes"):
        services.upload_chunk_write(upload=upload, offset=0, data=data[:1025])
    with pytest.raises(UploadRefused, match="empty"):
        services.upload_chunk_write(upload=upload, offset=0, data=b"")


def test_a_chunk_after_the_last_is_refused(artist):
    data = make_zip({"a.png": distinct_png(1)})
    upload = _received(artist, data)
    with pytest.raises(UploadRefused) as refused:
        services.upload_chunk_write(upload=upload, offset=len(data), data=b"x")
    assert (refused.value.code, refused.value.offset) == ("not_receiving", len(data))


def test_bytes_past_the_offset_left_by_a_failed_write_are_overwritten(artist):
    """A chunk written to disk whose row was never saved (the process died) is sent again."""
    data = make_zip({"a.png": distinct_png(1)})
    upload = services.upload_chunk_write(upload=_create(artist, data), offset=0, data=data[:100])
    with open(_part(upload), "ab") as handle:
        handle.write(b"garbage that was never acknowledged")
    upload = services.upload_chunk_write(upload=upload, offset=100, data=data[100:])
    assert upload.state == UploadState.QUEUED and _part(upload).read_bytes() == data


def test_the_sha256_announced_is_checked(artist):
    data = make_zip({"a.png": distinct_png(1)})
    good = _received(artist, data, sha256=hashlib.sha256(data).hexdigest())
    assert good.state == UploadState.QUEUED

    bad = _received(artist, data, sha256="0" * 64)
    assert bad.state == UploadState.FAILED
    assert "does not have the sha256 announced" in bad.error
    assert not _part(bad).exists()


@pytest.mark.parametrize(
    ("name", "size", "extra", "code"),
    [
        ("notes.txt", 10, {}, "bad_type"),
        ("a\x00b.png", 10, {}, "bad_name"),
        ("a\ud800.png", 10, {}, "bad_name"),
        ("empty.png", 0, {}, "empty"),
        ("big.png", 26 * 1024 * 1024, {}, "too_large"),
        ("huge.zip", 5 * 1024**3, {}, "too_large"),
        ("a.png", 10, {"sha256": "xyz"}, "bad_sha256"),
    ],
)
def test_an_upload_is_checked_by_its_name_and_size_before_any_byte(artist, name, size, extra, code):
    with pytest.raises(UploadRefused) as refused:
        services.upload_create(artist=artist, actor=artist.user, name=name, size=size, **extra)
    assert refused.value.code == code
    assert str(refused.value)
    assert not PortfolioUpload.objects.exists()


def test_an_upload_into_a_request_needs_an_editable_request_of_ones_own(artist, other_artist):
    submitted = services.request_create(artist=artist, basis="copyright")
    submitted.status = Status.SUBMITTED
    submitted.save(update_fields=["status"])
    with pytest.raises(UploadRefused) as refused:
        _create(artist, b"x" * 10, "a.png", ticket=submitted)
    assert refused.value.code == "not_editable"
    other = services.request_create(artist=other_artist, basis="copyright")
    with pytest.raises(services.ActionRefused, match="another account"):
        _create(artist, b"x" * 10, "a.png", ticket=other)


def test_a_very_long_name_is_shortened_with_its_extension_kept(artist):
    upload = _create(artist, b"x" * 10, "n" * 1000 + ".png")
    assert len(upload.name) == 255 and upload.name.endswith(".png")


# --- unpacking ----------------------------------------------------------------


def test_a_zip_of_205_images_is_accepted_whole(artist):
    """More than the 200 that a request used to hold, in one zip, into one request."""
    ticket = services.request_create(artist=artist, basis="copyright")
    data = make_zip({f"folder/w{i:03d}.png": distinct_png(i) for i in range(205)})
    upload = _received(artist, data, ticket=ticket, chunk=64 * 1024)

    assert services.upload_process(upload_id=upload.pk) == "done"

    upload.refresh_from_db()
    assert (upload.state, upload.members, upload.processed, upload.added) == (UploadState.DONE, 205, 205, 205)
    assert (upload.duplicates, upload.failed) == (0, 0)
    assert ticket.works.count() == 205 == Work.objects.filter(artist=artist).count()
    assert not _part(upload).exists()  # the bytes are deleted once unpacked
    event = TicketEvent.objects.get(request=ticket, kind=EventKind.WORKS)
    assert event.params["count"] == 205 and event.params["names"][0] == "w000.png"


def test_an_image_upload_becomes_a_work_in_the_portfolio_only(artist):
    upload = _received(artist, photo_bytes("chelsea.png", "JPEG"), "chelsea.jpg")
    assert services.upload_process(upload_id=upload.pk) == "done"
    work = Work.objects.get()
    assert (work.artist, work.request, work.original_name, work.format) == (
        artist,
        None,
        "chelsea.jpg",
        "JPEG",
    )
    assert services.upload_process(upload_id=upload.pk) == "not-due"  # safe to run twice
    assert Work.objects.count() == 1


def test_duplicates_are_recognised_by_content(artist, other_artist):
    first = _received(artist, make_zip({"a.png": distinct_png(1), "b.png": distinct_png(2)}))
    services.upload_process(upload_id=first.pk)
    # The same pictures under other names, one twice, and one new: only the new one is stored.
    again = _received(
        artist,
        make_zip({"renamed.png": distinct_png(1), "copy.png": distinct_png(1), "c.png": distinct_png(3)}),
    )
    services.upload_process(upload_id=again.pk)
    again.refresh_from_db()
    assert (again.added, again.duplicates) == (1, 2)
    assert {r["message"] for r in again.reports} == {"Already in your portfolio as a.png."}
    assert Work.objects.filter(artist=artist).count() == 3
    # Another artist's portfolio is their own: the same bytes are stored for them.
    theirs = _received(other_artist, make_zip({"a.png": distinct_png(1)}))
    services.upload_process(upload_id=theirs.pk)
    assert Work.objects.filter(artist=other_artist).count() == 1


def test_a_duplicate_in_no_request_joins_the_request_uploaded_into(artist):
    loose = _received(artist, make_zip({"a.png": distinct_png(1)}))
    services.upload_process(upload_id=loose.pk)
    ticket = services.request_create(artist=artist, basis="copyright")
    into = _received(artist, make_zip({"again.png": distinct_png(1)}), ticket=ticket)
    services.upload_process(upload_id=into.pk)
    into.refresh_from_db()
    assert (into.added, into.duplicates) == (1, 0)
    assert list(ticket.works.values_list("original_name", flat=True)) == ["a.png"]
    # In a request already: reported, not moved.
    other = services.request_create(artist=artist, basis="copyright")
    third = _received(artist, make_zip({"a.png": distinct_png(1)}), ticket=other)
    services.upload_process(upload_id=third.pk)
    third.refresh_from_db()
    assert third.duplicates == 1 and not other.works.exists()
    assert "Already in your portfolio as a.png, in request" in third.reports[0]["message"]


def test_a_request_submitted_meanwhile_gets_nothing_but_the_portfolio_does(artist):
    ticket = services.request_create(artist=artist, basis="copyright")
    upload = _received(artist, make_zip({"a.png": distinct_png(1)}), ticket=ticket)
    ticket.status = Status.WITHDRAWN
    ticket.save(update_fields=["status"])
    services.upload_process(upload_id=upload.pk)
    assert Work.objects.get().request is None


def test_a_corrupt_zip_is_refused_when_its_last_byte_arrives(artist):
    data = make_zip({"a.png": distinct_png(1), "b.png": distinct_png(2)})
    upload = _received(artist, data[: len(data) // 2] + b"\0" * (len(data) - len(data) // 2))
    assert upload.state == UploadState.FAILED
    assert "is not a zip file we can open" in upload.error
    assert not Work.objects.exists()


def test_a_zip_over_the_limits_is_refused_whole(artist, settings):
    settings.UPLOAD_ZIP_MAX_MEMBERS = 3
    upload = _received(artist, make_zip({f"w{i}.png": distinct_png(i) for i in range(4)}))
    assert upload.state == UploadState.FAILED and "holds 4 files; a zip may hold at most 3" in upload.error
    settings.UPLOAD_ZIP_MAX_MEMBERS = 20_000
    settings.UPLOAD_ZIP_MAX_UNCOMPRESSED = 1024 * 1024
    bomb = _received(artist, make_zip({"a.png": b"\0" * (1024 * 1024), "b.png": b"\0" * 1024}))
    assert bomb.state == UploadState.FAILED and "would unpack to" in bomb.error
    assert not Work.objects.exists()


def test_a_zip_without_any_image_is_refused(artist):
    upload = _received(artist, make_zip({"notes.txt": b"hello"}))
    assert upload.state == UploadState.FAILED and "holds no JPEG, PNG or WebP image" in upload.error


def _encrypted_member_zip() -> bytes:
    """A zip whose second member says it is encrypted (flag bit 0), as a password-protected zip does:
    zipfile writes no encryption, so the flag is set in the bytes of both its headers."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("plain.png", distinct_png(3))
        archive.writestr("secret.png", distinct_png(4))
        header = archive.getinfo("secret.png").header_offset
    data = bytearray(out.getvalue())
    data[header + 6] |= 0x1  # local file header: general purpose flags at +6
    central = data.rindex(b"PK\x01\x02")  # the last central directory entry is secret.png's
    assert data[central + 46 : central + 56] == b"secret.png"
    data[central + 8] |= 0x1  # central directory entry: flags at +8
    return bytes(data)


def test_bad_members_are_reported_one_by_one_and_the_others_stored(artist, settings):
    bomb_member = b"\0" * (2 * 1024 * 1024)  # compresses about 1000:1
    members = {
        "good.png": distinct_png(1),
        "broken.png": b"not a picture",
        "notes.txt": b"hello",
        "bomb.png": bomb_member,
        "empty.png": b"",
        ".DS_Store": b"x",
        "__MACOSX/._good.png": b"x",
    }
    upload = _received(artist, make_zip(members))
    services.upload_process(upload_id=upload.pk)
    upload.refresh_from_db()
    reports = {r["name"]: r["message"] for r in upload.reports}
    assert set(reports) == {"broken.png", "notes.txt", "bomb.png", "empty.png"}
    assert "compresses far better than any image" in reports["bomb.png"]
    assert "JPEG, PNG or WebP" in reports["notes.txt"]
    assert (upload.added, upload.failed, upload.processed) == (1, 4, 5)

    encrypted = _received(artist, _encrypted_member_zip())
    services.upload_process(upload_id=encrypted.pk)
    encrypted.refresh_from_db()
    assert [r["name"] for r in encrypted.reports] == ["secret.png"]
    assert "encrypted" in encrypted.reports[0]["message"] and encrypted.added == 1


def _zip_named(raw_name: bytes, *, utf8_flag: bool) -> bytes:
    """A zip whose one member is named exactly `raw_name` (bytes)."""
    placeholder = b"p" * (len(raw_name) - 4) + b".png"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        info = zipfile.ZipInfo(placeholder.decode())
        if utf8_flag:
            info.flag_bits |= 0x800
        archive.writestr(info, distinct_png(7))
    return out.getvalue().replace(placeholder, raw_name)


@pytest.mark.parametrize("utf8_flag", [False, True], ids=["cp437", "utf8"])
@pytest.mark.parametrize(
    "raw_name", [b"a\x00b-----.png", b"a\xed\xa0\x80b--.png", b"\xff\xfe\xfd-----.png", b"\x01\x1b[31m.png"]
)
def test_hostile_member_names_are_stored_clean_or_refused_clearly(artist, raw_name, utf8_flag):
    upload = _received(artist, _zip_named(raw_name, utf8_flag=utf8_flag))
    if upload.state == UploadState.FAILED:
        # zipfile cuts a name at its NUL (losing the extension), and may refuse a name it cannot decode
        assert upload.error in (
            "works.zip holds no JPEG, PNG or WebP image.",
            "works.zip is not a zip file we can open.",
        )
        return
    services.upload_process(upload_id=upload.pk)
    work = Work.objects.get()
    assert work.original_name.endswith(".png")
    assert not any(ord(c) < 32 or 0xD800 <= ord(c) <= 0xDFFF for c in work.original_name)


def test_unpacking_resumes_at_its_cursor(artist):
    """A worker died after storing 120 members: the next run stores the rest, not those again."""
    data = make_zip({f"w{i:03d}.png": distinct_png(i) for i in range(205)})
    upload = _received(artist, data, chunk=64 * 1024)
    PortfolioUpload.objects.filter(pk=upload.pk).update(state=UploadState.PROCESSING, next_member=120)

    assert services.upload_process(upload_id=upload.pk) == "done"

    upload.refresh_from_db()
    assert upload.added == 85
    assert sorted(Work.objects.values_list("original_name", flat=True))[0] == "w120.png"


def test_unpacking_twice_stores_nothing_twice(artist):
    """A cursor lost with the works already stored: every member is a duplicate, no work is doubled."""
    upload = _received(artist, make_zip({f"w{i}.png": distinct_png(i) for i in range(10)}))
    services.upload_process(upload_id=upload.pk)
    PortfolioUpload.objects.filter(pk=upload.pk).update(
        state=UploadState.PROCESSING, next_member=0, processed=0, added=0, reports=[]
    )
    _part(upload).write_bytes(make_zip({f"w{i}.png": distinct_png(i) for i in range(10)}))

    assert services.upload_process(upload_id=upload.pk) == "done"

    upload.refresh_from_db()
    assert (upload.added, upload.duplicates, upload.processed) == (0, 10, 10)
    assert Work.objects.count() == 10


def test_a_run_that_finds_the_cursor_moved_stops(artist):
    upload = _received(artist, make_zip({f"w{i}.png": distinct_png(i) for i in range(3)}))
    services.upload_process(upload_id=upload.pk)
    PortfolioUpload.objects.filter(pk=upload.pk).update(state=UploadState.PROCESSING, next_member=1)
    # A second run that still thinks the cursor is at 0 loses, and stores nothing.
    row = PortfolioUpload.objects.get(pk=upload.pk)
    row.next_member = 0
    assert not services.uploads._member_record(row, 0, "w0.png", None, "x", None)


# --- sweeps ---------------------------------------------------------------------


def test_stalled_unpacking_is_due_for_the_sweep(artist):
    upload = _received(artist, make_zip({"a.png": distinct_png(1)}))
    assert services.uploads_processing_due() == []
    PortfolioUpload.objects.filter(pk=upload.pk).update(updated_at=timezone.now() - timedelta(minutes=6))
    assert services.uploads_processing_due() == [upload.pk]


def test_uploads_never_finished_expire_and_their_bytes_go(artist, settings):
    data = make_zip({"a.png": distinct_png(1)})
    fresh = services.upload_chunk_write(upload=_create(artist, data), offset=0, data=data[:10])
    stale = services.upload_chunk_write(upload=_create(artist, data), offset=0, data=data[:10])
    PortfolioUpload.objects.filter(pk=stale.pk).update(updated_at=timezone.now() - timedelta(days=8))

    assert services.uploads_expire() == 1

    stale.refresh_from_db()
    assert stale.state == UploadState.EXPIRED and "7 days" in stale.error
    assert not _part(stale).exists() and _part(fresh).exists()
