"""File filings through the API: announced, sent in chunks (resumable), read with line-numbered
errors, refused whole when the file cannot be read, and the same file twice changing nothing.
The reading and deciding run here (tests/partners/test_file_tasks.py runs them on a worker)."""

from __future__ import annotations

import hashlib
import json

import pytest

from partners import services
from partners.models import Filing, FilingRow, FilingState, RowState
from registry.models import Removal
from tests.helpers import assert_error, partner_row
from tests.partners.file_helpers import (
    CREATE,
    ENCODE,
    FILINGS,
    announce,
    csv_bytes,
    ndjson_bytes,
    parquet_bytes,
    read_and_decide_here,
    send_chunk,
    upload,
)

NAMES = {"ndjson": "rows.ndjson", "csv": "rows.csv", "parquet": "rows.parquet"}
# Where row i of a file sits: NDJSON line i + 1, CSV line i + 2 (the header is line 1), Parquet row i + 1.
FIRST_LINE = {"ndjson": 1, "csv": 2, "parquet": 1}


def rejected(client, filing_id: str) -> list[dict]:
    return client.get(f"{FILINGS}{filing_id}/rows/?state=rejected").json()["results"]


@pytest.mark.parametrize("fmt", ["ndjson", "csv", "parquet"])
def test_each_format_is_read_with_line_numbered_errors(
    partner_api, partner, partner_dataset, auto_policy, fmt
):
    rows = [partner_row(i) for i in range(8)]
    rows[2] = partner_row(2, work_url="https://elsewhere.example/w/2.jpg")
    rows[5] = partner_row(5, phash="zz-not-hex")
    sent = upload(partner_api, ENCODE[fmt](rows), NAMES[fmt], chunk=100)
    assert sent["status"] == 200 and sent["body"]["state"] == "reading", sent
    filing = read_and_decide_here(sent["id"])
    assert filing.state == FilingState.COMPLETED and filing.rows_read == 8 and filing.rows_total == 8

    body = partner_api.get(f"{FILINGS}{sent['id']}/").json()
    assert body["source"] == "file" and body["file"]["format"] == fmt and body["file"]["name"] == NAMES[fmt]
    assert body["progress"] == {"rows_read": 8, "rows_total": 8}
    assert body["counts"]["approved"] == 6 and body["counts"]["rejected"] == 2 and body["total"] == 8
    bad = rejected(partner_api, sent["id"])
    first = FIRST_LINE[fmt]
    assert [(r["index"], r["line"], r["field"]) for r in bad] == [
        (2, 2 + first, "work_url"),
        (5, 5 + first, "phash"),
    ]
    assert "not on a domain this partner serves" in bad[0]["error"] and "hexadecimal" in bad[1]["error"]
    assert Removal.objects.filter(source_ref=sent["id"]).count() == 6


def test_a_batch_filing_shows_its_progress_too(partner_api):
    body = partner_api.post(FILINGS, {"attestation": True, "rows": [partner_row(0)]}, format="json").json()
    assert body["source"] == "json" and body["file"] is None and body["message"] == ""
    assert body["progress"] == {"rows_read": 1, "rows_total": 1}
    row = partner_api.get(f"{FILINGS}{body['id']}/rows/").json()["results"][0]
    assert row["line"] is None


def test_an_interrupted_upload_resumes_at_the_offset_the_server_holds(partner_api, partner):
    data = ndjson_bytes([partner_row(i) for i in range(50)])
    digest = hashlib.sha256(data).hexdigest()
    created = announce(partner_api, data, "rows.ndjson", sha256=digest)
    assert created.status_code == 201, created.content
    filing_id = created.json()["id"]
    assert created.json()["state"] == "receiving" and created.json()["file"]["received"] == 0
    half = len(data) // 2
    assert send_chunk(partner_api, filing_id, data[:half], 0).json()["offset"] == half
    # The connection dropped; the sender does not know what arrived: it asks.
    state = partner_api.get(f"{FILINGS}{filing_id}/file/").json()
    assert state["offset"] == half and state["size"] == len(data) and state["state"] == "receiving"
    # A chunk sent again from 0 is refused, naming the offset to send from.
    error = assert_error(send_chunk(partner_api, filing_id, data[:100], 0), 409, "offset_mismatch")
    assert error["details"] == {"offset": half}
    error = assert_error(send_chunk(partner_api, filing_id, data[half:] + b"extra", half), 400, "past_size")
    done = send_chunk(partner_api, filing_id, data[half:], half)
    assert done.status_code == 200 and done.json()["state"] == "reading"
    assert_error(send_chunk(partner_api, filing_id, b"more", len(data)), 409, "not_receiving")
    filing = read_and_decide_here(filing_id)
    assert filing.rows.count() == 50 and filing.state == FilingState.COMPLETED
    assert sorted(filing.rows.values_list("line", flat=True)) == list(range(1, 51))


