"""Fixtures of the requests_app tests: a data set holding copies of the sample photos, a submitted
request, a staff account outside the moderators' group, Nora (a new artist) and her data set,
an identity document, and the proofs' real DNS and web servers on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from registry import services as registry_services
from registry.hashing import code_to_hex, compute_hashes
from registry.models import Dataset
from requests_app import services
from requests_app.models import ArtistProfile, IdentityProof, RemovalRequest
from requests_app.roles import MODERATOR_GROUP
from tests.helpers import (
    DATASET_PHOTOS,
    PDF,
    Site,
    Zone,
    dataset_with_copy,
    dns_server,
    image_bytes,
    make_artist,
    make_request,
    photo,
    web_server,
)


@pytest.fixture
def dataset(maintainer: Any) -> Dataset:
    """A data set holding a half-size JPEG copy of each photo the tests upload."""
    dataset = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="demo", name="Demo")
    rows = []
    for name in DATASET_PHOTOS:
        image = photo(name).convert("RGB")
        copy = image.resize((image.width // 2, image.height // 2))
        h = compute_hashes(image_bytes(copy, "JPEG", quality=70), max_pixels=10**8)
        rows.append(
            {"external_id": name, "url": f"https://img.example/{name}", "phash": code_to_hex(h.phash)}
        )
    assert registry_services.items_upsert(dataset=dataset, rows=rows).created == len(DATASET_PHOTOS)
    return dataset


@pytest.fixture
def submitted(artist: ArtistProfile, dataset: Dataset) -> RemovalRequest:
    """The artist's request of chelsea.png, its copy in `dataset` confirmed, submitted."""
    return make_request(artist, "chelsea.png")


@pytest.fixture
def staff_without_group(db: Any) -> User:
    """Staff, but in no group: the admin lets them in and shows them nothing of the desk."""
    return User.objects.create_user("staff@example.com", "staff@example.com", "pw", is_staff=True)


@pytest.fixture
def second_moderator(db: Any) -> User:
    """Another moderator, to assign requests to and to race."""
    user = User.objects.create_user("mod2@example.com", "mod2@example.com", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name=MODERATOR_GROUP))
    return User.objects.get(pk=user.pk)  # fresh: permission cache


@pytest.fixture
def nora(db: Any) -> ArtistProfile:
    """A new artist, her address verified."""
    return make_artist("nora@example.com", name="Nora Newbie")


@pytest.fixture
def alpha(maintainer: Any) -> Dataset:
    """A data set holding one copy of chelsea.png."""
    return dataset_with_copy(maintainer, slug="alpha", name="Alpha Set", url="https://img.example/a.jpg")


@pytest.fixture(autouse=True)
def _back_to_the_default_language() -> Iterator[None]:
    """LocaleMiddleware leaves the last request's language active in this thread: the test
    client's French requests would otherwise make later tests (which call services directly) French."""
    yield
    translation.deactivate()


@pytest.fixture
def two_copies(maintainer: Any) -> tuple[Dataset, Dataset]:
    """Two data sets (Alpha Set, Beta Set), each holding a copy of chelsea.png at its own address."""
    return (
        dataset_with_copy(maintainer, slug="alpha", name="Alpha Set", url="https://img.example/a/cat.jpg"),
        dataset_with_copy(maintainer, slug="beta", name="Beta Set", url="https://mirror.example/b/cat-2.jpg"),
    )


@pytest.fixture
def document(artist: ArtistProfile) -> IdentityProof:
    """The artist's passport scan, uploaded for a moderator to review."""
    return services.proof_document_upload(
        artist=artist, upload=SimpleUploadedFile("passport.pdf", PDF), description="Passport"
    )


@pytest.fixture
def proof_settings(settings: Any) -> Any:
    """Proof checks over plain HTTP, as often as asked, with a short timeout."""
    settings.PROOF_FETCH_SCHEME = "http"
    settings.PROOF_CHECK_MIN_SECONDS = 0
    settings.PROOF_CHECK_TIMEOUT_SECONDS = 2
    return settings


@pytest.fixture
def zone(proof_settings: Any) -> Iterator[Zone]:
    """A DNS server on loopback, the one the proof checks ask."""
    with dns_server() as (zone, nameserver):
        proof_settings.PROOF_DNS_NAMESERVER = nameserver
        yield zone


@pytest.fixture
def site() -> Iterator[Site]:
    """A web server on loopback, its pages set by the test."""
    with web_server() as site:
        yield site


@pytest.fixture
def signals_settings(proof_settings: Any) -> Any:
    """Site signals read over plain HTTP on loopback, as often as asked, with a short deadline."""
    proof_settings.SITE_SIGNALS_MIN_SECONDS = 0
    proof_settings.SITE_SIGNALS_TIMEOUT_SECONDS = 2
    return proof_settings


@pytest.fixture
def verified_site(artist: ArtistProfile, site: Site, signals_settings: Any) -> tuple[IdentityProof, Site]:
    """The artist's site on loopback, proven theirs by the well-known file and a real check."""
    proof = services.proof_start(artist=artist, method="well_known", target=site.domain)
    site.pages["/.well-known/removal-desk.txt"] = (200, {"Content-Type": "text/plain"}, proof.token.encode())
    proof = services.proof_check(proof=proof)
    assert proof.status == "verified", proof.last_error
    return proof, site


@pytest.fixture
def published(submitted: RemovalRequest, moderator: User) -> Any:
    """`submitted`, approved, and its removal delivered (in force, so anyone may dispute it)."""
    from registry.models import Removal

    services.request_approve(ticket=submitted, moderator=moderator, reason="ok")
    removal = Removal.objects.select_related("dataset").get(source_ref=submitted.reference)
    registry_services.removals_mark_delivered(removals=[removal])
    removal.refresh_from_db()
    return removal
