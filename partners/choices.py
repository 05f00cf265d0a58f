"""The partners' choices (a partner's status, a filing's and a row's states, the audit's kinds),
apart from the models so that both fit a module: their labels are what the admin shows, in the
operator's language (gettext_lazy)."""

from collections.abc import Callable

from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


def in_english(display: Callable[[], str]) -> str:
    """A choice's label in English (`display`: a model's get_FOO_display), for the sentences the
    services write in English (the API's answers, the reasons a desk action left rows alone):
    the labels themselves follow the operator's language."""
    with translation.override("en"):
        return display()


class PartnerStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("partner status", "Active")
    SUSPENDED = "suspended", _("Suspended")


class FilingState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    MATCHING = "matching", _("Matching")
    HELD = "held", _("Held for its sample")
    COMPLETED = "completed", _("Completed")
    # A file filing's own stages, before its rows are matched (partners.services.files).
    RECEIVING = "receiving", _("Receiving its file")
    READING = "reading", _("Reading its file")
    FAILED = "failed", _("Failed: its file cannot be read")
    EXPIRED = "expired", _("Expired: its file was not finished in time")


class FilingSource(models.TextChoices):
    JSON = "json", _("JSON batch")
    FILE = "file", _("File")


class SampleState(models.TextChoices):
    NONE = "", _("No sample")
    PENDING = "pending", _("Waiting for the desk")
    PASSED = "passed", _("Passed")
    FAILED = "failed", _("Failed")


class RowState(models.TextChoices):
    REJECTED = "rejected", _("Rejected")
    DUPLICATE = "duplicate", _("Duplicate")
    PENDING = "pending", _("Pending")
    """Accepted, not matched yet."""
    SAMPLED = "sampled", _("In the sample, for the desk")
    WAITING = "waiting", _("Waiting for the desk")
    APPROVED = "approved", _("Approved")
    UNMATCHED = "unmatched", _("No match")
    """Approvable, but no registered item matched it (nothing to remove yet)."""
    CONFLICT = "conflict", _("Conflict with an artist's request")
    """It names a work an artist claims in a request of their own: a moderator decides."""
    DECLINED = "declined", _("Declined by the desk")


class SampleMark(models.TextChoices):
    NONE = "", _("Not marked")
    GOOD = "good", _("Good")
    BAD = "bad", _("Bad")


class RowChoice(models.TextChoices):
    """The creator's choice (registry.preferences.Choice): a removal, a removal that allows
    search indexing, or a licence (recorded as licence grants, never as removals)."""

    REMOVE = "remove", _("Remove")
    SEARCH_ONLY = "search_only", _("Search only")
    LICENCE = "licence", _("Licence")


class ConflictKind(models.TextChoices):
    ITEM = "item", _("the same registered item")
    PHASH = "phash", _("a pHash within the conflict distance")


class PartnerActionKind(models.TextChoices):
    PARTNER_CREATED = "partner_created", _("partner created")
    PARTNER_CHANGED = "partner_changed", _("partner changed")
    PARTNER_SUSPENDED = "partner_suspended", _("partner suspended")
    PARTNER_REINSTATED = "partner_reinstated", _("partner reinstated")
    DOMAIN_ADDED = "domain_added", _("domain added")
    DOMAIN_VERIFIED = "domain_verified", _("domain verified")
    DOMAIN_REMOVED = "domain_removed", _("domain removed")
    KEY_CREATED = "key_created", _("partner key created")
    KEY_REVOKED = "key_revoked", _("partner key revoked")
    POLICY_CHANGED = "policy_changed", _("filing policy changed")
    ROWS_APPROVED_BY_POLICY = "rows_approved_by_policy", _("rows approved by policy")
    SAMPLE_DRAWN = "sample_drawn", _("sample drawn")
    SAMPLE_PASSED = "sample_passed", _("sample passed")
    SAMPLE_FAILED = "sample_failed", _("sample failed")
    FILING_REVOKED = "filing_revoked", _("filing's removals revoked")
    DISPUTE = "dispute", _("a removal of the filing disputed")
    PARTNER_REVOKED = "partner_revoked", _("every filing's removals revoked")
    CREATOR_CLAIMED = "creator_claimed", _("creator claimed their account")
    ROWS_LIFTED = "rows_lifted", _("rows lifted by their creator")
    ROW_CHOICE_CHANGED = "row_choice_changed", _("a row's choice changed by its creator")
    SAMPLE_ROWS_MARKED = "sample_rows_marked", _("sampled rows marked")
    ROWS_APPROVED_BY_DESK = "rows_approved_by_desk", _("rows approved by the desk")
    ROWS_DECLINED_BY_DESK = "rows_declined_by_desk", _("rows declined by the desk")
    IMAGES_FETCHED_AGAIN = "images_fetched_again", _("images to be fetched again")
    ROWS_IN_CONFLICT = "rows_in_conflict", _("rows put in conflict by an artist's later request")
    FILE_EXPIRED = "file_expired", _("file filing expired unfinished")


class ClaimMethod(models.TextChoices):
    EMAIL = "email", _("A link mailed to the address the partner gave")
    PROFILE_LINK = "profile_link", _("A token on the creator's profile page")


class ClaimStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the token on the profile")
    VERIFIED = "verified", _("Claimed")
