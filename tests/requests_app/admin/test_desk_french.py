"""The desk in French: a moderator who chose French reads the queue's columns, filters and actions,
and the request page's cards and buttons, in French; the same pages stay English by default."""

# The French catalogue writes apostrophes as U+2019, so the expected texts here do too.
# ruff: noqa: RUF001

from __future__ import annotations

from html import unescape

from django.urls import reverse

from registry import services as registry_services
from tests.helpers import CHANGELIST, change_url, french_client, logged_in


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
