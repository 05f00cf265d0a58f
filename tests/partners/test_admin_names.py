"""The partners' records named in the operator's language: the admin index's partners section,
the partner's page (its fields, their help, its domains and keys, its audit trail) and the lists'
columns read in French for an operator who chose French, and in plain English otherwise."""

# The French catalogue writes apostrophes as U+2019, so the expected texts here do too.
# ruff: noqa: RUF001

from __future__ import annotations

import re
from html import unescape

import pytest
from django.urls import reverse

from partners import services
from partners.models import DeskRow, PartnerKey, RowState
from tests.helpers import PARTNER_HOST, french_client, logged_in, partner_row

CREATOR = {"id": "Ada", "profile_url": f"https://{PARTNER_HOST}/u/ada", "email": "ada@creators.example"}


def _page(client, url: str) -> str:  # type: ignore[no-untyped-def]
    response = client.get(url)
    assert response.status_code == 200
    return unescape(response.content.decode())


def _text(html: str) -> str:
    """The page's text, as read: tags dropped, white space made single."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _columns(html: str) -> list[str]:
    """The change list's column headers, as read (the selection box's column has no words)."""
    headers = re.findall(r'<th scope="col"[^>]*>(.*?)</th>', html, re.S)
    return [text for header in headers if (text := re.sub(r"<[^>]+>|\s+", " ", header).strip())]


@pytest.fixture
def audited(partner, partner_dataset, artist):
    """A partner whose trail holds the set-up (no operator), a sample drawn by its policy and a
    creator's claim (by the artist's account)."""
    services.filing_policy_update(
        policy=partner.partner.policy, auto_approve_verified_hashed=True, sample_size=2
    )
    key = PartnerKey.objects.get(partner=partner.partner)
    rows = [partner_row(i, creator=CREATOR) for i in range(3)]
    filing = services.filing_create(key=key, rows=rows, attestation=True).filing
    services.filing_run(services.filing_claim(filing.pk))
    creator = services.creator_find(partner=partner.partner, creator_id="ada")
    _, token = services.claim_email_token(user=artist.user, creator=creator)
    services.claim_by_email(user=artist.user, token=token)
    return partner.partner


FRENCH_MODELS = (
    "Revendications de créateurs",
    "Lignes de dépôt",
    "Dépôts",
    "Politiques de dépôt",
    "Actions de partenaires",
    "Clés d’API partenaire",
    "Domaines de partenaires",
    "Partenaires",
    "Lignes pour le bureau de modération",
)
ENGLISH_MODELS = (
    "Creator claims",
    "Filing rows",
    "Filings",
    "Filing policies",
    "Partner actions",
    "Partner API keys",
    "Partner domains",
    "Partners",
    "Rows for the desk",
)


def test_the_index_names_the_partners_section_in_french(superuser, partner):
    index = _page(french_client(superuser), reverse("admin:index"))
    assert "Partenaires (plateformes qui déposent les demandes de retrait de leurs créateurs)" in index
    for name in FRENCH_MODELS:
        assert f">{name}</a>" in index, name
    for english in ENGLISH_MODELS:
        assert f">{english}</a>" not in index, english
    assert "Partners (platforms" not in index


def test_the_index_names_the_partners_section_in_plain_english(superuser, partner):
    index = _page(logged_in(superuser), reverse("admin:index"))
    assert "Partners (platforms filing opt-outs for their creators)" in index
    for name in ENGLISH_MODELS:
        assert f">{name}</a>" in index, name


def test_the_partner_s_page_reads_in_french(superuser, audited):
    html = _page(french_client(superuser), reverse("admin:partners_partner_change", args=[audited.pk]))
    assert "| Modification de partenaire |" in html and "Modification de partner" not in html
    text = _text(html)
    for label in (
        "Nom :",
        "Identifiant court :",
        "E-mail de contact :",
        "Référence de l’accord :",
        "Date de l’accord :",
        "Texte de l’attestation :",
        "Statut :",
        "Raison du statut :",
        "Contestations :",
        "Journal d’audit :",
    ):
        assert label in text, label
    assert "Ce que le partenaire atteste à chaque dépôt (qu’il a l’instruction de ses créateurs)." in text
    # Its domains' columns, then its keys'.
    inline = [
        _text(header).strip() for header in re.findall(r'<th class="column-[^"]*">(.*?)</th>', html, re.S)
    ]
    assert inline == [
        *("Hôte", "Sous-domaines inclus", "Vérifié le", "Vérifié par"),
        *("Nom", "Préfixe", "Date de création", "Dernière utilisation", "Date de révocation"),
    ]
    assert 'title="Normalisé : minuscules, IDNA, sans port."' in html
    # The audit trail: each line's kind and object in French, the operator or who it was.
    trail = [_text(line).strip() for line in re.findall(r"<div>(\d{4}-\d\d-\d\d [^<]*)</div>", html)]
    kinds = [line.split(" · ")[1] for line in trail]
    assert {
        "partenaire créé partenaire",
        "domaine ajouté domaine",
        "domaine vérifié domaine",
        "clé partenaire créée clé",
        "politique de dépôt modifiée politique",
        "échantillon tiré dépôt",
    } <= {kind.rsplit(" ", 1)[0] for kind in kinds}
    assert any(kind.startswith("le créateur a revendiqué son compte revendication ") for kind in kinds)
    assert trail[-1].endswith("· aucun opérateur (une commande ou la politique)")
    for english in ("Agreement reference", "Contact email", "sample drawn", "no operator", "Status reason"):
        assert english not in text, english


def test_the_partner_s_page_reads_in_plain_english(superuser, audited):
    text = _text(_page(logged_in(superuser), reverse("admin:partners_partner_change", args=[audited.pk])))
    for words in (
        "Change partner",
        "Agreement reference:",
        "Contact email:",
        "Status reason:",
        "Last used at",
        "creator claimed their account claim",
        "sample drawn filing",
        "no operator (a command or the policy)",
    ):
        assert words in text, words


@pytest.mark.parametrize(
    ("changelist", "french", "english"),
    [
        (
            "partner",
            [
                "Nom",
                "Identifiant court",
                "Statut",
                "Référence de l’accord",
                "Date de l’accord",
                "Date de création",
            ],
            ["Name", "Slug", "Status", "Agreement reference", "Agreement date", "Created at"],
        ),
        (
            "partneraction",
            ["Date de création", "Type", "Partenaire", "Type d’objet", "Identifiant de l’objet", "Auteur"],
            ["Created at", "Kind", "Partner", "Object type", "Object ID", "Actor"],
        ),
        (
            "partnerkey",
            [
                "Préfixe",
                "Nom",
                "Partenaire",
                "Date de création",
                "Dernière utilisation",
                "Date de révocation",
                "Actif",
            ],
            ["Prefix", "Name", "Partner", "Created at", "Last used at", "Revoked at", "Active"],
        ),
    ],
)
def test_the_lists_columns_in_french_and_english(superuser, audited, changelist, french, english):
    url = reverse(f"admin:partners_{changelist}_changelist")
    html = _page(french_client(superuser), url)
    assert _columns(html) == french
    assert _columns(_page(logged_in(superuser), url)) == english
    if changelist == "partneraction":
        # The kinds in the list and in its filter, in French.
        assert "échantillon tiré" in html and "le créateur a revendiqué son compte" in html
        assert "sample drawn" not in html
    if changelist == "partnerkey":
        assert ">Révoquer les clés sélectionnées</option>" in html


def test_a_desk_row_s_evidence_reads_in_french(moderator, audited):
    row = DeskRow.objects.filter(partner=audited, state=RowState.SAMPLED).first()
    assert row is not None
    html = _page(french_client(moderator), reverse("admin:partners_deskrow_change", args=[row.pk]))
    text = _text(html)
    assert "L’URL de l’œuvre est sur un domaine vérifié." in text
    assert f"Domaines de ArtPlace : *.{PARTNER_HOST} (vérifié)." in text
    for words in ("URL de l’œuvre :", "Motif :", "Choix : Retirer", "pas d’URL d’image"):
        assert words.lower() in text.lower(), words
    assert "The work URL" not in text and "no image URL" not in text
    listed = _text(_page(french_client(moderator), reverse("admin:partners_deskrow_changelist")))
    assert "Dans l’échantillon, pour le bureau de modération" in listed and " vérifié " in listed
