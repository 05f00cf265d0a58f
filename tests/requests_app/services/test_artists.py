"""requests_app.services.artists: sign-up, the emailed verification link, the display name and the
verification level that follows the artist's verified proofs."""

from __future__ import annotations

import re

import pytest
from django.core import mail, signing
from django.db import connection
from django.test.utils import CaptureQueriesContext

from requests_app import services
from requests_app.models import ArtistProfile, IdentityProof, ProofMethod, ProofStatus, VerificationLevel
from requests_app.services.artists import EMAIL_TOKEN_SALT
from tests.helpers import ARTIST_PASSWORD, verify_domain


def token_of(profile: ArtistProfile) -> str:
    return services.email_verification_link(profile).rstrip("/").rsplit("/", 1)[-1]


def test_signup_keeps_the_address_in_lower_case_and_mails_the_link(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        profile = services.artist_signup(
            email="Ada@Example.COM", password=ARTIST_PASSWORD, display_name="Ada"
        )
    assert profile.user.username == profile.user.email == "ada@example.com"
    assert profile.user.check_password(ARTIST_PASSWORD)
    assert profile.verification_level == VerificationLevel.NONE
    assert not services.email_is_verified(profile)
    [message] = mail.outbox
    assert message.to == ["ada@example.com"]
    # The mailed link itself verifies the address (signing the token again here would differ from
    # the mailed one whenever a second has passed since: the token holds its time).
    [token] = re.findall(r"/verify-email/([^/\s]+)/", message.body)
    assert services.email_verify(token=token) == profile
    assert services.email_is_verified(profile)


def test_signup_refuses_an_address_that_has_an_account_whatever_its_case(artist):
    with pytest.raises(services.ActionRefused, match="exists already"):
        services.artist_signup(email="ADA@example.com", password=ARTIST_PASSWORD, display_name="Other Ada")
    assert ArtistProfile.objects.filter(user__email="ada@example.com").count() == 1


def test_the_link_verifies_the_address_once_and_again_without_a_second_proof(db):
    profile = services.artist_signup(email="nora@example.com", password=ARTIST_PASSWORD, display_name="Nora")
    token = token_of(profile)
    assert services.email_verify(token=token) == profile
    services.email_verify(token=token)
    profile.refresh_from_db()
    assert services.email_is_verified(profile)
    assert profile.verification_level == VerificationLevel.EMAIL
    [proof] = IdentityProof.objects.filter(artist=profile)
    assert (proof.method, proof.status, proof.target) == (
        ProofMethod.EMAIL,
        ProofStatus.VERIFIED,
        "nora@example.com",
    )


def _token_for(profile: ArtistProfile, email: str) -> str:
    return signing.dumps({"u": profile.user_id, "e": email}, salt=EMAIL_TOKEN_SALT)


def test_a_tampered_link_or_one_for_an_old_address_is_refused_with_its_reason(db):
    profile = services.artist_signup(email="nora@example.com", password=ARTIST_PASSWORD, display_name="Nora")
    with pytest.raises(services.ActionRefused, match="not valid"):
        services.email_verify(token=token_of(profile)[:-2] + "xx")
    profile.user.email = "new@example.com"
    profile.user.save()
    with pytest.raises(services.ActionRefused, match="no longer exists"):
        services.email_verify(token=_token_for(profile, "nora@example.com"))
    assert not services.email_is_verified(profile)


def test_the_level_is_the_strongest_verified_proof_and_falls_when_it_lapses(artist):
    assert artist.verification_level == VerificationLevel.EMAIL
    verify_domain(artist, "ada.example")
    artist.refresh_from_db()
    assert artist.verification_level == VerificationLevel.DOMAIN
    IdentityProof.objects.filter(artist=artist, method=ProofMethod.DNS_TXT).update(status=ProofStatus.EXPIRED)
    assert services.profile_recompute_level(profile=artist) == VerificationLevel.EMAIL
    artist.refresh_from_db()
    assert artist.verification_level == VerificationLevel.EMAIL


def test_a_rename_collapses_spaces_and_refuses_an_empty_name(artist):
    services.profile_rename(profile=artist, display_name="  Ada   King\tLovelace ")
    artist.refresh_from_db()
    assert artist.display_name == "Ada King Lovelace"
    with pytest.raises(services.ActionRefused) as refused:
        services.profile_rename(profile=artist, display_name="   ")
    assert refused.value.field == "display_name"
    artist.refresh_from_db()
    assert artist.display_name == "Ada King Lovelace"


def test_the_language_is_written_once_when_it_changes(artist):
    assert artist.language != "fr"
    with CaptureQueriesContext(connection) as queries:
        services.profile_remember_language(profile=artist, language="fr")
    assert len(queries) == 1
    assert artist.language == "fr"
    assert ArtistProfile.objects.get(pk=artist.pk).language == "fr"

    with CaptureQueriesContext(connection) as queries:
        services.profile_remember_language(profile=artist, language="fr")
    assert len(queries) == 0


def test_no_language_leaves_the_remembered_one(artist):
    before = artist.language
    services.profile_remember_language(profile=artist, language="")
    assert ArtistProfile.objects.get(pk=artist.pk).language == before == artist.language
