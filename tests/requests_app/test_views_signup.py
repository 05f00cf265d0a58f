"""Sign-up, log-in and email confirmation pages."""

from __future__ import annotations

import re

from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.urls import reverse

from requests_app import services
from requests_app.models import ArtistProfile
from tests.conftest import make_artist

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
