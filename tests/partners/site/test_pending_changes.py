"""A change of choice the platform sent and that is not decided yet, as the claimed creator
reads it: on its row of the claim's page (what was asked, when, and that it takes effect once
decided) and on the row's choice page, which says that choosing now sets it aside; in English
and in French."""

from __future__ import annotations

from html import unescape

import pytest

from partners import services
from partners.models import FilingRow, PartnerKey, RowState
from tests.helpers import PARTNER_HOST, french_client, logged_in, messages_of, partner_row

ADA = {"id": "Ada", "profile_url": f"https://{PARTNER_HOST}/u/ada", "email": "ada@creators.example"}
CC_BY = {"choice": "licence", "licence": "cc-by", "attribution": "Photo: Ada"}


def _file(partner, rows):
    key = PartnerKey.objects.get(partner=partner.partner)
    filing = services.filing_create(key=key, rows=rows, attestation=True).filing
    return services.filing_run(services.filing_claim(filing.pk))


@pytest.fixture
def changing(partner, partner_dataset, auto_policy, artist):
    """Ada's works 0 and 1 removed and approved, then a change of work 0 to a licence that waits
    for the desk; Ada's account claimed them."""
    _file(partner, [partner_row(0, creator=ADA), partner_row(1, creator=ADA)])
    services.filing_policy_update(policy=partner.partner.policy, auto_approve_verified_hashed=False)
    change = _file(partner, [partner_row(0, creator=ADA, **CC_BY)]).rows.get()
    assert change.state == RowState.WAITING
    creator = services.creator_find(partner=partner.partner, creator_id="Ada")
    _, token = services.claim_email_token(user=artist.user, creator=creator)
    claim = services.claim_by_email(user=artist.user, token=token)
    return claim, services.claim_rows(claim).get(index=0), change


def test_the_claim_s_page_shows_the_change_on_its_row_only(changing, artist):
    claim = changing[0]
    page = logged_in(artist).get(f"/claims/{claim.pk}/").content.decode()
    assert page.count("Change asked by the platform") == 1
    assert "ArtPlace asked for “Allow under a licence” (CC BY 4.0)." in page
    assert "It takes effect once their request is decided" in page
    french = french_client(artist).get(f"/claims/{claim.pk}/").content.decode()
    assert "Changement demandé par la plateforme" in french
    assert "ArtPlace a demandé « Autoriser sous une licence » (CC BY 4.0)." in french


def test_the_choice_page_says_choosing_now_sets_the_change_aside(changing, artist):
    claim, row, change = changing
    url = f"/claims/{claim.pk}/rows/{row.pk}/choice/"
    web = logged_in(artist)
    page = web.get(url).content.decode()
    assert "A change from the platform is waiting" in page
    assert "even the one you have now, yours stands and the platform's change will not be applied" in page
    french = french_client(artist).get(url).content.decode()
    assert "Un changement de la plateforme attend" in french and "le vôtre tient" in french

    kept = web.post(url, {"choice": "remove"}, follow=True)
    assert messages_of(kept) == [
        "Your choice stands: the platform's change, not decided yet, will not be applied."
    ]
    after = unescape(web.get(url).content.decode())
    assert "A change from the platform is waiting" not in after
    assert "Kept “Remove from AI training”: the platform's change, not decided yet, was set aside." in after
    assert "Change asked by the platform" not in web.get(f"/claims/{claim.pk}/").content.decode()
    # The other row had no change: its page says nothing of one.
    other = services.claim_rows(claim).get(index=1)
    assert (
        "A change from the platform"
        not in web.get(f"/claims/{claim.pk}/rows/{other.pk}/choice/").content.decode()
    )
    assert FilingRow.objects.get(pk=change.pk).state == RowState.WAITING


def test_choosing_over_the_change_is_told_in_french(changing, artist):
    claim, row, _ = changing
    url = f"/claims/{claim.pk}/rows/{row.pk}/choice/"
    french = french_client(artist)
    done = french.post(url, {"choice": "search_only"}, follow=True)
    assert messages_of(done) == [
        "Votre choix est enregistré et les responsables des jeux de données sont prévenus ; le "
        "changement de la plateforme, pas encore décidé, ne sera pas appliqué."
    ]
    history = unescape(french.get(url).content.decode())
    assert (
        "De « Retirer de l\u2019entraînement des IA » à « Autoriser pour la recherche, pas pour "
        "l\u2019entraînement » : le changement de la plateforme, pas encore décidé, a été écarté."
    ) in history
