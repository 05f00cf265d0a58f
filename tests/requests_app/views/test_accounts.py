"""The account pages (views/accounts.py): sign-up, log-in, email confirmation, the name, the
export, deletion and password reset."""

from __future__ import annotations

import json
import re
from pathlib import Path

from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.urls import reverse

from registry.models import Removal
from requests_app import services
from requests_app.forms import PAGES_SEPARATOR
from requests_app.models import (
    ArtistProfile,
    IdentityProof,
    Match,
    RemovalRequest,
    TicketEvent,
    Work,
)
from tests.helpers import (
    dataset_with_copy,
    hashed_draft,
    logged_in,
    make_artist,
)

PASSWORD = "a long enough passphrase 42"


def _signup(client: Client, **overrides: str):
    data = {
        "email": "Mary@Example.com",
        "display_name": "Mary Anning",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **overrides,
    }
    return client.post(reverse("signup"), data)


def _link_in(message: mail.EmailMessage) -> str:
    [link] = re.findall(r"https?://\S+", message.body)
    return link


def test_it_creates_the_account_logs_in_and_sends_the_link(client, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _signup(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("request_list")
    profile = ArtistProfile.objects.select_related("user").get()
    assert profile.user.email == "mary@example.com"
    assert profile.display_name == "Mary Anning"
    assert not services.email_is_verified(profile)

    [message] = mail.outbox
    assert message.to == ["mary@example.com"]
    assert "/verify-email/" in _link_in(message)

    page = client.get(reverse("request_list"))
    assert page.status_code == 200
    assert "We sent a confirmation link to mary@example.com" in page.content.decode()
    assert "Send the link again" in page.content.decode()


def test_it_verifies_the_address_with_the_emailed_link(client, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _signup(client)
    path = _link_in(mail.outbox[0]).removeprefix("http://testserver")

    response = client.get(path, follow=True)

    assert response.redirect_chain[-1][0] == reverse("request_list")
    assert "your email address is confirmed" in response.content.decode()
    assert "Send the link again" not in response.content.decode()
    assert services.email_is_verified(ArtistProfile.objects.get())


def test_it_verifies_the_address_when_logged_out(client, db):
    profile = make_artist("lin@example.com", verified=False)
    path = services.email_verification_link(profile).removeprefix("http://testserver")

    response = client.get(path)

    assert response.status_code == 200
    assert "lin@example.com is confirmed" in response.content.decode()
    assert services.email_is_verified(profile)


def test_it_says_why_a_bad_link_fails(client, db):
    response = client.get(reverse("verify_email", args=["not-a-token"]))
    assert response.status_code == 400
    assert "This link is not valid; check that you copied all of it." in response.content.decode()


def test_it_refuses_two_different_passwords(client, db):
    response = _signup(client, password2="another passphrase 43")
    assert response.status_code == 200
    assert "The two passwords differ" in response.content.decode()
    assert not User.objects.exists()


def test_it_applies_the_password_validators(client, db):
    response = _signup(client, password1="mary@example.com", password2="mary@example.com")
    content = response.content.decode()
    assert response.status_code == 200
    assert "too similar" in content
    assert 'aria-invalid="true"' in content
    assert not User.objects.exists()


def test_it_refuses_an_address_that_has_an_account(client, artist):
    response = _signup(client, email="ada@example.com")
    assert response.status_code == 200
    assert "An account with this email address exists already; log in instead." in response.content.decode()
    assert User.objects.count() == 1


def test_it_logs_in_with_the_email_address(client, artist):
    page = client.get(reverse("login"))
    assert 'for="id_username"' in page.content.decode()
    response = client.post(
        reverse("login"), {"username": "ada@example.com", "password": "correct horse battery staple"}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("request_list")


def test_it_logs_out_with_a_post(client, artist):
    client.force_login(artist.user)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("request_list")).status_code == 302


def test_it_resends_the_link_once_a_minute(client, db, django_capture_on_commit_callbacks):
    profile = make_artist("lin@example.com", verified=False)
    client.force_login(profile.user)

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(reverse("verify_email_resend"), {"next": "/requests/"}, follow=True)
        second = client.post(reverse("verify_email_resend"), {"next": "https://evil.example/"}, follow=True)

    assert len(mail.outbox) == 1
    assert "We sent a new confirmation link to lin@example.com." in first.content.decode()
    assert second.redirect_chain[-1][0] == reverse("request_list")
    assert "less than a minute ago" in second.content.decode()


def test_it_resends_only_by_post_and_only_when_logged_in(client, artist):
    anonymous = client.post(reverse("verify_email_resend"))
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("login"))
    client.force_login(artist.user)
    assert client.get(reverse("verify_email_resend")).status_code == 405


def test_it_says_a_verified_address_needs_no_new_link(client, artist):
    client.force_login(artist.user)
    response = client.post(reverse("verify_email_resend"), follow=True)
    assert "Your email address is confirmed already." in response.content.decode()
    assert mail.outbox == []


def test_it_says_when_the_password_is_wrong(client, artist):
    response = client.post(reverse("login"), {"username": "ada@example.com", "password": "wrong"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    content = response.content.decode()
    assert "This email address and password do not match an account." in content
    assert "username and password" not in content


# --- export and deletion ------------------------------------------------------


def approved_request(artist, maintainer, moderator) -> RemovalRequest:
    dataset_with_copy(maintainer, slug="alpha", name="Alpha Set", url="https://img.example/a/cat.jpg")
    ticket = hashed_draft(artist, "chelsea.png")
    services.matches_decide(
        ticket=ticket, actor=artist.user, confirm=Match.objects.values_list("pk", flat=True)
    )
    services.request_submit(ticket=ticket, actor=artist.user, signed_name="Ada Lovelace")
    services.request_artist_reply(ticket=ticket, artist_user=artist.user, message="My cat.")
    return services.request_approve(ticket=ticket, moderator=moderator, reason="Clear.")


def test_the_export_holds_profile_requests_works_matches_timeline_and_removals(artist, maintainer, moderator):
    approved = approved_request(artist, maintainer, moderator)
    RemovalRequest.objects.filter(pk=approved.pk).update(
        description=f"Mine.{PAGES_SEPARATOR}https://ada.example"
    )
    services.request_note_add(ticket=approved, moderator=moderator, message="internal only", public=False)
    response = logged_in(artist).get(reverse("account_export"))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="removal-desk-my-data.json"'
    data = json.loads(response.content)
    assert data["profile"]["email"] == "ada@example.com"
    assert data["profile"]["display_name"] == "Ada Lovelace"
    assert [p["method"] for p in data["profile"]["proofs"]] == ["email"]
    [ticket] = data["requests"]
    assert ticket["reference"] == approved.reference and ticket["status"] == "approved"
    assert ticket["signed_name"] == "Ada Lovelace"
    assert "https://ada.example" in ticket["description"]
    [work] = ticket["works"]
    assert work["original_name"] == "chelsea.png" and len(work["phash"]) == 16
    assert work["matches"][0]["item_url"] == "https://img.example/a/cat.jpg"
    assert work["matches"][0]["state"] == "approved"
    kinds = [e["kind"] for e in ticket["timeline"]]
    assert "public_reply" in kinds and "internal_note" not in kinds
    assert "internal only" not in response.content.decode()
    assert ticket["removals"][0]["dataset"] == "Alpha Set" and ticket["removals"][0]["state"] == "pending"


def test_deleting_the_account_keeps_approved_requests_anonymised_and_deletes_the_rest(
    artist, maintainer, moderator, django_capture_on_commit_callbacks
):
    approved = approved_request(artist, maintainer, moderator)
    draft = hashed_draft(artist, "coffee.png")
    files = [Path(w.file.path) for w in Work.objects.all()]
    assert len(files) == 2 and all(f.exists() for f in files)
    removals_before = list(Removal.objects.values_list("public_id", "state"))
    client = logged_in(artist)

    wrong = client.post(reverse("account_delete"), {"password": "nope"})
    assert wrong.status_code == 200 and "This is not your password." in wrong.content.decode()
    assert RemovalRequest.objects.count() == 2

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            reverse("account_delete"), {"password": "correct horse battery staple"}, follow=True
        )
    assert "Your account is deleted" in response.content.decode()
    assert not response.context["user"].is_authenticated

    assert not RemovalRequest.objects.filter(pk=draft.pk).exists()
    kept = RemovalRequest.objects.get(pk=approved.pk)
    assert kept.description == "" and kept.signed_name == ""
    assert not Work.objects.exists() and not Match.objects.exists()
    assert len(callbacks) == 1, callbacks
    assert [f for f in files if f.exists()] == []
    assert not TicketEvent.objects.filter(request=kept, message__contains="My cat").exists()
    assert not TicketEvent.objects.filter(request=kept, message__contains="chelsea").exists()
    assert list(Removal.objects.values_list("public_id", "state")) == removals_before
    profile = ArtistProfile.objects.get(pk=artist.pk)
    assert profile.display_name == "(deleted account)"
    assert profile.user.email == "" and not profile.user.is_active and not profile.user.has_usable_password()
    assert "ada" not in profile.user.username
    assert not IdentityProof.objects.exists()
    assert not client.login(username="ada@example.com", password="correct horse battery staple")


# --- password reset ---------------------------------------------------------------


def test_an_artist_resets_a_forgotten_password(client, artist):
    assert 'href="/password-reset/"' in client.get(reverse("login")).content.decode()
    response = client.post(reverse("password_reset"), {"email": "ADA@example.com"}, follow=True)
    assert "Check your email" in response.content.decode()
    [message] = [m for m in mail.outbox if "new password" in m.subject]
    link = re.search(r"http://testserver(/password-reset/\S+/)", message.body).group(1)
    form_page = client.get(link, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a brand new pass phrase 7", "new_password2": "a brand new pass phrase 7"},
        follow=True,
    )
    assert "Your new password is saved" in done.content.decode()
    assert client.login(username="ada@example.com", password="a brand new pass phrase 7")


def test_an_empty_name_is_refused_on_the_account_page(nora):
    response = logged_in(nora).post(reverse("account_name"), {"display_name": "   "})
    assert response.status_code == 200  # the form again, with the error beside its field
    assert "This field is required." in response.content.decode()
    nora.refresh_from_db()
    assert nora.display_name == "Nora Newbie"


def test_the_log_in_error_speaks_of_the_email_address(client, nora):
    content = client.post(
        reverse("login"), {"username": "nora@example.com", "password": "nope"}
    ).content.decode()
    assert "This email address and password do not match an account." in content
    assert "username" not in re.sub(r'(name|id|for|autocomplete)="[^"]*"', "", content)
