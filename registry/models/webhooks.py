"""Webhooks: a maintainer's endpoints, the events they are sent, and each delivery's attempts."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .. import ids


class WebhookEventType(models.TextChoices):
    REMOVAL_APPROVED = "removal.approved", "removal.approved"
    REMOVAL_REVOKED = "removal.revoked", "removal.revoked"
    LICENCE_GRANTED = "licence.granted", "licence.granted"
    LICENCE_REVOKED = "licence.revoked", "licence.revoked"


class WebhookEndpoint(models.Model):
    public_id = models.CharField(_("public id"), max_length=40, unique=True, default=ids.new_endpoint_id)
    maintainer = models.ForeignKey(
        "registry.Maintainer",
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
        verbose_name=_("maintainer"),
    )
    url = models.URLField(_("URL"), max_length=2000)
    event_types = models.JSONField(_("event types"), default=list)
    datasets = models.ManyToManyField(
        "registry.Dataset",
        blank=True,
        related_name="webhook_endpoints",
        verbose_name=_("data sets"),
        help_text=_("Only events for these data sets; none means all of the maintainer's."),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=200, blank=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return f"{self.public_id} → {self.url}"


class WebhookSecret(models.Model):
    """A signing secret, encrypted at rest (HMAC needs it back).

    Rotation adds a new row and gives the old one an expiry; every live
    secret signs each attempt.
    """

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="secrets", verbose_name=_("endpoint")
    )
    secret_encrypted = models.TextField(_("encrypted secret"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook secret")
        verbose_name_plural = _("webhook secrets")

    def __str__(self) -> str:
        return f"secret of {self.endpoint_id} from {self.created_at:%Y-%m-%d}"


class WebhookEvent(models.Model):
    """One message (`msg_...`): the same id on every attempt, so receivers can dedupe."""

    public_id = models.CharField(_("public id"), max_length=40, unique=True, default=ids.new_event_id)
    maintainer = models.ForeignKey(
        "registry.Maintainer",
        on_delete=models.CASCADE,
        related_name="webhook_events",
        verbose_name=_("maintainer"),
    )
    dataset = models.ForeignKey(
        "registry.Dataset",
        on_delete=models.CASCADE,
        related_name="webhook_events",
        verbose_name=_("data set"),
    )
    event_type = models.CharField(_("event type"), max_length=40, choices=WebhookEventType.choices)
    payload = models.JSONField(_("payload"))
    removals = models.ManyToManyField(
        "registry.Removal", related_name="webhook_events", verbose_name=_("removals")
    )
    # The grants a licence.granted / licence.revoked event carries (delivery orders by them).
    grants = models.ManyToManyField(
        "registry.LicenceGrant", related_name="webhook_events", blank=True, verbose_name=_("licence grants")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")

    def __str__(self) -> str:
        return f"{self.public_id} {self.event_type}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class WebhookDelivery(models.Model):
    """One event to one endpoint: the outbox row, written in the approving transaction."""

    public_id = models.CharField(_("public id"), max_length=40, unique=True, default=ids.new_delivery_id)
    event = models.ForeignKey(
        WebhookEvent, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("event")
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("endpoint")
    )
    state = models.CharField(
        _("state"), max_length=20, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(_("last status"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    succeeded_at = models.DateTimeField(_("succeeded at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="delivery_due")]
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="one_delivery_per_event_endpoint")
        ]

    def __str__(self) -> str:
        return f"{self.event.public_id} → {self.endpoint.url}"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log", verbose_name=_("delivery")
    )
    attempted_at = models.DateTimeField(_("attempted at"))
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    response_excerpt = models.TextField(
        _("response excerpt"), blank=True, help_text=_("First 2 KB of the answer.")
    )
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["-attempted_at"]

    def __str__(self) -> str:
        return f"{self.attempted_at:%Y-%m-%d %H:%M:%S} {self.status_code or self.error[:40]}"
