"""Ownership conflicts: two artists' requests claiming the same image, and an artist's request
claiming an item a partner's filing removed for another creator. Each waits for a moderator."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from registry.models import DatasetItem

from .requests import RemovalRequest
from .works import Work


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
        verbose_name = _("conflict between artists")
        verbose_name_plural = _("conflicts between artists")
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
        verbose_name = _("conflict with a partner's filing")
        verbose_name_plural = _("conflicts with partners' filings")
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
