"""Filing: a partner's JSON batch of opt-outs, validated row by row and stored in one transaction.

A bad row is stored as rejected (its index, the field, a message a person can act on), never the
batch; a row whose key the partner filed before is stored as a duplicate and changes nothing.
Accepted rows are matched and decided in the background (partners.services.approval).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.utils import translation

from core.queueing import enqueue
from core.text import printable, text_problem
from registry.hashing import hex_to_code, hex_to_pdq
from registry.hosts import url_host_path
from registry.models import RemovalReason
from registry.preferences import Consent, ConsentError, consent_clean

from ..models import (
    Filing,
    FilingRow,
    FilingRowLicence,
    Partner,
    PartnerDomain,
    PartnerKey,
    RowChoice,
    RowState,
)

MAX_ROWS_PER_FILING = 10_000
MAX_URL_LENGTH = 4096
MAX_ID_LENGTH = 200
MAX_EMAIL_LENGTH = 254
# A scheme, a host and no white space (as registry's index rows): http and https only.
_HTTP_URL = re.compile(r"^https?://[^\s/?#@:]+(?::\d{1,5})?(?:[/?#]\S*)?$", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Computed once: an enum's `.values` builds its list on every call (a tenth of reading a file).
BASES = tuple(RemovalReason.values)
CHOICES = tuple(RowChoice.values)


class FilingRefused(Exception):
    """The whole filing is refused (no row is stored): `code` and a message for the partner."""

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


class RowError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        # Stored and echoed: whatever of the client's text it quotes is made safe to keep.
        message = printable(message, limit=500)
        super().__init__(message)
        self.field, self.message = field, message


@dataclass(frozen=True)
class Served:
    """A partner's domains as host keys: `covers` says whether a URL is on one, and a verified one."""

    domains: tuple[tuple[str, bool, bool], ...]  # (host key, with subdomains, verified)

    @classmethod
    def of(cls, partner: Partner) -> Served:
        rows = PartnerDomain.objects.filter(partner=partner).values_list(
            "host", "include_subdomains", "verified_at"
        )
        return cls(tuple((url_host_path(f"https://{h}/")[0], sub, at is not None) for h, sub, at in rows))

    def covers(self, url: str) -> tuple[bool, bool]:
        """(on a domain of the partner, on a verified one)."""
        key, _ = url_host_path(url)
        found = verified = False
        for mine, subdomains, is_verified in self.domains:
            if key and (key == mine or (subdomains and key.startswith(mine))):
                found = True
                verified = verified or is_verified
        return found, verified


def _text(
    row: dict[str, Any], name: str, *, required: bool, max_length: int, shown: str | None = None
) -> str:
    shown = shown or name
    value = row.get(name)
    if value is None or value == "":
        if required:
            raise RowError(shown, f"{shown} is required")
        return ""
    if not isinstance(value, str):
        raise RowError(shown, f"{shown} must be a string, not {type(value).__name__}")
    if problem := text_problem(value):
        raise RowError(shown, f"{shown} {problem}")
    if len(value) > max_length:
        raise RowError(shown, f"{shown} is longer than {max_length:,} characters")
    return value.strip()


def _url(row: dict[str, Any], name: str, *, required: bool, served: Served, shown: str | None = None) -> str:
    shown = shown or name
    value = _text(row, name, required=required, max_length=MAX_URL_LENGTH, shown=shown)
    if not value:
        return ""
    if not _HTTP_URL.match(value):
        raise RowError(shown, f"{shown} {value[:100]!r} is not an http(s) URL")
    if not served.covers(value)[0]:
        raise RowError(shown, f"{shown} {value[:100]!r} is not on a domain this partner serves")
    return value


def _pdq_quality(row: dict[str, Any], *, has_pdq: bool) -> int | None:
    value = row.get("pdq_quality")
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        shown = str(value)[:20] if isinstance(value, (str, int, float)) else type(value).__name__
        raise RowError("pdq_quality", f"pdq_quality must be a whole number from 0 to 100, not {shown!r}")
    if not has_pdq:
        raise RowError(
            "pdq_quality", "pdq_quality is PDQ's quality score: send it with the pdq it belongs to"
        )
    return value


