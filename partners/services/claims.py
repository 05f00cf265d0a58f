"""Creators claim what a partner filed for them, then see it and may lift it.

A creator a partner filed for is known to us only by the partner's words: its creator id, the
profile URL on the partner's domain and, sometimes, an email address. An artist's account
claims such a creator by proving one of the two: a signed link mailed to the address the
partner gave (signed like the site's email verification: Django's signing, a salt of its own,
an expiry), or a token the creator puts on that profile page (fetched by the site's profile
link-back check, through core.outbound's SSRF guard; requests_app calls it and hands the result
the site's own checker, requests_app.proofs.profile_token_check).

One creator id of one partner is claimed by one account at most: several accounts may start a
claim, the first to prove it wins, and a unique index holds that under races. Every claim and
every lift writes a PartnerAction naming the artist.

Lifting a row revokes its removals through registry's set-based revocation (maintainers get
removal.revoked) and marks the row `lifted_at`. A lifted row stays lifted: the partner filing
the same row again is a duplicate of it (filing dedupe), and the policy never approves a lifted
row. A removal two rows of one filing share (the same registered item) is revoked only once no
row of that filing holding it is left unlifted.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import User
from django.core import signing
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext as _

from core import clock
from core.text import text_problem
from registry.models import Removal
from registry.services import GrantSelection, RemovalQuery, licence_grants_revoke, removals_revoke
from requests_app import notify, proofs
from requests_app.models import ArtistProfile

from ..models import (
    ClaimMethod,
    ClaimStatus,
    CreatorClaim,
    FilingRow,
    FilingRowItem,
    Partner,
    PartnerActionKind,
    RowChoice,
    RowState,
)
from .audit import partner_action_record

CLAIM_TOKEN_SALT = "removal-desk.creator-claim"  # noqa: S105  (a salt, not a secret)
CLAIM_TOKEN_MAX_AGE = 3 * 24 * 3600
PROFILE_TOKEN_PREFIX = "rdc-"  # noqa: S105  (a visible prefix, not a secret)
MAX_CREATOR_ID_LENGTH = 200  # FilingRow.creator_id
# What maintainers read with each removal a creator lifted (Removal.revoked_reason).
LIFTED_BY_CREATOR = "Lifted by the creator, who claimed their account on Removal Desk."
# Rows that never were an instruction: nothing to claim or lift in them.
NOT_FILED = (RowState.REJECTED, RowState.DUPLICATE)


class ClaimError(ValueError):
    """A claim or lift that cannot be made; the message (translated) says what to do."""


@dataclass(frozen=True)
class Creator:
    """A creator as the partner's latest row names them."""

    partner: Partner
    creator_id: str
    key: str
    profile_url: str
    email: str


def creator_key(creator_id: str) -> str:
    return creator_id.lower()


def rows_of_creator(partner: Partner | int, key: str) -> QuerySet[FilingRow]:
    """Every row the partner filed for this creator (ids compare ignoring case), rejected and
    duplicate rows aside (they filed nothing), and rows changing the choice of an earlier row
    (the earlier row is the creator's work; the change is applied to it once decided)."""
    partner_id = partner if isinstance(partner, int) else partner.pk
    return (
        FilingRow.objects.annotate(creator_lower=Lower("creator_id"))
        .filter(partner_id=partner_id, creator_lower=key)
        .exclude(state__in=NOT_FILED)
        .filter(duplicate_of__isnull=True)
    )


def creator_find(*, partner: Partner, creator_id: str) -> Creator:
    """The creator the partner filed under `creator_id`, or ClaimError saying what is wrong."""
    creator_id = creator_id.strip()
    if not creator_id:
        raise ClaimError(_("Type your creator id on the platform (as it appears in your profile's address)."))
    if text_problem(creator_id) or len(creator_id) > MAX_CREATOR_ID_LENGTH:
        raise ClaimError(
            _("A creator id is plain text of at most %(max)d characters.") % {"max": MAX_CREATOR_ID_LENGTH}
        )
    key = creator_key(creator_id)
    latest = rows_of_creator(partner, key).order_by("-pk").first()
    if latest is None:
        raise ClaimError(
            _("%(partner)s filed nothing for the creator id %(id)s. Check the id, or the platform.")
            % {"partner": partner.name, "id": creator_id}
        )
    email_row = rows_of_creator(partner, key).exclude(creator_email="").order_by("-pk").first()
    return Creator(
        partner=partner,
        creator_id=latest.creator_id,
        key=key,
        profile_url=latest.creator_url,
        email=email_row.creator_email if email_row else "",
    )


