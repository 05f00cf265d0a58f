"""Identity proofs against real servers on loopback: DNS (dnslib), HTTP, a server that never answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from requests_app import proofs, services
from requests_app.models import (
    IdentityProof,
    ProofMethod,
    ProofStatus,
    VerificationLevel,
)
from tests.helpers import closed_udp_port, silent_server

pytestmark = pytest.mark.usefixtures("proof_settings")


# --- DNS TXT ------------------------------------------------------------------


def test_it_verifies_a_dns_txt_record(artist, zone):
    proof = services.proof_start(artist=artist, method=ProofMethod.DNS_TXT, target="https://Art.Example/")
    assert proof.target == "art.example" and proof.token.startswith("rdv-")
    assert proof.status == ProofStatus.PENDING and proof.expires_at > timezone.now()
    zone.txt["art.example."] = ["v=spf1 -all", f"removal-desk-verification={proof.token}"]
    proof = services.proof_check(proof=proof, actor=artist.user)
    assert proof.status == ProofStatus.VERIFIED and proof.verified_at and proof.last_error == ""
    assert proof.expires_at > timezone.now() + timedelta(days=30)
    assert "art.example." in zone.queries
    artist.refresh_from_db()
    assert artist.verification_level == VerificationLevel.DOMAIN


def test_it_refuses_a_dns_txt_record_with_the_wrong_token(artist, zone):
    proof = services.proof_start(artist=artist, method=ProofMethod.DNS_TXT, target="art.example")
    zone.txt["art.example."] = ["removal-desk-verification=rdv-someone-elses"]
    proof = services.proof_check(proof=proof, actor=artist.user)
    assert proof.status == ProofStatus.FAILED
    assert "none is removal-desk-verification=" in proof.last_error
    artist.refresh_from_db()
    assert artist.verification_level == VerificationLevel.EMAIL


def test_it_says_when_the_domain_does_not_exist(artist, zone):
    zone.txt["example."] = []  # the top-level domain exists; the name under it does not
    proof = services.proof_start(artist=artist, method=ProofMethod.DNS_TXT, target="nowhere.example")
    proof = services.proof_check(proof=proof, actor=artist.user)
    assert proof.status == ProofStatus.FAILED and proof.failures == 1
    assert proof.last_error == "The domain nowhere.example does not exist in DNS. Check its spelling."


def assert_inconclusive(proof, status=ProofStatus.PENDING):
    assert proof.status == status and proof.failures == 0, (proof.status, proof.failures)
    assert "could not reach the DNS resolver" in proof.last_error and "try again later" in proof.last_error
    assert "does not exist" not in proof.last_error


def test_an_unreachable_resolver_is_not_a_missing_domain(artist, proof_settings):
    """Offline: the resolver (a closed port on loopback) cannot be asked; the proof has not failed."""
    proof_settings.PROOF_CHECK_TIMEOUT_SECONDS = 1
    proof_settings.PROOF_DNS_NAMESERVER = f"127.0.0.1:{closed_udp_port()}"
    proof = services.proof_start(artist=artist, method=ProofMethod.DNS_TXT, target="example.com")
    proof = services.proof_check(proof=proof, actor=artist.user)
    assert_inconclusive(proof)
    assert "example.com" in proof.last_error


def test_it_times_out_on_a_dns_server_that_never_answers(artist, proof_settings):
    proof_settings.PROOF_CHECK_TIMEOUT_SECONDS = 1
    with silent_server() as port:  # TCP only: UDP queries to this port go unanswered
        proof_settings.PROOF_DNS_NAMESERVER = f"127.0.0.1:{port}"
        proof = services.proof_start(artist=artist, method=ProofMethod.DNS_TXT, target="art.example")
        proof = services.proof_check(proof=proof, actor=artist.user)
    assert_inconclusive(proof)
    assert "no answer in time" in proof.last_error


def test_a_resolver_answering_servfail_is_not_a_failed_proof(artist, zone):
    zone.servfail = True
    proof = services.proof_start(artist=artist, method=ProofMethod.DNS_TXT, target="art.example")
    assert_inconclusive(services.proof_check(proof=proof, actor=artist.user))


def test_a_resolver_that_knows_no_name_at_all_is_not_believed(artist, zone):
    """A resolver cut off from the internet may answer NXDOMAIN to everything, the root included."""
    proof = services.proof_start(artist=artist, method=ProofMethod.DNS_TXT, target="example.com")
    proof = services.proof_check(proof=proof, actor=artist.user)
    assert_inconclusive(proof)
    assert {"example.com.", "com.", "."} <= set(zone.queries)


def test_an_unreachable_resolver_never_lapses_a_verified_proof(artist, zone, proof_settings):
    proof = services.proof_start(artist=artist, method=ProofMethod.DNS_TXT, target="art.example")
    zone.txt["art.example."] = [f"removal-desk-verification={proof.token}"]
    proof = services.proof_check(proof=proof, actor=artist.user)
    assert proof.status == ProofStatus.VERIFIED
    proof_settings.PROOF_CHECK_TIMEOUT_SECONDS = 1
    proof_settings.PROOF_DNS_NAMESERVER = f"127.0.0.1:{closed_udp_port()}"
    for _ in range(proof_settings.PROOF_RECHECK_FAILURES_TO_LAPSE + 1):
        proof = services.proof_check(proof=proof)  # beat's re-check
    assert_inconclusive(proof, status=ProofStatus.VERIFIED)
    assert proof.evidence["records"] == [f"removal-desk-verification={proof.token}"]  # kept
    artist.refresh_from_db()
    assert artist.verification_level == VerificationLevel.DOMAIN


# --- targets, per method ---------------------------------------------------------


@pytest.mark.parametrize("method", [ProofMethod.DNS_TXT, ProofMethod.WELL_KNOWN, ProofMethod.META_TAG])
@pytest.mark.parametrize(
    "target", ["https://www.instagram.com/nora.newbie", "instagram.com/nora", "https://art.example/?page=2"]
)
def test_a_domain_proof_refuses_a_profile_url(artist, method, target):
    with pytest.raises(services.ActionRefused) as refused:
        services.proof_start(artist=artist, method=method, target=target)
    assert "looks like a profile page" in str(refused.value)
    assert "use the profile link-back method" in str(refused.value)
    assert not IdentityProof.objects.filter(artist=artist, method=method).exists()


@pytest.mark.parametrize(
    "target", ["https://Art.Example", "https://art.example/", "art.example", "ART.example."]
)
def test_a_domain_proof_takes_a_domain_or_a_url_with_no_path(artist, target):
    proof = services.proof_start(artist=artist, method=ProofMethod.META_TAG, target=target)
    assert proof.target == "art.example"


def test_a_profile_proof_keeps_the_profile_url(artist):
    url = "https://www.instagram.com/nora.newbie"
    proof = services.proof_start(artist=artist, method=ProofMethod.PROFILE_LINK, target=url)
    assert proof.target == url


# --- well-known file and meta tag ------------------------------------------------


def test_it_verifies_a_well_known_file(artist, site):
    proof = services.proof_start(artist=artist, method=ProofMethod.WELL_KNOWN, target=site.domain)
    site.page("/.well-known/removal-desk.txt", f"# removal desk\n{proof.token}\n")
    proof = services.proof_check(proof=proof, actor=artist.user)
    assert proof.status == ProofStatus.VERIFIED, proof.last_error
    assert site.hits == ["/.well-known/removal-desk.txt"]


def test_it_refuses_a_well_known_file_with_the_wrong_token(artist, site):
    proof = services.proof_start(artist=artist, method=ProofMethod.WELL_KNOWN, target=site.domain)
    site.page("/.well-known/removal-desk.txt", "rdv-0000\n")
    proof = services.proof_check(proof=proof, actor=artist.user)
    assert proof.status == ProofStatus.FAILED and "does not contain the token" in proof.last_error


def test_it_does_not_follow_a_redirect(artist, site):
    proof = services.proof_start(artist=artist, method=ProofMethod.WELL_KNOWN, target=site.domain)
    site.page("/.well-known/removal-desk.txt", "", status=302, Location="http://169.254.169.254/latest/")
    proof = services.proof_check(proof=proof, actor=artist.user)
    assert proof.status == ProofStatus.FAILED
    assert "redirects to http://169.254.169.254/latest/" in proof.last_error


def test_it_verifies_a_meta_tag_and_ignores_one_in_a_script(artist, site):
    proof = services.proof_start(artist=artist, method=ProofMethod.META_TAG, target=site.domain)
    site.page("/", "<html><head><title>Ada</title></head><body>hi</body></html>")
    assert services.proof_check(proof=proof, actor=artist.user).status == ProofStatus.FAILED
    site.page(
        "/",
        f'<html><head><meta name="Removal-Desk-Verification" content=" {proof.token} "></head></html>',
    )
    assert services.proof_check(proof=proof, actor=artist.user).status == ProofStatus.VERIFIED


def test_it_refuses_a_meta_tag_with_another_token(artist, site):
    proof = services.proof_start(artist=artist, method=ProofMethod.META_TAG, target=site.domain)
    site.page("/", '<meta name="removal-desk-verification" content="rdv-wrong">')
    proof = services.proof_check(proof=proof, actor=artist.user)
    assert proof.status == ProofStatus.FAILED and "with another token" in proof.last_error


def test_it_times_out_on_a_web_server_that_never_answers(artist, proof_settings):
    proof_settings.PROOF_CHECK_TIMEOUT_SECONDS = 1
    with silent_server() as port:
        proof = services.proof_start(artist=artist, method=ProofMethod.META_TAG, target=f"localhost:{port}")
        started = timezone.now()
        proof = services.proof_check(proof=proof, actor=artist.user)
        took = (timezone.now() - started).total_seconds()
    assert proof.status == ProofStatus.FAILED and "did not answer within 1 seconds" in proof.last_error
    assert took < 5


# --- profile link-back -----------------------------------------------------------


def test_it_verifies_a_profile_link_back_in_the_bio(artist, site):
    url = site.url("/@ada")
    proof = services.proof_start(artist=artist, method=ProofMethod.PROFILE_LINK, target=url)
    site.page("/@ada", f"<html><body><script>var t='{proof.token}'</script><p>Painter.</p></body></html>")
    assert (
        services.proof_check(proof=proof, actor=artist.user).status == ProofStatus.FAILED
    )  # script: not text
    site.page("/@ada", f"<html><body><p class=bio>Painter. {proof.token}</p></body></html>")
    proof = services.proof_check(proof=proof, actor=artist.user)
    assert proof.status == ProofStatus.VERIFIED and proof.evidence["where"] == "text"


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/profile", "http://127.0.0.1:9/x"]
)
def test_it_refuses_profile_urls_on_private_addresses(artist, proof_settings, url):
    proof_settings.OUTBOUND_ALLOW_LOOPBACK = False
    proof = services.proof_start(artist=artist, method=ProofMethod.PROFILE_LINK, target=url)
    proof = services.proof_check(proof=proof, actor=artist.user)
    assert proof.status == ProofStatus.FAILED
    assert "not a public address" in proof.last_error


def test_it_requires_https_profile_urls_in_production(artist, proof_settings):
    proof_settings.PROOF_FETCH_SCHEME = "https"
    with pytest.raises(services.ActionRefused, match="starting with https://"):
        services.proof_start(artist=artist, method=ProofMethod.PROFILE_LINK, target="http://example.com/@ada")


@pytest.mark.parametrize("target", ["10.0.0.1", "exa mple.com", "", "-bad-.example"])
def test_it_refuses_targets_that_are_not_domains(artist, target):
    with pytest.raises(services.ActionRefused):
        services.proof_start(artist=artist, method=ProofMethod.DNS_TXT, target=target)


def test_domain_of_drops_the_port():
    proof = IdentityProof(method=ProofMethod.META_TAG, target="localhost:8080")
    assert proofs.domain_of(proof) == "localhost"
    assert (
        proofs.domain_of(IdentityProof(method=ProofMethod.PROFILE_LINK, target="https://x.example/@a")) == ""
    )


def test_the_new_proof_messages_are_in_french(artist):
    from django.utils import translation

    with translation.override("fr"), pytest.raises(services.ActionRefused) as refused:
        services.proof_start(
            artist=artist, method=ProofMethod.DNS_TXT, target="https://www.instagram.com/nora"
        )
    assert "ressemble à une page de profil" in str(refused.value)
