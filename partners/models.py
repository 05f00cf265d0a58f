"""Partners: organisations (art platforms, stock agencies, museums) that file opt-outs on behalf
of the creators they host, under an agreement an operator records in the admin.

A partner's filings become registry removals with the filing's public id as their source
reference (`pf_...`); registry knows nothing of partners.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from core.phash_bands import PHASH_BANDS, phash_band
from registry.models import HashedKey, RemovalReason


def new_filing_id() -> str:
    return f"pf_{secrets.token_urlsafe(16).replace('-', 'x').replace('_', 'z')}"


class PartnerStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"


class Partner(models.Model):
    """An organisation that files opt-outs for its creators, set up after an agreement."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    contact_email = models.EmailField()
    agreement_ref = models.CharField("agreement reference", max_length=100)
    agreement_date = models.DateField()
    attestation_text = models.TextField(
        help_text="What the partner attests with every filing (that it holds its creators' instruction)."
    )
    status = models.CharField(max_length=20, choices=PartnerStatus.choices, default=PartnerStatus.ACTIVE)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == PartnerStatus.ACTIVE


class PartnerDomain(models.Model):
    """A host the partner serves its creators' works on (normalised by registry.hosts)."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="domains")
    host = models.CharField(max_length=253, help_text="Normalised: lower-case, IDNA, no port.")
    include_subdomains = models.BooleanField(default=False)
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["partner_id", "host"]
        constraints = [models.UniqueConstraint(fields=["partner", "host"], name="one_domain_row_per_partner")]

    def __str__(self) -> str:
        return f"{'*.' if self.include_subdomains else ''}{self.host}"

    @property
    def verified(self) -> bool:
        return self.verified_at is not None


class PartnerKey(HashedKey):
    """A partner's API key (`rdp_...`): hashed as maintainers' keys are, never accepted by their API."""

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="keys")

    class Meta:
        verbose_name = _("partner API key")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.partner})"


class FilingPolicy(models.Model):
    """How a partner's rows are approved. One per partner; changed in the admin, audited."""

    partner = models.OneToOneField(Partner, on_delete=models.CASCADE, related_name="policy")
    auto_approve_verified_hashed = models.BooleanField(
        "approve automatically rows on a verified domain that carry hashes",
        default=False,
        help_text="Off: every row waits for the desk.",
    )
    sample_size = models.PositiveIntegerField(
        default=0,
        help_text="Rows of each filing, drawn at random, that a moderator checks before any is approved "
        "automatically; the filing is held if the sample fails. 0: no sample.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = _("filing policies")

    def __str__(self) -> str:
        return f"policy of {self.partner}"

    def settings_dict(self) -> dict[str, object]:
        """What an approval's audit row records of the policy that made it."""
        return {
            "auto_approve_verified_hashed": self.auto_approve_verified_hashed,
            "sample_size": self.sample_size,
        }


class FilingState(models.TextChoices):
    QUEUED = "queued", "Queued"
    MATCHING = "matching", "Matching"
    HELD = "held", "Held for its sample"
    COMPLETED = "completed", "Completed"
    # A file filing's own stages, before its rows are matched (partners.services.files).
    RECEIVING = "receiving", "Receiving its file"
    READING = "reading", "Reading its file"
    FAILED = "failed", "Failed: its file cannot be read"
    EXPIRED = "expired", "Expired: its file was not finished in time"


class FilingSource(models.TextChoices):
    JSON = "json", "JSON batch"
    FILE = "file", "File"


class SampleState(models.TextChoices):
    NONE = "", "No sample"
    PENDING = "pending", "Waiting for the desk"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"


class Filing(models.Model):
    """One batch a partner sent. Its rows are matched and decided in the background."""

    public_id = models.CharField(max_length=40, unique=True, default=new_filing_id)
    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="filings")
    key = models.ForeignKey(PartnerKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    attestation = models.TextField(help_text="The partner's attestation text at the time of filing.")
    state = models.CharField(max_length=20, choices=FilingState.choices, default=FilingState.QUEUED)
    total = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    duplicates = models.PositiveIntegerField(default=0)
    sample_state = models.CharField(max_length=20, choices=SampleState.choices, default="", blank=True)
    cursor = models.BigIntegerField(
        default=0, help_text="The last row decided: a resumed run starts after it."
    )
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # A moderator revoked its removals: the policy approves none of its rows from then on.
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.TextField(blank=True)
    # A file filing (source "file"): the file announced, its bytes received, then read in batches.
    source = models.CharField(max_length=10, choices=FilingSource.choices, default=FilingSource.JSON)
    file_format = models.CharField(max_length=10, blank=True, help_text="csv, ndjson or parquet.")
    file_name = models.CharField(max_length=255, blank=True)
    file_size = models.BigIntegerField(null=True, blank=True, help_text="Bytes announced.")
    file_sha256 = models.CharField(max_length=64, blank=True)
    file_path = models.CharField(max_length=200, blank=True, help_text="Under PRIVATE_MEDIA_ROOT.")
    received = models.BigIntegerField(default=0, help_text="Bytes of the file received.")
    received_at = models.DateTimeField(null=True, blank=True)
    rows_read = models.BigIntegerField(
        default=0, help_text="Rows of the file read and committed: a resumed read starts after them."
    )
    rows_total = models.BigIntegerField(null=True, blank=True, help_text="Rows the file holds, if countable.")
    message = models.TextField(blank=True, help_text="Why the file could not be read.")

    class Meta:
        ordering = ["-pk"]
        indexes = [models.Index(fields=["state", "heartbeat_at"], name="filing_state_heartbeat")]

    def __str__(self) -> str:
        return self.public_id


class RowState(models.TextChoices):
    REJECTED = "rejected", "Rejected"
    DUPLICATE = "duplicate", "Duplicate"
    PENDING = "pending", "Pending"
    """Accepted, not matched yet."""
    SAMPLED = "sampled", "In the sample, for the desk"
    WAITING = "waiting", "Waiting for the desk"
    APPROVED = "approved", "Approved"
    UNMATCHED = "unmatched", "No match"
    """Approvable, but no registered item matched it (nothing to remove yet)."""
    CONFLICT = "conflict", "Conflict with an artist's request"
    """It names a work an artist claims in a request of their own: a moderator decides."""
    DECLINED = "declined", "Declined by the desk"


# The rows a moderator decides on the partners' desk.
DESK_STATES = (RowState.WAITING, RowState.CONFLICT, RowState.SAMPLED)
# Rows not decided yet that an artist's later request puts in conflict (services.late_conflicts).
UNDECIDED = (RowState.WAITING, RowState.SAMPLED)


class SampleMark(models.TextChoices):
    NONE = "", "Not marked"
    GOOD = "good", "Good"
    BAD = "bad", "Bad"


class RowChoice(models.TextChoices):
    """The creator's choice (registry.preferences.Choice): a removal, a removal that allows
    search indexing, or a licence (recorded as licence grants, never as removals)."""

    REMOVE = "remove", "Remove"
    SEARCH_ONLY = "search_only", "Search only"
    LICENCE = "licence", "Licence"


class FilingRow(models.Model):
    """One row of a filing, as sent (validated), with what became of it."""

    # No index of their own: one_row_per_filing_index and filing_row_creator lead with them, and
    # each index more is written for every row stored and every row decided.
    filing = models.ForeignKey(Filing, on_delete=models.CASCADE, related_name="rows", db_index=False)
    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="+", db_index=False)
    index = models.PositiveIntegerField(help_text="Its position in the batch, from 0.")
    line = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text="In a file: its line (CSV, header included; NDJSON) or row (Parquet).",
    )
    state = models.CharField(max_length=20, choices=RowState.choices)
    row_key = models.CharField(max_length=64, null=True, blank=True)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    creator_id = models.CharField(max_length=200, blank=True)
    creator_url = models.TextField(blank=True)
    creator_email = models.CharField(max_length=254, blank=True)
    work_url = models.TextField(blank=True)
    image_url = models.TextField(blank=True)
    phash = models.BigIntegerField(null=True, blank=True)
    dhash = models.BigIntegerField(null=True, blank=True)
    pdq = models.BinaryField(max_length=32, null=True, blank=True)
    pdq_quality = models.SmallIntegerField(null=True, blank=True)
    basis = models.CharField(max_length=20, choices=RemovalReason.choices, blank=True)
    choice = models.CharField(max_length=20, choices=RowChoice.choices, blank=True)
    on_verified_domain = models.BooleanField(default=False)
    error_field = models.CharField(max_length=40, blank=True)
    error = models.TextField(blank=True)
    matched = models.PositiveIntegerField(default=0, help_text="Registered items it matched.")
    matched_at = models.DateTimeField(
        null=True, blank=True, help_text="When its matches were stored for the desk (a sampled row)."
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # The creator, having claimed their account, lifted it: its removals are revoked.
    lifted_at = models.DateTimeField(null=True, blank=True)
    # The image behind image_url, when the worker fetched and hashed it (the row sent no hashes).
    image_fetched_at = models.DateTimeField(null=True, blank=True)
    image_sha256 = models.CharField(
        max_length=64,
        blank=True,
        help_text="As an artist's upload of the same file: re-encoded without metadata.",
    )
    image_attempts = models.PositiveSmallIntegerField(default=0)
    # The desk: who decided the row (empty: the policy), why, and a sampled row's mark.
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_reason = models.TextField(blank=True)
    sample_mark = models.CharField(max_length=10, choices=SampleMark.choices, blank=True, default="")

    class Meta:
        ordering = ["filing_id", "index"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "row_key"],
                condition=Q(row_key__isnull=False),
                name="one_row_per_partner_key",
            ),
            models.UniqueConstraint(fields=["filing", "index"], name="one_row_per_filing_index"),
        ]
        indexes = [
            # A filing's rows in a state, in id order: a chunk of pending rows after the cursor is
            # read from here and stops at its LIMIT (with (filing, state) alone PostgreSQL read
            # every pending row of the filing and sorted them, per chunk: quadratic in a file).
            models.Index(fields=["filing", "state", "id"], name="filing_row_state_id"),
            # The rows still waiting for their image to be fetched and hashed (images_prepare's
            # query, before each chunk): without it, each chunk read every pending row after the
            # cursor to find that none needed one.
            models.Index(
                fields=["filing", "id"],
                condition=Q(
                    state="pending",
                    phash__isnull=True,
                    pdq__isnull=True,
                    image_fetched_at__isnull=True,
                    error="",
                )
                & ~Q(image_url=""),
                name="filing_row_needs_image",
            ),
            # The rows their creator lifted, a few of a filing's: the partner reads them back
            # (GET .../rows/?lifted=true) without a scan of the filing's other rows.
            models.Index(
                fields=["filing", "id"], condition=Q(lifted_at__isnull=False), name="filing_row_lifted"
            ),
            # A claimed creator's rows (creator ids compare ignoring case, as duplicates do).
            models.Index(F("partner"), Lower("creator_id"), name="filing_row_creator"),
            # The rows left undecided near an artist's work by pHash, when the artist's request is
            # submitted after them (services.late_conflicts), by band (core.phash_bands). Partial:
            # only the rows waiting or sampled, a few of a partner's millions.
            *(
                models.Index(
                    phash_band(b), name=f"filing_row_phash_band{b}", condition=Q(state__in=UNDECIDED)
                )
                for b in range(len(PHASH_BANDS))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filing_id}#{self.index}"

    @property
    def has_hashes(self) -> bool:
        return self.phash is not None or self.pdq is not None


class DeskRow(FilingRow):
    """A partner's row on the moderators' desk (waiting, in conflict or sampled)."""

    class Meta:
        proxy = True
        verbose_name = _("row for the desk")
        verbose_name_plural = _("rows for the desk")


class FilingRowMatch(models.Model):
    """A registered item a row matched, kept for the desk when the row was not approved by policy
    (an approved row's matches are its removals). Why this is not one table with FilingRowItem:
    see FilingRowItem."""

    row = models.ForeignKey(FilingRow, on_delete=models.CASCADE, related_name="item_matches")
    item = models.ForeignKey("registry.DatasetItem", on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["row", "item"], name="one_match_per_row_item")]

    def __str__(self) -> str:
        return f"{self.row_id} ~ item {self.item_id}"


