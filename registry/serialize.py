"""The wire form of registry objects, shared by the API and webhook payloads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from .hashing import code_to_hex, pdq_to_hex
from .models import DomainOptOut, LicenceGrant, Removal


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


class RemovalLike(Protocol):
    """What the wire form reads: a Removal, or a row being written (services.removals)."""

    public_id: str
    external_id: str | None
    url: str | None
    phash: int | None
    pdq: bytes | None
    reason: str
    source_ref: str
    approved_at: datetime
    state: str
    acknowledged_at: datetime | None
    source: str
    partner: str
    revoked_at: datetime | None
    revoked_reason: str
    search: str

    @property
    def dataset(self) -> Any: ...


def removal_to_dict(removal: RemovalLike | Removal, *, dataset_slug: str | None = None) -> dict[str, Any]:
    return {
        "id": removal.public_id,
        "dataset": dataset_slug or removal.dataset.slug,
        "external_id": removal.external_id,
        "url": removal.url,
        "phash": code_to_hex(removal.phash),
        "pdq": pdq_to_hex(removal.pdq),
        "reason": removal.reason,
        "request": removal.source_ref,
        "approved_at": iso(removal.approved_at),
        "state": removal.state,
        "acknowledged_at": iso(removal.acknowledged_at),
        # Added fields (the contract only grows): who asked, and the partner's name for a partner.
        "source": removal.source,
        "partner": removal.partner,
        # Added with revocation: when it was revoked and why (null and "" while it stands).
        "revoked_at": iso(removal.revoked_at),
        "revoked_reason": removal.revoked_reason,
        # Added with choices (registry.preferences): a removal disallows training; `search` is
        # "allowed" when the artist allowed search indexing, else "unknown".
        "train_ai": "disallowed",
        "search": removal.search,
    }


def grant_to_dict(grant: LicenceGrant, *, dataset_slug: str | None = None) -> dict[str, Any]:
    """A licence grant as maintainers read it (the licences feed, the lookup's `licences`)."""
    return {
        "id": grant.public_id,
        "dataset": dataset_slug or grant.dataset.slug,
        "external_id": grant.external_id,
        "url": grant.url,
        "phash": code_to_hex(grant.phash),
        "pdq": pdq_to_hex(grant.pdq),
        "request": grant.source_ref,
        "train_ai": "allowed",
        "search": grant.search,
        "licence": grant.licence,
        "licence_url": grant.licence_url,
        "attribution": grant.attribution,
        "source": grant.source,
        "partner": grant.partner,
        "granted_at": iso(grant.granted_at),
        "state": grant.state,
        "revoked_at": iso(grant.revoked_at),
        "revoked_reason": grant.revoked_reason,
    }


def rule_to_dict(rule: DomainOptOut, *, scope: str) -> dict[str, Any]:
    """A domain opt-out rule as the lookup's `domain_rules` gives it: its scope and its choice
    (a licensing rule's licence fields read as a licence grant's; "" for a removing rule)."""
    consent = rule.consent
    return {
        "scope": scope,
        "choice": consent.choice,
        "train_ai": consent.train_ai,
        "search": consent.search,
        "licence": consent.licence,
        "licence_url": consent.licence_url,
        "attribution": consent.attribution,
        "request": rule.source_ref,
        "source": rule.source,
        "partner": rule.partner,
        "approved_at": iso(rule.approved_at),
    }
