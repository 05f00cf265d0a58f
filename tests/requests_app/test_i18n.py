"""French for French artists: messages from code, status labels, and emails in the artist's language."""

# The French catalogue writes apostrophes as U+2019, so the expected texts here do too.
# ruff: noqa: RUF001

from __future__ import annotations

from datetime import timedelta

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
from tests.helpers import (
    detail,
    file_errors,
    french_client,
    photo_bytes,
    unreadable_draft,
)

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

    errors = file_errors(response.content.decode())
    assert set(errors) == {"corrupt.png"}
    assert "Nous ne pouvons pas lire ce fichier comme une image" in errors["corrupt.png"]
    assert "upload a JPEG" not in errors["corrupt.png"]


def test_the_one_by_one_uploader_gets_the_french_error_too(artist):
    ticket = services.request_create(artist=artist, basis="copyright")
    response = french_client(artist).post(
        reverse("work_upload_one", args=[ticket.reference]),
        {"work": SimpleUploadedFile("empty.png", b"", content_type="image/png")},
    )
    assert response.json() == {"ok": False, "name": "empty.png", "error": "Le fichier est vide."}


def test_submitting_unreadable_works_is_refused_in_french(artist):
    ticket = unreadable_draft(artist)

    response = french_client(artist).post(
        reverse("request_submit", args=[ticket.reference]), {"signed_name": "Ada Lovelace"}
    )

    content = response.content.decode()
    assert "Aucune de ces œuvres n’a pu être lue ; ajoutez une œuvre que nous pouvons vérifier." in content
    assert "None of these works could be read" not in content


def test_status_labels_and_timeline_titles_are_french(artist):
    ticket = services.request_create(artist=artist, basis="likeness")
    services.request_withdraw(ticket=ticket, actor=artist.user)

    content = french_client(artist).get(detail(ticket)).content.decode()

    assert '<span class="status status--withdrawn">Retirée</span>' in content
    assert "Brouillon → Retirée" in content  # the timeline's status change
    assert "Image de la personne" in content  # the basis (registry.RemovalReason)
    listing = french_client(artist).get(reverse("request_list")).content.decode()
    assert ">Retirée</span>" in listing


def test_a_transition_refused_by_the_workflow_is_explained_in_french(artist):
    ticket = services.request_create(artist=artist, basis="copyright")
    services.request_withdraw(ticket=ticket, actor=artist.user)

    response = french_client(artist).post(
        reverse("request_withdraw", args=[ticket.reference]), {"confirm": "on"}, follow=True
    )

    assert "Une demande à l’état « retirée » ne peut pas passer à l’état « retirée »." in (
        response.content.decode()
    )


def test_english_stays_the_default(artist):
    ticket = services.request_create(artist=artist, basis="copyright")
    client = Client()
    client.force_login(artist.user)
    page = client.get(detail(ticket)).content.decode()
    assert '<span class="status status--draft">Draft</span>' in page


def test_the_timeline_stores_english_and_shows_the_fixed_messages_in_french(artist):
    ticket = services.request_create(artist=artist, basis="copyright")
    services._event(
        ticket,
        kind="removals",
        actor=None,
        message=services.REMOVAL_CONFIRMED_MESSAGE,
    )
    page = french_client(artist).get(detail(ticket)).content.decode()
    assert "Chaque responsable de jeu de données a confirmé le retrait." in page
    assert ticket.events.get(kind="removals").message == ("Every data set maintainer confirmed the removal.")


def test_a_lapsed_proof_mails_the_artist_in_french_and_notes_it_in_english_for_moderators(
    artist, django_capture_on_commit_callbacks
):
    ArtistProfile.objects.filter(pk=artist.pk).update(language="fr")
    artist.refresh_from_db()
    ticket = services.request_create(artist=artist, basis="copyright")
    RemovalRequest.objects.filter(pk=ticket.pk).update(status=Status.SUBMITTED)
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
    [note] = ticket.events.filter(kind=EventKind.VERIFICATION)
    assert note.message == (
        "Proof lapsed: DNS TXT record for example.fr. It was not renewed before its expiry date."
    )


def test_a_hashing_failure_stored_in_english_is_shown_in_french(artist):
    ticket = services.request_create(artist=artist, basis="copyright")
    [work] = services.works_add(
        ticket=ticket,
        actor=artist.user,
        files=[SimpleUploadedFile("cat.png", photo_bytes("chelsea.png"))],
    ).works
    with work.file.open("wb") as handle:
        handle.write(b"garbage")
    assert services.work_hash(work_id=work.pk) == "failed"  # as the hashing worker does, in English
    work.refresh_from_db()
    assert work.hash_error.startswith("This file is not an image we can read")

    page = french_client(artist).get(detail(ticket)).content.decode()

    assert "Nous ne pouvons pas lire ce fichier comme une image ; envoyez une image JPEG" in page
    assert "not an image we can read" not in page
