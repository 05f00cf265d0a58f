"""The models: a request's public reference."""

from __future__ import annotations

from requests_app import services


def test_references_are_public_and_ordered(artist):
    first = services.request_create(artist=artist, basis="copyright")
    second = services.request_create(artist=artist, basis="privacy")
    assert first.reference.startswith("RR-20") and len(first.reference) == len("RR-2026-000001")
    assert int(second.reference.rsplit("-", 1)[1]) > int(first.reference.rsplit("-", 1)[1])
