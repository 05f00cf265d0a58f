"""The upstream side: artists, their proofs and works, and removal requests (tickets)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from core.phash_bands import PHASH_BANDS, phash_band
from registry.models import DatasetItem, RemovalReason
from registry.preferences import Choice, Consent, Licence

from .storage import select_private_storage
from .workflow import Status


class VerificationLevel(models.IntegerChoices):
    NONE = 0, _("Unverified")
    EMAIL = 1, _("Email verified")
    DOMAIN = 2, _("Domain or profile verified")
    DOCUMENT = 3, _("Document reviewed")


class ArtistProfile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="artist")
    display_name = models.CharField(max_length=150)
    # Derived from proofs by services.profile_recompute_level; stored so the
    # moderators' queue can filter on it.
    verification_level = models.PositiveSmallIntegerField(
        _("verification level"), choices=VerificationLevel.choices, default=VerificationLevel.NONE
    )
    # The language the artist last used on the site (a code from settings.LANGUAGES): their emails use it.
    language = models.CharField(max_length=10, default=settings.LANGUAGE_CODE)
    created_at = models.DateTimeField(auto_now_add=True)
    # The portfolio's default choice (registry.preferences): new requests start from it, and a
    # work in no request follows it. Written only through services.portfolio_choice_set.
    default_choice = models.CharField(max_length=12, choices=Choice.choices, default=Choice.REMOVE)
    default_licence = models.CharField(max_length=10, choices=Licence.choices, blank=True, default="")
    default_licence_url = models.CharField(max_length=500, blank=True, default="")
    default_attribution = models.CharField(max_length=300, blank=True, default="")

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
    artist = models.ForeignKey(ArtistProfile, on_delete=models.CASCADE, related_name="proofs")
    method = models.CharField(max_length=20, choices=ProofMethod.choices)
    target = models.CharField(max_length=500, help_text="The email, domain or URL being proven.")
    token = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20, choices=ProofStatus.choices, default=ProofStatus.PENDING)
    evidence = models.JSONField(default=dict, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    # Pending: the artist must finish by then. Verified: valid until then, moved on by each
    # successful re-check (automatic methods) or fixed at review (documents).
    expires_at = models.DateTimeField(null=True, blank=True)
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
        constraints = [models.UniqueConstraint(fields=["artist", "site"], name="one_site_signals_per_domain")]

    def __str__(self) -> str:
        return f"{self.site} ({self.fetched_at:%Y-%m-%d %H:%M})"


class Priority(models.IntegerChoices):
    LOW = 0, _("Low")
    NORMAL = 1, _("Normal")
    HIGH = 2, _("High")


class ConsentFields(models.Model):
    """A choice as stored (registry.preferences): remove, licence or search only, and for a
    licence which one, its URL and the attribution. Written only through services.consent, which
    checks it with registry.preferences.consent_clean."""

    licence = models.CharField(max_length=10, choices=Licence.choices, blank=True, default="")
    licence_url = models.CharField(max_length=500, blank=True, default="")
    attribution = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        abstract = True


class RemovalRequest(ConsentFields):
    """The ticket. `reference` is its public name (RR-2026-000123)."""

    reference = models.CharField(max_length=40, unique=True, null=True, blank=True)
    artist = models.ForeignKey(ArtistProfile, on_delete=models.CASCADE, related_name="requests")
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    basis = models.CharField(
        _("basis"), max_length=20, choices=RemovalReason.choices, default=RemovalReason.COPYRIGHT
    )
    description = models.TextField(blank=True)
    statement = models.TextField(blank=True, help_text="The statement the artist signed on submission.")
    # The language `statement` was shown and signed in (a code from settings.LANGUAGES).
    statement_language = models.CharField(max_length=10, blank=True)
    signed_name = models.CharField(max_length=150, blank=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_requests",
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority.choices, default=Priority.NORMAL
    )
    sla_due_at = models.DateTimeField(null=True, blank=True)
    # When the SLA escalation last fired; a later sla_due_at arms it again.
    escalated_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # When re-matching after approval last finished; empty while it is due (the beat sweep runs it).
    rematched_at = models.DateTimeField(null=True, blank=True)
    # The request's default choice, for its works that make none of their own.
    choice = models.CharField(max_length=12, choices=Choice.choices, default=Choice.REMOVE)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("removal request")
        verbose_name_plural = _("removal requests")
        indexes = [models.Index(fields=["status", "sla_due_at"], name="request_status_sla")]
        permissions = [("moderate_removalrequest", "Can approve, reject and reply to removal requests")]

    def __str__(self) -> str:
        return self.reference or f"draft #{self.pk}"

    def consent(self) -> Consent:
        """The request's choice: the default of its works, and the choice of its domain lines."""
        return Consent(self.choice, self.licence, self.licence_url, self.attribution)


