"""Fixtures of the partners tests: a partner with a verified domain (art.example and its
subdomains) and a key, its API client, another partner, and a data set whose items sit on the
partner's domain (people, maintainers and the worker: tests/conftest.py)."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from partners import services
from partners.models import Partner
from registry import services as registry_services
from registry.models import Dataset
from tests.helpers import PARTNER_HOST
from tests.loopback import QuietHandler, loopback_server


@dataclass
class PartnerWithKey:
    partner: Partner
    key: str

    def client(self) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {self.key}")
        return client


def _partner(name: str, slug: str, host: str, *, verified: bool = True) -> PartnerWithKey:
    partner = services.partner_create(
        name=name,
        slug=slug,
        contact_email=f"legal@{host}",
        agreement_ref=f"AG-{slug}",
        agreement_date=datetime.date(2026, 11, 1),
        attestation_text="We hold the written instruction of every creator we file for.",
    )
    domain = services.partner_domain_add(partner=partner, host=f"*.{host}")
    if verified:
        services.partner_domain_verify(domain=domain)
    _, key = services.partner_key_create(partner=partner)
    return PartnerWithKey(partner, key)


@pytest.fixture
def partner(db: Any) -> PartnerWithKey:
    return _partner("ArtPlace", "artplace", PARTNER_HOST)


@pytest.fixture
def other_partner(db: Any) -> PartnerWithKey:
    return _partner("StockCo", "stockco", "stock.example")


@pytest.fixture
def partner_api(partner: PartnerWithKey) -> APIClient:
    return partner.client()


@pytest.fixture
def auto_policy(partner: PartnerWithKey) -> None:
    """The partner's policy approves rows on its verified domain that carry hashes."""
    services.filing_policy_update(policy=partner.partner.policy, auto_approve_verified_hashed=True)


@pytest.fixture
def partner_dataset(maintainer: Any) -> Dataset:
    """A data set of the `maintainer` fixture whose items 0-19 are the works of tests.helpers.partner_row."""
    from tests.helpers import partner_row

    dataset = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="pd", name="PD")
    rows = []
    for i in range(20):
        row = partner_row(i)
        rows.append({"external_id": f"e{i}", "url": row["work_url"], "phash": row["phash"]})
    registry_services.items_upsert(dataset=dataset, rows=rows)
    return dataset


@pytest.fixture
def operator_client(superuser: User) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture(scope="module")
def partner_schema(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """The served OpenAPI document."""
    with django_db_blocker.unblock():
        response = Client().get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def endpoint_on_pd(maintainer: Any, receiver: Any, partner_dataset: Dataset) -> Any:
    """The maintainer's webhook endpoint on the test receiver, for the partner data set's removals."""
    endpoint, _ = registry_services.webhook_endpoint_create(
        maintainer=maintainer.maintainer,
        url=receiver.url,
        event_types=["removal.approved"],
        datasets=[partner_dataset],
    )
    return endpoint


# --- the desk: artists' claims, images on loopback ----------------------------

DESK_PHOTOS = ("chelsea.png", "coffee.png", "astronaut.png")


@pytest.fixture
def photo_dataset(maintainer: Any) -> Dataset:
    """A data set holding a half-size JPEG copy of a few sample photos (all three hashes), at URLs on
    the partner's domain: a partner's row names them by URL, an artist's upload finds them by hash."""
    from tests.helpers import image_bytes, item_row, photo, photo_url

    dataset = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="ph", name="Photos")
    rows = []
    for name in DESK_PHOTOS:
        image = photo(name).convert("RGB")
        copy = image.resize((image.width // 2, image.height // 2))
        rows.append({**item_row(name, image_bytes(copy, "JPEG", quality=70)), "url": photo_url(name)})
    registry_services.items_upsert(dataset=dataset, rows=rows)
    return dataset


@dataclass
class ImageSite:
    """A loopback web server: each path answers its list of (status, headers, body) in turn, the
    last one again and again; `hits` counts the requests per path."""

    port: int = 0
    answers: dict[str, list[tuple[int, dict[str, str], bytes]]] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"http://localhost:{self.port}{path}"

    def serve(self, path: str, *answers: tuple[int, dict[str, str], bytes]) -> str:
        self.answers[path] = list(answers)
        return self.url(path)


@pytest.fixture
def image_site() -> Iterator[ImageSite]:
    site = ImageSite()

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            count = site.hits.get(self.path, 0)
            site.hits[self.path] = count + 1
            answers = site.answers.get(self.path) or [(404, {}, b"not found")]
            self.answer(*answers[min(count, len(answers) - 1)])

    with loopback_server(Handler) as port:
        site.port = port
        yield site


@pytest.fixture
def local_partner(partner: PartnerWithKey) -> PartnerWithKey:
    """The partner, serving its images on localhost too (verified), where `image_site` listens.

    Made as a row: the operator's form refuses a single label such as localhost, rightly so."""
    from partners.models import PartnerDomain

    PartnerDomain.objects.create(partner=partner.partner, host="localhost", verified_at=timezone.now())
    return partner