def _hashes(row: dict[str, Any]) -> tuple[int | None, int | None, bytes | None]:
    codes: list[int | None] = []
    for name in ("phash", "dhash"):
        value = row.get(name)
        if value is None or value == "":
            codes.append(None)
            continue
        try:
            codes.append(hex_to_code(value))
        except ValueError as exc:
            raise RowError(name, f"{name} {exc}") from None
    value = row.get("pdq")
    pdq = None
    if value is not None and value != "":
        try:
            pdq = hex_to_pdq(value)
        except ValueError as exc:
            raise RowError("pdq", f"pdq {exc}") from None
    return codes[0], codes[1], pdq


def _choice(row: dict[str, Any], name: str, choices: Sequence[str], *, hint: str = "") -> str:
    value = row.get(name)
    accepted = ", ".join(repr(c) for c in choices)
    if value is None or value == "":
        raise RowError(name, f"{name} is required: one of {accepted}")
    if not isinstance(value, str) or value not in choices:
        shown = value[:40] if isinstance(value, str) else type(value).__name__
        shown = shown.encode("utf-8", "backslashreplace").decode().replace("\x00", "\\x00")
        raise RowError(name, f"{name} {shown!r} is not accepted; use one of {accepted}{hint}")
    return value


def _consent(row: dict[str, Any], choice: str) -> Consent:
    """A licence row's licence, checked as the artist's form checks it (registry.preferences);
    any other choice carries none (what was sent for one is dropped)."""
    if choice != RowChoice.LICENCE:
        return Consent(choice=choice)
    given: dict[str, str] = {}
    for name in ("licence", "licence_url", "attribution"):
        value = row.get(name)
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise RowError(name, f"{name} must be text, not {type(value).__name__}")
        problem = text_problem(value)
        if problem:
            raise RowError(name, f"{name} {problem}")
        given[name] = value
    try:
        with translation.override("en"):
            return consent_clean(choice=choice, **given)
    except ConsentError as exc:
        raise RowError(exc.field, f"{exc.field}: {exc.message}") from None


