"""The desk in French: a moderator who chose French reads the queue's columns, filters and actions,
and the request page's cards and buttons, in French; the same pages stay English by default."""

# The French catalogue writes apostrophes as U+2019, so the expected texts here do too.
# ruff: noqa: RUF001

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

from django.urls import reverse
from django.utils import translation

from registry import services as registry_services
from requests_app import services
from requests_app.admin.disputes import time_left
from requests_app.models import Work
from tests.helpers import (
    CHANGELIST,
    big_request,
    change_url,
    decide_url,
    french_client,
    logged_in,
    make_request,
    messages_of,
    note_url,
    verify_domain,
)


def _page(client, url: str) -> str:  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200
    return unescape(response.content.decode())


def test_it_shows_the_queue_in_french(moderator, submitted):
    html = _page(french_client(moderator), CHANGELIST)
    # Column headers.
    for header in ("Référence", "Artiste", "Statut", "Priorité, délai", "Vérification", "Œuvres", "Conflit"):
        assert header in html, header
    assert "1 copie confirmée" in html
    # Filter titles and their choices.
    for title in (
        "Par ancienneté depuis l’envoi",
        "Par délai",
        "Par attribuée à",
        "Par preuves",
        "Par conflits",
    ):
        assert title in html, title
    for choice in ("moins d’un jour", "bientôt échu", "non attribuées", "conflit non résolu"):
        assert choice in html, choice
    # Actions, the model's name and the search label.
    for action in (
        "Commencer l’examen des demandes sélectionnées",
        "Approuver les demandes sélectionnées…",
        "Refuser les demandes sélectionnées…",
    ):
        assert action in html, action
    assert "demandes de retrait" in html.lower()
    assert "Trouver une demande" in html
    assert "Start review of the selected requests" not in html
    assert "age since submission" not in html


def test_it_shows_a_request_page_in_french(moderator, submitted):
    html = _page(french_client(moderator), change_url(submitted))
    for text in (
        "Commencer l’examen (me l’attribuer)",
        "Attribuer à",
        "Preuves de propriété",
        "Conversation avec l’artiste (publique)",
        "Interne (modérateurs seulement)",
        "Note interne (modérateurs seulement)",
        "Ce que l’artiste a dit",
    ):
        assert text in html, text
    assert ">Prendre</button>" in html
    assert 'value="Attribuer"' in html
    assert "Ownership evidence" not in html and "Start review (assign to me)" not in html


def test_the_desk_stays_english_by_default(moderator, submitted):
    queue = _page(logged_in(moderator), CHANGELIST)
    assert "age since submission" in queue and "Start review of the selected requests" in queue
    assert "1 copy confirmed" in queue
    desk = _page(logged_in(moderator), change_url(submitted))
    assert "Ownership evidence" in desk and "Start review (assign to me)" in desk


def test_it_shows_the_dispute_list_and_page_in_french(moderator, published, maintainer):
    dispute = registry_services.dispute_file(
        removal=published,
        maintainer=maintainer.maintainer,
        reason="not_a_copy",
        statement="The item is a photograph we took ourselves.",
        links=[],
    )
    client = french_client(moderator)
    queue = _page(client, reverse("admin:registry_dispute_changelist"))
    assert "Par état" in queue and "En attente d’une décision" in queue and "Retrait" in queue
    page = _page(client, reverse("admin:registry_dispute_change", args=[dispute.pk]))
    for text in (
        "Le retrait contesté",
        "Qui l’a demandé",
        "L’échange",
        "Délai de réponse :",
        "Ajouter la note",
    ):
        assert text in page, text
    assert "The disputed removal" not in page


def test_the_bulk_rejection_asks_for_its_reason_in_french(moderator, submitted):
    response = french_client(moderator).post(
        CHANGELIST, {"action": "reject_selected", "_selected_action": [submitted.pk]}
    )
    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert "Motif, envoyé à chaque artiste (obligatoire) :" in html
    assert "Non, revenir à la liste" in html and "No, take me back" not in html


REJECTION_REASON_FR = "Indiquez à l’artiste la raison du refus."


def test_the_bulk_approval_page_and_its_messages_are_in_french(moderator, artist, dataset):
    verify_domain(artist)  # the copies sit on img.example: strong enough for bulk approval
    first = make_request(artist, "chelsea.png")
    second = make_request(artist, "astronaut.png")
    draft = make_request(artist, "coffee.png", submit=False)
    selected = [first.pk, second.pk, draft.pk]
    client = french_client(moderator)
    page = client.post(CHANGELIST, {"action": "approve_selected", "_selected_action": selected})
    html = unescape(page.content.decode())
    assert "<title>Approuver 2 demandes ? |" in html
    assert (
        f"Approuver 2 demandes. 1 sera laissée de côté, car {draft.reference} a le statut « brouillon » "
        "et ne peut pas être approuvée."
    ) in html
    assert "1 des 3 demandes choisies sera laissée de côté :" in html
    assert 'value="Approuver 2 demandes"' in html
    assert "Approuver ces demandes ? Chacune est décidée à part" in html
    assert "will be skipped" not in html and "Approve 2" not in html

    done = client.post(
        CHANGELIST,
        {"action": "approve_selected", "_selected_action": selected, "post": "yes", "reason": "ok"},
    )
    said = messages_of(done)
    assert f"2 demandes approuvées : {first.reference}, {second.reference}." in said, said


