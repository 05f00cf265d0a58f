"""Removal requests (tickets): the choice they carry, their scope lines and their timeline."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from registry.models import RemovalReason
from registry.preferences import Choice, Consent, Licence

from ..workflow import Status
from .identity import ArtistProfile, IdentityProof


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
        verbose_name = _("domain scope line")
        verbose_name_plural = _("domain scope lines")
        constraints = [
            models.UniqueConstraint(
                fields=["request", "host", "include_subdomains", "path_prefix"],
                name="one_scope_line_per_request",
            )
        ]

    def __str__(self) -> str:
        return f"{'*.' if self.include_subdomains else ''}{self.host}{self.path_prefix}"


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

    request = models.ForeignKey(
        RemovalRequest, on_delete=models.CASCADE, related_name="events", verbose_name=_("request")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    old_value = models.CharField(_("old value"), max_length=100, blank=True)
    new_value = models.CharField(_("new value"), max_length=100, blank=True)
    # What Removal Desk wrote, in English; for a person's words, what they wrote.
    message = models.TextField(blank=True)
    # What happened, as data ({"text": "works_added", "count": 12, ...}): timeline.event_text
    # renders it in the reader's language. Rows without it show `message`.
    params = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("date"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.old_value}→{self.new_value}"

    @property
    def is_public(self) -> bool:
        return self.kind in PUBLIC_EVENT_KINDS
