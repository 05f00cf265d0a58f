"""Partners, their domains and their filing policy: operators' changes, each with its audit row."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from core import clock
from core.text import printable
from registry.hosts import normalise_host

from ..models import FilingPolicy, Partner, PartnerActionKind, PartnerDomain, PartnerStatus
from .audit import partner_action_record

# The fields an operator edits on the partner's page (status has its own services).
AGREEMENT_FIELDS = ("name", "slug", "contact_email", "agreement_ref", "agreement_date", "attestation_text")


class PartnerError(ValueError):
    """A change that cannot be made; the message says why, for the operator."""


def _shown(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


@transaction.atomic
def partner_create(
    *,
    name: str,
    slug: str,
    contact_email: str,
    agreement_ref: str,
    agreement_date: date,
    attestation_text: str,
    actor: User | None = None,
) -> Partner:
    """A partner and its filing policy (everything waits for the desk until an operator says otherwise)."""
    if not attestation_text.strip():
        raise PartnerError("A partner needs the attestation text it signed.")
    partner = Partner.objects.create(
        name=name,
        slug=slug,
        contact_email=contact_email,
        agreement_ref=agreement_ref,
        agreement_date=agreement_date,
        attestation_text=attestation_text,
    )
    FilingPolicy.objects.create(partner=partner)
    detail = {field: _shown(getattr(partner, field)) for field in AGREEMENT_FIELDS}
    partner_action_record(actor=actor, kind=PartnerActionKind.PARTNER_CREATED, obj=partner, detail=detail)
    return partner


@transaction.atomic
def partner_update(*, partner: Partner, actor: User | None = None, **changes: Any) -> Partner:
    """Change the agreement fields; one audit row naming what changed, before and after (none if nothing)."""
    unknown = set(changes) - set(AGREEMENT_FIELDS)
    if unknown:
        raise TypeError(f"partner_update does not change {sorted(unknown)}")
    locked = Partner.objects.select_for_update().get(pk=partner.pk)
    changed = {
        field: [_shown(getattr(locked, field)), _shown(value)]
        for field, value in changes.items()
        if getattr(locked, field) != value
    }
    if not changed:
        return locked
    for field in changed:
        setattr(locked, field, changes[field])
    locked.save(update_fields=list(changed))
    partner_action_record(
        actor=actor, kind=PartnerActionKind.PARTNER_CHANGED, obj=locked, detail={"changed": changed}
    )
    return locked


def _status_set(*, partner: Partner, status: str, reason: str, actor: User | None, kind: str) -> Partner:
    if not reason.strip():
        raise PartnerError("Say why: the reason is kept with the partner and in its audit trail.")
    # The row lock: a filing being decided reads the status under the same lock.
    locked = Partner.objects.select_for_update().get(pk=partner.pk)
    if locked.status == status:
        return locked
    locked.status, locked.status_reason = status, reason
    locked.status_changed_at, locked.status_changed_by = clock.now(), actor
    locked.save(update_fields=["status", "status_reason", "status_changed_at", "status_changed_by"])
    partner_action_record(actor=actor, kind=kind, obj=locked, detail={"reason": reason})
    return locked


@transaction.atomic
def partner_suspend(*, partner: Partner, reason: str, actor: User | None = None) -> Partner:
    """Stop the partner: its keys file nothing, and no row of its filings is approved from now on."""
    return _status_set(
        partner=partner,
        status=PartnerStatus.SUSPENDED,
        reason=reason,
        actor=actor,
        kind=PartnerActionKind.PARTNER_SUSPENDED,
    )


@transaction.atomic
def partner_reinstate(*, partner: Partner, reason: str, actor: User | None = None) -> Partner:
    return _status_set(
        partner=partner,
        status=PartnerStatus.ACTIVE,
        reason=reason,
        actor=actor,
        kind=PartnerActionKind.PARTNER_REINSTATED,
    )


def partner_domain_check(
    *, partner: Partner, host: str, include_subdomains: bool = False
) -> tuple[str, bool]:
    """(normalised host, with subdomains) of a host as an operator writes it ("*.Art.example",
    "https://art.example/x"); raises PartnerError saying what is wrong."""
    raw = host.strip()
    if "://" in raw:
        raw = raw.split("://", 1)[1]
    raw = raw.split("/", 1)[0]
    if raw.startswith("*."):
        raw, include_subdomains = raw[2:], True
    normalised = normalise_host(raw)
    if not normalised or "." not in normalised or normalised.startswith("[") or normalised[-1].isdigit():
        raise PartnerError(f"{printable(host, 100)!r} is not a domain name (such as art.example).")
    if PartnerDomain.objects.filter(partner=partner, host=normalised).exists():
        raise PartnerError(f"{normalised} is already one of {partner.name}'s domains.")
    return normalised, include_subdomains


@transaction.atomic
def partner_domain_add(
    *, partner: Partner, host: str, include_subdomains: bool = False, actor: User | None = None
) -> PartnerDomain:
    """A host the partner serves (normalised: lower-case, IDNA, no port), not verified yet."""
    normalised, include_subdomains = partner_domain_check(
        partner=partner, host=host, include_subdomains=include_subdomains
    )
    domain = PartnerDomain.objects.create(
        partner=partner, host=normalised, include_subdomains=include_subdomains
    )
    partner_action_record(
        actor=actor,
        kind=PartnerActionKind.DOMAIN_ADDED,
        obj=domain,
        detail={"host": normalised, "include_subdomains": include_subdomains},
    )
    return domain


@transaction.atomic
def partner_domain_verify(*, domain: PartnerDomain, actor: User | None = None) -> PartnerDomain:
    """Mark a domain verified (the operator checked the partner controls it). Twice changes nothing."""
    locked = PartnerDomain.objects.select_for_update().get(pk=domain.pk)
    if locked.verified_at is not None:
        return locked
    locked.verified_at, locked.verified_by = clock.now(), actor
    locked.save(update_fields=["verified_at", "verified_by"])
    partner_action_record(
        actor=actor, kind=PartnerActionKind.DOMAIN_VERIFIED, obj=locked, detail={"host": locked.host}
    )
    return locked


@transaction.atomic
def partner_domain_remove(*, domain: PartnerDomain, actor: User | None = None) -> None:
    """Rows already filed keep what was decided; new rows on this host are refused."""
    partner_action_record(
        actor=actor,
        kind=PartnerActionKind.DOMAIN_REMOVED,
        obj=domain,
        detail={"host": domain.host, "verified": domain.verified},
    )
    domain.delete()


MAX_SAMPLE_SIZE = 10_000  # a filing's rows at most


@transaction.atomic
def filing_policy_update(
    *,
    policy: FilingPolicy,
    auto_approve_verified_hashed: bool,
    sample_size: int | None = None,
    actor: User | None = None,
) -> FilingPolicy:
    """Change the policy (`sample_size` None: unchanged); one audit row with before and after."""
    if sample_size is not None and not 0 <= sample_size <= MAX_SAMPLE_SIZE:
        raise PartnerError(f"The sample size is a number of rows from 0 to {MAX_SAMPLE_SIZE:,}.")
    locked = FilingPolicy.objects.select_for_update().get(pk=policy.pk)
    before = locked.settings_dict()
    locked.auto_approve_verified_hashed = auto_approve_verified_hashed
    if sample_size is not None:
        locked.sample_size = sample_size
    after = locked.settings_dict()
    if before == after:
        return locked
    locked.save(update_fields=["auto_approve_verified_hashed", "sample_size", "updated_at"])
    partner_action_record(
        actor=actor,
        kind=PartnerActionKind.POLICY_CHANGED,
        obj=locked,
        detail={"before": before, "after": after},
    )
    return locked