def row_key(
    *, creator_id: str, work_url: str, phash: int | None, dhash: int | None, pdq: bytes | None
) -> str:
    """The row's identity for its partner: the same creator, work and hashes are the same row."""
    parts = [
        creator_id.casefold(),
        work_url,
        "" if phash is None else f"{phash & 0xFFFFFFFFFFFFFFFF:016x}",
        "" if dhash is None else f"{dhash & 0xFFFFFFFFFFFFFFFF:016x}",
        "" if pdq is None else pdq.hex(),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def clean_filing_row(row: Any, *, served: Served) -> dict[str, Any]:
    """Validate one row; raise RowError naming the field and what to do."""
    if not isinstance(row, dict):
        raise RowError("row", f"each row must be an object, not {type(row).__name__}")
    creator = row.get("creator")
    if not isinstance(creator, dict):
        raise RowError("creator", "creator is required: an object with id, profile_url and optionally email")
    creator_id = _text(creator, "id", required=True, max_length=MAX_ID_LENGTH, shown="creator.id")
    profile = _url(creator, "profile_url", required=True, served=served, shown="creator.profile_url")
    email = _text(creator, "email", required=False, max_length=MAX_EMAIL_LENGTH, shown="creator.email")
    if email and not _EMAIL.match(email):
        raise RowError("creator.email", f"creator.email {email[:100]!r} is not an email address")
    work_url = _url(row, "work_url", required=True, served=served)
    image_url = _url(row, "image_url", required=False, served=served)
    phash, dhash, pdq = _hashes(row)
    pdq_quality = _pdq_quality(row, has_pdq=pdq is not None)
    basis = _choice(row, "basis", BASES)
    choice = _choice(row, "choice", CHOICES)
    consent = _consent(row, choice)
    return {
        "creator_id": creator_id,
        "creator_url": profile,
        "creator_email": email,
        "work_url": work_url,
        "image_url": image_url,
        "phash": phash,
        "dhash": dhash,
        "pdq": pdq,
        "pdq_quality": pdq_quality,
        "basis": basis,
        "choice": choice,
        # Stored beside the row (FilingRowLicence), never in it: see rows_store.
        "licence_terms": (consent.licence, consent.licence_url, consent.attribution)
        if choice == RowChoice.LICENCE
        else None,
        "row_key": row_key(creator_id=creator_id, work_url=work_url, phash=phash, dhash=dhash, pdq=pdq),
    }


@dataclass
class FilingResult:
    filing: Filing
    rejected: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    # Rows that name a row filed before (same key) with another choice: that row's choice changed.
    changes: list[dict[str, Any]] = field(default_factory=list)


def filing_create(*, key: PartnerKey, rows: Sequence[Any], attestation: Any) -> FilingResult:
    """Store a batch: every row, accepted, rejected or duplicate, with its index; queue the matching.

    Raises FilingRefused (nothing stored) for a suspended partner, a missing attestation or too many rows.
    """
    partner = key.partner
    attestation_check(partner=partner, attestation=attestation)
    if len(rows) > MAX_ROWS_PER_FILING:
        raise FilingRefused(
            "too_many_rows",
            f"{len(rows):,} rows in one filing; send at most {MAX_ROWS_PER_FILING:,} per call.",
            status=413,
        )
    with transaction.atomic():
        # The partner's row lock: two filings of one partner sharing a row cannot both store it.
        partner = partner_lock_active(partner)
        return _store(partner=partner, key=key, rows=rows)


def attestation_check(*, partner: Partner, attestation: Any) -> None:
    """Raise FilingRefused unless the body attests, as the partner's agreement says."""
    if attestation is not True:
        raise FilingRefused(
            "attestation_required",
            'Send "attestation": true to confirm, as your agreement says, that you hold the instruction '
            f"of every creator in this filing: {partner.attestation_text[:500]}",
        )


def partner_lock_active(partner: Partner) -> Partner:
    """Lock the partner's row (inside a transaction); raise FilingRefused if it is suspended."""
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    if not partner.is_active:
        raise FilingRefused(
            "partner_suspended",
            "Your organisation's filings are suspended; write to us to have them reinstated.",
            status=403,
        )
    return partner


def _store(*, partner: Partner, key: PartnerKey, rows: Sequence[Any]) -> FilingResult:
    served = Served.of(partner)
    filing = Filing.objects.create(
        partner=partner, key=key, attestation=partner.attestation_text, total=len(rows)
    )
    cleaned: list[Cleaned] = []
    for index, row in enumerate(rows):
        try:
            cleaned.append((index, None, clean_filing_row(row, served=served)))
        except RowError as exc:
            cleaned.append((index, None, exc))
    result = rows_store(filing=filing, partner=partner, cleaned=cleaned)
    filing.rejected, filing.duplicates = len(result.rejected), len(result.duplicates)
    filing.save(update_fields=["rejected", "duplicates"])
    filing_id = filing.pk
    transaction.on_commit(lambda: filing_enqueue(filing_id))
    return result


# (index in the filing, line in its file or None, the cleaned row or why it was rejected)
Cleaned = tuple[int, int | None, "dict[str, Any] | RowError"]


def _where(index: int, line: int | None) -> str:
    return f"row {index}" if line is None else f"row {index}, line {line}"


def rows_store(*, filing: Filing, partner: Partner, cleaned: Sequence[Cleaned]) -> FilingResult:
    """Store cleaned rows of `filing`: rejected ones with their error, a row the partner filed
    before (or earlier in this filing) as a duplicate naming it, the others pending.

    The caller holds the partner's row lock, so two filings sharing a row cannot both store it.
    """
    result = FilingResult(filing=filing)
    keys = [c["row_key"] for _, _, c in cleaned if isinstance(c, dict)]
    found = _earlier_rows(partner, keys)
    earlier = {row_key: (pk, public_id, index, line) for row_key, pk, public_id, index, line, _ in found}
    # What each earlier row says, when a row sent now says something else (a change of choice).
    said = {row_key: choice for row_key, _, _, _, _, choice in found}
    terms_of = _earlier_terms([pk for key, (pk, *_) in earlier.items() if said[key] == RowChoice.LICENCE])
    # What this filing said first about each work: (index, line, statement), to refuse a second
    # statement of it (another choice) instead of counting it as the first one's duplicate.
    seen: dict[str, tuple[int, int | None, Consent]] = {}
    stated = _stated_in_filing(filing, earlier, said, terms_of)
    objects: list[dict[str, Any]] = []  # attribute values, not models: __init__ cost as much as COPY
    for index, line, value in cleaned:
        where = {"filing_id": filing.pk, "partner_id": partner.pk, "index": index, "line": line}
        if isinstance(value, RowError):
            result.rejected.append({"index": index, "field": value.field, "error": value.message})
            objects.append(
                {**where, "state": RowState.REJECTED, "error_field": value.field, "error": value.message}
            )
            continue
        key_value = value["row_key"]
        new = _said(value["choice"], value["licence_terms"])
        first = seen.get(key_value) or stated.get(key_value)
        if first is not None and first[2] != new:
            message = (
                f"the same work appears earlier in this filing ({_where(first[0], first[1])}) with "
                f"another choice ({first[2].choice}); send one choice per work in a filing"
            )
            result.rejected.append({"index": index, "field": "choice", "error": message})
            objects.append({**where, "state": RowState.REJECTED, "error_field": "choice", "error": message})
            continue
        if key_value in earlier and key_value not in seen:
            held, public_id, at, at_line = earlier[key_value]
            old = _said(said[key_value], terms_of.get(held))
            if old != new:
                # The same creator and work with another choice: a change of the earlier row's
                # choice, decided as any row of this filing (services.changes applies it then).
                change = {
                    "index": index,
                    "filing": public_id,
                    "row": at,
                    "old": old.choice,
                    "new": new.choice,
                    "applied": False,
                }
                result.changes.append(change)
                message = (
                    f"changes the choice of the row filed before (filing {public_id}, "
                    f"{_where(at, at_line)}) from {old.choice} to {new.choice} once this row is decided"
                )
                objects.append(
                    {**where, "state": RowState.PENDING, "duplicate_of_id": held, "error": message,
                     **value, "row_key": None}
                )  # fmt: skip
                seen[key_value] = (index, line, new)
                continue
        if key_value in earlier or key_value in seen:
            if key_value in earlier:
                pk, public_id, at, at_line = earlier[key_value]
                if public_id == filing.public_id:
                    message = f"the same row is {_where(at, at_line)} of this filing; nothing changed"
                else:
                    message = (
                        f"the same row was filed before (filing {public_id}, {_where(at, at_line)}); "
                        "nothing changed"
                    )
                duplicate: dict[str, Any] = {"index": index, "filing": public_id, "row": at}
            else:
                pk, (at, at_line, _) = None, seen[key_value]
                message = f"the same row is {_where(at, at_line)} of this filing; nothing changed"
                duplicate = {"index": index, "filing": filing.public_id, "row": at}
            result.duplicates.append(duplicate)
            objects.append(
                {**where, "state": RowState.DUPLICATE, "duplicate_of_id": pk, "error": message,
                 **value, "row_key": None}
            )  # fmt: skip
            continue
        seen[key_value] = (index, line, new)
        objects.append({**where, "state": RowState.PENDING, **value})
    terms = {row["index"]: row.pop("licence_terms", None) for row in objects}
    rows_insert(objects)
    _licence_terms_insert(filing, {index: t for index, t in terms.items() if t is not None})
    return result


def _stated_in_filing(
    filing: Filing,
    earlier: dict[str | None, tuple[int, str, int, int | None]],
    said: dict[str | None, str],
    terms_of: dict[int, tuple[str, str, str]],
) -> dict[str | None, tuple[int, int | None, Consent]]:
    """What an earlier batch of this filing (a file is stored batch by batch) said about each work
    found before: its own row, or its row naming a row of another filing (a duplicate or a change)."""
    out: dict[str | None, tuple[int, int | None, Consent]] = {}
    held_elsewhere: dict[int, str | None] = {}
    for key_value, (held, public_id, at, at_line) in earlier.items():
        if public_id == filing.public_id:
            out[key_value] = (at, at_line, _said(said[key_value], terms_of.get(held)))
        else:
            held_elsewhere[held] = key_value
    if held_elsewhere and filing.rows_read:
        echoes = list(
            FilingRow.objects.filter(filing=filing, duplicate_of_id__in=list(held_elsewhere))
            .order_by("index")
            .values_list("pk", "duplicate_of_id", "index", "line", "choice")
        )
        own = _earlier_terms([pk for pk, *_ in echoes])
        for pk, held, at, at_line, choice in echoes:
            key_value = held_elsewhere[held]
            # A change row keeps its own terms; a duplicate says what the earlier row says.
            terms = own.get(pk) or (terms_of.get(held) if choice == said[key_value] else None)
            out.setdefault(key_value, (at, at_line, _said(choice, terms)))
    return out


def _said(choice: str, terms: tuple[str, str, str] | None) -> Consent:
    """A row's statement, to compare: its choice (none stored: a removal) and a licence's terms."""
    if choice == RowChoice.LICENCE and terms is not None:
        return Consent(choice, *terms)
    return Consent(choice or RowChoice.REMOVE)


def _earlier_terms(row_ids: list[int]) -> dict[int, tuple[str, str, str]]:
    if not row_ids:
        return {}
    return {
        pk: (licence, url, attribution)
        for pk, licence, url, attribution in FilingRowLicence.objects.filter(row_id__in=row_ids).values_list(
            "row_id", "licence", "licence_url", "attribution"
        )
    }


def _licence_terms_insert(filing: Filing, terms: dict[int, tuple[str, str, str]]) -> None:
    """The licence rows' terms, beside the rows just stored (pending ones: a duplicate grants
    nothing)."""
    if not terms:
        return
    ids = FilingRow.objects.filter(filing=filing, index__in=list(terms), state=RowState.PENDING)
    FilingRowLicence.objects.bulk_create(
        FilingRowLicence(
            row_id=pk, licence=terms[index][0], licence_url=terms[index][1], attribution=terms[index][2]
        )
        for index, pk in ids.values_list("index", "pk")
    )


def _earlier_rows(
    partner: Partner, keys: list[str]
) -> list[tuple[str | None, int, str, int, int | None, str]]:
    """(row key, pk, filing id, index, line, choice) of the partner's stored rows with one of `keys`.

    On PostgreSQL one index probe per key (one_row_per_partner_key). `partner_id = %s AND row_key
    IN (...)` let the planner take the partner's rows by filing_row_creator and filter them by
    key: a read of every row the partner ever filed, per batch, so filing slowed as the partner's
    rows grew (0.2 s a batch at 100,000 rows; a 1,000,000-row file read 200 batches of them). The
    planner keeps doing that while the table's statistics are stale (after a bulk COPY, or with
    autovacuum off); OFFSET 0 keeps the lateral subquery a probe per key whatever they say.
    """
    if connection.vendor != "postgresql":
        return list(
            FilingRow.objects.filter(partner=partner, row_key__in=keys).values_list(
                "row_key", "pk", "filing__public_id", "index", "line", "choice"
            )
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT r.row_key, r.id, f.public_id, r.index, r.line, r.choice"
            " FROM unnest(%s::varchar[]) AS k(key)"
            " CROSS JOIN LATERAL (SELECT x.row_key, x.id, x.filing_id, x.index, x.line, x.choice"
            " FROM partners_filingrow x WHERE x.partner_id = %s AND x.row_key = k.key"
            " AND x.row_key IS NOT NULL OFFSET 0) AS r JOIN partners_filing f ON f.id = r.filing_id",
            [keys, partner.pk],
        )
        return [(str(k), int(pk), str(f), int(i), line, str(c)) for k, pk, f, i, line, c in cursor.fetchall()]


def rows_insert(rows: Sequence[dict[str, Any]]) -> None:
    """Insert new rows, each given as its fields' attribute values (the others take their defaults).

    Through COPY on PostgreSQL: bulk_create built and split its query at about 1,000 rows a
    second, the bulk of reading a file. Every column but the id is sent; values of types COPY
    takes as they are go as they are (get_db_prep_save on every value cost 5x the COPY itself),
    the others are prepared by their field. Elsewhere through bulk_create.
    """
    if connection.vendor != "postgresql":
        FilingRow.objects.bulk_create([FilingRow(**row) for row in rows], batch_size=2000)
        return
    fields = [field for field in FilingRow._meta.concrete_fields if not field.primary_key]
    defaults = {field.attname: field.get_default() for field in fields}
    prepared = [field for field in fields if field.get_internal_type() not in _COPIED_AS_THEY_ARE]
    table = FilingRow._meta.db_table
    columns = ", ".join(connection.ops.quote_name(str(field.column)) for field in fields)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            values = {**defaults, **row}
            for field in prepared:
                values[field.attname] = field.get_db_prep_save(values[field.attname], connection)
            copy.write_row([values[field.attname] for field in fields])


# Field types whose Python values psycopg's COPY writes correctly without the field's preparation.
_COPIED_AS_THEY_ARE = frozenset(
    {
        "AutoField", "BigAutoField", "BigIntegerField", "BinaryField", "BooleanField", "CharField",
        "DateTimeField", "ForeignKey", "IntegerField", "PositiveBigIntegerField",
        "PositiveIntegerField", "PositiveSmallIntegerField", "SmallIntegerField", "TextField",
    }
)  # fmt: skip


def filing_enqueue(filing_id: int) -> None:
    enqueue(
        "partners.tasks.filing_process",
        filing_id,
        fallback="the filing is matched by the next sweep (partners.tasks.filings_resume)",
    )