class HashState(models.TextChoices):
    PENDING = "pending", _("Waiting to be hashed")
    DONE = "done", _("Hashed and matched")
    FAILED = "failed", _("Failed")


class WorkDecision(models.TextChoices):
    """What approval did with a work. Set by request_approve and by a conflict's resolution."""

    UNDECIDED = "", _("Not decided")
    APPROVED = "approved", _("Approved: its removals are sent")
    # An open conflict touches it: it waits, the rest of the request goes ahead.
    HELD = "held", _("Held by an ownership conflict")
    # The conflict was resolved in another artist's favour: nothing is sent for it.
    DROPPED = "dropped", _("Not sent: another artist owns it")


# A work's pHash in three bands, each indexed (core.phash_bands): the works near a code are found
# through the indexes instead of reading every claiming work's pHash.


class Work(ConsentFields):
    """A submitted image: re-encoded without metadata, stored privately, never served publicly."""

    artist = models.ForeignKey(ArtistProfile, on_delete=models.CASCADE, related_name="works")
    request = models.ForeignKey(
        RemovalRequest, on_delete=models.CASCADE, null=True, blank=True, related_name="works"
    )
    file = models.FileField(storage=select_private_storage, upload_to="works/%Y/%m/")
    original_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    size_bytes = models.PositiveIntegerField()
    format = models.CharField(max_length=10)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    phash = models.BigIntegerField(null=True, blank=True)
    dhash = models.BigIntegerField(null=True, blank=True)
    pdq = models.BinaryField(max_length=32, null=True, blank=True)
    pdq_quality = models.SmallIntegerField(null=True, blank=True)
    phash_variants = models.JSONField(
        default=list, blank=True, help_text="pHash of the work mirrored and turned by right angles (7 codes)."
    )
    derived_hashes = models.JSONField(
        default=list,
        blank=True,
        help_text="[view, pHash, dHash] of the work cropped, padded and turned by small angles "
        "(registry.probes), searched to find edited copies.",
    )
    hash_state = models.CharField(max_length=20, choices=HashState.choices, default=HashState.PENDING)
    hash_error = models.TextField(blank=True)
    embedded_signals = models.JSONField(
        default=dict,
        blank=True,
        help_text="What the uploaded file said about AI training (C2PA/CAWG training-mining, IPTC "
        "plus:DataMining) before its metadata was stripped: registry.provenance.",
    )
    decision = models.CharField(max_length=10, choices=WorkDecision.choices, blank=True, default="")
    # The work's own choice; "" follows its request's (RemovalRequest.choice).
    choice = models.CharField(max_length=12, choices=Choice.choices, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # The portfolio page: an artist's works newest first, a page at a time.
            models.Index(fields=["artist", "id"], name="work_artist_id"),
            # Duplicates are found by content within a portfolio (services.uploads); not unique, since
            # works uploaded into two requests before portfolios existed may share their bytes.
            models.Index(fields=["artist", "sha256"], name="work_artist_sha256"),
            # Conflicts: the works near a pHash, by band (core.phash_bands). The pHash, id and request
            # ride along so that a probe reads the index only (1,000 codes' 67,000 probes at a million
            # works: 0.66 s instead of 0.9-1.3 s, bench/partner_conflicts.py).
            *(
                models.Index(phash_band(b), F("phash"), F("id"), F("request_id"), name=f"work_phash_band{b}")
                for b in range(len(PHASH_BANDS))
            ),
        ]

    def __str__(self) -> str:
        return self.original_name

    def consent(self) -> Consent:
        """The choice that holds for this work: its own, else its request's (which started from
        the portfolio's default), else the portfolio's default."""
        if self.choice:
            return Consent(self.choice, self.licence, self.licence_url, self.attribution)
        if self.request is not None:
            ticket = self.request
            return Consent(ticket.choice, ticket.licence, ticket.licence_url, ticket.attribution)
        return self.artist.default_consent()


class UploadState(models.TextChoices):
    RECEIVING = "receiving", _("Receiving")
    QUEUED = "queued", _("Waiting to be unpacked")
    PROCESSING = "processing", _("Unpacking")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired before it was finished")


