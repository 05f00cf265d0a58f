"""requests_app.notify: emails in the artist's language (at sign-up, after a switch), sent once the
transaction commits; overdue requests told to moderators in English."""

# The French catalogue writes apostrophes as U+2019, so the expected texts here do too.
# ruff: noqa: RUF001

from __future__ import annotations

import re

from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import translation

from requests_app import notify, services
from requests_app.models import (
    ArtistProfile,
    RemovalRequest,
)
from tests.helpers import (
    confirm_all,
    dataset_with_copy,
    hashed_draft,
    make_artist,
)

PASSWORD = "a long enough passphrase 42"


def _sign_up(client: Client, email: str, name: str) -> ArtistProfile:
    response = client.post(
        reverse("signup"),
        {"email": email, "display_name": name, "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    return ArtistProfile.objects.select_related("user").get(user__email=email)


def _verify_with_emailed_link(client: Client, message: mail.EmailMessage) -> None:
    [link] = re.findall(r"https?://\S+", message.body)
    assert client.get(link.removeprefix("http://testserver")).status_code in (200, 302)


def _approved_by_an_english_moderator(profile, moderator, maintainer, capture) -> RemovalRequest:
    dataset_with_copy(maintainer, slug="alpha", name="Alpha Set", url="https://img.example/a.jpg")
    ticket = hashed_draft(profile, "chelsea.png")
    confirm_all(ticket, profile)
    services.request_submit(ticket=ticket, actor=profile.user, signed_name=profile.display_name)
    mail.outbox.clear()
    # The moderator works in English (and a Celery task has no language at all): the email
    # follows the artist's language, not the one active when it is sent.
    with translation.override("en"), capture(execute=True):
        services.request_approve(ticket=ticket, moderator=moderator)
    return ticket


# --- emails in the artist's language ------------------------------------------------


def test_a_french_artist_gets_french_emails(db, moderator, maintainer, django_capture_on_commit_callbacks):
    client = Client(headers={"accept-language": "fr-FR,fr;q=0.9,en;q=0.5"})
    with django_capture_on_commit_callbacks(execute=True):
        profile = _sign_up(client, "camille@example.fr", "Camille Claudel")
    assert profile.language == "fr"

    [verification] = mail.outbox
    assert verification.subject == "Confirmez votre adresse e-mail pour Removal Desk"
    assert verification.body.startswith("Bonjour Camille Claudel,")
    assert "Veuillez confirmer qu’il s’agit bien de votre adresse e-mail" in verification.body
    assert "Please confirm" not in verification.body
    _verify_with_emailed_link(client, verification)

    ticket = _approved_by_an_english_moderator(
        profile, moderator, maintainer, django_capture_on_commit_callbacks
    )

    [approval] = mail.outbox
    assert approval.to == ["camille@example.fr"]
    assert approval.subject == f"[{ticket.reference}] Votre demande de retrait a été approuvée"
    assert "Nous avons envoyé les retraits aux responsables des jeux de données." in approval.body
    assert "Suivez votre demande ici : http://" in approval.body
    assert "Hello" not in approval.body


def test_an_english_artist_gets_english_emails(db, moderator, maintainer, django_capture_on_commit_callbacks):
    client = Client(headers={"accept-language": "en-GB,en;q=0.9"})
    with django_capture_on_commit_callbacks(execute=True):
        profile = _sign_up(client, "ada@example.com", "Ada Lovelace")
    assert profile.language == "en"
    [verification] = mail.outbox
    assert verification.subject == "Confirm your email address for Removal Desk"
    assert "Please confirm that this is your email address" in verification.body
    _verify_with_emailed_link(client, verification)

    # Even when the moderator's own pages are in French.
    dataset_with_copy(maintainer, slug="alpha", name="Alpha Set", url="https://img.example/a.jpg")
    ticket = hashed_draft(profile, "chelsea.png")
    confirm_all(ticket, profile)
    services.request_submit(ticket=ticket, actor=profile.user, signed_name="Ada Lovelace")
    mail.outbox.clear()
    with translation.override("fr"), django_capture_on_commit_callbacks(execute=True):
        services.request_approve(ticket=ticket, moderator=moderator)

    [approval] = mail.outbox
    assert approval.subject == f"[{ticket.reference}] Your removal request was approved"
    assert approval.body.startswith("Hello Ada Lovelace,")
    assert "We have sent the removals to the data set maintainers." in approval.body


def test_switching_language_while_logged_in_switches_the_emails(
    db, moderator, maintainer, django_capture_on_commit_callbacks
):
    profile = make_artist("berthe@example.com", name="Berthe Morisot")
    assert profile.language == "en"

    client = Client()
    client.force_login(profile.user)
    response = client.post(reverse("set_language"), {"language": "fr", "next": reverse("request_list")})
    assert response.status_code == 302
    client.get(response["Location"])  # set_language sends the artist back to their page
    profile.refresh_from_db()
    assert profile.language == "fr"

    ticket = services.request_create(artist=profile, basis="copyright")
    ticket.status = "in_review"
    ticket.save(update_fields=["status"])
    with django_capture_on_commit_callbacks(execute=True):
        services.request_ask_info(ticket=ticket, moderator=moderator, message="Which site is yours?")
    [message] = mail.outbox
    assert message.subject == f"[{ticket.reference}] Nous avons besoin de plus d’informations"
    assert "Which site is yours?" in message.body  # the moderator's words, as written
    assert "Un modérateur a besoin de plus d’informations" in message.body

    client.post(reverse("set_language"), {"language": "en", "next": reverse("account")})
    client.get(reverse("account"))
    profile.refresh_from_db()
    assert profile.language == "en"


def test_an_artist_is_written_to_in_their_language_or_the_sites_default(artist):
    artist.language = "fr"
    assert notify.language_of(artist) == "fr"
    artist.language = "xx"  # a language the site no longer offers
    assert notify.language_of(artist) == settings.LANGUAGE_CODE


def test_an_email_goes_only_once_the_transaction_commits(artist, django_capture_on_commit_callbacks):
    ticket = services.request_create(artist=artist, basis="copyright")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify.request_changed(ticket=ticket, headline="Approved")
    assert mail.outbox == [] and len(callbacks) == 1
    callbacks[0]()
    [message] = mail.outbox
    assert message.to == ["ada@example.com"] and message.subject == f"[{ticket.reference}] Approved"


def test_a_later_text_is_translated_when_the_email_is_rendered(artist, django_capture_on_commit_callbacks):
    from django.utils.translation import gettext as _

    artist.language = "fr"
    ticket = services.request_create(artist=artist, basis="copyright")
    with django_capture_on_commit_callbacks(execute=True):
        notify.request_needs_info(ticket=ticket, message=notify.later(lambda: _("Status change")))
    [message] = mail.outbox
    assert message.subject == f"[{ticket.reference}] Nous avons besoin de plus d’informations"


def test_an_overdue_request_is_told_to_moderators_in_english_and_to_nobody_without_recipients(
    artist, django_capture_on_commit_callbacks
):
    ticket = services.request_create(artist=artist, basis="copyright")
    with django_capture_on_commit_callbacks(execute=True), translation.override("fr"):
        notify.sla_overdue(ticket=ticket, recipients=[])
        notify.sla_overdue(ticket=ticket, recipients=["mod@example.com"])
    [message] = mail.outbox
    assert message.to == ["mod@example.com"]
    assert message.subject == f"[{ticket.reference}] Overdue: draft"
