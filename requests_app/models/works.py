"""An artist's works, the chunked uploads that bring them in, and their matches in data sets."""

from __future__ import annotations

from django.db import models
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from core.phash_bands import PHASH_BANDS, phash_band
from registry.models import DatasetItem
from registry.preferences import Choice, Consent

from ..storage import select_private_storage
from .identity import ArtistProfile
from .requests import ConsentFields, RemovalRequest


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

    artist = models.ForeignKey(
        ArtistProfile, on_delete=models.CASCADE, related_name="works", verbose_name=_("artist")
    )
    request = models.ForeignKey(
        RemovalRequest,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="works",
        verbose_name=_("request"),
    )
    file = models.FileField(storage=select_private_storage, upload_to="works/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    size_bytes = models.PositiveIntegerField()
    format = models.CharField(_("format"), max_length=10)
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
    hash_state = models.CharField(
        _("hashing"), max_length=20, choices=HashState.choices, default=HashState.PENDING
    )
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
    created_at = models.DateTimeField(_("added on"), auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("work")
        verbose_name_plural = _("works")
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
        verbose_name = _("portfolio upload")
        verbose_name_plural = _("portfolio uploads")
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
    work = models.ForeignKey(Work, on_delete=models.CASCADE, related_name="matches", verbose_name=_("work"))
    item = models.ForeignKey(DatasetItem, on_delete=models.CASCADE, related_name="+")
    # The hash that found the candidate and its distance (registry.matching.Hit).
    algorithm = models.CharField(_("found by"), max_length=20, default="phash")
    distance = models.PositiveSmallIntegerField(_("distance"))
    # What verified it: the hashes that agree ([{"hash": "phash", "distance": 3, "bits": 64}, ...]),
    # the view of the work that matched ("original", "mirrored", "turned 90°", ...) and how sure.
    # Rows matched before verification existed have no signals.
    signals = models.JSONField(default=list, blank=True)
    view = models.CharField(max_length=40, default="original", blank=True)
    confidence = models.CharField(max_length=10, choices=MatchConfidence.choices, blank=True)
    state = models.CharField(
        _("state"), max_length=20, choices=MatchState.choices, default=MatchState.SUGGESTED
    )
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
        from ..likeness import agreement_text

        return agreement_text(self.signals or (), algorithm=self.algorithm, distance=self.distance)

    @property
    def view_label(self) -> str:
        """How the copy differs from the work as uploaded ("mirrored", "turned 90°"), or ""."""
        from ..likeness import VIEW_LABELS

        return str(VIEW_LABELS.get(self.view, self.view)) if self.view != "original" else ""