def _claimed_by_another(partner_id: int, key: str, user: User) -> bool:
    return (
        CreatorClaim.objects.filter(partner_id=partner_id, creator_key=key, status=ClaimStatus.VERIFIED)
        .exclude(user=user)
        .exists()
    )


def _refuse_if_claimed(creator: Creator, user: User) -> None:
    if _claimed_by_another(creator.partner.pk, creator.key, user):
        raise ClaimError(_("Another account has claimed this creator already. If it is yours, write to us."))


# --- by email -------------------------------------------------------------------


def claim_email_token(*, user: User, creator: Creator) -> tuple[str, str]:
    """(address, token) of the link to mail: the address the partner gave, the token signed for
    this account. ClaimError when the partner gave no address or another account claimed it."""
    _refuse_if_claimed(creator, user)
    if not creator.email:
        raise ClaimError(
            _("%(partner)s gave us no email address for you: prove it with your profile page instead.")
            % {"partner": creator.partner.name}
        )
    data = {"u": user.pk, "p": creator.partner.pk, "c": creator.key, "e": creator.email}
    return creator.email, signing.dumps(data, salt=CLAIM_TOKEN_SALT)


def claim_email_send(*, profile: ArtistProfile, creator: Creator) -> str:
    """Mail the claim link to the address the partner gave, in the artist's language (as the
    email verification is mailed); the address, for the page to name. ClaimError as above."""
    email, token = claim_email_token(user=profile.user, creator=creator)
    link = settings.SITE_URL + reverse("claim_confirm", args=[token])
    notify.creator_claim_link(profile=profile, to=email, link=link, partner=creator.partner.name)
    return email


def masked_email(email: str) -> str:
    """An address shown to whoever asks to claim a creator: enough to recognise, not to harvest."""
    local, _at, domain = email.partition("@")
    return f"{local[:1]}{'•' * max(1, min(len(local) - 1, 6))}@{domain}"


@transaction.atomic
def claim_by_email(*, user: User, token: str) -> CreatorClaim:
    """The mailed link opened by the account it was made for: the creator is that account's."""
    try:
        data = signing.loads(token, salt=CLAIM_TOKEN_SALT, max_age=CLAIM_TOKEN_MAX_AGE)
    except signing.SignatureExpired:
        raise ClaimError(_("This link has expired; ask for a new one on the claims page.")) from None
    except signing.BadSignature:
        raise ClaimError(_("This link is not valid; check that you copied all of it.")) from None
    if not isinstance(data, dict) or data.get("u") != user.pk:
        raise ClaimError(
            _("This link was made for another account: log in with the account that asked for it.")
        )
    partner = Partner.objects.filter(pk=int(data.get("p") or 0)).first()
    key, email = str(data.get("c", "")), str(data.get("e", ""))
    rows = rows_of_creator(partner, key) if partner else FilingRow.objects.none()
    latest = rows.filter(creator_email=email).order_by("-pk").first()
    if partner is None or latest is None:
        raise ClaimError(_("This link is for a creator or an address the platform no longer names."))
    return _verify(
        user=user,
        partner=partner,
        key=key,
        creator_id=latest.creator_id,
        method=ClaimMethod.EMAIL,
        target=email,
        evidence={"email": email},
    )


# --- by the profile page ----------------------------------------------------------


@transaction.atomic
def claim_start_profile(*, user: User, creator: Creator) -> CreatorClaim:
    """A pending claim with a token to put on the profile page (the same one if it was started)."""
    _refuse_if_claimed(creator, user)
    claim, created = CreatorClaim.objects.get_or_create(
        partner=creator.partner,
        creator_key=creator.key,
        user=user,
        defaults={
            "creator_id": creator.creator_id,
            "method": ClaimMethod.PROFILE_LINK,
            "target": creator.profile_url,
            "token": PROFILE_TOKEN_PREFIX + secrets.token_hex(16),
        },
    )
    if not created and not claim.verified and claim.method != ClaimMethod.PROFILE_LINK:
        claim.method, claim.target = ClaimMethod.PROFILE_LINK, creator.profile_url
        claim.token = claim.token or PROFILE_TOKEN_PREFIX + secrets.token_hex(16)
        claim.save(update_fields=["method", "target", "token"])
    return claim


