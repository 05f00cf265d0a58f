"""Ownership evidence: verified-domain copies, detail, and conflicts that hold approval."""

from __future__ import annotations

from requests_app import evidence
from requests_app.models import (
    IdentityProof,
    ProofMethod,
    ProofStatus,
)
from tests.helpers import make_request


def verify_domain(artist, domain: str, method: str = ProofMethod.DNS_TXT) -> IdentityProof:
    return IdentityProof.objects.create(
        artist=artist, method=method, target=domain, status=ProofStatus.VERIFIED
    )


def test_copies_on_a_verified_domain_are_strong_evidence(artist, dataset):
    ticket = make_request(artist, "chelsea.png")
    found = evidence.for_request(ticket)
    assert not found.strong and found.weaknesses == ["no verified domain or profile"]
    verify_domain(artist, "img.example")
    found = evidence.for_request(ticket)
    assert found.strong and [m.covered_by for m in found.on_verified_domain] == ["img.example"]
    assert evidence.request_ids_with_domain_evidence() == {ticket.pk}


def test_a_profile_proof_covers_its_own_pages_not_the_whole_host(artist, dataset):
    ticket = make_request(artist, "chelsea.png")
    verify_domain(artist, "https://img.example/@ada", method=ProofMethod.PROFILE_LINK)
    assert evidence.for_request(ticket).on_verified_domain == []
    assert evidence.request_ids_with_domain_evidence() == set()


def test_a_failed_or_lapsed_domain_proof_counts_for_nothing(artist, dataset):
    ticket = make_request(artist, "chelsea.png")
    proof = verify_domain(artist, "img.example")
    proof.status = ProofStatus.EXPIRED
    proof.save()
    assert not evidence.for_request(ticket).strong


def test_detail_is_compared_where_it_can_be(artist, dataset, settings):
    settings.EVIDENCE_LARGE_WORK_PIXELS = 1
    ticket = make_request(artist, "chelsea.png")
    [work] = evidence.for_request(ticket).works
    assert work.large and work.pixels == work.work.width * work.work.height
    assert work.detailed is not None  # the upload has a PDQ quality
    assert [m.work_quality_higher for m in work.matches] == [None]  # the item has none to compare
