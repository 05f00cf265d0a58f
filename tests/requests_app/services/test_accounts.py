"""requests_app.services.accounts: deleting an account without approved requests deletes the user."""

from __future__ import annotations

from requests_app import services
from requests_app.models import ArtistProfile
from tests.helpers import hashed_draft


def test_deleting_an_account_without_approved_requests_deletes_the_user(artist, other_artist):
    hashed_draft(artist, "coffee.png")
    result = services.account_delete(user=artist.user)
    assert (result.requests_deleted, result.requests_anonymised, result.works_deleted) == (1, 0, 1)
    assert not ArtistProfile.objects.filter(pk=artist.pk).exists()
    assert ArtistProfile.objects.filter(pk=other_artist.pk).exists()
