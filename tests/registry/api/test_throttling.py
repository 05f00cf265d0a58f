"""Rate limits per API key: 429 with Retry-After once the key's rate is spent."""

from __future__ import annotations

from registry.api.throttling import ApiKeyRateThrottle
from tests.helpers import assert_error


def test_rate_limits_answer_429_with_retry_after(api, monkeypatch):
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"maintainer": "3/min"})
    for _ in range(3):
        assert api.get("/api/v1/datasets/").status_code == 200
    response = api.get("/api/v1/datasets/")
    error = assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) >= 1 and error["details"]["retry_after"] >= 1