class ConflictKind(models.TextChoices):
    ITEM = "item", "the same registered item"
    PHASH = "phash", "a pHash within the conflict distance"


class FilingRowConflict(models.Model):
    """An artist's claiming request that names the same work as a partner's row."""

    row = models.ForeignKey(FilingRow, on_delete=models.CASCADE, related_name="conflicts")
    request = models.ForeignKey(
        "requests_app.RemovalRequest", on_delete=models.CASCADE, related_name="partner_conflicts"
    )
    work = models.ForeignKey("requests_app.Work", on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey(
        "registry.DatasetItem", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=10, choices=ConflictKind.choices)
    distance = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["row_id", "request_id", "pk"]
        constraints = [models.UniqueConstraint(fields=["row", "work"], name="one_conflict_per_row_work")]

    def __str__(self) -> str:
        return f"row {self.row_id} / work {self.work_id} ({self.kind})"


class FilingRowLicence(models.Model):
    """A licence row's terms (registry.preferences.Licence): which licence, its URL and the credit
    the creator asks for. A table of its own: FilingRow is read, written by COPY and probed for
    duplicates at millions of rows, and columns every other row would carry empty change what
    the planner chooses for those probes."""

    row = models.OneToOneField(
        FilingRow, on_delete=models.CASCADE, primary_key=True, related_name="licence_terms"
    )
    licence = models.CharField(max_length=10)
    licence_url = models.CharField(max_length=500)
    attribution = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"{self.row_id}: {self.licence}"


class FilingRowItem(models.Model):
    """A registered item an approved row matched: with the filing's public id it names the row's
    removal (removals are unique per source and item), so a claimed creator's removals and a
    lifted row's are found without matching again.

    The same shape as FilingRowMatch (a row and an item), kept apart on purpose. A match is the
    desk's evidence for a row still to decide: it goes with its item (a foreign key, deleted with
    it) and is read by row and by item. A link is the record of what an approved row removed: it
    holds a bare id with no constraint across apps (as Removal.item holds none), so deleting an
    item neither cascades into it nor is slowed by it, and it is read by item (its unique
    constraint serves the row). One table would need a kind column, one foreign-key rule for
    both, and a migration copying every approved row's links (a million for a million-row
    filing) at partner volume, for no query that reads both: not worth it.
    """

    # one_link_per_row_item leads with it: no index of its own.
    row = models.ForeignKey(FilingRow, on_delete=models.CASCADE, related_name="items", db_index=False)
    item_id = models.BigIntegerField(help_text="registry's DatasetItem id (no constraint across apps).")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["row", "item_id"], name="one_link_per_row_item")]
        indexes = [models.Index(fields=["item_id"], name="filing_row_item")]

    def __str__(self) -> str:
        return f"{self.row_id} -> item {self.item_id}"


