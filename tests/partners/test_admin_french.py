"""The operator's words on the partners' admin and desk in French: an action's confirmation page
(its question and button) and the message after it, with each count's own plural ("1 partenaire
suspendu", "2 partenaires rétablis"); the same actions stay English by default."""

# The French catalogue writes apostrophes as U+2019, so the expected texts here do too.
# ruff: noqa: RUF001

from __future__ import annotations

from html import unescape

from partners import services
from partners.models import PartnerKey, PartnerStatus, RowState
from tests.helpers import french_client, logged_in, messages_of, partner_row

PARTNERS = "/admin/partners/partner/"
DESK = "/admin/partners/deskrow/"


def _filing(partner, rows):
    key = PartnerKey.objects.get(partner=partner.partner)
    filing = services.filing_create(key=key, rows=rows, attestation=True).filing
    return services.filing_run(services.filing_claim(filing.pk))


def test_suspending_and_reinstating_partners_reads_in_french(superuser, partner, other_partner):
    french = french_client(superuser)
    one = {"action": "suspend", "_selected_action": [partner.partner.pk]}
    asked = unescape(french.post(PARTNERS, one).content.decode())
    assert "Suspendre ces partenaires ? Pourquoi ?" in asked and 'value="Suspendre"' in asked
    done = french.post(PARTNERS, {**one, "apply": "1", "reason": "Contrat suspendu"}, follow=True)
    assert messages_of(done) == ["1 partenaire suspendu : ses clés ne déposent plus rien."]
    services.partner_suspend(partner=other_partner.partner, reason="Audit")
    both = {"action": "reinstate", "_selected_action": [partner.partner.pk, other_partner.partner.pk]}
    done = french.post(PARTNERS, {**both, "apply": "1", "reason": "Contrat repris"}, follow=True)
    assert messages_of(done) == ["2 partenaires rétablis."]
    partner.partner.refresh_from_db()
    assert partner.partner.status == PartnerStatus.ACTIVE
    # Without the French cookie, the same action speaks English, its count in the plural.
    two = {"action": "suspend", "_selected_action": [partner.partner.pk, other_partner.partner.pk]}
    done = logged_in(superuser).post(PARTNERS, {**two, "apply": "1", "reason": "Audit"}, follow=True)
    assert messages_of(done) == ["Suspended 2 partners: their keys file nothing now."]


def test_an_empty_reason_is_asked_again_in_french(superuser, partner):
    french = french_client(superuser)
    selected = {"action": "suspend", "_selected_action": [partner.partner.pk], "apply": "1", "reason": " "}
    asked = french.post(PARTNERS, selected)
    assert asked.status_code == 200
    assert messages_of(asked) == [
        "Donnez une raison (texte simple) : elle est gardée dans le journal d’audit du partenaire."
    ]


def test_the_desk_s_approval_and_a_filing_s_revocation_read_in_french(moderator, partner, partner_dataset):
    filing = _filing(partner, [partner_row(i) for i in range(3)])
    rows = list(filing.rows.order_by("index"))
    assert {row.state for row in rows} == {RowState.WAITING}
    french = french_client(moderator)
    done = french.post(DESK, {"action": "approve", "_selected_action": [rows[0].pk, rows[1].pk]}, follow=True)
    assert messages_of(done) == ["2 lignes approuvées. 2 retraits enregistrés."]
    asked = unescape(
        french.post(DESK, {"action": "decline", "_selected_action": [rows[2].pk]}).content.decode()
    )
    assert "Décliner ces lignes ? Pourquoi ?" in asked and 'value="Décliner"' in asked
    done = french.post(
        DESK,
        {"action": "decline", "_selected_action": [rows[2].pk], "apply": "1", "reason": "Pas à eux"},
        follow=True,
    )
    assert messages_of(done) == ["1 ligne déclinée."]

    selected = {
        "action": "revoke_removals",
        "_selected_action": [filing.pk],
        "apply": "1",
        "reason": "Erreur",
    }
    done = french.post("/admin/partners/filing/", selected, follow=True)
    assert messages_of(done) == [
        f"Dépôt {filing.public_id} : 2 retraits révoqués. Mainteneurs prévenus par 1 événement "
        "removal.revoked. Sa politique n’approuve plus rien."
    ]
    again = french.post("/admin/partners/filing/", selected, follow=True)
    assert messages_of(again) == [f"Dépôt {filing.public_id} : ses retraits étaient déjà révoqués."]


def test_the_domain_form_s_help_reads_in_french(superuser):
    page = unescape(french_client(superuser).get("/admin/partners/partnerdomain/add/").content.decode())
    assert "art.example, ou *.art.example avec ses sous-domaines." in page and "Hôte" in page
