"""A partner's filing end to end on a real Celery worker (Redis, PostgreSQL): filed through the
API, matched and approved by policy in chunks, its removals delivered to the maintainer's receiver
on loopback naming the filing; a filing whose message was lost is found by the beat sweep."""

from __future__ import annotations

import pytest

from partners import tasks
from partners.models import Filing, FilingState, PartnerAction, PartnerActionKind, RowState
from registry.models import Removal
from tests.helpers import partner_row, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]
FILE = "/api/v1/partner/filings/"


def test_a_filing_is_matched_approved_and_delivered_by_the_worker(
    celery_worker_process,
    partner_api,
    partner,
    partner_dataset,
    auto_policy,
    endpoint_on_pd,
    receiver,
    settings,
):
    rows = [partner_row(i) for i in range(20)] + [
        partner_row(20, phash=None),
        partner_row(21, choice="licence"),
    ]
    response = partner_api.post(FILE, {"attestation": True, "rows": rows}, format="json")
    assert response.status_code == 202, response.content
    filing_id = response.json()["id"]
    filing = wait_until(
        lambda: Filing.objects.filter(public_id=filing_id, state=FilingState.COMPLETED).first(),
        what="the worker to decide the filing",
    )
    counts = partner_api.get(f"{FILE}{filing_id}/").json()["counts"]
    assert counts["approved"] == 20 and counts["waiting"] == 1 and counts["rejected"] == 1
    assert Removal.objects.filter(source_ref=filing_id).count() == 20
    assert PartnerAction.objects.filter(
        kind=PartnerActionKind.ROWS_APPROVED_BY_POLICY, object_id=filing.pk
    ).exists()
    hooks = receiver.wait_for(1, timeout=60)
    delivered = [r for hook in hooks for r in hook.json()["data"]["removals"]]
    assert {r["request"] for r in delivered} == {filing_id}
    assert sorted(r["external_id"] for r in delivered) == sorted(f"e{i}" for i in range(20))
    assert {(r["source"], r["partner"]) for r in delivered} == {("partner", partner.partner.name)}
    assert filing.rows.get(index=20).state == RowState.WAITING


def test_the_sweep_requeues_a_filing_whose_message_was_lost(
    celery_worker_process, partner, partner_dataset, auto_policy
):
    from datetime import timedelta

    from celery import current_app

    from partners import services
    from partners.models import PartnerKey

    def broker_down(*args, **kwargs):
        raise ConnectionError("the broker is down")

    key = PartnerKey.objects.get(partner=partner.partner)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(current_app, "send_task", broker_down)
        filing = services.filing_create(
            key=key, rows=[partner_row(0), partner_row(1)], attestation=True
        ).filing
    # The filing is stored; its message never left. After a while the sweep finds it.
    assert Filing.objects.get(pk=filing.pk).state == FilingState.QUEUED
    Filing.objects.filter(pk=filing.pk).update(created_at=filing.created_at - timedelta(minutes=10))
    assert tasks.filings_resume() == 1
    wait_until(
        lambda: Filing.objects.filter(pk=filing.pk, state=FilingState.COMPLETED).exists(),
        what="the requeued filing",
    )
    assert Removal.objects.filter(source_ref=filing.public_id).count() == 2


def test_a_passed_sample_sends_the_filing_back_to_the_worker(
    celery_worker_process, partner_api, partner, partner_dataset, moderator
):
    from partners import services
    from partners.models import SampleState

    services.filing_policy_update(
        policy=partner.partner.policy, auto_approve_verified_hashed=True, sample_size=2
    )
    rows = [partner_row(i) for i in range(6)]
    filing_id = partner_api.post(FILE, {"attestation": True, "rows": rows}, format="json").json()["id"]
    held = wait_until(
        lambda: Filing.objects.filter(public_id=filing_id, state=FilingState.HELD).first(), what="the sample"
    )
    assert held.sample_state == SampleState.PENDING and not Removal.objects.exists()
    assert partner_api.get(f"{FILE}{filing_id}/").json()["counts"]["sampled"] == 2
    services.filing_sample_pass(filing=held, actor=moderator)
    wait_until(
        lambda: Filing.objects.filter(public_id=filing_id, state=FilingState.COMPLETED).exists(),
        what="the worker to decide the passed filing",
    )
    assert Removal.objects.filter(source_ref=filing_id).count() == 6


