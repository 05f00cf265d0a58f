"""Artists' accounts: signup, e-mail verification, display name, verification level."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import notify
from ..models import (
    ArtistProfile,
    IdentityProof,
    ProofMethod,
    ProofStatus,
    VerificationLevel,
)
from ._ticket import ActionRefused

EMAIL_TOKEN_SALT = "removal-desk.email-verification"  # noqa: S105  (a salt, not a secret)


EMAIL_TOKEN_MAX_AGE = 3 * 24 * 3600


@transaction.atomic
def artist_signup(
    *, email: str, password: str, display_name: str, language: str = settings.LANGUAGE_CODE
) -> ArtistProfile:
    """Create the account; `language` (the page's, at sign-up) is the one its emails are written in."""
    user_model = get_user_model()
    email = user_model.objects.normalize_email(email).lower()
    if user_model.objects.filter(username=email).exists():
        raise ActionRefused(_("An account with this email address exists already; log in instead."))
    user = user_model.objects.create_user(username=email, email=email, password=password)
    profile = ArtistProfile.objects.create(user=user, display_name=display_name, language=language)
    email_verification_send(profile=profile)
    return profile


def email_verification_link(profile: ArtistProfile) -> str:
    token = signing.dumps({"u": profile.user_id, "e": profile.user.email}, salt=EMAIL_TOKEN_SALT)
    return settings.SITE_URL + reverse("verify_email", args=[token])


def email_verification_send(*, profile: ArtistProfile) -> None:
    notify.email_verification(profile=profile, link=email_verification_link(profile))


@transaction.atomic
def email_verify(*, token: str) -> ArtistProfile:
    try:
        data = signing.loads(token, salt=EMAIL_TOKEN_SALT, max_age=EMAIL_TOKEN_MAX_AGE)
    except signing.SignatureExpired:
        raise ActionRefused(_("This link has expired; log in and ask for a new one.")) from None
    except signing.BadSignature:
        raise ActionRefused(_("This link is not valid; check that you copied all of it.")) from None
    profile = ArtistProfile.objects.select_related("user").filter(user_id=data.get("u")).first()
    if profile is None or profile.user.email != data.get("e"):
        raise ActionRefused(_("This link is for an account or address that no longer exists."))
    now = timezone.now()
    IdentityProof.objects.update_or_create(
        artist=profile,
        method=ProofMethod.EMAIL,
        target=profile.user.email,
        defaults={"status": ProofStatus.VERIFIED, "verified_at": now, "checked_at": now},
    )
    profile_recompute_level(profile=profile)
    return profile


_LEVEL_OF_METHOD: dict[str, int] = {
    ProofMethod.EMAIL: VerificationLevel.EMAIL,
    ProofMethod.DNS_TXT: VerificationLevel.DOMAIN,
    ProofMethod.WELL_KNOWN: VerificationLevel.DOMAIN,
    ProofMethod.META_TAG: VerificationLevel.DOMAIN,
    ProofMethod.PROFILE_LINK: VerificationLevel.DOMAIN,
    ProofMethod.DOCUMENT: VerificationLevel.DOCUMENT,
}


def profile_recompute_level(*, profile: ArtistProfile) -> int:
    methods = profile.proofs.filter(status=ProofStatus.VERIFIED).values_list("method", flat=True)
    level = max((_LEVEL_OF_METHOD[m] for m in methods), default=VerificationLevel.NONE)
    if profile.verification_level != level:
        profile.verification_level = level
        profile.save(update_fields=["verification_level"])
    return level


@transaction.atomic
def profile_rename(*, profile: ArtistProfile, display_name: str) -> ArtistProfile:
    """The artist's name: the one their signatures must match (see signature_check)."""
    name = " ".join(display_name.split())[:150]
    if not name:
        raise ActionRefused(_("Type your name."), field="display_name")
    profile.display_name = name
    profile.save(update_fields=["display_name"])
    return profile


def profile_remember_language(*, profile: ArtistProfile, language: str) -> ArtistProfile:
    """Emails follow the language the artist last used on their pages: one UPDATE when it
    changed, nothing otherwise (every artist page calls this)."""
    if language and language != profile.language:
        ArtistProfile.objects.filter(pk=profile.pk).update(language=language)
        profile.language = language
    return profile


def email_is_verified(profile: ArtistProfile) -> bool:
    return profile.proofs.filter(method=ProofMethod.EMAIL, status=ProofStatus.VERIFIED).exists()