def test_a_request_pages_evidence_age_and_messages_are_in_french(moderator, submitted):
    client = french_client(moderator)
    html = _page(client, change_url(submitted))
    assert "0 des 1 copies confirmées est sur un domaine ou un profil que l’artiste a vérifié." in html
    assert "À examiner :</strong> aucun domaine ni profil vérifié." in html
    assert "Un domaine vérifié montre que l’artiste y a publié l’image" in html
    assert re.search(r"\b\d+ min\b", html), "the request's age"
    assert "confirmed copies are on" not in html and "Needs a look" not in html
    assert re.search(r"\b\d+m\b", html) is None  # the age's English "7m"

    response = client.post(note_url(submitted), {"message": "À vérifier demain.", "visibility": "internal"})
    assert messages_of(response) == ["Note interne ajoutée (modérateurs seulement)."]
    response = client.post(decide_url(submitted), {"decision": "reject", "reason": ""})
    assert messages_of(response)[-1] == REJECTION_REASON_FR  # the messages not shown yet pile up
    response = client.post(decide_url(submitted), {"decision": "start_review"})
    assert messages_of(response)[-1] == f"Examen de {submitted.reference} commencé."


def test_a_big_requests_summary_sample_and_held_works_are_in_french(
    artist, other_artist, moderator, maintainer, settings
):
    settings.DESK_BIG_REQUEST_WORKS = 50
    org = maintainer.maintainer
    sets = [registry_services.dataset_create(maintainer=org, slug=s, name=s.title()) for s in ("b-a", "b-b")]
    ticket = big_request(artist, sets, works=60, per_work=1)
    rival = big_request(other_artist, sets[:1], works=1, per_work=1, submit=False)
    Work.objects.filter(request=rival).update(sha256=ticket.works.order_by("pk").first().sha256)
    services.request_submit(ticket=rival, actor=other_artist.user, signed_name=other_artist.display_name)
    client = french_client(moderator)
    html = _page(client, change_url(ticket))
    for text in (
        "Grande demande : résumé",
        "Œuvres (60) et qualité des empreintes",
        "Copies trouvées par jeu de données",
        "Un échantillon au hasard des 60 œuvres à vérifier",
        "Trop d’œuvres pour les regarder une à une",
        "Graine (vide : une nouvelle au hasard",
        "Retenue : 1 œuvre dans un conflit non résolu.",
        "Les conflits et les œuvres qu’ils touchent",
        "non résolu, retenues",
    ):
        assert text in html, text
    assert "Big request" not in html and "Held: 1 work" not in html

    response = client.post(
        reverse("admin:requests_app_removalrequest_sample", args=[ticket.pk]), {"size": "20", "seed": "7"}
    )
    assert messages_of(response) == ["Échantillon de 20 œuvres tiré (graine 7) ; enregistré."]
    html = _page(client, change_url(ticket))
    assert "Échantillon de 20 œuvres sur 60</strong>, graine 7, tiré par" in html
    client.post(decide_url(ticket), {"decision": "approve", "reason": ""})
    html = _page(client, change_url(ticket))
    assert "Approuvée avec 1 œuvre retenue par un conflit non résolu : elle est envoyée" in html


def test_the_clocks_read_in_french(moderator, submitted, published, maintainer):
    dispute = registry_services.dispute_file(
        removal=published,
        maintainer=maintainer.maintainer,
        reason="not_a_copy",
        statement="The item is a photograph we took ourselves.",
        links=[],
    )
    due = dispute.response_due_at
    with translation.override("fr"):
        assert time_left(dispute, now=due - timedelta(days=3, hours=4, minutes=5)) == "reste 3 j 4 h"
        assert time_left(dispute, now=due + timedelta(hours=5, minutes=1)) == "échu depuis 5 h"
    assert time_left(dispute, now=due - timedelta(days=3, hours=4, minutes=5)) == "3d 4h left"
    queue = _page(french_client(moderator), reverse("admin:registry_dispute_changelist"))
    assert re.search(r"reste \d+ j \d+ h", queue), "the dispute queue's clock"
    assert not re.search(r"\d+d \d+h left", queue)


def test_the_records_and_the_index_are_in_french(moderator, submitted):
    client = french_client(moderator)
    index = _page(client, reverse("admin:index"))
    for text in ("Le bureau des modérateurs", "File de modération", "En retard", "Non attribuées (ouvertes)"):
        assert text in index, text
    assert "Moderation queue" not in index and "Unassigned (open)" not in index
    events = _page(client, reverse("admin:requests_app_ticketevent_changelist"))
    assert "Visible par l’artiste" in events and "Artist sees it" not in events
    works = _page(client, reverse("admin:requests_app_work_changelist"))
    assert "Taille" in works or "taille" in works
    proofs = _page(client, reverse("admin:requests_app_identityproof_changelist"))
    assert "Document" in proofs and "Document</a>" not in proofs.replace("document</a>", "")
