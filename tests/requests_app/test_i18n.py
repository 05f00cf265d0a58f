"""French for French artists: messages from code, status labels, and emails in the artist's language."""

# The French catalogue writes apostrophes as U+2019, so the expected texts here do too.
# ruff: noqa: RUF001

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from requests_app import services
from requests_app.models import (
    ArtistProfile,
    EventKind,
    IdentityProof,
    ProofMethod,
    ProofStatus,
    RemovalRequest,
)
from requests_app.workflow import Status
from tests.conftest import make_artist, photo_bytes
from tests.requests_app.test_views_request import _confirm_all, dataset_with_copy, detail, hashed_draft
from tests.requests_app.test_views_upload import _file_errors

PASSWORD = "a long enough passphrase 42"


@pytest.fixture(autouse=True)
def _back_to_the_default_language() -> Iterator[None]:
    """LocaleMiddleware leaves the last request's language active in this thread: the test
    client's French requests would otherwise make later tests (which call services directly) French."""
    yield
    translation.deactivate()


def french_client(profile: ArtistProfile | None = None) -> Client:
    """A browser whose language switcher was set to French (the cookie set_language writes)."""
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    if profile is not None:
        client.force_login(profile.user)
    return client


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
    removal_request = hashed_draft(profile, "chelsea.png")
    _confirm_all(removal_request, profile)
    services.request_submit(request=removal_request, actor=profile.user, signed_name=profile.display_name)
    mail.outbox.clear()
    # The moderator works in English (and a Celery task has no language at all): the email
    # follows the artist's language, not the one active when it is sent.
    with translation.override("en"), capture(execute=True):
        services.request_approve(request=removal_request, moderator=moderator)
    return removal_request


# --- messages from code, on French pages ------------------------------------------


def test_a_corrupt_upload_is_explained_in_french_next_to_the_file(artist):
    client = french_client(artist)
    response = client.post(
        reverse("request_new"),
        {
            "basis": "copyright",
            "works": [
                SimpleUploadedFile("ok.png", photo_bytes("chelsea.png"), content_type="image/png"),
                SimpleUploadedFile("corrupt.png", b"\x89PNG not an image at all", content_type="image/png"),
            ],
        },
        follow=True,
    )

    errors = _file_errors(response.content.decode())
    assert set(errors) == {"corrupt.png"}
    assert "Nous ne pouvons pas lire ce fichier comme une image" in errors["corrupt.png"]
    assert "upload a JPEG" not in errors["corrupt.png"]


def test_the_one_by_one_uploader_gets_the_french_error_too(artist):
    removal_request = services.request_create(artist=artist, basis="copyright")
    response = french_client(artist).post(
        reverse("work_upload_one", args=[removal_request.reference]),
        {"work": SimpleUploadedFile("empty.png", b"", content_type="image/png")},
    )
    assert response.json() == {"ok": False, "name": "empty.png", "error": "Le fichier est vide."}


def test_submitting_unreadable_works_is_refused_in_french(artist):
    removal_request = services.request_create(artist=artist, basis="copyright")
    [work] = services.works_add(
        request=removal_request,
        actor=artist.user,
        files=[SimpleUploadedFile("chelsea.png", photo_bytes("chelsea.png"))],
    ).works
    with work.file.open("wb") as handle:
        handle.write(b"garbage")
    services.work_hash(work_id=work.pk)

    response = french_client(artist).post(
        reverse("request_submit", args=[removal_request.reference]), {"signed_name": "Ada Lovelace"}
    )

    content = response.content.decode()
    assert "Aucune de ces œuvres n’a pu être lue ; ajoutez une œuvre que nous pouvons vérifier." in content
    assert "None of these works could be read" not in content


def test_status_labels_and_timeline_titles_are_french(artist):
    removal_request = services.request_create(artist=artist, basis="likeness")
    services.request_withdraw(request=removal_request, actor=artist.user)

    content = french_client(artist).get(detail(removal_request)).content.decode()

    assert '<span class="status status--withdrawn">Retirée</span>' in content
    assert "Brouillon → Retirée" in content  # the timeline's status change
    assert "Image de la personne" in content  # the basis (registry.RemovalReason)
    listing = french_client(artist).get(reverse("request_list")).content.decode()
    assert ">Retirée</span>" in listing


def test_a_transition_refused_by_the_workflow_is_explained_in_french(artist):
    removal_request = services.request_create(artist=artist, basis="copyright")
    services.request_withdraw(request=removal_request, actor=artist.user)

    response = french_client(artist).post(
        reverse("request_withdraw", args=[removal_request.reference]), {"confirm": "on"}, follow=True
    )

    assert "Une demande à l’état « retirée » ne peut pas passer à l’état « retirée »." in (
        response.content.decode()
    )


