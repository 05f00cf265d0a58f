"""Domain opt-outs: a rule for everything under a host (with its subdomains, or under a path prefix).

Recording a rule writes a Removal of its source reference for every registered item under
it, in every data set, with one set-based INSERT ... SELECT over the host index, and the
webhook events in chunks of at most 500 removals. Items written later are matched when
they are written (imports and the items endpoint call optouts_match_written): the batch's
hosts are looked up among the active rules, never the data set scanned.

A rule carries the artist's choice (registry.preferences), and what it writes follows it:

- `remove`: removals (as above), `search` unknown;
- `search_only`: the same removals with `search` allowed;
- `licence`: no removal. Every registered item under the rule gets a LicenceGrant of the
  rule's source (its licence, URL and attribution), at record time and at write time, exactly
  where a removing rule writes removals, so maintainers read it in the licences feed, the
  export, the `licence.granted` events and the lookup. An item a live removal of the same
  source covers is left removed (as re-matching does for works).

Changing a rule's choice (domain_optouts_choice_set) revokes what it said (its removals, or its
grants) and records what it now says, in one transaction: the revocation's events are written
first, so `removal.revoked` reaches a maintainer before the `licence.granted` that follows it.
What a change restates is what the rule covers: the registered items under its scope. Copies that
re-matching found elsewhere (a repost on another host, recorded for the same source) are not
restated by it (not done yet: they keep what the rule said when they were found).
Revoking a rule stops it covering new items and lookups; its grants are revoked with it (a
licence the artist withdrew must not stand), its removals stay (the removal was approved).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction

from core import clock

from .. import signals
from ..hosts import Scope, url_host_path
from ..models import DatasetItem, DomainOptOut, GrantState, LicenceGrant, Removal, RemovalSource, RemovalState
from ..preferences import Choice, Consent
from ..selectors import active_optouts_for_keys, rule_scope, scope_sql
from .grants import GrantSelection, licence_grants_record, licence_grants_revoke
from .removals import ItemQuery, RemovalEntry, RemovalQuery, removals_record, removals_revoke, removals_write

# The reason maintainers read with what a change of a rule's choice revoked.
RULE_CHOICE_CHANGED = "The artist changed their choice for this domain."
RULE_REVOKED = "The artist withdrew this domain rule."
_GRANT_CHUNK = 2000


@dataclass
class OptOutsRecorded:
    """What recording a request's rules did: the rules, and the removals (or, for licensing
    rules, the grants) written per data set id."""

    rules: list[DomainOptOut] = field(default_factory=list)
    removals_by_dataset: dict[int, int] = field(default_factory=dict)
    grants_by_dataset: dict[int, int] = field(default_factory=dict)
    # For each rule (same order), what it newly wrote per data set id: removals, or grants.
    per_rule: list[dict[int, int]] = field(default_factory=list)

    @property
    def removals(self) -> int:
        return sum(self.removals_by_dataset.values())

    @property
    def grants(self) -> int:
        return sum(self.grants_by_dataset.values())


@transaction.atomic
def domain_optouts_record(
    *,
    source_ref: str,
    reason: str,
    scopes: Sequence[Scope],
    approved_at: datetime | None = None,
    source: str = RemovalSource.ARTIST,
    partner: str = "",
    consent: Consent | None = None,
) -> OptOutsRecorded:
    """Record a rule per scope under `consent` (a checked choice, preferences.consent_clean;
    none: remove) and write its statements for every registered item under each, in the
    caller's transaction.

    Idempotent: a scope already recorded for `source_ref` keeps its rule (and its choice), and
    an item already removed (or granted) for `source_ref` gets no second removal (or grant).
    """
    consent = consent or Consent()
    if consent.choice not in Choice.values:
        raise ValueError(f"not a choice: {consent.choice!r}")
    approved_at = approved_at or clock.now()
    done = OptOutsRecorded()
    removals: dict[int, int] = defaultdict(int)
    grants: dict[int, int] = defaultdict(int)
    for scope in dict.fromkeys(scopes):
        rule, _created = DomainOptOut.objects.get_or_create(
            source_ref=source_ref,
            host_key=scope.key,
            include_subdomains=scope.include_subdomains,
            path_prefix=scope.path_prefix,
            defaults={
                "host": scope.host,
                "reason": reason,
                "approved_at": approved_at,
                "source": source,
                "partner": partner,
                "choice": consent.choice,
                "licence": consent.licence,
                "licence_url": consent.licence_url,
                "attribution": consent.attribution,
            },
        )
        written = _statements_write(rule, approved_at=approved_at)
        for dataset_id, count in written.items():
            (removals if rule.is_removal else grants)[dataset_id] += count
        done.rules.append(rule)
        done.per_rule.append(written)
    done.removals_by_dataset = dict(removals)
    done.grants_by_dataset = dict(grants)
    return done


def _statements_write(rule: DomainOptOut, *, approved_at: datetime | None = None) -> dict[int, int]:
    """What `rule` says of every registered item under it, written: removals (with the choice's
    `search`) or licence grants; returns the new ones per data set id."""
    condition, params = scope_sql(rule_scope(rule))
    if rule.is_removal:
        return dict(
            removals_write(
                source_ref=rule.source_ref,
                reason=rule.reason,
                items=ItemQuery(condition, params),
                approved_at=approved_at,
                source=rule.source,
                partner=rule.partner,
                search=rule.consent.search,
            ).by_dataset
        )
    counts: dict[int, int] = defaultdict(int)
    for chunk in _chunks(_unremoved_item_ids(rule, condition, params), _GRANT_CHUNK):
        items = DatasetItem.objects.filter(pk__in=chunk).select_related("dataset").order_by("pk")
        for grant in licence_grants_record(
            source_ref=rule.source_ref,
            consent=rule.consent,
            entries=[RemovalEntry(dataset=item.dataset, item=item) for item in items],
            source=rule.source,
            partner=rule.partner,
        ):
            counts[grant.dataset_id] += 1
    return dict(counts)


def _unremoved_item_ids(rule: DomainOptOut, condition: str, params: Sequence[str | int]) -> list[int]:
    """The items under a licensing rule that no live removal of its source covers (those stay
    removed: disallow wins within one source as between sources)."""
    sql = f"""
        SELECT i.id FROM registry_datasetitem i WHERE ({condition}) AND NOT EXISTS (
            SELECT 1 FROM registry_removal r
            WHERE r.source_ref = %s AND r.item_id = i.id AND r.state <> %s
        ) ORDER BY i.id
    """  # noqa: S608 (scope_sql's own text; every value is a parameter)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, rule.source_ref, RemovalState.REVOKED.value])
        return [int(pk) for (pk,) in cursor.fetchall()]


def _chunks(values: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _statements_revoke(rule: DomainOptOut, *, why: str) -> int:
    """Revoke what `rule` said of the registered items under it (its source's live removals of
    them, or its standing grants of them); returns how many."""
    condition, params = scope_sql(rule_scope(rule))
    if rule.is_removal:
        query = RemovalQuery(
            f"r.source_ref = %s AND r.item_id IN (SELECT i.id FROM registry_datasetitem i WHERE {condition})",  # noqa: S608
            [rule.source_ref, *params],
        )
        return removals_revoke(removals=query, why=why).count
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT g.item_id FROM registry_licencegrant g JOIN registry_datasetitem i ON i.id = g.item_id"  # noqa: S608
            f" WHERE g.source_ref = %s AND g.state = %s AND ({condition})",
            [rule.source_ref, GrantState.ACTIVE.value, *params],
        )
        item_ids = [int(pk) for (pk,) in cursor.fetchall()]
    if not item_ids:
        return 0
    selection = GrantSelection(source_ref=rule.source_ref, item_ids=item_ids)
    return licence_grants_revoke(grants=selection, why=why)


@dataclass(frozen=True)
class RuleChoiceChanged:
    """What changing a source's rules' choice did: rules changed, statements revoked, and the
    removals and grants recorded in their place."""

    rules: int = 0
    revoked: int = 0
    removed: int = 0
    granted: int = 0


@transaction.atomic
def domain_optouts_choice_set(
    *, source_ref: str, consent: Consent, why: str = RULE_CHOICE_CHANGED
) -> RuleChoiceChanged:
    """Give the active rules of `source_ref` the choice `consent` (checked already, by
    preferences.consent_clean). Each rule whose choice differs has what it said revoked (with
    `why`) and what it now says recorded, in this transaction, revocation first (see the module).

    The rules are locked: two changes at once are applied one after the other, and a rule
    revoked meanwhile is left alone."""
    if consent.choice not in Choice.values:
        raise ValueError(f"not a choice: {consent.choice!r}")
    rules = list(
        DomainOptOut.objects.select_for_update()
        .filter(source_ref=source_ref, revoked_at__isnull=True)
        .order_by("pk")
    )
    changed = [rule for rule in rules if rule.consent != consent]
    revoked = removed = granted = 0
    for rule in changed:
        revoked += _statements_revoke(rule, why=why)
    for rule in changed:
        rule.choice, rule.licence = consent.choice, consent.licence
        rule.licence_url, rule.attribution = consent.licence_url, consent.attribution
        rule.save(update_fields=["choice", "licence", "licence_url", "attribution"])
        written = sum(_statements_write(rule).values())
        if rule.is_removal:
            removed += written
        else:
            granted += written
    return RuleChoiceChanged(rules=len(changed), revoked=revoked, removed=removed, granted=granted)


@transaction.atomic
def domain_optouts_revoke(*, source_ref: str, why: str = RULE_REVOKED) -> int:
    """Stop the rules of `source_ref` from covering new items and lookups: a licensing rule's
    grants are revoked with it (with `why`), a removing rule's removals stay."""
    rules = list(
        DomainOptOut.objects.select_for_update().filter(source_ref=source_ref, revoked_at__isnull=True)
    )
    for rule in rules:
        if not rule.is_removal:
            _statements_revoke(rule, why=why)
    return DomainOptOut.objects.filter(pk__in=[r.pk for r in rules]).update(revoked_at=clock.now())


