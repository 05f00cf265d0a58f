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

from .choices import (
    ClaimMethod,
    ClaimStatus,
    ConflictKind,
    FilingSource,
    FilingState,
    PartnerActionKind,
    PartnerStatus,
    RowChoice,
    RowState,
    SampleMark,
    SampleState,
)


def new_filing_id() -> str:
    return f"pf_{secrets.token_urlsafe(16).replace('-', 'x').replace('_', 'z')}"


class Partner(models.Model):
    """An organisation that files opt-outs for its creators, set up after an agreement."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    contact_email = models.EmailField(_("contact email"))
    agreement_ref = models.CharField(_("agreement reference"), max_length=100)
    agreement_date = models.DateField(_("agreement date"))
    attestation_text = models.TextField(
        _("attestation text"),
        help_text=_("What the partner attests with every filing (that it holds its creators' instruction)."),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=PartnerStatus.choices, default=PartnerStatus.ACTIVE
    )
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    status_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("status changed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status_reason = models.TextField(_("status reason"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == PartnerStatus.ACTIVE


class PartnerDomain(models.Model):
    """A host the partner serves its creators' works on (normalised by registry.hosts)."""

    partner = models.ForeignKey(
        Partner, verbose_name=_("partner"), on_delete=models.CASCADE, related_name="domains"
    )
    host = models.CharField(_("host"), max_length=253, help_text=_("Normalised: lower-case, IDNA, no port."))
    include_subdomains = models.BooleanField(_("include subdomains"), default=False)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("partner domain")
        verbose_name_plural = _("partner domains")
        ordering = ["partner_id", "host"]
        constraints = [models.UniqueConstraint(fields=["partner", "host"], name="one_domain_row_per_partner")]

    def __str__(self) -> str:
        return f"{'*.' if self.include_subdomains else ''}{self.host}"

    @property
    def verified(self) -> bool:
        return self.verified_at is not None


class PartnerKey(HashedKey):
    """A partner's API key (`rdp_...`): hashed as maintainers' keys are, never accepted by their API."""

    partner = models.ForeignKey(
        Partner, verbose_name=_("partner"), on_delete=models.CASCADE, related_name="keys"
    )
    # HashedKey's columns as they are there, named here for the partner's page (the maintainers'
    # keys keep registry's names).
    name = models.CharField(_("name"), max_length=100, default="default")
    prefix = models.CharField(
        _("prefix"), max_length=16, db_index=True, help_text=_("Visible start of the key.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("partner API key")
        verbose_name_plural = _("partner API keys")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.partner})"


