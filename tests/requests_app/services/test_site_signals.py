"""site_signals_fetch: what a verified domain says, read from a real loopback site and recorded;
refused, with nothing written, for anything but the owner's verified domain."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from requests_app import services
from requests_app.models import IdentityProof, ProofMethod, ProofStatus, SiteSignals
from requests_app.site_signals import FOUND, MALFORMED, NOT_FOUND

ROBOTS = (
    b"User-agent: *\nDisallow: /cgi-bin/\n\nUser-agent: GPTBot\nUser-agent: CCBot\nDisallow: /portfolio/\n"
)
TDMREP = b'[\n {"location": "/shop/*", "tdm-reservation": 1},\n {"location": 1, "tdm-reservation": 1}\n]'


def test_the_owner_reads_their_verified_site(artist, verified_site):
    proof, site = verified_site
    site.pages["/robots.txt"] = (200, {"Content-Type": "text/plain"}, ROBOTS)
    site.pages["/.well-known/tdmrep.json"] = (200, {"Content-Type": "application/json"}, TDMREP)
    record = services.site_signals_fetch(proof=proof, actor=artist.user)
    assert record.site == site.domain and record.artist == artist
    assert record.scope == ["localhost/portfolio/", "localhost/shop/"]  # by place
    files = record.files
    assert (files["robots"]["status"], files["ai_txt"]["status"], files["tdmrep"]["status"]) == (
        FOUND,
        NOT_FOUND,
        FOUND,
    )
    assert files["robots"]["notes"] == [{"line": 2, "code": "star_group", "params": {}}]
    assert files["tdmrep"]["problems"][0]["line"] == 3
    assert files["ai_txt"]["error"] == {"code": "http_missing", "params": {"status": 404}}


def test_reading_again_replaces_the_record(artist, verified_site):
    proof, site = verified_site
    site.pages["/ai.txt"] = (200, {"Content-Type": "text/plain"}, b"User-Agent: *\nDisallow: /\n")
    first = services.site_signals_fetch(proof=proof, actor=artist.user)
    assert first.scope == ["localhost"]
    site.pages["/ai.txt"] = (200, {"Content-Type": "text/plain"}, b"User-Agent: *\nDisallow: /\x00\n")
    second = services.site_signals_fetch(proof=proof, actor=artist.user)
    assert second.pk == first.pk and SiteSignals.objects.count() == 1
    assert second.scope == [] and second.files["ai_txt"]["status"] == MALFORMED
    assert second.fetched_at > first.fetched_at


def test_reading_again_at_once_is_refused(artist, verified_site, signals_settings):
    signals_settings.SITE_SIGNALS_MIN_SECONDS = 60
    proof, site = verified_site
    services.site_signals_fetch(proof=proof, actor=artist.user)
    hits = len(site.hits)
    with pytest.raises(services.ActionRefused, match="wait 60 seconds"):
        services.site_signals_fetch(proof=proof, actor=artist.user)
    assert len(site.hits) == hits  # nothing fetched


def test_another_artists_proof_is_refused(other_artist, verified_site):
    proof, site = verified_site
    hits = len(site.hits)
    with pytest.raises(services.ActionRefused, match="another account"):
        services.site_signals_fetch(proof=proof, actor=other_artist.user)
    assert not SiteSignals.objects.exists() and len(site.hits) == hits


@pytest.mark.parametrize("status", [ProofStatus.PENDING, ProofStatus.FAILED, ProofStatus.EXPIRED])
def test_a_domain_that_is_not_verified_is_refused(artist, site, signals_settings, status):
    proof = IdentityProof.objects.create(
        artist=artist, method=ProofMethod.WELL_KNOWN, target=site.domain, status=status
    )
    with pytest.raises(services.ActionRefused, match="is not verified"):
        services.site_signals_fetch(proof=proof, actor=artist.user)
    assert site.hits == [] and not SiteSignals.objects.exists()


def test_a_verified_proof_past_its_date_is_refused(artist, verified_site):
    proof, _site = verified_site
    IdentityProof.objects.filter(pk=proof.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    proof.refresh_from_db()
    with pytest.raises(services.ActionRefused, match="is not verified"):
        services.site_signals_fetch(proof=proof, actor=artist.user)


def test_a_profile_or_a_document_is_not_a_domain(artist, document):
    profile = IdentityProof.objects.create(
        artist=artist,
        method=ProofMethod.PROFILE_LINK,
        target="https://social.example/@nora",
        status=ProofStatus.VERIFIED,
    )
    for proof in (profile, document):
        with pytest.raises(services.ActionRefused, match="Only a domain proven by DNS") as refused:
            services.site_signals_fetch(proof=proof, actor=artist.user)
        # The method is named after a colon: "a email address" or "a identity document" was wrong.
        method = str(proof.get_method_display()).lower()
        assert str(refused.value).endswith(f"this proof's method: {method}."), refused.value