def claim_profile_check(*, claim: CreatorClaim) -> tuple[CreatorClaim, str]:
    """Look for the claim's token on the creator's profile page (the identity proofs' link-back
    checker, through core.outbound: no private address, no redirect); the claim, what was found."""
    result = proofs.profile_token_check(claim.target, claim.token)
    claim = claim_profile_checked(
        claim=claim, found=result.ok, detail=result.detail, evidence=result.evidence
    )
    return claim, result.detail


@transaction.atomic
def claim_profile_checked(
    *, claim: CreatorClaim, found: bool, detail: str, evidence: dict[str, object]
) -> CreatorClaim:
    """Record what the profile check found (requests_app fetched the page); found: claimed."""
    locked = CreatorClaim.objects.select_for_update().get(pk=claim.pk)
    if locked.verified:
        return locked
    locked.checked_at = clock.now()
    locked.evidence = {**evidence, "detail": detail}
    locked.save(update_fields=["checked_at", "evidence"])
    if not found:
        return locked
    return _verify(
        user=locked.user,
        partner=locked.partner,
        key=locked.creator_key,
        creator_id=locked.creator_id,
        method=ClaimMethod.PROFILE_LINK,
        target=locked.target,
        evidence=locked.evidence,
    )


def _verify(
    *,
    user: User,
    partner: Partner,
    key: str,
    creator_id: str,
    method: str,
    target: str,
    evidence: dict[str, object],
) -> CreatorClaim:
    """Make the claim this account's, unless another account was first; audited."""
    # The partner's row lock: two accounts proving the same creator at once take turns here,
    # and the second finds the first's claim (the unique index is the last word).
    Partner.objects.select_for_update().get(pk=partner.pk)
    if _claimed_by_another(partner.pk, key, user):
        raise ClaimError(_("Another account has claimed this creator already. If it is yours, write to us."))
    existing = CreatorClaim.objects.filter(partner=partner, creator_key=key, user=user).first()
    if existing is not None and existing.verified:
        return existing
    now = clock.now()
    try:
        with transaction.atomic():
            claim, _created = CreatorClaim.objects.update_or_create(
                partner=partner,
                creator_key=key,
                user=user,
                defaults={
                    "creator_id": creator_id,
                    "method": method,
                    "target": target,
                    "status": ClaimStatus.VERIFIED,
                    "verified_at": now,
                    "checked_at": now,
                    "evidence": evidence,
                },
            )
    except IntegrityError:
        raise ClaimError(
            _("Another account has claimed this creator already. If it is yours, write to us.")
        ) from None
    partner_action_record(
        actor=user,
        kind=PartnerActionKind.CREATOR_CLAIMED,
        obj=claim,
        detail={"creator_id": creator_id, "method": method, "target": target},
    )
    return claim


# --- what a claimed creator sees and lifts -------------------------------------------


def claim_rows(claim: CreatorClaim) -> QuerySet[FilingRow]:
    return rows_of_creator(claim.partner_id, claim.creator_key).select_related("filing")


def claim_removals(claim: CreatorClaim, rows: QuerySet[FilingRow] | None = None) -> QuerySet[Removal]:
    """The removals of the claim's approved rows (or of `rows`): the items each row matched at
    approval, under its filing's id."""
    rows = claim_rows(claim) if rows is None else rows
    links = FilingRowItem.objects.exclude(row__choice=RowChoice.LICENCE).filter(
        row__in=rows.values("pk"),
        item_id=OuterRef("item_id"),
        row__filing__public_id=OuterRef("source_ref"),
    )
    return Removal.objects.filter(Exists(links)).select_related("dataset", "dataset__maintainer")


@dataclass(frozen=True)
class Lifted:
    rows: int
    removals: int
    grants: int = 0


def _ids_param(ids: Sequence[int]) -> tuple[str, list[object]]:
    if connection.vendor == "postgresql":
        return "= ANY(%s::bigint[])", [list(ids)]
    return "IN (SELECT value FROM json_each(%s))", ["[" + ",".join(str(int(i)) for i in ids) + "]"]


