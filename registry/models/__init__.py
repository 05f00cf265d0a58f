"""The downstream side: data sets, their indexed items, and the removal registry.

Nothing here knows about tickets. A Removal carries an opaque
`source_ref` (the public reference of whatever asked for it).
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .. import ids
from ..preferences import Choice, Consent, Licence, Preference

# Re-exported: every model of the app is read as registry.models.<Name>.
from .disputes import (  # noqa: F401
    DISPUTE_DECIDED_STATES,
    DISPUTE_OPEN_STATES,
    Dispute,
    DisputeAuthor,
    DisputeFiler,
    DisputeMessage,
    DisputeMessageKind,
    DisputeReason,
    DisputeState,
    private_storage_for_disputes,
)
from .shards import IndexShard, ShardState, shard_queue  # noqa: F401
from .webhooks import (  # noqa: F401
    DeliveryAttempt,
    DeliveryState,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
    WebhookEventType,
    WebhookSecret,
)


def private_storage_for_imports() -> FileSystemStorage:
    """Uploaded index files: private (maintainers' data), never under a URL."""
    return FileSystemStorage(location=settings.PRIVATE_MEDIA_ROOT, base_url=None)


def url_key(url: str) -> int:
    """A 64-bit key for exact URL look-ups (the first 8 bytes of SHA-256, signed).

    URLs can be longer than a B-tree entry allows, and a bigint index is far
    cheaper to maintain during imports than one on text. Look-ups compare the
    URL itself too, so a collision costs a row read, never a wrong answer.
    """
    return int.from_bytes(hashlib.sha256(url.encode("utf-8")).digest()[:8], "big", signed=True)


class Maintainer(models.Model):
    """An organisation that maintains one or more data sets."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    email = models.EmailField(_("email"), help_text=_("Where operational notices (disabled endpoints) go."))
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="maintainers", verbose_name=_("members")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("maintainer")
        verbose_name_plural = _("maintainers")

    def __str__(self) -> str:
        return self.name


class HashedKey(models.Model):
    """An API key of one owner (a maintainer, a partner). Only its SHA-256 is stored; the key is
    shown once, and its visible start (`prefix`) names it in lists and audit rows."""

    name = models.CharField(max_length=100, default="default")
    prefix = models.CharField(max_length=16, db_index=True, help_text="Visible start of the key.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiKey(HashedKey):
    """A maintainer's API key (`rdk_...`)."""

    maintainer = models.ForeignKey(
        Maintainer, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("maintainer")
    )
    # HashedKey's columns as they are there, named here for the admin (a partner's keys name
    # theirs in partners.models), so that neither app's migrations follow the other's words.
    name = models.CharField(_("name"), max_length=100, default="default")
    prefix = models.CharField(
        _("prefix"), max_length=16, db_index=True, help_text=_("Visible start of the key.")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.maintainer})"


class Dataset(models.Model):
    maintainer = models.ForeignKey(
        Maintainer, on_delete=models.CASCADE, related_name="datasets", verbose_name=_("maintainer")
    )
    slug = models.SlugField(_("slug"), max_length=100)
    name = models.CharField(_("name"), max_length=200)
    homepage = models.URLField(_("homepage"), blank=True)
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("data set")
        verbose_name_plural = _("data sets")
        constraints = [
            models.UniqueConstraint(fields=["maintainer", "slug"], name="dataset_slug_per_maintainer")
        ]
        ordering = ["maintainer_id", "slug"]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"


