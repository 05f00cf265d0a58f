"""`manage.py seed_demo`: demo people, data sets and requests in every state; a second run changes nothing."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from partners.models import (
    CreatorClaim,
    Filing,
    FilingRow,
    FilingState,
    Partner,
    PartnerAction,
    PartnerKey,
    RowState,
    SampleState,
)
from registry.models import (
    ApiKey,
    Dataset,
    DatasetItem,
    Dispute,
    DisputeState,
    LicenceGrant,
    Maintainer,
    Removal,
    RemovalState,
)
from requests_app.models import (
    Match,
    MatchState,
    RemovalRequest,
    RequestConflict,
    TicketEvent,
    VerificationLevel,
    Work,
)
from requests_app.roles import MODERATOR_GROUP
from requests_app.workflow import Status


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, Any]:
    return {
        "users": User.objects.count(),
        "maintainers": Maintainer.objects.count(),
        "keys": ApiKey.objects.count(),
        "datasets": Dataset.objects.count(),
        "items": DatasetItem.objects.count(),
        "works": Work.objects.count(),
        "matches": sorted(Match.objects.values_list("work__original_name", "item__external_id", "state")),
        "requests": sorted(RemovalRequest.objects.values_list("reference", "status")),
        "events": TicketEvent.objects.count(),
        "removals": sorted(Removal.objects.values_list("public_id", "state")),
        "grants": LicenceGrant.objects.count(),
        "partners": Partner.objects.count(),
        "partner_keys": PartnerKey.objects.count(),
        "filings": sorted(Filing.objects.values_list("public_id", "state")),
        "rows": sorted(FilingRow.objects.values_list("work_url", "choice", "state")),
        "partner_actions": PartnerAction.objects.count(),
        "claims": CreatorClaim.objects.count(),
    }


def api_key_in(output: str, owner: str = "Demo Maintainer") -> str:
    [line] = [line for line in output.splitlines() if f"API key ({owner})" in line]
    return line.rsplit(" ", 1)[-1]


def claim_url_in(output: str) -> str:
    lines = output.splitlines()
    [at] = [n for n, line in enumerate(lines) if line.startswith("  Claim of the demo artist's works")]
    return lines[at + 1].strip()


def test_it_seeds_the_demo_and_a_second_run_changes_nothing(db, settings, tmp_path: Path):
    settings.VAR_DIR = tmp_path
    first_output = seed()
    first = snapshot()
    second_output = seed()
    assert snapshot() == first
    assert "exists" in second_output

    key = api_key_in(first_output)
    assert api_key_in(second_output) == key
    assert (tmp_path / "demo_api_key.txt").read_text().strip() == key
    for needle in ("admin@demo.example", "demo-moderator-pass", "artist@demo.example", "/admin/"):
        assert needle in first_output

    admin = User.objects.get(username="admin@demo.example")
    assert admin.is_superuser and admin.check_password("demo-admin-pass")
    moderator = User.objects.get(username="moderator@demo.example")
    assert moderator.is_staff and not moderator.is_superuser
    assert moderator.groups.filter(name=MODERATOR_GROUP).exists()
    assert moderator.has_perm("requests_app.moderate_removalrequest")
    artist = User.objects.get(username="artist@demo.example")
    assert artist.check_password("demo-artist-pass") and not artist.is_staff
    assert artist.artist.verification_level >= 1

    photos = Dataset.objects.get(slug="demo-photos")
    art = Dataset.objects.get(slug="demo-art")
    assert photos.maintainer.name == "Demo Maintainer" and art.maintainer != photos.maintainer
    assert photos.items.count() == 14 * 2 + 40 and art.items.count() == 4 + 40
    assert photos.items.filter(url="https://images.demo.example/chelsea-banner.jpg").exists()

    statuses = sorted(RemovalRequest.objects.values_list("status", flat=True))
    assert statuses == sorted(
        [
            Status.DRAFT,
            Status.SUBMITTED,
            Status.IN_REVIEW,
            Status.NEEDS_INFO,
            Status.NEEDS_INFO,
            Status.APPROVED,
            Status.COMPLETED,
        ]
    )
    # The rival's claim on the submitted camera photograph: one open conflict, both held.
    submitted = RemovalRequest.objects.get(status=Status.SUBMITTED)
    [conflict] = RequestConflict.objects.all()
    assert conflict.is_open and conflict.first == submitted
    assert conflict.second.artist.user.username == "rival@demo.example"
    assert artist.artist.verification_level == VerificationLevel.DOMAIN
    assert artist.artist.proofs.get(method="dns_txt").evidence["demo"] is True
    draft = RemovalRequest.objects.get(status=Status.DRAFT)
    assert draft.works.filter(hash_state="done").count() == draft.works.count() == 2
    assert set(Match.objects.filter(work__request=draft).values_list("state", flat=True)) == {
        MatchState.SUGGESTED
    }
    approved = RemovalRequest.objects.get(status=Status.APPROVED)
    approved_removals = Removal.objects.filter(source_ref=approved.reference)
    assert approved_removals.count() >= 2
    # The retina image is allowed for training under CC BY-SA: its removals were revoked and a
    # licence grant stands for each of its matched items; the microscopy image's stay delivered.
    retina = approved.works.get(original_name="retina.jpg")
    assert retina.choice == "licence" and retina.licence == "cc-by-sa"
    retina_urls = set(Match.objects.filter(work=retina).values_list("item__url", flat=True))
    assert retina_urls
    for removal in approved_removals.exclude(url=None):  # (a work's bare-hash removal has none)
        expected = RemovalState.REVOKED if removal.url in retina_urls else RemovalState.DELIVERED
        assert removal.state == expected, removal.url
    grants = LicenceGrant.objects.filter(source_ref=approved.reference, state="active")
    assert set(grants.exclude(url=None).values_list("url", flat=True)) == retina_urls
    assert set(grants.values_list("licence", flat=True)) == {"cc-by-sa"}
    completed = RemovalRequest.objects.get(status=Status.COMPLETED)
    completed_removals = Removal.objects.filter(source_ref=completed.reference)
    assert {r.dataset.slug for r in completed_removals} == {"demo-photos", "demo-art"}
    assert set(completed_removals.values_list("state", flat=True)) == {RemovalState.ACKNOWLEDGED}
    # The demo maintainer disputes one of them: open, on its clock, nothing decided.
    [dispute] = Dispute.objects.all()
    assert dispute.removal.source_ref == completed.reference and dispute.filer == "maintainer"
    assert dispute.state == DisputeState.OPEN and dispute.response_due_at is not None
    in_review = RemovalRequest.objects.get(status=Status.IN_REVIEW)
    assert in_review.assignee == moderator

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = client.get("/api/v1/datasets/")
    assert response.status_code == 200
    assert "demo-photos" in response.content.decode()


def test_the_demo_partner_files_is_decided_and_its_creator_is_invited_once(db, settings, tmp_path: Path):
    settings.VAR_DIR = tmp_path
    first_output = seed()
    first = snapshot()
    second_output = seed()
    assert snapshot() == first
    assert first["partners"] == first["partner_keys"] == 1 and len(first["filings"]) == 2

    key = api_key_in(first_output, "Demo Gallery")
    assert key.startswith("rdp_") and api_key_in(second_output, "Demo Gallery") == key
    assert (tmp_path / "demo_partner_key.txt").read_text().strip() == key
    assert f"Bearer {key}" in first_output and "/api/v1/partner/filings/" in first_output

    partner = Partner.objects.get(slug="demo-gallery")
    assert partner.domains.get().verified and partner.policy.auto_approve_verified_hashed
    decided, change = Filing.objects.filter(partner=partner).order_by("pk")
    # The first filing's sample was passed by the demo moderator, the policy approved the rest.
    assert decided.state == FilingState.COMPLETED and decided.sample_state == SampleState.PASSED
    assert set(decided.rows.values_list("state", flat=True)) == {RowState.APPROVED}
    assert decided.rows.filter(sample_mark="good", decided_by__username="moderator@demo.example").count() == 2
    removals = Removal.objects.filter(source_ref=decided.public_id)
    assert {r.partner for r in removals} == {"Demo Gallery"} and removals.count() >= 5
    assert set(removals.values_list("state", flat=True)) == {RemovalState.DELIVERED}
    assert set(removals.values_list("search", flat=True)) == {"unknown", "allowed"}
    grants = LicenceGrant.objects.filter(source_ref=decided.public_id)
    assert grants.exists() and set(grants.values_list("licence", flat=True)) == {"cc-by-sa"}
    # The second filing changes one row's choice; its sample waits for the desk.
    [pending] = change.rows.all()
    assert change.state == FilingState.HELD and pending.state == RowState.SAMPLED
    assert pending.duplicate_of.filing == decided and pending.choice == "search_only"

    # The partner's API answers the printed key.
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    listed = client.get("/api/v1/partner/filings/").json()
    assert [f["id"] for f in listed["results"]] == [decided.public_id, change.public_id]
    rows = client.get(f"/api/v1/partner/filings/{decided.public_id}/rows/").json()["results"]
    assert len(rows) == 6 and {r["creator_id"] for r in rows} == {"demo-artist", "lena-okafor"}

    # The claim link, mailed (after commit: not in this test's transaction) and printed, claims
    # the creator for the demo artist; the claim's page shows the partner's change still pending,
    # and the next run prints that page instead of a link.
    for output in (first_output, second_output):
        assert "demo-artist on Demo Gallery: link mailed to artist@demo.example" in output
    artist = User.objects.get(username="artist@demo.example")
    site = Client()
    site.force_login(artist)
    opened = site.get(claim_url_in(second_output).removeprefix(settings.SITE_URL), follow=True)
    assert opened.status_code == 200
    page = opened.content.decode()
    assert "Demo Gallery" in page and "https://gallery.demo.example/works/hubble_deep_field" in page
    assert "Change asked by the platform" in page and "Allow for search, not for training" in page
    claim = CreatorClaim.objects.get(user=artist)
    third_output = seed()
    assert claim_url_in(third_output) == f"{settings.SITE_URL}/claims/{claim.pk}/"


def test_it_makes_a_new_key_when_the_saved_one_is_lost(db, settings, tmp_path: Path):
    settings.VAR_DIR = tmp_path
    first = api_key_in(seed())
    (tmp_path / "demo_api_key.txt").unlink()
    second = api_key_in(seed())
    assert second != first
    assert (tmp_path / "demo_api_key.txt").read_text().strip() == second
    assert RemovalRequest.objects.count() == 7


def test_it_makes_a_new_partner_key_when_the_saved_one_is_revoked(db, settings, tmp_path: Path):
    from partners.services import partner_key_revoke

    settings.VAR_DIR = tmp_path
    first = api_key_in(seed(), "Demo Gallery")
    partner_key_revoke(key=PartnerKey.objects.get())
    second = api_key_in(seed(), "Demo Gallery")
    assert second != first
    assert (tmp_path / "demo_partner_key.txt").read_text().strip() == second
    assert PartnerKey.objects.filter(revoked_at__isnull=True).count() == 1
    assert Filing.objects.count() == 2