@transaction.atomic
def claim_lift(*, claim: CreatorClaim, user: User, row_ids: Sequence[int] | None = None) -> Lifted:
    """Lift the claim's rows (those of `row_ids`, or all): each marked lifted, its removals revoked.

    Rows not approved yet are marked too, so that the policy never approves them. One UPDATE of
    the rows and one of the removals (registry's removals_revoke), whatever the count.
    """
    locked = CreatorClaim.objects.select_for_update().get(pk=claim.pk)
    if not locked.verified or locked.user_id != user.pk:
        raise ClaimError(_("Only the account that claimed this creator can lift what was filed."))
    rows = claim_rows(locked).filter(lifted_at__isnull=True)
    if row_ids is not None:
        rows = rows.filter(pk__in=list(row_ids))
    ids = list(rows.select_for_update(of=("self",)).values_list("pk", flat=True))
    if not ids:
        return Lifted(rows=0, removals=0)
    FilingRow.objects.filter(pk__in=ids).update(lifted_at=clock.now())
    filings = sorted(set(FilingRow.objects.filter(pk__in=ids).values_list("filing__public_id", flat=True)))
    in_rows, params = _ids_param(ids)
    # A removal of a lifted row's item under its filing, unless another row of that filing that
    # is not lifted (another creator's, say) removes the same item.
    condition = f"""
        EXISTS (
            SELECT 1 FROM partners_filingrowitem l
            JOIN partners_filingrow fr ON fr.id = l.row_id
            JOIN partners_filing f ON f.id = fr.filing_id
            WHERE l.row_id {in_rows} AND l.item_id = r.item_id AND f.public_id = r.source_ref
              AND fr.choice <> 'licence'
        ) AND NOT EXISTS (
            SELECT 1 FROM partners_filingrowitem l2
            JOIN partners_filingrow fr2 ON fr2.id = l2.row_id
            JOIN partners_filing f2 ON f2.id = fr2.filing_id
            WHERE l2.item_id = r.item_id AND f2.public_id = r.source_ref AND fr2.lifted_at IS NULL
              AND fr2.choice <> 'licence'
        )
    """  # noqa: S608 (fixed SQL; every value is a parameter)
    sources = RemovalQuery.of_sources(filings)
    summary = removals_revoke(
        removals=RemovalQuery(f"({sources.condition}) AND {condition}", [*sources.params, *params]),
        why=LIFTED_BY_CREATOR,
    )
    grants = rows_grants_revoke(row_ids=ids, why=LIFTED_BY_CREATOR)
    partner_action_record(
        actor=user,
        kind=PartnerActionKind.ROWS_LIFTED,
        obj=locked,
        detail={
            "creator_id": locked.creator_id,
            "rows": len(ids),
            "all": row_ids is None,
            "row_ids": ids[:1000],
            "removals": summary.count,
            "grants": grants,
        },
    )
    return Lifted(rows=len(ids), removals=summary.count, grants=grants)


def rows_grants_revoke(*, row_ids: Sequence[int], why: str) -> int:
    """Revoke the licence grants of the licence rows among `row_ids`: the items each granted under
    its filing, unless another licence row of that filing, not lifted nor among these, grants the
    same item. Returns how many; each is told to maintainers (`licence.revoked`)."""
    by_filing: dict[str, set[int]] = {}
    links = FilingRowItem.objects.filter(row_id__in=list(row_ids), row__choice=RowChoice.LICENCE)
    for filing_ref, item in links.values_list("row__filing__public_id", "item_id"):
        by_filing.setdefault(filing_ref, set()).add(item)
    revoked = 0
    for filing_ref, items in sorted(by_filing.items()):
        still = set(
            FilingRowItem.objects.filter(
                item_id__in=list(items),
                row__filing__public_id=filing_ref,
                row__choice=RowChoice.LICENCE,
                row__lifted_at__isnull=True,
            )
            .exclude(row_id__in=list(row_ids))
            .values_list("item_id", flat=True)
        )
        selection = GrantSelection(source_ref=filing_ref, item_ids=sorted(items - still))
        revoked += licence_grants_revoke(grants=selection, why=why)
    return revoked


def claims_of(user: User) -> QuerySet[CreatorClaim]:
    return CreatorClaim.objects.filter(user=user).select_related("partner")


def partners_to_claim_from() -> QuerySet[Partner]:
    return Partner.objects.order_by("name")
