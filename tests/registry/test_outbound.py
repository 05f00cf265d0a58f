"""The SSRF guard refuses addresses that are not public."""

from __future__ import annotations

import pytest

from registry.outbound import OutboundRefused, vet_url


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost:8000/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://100.64.0.1/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fd00::1]/",
        "http://2130706433/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
    ],
)
def test_it_refuses_addresses_that_are_not_public(url, settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = False
    with pytest.raises(OutboundRefused):
        vet_url(url)


@pytest.mark.parametrize("url", ["ftp://example.com/", "http://user:pw@example.com/", "http:///nohost"])
def test_it_refuses_urls_it_cannot_call(url):
    with pytest.raises(OutboundRefused):
        vet_url(url)


def test_it_allows_loopback_only_with_the_setting(settings):
    settings.OUTBOUND_ALLOW_LOOPBACK = True
    assert vet_url("http://127.0.0.1:8080/x")[3] == "127.0.0.1"
    with pytest.raises(OutboundRefused):
        vet_url("http://10.0.0.1/")