def test_the_same_file_twice_changes_nothing(partner_api, partner, partner_dataset, auto_policy):
    data = csv_bytes([partner_row(i) for i in range(10)] + [partner_row(3)])
    first = read_and_decide_here(upload(partner_api, data, "a.csv")["id"])
    assert first.rows.filter(state=RowState.APPROVED).count() == 10
    # The repeat of row 3 inside the file names its first line.
    inside = first.rows.get(state=RowState.DUPLICATE)
    assert inside.line == 12 and "row 3, line 5 of this filing" in inside.error
    removals = Removal.objects.count()
    again = read_and_decide_here(upload(partner_api, data, "a.csv")["id"])
    assert again.state == FilingState.COMPLETED
    assert again.rows.filter(state=RowState.DUPLICATE).count() == 11 and again.duplicates == 11
    assert Removal.objects.count() == removals
    assert f"filing {first.public_id}, row 0, line 2" in again.rows.get(index=0).error


@pytest.mark.parametrize(
    ("fmt", "data", "message"),
    [
        ("csv", b"creator_id,work_url\nc1,https://art.example/w\n", "must name creator_id"),
        ("csv", csv_bytes([]), "holds no rows"),
        ("ndjson", b"\n\n\n", "holds no rows"),
        ("parquet", parquet_bytes([partner_row(0)])[:-40], "Parquet file cannot be read"),
    ],
    ids=["csv-without-columns", "header-only-csv", "blank-ndjson", "truncated-parquet"],
)
def test_a_file_that_cannot_be_read_fails_and_approves_nothing(
    partner_api, partner, partner_dataset, auto_policy, fmt, data, message
):
    sent = upload(partner_api, data, NAMES[fmt])
    assert sent["status"] == 200, sent
    filing = read_and_decide_here(sent["id"])
    assert filing.state == FilingState.FAILED and message in filing.message, filing.message
    body = partner_api.get(f"{FILINGS}{sent['id']}/").json()
    assert body["state"] == "failed" and message in body["message"] and body["finished_at"]
    assert not Removal.objects.exists() and not FilingRow.objects.exclude(state=RowState.REJECTED).exists()


def test_a_file_failing_after_some_batches_keeps_no_accepted_row(partner_api, partner, settings):
    settings.PARTNER_FILE_BATCH_ROWS = 4000
    # Parquet is read 10,000 rows at a time: groups of 10,000, 10,000 and 1,000, the last damaged.
    good = parquet_bytes([partner_row(i) for i in range(21_000)], row_group_size=10_000)
    # Damage the last row group's data pages: the footer still opens, reading fails late.
    damaged = bytearray(good)
    footer = int.from_bytes(good[-8:-4], "little")
    start = len(good) - 8 - footer - 600
    damaged[start : start + 400] = b"\xff" * 400
    sent = upload(partner_api, bytes(damaged), "rows.parquet", chunk=1 << 20)
    filing = read_and_decide_here(sent["id"])
    assert filing.state == FilingState.FAILED, (filing.state, filing.rows_read)
    assert filing.rows_read >= 8000 and "cannot be read after row" in filing.message, filing.message
    assert not FilingRow.objects.exclude(state=RowState.REJECTED).exists()
    # Sent again undamaged, its rows are new: the failed file did not make them duplicates.
    again_id = upload(partner_api, good, "rows.parquet", chunk=1 << 20)["id"]
    again = services.file_read(services.file_claim(Filing.objects.get(public_id=again_id).pk))
    assert again.state == FilingState.QUEUED and again.duplicates == 0
    assert again.rows.filter(state=RowState.PENDING).count() == 21_000


@pytest.mark.parametrize(
    ("name", "extra", "data", "message"),
    [
        ("rows.parquet", {}, ndjson_bytes([partner_row(0)]), "as parquet but its content is ndjson"),
        ("rows.ndjson", {}, csv_bytes([partner_row(0)]), "as ndjson but its content is csv"),
        ("rows.csv", {}, b"\x1f\x8b\x08\x00" + b"\x00" * 100, "compressed (gzip)"),
        ("rows.csv", {}, b"PK\x03\x04" + b"\x00" * 100, "compressed (zip)"),
        ("rows.csv", {"sha256": "0" * 64}, csv_bytes([partner_row(0)]), "changed on the way"),
    ],
    ids=["not-parquet", "not-ndjson", "gzip", "zip", "sha256"],
)
def test_a_file_that_is_not_what_was_announced_is_refused_at_its_last_chunk(
    partner_api, name, extra, data, message
):
    sent = upload(partner_api, data, name, **extra)
    assert sent["status"] == 422 and sent["body"]["error"]["code"] == "file_refused", sent
    assert message in sent["body"]["error"]["message"]
    filing = Filing.objects.get(public_id=sent["id"])
    assert filing.state == FilingState.FAILED and not filing.rows.exists()


