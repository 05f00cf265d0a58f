"""The artist's remembered language: what their emails are written in."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from requests_app import services
from requests_app.models import ArtistProfile


def test_the_language_is_written_once_when_it_changes(artist):
    assert artist.language != "fr"
    with CaptureQueriesContext(connection) as queries:
        services.profile_remember_language(profile=artist, language="fr")
    assert len(queries) == 1
    assert artist.language == "fr"
    assert ArtistProfile.objects.get(pk=artist.pk).language == "fr"

    with CaptureQueriesContext(connection) as queries:
        services.profile_remember_language(profile=artist, language="fr")
    assert len(queries) == 0


def test_no_language_leaves_the_remembered_one(artist):
    before = artist.language
    services.profile_remember_language(profile=artist, language="")
    assert ArtistProfile.objects.get(pk=artist.pk).language == before == artist.language
