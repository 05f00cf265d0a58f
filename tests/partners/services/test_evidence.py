"""partners.services.evidence: what the desk shows of a row (its items with the hash distances of
both sides, its conflicts), kept when the row is left to the desk and refreshed when a moderator
asks for an image to be fetched again; the beat sweep finds desk rows never matched."""

from __future__ import annotations

from datetime import timedelta

from partners import services
from partners.models import (
    Filing,
    FilingRow,
    PartnerAction,
    PartnerActionKind,
    PartnerKey,
    RowState,
)
from registry.hashing import code_to_hex, compute_hashes, pdq_to_hex
from tests.helpers import make_request, photo_bytes

PNG = {"Content-Type": "image/png"}


def file_and_run(partner, rows):
    key = PartnerKey.objects.get(partner=partner.partner)
    filing = services.filing_create(key=key, rows=rows, attestation=True).filing
    return services.filing_run(services.filing_claim(filing.pk))


def row(i: int, **fields):
    return {
        "creator": {"id": f"c{i}", "profile_url": f"https://art.example/u/c{i}"},
        "work_url": f"https://art.example/works/{i}",
        "basis": "copyright",
        "choice": "remove",
        **fields,
    }


def test_a_row_matched_by_its_hashes_shows_each_distance(partner, photo_dataset):
    h = compute_hashes(photo_bytes("chelsea.png"), max_pixels=10**8)
    hashes = {"phash": code_to_hex(h.phash), "dhash": code_to_hex(h.dhash), "pdq": pdq_to_hex(h.pdq)}
    filing = file_and_run(partner, [row(0, **hashes)])  # the policy is off: it waits, with its evidence
    waiting = filing.rows.get()
    assert waiting.state == RowState.WAITING and waiting.matched == 1 and waiting.matched_at is not None
    [shown] = services.desk_evidence([waiting])[waiting.pk].items
    assert not shown.by_url and shown.item.external_id == "chelsea.png"
    assert shown.phash_distance is not None and shown.phash_distance <= 10
    assert shown.dhash_distance is not None and shown.pdq_distance is not None
    assert shown.summary == (
        f"pHash {shown.phash_distance}, dHash {shown.dhash_distance}, PDQ {shown.pdq_distance}"
    )


def test_an_image_fetched_again_is_hashed_matched_and_its_conflict_found(
    local_partner, photo_dataset, image_site, moderator, artist, settings
):
    settings.PARTNER_IMAGE_FETCH_ATTEMPTS = 1
    url = image_site.serve("/later.png", (503, {}, b"down"))
    filing = file_and_run(local_partner, [row(0, image_url=url)])
    failed = filing.rows.get()
    assert failed.state == RowState.WAITING and "after 1 attempts" in failed.error
    # Meanwhile the artist claims the same picture; the partner's server comes back.
    make_request(artist, "chelsea.png")
    image_site.serve("/later.png", (200, PNG, photo_bytes("chelsea.png")))
    result = services.rows_image_retry(row_ids=[failed.pk], actor=moderator)
    assert result.decided == 1
    assert PartnerAction.objects.get(kind=PartnerActionKind.IMAGES_FETCHED_AGAIN).actor == moderator
    cleared = FilingRow.objects.get(pk=failed.pk)
    assert (cleared.error, cleared.matched_at, cleared.image_fetched_at) == ("", None, None)
    # Not matched yet: nobody approves it blind.
    assert "not matched yet" in services.rows_approve(row_ids=[failed.pk], actor=moderator).skipped[0]
    # The worker's evidence task (queued on commit; run here), or the beat sweep after a while.
    Filing.objects.filter(pk=filing.pk).update(heartbeat_at=filing.heartbeat_at - timedelta(minutes=10))
    assert services.filings_evidence_missing() == [filing.pk]
    assert services.desk_rows_refresh(filing=filing) == 1
    refreshed = FilingRow.objects.get(pk=failed.pk)
    assert refreshed.phash is not None and refreshed.matched == 1 and refreshed.image_attempts == 1
    assert refreshed.state == RowState.CONFLICT
    [evidence] = services.desk_evidence([refreshed]).values()
    assert {(c.kind, c.request.artist) for c in evidence.conflicts} == {("item", artist)}
    assert services.filings_evidence_missing() == []
    # A row whose image was not refused is left alone.
    again = services.rows_image_retry(row_ids=[failed.pk], actor=moderator)
    assert again.decided == 0 and "not refused" in again.skipped[0]