class FilingPolicy(models.Model):
    """How a partner's rows are approved. One per partner; changed in the admin, audited."""

    partner = models.OneToOneField(
        Partner, verbose_name=_("partner"), on_delete=models.CASCADE, related_name="policy"
    )
    auto_approve_verified_hashed = models.BooleanField(
        _("approve automatically rows on a verified domain that carry hashes"),
        default=False,
        help_text=_("Off: every row waits for the desk."),
    )
    sample_size = models.PositiveIntegerField(
        _("sample size"),
        default=0,
        help_text=_(
            "Rows of each filing, drawn at random, that a moderator checks before any is approved "
            "automatically; the filing is held if the sample fails. 0: no sample."
        ),
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("filing policy")
        verbose_name_plural = _("filing policies")

    def __str__(self) -> str:
        return f"policy of {self.partner}"

    def settings_dict(self) -> dict[str, object]:
        """What an approval's audit row records of the policy that made it."""
        return {
            "auto_approve_verified_hashed": self.auto_approve_verified_hashed,
            "sample_size": self.sample_size,
        }


class Filing(models.Model):
    """One batch a partner sent. Its rows are matched and decided in the background."""

    public_id = models.CharField(_("public ID"), max_length=40, unique=True, default=new_filing_id)
    partner = models.ForeignKey(
        Partner, verbose_name=_("partner"), on_delete=models.PROTECT, related_name="filings"
    )
    key = models.ForeignKey(
        PartnerKey, verbose_name=_("key"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attestation = models.TextField(
        _("attestation"), help_text=_("The partner's attestation text at the time of filing.")
    )
    state = models.CharField(
        _("state"), max_length=20, choices=FilingState.choices, default=FilingState.QUEUED
    )
    total = models.PositiveIntegerField(_("total"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    duplicates = models.PositiveIntegerField(_("duplicates"), default=0)
    sample_state = models.CharField(
        _("sample state"), max_length=20, choices=SampleState.choices, default="", blank=True
    )
    cursor = models.BigIntegerField(
        _("cursor"), default=0, help_text=_("The last row decided: a resumed run starts after it.")
    )
    heartbeat_at = models.DateTimeField(_("heartbeat at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # A moderator revoked its removals: the policy approves none of its rows from then on.
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_reason = models.TextField(_("revoked reason"), blank=True)
    # A file filing (source "file"): the file announced, its bytes received, then read in batches.
    source = models.CharField(
        _("source"), max_length=10, choices=FilingSource.choices, default=FilingSource.JSON
    )
    file_format = models.CharField(
        _("file format"), max_length=10, blank=True, help_text=_("csv, ndjson or parquet.")
    )
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    file_size = models.BigIntegerField(_("file size"), null=True, blank=True, help_text=_("Bytes announced."))
    file_sha256 = models.CharField(_("file SHA-256"), max_length=64, blank=True)
    file_path = models.CharField(
        _("file path"), max_length=200, blank=True, help_text=_("Under PRIVATE_MEDIA_ROOT.")
    )
    received = models.BigIntegerField(_("received"), default=0, help_text=_("Bytes of the file received."))
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    rows_read = models.BigIntegerField(
        _("rows read"),
        default=0,
        help_text=_("Rows of the file read and committed: a resumed read starts after them."),
    )
    rows_total = models.BigIntegerField(
        _("rows total"), null=True, blank=True, help_text=_("Rows the file holds, if countable.")
    )
    message = models.TextField(_("message"), blank=True, help_text=_("Why the file could not be read."))

    class Meta:
        verbose_name = _("filing")
        verbose_name_plural = _("filings")
        ordering = ["-pk"]
        indexes = [models.Index(fields=["state", "heartbeat_at"], name="filing_state_heartbeat")]

    def __str__(self) -> str:
        return self.public_id


# The rows a moderator decides on the partners' desk.
DESK_STATES = (RowState.WAITING, RowState.CONFLICT, RowState.SAMPLED)
# Rows not decided yet that an artist's later request puts in conflict (services.late_conflicts).
UNDECIDED = (RowState.WAITING, RowState.SAMPLED)


class FilingRow(models.Model):
    """One row of a filing, as sent (validated), with what became of it."""

    # No index of their own: one_row_per_filing_index and filing_row_creator lead with them, and
    # each index more is written for every row stored and every row decided.
    filing = models.ForeignKey(
        Filing, verbose_name=_("filing"), on_delete=models.CASCADE, related_name="rows", db_index=False
    )
    partner = models.ForeignKey(
        Partner, verbose_name=_("partner"), on_delete=models.CASCADE, related_name="+", db_index=False
    )
    index = models.PositiveIntegerField(_("index"), help_text=_("Its position in the batch, from 0."))
    line = models.PositiveBigIntegerField(
        _("line"),
        null=True,
        blank=True,
        help_text=_("In a file: its line (CSV, header included; NDJSON) or row (Parquet)."),
    )
    state = models.CharField(_("state"), max_length=20, choices=RowState.choices)
    row_key = models.CharField(_("row key"), max_length=64, null=True, blank=True)
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("duplicate of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    creator_id = models.CharField(_("creator ID"), max_length=200, blank=True)
    creator_url = models.TextField(_("creator URL"), blank=True)
    creator_email = models.CharField(_("creator email"), max_length=254, blank=True)
    work_url = models.TextField(_("work URL"), blank=True)
    image_url = models.TextField(_("image URL"), blank=True)
    phash = models.BigIntegerField(_("pHash"), null=True, blank=True)
    dhash = models.BigIntegerField(_("dHash"), null=True, blank=True)
    pdq = models.BinaryField(_("PDQ"), max_length=32, null=True, blank=True)
    pdq_quality = models.SmallIntegerField(_("PDQ quality"), null=True, blank=True)
    basis = models.CharField(_("basis"), max_length=20, choices=RemovalReason.choices, blank=True)
    choice = models.CharField(_("choice"), max_length=20, choices=RowChoice.choices, blank=True)
    on_verified_domain = models.BooleanField(_("on verified domain"), default=False)
    error_field = models.CharField(_("error field"), max_length=40, blank=True)
    error = models.TextField(_("error"), blank=True)
    matched = models.PositiveIntegerField(
        _("matched"), default=0, help_text=_("Registered items it matched.")
    )
    matched_at = models.DateTimeField(
        _("matched at"),
        null=True,
        blank=True,
        help_text=_("When its matches were stored for the desk (a sampled row)."),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # The creator, having claimed their account, lifted it: its removals are revoked.
    lifted_at = models.DateTimeField(_("lifted at"), null=True, blank=True)
    # The image behind image_url, when the worker fetched and hashed it (the row sent no hashes).
    image_fetched_at = models.DateTimeField(_("image fetched at"), null=True, blank=True)
    image_sha256 = models.CharField(
        _("image SHA-256"),
        max_length=64,
        blank=True,
        help_text=_("As an artist's upload of the same file: re-encoded without metadata."),
    )
    image_attempts = models.PositiveSmallIntegerField(_("image attempts"), default=0)
    # The desk: who decided the row (empty: the policy), why, and a sampled row's mark.
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decision_reason = models.TextField(_("decision reason"), blank=True)
    sample_mark = models.CharField(
        _("sample mark"), max_length=10, choices=SampleMark.choices, blank=True, default=""
    )

    class Meta:
        verbose_name = _("filing row")
        verbose_name_plural = _("filing rows")
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
        verbose_name = _("item a row matched")
        verbose_name_plural = _("items rows matched")
        constraints = [models.UniqueConstraint(fields=["row", "item"], name="one_match_per_row_item")]

    def __str__(self) -> str:
        return f"{self.row_id} ~ item {self.item_id}"


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
        verbose_name = _("row's conflict with an artist's request")
        verbose_name_plural = _("rows' conflicts with artists' requests")
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
    item_id = models.BigIntegerField(help_text=_("registry's DatasetItem id (no constraint across apps)."))

    class Meta:
        verbose_name = _("item an approved row removed")
        verbose_name_plural = _("items approved rows removed")
        constraints = [models.UniqueConstraint(fields=["row", "item_id"], name="one_link_per_row_item")]
        indexes = [models.Index(fields=["item_id"], name="filing_row_item")]

    def __str__(self) -> str:
        return f"{self.row_id} -> item {self.item_id}"


class PartnerAction(models.Model):
    """An audit row for every change to a partner, its domains, keys and policy (`actor`: the
    operator; empty: a command or the policy engine), and for every approval a policy made.
    Written by the service in the change's transaction; never edited."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="partner_actions",
    )
    kind = models.CharField(_("kind"), max_length=40, choices=PartnerActionKind.choices)
    partner = models.ForeignKey(
        Partner,
        verbose_name=_("partner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="actions",
    )
    object_type = models.CharField(
        _("object type"), max_length=40, help_text=_("partner, domain, key, policy, filing or claim")
    )
    object_id = models.PositiveBigIntegerField(_("object ID"))
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("partner action")
        verbose_name_plural = _("partner actions")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="partner_action_object")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.object_type} {self.object_id}"


class CreatorClaim(models.Model):
    """A creator a partner filed for (partner, creator id), claimed by an artist's account.

    Verified by a signed link mailed to the address the partner gave, or by a token the creator
    put on their profile page at the partner's `creator_url`. One creator id is claimed by one
    account at most (the constraint); several may try, the first to prove it wins. The user, not
    the artist profile: registry and partners know nothing of the site's profiles.
    """

    partner = models.ForeignKey(
        Partner, verbose_name=_("partner"), on_delete=models.CASCADE, related_name="claims"
    )
    creator_id = models.CharField(_("creator ID"), max_length=200, help_text=_("As the partner filed it."))
    creator_key = models.CharField(
        _("creator key"), max_length=200, help_text=_("The creator id in lower case.")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="creator_claims",
    )
    method = models.CharField(_("method"), max_length=20, choices=ClaimMethod.choices)
    status = models.CharField(
        _("status"), max_length=20, choices=ClaimStatus.choices, default=ClaimStatus.PENDING
    )
    target = models.TextField(
        _("target"), help_text=_("The profile URL or the email address it was proved with.")
    )
    token = models.CharField(_("token"), max_length=64, blank=True)
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    checked_at = models.DateTimeField(_("checked at"), null=True, blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("creator claim")
        verbose_name_plural = _("creator claims")
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
