"""Overlong file names keep their extension: the format check reads it."""

from __future__ import annotations

import pytest

from requests_app import services
from tests.conftest import photo_bytes
from tests.requests_app.test_views_artist_pages import zip_upload

pytestmark = pytest.mark.django_db


def test_a_zip_member_with_a_300_character_name_is_added_as_the_png_it_is(artist):
    request = services.request_create(artist=artist, basis="copyright")
    long_name = "a" * 296 + ".png"
    added = services.works_add_zip(
        request=request,
        actor=artist.user,
        upload=zip_upload({f"folder/{long_name}": photo_bytes("chelsea.png")}),
    )
    assert added.errors == []
    [work] = added.works
    assert len(work.original_name) == 255 and work.original_name.endswith("aaa.png")
