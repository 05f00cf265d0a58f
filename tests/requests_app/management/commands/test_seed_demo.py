"""`manage.py seed_demo`: demo people, data sets and requests in every state; a second run changes nothing."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.management import call_command
from rest_framework.test import APIClient

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
    }


def api_key_in(output: str) -> str:
    [line] = [line for line in output.splitlines() if "API key (Demo Maintainer)" in line]
    return line.rsplit(" ", 1)[-1]


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


def test_it_makes_a_new_key_when_the_saved_one_is_lost(db, settings, tmp_path: Path):
    settings.VAR_DIR = tmp_path
    first = api_key_in(seed())
    (tmp_path / "demo_api_key.txt").unlink()
    second = api_key_in(seed())
    assert second != first
    assert (tmp_path / "demo_api_key.txt").read_text().strip() == second
    assert RemovalRequest.objects.count() == 7
