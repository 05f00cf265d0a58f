"""Disputes: someone says a removal is wrong, and a moderator decides after both sides spoke.

A dispute is about one removal (registry's, whoever asked for it). It is filed from the public
page by anyone who confirms an email address, or through the API by a maintainer of the
removal's data set. The side that asked for the removal (the artist's request or the partner's
filing, known here only by the removal's `source_ref`) is told and may answer until
`response_due_at` (the counter-notice period, DISPUTE_RESPONSE_DAYS). A moderator then upholds
the removal or revokes it. Every step is a DisputeMessage row: the exchange is the audit trail.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.storage import PrivateStorage

from .. import ids

_private_storage = PrivateStorage()


def private_storage_for_disputes() -> FileSystemStorage:
    """A disputant's evidence file: private, like identity documents; only the desk reads it."""
    return _private_storage


class DisputeReason(models.TextChoices):
    # Shown to disputants (the public page) and moderators; the API sends the values.
    OWN_WORK = (
        "own_work",
        _("It is my own work: the person who asked for its removal does not own it"),
    )
    NOT_A_COPY = "not_a_copy", _("The item is not a copy of the work it was removed for")
    LICENSED = "licensed", _("It is used under a licence or with permission")
    PUBLIC_DOMAIN = "public_domain", _("It is in the public domain")
    OTHER = "other", _("Another reason (explain below)")


class DisputeFiler(models.TextChoices):
    PUBLIC = "public", _("Public page")
    MAINTAINER = "maintainer", _("Maintainer")


class DisputeState(models.TextChoices):
    UNCONFIRMED = "unconfirmed", _("Waiting for the email address to be confirmed")
    OPEN = "open", _("Waiting for the requester's answer")
    ANSWERED = "answered", _("Answered: waiting for a moderator")
    DUE = "due", _("No answer in time: waiting for a moderator")
    UPHELD = "upheld", _("Decided: the removal stays")
    REVOKED = "revoked", _("Decided: the removal was revoked")
    EXPIRED = "expired", _("Never confirmed")


# Named once: the states where a dispute counts as open (caps, the queue, the report).
DISPUTE_OPEN_STATES = (DisputeState.OPEN, DisputeState.ANSWERED, DisputeState.DUE)
DISPUTE_DECIDED_STATES = (DisputeState.UPHELD, DisputeState.REVOKED)


class Dispute(models.Model):
    public_id = models.CharField(_("public id"), max_length=40, unique=True, default=ids.new_dispute_id)
    removal = models.ForeignKey(
        "registry.Removal", on_delete=models.PROTECT, related_name="disputes", verbose_name=_("removal")
    )
    # The removal's source reference, copied: a request's page asks "any dispute?" of this index
    # alone, without reading the request's removals (a big request has thousands).
    source_ref = models.CharField(_("source reference"), max_length=40, db_index=True, default="")
    filer = models.CharField(_("filed from"), max_length=12, choices=DisputeFiler.choices)
    maintainer = models.ForeignKey(
        "registry.Maintainer",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="disputes",
        verbose_name=_("maintainer"),
    )
    # The public filer's address, lower-cased (caps and duplicates compare it); "" for a maintainer.
    email = models.EmailField(_("email"), blank=True, default="")
    language = models.CharField(
        _("language"), max_length=10, blank=True, default="", help_text=_("The disputant's language.")
    )
    reason = models.CharField(_("reason"), max_length=20, choices=DisputeReason.choices)
    statement = models.TextField(_("statement"))
    links = models.JSONField(_("links"), default=list, blank=True)
    evidence = models.FileField(
        _("evidence"),
        upload_to="disputes/%Y/%m/",
        storage=private_storage_for_disputes,
        blank=True,
        max_length=200,
    )
    evidence_name = models.CharField(_("evidence file name"), max_length=200, blank=True, default="")
    state = models.CharField(_("state"), max_length=12, choices=DisputeState.choices, db_index=True)
    created_at = models.DateTimeField(_("filed at"), auto_now_add=True)
    opened_at = models.DateTimeField(_("opened at"), null=True, blank=True)
    response_due_at = models.DateTimeField(_("answer due by"), null=True, blank=True, db_index=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    flagged_at = models.DateTimeField(
        _("flagged at"), null=True, blank=True, help_text=_("When the clock ran out.")
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decision_reason = models.TextField(_("reason for the decision"), blank=True, default="")

    class Meta:
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")
        ordering = ["id"]
        constraints = [
            # One dispute per removal per party: a second one is refused, not queued twice. An
            # unconfirmed dispute that expired does not count (its address was never proven).
            models.UniqueConstraint(
                fields=["removal", "maintainer"],
                condition=Q(maintainer__isnull=False) & ~Q(state="expired"),
                name="one_dispute_per_removal_per_maintainer",
            ),
            models.UniqueConstraint(
                fields=["removal", "email"],
                condition=~Q(email="") & ~Q(state="expired"),
                name="one_dispute_per_removal_per_email",
            ),
        ]
        permissions = [("decide_dispute", "Can decide disputes")]

    def __str__(self) -> str:
        return self.public_id

    @property
    def outcome(self) -> str | None:
        """upheld, revoked, or None while not decided."""
        return self.state if self.state in DISPUTE_DECIDED_STATES else None


class DisputeAuthor(models.TextChoices):
    DISPUTANT = "disputant", _("Disputant")
    REQUESTER = "requester", _("Requester")
    MODERATOR = "moderator", _("Moderator")
    SYSTEM = "system", _("Removal Desk")


class DisputeMessageKind(models.TextChoices):
    FILED = "filed", _("Filed")
    OPENED = "opened", _("Opened")
    ANSWER = "answer", _("Answer")
    NOTE = "note", _("Moderator's note")
    DUE = "due", _("Time to answer ran out")
    DECISION = "decision", _("Decision")
    EXPIRED = "expired", _("Expired")


class DisputeMessage(models.Model):
    """One step of a dispute: filed, opened, answered, noted, flagged, decided. Never edited."""

    dispute = models.ForeignKey(
        Dispute, on_delete=models.CASCADE, related_name="messages", verbose_name=_("dispute")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=DisputeMessageKind.choices)
    author = models.CharField(_("author"), max_length=12, choices=DisputeAuthor.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    body = models.TextField(_("message"), blank=True, default="")
    links = models.JSONField(_("links"), default=list, blank=True)
    created_at = models.DateTimeField(_("date"), auto_now_add=True)

    class Meta:
        verbose_name = _("dispute message")
        verbose_name_plural = _("dispute messages")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.dispute_id}:{self.kind}"