def test_a_lifted_work_reaches_the_maintainer_as_removal_revoked_after_its_approval(
    celery_worker_process, partner_api, partner, partner_dataset, auto_policy, maintainer, receiver, artist
):
    """Filed, approved and delivered by the worker; the creator claims and lifts one work; the
    worker delivers the signed removal.revoked after the approval, in that order."""
    from standardwebhooks.webhooks import Webhook

    from partners import services
    from registry import services as registry_services

    _, secret = registry_services.webhook_endpoint_create(
        maintainer=maintainer.maintainer,
        url=receiver.url,
        event_types=["removal.approved", "removal.revoked"],
    )
    creator = {"id": "ada", "profile_url": "https://art.example/u/ada", "email": "ada@creators.example"}
    rows = [partner_row(0, creator=creator), partner_row(1, creator=creator)]
    filing_id = partner_api.post(FILE, {"attestation": True, "rows": rows}, format="json").json()["id"]
    receiver.wait_for(1, timeout=60)
    found = services.creator_find(partner=partner.partner, creator_id="ada")
    _, token = services.claim_email_token(user=artist.user, creator=found)
    claim = services.claim_by_email(user=artist.user, token=token)
    row = services.claim_rows(claim).get(index=0)
    assert services.claim_lift(claim=claim, user=artist.user, row_ids=[row.pk]).removals == 1
    approved, revoked = receiver.wait_for(2, timeout=60)[:2]
    assert Webhook(secret).verify(approved.body, approved.headers)["type"] == "removal.approved"
    payload = Webhook(secret).verify(revoked.body, revoked.headers)
    assert payload["type"] == "removal.revoked"
    [lifted] = payload["data"]["removals"]
    assert (lifted["external_id"], lifted["state"], lifted["request"]) == ("e0", "revoked", filing_id)
    assert dict(Removal.objects.values_list("external_id", "state")) == {"e0": "revoked", "e1": "delivered"}


def test_the_worker_fetches_image_urls_and_holds_a_conflict_for_the_desk(
    celery_worker_process, partner_api, local_partner, photo_dataset, auto_policy, image_site, artist
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from partners.models import FilingRowConflict
    from requests_app import services as request_services
    from requests_app.models import Match
    from tests.helpers import photo_bytes, photo_url

    # The artist's own request of the same picture, hashed and matched by the worker, then submitted.
    ticket = request_services.request_create(artist=artist, basis="copyright")
    upload = SimpleUploadedFile("chelsea.png", photo_bytes("chelsea.png"))
    request_services.works_add(ticket=ticket, actor=artist.user, files=[upload])
    matches = wait_until(
        lambda: list(Match.objects.filter(work__request=ticket).values_list("pk", flat=True)),
        what="the worker to hash and match the artist's work",
    )
    request_services.matches_decide(ticket=ticket, actor=artist.user, confirm=matches)
    request_services.request_submit(ticket=ticket, actor=artist.user, signed_name=artist.display_name)
    coffee = image_site.serve("/coffee.png", (200, {"Content-Type": "image/png"}, photo_bytes("coffee.png")))
    rows = [
        partner_row(0, phash=None, image_url=coffee, work_url="https://art.example/w/coffee"),
        partner_row(1, phash=None, image_url=image_site.url("/gone.png")),
        partner_row(2, work_url=photo_url("chelsea.png")),
    ]
    response = partner_api.post(FILE, {"attestation": True, "rows": rows}, format="json")
    assert response.status_code == 202, response.content
    filing_id = response.json()["id"]
    filing = wait_until(
        lambda: Filing.objects.filter(public_id=filing_id, state=FilingState.COMPLETED).first(),
        what="the worker to fetch, match and decide the filing",
    )
    found = {r.index: r for r in filing.rows.all()}
    assert found[0].state == RowState.APPROVED and found[0].image_fetched_at is not None
    assert found[1].state == RowState.WAITING and "answered 404" in found[1].error
    assert found[2].state == RowState.CONFLICT
    assert FilingRowConflict.objects.get(row=found[2]).request == ticket
    assert list(Removal.objects.filter(source_ref=filing_id).values_list("url", flat=True)) == [
        photo_url("coffee.png")
    ]
    counts = partner_api.get(f"{FILE}{filing_id}/").json()["counts"]
    assert (counts["approved"], counts["waiting"], counts["conflict"]) == (1, 1, 1)


def test_a_failed_sample_has_its_rows_matched_for_the_desk_by_the_worker(
    celery_worker_process, partner, partner_dataset, moderator
):
    from partners import services
    from partners.models import FilingRow, PartnerKey, SampleState

    services.filing_policy_update(
        policy=partner.partner.policy, auto_approve_verified_hashed=True, sample_size=1
    )
    key = PartnerKey.objects.get(partner=partner.partner)
    filing = services.filing_create(key=key, rows=[partner_row(i) for i in range(3)], attestation=True).filing
    wait_until(
        lambda: FilingRow.objects.filter(
            filing=filing, state=RowState.SAMPLED, matched_at__isnull=False
        ).exists(),
        what="the worker to draw and match the sample",
    )
    services.sample_fail(filing=filing, actor=moderator, reason="Not their creators")
    assert Filing.objects.get(pk=filing.pk).sample_state == SampleState.FAILED
    wait_until(
        lambda: not FilingRow.objects.filter(filing=filing, matched_at__isnull=True).exists(),
        what="the worker to match the held rows for the desk",
    )
    assert list(FilingRow.objects.filter(filing=filing).values_list("matched", flat=True)) == [1, 1, 1]
