"""What happened, in the reader's language: the desk's timeline and dates, every kind of row
Removal Desk writes (with plurals), the identity pages' dates, the request page with no copy,
and the emails that come with them."""

# The French catalogue writes apostrophes as U+2019, so the expected texts here do too.
# ruff: noqa: RUF001

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from registry import services as registry_services
from requests_app import services, timeline
from requests_app.models import (
    ArtistProfile,
    ConflictResolution,
    EventKind,
    IdentityProof,
    ProofMethod,
    ProofStatus,
    RemovalRequest,
    RequestConflict,
    TicketEvent,
)
from requests_app.tasks import proofs_recheck, sla_escalate
from requests_app.workflow import Status
from tests.helpers import (
    change_url,
    confirm_all,
    detail,
    french_client,
    logged_in,
    make_request,
    photo_bytes,
    web_server,
)

DECEMBER_FIRST = datetime(2026, 12, 1, 7, 48, tzinfo=UTC)
ORIGINALS = dict((k, t) for k, _title, t in settings.MODERATION_CANNED_RESPONSES)["originals"]


def french(user) -> Client:
    """A browser whose language switch (the site's, or the admin's) was set to French."""
    client = logged_in(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    return client


def desk_rows(content: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<div class="message">(.*?)</div>', content, flags=re.S)]


def french_artist(profile: ArtistProfile) -> ArtistProfile:
    ArtistProfile.objects.filter(pk=profile.pk).update(language="fr")
    profile.refresh_from_db()
    return profile


# --- the desk ----------------------------------------------------------------------------


def test_the_desk_in_french_shows_french_timeline_rows_and_lower_case_months(
    artist, other_artist, moderator, dataset, settings
):
    ticket = make_request(artist, "chelsea.png")
    clash = make_request(other_artist, "chelsea.png")  # the same image: a conflict on both
    RemovalRequest.objects.filter(pk=ticket.pk).update(sla_due_at=timezone.now() - timedelta(hours=3))
    assert sla_escalate() == 1
    services.request_assign(ticket=ticket, moderator=moderator, assignee=moderator)
    TicketEvent.objects.filter(request=ticket).update(created_at=DECEMBER_FIRST)

    content = french(moderator).get(change_url(ticket)).content.decode()

    rows = desk_rows(content)
    assert "1 œuvre ajoutée : chelsea.png" in rows
    assert "1 confirmée, 0 exclue, 0 indécise" in rows
    assert (
        f"1 image également revendiquée par Grace Hopper dans {clash.reference} : "
        "approbation suspendue jusqu’à la décision d’un modérateur."
    ) in rows
    assert "En retard de 3 heures (statut : envoyée) ; priorité passée à haute." in rows
    assert "Attribuée à mod@example.com." in rows
    assert not any("also claimed" in r or "Overdue" in r or "work added" in r for r in rows)
    assert "1 décembre 2026" in content  # the timeline's dates, in French's own format
    assert not re.search(r"\bDéc\b|>2026-12-01", content)  # no "1 Déc 2026", no ISO dates

    english = logged_in(moderator).get(change_url(ticket)).content.decode()
    assert f"1 image also claimed by Grace Hopper in {clash.reference}: " in english
    assert "Overdue by 3 hours in submitted; priority raised to high." in desk_rows(english)
    assert "Dec. 1, 2026" in english


def test_a_moderator_picks_french_with_the_admins_language_switch(artist, moderator, dataset):
    ticket = make_request(artist, "chelsea.png")
    client = logged_in(moderator)
    page = client.get(change_url(ticket)).content.decode()
    assert f'action="{reverse("set_language")}"' in page and 'name="language" value="fr"' in page

    response = client.post(reverse("set_language"), {"language": "fr", "next": change_url(ticket)})

    assert response.status_code == 302 and response["Location"] == change_url(ticket)
    content = client.get(change_url(ticket)).content.decode()
    assert "1 œuvre ajoutée : chelsea.png" in desk_rows(content)
    assert 'name="language" value="en"' in content  # and back to English from there


# --- each kind of row, in both languages, with plurals ----------------------------------

KINDS = [
    (
        {"text": "conflict_found", "count": 1, "artist": "Grace", "reference": "RR-1"},
        "1 image also claimed by Grace in RR-1: held from approval until a moderator resolves it.",
        "1 image également revendiquée par Grace dans RR-1 : approbation suspendue jusqu’à la "
        "décision d’un modérateur.",
    ),
    (
        {"text": "conflict_found", "count": 3, "artist": "Grace", "reference": "RR-1"},
        "3 images also claimed by Grace in RR-1: held from approval until a moderator resolves it.",
        "3 images également revendiquées par Grace dans RR-1 : approbation suspendue jusqu’à la "
        "décision d’un modérateur.",
    ),
    (
        {"text": "conflict_resolved", "verdict": "other", "reference": "RR-2", "note": "Older post."},
        "Conflict resolved: the works belong to the artist of RR-2. Older post.",
        "Conflit tranché : les œuvres appartiennent à l’artiste de RR-2. Older post.",
    ),
    (
        {"text": "conflict_resolved", "verdict": "none", "reference": "RR-2", "note": ""},
        "Conflict resolved: not a conflict with RR-2.",
        "Conflit tranché : pas de conflit avec RR-2.",
    ),
    (
        {"text": "sla_escalated", "hours": 1, "status": "in_review"},
        "Overdue by 1 hour in in review; priority raised to high.",
        "En retard de 1 heure (statut : en cours d’examen) ; priorité passée à haute.",
    ),
    (
        {"text": "sla_escalated", "hours": 26, "status": "submitted"},
        "Overdue by 26 hours in submitted; priority raised to high.",
        "En retard de 26 heures (statut : envoyée) ; priorité passée à haute.",
    ),
    (
        {"text": "proof_verified", "method": "dns_txt", "target": "art.example"},
        "Proof verified: DNS TXT record for art.example.",
        "Preuve vérifiée : Enregistrement DNS TXT pour art.example.",
    ),
    (
        {"text": "proof_deleted", "method": "well_known", "target": "art.example", "status": "failed"},
        "Proof deleted by the artist: File under /.well-known/ for art.example (failed).",
        "Preuve supprimée par l’artiste : Fichier sous /.well-known/ pour art.example (échec).",
    ),
    (
        {
            "text": "proof_lapsed",
            "method": "dns_txt",
            "target": "a.fr",
            "reason": "It was not renewed before its expiry date.",
        },
        "Proof lapsed: DNS TXT record for a.fr. It was not renewed before its expiry date.",
        "Preuve devenue caduque : Enregistrement DNS TXT pour a.fr. Elle n’a pas été renouvelée avant "
        "sa date d’expiration.",
    ),
    (
        {"text": "proof_document_uploaded", "description": "Passport"},
        "Document uploaded for review: Passport",
        "Document envoyé pour examen : Passport",
    ),
    (
        {"text": "proof_document_reviewed", "accepted": False, "description": "Passport", "note": "Blurry."},
        "Document not accepted: Passport. Blurry.",
        "Document refusé : Passport. Blurry.",
    ),
    (
        {"text": "matches_decided", "confirmed": 1, "excluded": 2, "undecided": 0},
        "1 confirmed, 2 excluded, 0 undecided",
        "1 confirmée, 2 exclues, 0 indécise",
    ),
    (
        {"text": "assignment", "old": "ann", "new": "bob"},
        "Reassigned from ann to bob.",
        "Réattribuée de ann à bob.",
    ),
    (
        {"text": "assignment", "old": "ann", "new": ""},
        "Unassigned (was ann).",
        "Plus attribuée (l’était à ann).",
    ),
    ({"text": "account_deleted"}, "The artist deleted their account.", "L’artiste a supprimé son compte."),
    (
        {"text": "works_removed", "count": 12, "names": ["a.png", "b.png"]},
        "12 works taken back to the portfolio: a.png, b.png…",
        "12 œuvres remises dans le portfolio : a.png, b.png…",
    ),
    (
        {"text": "works_moved", "count": 1, "reference": "RR-2026-000009"},
        "1 work of this closed request moved to RR-2026-000009.",
        "1 œuvre de cette demande close déplacée vers RR-2026-000009.",
    ),
    (
        {"text": "needs_info", "canned": "originals", "note": "The PSD too, please."},
        ORIGINALS + "\n\nThe PSD too, please.",
        "Merci d’ajouter les fichiers originaux de ces œuvres (en pleine résolution, tels qu’exportés "
        "de votre appareil photo ou de votre logiciel de dessin), afin que nous puissions les comparer "
        "aux copies des jeux de données.\n\nThe PSD too, please.",
    ),
]


@pytest.mark.parametrize(("params", "english", "french_text"), KINDS)
def test_each_kind_of_row_renders_in_both_languages(params, english, french_text):
    with translation.override("en"):
        assert timeline.render(params) == english
    with translation.override("fr"):
        said = timeline.render(params)
    assert said == french_text


def test_a_row_written_before_params_still_shows_its_message(artist):
    ticket = services.request_create(artist=artist, basis="copyright")
    old = TicketEvent.objects.create(
        request=ticket, kind=EventKind.CONFLICT, message="2 image(s) also claimed"
    )
    with translation.override("fr"):
        assert timeline.event_text(old) == "2 image(s) also claimed"


def test_a_resolved_conflict_is_stored_as_params_and_the_note_kept_as_typed(
    artist, other_artist, moderator, dataset
):
    ticket = make_request(artist, "chelsea.png")
    clash = make_request(other_artist, "chelsea.png")
    conflict = RequestConflict.objects.get()
    services.conflict_resolve(
        conflict=conflict, moderator=moderator, resolution=ConflictResolution.FIRST, note="Posted in 2019."
    )

    row = ticket.events.filter(kind=EventKind.CONFLICT).last()
    lost = clash.events.filter(kind=EventKind.CONFLICT).last()
    assert row.params["text"] == "conflict_resolved" and row.params["note"] == "Posted in 2019."
    assert row.message == (  # English, for the rows' plain readers
        f"Conflict resolved: this artist owns the works also claimed in {clash.reference}. Posted in 2019."
    )
    with translation.override("fr"):
        assert timeline.event_text(lost) == (
            f"Conflit tranché : les œuvres appartiennent à l’artiste de {ticket.reference}. Posted in 2019."
        )


def test_proof_rows_on_open_requests_are_params(artist, moderator, dataset):
    ticket = make_request(artist, "chelsea.png")
    upload = SimpleUploadedFile("id.pdf", b"%PDF-1.4 a passport", content_type="application/pdf")
    proof = services.proof_document_upload(artist=artist, upload=upload, description="My passport")
    services.proof_document_review(proof=proof, moderator=moderator, accept=False, note="Too blurry.")
    failed = IdentityProof.objects.create(
        artist=artist, method=ProofMethod.DNS_TXT, target="art.example", status=ProofStatus.FAILED
    )
    services.proof_delete(proof=failed, actor=artist.user)

    rows = list(ticket.events.filter(kind=EventKind.VERIFICATION))
    assert [r.params["text"] for r in rows] == [
        "proof_document_uploaded",
        "proof_document_reviewed",
        "proof_deleted",
    ]
    assert [r.message for r in rows] == [
        "Document uploaded for review: My passport",
        "Document not accepted: My passport. Too blurry.",
        "Proof deleted by the artist: DNS TXT record for art.example (failed).",
    ]
    with translation.override("fr"):
        assert [timeline.event_text(r) for r in rows] == [
            "Document envoyé pour examen : My passport",
            "Document refusé : My passport. Too blurry.",
            "Preuve supprimée par l’artiste : Enregistrement DNS TXT pour art.example (échec).",
        ]


def test_an_approval_with_no_copy_names_the_data_sets_its_removals_went_to(artist, moderator, maintainer):
    registry_services.dataset_create(maintainer=maintainer.maintainer, slug="empty", name="Empty Set")
    ticket = make_request(artist, "chelsea.png", submit=False)  # no copy anywhere
    services.request_submit(ticket=ticket, actor=artist.user, signed_name=artist.display_name)

    services.request_approve(ticket=ticket, moderator=moderator)

    row = ticket.events.get(kind=EventKind.REMOVALS)
    assert row.message == "1 removal sent to the maintainers of Empty Set (LAION-ish)."
    with translation.override("fr"):
        assert "Empty Set (LAION-ish)" in timeline.event_text(row)


def test_the_deleted_account_row_is_params_and_the_file_names_go(artist, moderator, dataset):
    ticket = make_request(artist, "chelsea.png")
    services.request_approve(ticket=ticket, moderator=moderator)  # removals: the request is kept

    services.account_delete(user=artist.user)

    assert not TicketEvent.objects.filter(request=ticket, params__names__isnull=False).exists()
    row = TicketEvent.objects.get(request=ticket, kind=EventKind.INTERNAL_NOTE)
    assert row.message == "The artist deleted their account."
    with translation.override("fr"):
        assert timeline.event_text(row) == "L’artiste a supprimé son compte."


# --- needs information: canned text by key, the moderator's words as typed ---------------


def test_a_canned_question_reaches_a_french_artist_in_french(
    artist, moderator, dataset, mailoutbox, django_capture_on_commit_callbacks
):
    french_artist(artist)
    ticket = make_request(artist, "chelsea.png")
    mail.outbox.clear()
    # The moderator works in English: the question still reaches the artist in French.
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        services.request_ask_info(
            ticket=ticket, moderator=moderator, canned="originals", message="The PSD too, please."
        )

    row = ticket.events.filter(kind=EventKind.STATUS).last()
    assert row.params == {"text": "needs_info", "canned": "originals", "note": "The PSD too, please."}
    assert row.message == ORIGINALS + "\n\nThe PSD too, please."
    [email] = mailoutbox
    assert email.subject == f"[{ticket.reference}] Nous avons besoin de plus d’informations"
    assert "Merci d’ajouter les fichiers originaux de ces œuvres" in email.body
    assert "The PSD too, please." in email.body and "Please add the original files" not in email.body
    page = french(artist.user).get(detail(ticket)).content.decode()
    assert "Merci d’ajouter les fichiers originaux de ces œuvres" in html.unescape(page)


# --- a proof's finding, when beat re-checks it, is written in the artist's language --------


def test_a_lapse_found_by_beat_is_emailed_in_the_artists_language(
    artist, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.PROOF_FETCH_SCHEME = "http"
    settings.PROOF_CHECK_MIN_SECONDS = 0
    settings.PROOF_RECHECK_FAILURES_TO_LAPSE = 1
    french_artist(artist)
    with web_server() as site:
        proof = services.proof_start(artist=artist, method=ProofMethod.WELL_KNOWN, target=site.domain)
        site.page("/.well-known/removal-desk.txt", proof.token)
        services.proof_check(proof=proof, actor=artist.user)
        ticket = services.request_create(artist=artist, basis="copyright")
        RemovalRequest.objects.filter(pk=ticket.pk).update(status=Status.IN_REVIEW)
        site.pages.clear()
        stale = timezone.now() - timedelta(hours=settings.PROOF_RECHECK_HOURS + 1)
        IdentityProof.objects.filter(pk=proof.pk).update(checked_at=stale)
        with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
            assert proofs_recheck() == 1

    [email] = mailoutbox
    assert email.subject == "L’une de vos preuves d’identité n’est plus valable"
    assert "a répondu avec le code HTTP 404, et non 200." in email.body
    assert "answered with HTTP" not in email.body
    row = ticket.events.get(kind=EventKind.VERIFICATION)
    assert row.params["text"] == "proof_lapsed" and row.message.startswith("Proof lapsed: File under")


# --- the identity pages' dates --------------------------------------------------------------


def test_the_identity_pages_write_french_months_in_lower_case(artist):
    proof = IdentityProof.objects.create(
        artist=artist,
        method=ProofMethod.DNS_TXT,
        target="art.example",
        status=ProofStatus.FAILED,
        last_error="no TXT",
        checked_at=DECEMBER_FIRST,
        expires_at=DECEMBER_FIRST + timedelta(days=2),
    )
    client = french(artist.user)
    for url in (reverse("identity"), reverse("identity_proof", args=[proof.pk])):
        content = client.get(url).content.decode()
        assert "1 décembre 2026" in content and "3 décembre 2026" in content, url
        assert not re.search(r"\bDéc\b|\bdéc\.", content), url


# --- the request page when no copy was found ------------------------------------------------


def test_the_request_page_with_no_copy_says_it_can_still_be_submitted(artist):
    ticket = make_request(artist, "chelsea.png", submit=False)  # no data set holds a copy
    english = html.unescape(logged_in(artist.user).get(detail(ticket)).content.decode())
    assert (
        "We found no copy of these works in the registered data sets yet. You can still submit: once "
        "approved, each work's fingerprint is sent to every data set's maintainers, and copies "
        "that appear later are removed too."
    ) in english
    assert "There is nothing to remove yet" not in english
    checklist = re.search(r'<ul class="checklist">(.*?)</ul>', english, flags=re.S).group(1)
    assert 'class="todo"' not in checklist
    assert "No copy found to confirm" in checklist and "0 copies confirmed" not in checklist

    content = html.unescape(french(artist.user).get(detail(ticket)).content.decode())
    assert (
        "Nous n’avons encore trouvé aucune copie de ces œuvres dans les jeux de données enregistrés. "
        "Vous pouvez quand même envoyer la demande"
    ) in content
    assert "Aucune copie trouvée à confirmer : l’empreinte de chaque œuvre est envoyée" in content


def test_the_timeline_is_stored_as_data_and_read_in_each_readers_language(nora, alpha, moderator):
    ticket = services.request_create(artist=nora, basis="copyright")
    services.works_add(
        ticket=ticket,
        actor=nora.user,
        # Two encodings of the cat: the same bytes twice would be one work (duplicates by content).
        files=[
            SimpleUploadedFile(n, photo_bytes("chelsea.png", f))
            for n, f in (("a.png", "PNG"), ("b.png", "JPEG"))
        ],
    )
    works = TicketEvent.objects.get(request=ticket, kind=EventKind.WORKS)
    assert works.params == {"text": "works_added", "count": 2, "names": ["a.png", "b.png"]}
    assert works.message == "2 works added: a.png, b.png"  # English, for the rows' plain readers

    for work in ticket.works.all():
        services.work_hash_and_match(work_id=work.pk)
    confirm_all(ticket, nora)
    services.request_submit(ticket=ticket, actor=nora.user, signed_name="Nora Newbie")
    services.request_approve(ticket=ticket, moderator=moderator)

    french = french_client(nora).get(detail(ticket)).content.decode()
    assert "2 œuvres ajoutées : a.png, b.png" in french
    # Both works are the same photograph, so they share Alpha Set's one item: one removal.
    assert "1 retrait envoyé aux responsables de Alpha Set (LAION-ish)." in french
    assert "work(s)" not in french and "removal(s)" not in french
    english = logged_in(nora).get(detail(ticket)).content.decode()
    assert "2 works added: a.png, b.png" in english
    assert "1 removal sent to the maintainers of Alpha Set (LAION-ish)." in english

    # The desk renders the same rows through the same function, in the moderator's language.
    removals = TicketEvent.objects.get(request=ticket, kind=EventKind.REMOVALS)
    with translation.override("fr"):
        assert timeline.event_text(removals) == "1 retrait envoyé aux responsables de Alpha Set (LAION-ish)."
    with translation.override("en"):
        assert timeline.event_text(removals) == "1 removal sent to the maintainers of Alpha Set (LAION-ish)."


def test_removals_are_plural_from_two_in_both_languages(db):
    params = {"text": "removals_sent", "count": 5, "datasets": ["Alpha Set", "Beta Set"]}
    with translation.override("fr"):
        assert timeline.render(params) == "5 retraits envoyés aux responsables de Alpha Set, Beta Set."
    assert timeline.render_english(params) == "5 removals sent to the maintainers of Alpha Set, Beta Set."


def test_rows_written_before_params_still_show_their_message(nora):
    ticket = services.request_create(artist=nora, basis="copyright")
    TicketEvent.objects.create(
        request=ticket, kind=EventKind.WORKS, actor=nora.user, message="3 work(s) added: x.png"
    )
    TicketEvent.objects.create(
        request=ticket,
        kind=EventKind.REMOVALS,
        actor=None,
        message=timeline.REMOVAL_CONFIRMED_MESSAGE,
    )
    french = french_client(nora).get(detail(ticket)).content.decode()
    assert "3 work(s) added: x.png" in french
    assert "Chaque responsable de jeu de données a confirmé le retrait." in french


def test_french_months_are_lower_case_in_the_locales_own_format(nora):
    ticket = services.request_create(artist=nora, basis="copyright")
    RemovalRequest.objects.filter(pk=ticket.pk).update(created_at=datetime(2026, 12, 1, 9, 5, tzinfo=UTC))
    TicketEvent.objects.filter(request=ticket).update(created_at=datetime(2026, 12, 1, 9, 5, tzinfo=UTC))

    french = french_client(nora).get(detail(ticket)).content.decode()
    assert "1 décembre 2026 09:05 UTC" in french
    assert "Déc" not in french
    listing = french_client(nora).get(reverse("request_list")).content.decode()
    assert "1 décembre 2026" in listing and "Déc" not in listing
    english = logged_in(nora).get(detail(ticket)).content.decode()
    assert "Dec. 1, 2026, 9:05 a.m. UTC" in english