def test_hostile_rows_are_rejected_one_by_one_with_their_lines(partner_api, partner):
    deep = '{"creator": ' + "[" * 100_000 + "]" * 100_000 + "}"
    lines = [
        json.dumps(partner_row(0)).encode(),
        json.dumps(partner_row(1, work_url="https://art.example/w/\u0000")).encode(),
        b'{"creator": {"id": "c\xff\xfe"}, "work_url": "https://art.example/x"}',
        b"x" * (10 * 1024 * 1024),
        deep.encode(),
        json.dumps(partner_row(2, dhash="1234")).encode(),
        json.dumps(partner_row(3, pdq="g" * 64)).encode(),
        b"[1, 2]",
        json.dumps(partner_row(4)).encode(),
    ]
    data = b"\n".join(lines) + b"\n"
    sent = upload(partner_api, data, "rows.ndjson", chunk=4 * 1024 * 1024)
    filing = read_and_decide_here(sent["id"])
    assert filing.state == FilingState.COMPLETED
    bad = {r["line"]: r for r in rejected(partner_api, sent["id"])}
    assert sorted(bad) == [2, 3, 4, 5, 6, 7, 8]
    assert "NUL" in bad[2]["error"]
    assert "not valid JSON" in bad[3]["error"]
    assert "longer than 1,048,576 bytes" in bad[4]["error"]
    assert "nests too deep" in bad[5]["error"]
    assert bad[6]["field"] == "dhash" and "hexadecimal" in bad[6]["error"]
    assert bad[7]["field"] == "pdq"
    assert "not a JSON object" in bad[8]["error"]
    assert filing.rows.filter(state=RowState.WAITING).count() == 2


def test_hostile_csv_cells_are_rejected_with_their_lines(partner_api, partner):
    data = csv_bytes([partner_row(0), partner_row(1), partner_row(2)])
    header, first, second, third = data.split(b"\n")[:4]
    nul = second.replace(b"c1", b"c\x001", 1)
    not_utf8 = third.replace(b"c2", b"c\xff2", 1)
    short = b"c9,https://art.example/u"
    data = b"\n".join([header, first, nul, not_utf8, short]) + b"\n"
    filing = read_and_decide_here(upload(partner_api, data, "rows.csv")["id"])
    bad = {r["line"]: r for r in rejected(partner_api, filing.public_id)}
    assert sorted(bad) == [3, 4, 5]
    assert bad[3]["field"] == "creator.id" and "NUL" in bad[3]["error"]
    assert bad[4]["field"] == "creator.id" and "surrogate" in bad[4]["error"]
    assert "has 2 fields, the header has 11" in bad[5]["error"]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"name": "rows.csv", "size": 10}, 400, "attestation_required"),
        ({"attestation": "yes", "name": "rows.csv", "size": 10}, 400, "attestation_required"),
        ({"attestation": True, "size": 10}, 400, "bad_name"),
        ({"attestation": True, "name": "a\u0000.csv", "size": 10}, 400, "bad_name"),
        ({"attestation": True, "name": "rows.csv", "size": 0}, 400, "bad_size"),
        ({"attestation": True, "name": "rows.csv", "size": "10"}, 400, "bad_size"),
        ({"attestation": True, "name": "rows.csv", "size": 10**12}, 413, "file_too_large"),
        ({"attestation": True, "name": "rows.txt", "size": 10}, 400, "bad_format"),
        ({"attestation": True, "name": "rows.csv", "size": 10, "format": "xlsx"}, 400, "bad_format"),
        ({"attestation": True, "name": "rows.csv", "size": 10, "sha256": "abc"}, 400, "bad_sha256"),
    ],
)
def test_an_announcement_without_what_it_needs_is_refused(partner_api, body, status, code):
    assert_error(partner_api.post(CREATE, body, format="json"), status, code)
    assert not Filing.objects.exists()


def test_bad_chunks_are_refused_and_change_nothing(partner_api, settings):
    data = ndjson_bytes([partner_row(0)])
    filing_id = announce(partner_api, data, "rows.ndjson").json()["id"]
    url = f"{FILINGS}{filing_id}/file/"
    assert_error(
        partner_api.generic("PATCH", url, data, content_type="application/json", HTTP_UPLOAD_OFFSET="0"),
        415,
        "unsupported_media_type",
    )
    for offset in ("", "-1", "1e3", "٣"):
        headers = {"HTTP_UPLOAD_OFFSET": offset} if offset else {}
        response = partner_api.generic(
            "PATCH", url, data, content_type="application/offset+octet-stream", **headers
        )
        assert assert_error(response, 400, "bad_offset")["details"] == {"offset": 0}
    assert_error(send_chunk(partner_api, filing_id, b"", 0), 400, "empty_chunk")
    settings.PARTNER_FILE_CHUNK_BYTES = 4
    assert_error(send_chunk(partner_api, filing_id, data, 0), 413, "chunk_too_large")
    assert Filing.objects.get(public_id=filing_id).received == 0