def test_english_stays_the_default(artist):
    removal_request = services.request_create(artist=artist, basis="copyright")
    client = Client()
    client.force_login(artist.user)
    page = client.get(detail(removal_request)).content.decode()
    assert '<span class="status status--draft">Draft</span>' in page


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

    removal_request = _approved_by_an_english_moderator(
        profile, moderator, maintainer, django_capture_on_commit_callbacks
    )

    [approval] = mail.outbox
    assert approval.to == ["camille@example.fr"]
    assert approval.subject == f"[{removal_request.reference}] Votre demande de retrait a été approuvée"
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
    removal_request = hashed_draft(profile, "chelsea.png")
    _confirm_all(removal_request, profile)
    services.request_submit(request=removal_request, actor=profile.user, signed_name="Ada Lovelace")
    mail.outbox.clear()
    with translation.override("fr"), django_capture_on_commit_callbacks(execute=True):
        services.request_approve(request=removal_request, moderator=moderator)

    [approval] = mail.outbox
    assert approval.subject == f"[{removal_request.reference}] Your removal request was approved"
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

    removal_request = services.request_create(artist=profile, basis="copyright")
    removal_request.status = "in_review"
    removal_request.save(update_fields=["status"])
    with django_capture_on_commit_callbacks(execute=True):
        services.request_ask_info(
            request=removal_request, moderator=moderator, message="Which site is yours?"
        )
    [message] = mail.outbox
    assert message.subject == f"[{removal_request.reference}] Nous avons besoin de plus d’informations"
    assert "Which site is yours?" in message.body  # the moderator's words, as written
    assert "Un modérateur a besoin de plus d’informations" in message.body

    client.post(reverse("set_language"), {"language": "en", "next": reverse("account")})
    client.get(reverse("account"))
    profile.refresh_from_db()
    assert profile.language == "en"


def test_the_timeline_stores_english_and_shows_the_fixed_messages_in_french(artist):
    removal_request = services.request_create(artist=artist, basis="copyright")
    services._event(
        removal_request,
        kind="removals",
        actor=None,
        message=services.REMOVAL_CONFIRMED_MESSAGE,
    )
    page = french_client(artist).get(detail(removal_request)).content.decode()
    assert "Chaque responsable de jeu de données a confirmé le retrait." in page
    assert removal_request.events.get(kind="removals").message == (
        "Every data set maintainer confirmed the removal."
    )


def test_a_lapsed_proof_mails_the_artist_in_french_and_notes_it_in_english_for_moderators(
    artist, django_capture_on_commit_callbacks
):
    ArtistProfile.objects.filter(pk=artist.pk).update(language="fr")
    artist.refresh_from_db()
    removal_request = services.request_create(artist=artist, basis="copyright")
    RemovalRequest.objects.filter(pk=removal_request.pk).update(status=Status.SUBMITTED)
    IdentityProof.objects.create(
        artist=artist,
        method=ProofMethod.DNS_TXT,
        target="example.fr",
        status=ProofStatus.VERIFIED,
        expires_at=timezone.now() - timedelta(hours=1),
    )

    # Whatever language the code runs in (French here; beat runs it in English).
    with translation.override("fr"), django_capture_on_commit_callbacks(execute=True):
        assert services.proofs_expire() == 1

    [message] = mail.outbox[-1:]
    assert message.subject == "L’une de vos preuves d’identité n’est plus valable"
    assert "Votre preuve d’identité « Enregistrement DNS TXT » pour example.fr" in message.body
    assert "Elle n’a pas été renouvelée avant sa date d’expiration." in message.body
    [note] = removal_request.events.filter(kind=EventKind.VERIFICATION)
    assert note.message == (
        "Proof lapsed: DNS TXT record for example.fr. It was not renewed before its expiry date."
    )


def test_a_hashing_failure_stored_in_english_is_shown_in_french(artist):
    removal_request = services.request_create(artist=artist, basis="copyright")
    [work] = services.works_add(
        request=removal_request,
        actor=artist.user,
        files=[SimpleUploadedFile("cat.png", photo_bytes("chelsea.png"))],
    ).works
    with work.file.open("wb") as handle:
        handle.write(b"garbage")
    assert services.work_hash(work_id=work.pk) == "failed"  # as the hashing worker does, in English
    work.refresh_from_db()
    assert work.hash_error.startswith("This file is not an image we can read")

    page = french_client(artist).get(detail(removal_request)).content.decode()

    assert "Nous ne pouvons pas lire ce fichier comme une image ; envoyez une image JPEG" in page
    assert "not an image we can read" not in page
