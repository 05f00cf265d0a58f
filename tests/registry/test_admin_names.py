"""The registry's records as the desk names them: the admin's index, the removals' and the data sets'
columns and a removal's page in French for a moderator who chose French, in plain English otherwise
(the app's name, its models', the fields' labels and help texts, the choices' labels)."""

# The French catalogue writes apostrophes as U+2019, so the expected texts here do too.
# ruff: noqa: RUF001

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from registry import services
from registry.models import Removal
from tests.helpers import french_client, logged_in


@pytest.fixture
def removals(maintainer: Any) -> list[Removal]:
    """One data set with an artist's removal and a partner's."""
    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug="demo", name="Demo")
    services.removals_record(
        source_ref="RR-2026-000001",
        reason="copyright",
        entries=[services.RemovalEntry(dataset=dataset, url="https://img.example/a.jpg")],
    )
    services.removals_record(
        source_ref="pf_filing",
        reason="privacy",
        entries=[services.RemovalEntry(dataset=dataset, url="https://art.example/b.jpg")],
        source="partner",
        partner="Art Platform",
    )
    return list(Removal.objects.order_by("id"))


def _page(client: Any, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return unescape(response.content.decode())


def _columns(html: str) -> list[str]:
    """The change list's column headers, as read."""
    headers = re.findall(r'<th scope="col"[^>]*>(.*?)</th>', html, re.S)
    return [re.sub(r"<[^>]+>|\s+", " ", header).strip() for header in headers]


FRENCH_MODELS = (
    "Clés d’API",
    "Contestations",
    "Actions des opérateurs",
    "Éléments de jeux de données",
    "Envois de webhook",
    "Événements de webhook",
    "Fragments d’index",
    "Jeux de données",
    "Points d’accès de webhook",
    "Responsables",
    "Retraits",
    "Retraits de domaine",
)


def test_the_index_names_the_registry_in_french(superuser):
    index = _page(french_client(superuser), reverse("admin:index"))
    assert "Registre (jeux de données, retraits, responsables)" in index
    assert "Demandes de retrait" in index
    for name in FRENCH_MODELS:
        assert f">{name}</a>" in index, name
    for english in ("Registry (data sets", "Dataset items", "Index shards", "Maintainers", "Domain opt-outs"):
        assert english not in index, english


def test_the_index_names_the_registry_in_plain_english(superuser):
    index = _page(logged_in(superuser), reverse("admin:index"))
    assert "Registry (data sets, removals, maintainers)" in index and "Removal requests" in index
    for name in ("Data sets", "Data set items", "Removals", "Domain opt-outs", "Index shards", "API keys"):
        assert f">{name}</a>" in index, name
    assert "Dataset items" not in index and ">Datasets</a>" not in index


def test_the_removals_columns_and_cells_are_in_french(superuser, removals):
    html = _page(french_client(superuser), reverse("admin:registry_removal_changelist"))
    assert _columns(html) == [
        "Identifiant",
        "Jeu de données",
        "Réf. source",
        "Déposé par",
        "URL",
        "Motif",
        "État",
        "Avancement",
    ]
    # The cells: who filed, the reason and the state by their labels, the progress in words.
    for cell in ("artiste", "Art Platform", "Droit d’auteur", "En attente", "approuvé le "):
        assert cell in html, cell
    for filter_title in ("Par origine", "Par motif", "Par état"):
        assert filter_title in html, filter_title


def test_the_removals_columns_are_in_plain_english(superuser, removals):
    html = _page(logged_in(superuser), reverse("admin:registry_removal_changelist"))
    assert _columns(html) == [
        "Id",
        "Data set",
        "Source ref",
        "Filed by",
        "URL",
        "Reason",
        "State",
        "Progress",
    ]
    assert "approved " in html and "Copyright" in html


def test_the_data_sets_columns_are_in_french(superuser, removals):
    html = _page(french_client(superuser), reverse("admin:registry_dataset_changelist"))
    assert _columns(html) == [
        "Identifiant court",
        "Nom",
        "Responsable",
        "Éléments",
        "Retraits",
        "Date de création",
    ]


def test_a_removals_page_labels_its_fields_in_french(superuser, removals):
    partner = removals[1]
    html = _page(french_client(superuser), reverse("admin:registry_removal_change", args=[partner.pk]))
    for label in (
        "Identifiant public",
        "Jeu de données",
        "Identifiant externe",
        "Motif",
        "Référence source",
        "Origine",
        "Partenaire",
        "Approuvé le",
        "Reçu le",
        "Indexation pour la recherche",
        "Motif de la révocation",
    ):
        # French puts a (non-breaking) space before the colon.
        assert re.search(rf">{label}\s?:</label>", html), label
    assert "Le nom public du partenaire." in html
    # The choices' labels: the partner's source, its reason and state.
    for value in ("Partenaire", "Vie privée", "En attente"):
        assert value in html, value
    # The stored hashes are told apart from the hexadecimal ones the API writes.
    assert re.search(r">PHash \(tel que stocké, signé\)\s?:</label>", html)
    for english in ("Public id", "Source reference", "The partner's public name."):
        assert english not in html, english


def test_the_disputes_columns_are_in_french(superuser, maintainer, removals):
    # Only a removal its maintainer received may be disputed.
    Removal.objects.filter(pk=removals[0].pk).update(state="delivered", delivered_at=timezone.now())
    services.dispute_file(
        removal=removals[0],
        maintainer=maintainer.maintainer,
        reason="not_a_copy",
        statement="The item is a photograph we took ourselves.",
        links=[],
    )
    html = _page(french_client(superuser), reverse("admin:registry_dispute_changelist"))
    assert _columns(html) == [
        "Identifiant public",
        "État",
        "Motif",
        "Retrait",
        "Déposée depuis",
        "Délai",
        "Déposée le",
    ]
    assert "Responsable" in html  # the filer's label


def test_the_keys_columns_are_in_french(superuser, maintainer):
    html = _page(french_client(superuser), reverse("admin:registry_apikey_changelist"))
    # The first column is the actions' check box.
    assert _columns(html)[1:] == [
        "Préfixe",
        "Nom",
        "Responsable",
        "Date de création",
        "Dernière utilisation",
        "Date de révocation",
        "Actif",
    ]