class DatasetItem(models.Model):
    """One image of a data set's index. Hashes are 64-bit codes stored signed."""

    # No index of its own: the unique (dataset, external_id) index serves look-ups by
    # data set, and one index less makes bulk imports faster.
    dataset = models.ForeignKey(
        Dataset, on_delete=models.CASCADE, related_name="items", db_index=False, verbose_name=_("data set")
    )
    external_id = models.CharField(_("external id"), max_length=200)
    url = models.TextField(_("URL"))
    url_key = models.BigIntegerField(_("URL key"))
    # The URL's host as registry.hosts keys it ("com.example.www.", "" when unreadable) and its
    # path: domain opt-outs find their items through one index on both (migration 0005; on
    # PostgreSQL with text_pattern_ops, so a subdomain query is a prefix range).
    host = models.TextField(_("host"), default="", blank=True)
    path = models.TextField(_("path"), default="", blank=True)
    phash = models.BigIntegerField(_("pHash (as stored, signed)"), null=True, blank=True)
    dhash = models.BigIntegerField(_("dHash (as stored, signed)"), null=True, blank=True)
    pdq = models.BinaryField(_("PDQ"), max_length=32, null=True, blank=True)
    pdq_quality = models.SmallIntegerField(_("PDQ quality"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("data set item")
        verbose_name_plural = _("data set items")
        constraints = [
            models.UniqueConstraint(fields=["dataset", "external_id"], name="item_external_id_per_dataset")
        ]
        indexes = [
            models.Index(fields=["url_key"], name="item_url_key"),
            # The Hamming indexes re-read what changed since their last check.
            models.Index(fields=["dataset", "updated_at"], name="item_updated_per_dataset"),
        ]

    def __str__(self) -> str:
        return f"{self.dataset.slug}/{self.external_id}"


class RemovalReason(models.TextChoices):
    # Artist-facing labels (the request form, the request page); the API sends the values, never these.
    COPYRIGHT = "copyright", _("Copyright")
    LIKENESS = "likeness", _("Likeness")
    PRIVACY = "privacy", _("Privacy")


class RemovalSource(models.TextChoices):
    """Who asked: an artist's own request, or a partner platform filing for the creators it hosts."""

    ARTIST = "artist", _("Artist")
    PARTNER = "partner", _("Partner")


class RemovalState(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    REVOKED = "revoked", _("Revoked")


class Removal(models.Model):
    """One approved removal of one item (or a bare URL/hash) from one data set.

    The primary key orders the maintainer's feed: rows are only appended,
    so a cursor on it never skips one.
    """

    public_id = models.CharField(_("public id"), max_length=40, unique=True, default=ids.new_removal_id)
    dataset = models.ForeignKey(
        Dataset, on_delete=models.PROTECT, related_name="removals", verbose_name=_("data set")
    )
    # No database constraint: checking one locks the item's row, which on a domain opt-out of
    # 50,000 items scattered over as many pages wrote 430 MiB of WAL at commit (full-page images)
    # and took seconds. Items are never deleted but through the ORM, which sets this to NULL.
    item = models.ForeignKey(
        DatasetItem,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="removals",
        db_constraint=False,
        verbose_name=_("item"),
    )
    external_id = models.CharField(_("external id"), max_length=200, null=True, blank=True)
    url = models.TextField(_("URL"), null=True, blank=True)
    url_key = models.BigIntegerField(_("URL key"), null=True, blank=True)
    phash = models.BigIntegerField(_("pHash (as stored, signed)"), null=True, blank=True)
    dhash = models.BigIntegerField(_("dHash (as stored, signed)"), null=True, blank=True)
    pdq = models.BinaryField(_("PDQ"), max_length=32, null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=20, choices=RemovalReason.choices)
    source_ref = models.CharField(_("source reference"), max_length=40, db_index=True)
    # Database defaults too: rows written by SQL (the set-based writer, bulk loads) get them.
    source = models.CharField(
        _("source"),
        max_length=10,
        choices=RemovalSource.choices,
        default=RemovalSource.ARTIST,
        db_default="artist",
    )
    partner = models.CharField(
        _("partner"),
        max_length=200,
        blank=True,
        default="",
        db_default="",
        help_text=_("The partner's public name."),
    )
    approved_at = models.DateTimeField(_("approved at"))
    state = models.CharField(
        _("state"), max_length=20, choices=RemovalState.choices, default=RemovalState.PENDING, db_index=True
    )
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    # Why it was revoked, as maintainers read it (the feed, the export, the removal.revoked event);
    # who did it is audited on the side that asked (a partner's audit trail, a ticket's timeline).
    revoked_reason = models.CharField(_("why revoked"), max_length=500, blank=True, default="", db_default="")
    # The artist's choice, in the AI preferences vocabulary (registry.preferences): a removal is
    # always train-ai=disallowed; `search` says whether search indexing is allowed too (a
    # "search only" choice) or unstated (a plain removal).
    search = models.CharField(
        _("search indexing"),
        max_length=10,
        choices=Preference.choices,
        default=Preference.UNKNOWN,
        db_default="unknown",
    )
    # The PostgreSQL transaction that last wrote what a look-up answers from (set by a trigger,
    # migration 0011): the in-process look-up index re-reads the rows changed since its last
    # read by this, which, unlike the id, no transaction can commit behind (registry.lookup_index).
    changed_xact = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("removal")
        verbose_name_plural = _("removals")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["url_key"], name="removal_url_key"),
            models.Index(fields=["changed_xact"], name="removal_changed_xact"),
        ]
        constraints = [
            # One live removal per item and source: once revoked (the artist lifted it, or chose
            # a licence) the same source may remove the item again, as a new removal.
            models.UniqueConstraint(
                fields=["source_ref", "item"],
                condition=Q(item__isnull=False) & ~Q(state="revoked"),
                name="one_live_removal_per_item_per_source",
            )
        ]

    def __str__(self) -> str:
        return self.public_id

    @property
    def train_ai(self) -> str:
        """A removal is a statement that training is disallowed (registry.preferences)."""
        return str(Preference.DISALLOWED)


class DomainOptOut(models.Model):
    """A rule: everything under a host (and its subdomains, or under a path prefix) is opted out.

    Recording it writes a Removal of `source_ref` for every registered item under it; items
    imported or upserted later are matched at write time, and the lookup answers "removed" for
    any URL under it, registered or not. Never deleted: revoking sets `revoked_at`.

    It carries the artist's choice (registry.preferences): `remove` as above; `search_only`
    the same with removals whose `search` is allowed; `licence` writes no removal but a
    LicenceGrant per registered item under it (at record and at write time alike), and the
    lookup answers "allowed for training" for any URL under it that nothing removes.
    """

    host = models.CharField(_("host"), max_length=253, help_text=_("Normalised: lower-case, IDNA, no port."))
    host_key = models.CharField(
        _("host key"), max_length=254, db_index=True, help_text="registry.hosts.host_key(host)"
    )
    include_subdomains = models.BooleanField(_("subdomains included"), default=False)
    path_prefix = models.CharField(_("path prefix"), max_length=100, blank=True, help_text='"" or "/…/"')
    reason = models.CharField(_("reason"), max_length=20, choices=RemovalReason.choices)
    source_ref = models.CharField(_("source reference"), max_length=40, db_index=True)
    # Who asked, copied onto the rule's removals and answered by the lookup (see Removal).
    source = models.CharField(
        _("source"),
        max_length=10,
        choices=RemovalSource.choices,
        default=RemovalSource.ARTIST,
        db_default="artist",
    )
    partner = models.CharField(_("partner"), max_length=200, blank=True, default="", db_default="")
    approved_at = models.DateTimeField(_("approved at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # The choice, checked by preferences.consent_clean (rules made before choices read "remove").
    # Written only through services.domains, which restates the rule's statements when it changes.
    choice = models.CharField(
        _("choice"),
        max_length=12,
        choices=Choice.choices,
        default=Choice.REMOVE,
        db_default=Choice.REMOVE.value,
    )
    licence = models.CharField(
        _("licence"), max_length=10, choices=Licence.choices, blank=True, default="", db_default=""
    )
    licence_url = models.CharField(_("licence URL"), max_length=500, blank=True, default="", db_default="")
    attribution = models.CharField(_("attribution"), max_length=300, blank=True, default="", db_default="")
    # The PostgreSQL transaction that last wrote it (set by a trigger,
    # migration 0011): the in-process look-up index re-reads the rows changed since its last
    # read by this, which, unlike the id, no transaction can commit behind (registry.lookup_index).
    changed_xact = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("domain opt-out")
        verbose_name_plural = _("domain opt-outs")
        ordering = ["host_key", "path_prefix", "pk"]
        indexes = [models.Index(fields=["changed_xact"], name="optout_changed_xact")]
        constraints = [
            models.UniqueConstraint(
                fields=["source_ref", "host_key", "include_subdomains", "path_prefix"],
                name="one_domain_optout_per_source_scope",
            ),
            # A rule that licenses names its licence; one that removes names none.
            models.CheckConstraint(
                condition=(Q(choice__in=["remove", "search_only"]) & Q(licence="") & Q(licence_url=""))
                | (Q(choice="licence") & Q(licence__in=list(Licence.values)) & ~Q(licence_url="")),
                name="domain_optout_choice_consistent",
            ),
        ]

    def __str__(self) -> str:
        return f"{'*.' if self.include_subdomains else ''}{self.host}{self.path_prefix} ({self.source_ref})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def consent(self) -> Consent:
        return Consent(self.choice, self.licence, self.licence_url, self.attribution)

    @property
    def is_removal(self) -> bool:
        """Whether the rule disallows training (remove, search only), i.e. writes removals."""
        return self.consent.is_removal


class GrantState(models.TextChoices):
    ACTIVE = "active", _("Active")
    REVOKED = "revoked", _("Revoked")


class LicenceGrant(models.Model):
    """An artist's permission to train on one item (or a bare hash) of one data set, under a licence.

    Not a removal: readers of the removals feed treat every entry as "remove this", so a grant
    has its own feed and added fields in the lookup and the v2 answer (`optIn`). train-ai is
    allowed; `search` as the choice said. The primary key orders the grants feed; rows are only
    appended (revoking sets `revoked_at`).
    """

    public_id = models.CharField(max_length=40, unique=True, default=ids.new_grant_id)
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="licence_grants")
    item = models.ForeignKey(
        DatasetItem,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="licence_grants",
        db_constraint=False,
    )
    external_id = models.CharField(max_length=200, null=True, blank=True)
    url = models.TextField(null=True, blank=True)
    url_key = models.BigIntegerField(null=True, blank=True, db_index=True)
    phash = models.BigIntegerField(null=True, blank=True)
    dhash = models.BigIntegerField(null=True, blank=True)
    pdq = models.BinaryField(max_length=32, null=True, blank=True)
    licence = models.CharField(max_length=10, choices=Licence.choices)
    licence_url = models.CharField(max_length=500)
    attribution = models.CharField(max_length=300, blank=True)
    search = models.CharField(max_length=10, choices=Preference.choices, default=Preference.UNKNOWN)
    source_ref = models.CharField(max_length=40, db_index=True)
    source = models.CharField(max_length=10, choices=RemovalSource.choices, default=RemovalSource.ARTIST)
    partner = models.CharField(max_length=200, blank=True, default="")
    granted_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=GrantState.choices, default=GrantState.ACTIVE)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=500, blank=True, default="")
    # The PostgreSQL transaction that last wrote it (set by a trigger,
    # migration 0011): the in-process look-up index re-reads the rows changed since its last
    # read by this, which, unlike the id, no transaction can commit behind (registry.lookup_index).
    changed_xact = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("licence grant")
        verbose_name_plural = _("licence grants")
        ordering = ["id"]
        indexes = [models.Index(fields=["changed_xact"], name="grant_changed_xact")]
        constraints = [
            models.UniqueConstraint(
                fields=["source_ref", "item"],
                condition=Q(item__isnull=False) & Q(state="active"),
                name="one_live_grant_per_item_per_source",
            )
        ]

    def __str__(self) -> str:
        return self.public_id

    @property
    def train_ai(self) -> str:
        return str(Preference.ALLOWED)


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class ImportJob(models.Model):
    """A bulk index upload (CSV, NDJSON or Parquet), processed in committed batches.

    `processed` counts the data rows whose batch is committed, so a re-run
    after a crash skips them, and the upsert by external_id makes any
    overlap harmless.
    """

    public_id = models.CharField(max_length=40, unique=True, default=ids.new_import_id)
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="imports")
    file = models.FileField(upload_to="imports/%Y/%m/", storage=private_storage_for_imports)
    format = models.CharField(max_length=10)
    original_name = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=20, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    total = models.BigIntegerField(null=True, blank=True)
    processed = models.BigIntegerField(default=0)
    created_count = models.BigIntegerField(default=0)
    updated_count = models.BigIntegerField(default=0)
    error_count = models.BigIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="The first 1,000 bad rows.")
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Touched with every committed batch; a stale one means the worker died.",
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("index import")
        verbose_name_plural = _("index imports")

    def __str__(self) -> str:
        return f"{self.public_id} ({self.status})"


