"""The public search (views/search.py): matches shown and nothing stored, bad files named, the
CSRF token checked, and copies already removed said so."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from registry import services as registry_services
from registry.models import Removal, RemovalState
from requests_app import services
from requests_app.models import (
    Work,
)
from tests.helpers import (
    confirm_all,
    dataset_with_copy,
    french_client,
    hashed_draft,
    photo_bytes,
)

pytestmark = pytest.mark.django_db


# --- the public search ----------------------------------------------------------


@pytest.fixture
def clear_cache():
    cache.clear()
    yield
    cache.clear()


def _private_files() -> list[Path]:
    return [p for p in Path(settings.PRIVATE_MEDIA_ROOT).rglob("*") if p.is_file()]


def test_the_public_search_shows_matches_and_stores_nothing(client, maintainer, clear_cache):
    dataset_with_copy(maintainer, slug="alpha", name="Alpha Set", url="https://img.example/a/cat.jpg")
    files_before = _private_files()
    assert client.get(reverse("public_search")).status_code == 200
    response = client.post(
        reverse("public_search"), {"image": SimpleUploadedFile("cat.png", photo_bytes("chelsea.png"))}
    )
    content = response.content.decode()
    assert response.status_code == 200
    assert "Alpha Set" in content and "https://img.example/a/cat.jpg" in content
    assert re.search(r'<td class="num" data-label="Distance">\d+</td>', content)
    assert not Work.objects.exists()
    assert _private_files() == files_before
    miss = client.post(
        reverse("public_search"), {"image": SimpleUploadedFile("coins.png", photo_bytes("coins.png"))}
    )
    assert "We found no image like this one" in miss.content.decode()


def test_the_public_search_names_a_bad_file_and_limits_each_address(client, clear_cache):
    bad = client.post(reverse("public_search"), {"image": SimpleUploadedFile("x.png", b"not an image")})
    assert bad.status_code == 200
    assert "not an image we can read" in bad.content.decode()
    for _ in range(18):
        client.post(reverse("public_search"), {"image": SimpleUploadedFile("x.png", b"no")})
    assert (
        client.post(reverse("public_search"), {"image": SimpleUploadedFile("x.png", b"no")}).status_code
        == 200
    )
    limited = client.post(reverse("public_search"), {"image": SimpleUploadedFile("x.png", b"no")})
    assert limited.status_code == 429
    assert "You searched many times" in limited.content.decode()
    other = client.post(
        reverse("public_search"), {"image": SimpleUploadedFile("x.png", b"no")}, REMOTE_ADDR="10.0.0.9"
    )
    assert other.status_code == 200


def test_the_public_search_checks_the_csrf_token(maintainer, clear_cache):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        reverse("public_search"), {"image": SimpleUploadedFile("cat.png", photo_bytes("chelsea.png"))}
    )
    assert response.status_code == 403


# --- item 12: /search/ says when a copy was removed already --------------------------------


def _search(client, name="chelsea.png"):
    return client.post(
        reverse("public_search"),
        {"image": SimpleUploadedFile(name, photo_bytes(name), content_type="image/png")},
    ).content.decode()


def test_the_public_search_says_a_found_copy_is_already_removed(client, nora, alpha, moderator):
    assert "Not removed" in _search(client)

    ticket = hashed_draft(nora, "chelsea.png")
    confirm_all(ticket, nora)
    services.request_submit(ticket=ticket, actor=nora.user, signed_name="Nora Newbie")
    services.request_approve(ticket=ticket, moderator=moderator)
    removal = Removal.objects.get()
    Removal.objects.filter(pk=removal.pk).update(approved_at=datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    assert "Removal from Alpha Set approved on Dec. 1, 2026; waiting for the maintainer" in _search(client)

    Removal.objects.filter(pk=removal.pk).update(
        state=RemovalState.ACKNOWLEDGED, acknowledged_at=datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    )
    assert "Already removed from Alpha Set on Dec. 3, 2026" in _search(client)
    french = french_client().post(
        reverse("public_search"),
        {"image": SimpleUploadedFile("c.png", photo_bytes("chelsea.png"), content_type="image/png")},
    )
    assert "Déjà retirée de Alpha Set le 3 décembre 2026" in french.content.decode()


def test_a_removal_recorded_by_hash_alone_counts_and_a_revoked_one_does_not(client, alpha):
    item = alpha.items.get()
    [removal] = registry_services.removals_record(
        source_ref="RR-EXT-1",
        reason="copyright",
        entries=[registry_services.RemovalEntry(dataset=alpha, item=None, phash=item.phash)],
        approved_at=datetime(2026, 11, 20, 8, 0, tzinfo=UTC),
    )
    assert removal.item_id is None
    assert "Removal from Alpha Set approved on Nov. 20, 2026" in _search(client)

    Removal.objects.filter(pk=removal.pk).update(state=RemovalState.REVOKED)
    assert "Not removed" in _search(client)


def test_the_public_search_of_a_sharded_data_set_whose_shard_is_silent_says_so(
    client, maintainer, clear_cache, settings
):
    """No worker holds the shard: the page says the search has no complete result (503), never
    "we found no image like this one"."""
    from io import StringIO

    from django.core.management import call_command

    dataset_with_copy(maintainer, slug="alpha", name="Alpha Set", url="https://img.example/a/cat.jpg")
    call_command("shard_add", "alpha", stdout=StringIO(), stderr=StringIO())
    settings.MATCH_SHARD_TIMEOUT_SECONDS, settings.MATCH_SHARD_ATTEMPTS = 1, 1
    response = client.post(
        reverse("public_search"), {"image": SimpleUploadedFile("cat.png", photo_bytes("chelsea.png"))}
    )
    content = response.content.decode()
    assert response.status_code == 503
    assert "Part of the registry did not answer" in content
    assert "We found no image like this one" not in content and "Alpha Set" not in content
