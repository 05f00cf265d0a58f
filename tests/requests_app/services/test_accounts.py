"""requests_app.services.accounts: the export of everything held about an artist, and the deletion of
the account (approved requests stay, anonymised; the rest goes, files included)."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile

from requests_app import services
from requests_app.models import (
    ArtistProfile,
    EventKind,
    IdentityProof,
    RemovalRequest,
    SiteSignals,
    TicketEvent,
    Work,
)
from requests_app.services.accounts import ANONYMISED_NAME
from tests.helpers import hashed_draft, make_request, photo_bytes


def test_the_export_holds_drafts_their_works_and_works_outside_any_request(artist, moderator):
    draft = hashed_draft(artist, "coffee.png")
    services.request_withdraw(ticket=draft, actor=artist.user)
    loose = Work.objects.get()
    Work.objects.filter(pk=loose.pk).update(request=None)

    data = services.account_export(user=artist.user)

    assert data["format"] == "removal-desk-export/1"
    assert data["profile"]["email"] == "ada@example.com"
    [ticket] = data["requests"]
    assert ticket["reference"] == draft.reference and ticket["status"] == "withdrawn"
    assert ticket["works"] == [] and ticket["removals"] == []
    assert [e["by_you"] for e in ticket["timeline"] if e["kind"] == EventKind.STATUS] == [True]
    [work] = data["works_without_request"]
    assert work["original_name"] == "coffee.png" and len(work["sha256"]) == 64


def test_the_export_is_only_of_the_artists_own_account(artist, other_artist):
    hashed_draft(other_artist, "chelsea.png")
    data = services.account_export(user=artist.user)
    assert data["requests"] == [] and data["works_without_request"] == []


def test_deleting_an_account_with_an_approved_request_keeps_it_anonymised(
    artist, other_artist, moderator, dataset, django_capture_on_commit_callbacks
):
    approved = make_request(artist, "chelsea.png")
    services.request_approve(ticket=approved, moderator=moderator, reason="Clear.")
    make_request(artist, "coffee.png", submit=False)
    files = [Path(w.file.path) for w in Work.objects.filter(artist=artist)]
    assert all(path.exists() for path in files)

    with django_capture_on_commit_callbacks(execute=True):
        result = services.account_delete(user=artist.user)

    assert (result.requests_deleted, result.requests_anonymised, result.works_deleted) == (1, 1, 2)
    ticket = RemovalRequest.objects.get()
    assert ticket.pk == approved.pk and ticket.description == "" and ticket.signed_name == ""
    assert not TicketEvent.objects.filter(
        request=ticket, actor__isnull=False, actor_id=artist.user_id
    ).exists()
    assert TicketEvent.objects.filter(request=ticket, params={"text": "account_deleted"}).count() == 1
    profile = ArtistProfile.objects.get(pk=artist.pk)
    assert profile.display_name == ANONYMISED_NAME
    user = User.objects.get(pk=artist.user_id)
    assert not user.is_active and user.email == "" and not user.has_usable_password()
    assert not IdentityProof.objects.filter(artist=profile).exists()
    assert not Work.objects.exists() and not any(path.exists() for path in files)
    assert ArtistProfile.objects.filter(pk=other_artist.pk).exists()


def test_deleting_an_account_without_approved_requests_deletes_the_user(artist, other_artist):
    hashed_draft(artist, "coffee.png")
    result = services.account_delete(user=artist.user)
    assert (result.requests_deleted, result.requests_anonymised, result.works_deleted) == (1, 0, 1)
    assert not ArtistProfile.objects.filter(pk=artist.pk).exists()
    assert ArtistProfile.objects.filter(pk=other_artist.pk).exists()


def test_a_work_uploaded_alone_goes_with_the_account(artist):
    ticket = services.request_create(artist=artist, basis="copyright")
    services.works_add(
        ticket=ticket, actor=artist.user, files=[SimpleUploadedFile("cat.png", photo_bytes("chelsea.png"))]
    )
    assert services.account_delete(user=artist.user).works_deleted == 1
    assert not User.objects.filter(email="ada@example.com").exists()


def test_what_a_site_said_is_exported_and_goes_with_an_anonymised_account(
    artist, moderator, dataset, verified_site
):
    proof, site = verified_site
    site.pages["/ai.txt"] = (200, {"Content-Type": "text/plain"}, b"User-Agent: *\nDisallow: /art/\n")
    record = services.site_signals_fetch(proof=proof, actor=artist.user)
    [exported] = services.account_export(user=artist.user)["profile"]["site_signals"]
    assert exported == {
        "site": site.domain,
        "fetched_at": record.fetched_at.isoformat(),
        "scope": ["localhost/art/"],
    }
    approved = make_request(artist, "chelsea.png")
    services.request_approve(ticket=approved, moderator=moderator, reason="Clear.")
    services.account_delete(user=artist.user)
    assert ArtistProfile.objects.filter(pk=artist.pk).exists()  # kept, anonymised, for its approved request
    assert not SiteSignals.objects.exists()