class WorkerHeartbeat(models.Model):
    """When a worker last took a message from each queue (beat sends one a minute): the health check."""

    queue = models.CharField(max_length=50, primary_key=True)
    hostname = models.CharField(max_length=200, blank=True)
    seen_at = models.DateTimeField()

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return f"{self.queue} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"


class OperatorActionKind(models.TextChoices):
    MAINTAINER_CREATED = "maintainer_created", _("maintainer created")
    MAINTAINER_CHANGED = "maintainer_changed", _("maintainer changed")
    API_KEY_CREATED = "api_key_created", _("API key created")
    API_KEY_REVOKED = "api_key_revoked", _("API key revoked")
    ENDPOINT_DISABLED = "endpoint_disabled", _("endpoint disabled")
    ENDPOINT_ENABLED = "endpoint_enabled", _("endpoint enabled")


class OperatorAction(models.Model):
    """An audit row for a change to a maintainer, a key or an endpoint made on our side, not by the
    maintainer through the API: by an operator in the admin (`actor`), or with no actor by a
    management command or the delivery engine (an endpoint failing for days). Written by the
    service in the same transaction as the change; never edited."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="registry_actions",
        verbose_name=_("operator"),
        help_text=_("Empty: a management command or the delivery engine."),
    )
    kind = models.CharField(_("action"), max_length=40, choices=OperatorActionKind.choices)
    maintainer = models.ForeignKey(
        Maintainer,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="operator_actions",
        verbose_name=_("maintainer"),
    )
    object_type = models.CharField(
        _("object type"), max_length=40, help_text="maintainer, api_key or webhook_endpoint"
    )
    object_id = models.PositiveBigIntegerField(_("object id"))
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    created_at = models.DateTimeField(_("date"), auto_now_add=True)

    class Meta:
        verbose_name = _("operator action")
        verbose_name_plural = _("operator actions")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="operator_action_object")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.object_type} {self.object_id}"
