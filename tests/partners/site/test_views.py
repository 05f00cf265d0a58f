"""The creators' claim pages: both routes end to end as a person uses them (the link read from
the mail sent, the token put on a profile page served on loopback), a claimed creator's page and
lifting from it, another artist's claim a 404, and hostile input answered, never a 500."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from partners import services
from partners.models import ClaimStatus, CreatorClaim, FilingRow, PartnerKey
from registry.models import Removal
from tests.helpers import PARTNER_HOST, logged_in, messages_of, partner_row, web_server

ADA = {"id": "Ada", "profile_url": f"https://{PARTNER_HOST}/u/ada", "email": "ada@creators.example"}


@pytest.fixture
def filed(partner, partner_dataset, auto_policy):
    key = PartnerKey.objects.get(partner=partner.partner)
    rows = [partner_row(0, creator=ADA), partner_row(1, creator=ADA), partner_row(2)]
    filing = services.filing_create(key=key, rows=rows, attestation=True).filing
    return services.filing_run(services.filing_claim(filing.pk))


def _find(client, creator_id="ada"):
    return client.post("/claims/", {"partner": "artplace", "creator_id": creator_id})


def test_the_claims_page_is_for_artists_and_linked_from_the_portfolio(artist, client):
    assert client.get("/claims/").status_code == 302  # to the login page
    web = logged_in(artist)
    page = web.get("/claims/")
    assert page.status_code == 200 and "Claim a creator" in page.content.decode()
    assert 'href="/claims/"' in web.get("/portfolio/").content.decode()
    assert 'href="/claims/"' in web.get("/").content.decode()


def test_a_creator_claims_by_the_link_mailed_to_the_address_the_platform_gave(
    filed, artist, django_capture_on_commit_callbacks
):
    web = logged_in(artist)
    found = _find(web)
    body = found.content.decode()
    assert found.status_code == 200 and "a••@creators.example" in body and ADA["email"] not in body
    with django_capture_on_commit_callbacks(execute=True):
        sent = web.post("/claims/email/", {"partner": "artplace", "creator_id": "Ada"}, follow=True)
    assert any("a••@creators.example" in m for m in messages_of(sent))
    [message] = mail.outbox
    assert message.to == [ADA["email"]] and "ArtPlace" in message.subject
    link = re.search(r"http\S+/claims/confirm/\S+/", message.body).group(0)
    # Pressed twice within the minute: no second mail.
    with django_capture_on_commit_callbacks(execute=True):
        web.post("/claims/email/", {"partner": "artplace", "creator_id": "Ada"})
    assert len(mail.outbox) == 1
    opened = web.get("/claims/" + link.split("/claims/", 1)[1], follow=True)
    claim = CreatorClaim.objects.get()
    assert claim.status == ClaimStatus.VERIFIED and claim.user == artist.user
    assert opened.redirect_chain[-1][0] == f"/claims/{claim.pk}/"
    page = opened.content.decode()
    assert f"https://cdn.{PARTNER_HOST}/w/0.jpg" in page and f"https://cdn.{PARTNER_HOST}/w/2.jpg" not in page
    assert "PD" in page  # the data set, in the progress table


def test_a_creator_claims_by_a_token_on_their_profile_page(filed, artist):
    web = logged_in(artist)
    with web_server() as site:
        FilingRow.objects.filter(creator_id="Ada").update(creator_url=site.url("/u/ada"))
        started = web.post("/claims/profile/", {"partner": "artplace", "creator_id": "Ada"}, follow=True)
        claim = CreatorClaim.objects.get()
        assert claim.token in started.content.decode() and site.url("/u/ada") in started.content.decode()
        site.page("/u/ada", "<p>Nothing yet</p>")
        failed = web.post(f"/claims/{claim.pk}/check/", follow=True)
        assert "not in the text" in failed.content.decode()
        site.page("/u/ada", f"<html><body><p>{claim.token}</p></body></html>")
        done = web.post(f"/claims/{claim.pk}/check/", follow=True)
    assert CreatorClaim.objects.get().status == ClaimStatus.VERIFIED
    assert "What the platform filed" in done.content.decode()


def test_the_claimed_creator_lifts_one_work_then_all(filed, artist):
    web = logged_in(artist)
    creator = services.creator_find(partner=filed.partner, creator_id="Ada")
    _, token = services.claim_email_token(user=artist.user, creator=creator)
    claim = services.claim_by_email(user=artist.user, token=token)
    row = FilingRow.objects.get(filing=filed, index=0)
    lifted = web.post(f"/claims/{claim.pk}/lift/", {"row": str(row.pk)}, follow=True)
    assert any("1 removal(s) revoked" in m for m in messages_of(lifted))
    assert dict(Removal.objects.values_list("external_id", "state")) == {
        "e0": "revoked",
        "e1": "pending",
        "e2": "pending",
    }
    unconfirmed = web.post(f"/claims/{claim.pk}/lift/", {"all": "1"}, follow=True)
    assert any("Tick the box" in m for m in messages_of(unconfirmed))
    assert Removal.objects.get(external_id="e1").state == "pending"
    web.post(f"/claims/{claim.pk}/lift/", {"all": "1", "confirm": "1"})
    assert Removal.objects.get(external_id="e1").state == "revoked"
    assert Removal.objects.get(external_id="e2").state == "pending"  # not Ada's


def test_another_artists_claim_is_not_there(filed, artist, other_artist):
    creator = services.creator_find(partner=filed.partner, creator_id="Ada")
    _, token = services.claim_email_token(user=artist.user, creator=creator)
    claim = services.claim_by_email(user=artist.user, token=token)
    intruder = logged_in(other_artist)
    assert intruder.get(f"/claims/{claim.pk}/").status_code == 404
    assert intruder.post(f"/claims/{claim.pk}/lift/", {"all": "1", "confirm": "1"}).status_code == 404
    assert intruder.post(f"/claims/{claim.pk}/check/").status_code == 404
    assert not Removal.objects.filter(state="revoked").exists()
    # The link mailed to the first account does nothing for the second.
    refused = intruder.get(f"/claims/confirm/{token}/")
    assert refused.status_code == 400 and "another account" in refused.content.decode()
    assert "Claimed" not in intruder.get("/claims/").content.decode()


@pytest.mark.parametrize(
    "creator_id", ["", "a\x00b", "x" * 500, "nobody", "' OR 1=1 --", "<script>alert(1)</script>"]
)
def test_hostile_creator_ids_get_an_error_beside_the_field(filed, artist, creator_id):
    web = logged_in(artist)
    for path in ("/claims/", "/claims/email/", "/claims/profile/"):
        response = web.post(path, {"partner": "artplace", "creator_id": creator_id})
        assert response.status_code == 400, path
        assert "<script>alert(1)</script>" not in response.content.decode()
    assert not CreatorClaim.objects.exists() and not mail.outbox


@pytest.mark.parametrize(
    "path", ["/claims/confirm/nonsense/", "/claims/confirm/%00/", "/claims/confirm/%F0%9F%98%80/"]
)
def test_mangled_links_say_so(artist, path):
    response = logged_in(artist).get(path)
    assert response.status_code in (400, 404)
    assert not CreatorClaim.objects.exists()


@pytest.mark.parametrize("row", ["", "x", "²", "1" * 40, "-1"])
def test_a_lift_of_no_row_asks_which(filed, artist, row):
    creator = services.creator_find(partner=filed.partner, creator_id="Ada")
    _, token = services.claim_email_token(user=artist.user, creator=creator)
    claim = services.claim_by_email(user=artist.user, token=token)
    response = logged_in(artist).post(f"/claims/{claim.pk}/lift/", {"row": row}, follow=True)
    assert response.status_code == 200
    assert not Removal.objects.filter(state="revoked").exists()


def test_an_unknown_platform_is_a_form_error(artist):
    response = logged_in(artist).post("/claims/", {"partner": "nope\x00", "creator_id": "Ada"})
    assert response.status_code == 400


def test_the_pages_speak_french(filed, artist):
    web = logged_in(artist)
    web.cookies["django_language"] = "fr"
    page = web.get("/claims/").content.decode()
    assert "Œuvres qu\u2019une plateforme a déposées pour vous" in page


def test_the_claimed_creator_changes_a_work_s_choice_on_its_page(filed, artist, other_artist):
    from registry.models import LicenceGrant

    web = logged_in(artist)
    creator = services.creator_find(partner=filed.partner, creator_id="Ada")
    _, token = services.claim_email_token(user=artist.user, creator=creator)
    claim = services.claim_by_email(user=artist.user, token=token)
    row = FilingRow.objects.get(filing=filed, index=0)
    url = f"/claims/{claim.pk}/rows/{row.pk}/choice/"
    assert url in web.get(f"/claims/{claim.pk}/").content.decode()
    page = web.get(url).content.decode()
    assert "Remove from AI training" in page and "No change yet." in page
    bad = web.post(url, {"choice": "licence", "licence": "cc-by", "attribution": "<b>Ada</b>"})
    assert bad.status_code == 400 and "plain text" in bad.content.decode()
    assert not LicenceGrant.objects.exists()
    done = web.post(url, {"choice": "licence", "licence": "cc-by", "attribution": "Photo: Ada"}, follow=True)
    assert any("maintainers are told" in m for m in messages_of(done))
    assert LicenceGrant.objects.get().external_id == "e0"
    assert Removal.objects.get(external_id="e0").state == "revoked"
    history = web.get(url).content.decode()
    assert "From “Remove from AI training” to “Allow under a licence”." in history
    # Another account's claim, a row that is not the claim's, an id that is no id: 404s.
    assert logged_in(other_artist).post(url, {"choice": "remove"}).status_code == 404
    bob = FilingRow.objects.get(filing=filed, index=2)
    assert web.get(f"/claims/{claim.pk}/rows/{bob.pk}/choice/").status_code == 404
    assert web.get(f"/claims/{claim.pk}/rows/1e9/choice/").status_code == 404
