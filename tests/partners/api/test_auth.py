"""Keys of one kind only: a maintainer key cannot file, a partner key reads no maintainer data."""

from __future__ import annotations

import pytest

from partners import services
from partners.models import Filing, PartnerKey
from tests.helpers import assert_error, partner_row

FILE = "/api/v1/partner/filings/"


def test_a_maintainer_key_cannot_file(maintainer):
    response = maintainer.client().post(FILE, {"attestation": True, "rows": [partner_row(0)]}, format="json")
    error = assert_error(response, 403, "maintainer_key")
    assert "partner key (rdp_" in error["message"]
    assert not Filing.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/datasets/",
        "/api/v1/webhooks/",
        "/api/v1/removals/export/?format=jsonl",
        "/api/v1/datasets/d/removals/",
    ],
)
def test_a_partner_key_reads_no_maintainer_endpoint(partner_api, maintainer, path):
    error = assert_error(partner_api.get(path), 403, "partner_key")
    assert "maintainer key (rdk_" in error["message"]


def test_a_partner_key_on_the_lookup_and_the_compat_endpoint(partner, maintainer, client):
    assert_error(partner.client().post("/api/v1/lookup/", {"urls": []}, format="json"), 403, "partner_key")
    response = client.post(
        "/api/v2/query/urls/",
        "https://x.example/a",
        content_type="text/plain",
        HTTP_AUTHORIZATION=f"API {partner.key}",
    )
    assert_error(response, 403, "partner_key")


def test_no_key_a_wrong_scheme_and_a_revoked_key_are_401(partner, client):
    assert_error(client.get(FILE), 401, "unauthorized")
    wrong = client.get(FILE, HTTP_AUTHORIZATION=f"Token {partner.key}")
    assert "Bearer" in assert_error(wrong, 401, "unauthorized")["message"]
    services.partner_key_revoke(key=PartnerKey.objects.get(partner=partner.partner))
    revoked = partner.client().get(FILE)
    assert "revoked" in assert_error(revoked, 401, "unauthorized")["message"]


def test_a_partner_sees_only_its_own_filings(partner, other_partner):
    created = (
        partner.client().post(FILE, {"attestation": True, "rows": [partner_row(0)]}, format="json").json()
    )
    theirs = other_partner.client()
    assert_error(theirs.get(f"{FILE}{created['id']}/"), 404, "not_found")
    assert_error(theirs.get(f"{FILE}{created['id']}/rows/"), 404, "not_found")
    assert theirs.get(FILE).json()["results"] == []