class PartnerActionKind(models.TextChoices):
    PARTNER_CREATED = "partner_created", "partner created"
    PARTNER_CHANGED = "partner_changed", "partner changed"
    PARTNER_SUSPENDED = "partner_suspended", "partner suspended"
    PARTNER_REINSTATED = "partner_reinstated", "partner reinstated"
    DOMAIN_ADDED = "domain_added", "domain added"
    DOMAIN_VERIFIED = "domain_verified", "domain verified"
    DOMAIN_REMOVED = "domain_removed", "domain removed"
    KEY_CREATED = "key_created", "partner key created"
    KEY_REVOKED = "key_revoked", "partner key revoked"
    POLICY_CHANGED = "policy_changed", "filing policy changed"
    ROWS_APPROVED_BY_POLICY = "rows_approved_by_policy", "rows approved by policy"
    SAMPLE_DRAWN = "sample_drawn", "sample drawn"
    SAMPLE_PASSED = "sample_passed", "sample passed"
    SAMPLE_FAILED = "sample_failed", "sample failed"
    FILING_REVOKED = "filing_revoked", "filing's removals revoked"
    DISPUTE = "dispute", "a removal of the filing disputed"
    PARTNER_REVOKED = "partner_revoked", "every filing's removals revoked"
    CREATOR_CLAIMED = "creator_claimed", "creator claimed their account"
    ROWS_LIFTED = "rows_lifted", "rows lifted by their creator"
    ROW_CHOICE_CHANGED = "row_choice_changed", "a row's choice changed by its creator"
    SAMPLE_ROWS_MARKED = "sample_rows_marked", "sampled rows marked"
    ROWS_APPROVED_BY_DESK = "rows_approved_by_desk", "rows approved by the desk"
    ROWS_DECLINED_BY_DESK = "rows_declined_by_desk", "rows declined by the desk"
    IMAGES_FETCHED_AGAIN = "images_fetched_again", "images to be fetched again"
    ROWS_IN_CONFLICT = "rows_in_conflict", "rows put in conflict by an artist's later request"
    FILE_EXPIRED = "file_expired", "file filing expired unfinished"


