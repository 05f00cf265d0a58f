"""requests_app.services.portfolio_choice_set: the portfolio's default choice, where new requests
start and what works in no request follow; hostile values refused with the field named and
nothing stored."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.preferences import Consent
from requests_app import services
from requests_app.models import ArtistProfile, Work
from requests_app.services import ActionRefused
from tests.helpers import photo_bytes

CC_BY_SA = {"choice": "licence", "licence": "cc-by-sa", "attribution": "Ada L., https://ada.example"}


def test_it_stores_the_default_and_new_requests_start_from_it(artist):
    assert services.portfolio_choice_set(actor=artist.user, artist=artist, **CC_BY_SA) is True
    artist.refresh_from_db()
    expected = Consent(
        "licence", "cc-by-sa", "https://creativecommons.org/licenses/by-sa/4.0/", CC_BY_SA["attribution"]
    )
    assert artist.default_consent() == expected
    ticket = services.request_create(artist=artist, basis="copyright")
    assert (ticket.choice, ticket.licence, ticket.licence_url, ticket.attribution) == (
        expected.choice,
        expected.licence,
        expected.licence_url,
        expected.attribution,
    )
    # The request and its works still choose otherwise.
    services.request_choice_set(actor=artist.user, ticket=ticket, choice="search_only")
    ticket.refresh_from_db()
    assert ticket.choice == "search_only" and ticket.licence == ""
    artist.refresh_from_db()
    assert artist.default_choice == "licence"
    # The same default again changes nothing.
    assert services.portfolio_choice_set(actor=artist.user, artist=artist, **CC_BY_SA) is False


def test_a_work_in_no_request_follows_the_default_and_one_in_a_request_follows_the_request(artist):
    made_before = services.request_create(artist=artist, basis="copyright")
    services.portfolio_choice_set(actor=artist.user, artist=artist, choice="search_only")
    [work] = services.works_add(
        ticket=made_before,
        actor=artist.user,
        files=[SimpleUploadedFile("chelsea.png", photo_bytes("chelsea.png"))],
    ).works
    assert work.consent().choice == "remove"  # the request made before keeps its own choice
    Work.objects.filter(pk=work.pk).update(request=None)
    assert Work.objects.get(pk=work.pk).consent().choice == "search_only"


LONG_URL = "https://x.example/" + "a" * 600
CUSTOM = {"choice": "licence", "licence": "custom"}
CC0 = {"choice": "licence", "licence": "cc0"}
HOSTILE = [
    ({"choice": "sell"}, "choice", "Choose one of"),
    ({"choice": "licence", "licence": "gpl"}, "licence", "Choose a licence"),
    ({**CUSTOM, "licence_url": "javascript:alert(1)"}, "licence_url", "http://"),
    ({**CUSTOM, "licence_url": "https://u:p@x.example/l"}, "licence_url", "password"),
    ({**CUSTOM, "licence_url": LONG_URL}, "licence_url", "at most"),
    ({**CC0, "attribution": "<img src=x onerror=alert(1)>"}, "attribution", "plain text"),
    ({**CC0, "attribution": "Ada &amp; co"}, "attribution", "plain text"),
    ({**CC0, "attribution": "a\x07b"}, "attribution", "control characters"),
    ({"choice": "licence", "licence": "cc-by"}, "attribution", "credit"),
]


@pytest.mark.parametrize(("given", "field", "words"), HOSTILE)
def test_a_hostile_value_is_refused_with_its_field_and_nothing_stored(artist, given, field, words):
    with pytest.raises(ActionRefused) as refused:
        services.portfolio_choice_set(actor=artist.user, artist=artist, **given)
    assert refused.value.field == field and words in str(refused.value)
    assert ArtistProfile.objects.get(pk=artist.pk).default_consent() == Consent()


def test_another_account_cannot_set_my_default(artist, other_artist):
    with pytest.raises(ActionRefused, match="another account"):
        services.portfolio_choice_set(actor=other_artist.user, artist=artist, choice="search_only")
    assert ArtistProfile.objects.get(pk=artist.pk).default_choice == "remove"
