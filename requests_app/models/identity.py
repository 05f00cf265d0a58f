"""Artists and what proves who they are: profiles, identity proofs, and what their verified
sites say about AI training."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from registry.preferences import Choice, Consent, Licence

from ..storage import select_private_storage


class VerificationLevel(models.IntegerChoices):
    NONE = 0, _("Unverified")
    EMAIL = 1, _("Email verified")
    DOMAIN = 2, _("Domain or profile verified")
    DOCUMENT = 3, _("Document reviewed")


class ArtistProfile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="artist")
    display_name = models.CharField(_("name"), max_length=150)
    # Derived from proofs by services.profile_recompute_level; stored so the
    # moderators' queue can filter on it.
    verification_level = models.PositiveSmallIntegerField(
        _("verification level"), choices=VerificationLevel.choices, default=VerificationLevel.NONE
    )
    # The language the artist last used on the site (a code from settings.LANGUAGES): their emails use it.
    language = models.CharField(max_length=10, default=settings.LANGUAGE_CODE)
    created_at = models.DateTimeField(_("joined"), auto_now_add=True)
    # The portfolio's default choice (registry.preferences): new requests start from it, and a
    # work in no request follows it. Written only through services.portfolio_choice_set.
    default_choice = models.CharField(max_length=12, choices=Choice.choices, default=Choice.REMOVE)
    default_licence = models.CharField(max_length=10, choices=Licence.choices, blank=True, default="")
    default_licence_url = models.CharField(max_length=500, blank=True, default="")
    default_attribution = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        verbose_name = _("artist")
        verbose_name_plural = _("artists")

    def __str__(self) -> str:
        return f"{self.display_name} <{self.user.email}>"

    def default_consent(self) -> Consent:
        return Consent(
            self.default_choice, self.default_licence, self.default_licence_url, self.default_attribution
        )


class ProofMethod(models.TextChoices):
    EMAIL = "email", _("Email address")
    DNS_TXT = "dns_txt", _("DNS TXT record")
    WELL_KNOWN = "well_known", _("File under /.well-known/")
    META_TAG = "meta_tag", _("HTML meta tag")
    PROFILE_LINK = "profile_link", _("Profile link-back")
    DOCUMENT = "document", _("Document reviewed by a moderator")


class ProofStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    VERIFIED = "verified", _("Verified")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


class IdentityProof(models.Model):
    artist = models.ForeignKey(
        ArtistProfile, on_delete=models.CASCADE, related_name="proofs", verbose_name=_("artist")
    )
    method = models.CharField(_("method"), max_length=20, choices=ProofMethod.choices)
    target = models.CharField(_("for"), max_length=500, help_text="The email, domain or URL being proven.")
    token = models.CharField(max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=ProofStatus.choices, default=ProofStatus.PENDING
    )
    evidence = models.JSONField(default=dict, blank=True)
    checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    verified_at = models.DateTimeField(_("verified on"), null=True, blank=True)
    # Pending: the artist must finish by then. Verified: valid until then, moved on by each
    # successful re-check (automatic methods) or fixed at review (documents).
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # What the last check found, in words for the artist ("no TXT record at ...").
    last_error = models.TextField(blank=True)
    # Re-checks that failed in a row: one network hiccup does not lapse a proof.
    failures = models.PositiveSmallIntegerField(default=0)
    # Documents: Fernet-encrypted bytes in private storage, deleted after the retention period.
    document = models.FileField(storage=select_private_storage, upload_to="proofs/%Y/%m/", blank=True)
    document_name = models.CharField(max_length=255, blank=True)
    document_content_type = models.CharField(max_length=100, blank=True)
    document_deleted_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("identity proof")
        verbose_name_plural = _("identity proofs")
        indexes = [models.Index(fields=["status", "checked_at"], name="proof_status_checked")]

    def __str__(self) -> str:
        return f"{self.get_method_display()}: {self.target} ({self.status})"

    @property
    def is_automatic(self) -> bool:
        """Checked by fetching or resolving something, so it can be re-checked by beat."""
        return self.method in AUTOMATIC_METHODS


AUTOMATIC_METHODS = frozenset(
    {ProofMethod.DNS_TXT, ProofMethod.WELL_KNOWN, ProofMethod.META_TAG, ProofMethod.PROFILE_LINK}
)
DOMAIN_METHODS = frozenset({ProofMethod.DNS_TXT, ProofMethod.WELL_KNOWN, ProofMethod.META_TAG})


class SiteSignals(models.Model):
    """What one of the artist's verified domains said when last fetched: robots.txt, ai.txt and
    tdmrep.json, each read for what it reserves from AI training (requests_app.site_signals).

    `files` holds, per file key (robots, ai_txt, tdmrep), its status (found, not_found,
    malformed, unreachable), the URL read, and the scope, notes and problems found, each as
    (line, code, params) so the page words them in the reader's language. `scope` is the
    merged scope lines of all three, as a domain request takes them.
    """

    artist = models.ForeignKey(ArtistProfile, on_delete=models.CASCADE, related_name="site_signals")
    site = models.CharField(max_length=300, help_text="The verified domain (host, with a port in tests).")
    fetched_at = models.DateTimeField()
    files = models.JSONField(default=dict, blank=True)
    scope = models.JSONField(default=list, blank=True)
    # How many places the files reserve in all; `scope` keeps the first SCOPE_LINES_MAX of them.
    scope_total = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("signals of a site")
        verbose_name_plural = _("site signals")
        constraints = [models.UniqueConstraint(fields=["artist", "site"], name="one_site_signals_per_domain")]

    def __str__(self) -> str:
        return f"{self.site} ({self.fetched_at:%Y-%m-%d %H:%M})"
