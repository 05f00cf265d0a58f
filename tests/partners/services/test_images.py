"""partners.services.images: a row's image_url fetched on loopback through the SSRF guard, hashed by
the toolkit's code and matched as a hashed row; 404s, text, bombs, oversized answers and redirects
to private addresses mark the row and leave it to the desk; a transient failure is tried again."""

from __future__ import annotations

import struct
import zlib

from removal_desk_toolkit.hashing import compute_hashes

from partners import services
from partners.models import FilingRow, PartnerKey, RowState
from registry.models import Removal
from tests.helpers import image_bytes, photo, photo_bytes, photo_url

PNG = {"Content-Type": "image/png"}


def file_and_run(partner, rows):
    key = PartnerKey.objects.get(partner=partner.partner)
    filing = services.filing_create(key=key, rows=rows, attestation=True).filing
    return services.filing_run(services.filing_claim(filing.pk))


def image_row(i: int, image_url: str, **overrides):
    return {
        "creator": {"id": f"c{i}", "profile_url": f"https://art.example/u/c{i}"},
        "work_url": f"https://art.example/works/{i}",
        "image_url": image_url,
        "basis": "copyright",
        "choice": "remove",
        **overrides,
    }


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A PNG whose header claims 10 billion pixels (and holds none): a decompression bomb's header."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def test_an_image_url_is_fetched_hashed_and_approved_like_a_hashed_row(
    local_partner, photo_dataset, auto_policy, image_site
):
    data = photo_bytes("chelsea.png")
    url = image_site.serve("/i/chelsea.png", (200, PNG, data))
    filing = file_and_run(local_partner, [image_row(0, url)])
    row = FilingRow.objects.get(filing=filing)
    expected = compute_hashes(data, max_pixels=50_000_000, variants=False)
    assert (row.phash, row.dhash, bytes(row.pdq)) == (expected.phash, expected.dhash, expected.pdq)
    assert row.image_fetched_at is not None and row.image_attempts == 1 and len(row.image_sha256) == 64
    # Matched by its hashes, as a row hashed by the partner: the copy registered in the data set.
    assert row.state == RowState.APPROVED and row.matched == 1 and row.error == ""
    removal = Removal.objects.get(source_ref=filing.public_id)
    assert removal.url == photo_url("chelsea.png")
    assert image_site.hits["/i/chelsea.png"] == 1


def test_permanent_failures_mark_the_row_and_leave_it_to_the_desk(
    local_partner, photo_dataset, auto_policy, image_site
):
    rows = [
        image_row(0, image_site.url("/missing.png")),
        image_row(1, image_site.serve("/page.png", (200, {"Content-Type": "text/html"}, b"<html>hi</html>"))),
        image_row(2, image_site.serve("/bomb.png", (200, PNG, png_bomb()))),
        image_row(3, image_site.serve("/away.png", (302, {"Location": "http://10.0.0.5/x.png"}, b""))),
        image_row(4, image_site.serve("/gif.gif", (200, {}, image_bytes(photo("coffee.png"), "GIF")))),
    ]
    filing = file_and_run(local_partner, rows)
    found = {r.index: r for r in FilingRow.objects.filter(filing=filing)}
    for row in found.values():
        assert row.state == RowState.WAITING and row.error_field == "image_url", row.error
        assert row.phash is None and row.image_attempts == 1  # a permanent failure is not tried again
    assert "answered 404" in found[0].error
    assert "not an image we hash" in found[1].error and "HTML page" in found[1].error
    assert "decompression bomb" in found[2].error or "more than the limit" in found[2].error
    assert "10.0.0.5" in found[3].error and "not a public address" in found[3].error
    assert "a GIF image" in found[4].error and "JPEG, PNG and WebP" in found[4].error
    assert not Removal.objects.filter(source_ref=filing.public_id).exists()
    # The API says why, in the fields it already had.
    page = local_partner.client().get(f"/api/v1/partner/filings/{filing.public_id}/rows/").json()
    assert {r["field"] for r in page["results"]} == {"image_url"}
    assert all(r["state"] == "waiting" and r["error"] for r in page["results"])


def test_a_redirect_on_a_public_path_is_followed_and_an_answer_too_big_is_refused(
    local_partner, photo_dataset, auto_policy, image_site, settings
):
    data = photo_bytes("coffee.png")
    image_site.serve("/real.png", (200, PNG, data))
    moved = image_site.serve("/moved.png", (301, {"Location": "/real.png"}, b""))
    filing = file_and_run(local_partner, [image_row(0, moved)])
    assert FilingRow.objects.get(filing=filing).state == RowState.APPROVED
    settings.UPLOAD_MAX_BYTES = len(data) - 1
    huge = image_site.serve("/huge.png", (200, PNG, data))
    filing = file_and_run(local_partner, [image_row(1, huge)])
    row = FilingRow.objects.get(filing=filing)
    assert row.state == RowState.WAITING and "larger than" in row.error


def test_a_transient_failure_is_tried_again_and_then_given_up(
    local_partner, photo_dataset, auto_policy, image_site, settings
):
    settings.PARTNER_IMAGE_FETCH_ATTEMPTS = 3
    data = photo_bytes("astronaut.png")
    flaky = image_site.serve("/flaky.png", (503, {}, b"busy"), (200, PNG, data))
    down = image_site.serve("/down.png", (502, {}, b"bad gateway"))
    filing = file_and_run(local_partner, [image_row(0, flaky), image_row(1, down)])
    found = {r.index: r for r in FilingRow.objects.filter(filing=filing)}
    assert found[0].state == RowState.APPROVED and found[0].image_attempts == 2
    assert image_site.hits["/flaky.png"] == 2
    assert found[1].state == RowState.WAITING and found[1].image_attempts == 3
    assert "after 3 attempts" in found[1].error and "502" in found[1].error
    assert image_site.hits["/down.png"] == 3


def test_rows_that_carry_hashes_fetch_nothing(local_partner, partner_dataset, auto_policy, image_site):
    from tests.helpers import partner_row

    url = image_site.serve("/never.png", (200, PNG, photo_bytes("chelsea.png")))
    filing = file_and_run(local_partner, [partner_row(i, image_url=url) for i in range(3)])
    assert set(filing.rows.values_list("state", flat=True)) == {RowState.APPROVED}
    assert image_site.hits == {}
    assert not filing.rows.filter(image_fetched_at__isnull=False).exists()


def test_a_worker_killed_after_fetching_fetches_nothing_again(
    local_partner, photo_dataset, auto_policy, image_site
):
    url = image_site.serve("/once.png", (200, PNG, photo_bytes("chelsea.png")))
    key = PartnerKey.objects.get(partner=local_partner.partner)
    filing = services.filing_create(key=key, rows=[image_row(0, url)], attestation=True).filing
    claimed = services.filing_claim(filing.pk)
    # The fetch step commits the hashes on its own; the worker dies before the chunk is decided.
    assert services.images_prepare(filing=claimed, limit=1000) == 1
    row = FilingRow.objects.get(filing=filing)
    assert row.state == RowState.PENDING and row.phash is not None
    services.filing_run(claimed)
    assert FilingRow.objects.get(filing=filing).state == RowState.APPROVED
    assert image_site.hits["/once.png"] == 1