class PartnerAction(models.Model):
    """An audit row for every change to a partner, its domains, keys and policy (`actor`: the
    operator; empty: a command or the policy engine), and for every approval a policy made.
    Written by the service in the change's transaction; never edited."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="partner_actions",
    )
    kind = models.CharField(max_length=40, choices=PartnerActionKind.choices)
    partner = models.ForeignKey(
        Partner, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions"
    )
    object_type = models.CharField(max_length=40, help_text="partner, domain, key, policy, filing or claim")
    object_id = models.PositiveBigIntegerField()
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="partner_action_object")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.object_type} {self.object_id}"


class ClaimMethod(models.TextChoices):
    EMAIL = "email", "A link mailed to the address the partner gave"
    PROFILE_LINK = "profile_link", "A token on the creator's profile page"


class ClaimStatus(models.TextChoices):
    PENDING = "pending", "Waiting for the token on the profile"
    VERIFIED = "verified", "Claimed"


class CreatorClaim(models.Model):
    """A creator a partner filed for (partner, creator id), claimed by an artist's account.

    Verified by a signed link mailed to the address the partner gave, or by a token the creator
    put on their profile page at the partner's `creator_url`. One creator id is claimed by one
    account at most (the constraint); several may try, the first to prove it wins. The user, not
    the artist profile: registry and partners know nothing of the site's profiles.
    """

    partner = models.ForeignKey(Partner, on_delete=models.CASCADE, related_name="claims")
    creator_id = models.CharField(max_length=200, help_text="As the partner filed it.")
    creator_key = models.CharField(max_length=200, help_text="The creator id in lower case.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="creator_claims"
    )
    method = models.CharField(max_length=20, choices=ClaimMethod.choices)
    status = models.CharField(max_length=20, choices=ClaimStatus.choices, default=ClaimStatus.PENDING)
    target = models.TextField(help_text="The profile URL or the email address it was proved with.")
    token = models.CharField(max_length=64, blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["partner", "creator_key"],
                condition=Q(status="verified"),
                name="one_account_per_claimed_creator",
            ),
            models.UniqueConstraint(
                fields=["partner", "creator_key", "user"], name="one_claim_per_creator_per_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner}: {self.creator_id} ({self.get_status_display()})"

    @property
    def verified(self) -> bool:
        return self.status == ClaimStatus.VERIFIED