def optouts_match_written(*, dataset_id: int, rows: Iterable[dict[str, object]]) -> list[Removal]:
    """Items just written to `dataset_id` (`rows` with external_id and url) that fall under an
    active rule get the rule's statement, in the caller's transaction: removals of the rule's
    source (returned), or, under a licensing rule, its licence grants.

    One query for the rules that may cover the batch's hosts; none when no rule does.
    """
    if not DomainOptOut.objects.filter(revoked_at__isnull=True).exists():
        return []  # no rule at all: the common case costs one indexed query a batch
    keyed = [
        (str(r["external_id"]), str(r["host"]), str(r["path"]))
        if "host" in r  # keyed already by the import (registry.imports.key_rows)
        else (str(r["external_id"]), *url_host_path(str(r["url"])))
        for r in rows
    ]
    rules = active_optouts_for_keys({key for _, key, _ in keyed if key})
    if not rules:
        return []
    scopes = [(rule, rule_scope(rule)) for rule in rules]
    wanted: dict[DomainOptOut, set[str]] = defaultdict(set)
    for external_id, key, path in keyed:
        for rule, scope in scopes:
            if scope.covers(key, path):
                wanted[rule].add(external_id)
    created: list[Removal] = []
    # Removing rules first: an item under a removing and a licensing rule of one source stays
    # removed (the licensing rule skips it), as at record time.
    for rule, external_ids in sorted(wanted.items(), key=lambda pair: not pair[0].is_removal):
        items = DatasetItem.objects.filter(
            dataset_id=dataset_id, external_id__in=sorted(external_ids)
        ).select_related("dataset")
        if not rule.is_removal:
            _grant_items(rule, list(items))
            continue
        created += removals_record(
            source_ref=rule.source_ref,
            reason=rule.reason,
            entries=[RemovalEntry(dataset=item.dataset, item=item) for item in items],
            source=rule.source,
            partner=rule.partner,
            search=rule.consent.search,
        )
    if created:
        refs = {r.source_ref for r in created}
        transaction.on_commit(lambda: signals.removals_rematched.send(sender=Removal, source_refs=refs))
    return created


def _grant_items(rule: DomainOptOut, items: list[DatasetItem]) -> list[LicenceGrant]:
    """Grants of a licensing rule for these items, but those a live removal of its source covers."""
    removed = set(
        Removal.objects.filter(source_ref=rule.source_ref, item_id__in=[i.pk for i in items])
        .exclude(state=RemovalState.REVOKED)
        .values_list("item_id", flat=True)
    )
    return licence_grants_record(
        source_ref=rule.source_ref,
        consent=rule.consent,
        entries=[RemovalEntry(dataset=i.dataset, item=i) for i in items if i.pk not in removed],
        source=rule.source,
        partner=rule.partner,
    )