class PortfolioUpload(models.Model):
    """One file (an image or a zip) sent in chunks into an artist's portfolio (docs/uploads.md).

    The bytes append to a private file (`path`, under PRIVATE_MEDIA_ROOT) until `received`
    reaches `size`; a worker then turns it into works, member by member, `next_member` being
    where it resumes. Optionally into a ticket too (one still editable when it was started).
    """

    key = models.UUIDField(unique=True, editable=False)
    artist = models.ForeignKey(ArtistProfile, on_delete=models.CASCADE, related_name="uploads")
    ticket = models.ForeignKey(
        RemovalRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="uploads"
    )
    name = models.CharField(max_length=255)
    is_zip = models.BooleanField(default=False)
    size = models.BigIntegerField()
    received = models.BigIntegerField(default=0)
    # The sha256 of the whole file, when the sender gave one: checked once every byte is in.
    sha256 = models.CharField(max_length=64, blank=True)
    path = models.CharField(max_length=200)
    state = models.CharField(max_length=20, choices=UploadState.choices, default=UploadState.RECEIVING)
    error = models.TextField(blank=True)
    members = models.PositiveIntegerField(default=0)
    next_member = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # Per file: [{"name": ..., "message": ..., "kind": "error"|"duplicate"}], the first few thousand.
    reports = models.JSONField(default=list, blank=True)
    # The first names added, for the ticket's "N works added" timeline row.
    added_names = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "updated_at"], name="upload_state_updated")]

    def __str__(self) -> str:
        return f"{self.name} ({self.state})"


class MatchState(models.TextChoices):
    SUGGESTED = "suggested", _("Suggested")
    CONFIRMED = "confirmed", _("Confirmed by the artist")
    EXCLUDED = "excluded", _("Excluded by the artist")
    APPROVED = "approved", _("Approved for removal")


class MatchConfidence(models.TextChoices):
    HIGH = "high", _("Very likely the same picture")
    MEDIUM = "medium", _("Probably the same picture, edited")
    LOW = "low", _("Possibly the same picture: only one hash could be compared")


class Match(models.Model):
    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="matches")
    item = models.ForeignKey(DatasetItem, on_delete=models.CASCADE, related_name="+")
    # The hash that found the candidate and its distance (registry.matching.Hit).
    algorithm = models.CharField(max_length=20, default="phash")
    distance = models.PositiveSmallIntegerField()
    # What verified it: the hashes that agree ([{"hash": "phash", "distance": 3, "bits": 64}, ...]),
    # the view of the work that matched ("original", "mirrored", "turned 90°", ...) and how sure.
    # Rows matched before verification existed have no signals.
    signals = models.JSONField(default=list, blank=True)
    view = models.CharField(max_length=40, default="original", blank=True)
    confidence = models.CharField(max_length=10, choices=MatchConfidence.choices, blank=True)
    state = models.CharField(max_length=20, choices=MatchState.choices, default=MatchState.SUGGESTED)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["distance", "id"]
        verbose_name = _("match")
        verbose_name_plural = _("matches")
        constraints = [models.UniqueConstraint(fields=["work", "item"], name="one_match_per_work_item")]
        # The portfolio's filters: does this work have a copy in this state?
        indexes = [models.Index(fields=["work", "state"], name="match_work_state")]

    def __str__(self) -> str:
        return f"{self.work} ~ {self.item} ({self.distance})"

    @property
    def agreement(self) -> str:
        """Which hashes agree and how close each is, in the active language (requests_app.likeness)."""
        from .likeness import agreement_text

        return agreement_text(self.signals or (), algorithm=self.algorithm, distance=self.distance)

    @property
    def view_label(self) -> str:
        """How the copy differs from the work as uploaded ("mirrored", "turned 90°"), or ""."""
        from .likeness import VIEW_LABELS

        return str(VIEW_LABELS.get(self.view, self.view)) if self.view != "original" else ""


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    STATUS = "status", _("Status change")
    PUBLIC_REPLY = "public_reply", _("Public reply")
    INTERNAL_NOTE = "internal_note", _("Internal note")
    ASSIGNMENT = "assignment", _("Assignment")
    VERIFICATION = "verification", _("Verification result")
    WORKS = "works", _("Works changed")
    MATCHES = "matches", _("Matches changed")
    REMOVALS = "removals", _("Removals recorded or confirmed")
    ESCALATION = "escalation", _("SLA escalation")
    CONFLICT = "conflict", _("Ownership conflict")
    SAMPLE = "sample", _("Sample checked")
    DISPUTE = "dispute", _("Dispute")


# Kinds an artist sees on their request's timeline; the rest are for moderators.
PUBLIC_EVENT_KINDS = frozenset(
    {
        EventKind.CREATED,
        EventKind.STATUS,
        EventKind.PUBLIC_REPLY,
        EventKind.WORKS,
        EventKind.REMOVALS,
        EventKind.DISPUTE,
    }
)


