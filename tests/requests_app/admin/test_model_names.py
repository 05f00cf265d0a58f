"""The names of the desk's records: the admin's index and the records' columns name them in words a
moderator reads ("timeline events", not "ticket events"), in French for a moderator who chose French."""

# The French catalogue writes apostrophes as U+2019, so the expected texts here do too.
# ruff: noqa: RUF001

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse
from django.utils import translation

from requests_app.models import (
    ArtistProfile,
    PartnerConflict,
    PortfolioUpload,
    RequestConflict,
    RequestScope,
    SiteSignals,
    TicketEvent,
    Work,
)
from tests.helpers import french_client, logged_in


def _page(client, url: str) -> str:  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200
    return unescape(response.content.decode())


def test_the_index_names_the_records_in_french(moderator, submitted):
    index = _page(french_client(moderator), reverse("admin:index"))
    for name in (
        "Artistes",
        "Œuvres",
        "Événements de l’historique",
        "Correspondances",
        "Preuves d’identité",
        "Demandes de retrait",
    ):
        assert f">{name}</a>" in index, name
    for english in ("Artist profiles", "Ticket events", ">Works</a>"):
        assert english not in index, english


def test_the_index_names_the_records_in_plain_english(moderator, submitted):
    index = _page(logged_in(moderator), reverse("admin:index"))
    for name in ("Artists", "Works", "Timeline events", "Matches"):
        assert f">{name}</a>" in index, name
    assert "Artist profiles" not in index and "Ticket events" not in index


def _columns(html: str) -> list[str]:
    """The change list's column headers, as read."""
    headers = re.findall(r'<th scope="col"[^>]*>(.*?)</th>', html, re.S)
    return [re.sub(r"<[^>]+>|\s+", " ", header).strip() for header in headers]


@pytest.mark.parametrize(
    ("changelist", "columns", "filters"),
    [
        ("artistprofile", ["Nom", "E-mail", "Niveau de vérification", "Demandes", "Inscrit le"], []),
        (
            "work",
            [
                "Nom du fichier",
                "Artiste",
                "Demande",
                "Calcul des empreintes",
                "Format",
                "Taille",
                "Ajoutée le",
            ],
            ["Par calcul des empreintes", "Par format"],
        ),
        (
            "match",
            ["Œuvre", "Demande", "Jeu de données", "URL de l’élément", "Trouvée par", "Distance", "État"],
            ["Par état"],
        ),
        (
            "ticketevent",
            [
                "Date",
                "Demande",
                "Type",
                "Visible par l’artiste",
                "Par",
                "Ancienne valeur",
                "Nouvelle valeur",
                "Message",
            ],
            ["Par type"],
        ),
        (
            "identityproof",
            [
                "Artiste",
                "Méthode",
                "Pour",
                "Statut",
                "Dernière vérification",
                "Vérifiée le",
                "Expire le",
                "Document",
            ],
            ["Par méthode", "Par statut"],
        ),
    ],
)
def test_the_records_columns_and_filters_are_in_french(
    moderator, submitted, document, changelist, columns, filters
):
    html = _page(french_client(moderator), reverse(f"admin:requests_app_{changelist}_changelist"))
    assert _columns(html) == columns
    for title in filters:
        assert title in html, title


def test_the_records_not_on_the_desk_have_names_too():
    """Uploads, conflicts, scope lines and site signals are named where the admin lists related rows
    (what deleting an account takes with it) and in the groups' permissions."""
    names = {
        ArtistProfile: ("artiste", "artistes"),
        Work: ("œuvre", "œuvres"),
        TicketEvent: ("événement de l’historique", "événements de l’historique"),
        PortfolioUpload: ("envoi au portfolio", "envois au portfolio"),
        RequestConflict: ("conflit entre artistes", "conflits entre artistes"),
        PartnerConflict: ("conflit avec le dépôt d’un partenaire", "conflits avec des dépôts de partenaires"),
        RequestScope: ("ligne de périmètre de domaine", "lignes de périmètre de domaine"),
        SiteSignals: ("signaux d’un site", "signaux des sites"),
    }
    with translation.override("fr"):
        for model, (singular, plural) in names.items():
            assert (str(model._meta.verbose_name), str(model._meta.verbose_name_plural)) == (singular, plural)
    with translation.override("en"):
        assert str(SiteSignals._meta.verbose_name_plural) == "site signals"
        assert str(RequestScope._meta.verbose_name) == "domain scope line"
