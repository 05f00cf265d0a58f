"""The demo's partner: a platform filing opt-outs for the creators it hosts (`manage.py seed_demo`
asks this app for it through PartnersConfig.seed_demo: requests_app does not import partners).

Demo Gallery, its domain verified, a policy that approves verified, hashed rows once a moderator
passed a sample of two, and a key kept in VAR_DIR. Its first filing names works of the demo
photos data set by their hashes for two creators (removals, a search-only row, a CC BY-SA licence)
and is decided at seed time: the demo moderator marks its sample good, then the policy approves
the rest, inline rather than through the worker, so the feeds show partner rows when the command
ends. Its second filing changes one row's choice and is left held for its sample: the desk has a
partner row to judge, and the creator's claim page shows the change still pending.

Idempotent as the rest of the seed: every piece is looked up by its natural key first.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.urls import reverse

from partners import services
from partners.models import (
    ClaimStatus,
    CreatorClaim,
    Filing,
    FilingState,
    Partner,
    PartnerDomain,
    PartnerKey,
    RowState,
    SampleMark,
    SampleState,
)
from registry import services as registry_services
from registry.hashing import code_to_hex
from registry.models import Dataset, Removal, RemovalState
from requests_app.models import ArtistProfile

NAME, SLUG = "Demo Gallery", "demo-gallery"  # the name is the one maintainers read with each removal
HOST = "gallery.demo.example"
SAMPLE_SIZE = 2
KEY_FILE = "demo_partner_key.txt"


@dataclass(frozen=True)
class DemoCreator:
    creator_id: str
    email: str  # where a claim link is mailed; "" when the partner gave none


# The demo artist sells on the gallery too: their account claims this creator.
ARTIST_CREATOR = DemoCreator("demo-artist", "artist@demo.example")
OTHER_CREATOR = DemoCreator("lena-okafor", "")
# (creator, photo, choice): works of the demo photos data set, named by the hashes of its copies.
# None of them is claimed in an artist's request, so none goes to the desk in conflict.
ROWS = (
    (ARTIST_CREATOR, "rocket", "remove"),
    (ARTIST_CREATOR, "hubble_deep_field", "remove"),
    (ARTIST_CREATOR, "chelsea", "licence"),
    (OTHER_CREATOR, "brick", "remove"),
    (OTHER_CREATOR, "grass", "search_only"),
    (OTHER_CREATOR, "gravel", "remove"),
)
# The second filing: the demo artist's Hubble picture, search only from now on.
CHANGE = (ARTIST_CREATOR, "hubble_deep_field", "search_only")


@dataclass(frozen=True)
class DemoPartner:
    partner: Partner
    key: str
    claim_url: str  # the mailed link while the creator is not claimed, then the claim's page


def _row(photos: Dataset, creator: DemoCreator, photo: str, choice: str) -> dict[str, Any]:
    item = photos.items.get(external_id=f"{photo}-half")
    row: dict[str, Any] = {
        "creator": {"id": creator.creator_id, "profile_url": f"https://{HOST}/u/{creator.creator_id}"},
        "work_url": f"https://{HOST}/works/{photo}",
        "phash": code_to_hex(item.phash),
        "dhash": code_to_hex(item.dhash),
        "basis": "copyright",
        "choice": choice,
    }
    if creator.email:
        row["creator"]["email"] = creator.email
    if item.pdq is not None:
        row["pdq"] = bytes(item.pdq).hex()
        if item.pdq_quality is not None:
            row["pdq_quality"] = item.pdq_quality
    if choice == "licence":
        row["licence"], row["attribution"] = "cc-by-sa", f"{creator.creator_id} on {NAME}"
    return row


class PartnerSeed:
    """The partner's part of seed_demo, writing its progress with the command's `say`."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say

    def run(self, *, artist: ArtistProfile, moderator: User, photos: Dataset) -> DemoPartner:
        partner = self._partner()
        raw = self._key(partner)
        key = services.partner_key_authenticate(raw)
        assert key is not None  # just made or checked
        first = self._filing(key, [_row(photos, *row) for row in ROWS], change=False)
        self._decide(first, moderator=moderator)
        self._hand_over(first)
        change = self._filing(key, [_row(photos, *CHANGE)], change=True)
        self._decide(change, moderator=None)
        return DemoPartner(partner, raw, self._claim_url(partner, artist))

    def _partner(self) -> Partner:
        partner = Partner.objects.filter(slug=SLUG).first()
        if partner is None:
            partner = services.partner_create(
                name=NAME,
                slug=SLUG,
                contact_email=f"legal@{HOST}",
                agreement_ref="AG-DEMO-1",
                agreement_date=datetime.date(2026, 11, 1),
                attestation_text="We hold the written instruction of every creator we file for.",
            )
            self.say(f"  partner {NAME}: created")
        else:
            self.say(f"  partner {NAME}: exists")
        domain = PartnerDomain.objects.filter(partner=partner, host=HOST).first()
        if domain is None:
            domain = services.partner_domain_add(partner=partner, host=HOST)
        if not domain.verified:
            # As the demo artist's domain: no DNS answers for it, an operator marks it checked.
            services.partner_domain_verify(domain=domain)
            self.say(f"  partner domain {HOST}: verified")
        # Approve verified, hashed rows once a moderator passed a sample (unchanged: no audit row).
        services.filing_policy_update(
            policy=partner.policy, auto_approve_verified_hashed=True, sample_size=SAMPLE_SIZE
        )
        return partner

    def _key(self, partner: Partner) -> str:
        """Keys are stored hashed, so the demo key lives in VAR_DIR to be printed on every run."""
        key_file = Path(settings.VAR_DIR) / KEY_FILE
        raw = key_file.read_text().strip() if key_file.exists() else ""
        found = services.partner_key_authenticate(raw) if raw else None
        if found is not None and found.partner_id == partner.pk:
            self.say(f"  partner {NAME}: API key from {key_file}")
            return raw
        # The file was lost, or the key revoked: a new key, written down again.
        _, raw = services.partner_key_create(partner=partner, name="demo")
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(raw + "\n")
        self.say(f"  partner {NAME}: new API key saved to {key_file}")
        return raw

    def _filing(self, key: PartnerKey, rows: list[dict[str, Any]], *, change: bool) -> Filing:
        """The filing holding these rows, filed if none does: the first is known by its first
        row's work, the second by its row changing an earlier one's choice."""
        filings = Filing.objects.filter(partner=key.partner)
        if change:
            found = filings.filter(rows__duplicate_of__isnull=False).first()
        else:
            first = rows[0]["work_url"]
            found = filings.filter(rows__work_url=first, rows__duplicate_of__isnull=True).first()
        if found is not None:
            self.say(f"  filing {found.public_id} ({found.get_state_display().lower()}): exists")
            return found
        result = services.filing_create(key=key, rows=rows, attestation=True)
        # A demo row the services refuse is a bug of this module: say it loudly.
        assert not result.rejected and not result.duplicates, (result.rejected, result.duplicates)
        self.say(f"  filing {result.filing.public_id}: {len(rows)} row(s) filed by {NAME}")
        return result.filing

    def _decide(self, filing: Filing, *, moderator: User | None) -> None:
        """Run the filing as the worker would, now (the message filed for the worker finds it
        claimed); its sample is marked good by `moderator`, or left to the desk when None."""
        for _ in range(3):  # read and held, sample passed, decided
            filing.refresh_from_db()
            if filing.state == FilingState.QUEUED and (claimed := services.filing_claim(filing.pk)):
                services.filing_run(claimed)
            elif filing.sample_state == SampleState.PENDING and moderator is not None:
                sampled = filing.rows.filter(state=RowState.SAMPLED, sample_mark=SampleMark.NONE)
                services.sample_rows_mark(
                    row_ids=list(sampled.values_list("pk", flat=True)), actor=moderator, mark=SampleMark.GOOD
                )
            else:
                break
        filing.refresh_from_db()
        counts = ", ".join(f"{n} {state}" for state, n in sorted(_row_counts(filing).items()))
        self.say(f"  filing {filing.public_id} ({filing.get_state_display().lower()}): rows {counts}")

    def _hand_over(self, filing: Filing) -> None:
        # No demo maintainer runs a webhook receiver: record the hand-over directly, as the seed
        # does for the artists' requests.
        pending = list(Removal.objects.filter(source_ref=filing.public_id, state=RemovalState.PENDING))
        if pending:
            registry_services.removals_mark_delivered(removals=pending)
            self.say(f"  filing {filing.public_id}: {len(pending)} removal(s) delivered")

    def _claim_url(self, partner: Partner, artist: ArtistProfile) -> str:
        """The claims page once the demo artist claimed their creator; until then a claim link,
        mailed (to the console under `make run`) and printed, for the demo artist's account."""
        claims = CreatorClaim.objects.filter(partner=partner, user=artist.user, status=ClaimStatus.VERIFIED)
        claim = claims.filter(creator_key=ARTIST_CREATOR.creator_id).first()
        if claim is not None:
            self.say(f"  claim of {ARTIST_CREATOR.creator_id} on {NAME}: verified")
            return settings.SITE_URL + reverse("claim_detail", args=[claim.pk])
        creator = services.creator_find(partner=partner, creator_id=ARTIST_CREATOR.creator_id)
        services.claim_email_send(profile=artist, creator=creator)
        # A second link signed the same way, for the summary: the mailed one is in the mail.
        _, token = services.claim_email_token(user=artist.user, creator=creator)
        self.say(f"  claim of {ARTIST_CREATOR.creator_id} on {NAME}: link mailed to {creator.email}")
        return settings.SITE_URL + reverse("claim_confirm", args=[token])


def _row_counts(filing: Filing) -> dict[str, int]:
    counts: dict[str, int] = {}
    for state in filing.rows.values_list("state", flat=True):
        counts[state] = counts.get(state, 0) + 1
    return counts


def summary_lines(demo: DemoPartner, site: str) -> list[str]:
    """What seed_demo prints of the partner: its key, a curl line for its API, the claim link."""
    return [
        f"  Demo partner API key ({demo.partner.name}): {demo.key}",
        f'    curl -H "Authorization: Bearer {demo.key}" {site}/api/v1/partner/filings/',
        f"  Partner's page:  {site}/admin/partners/partner/{demo.partner.pk}/change/",
        f"  Desk's partner rows: {site}/admin/partners/deskrow/",
        f"  Claim of the demo artist's works on {demo.partner.name} (log in as {ARTIST_CREATOR.email}):",
        f"    {demo.claim_url}",
    ]