class TicketEvent(models.Model):
    """The timeline of a request; one row per change, so history is free."""

    request = models.ForeignKey(RemovalRequest, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    old_value = models.CharField(max_length=100, blank=True)
    new_value = models.CharField(max_length=100, blank=True)
    # What Removal Desk wrote, in English; for a person's words, what they wrote.
    message = models.TextField(blank=True)
    # What happened, as data ({"text": "works_added", "count": 12, ...}): timeline.event_text
    # renders it in the reader's language. Rows without it show `message`.
    params = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.old_value}→{self.new_value}"

    @property
    def is_public(self) -> bool:
        return self.kind in PUBLIC_EVENT_KINDS


class ConflictResolution(models.TextChoices):
    OPEN = "", _("Unresolved")
    FIRST = "first", _("The first request's artist owns the works")
    SECOND = "second", _("The second request's artist owns the works")
    BOTH = "both", _("Not a conflict (both may ask)")


class RequestConflict(models.Model):
    """Two artists' requests that claim the same image (same sha256, or pHash within a few bits).

    Stored, not computed, because it carries a moderator's resolution and holds both
    requests from approval until then. One row per pair; `first` has the lower id.
    """

    first = models.ForeignKey(RemovalRequest, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(RemovalRequest, on_delete=models.CASCADE, related_name="+")
    # [{"work": id, "other_work": id, "kind": "sha256"|"phash", "distance": n}, ...] (first -> second)
    pairs = models.JSONField(default=list)
    resolution = models.CharField(max_length=10, choices=ConflictResolution.choices, blank=True, default="")
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["first", "second"], name="one_conflict_per_request_pair"),
            models.CheckConstraint(condition=models.Q(first__lt=models.F("second")), name="conflict_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.first} ~ {self.second} ({self.get_resolution_display()})"

    @property
    def is_open(self) -> bool:
        return self.resolution == ConflictResolution.OPEN

    def other(self, ticket: RemovalRequest) -> RemovalRequest:
        return self.second if ticket.pk == self.first_id else self.first

    def owner_request_id(self) -> int | None:
        if self.resolution == ConflictResolution.FIRST:
            return self.first_id
        if self.resolution == ConflictResolution.SECOND:
            return self.second_id
        return None


class PartnerConflictResolution(models.TextChoices):
    OPEN = "", _("Unresolved")
    ARTIST = "artist", _("The artist owns the works")
    PARTNER = "partner", _("The partner's creator owns the works")
    BOTH = "both", _("Not a conflict (both may ask)")
    # Nobody decided: the partner's filing was revoked, so its removal no longer stands against the work.
    WITHDRAWN = "withdrawn", _("The partner's filing was revoked")


class PartnerConflict(models.Model):
    """An artist's request that claims a registered item a partner's filing had removed already,
    for a creator the artist has not claimed: someone else's claim to the same work.

    Written by the partners app when the request is submitted (services.partner_conflicts_record);
    requests_app knows the filing by its public id and the partner by name only, as registry's
    removals name them. An open one holds the work from approval (the later claim is held, the
    recorded removal stays) until a moderator decides.
    """

    request = models.ForeignKey(RemovalRequest, on_delete=models.CASCADE, related_name="partner_claims")
    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(DatasetItem, on_delete=models.CASCADE, related_name="+")
    filing_ref = models.CharField(max_length=40, help_text="The partner's filing (pf_...).")
    partner = models.CharField(max_length=200)
    creator_id = models.CharField(max_length=200, blank=True)
    resolution = models.CharField(
        max_length=10, choices=PartnerConflictResolution.choices, blank=True, default=""
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "work", "item", "filing_ref"], name="one_partner_conflict_per_claim"
            )
        ]

    def __str__(self) -> str:
        return f"{self.request} ~ {self.filing_ref} (item {self.item_id})"

    @property
    def is_open(self) -> bool:
        return self.resolution == PartnerConflictResolution.OPEN


class RequestScope(models.Model):
    """One scope line of a domain request: a host the artist proved, with or without its subdomains,
    optionally under a path prefix. Approval records a registry DomainOptOut for each."""

    request = models.ForeignKey(RemovalRequest, on_delete=models.CASCADE, related_name="scopes")
    host = models.CharField(max_length=253, help_text="Normalised (registry.hosts): lower-case, IDNA.")
    include_subdomains = models.BooleanField(default=False)
    path_prefix = models.CharField(max_length=100, blank=True)
    # The verified domain proof that covers the host when the line was accepted.
    proof = models.ForeignKey(
        IdentityProof, on_delete=models.SET_NULL, null=True, blank=True, related_name="scopes"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "host", "include_subdomains", "path_prefix"],
                name="one_scope_line_per_request",
            )
        ]

    def __str__(self) -> str:
        return f"{'*.' if self.include_subdomains else ''}{self.host}{self.path_prefix}"
