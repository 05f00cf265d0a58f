"""Identity proofs against real servers on loopback: DNS (dnslib), HTTP, a server that never answers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from requests_app import proofs, services
from requests_app.models import (
    EventKind,
    IdentityProof,
    ProofMethod,
    ProofStatus,
    TicketEvent,
    VerificationLevel,
)
from requests_app.tasks import proofs_recheck
from requests_app.workflow import Status

from .proof_servers import closed_udp_port, dns_server, silent_server, web_server


@pytest.fixture(autouse=True)
def proof_settings(settings):
    settings.PROOF_FETCH_SCHEME = "http"
    settings.PROOF_CHECK_MIN_SECONDS = 0
    settings.PROOF_CHECK_TIMEOUT_SECONDS = 2
    return settings


@pytest.fixture
def zone(proof_settings):
    with dns_server() as (zone, nameserver):
        proof_settings.PROOF_DNS_NAMESERVER = nameserver
        yield zone


@pytest.fixture
def site():
    with web_server() as site:
        yield site


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


def test_starting_twice_keeps_the_token(artist):
    first = services.proof_start(artist=artist, method=ProofMethod.DNS_TXT, target="art.example")
    again = services.proof_start(artist=artist, method=ProofMethod.DNS_TXT, target="ART.example.")
    assert again.pk == first.pk and again.token == first.token


def test_check_now_is_rate_limited(artist, site, proof_settings):
    proof_settings.PROOF_CHECK_MIN_SECONDS = 60
    proof = services.proof_start(artist=artist, method=ProofMethod.WELL_KNOWN, target=site.domain)
    services.proof_check(proof=proof, actor=artist.user)
    proof.refresh_from_db()
    with pytest.raises(services.ActionRefused, match="a moment ago"):
        services.proof_check(proof=proof, actor=artist.user)


def test_an_expired_pending_proof_cannot_be_checked(artist, site):
    proof = services.proof_start(artist=artist, method=ProofMethod.WELL_KNOWN, target=site.domain)
    IdentityProof.objects.filter(pk=proof.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert services.proofs_expire() == 1
    proof.refresh_from_db()
    assert proof.status == ProofStatus.EXPIRED
    with pytest.raises(services.ActionRefused, match="expired"):
        services.proof_check(proof=proof, actor=artist.user)


# --- re-checks by beat, and lapses -------------------------------------------------


def test_beat_rechecks_and_a_lapse_is_flagged_on_open_requests(
    artist, site, proof_settings, mailoutbox, django_capture_on_commit_callbacks
):
    proof_settings.PROOF_RECHECK_FAILURES_TO_LAPSE = 2
    proof = services.proof_start(artist=artist, method=ProofMethod.WELL_KNOWN, target=site.domain)
    site.page("/.well-known/removal-desk.txt", proof.token)
    services.proof_check(proof=proof, actor=artist.user)
    ticket = services.request_create(artist=artist, basis="copyright")
    ticket.status = Status.IN_REVIEW  # an open request; how it got there is not this test's subject
    ticket.save(update_fields=["status"])

    site.pages.clear()  # the artist took the file down
    stale = timezone.now() - timedelta(hours=proof_settings.PROOF_RECHECK_HOURS + 1)
    IdentityProof.objects.filter(pk=proof.pk).update(checked_at=stale)
    assert proofs_recheck() == 1
    proof.refresh_from_db()
    assert proof.status == ProofStatus.VERIFIED and proof.failures == 1  # one miss is not a lapse

    IdentityProof.objects.filter(pk=proof.pk).update(checked_at=stale)
    with django_capture_on_commit_callbacks(execute=True):
        assert proofs_recheck() == 1
    proof.refresh_from_db()
    assert proof.status == ProofStatus.EXPIRED and "HTTP 404" in proof.last_error
    artist.refresh_from_db()
    assert artist.verification_level == VerificationLevel.EMAIL
    flag = TicketEvent.objects.get(
        request=ticket, kind=EventKind.VERIFICATION, message__startswith="Proof lapsed"
    )
    assert site.domain in flag.message and not flag.is_public
    assert [m.subject for m in mailoutbox] == ["One of your identity proofs no longer holds"]


def test_a_verified_proof_past_its_expiry_lapses(artist, zone):
    proof = services.proof_start(artist=artist, method=ProofMethod.DNS_TXT, target="art.example")
    zone.txt["art.example."] = [f"removal-desk-verification={proof.token}"]
    services.proof_check(proof=proof, actor=artist.user)
    IdentityProof.objects.filter(pk=proof.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert services.proofs_expire() == 1
    assert IdentityProof.objects.get(pk=proof.pk).status == ProofStatus.EXPIRED
    assert services.proofs_expire() == 0


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