def test_a_batch_filing_has_no_file(partner_api):
    filing_id = partner_api.post(
        FILINGS, {"attestation": True, "rows": [partner_row(0)]}, format="json"
    ).json()["id"]
    assert_error(partner_api.get(f"{FILINGS}{filing_id}/file/"), 409, "not_a_file_filing")
    assert_error(send_chunk(partner_api, filing_id, b"x", 0), 409, "not_a_file_filing")


def test_keys_other_than_the_partners_own_are_refused(partner_api, other_partner, maintainer):
    data = ndjson_bytes([partner_row(0)])
    filing_id = announce(partner_api, data, "rows.ndjson").json()["id"]
    # A maintainer's key may not file, and another partner's key sees nothing of this filing.
    assert_error(announce(maintainer.client(), data, "rows.ndjson"), 403, "maintainer_key")
    assert_error(send_chunk(maintainer.client(), filing_id, data, 0), 403, "maintainer_key")
    assert_error(send_chunk(other_partner.client(), filing_id, data, 0), 404, "not_found")
    assert_error(other_partner.client().get(f"{FILINGS}{filing_id}/file/"), 404, "not_found")
    assert Filing.objects.get(public_id=filing_id).received == 0


def test_a_suspended_partner_cannot_announce_a_file(partner_api, partner, superuser):
    services.partner_suspend(partner=partner.partner, actor=superuser, reason="audit")
    assert_error(announce(partner_api, b"{}\n", "rows.ndjson"), 403, "partner_suspended")


@pytest.mark.parametrize("fmt", ["ndjson", "csv", "parquet"])
def test_every_hash_and_field_is_stored_as_sent(partner_api, fmt):
    pdq = "0123456789abcdef" * 4
    row = partner_row(
        7,
        dhash="00ff00ff00ff00ff",
        pdq=pdq,
        pdq_quality=90,
        image_url="https://cdn.art.example/i/7.png",
        creator={"id": "C7", "profile_url": "https://art.example/u/c7", "email": "c7@mail.example"},
    )
    filing = read_and_decide_here(upload(partner_api, ENCODE[fmt]([row]), NAMES[fmt])["id"])
    stored = filing.rows.get()
    assert bytes(stored.pdq) == bytes.fromhex(pdq) and stored.pdq_quality == 90
    assert stored.dhash == 0x00FF00FF00FF00FF and stored.creator_email == "c7@mail.example"
    assert (stored.creator_id, stored.image_url, stored.line) == ("C7", row["image_url"], FIRST_LINE[fmt])


def test_a_parquet_row_group_too_big_to_hold_fails_the_file(partner_api, partner, settings):
    # Parquet compresses: a small file can unpack to gigabytes. Its row groups' sizes are read
    # from the footer before any row, and one over the limit fails the file whole.
    settings.PARTNER_FILE_MAX_ROW_GROUP_BYTES = 10_000
    data = parquet_bytes(
        [partner_row(i, work_url=f"https://art.example/{'w' * 2000}/{i}") for i in range(50)]
    )
    assert len(data) < 20_000
    filing = read_and_decide_here(upload(partner_api, data, "rows.parquet")["id"])
    assert filing.state == FilingState.FAILED and "unpacks to" in filing.message, filing.message
    assert filing.rows_read == 0 and not filing.rows.exists()


def test_a_csv_line_of_50_mb_fails_the_file_naming_it_with_memory_flat(partner_api, partner):
    import tracemalloc

    rows = csv_bytes([partner_row(0), partner_row(1)]).split(b"\n")
    huge = b"c9," + b"x," * (25 * 1024 * 1024) + b"https://art.example/w,copyright,remove"  # no line break
    data = b"\n".join([rows[0], rows[1], rows[2], huge])
    sent = upload(partner_api, data, "rows.csv", chunk=16 * 1024 * 1024)
    del data, huge
    filing = Filing.objects.get(public_id=sent["id"])
    claimed = services.file_claim(filing.pk)
    assert claimed is not None
    tracemalloc.start()
    try:
        filing = services.file_read(claimed)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert filing.state == FilingState.FAILED
    assert "Line 4 is longer than 65,536 bytes" in filing.message
    assert not filing.rows.exclude(state=RowState.REJECTED).exists()  # nothing half-written
    assert peak < 8 * 1024 * 1024, peak  # the 50 MB line is never held
    shown = partner_api.get(f"/api/v1/partner/filings/{filing.public_id}/").json()
    assert shown["state"] == "failed" and "Line 4" in shown["message"]
