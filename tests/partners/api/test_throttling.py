"""The partner API's own rate scope: 429 with Retry-After, and a maintainer's budget is not spent by it."""

from __future__ import annotations

from partners.api.throttling import PartnerKeyRateThrottle
from tests.helpers import assert_error


def test_a_partner_key_spends_the_partner_scope(partner_api, api, monkeypatch):
    monkeypatch.setattr(PartnerKeyRateThrottle, "THROTTLE_RATES", {"partner": "2/min", "maintainer": "2/min"})
    for _ in range(2):
        assert partner_api.get("/api/v1/partner/filings/").status_code == 200
    response = partner_api.get("/api/v1/partner/filings/")
    error = assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) >= 1 and error["details"]["retry_after"] >= 1
    assert api.get("/api/v1/datasets/").status_code == 200
