"""Domain opt-outs: a rule for everything under a host (with its subdomains, or under a path prefix).

Recording a rule writes a Removal of its source reference for every registered item under
it, in every data set, with one set-based INSERT ... SELECT over the host index, and the
webhook events in chunks of at most 500 removals. Items written later are matched when
they are written (imports and the items endpoint call optouts_match_written): the batch's
hosts are looked up among the active rules, never the data set scanned.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction

from core import clock

from .. import signals
from ..hosts import Scope, url_host_path
from ..models import Dataset, DatasetItem, DomainOptOut, Removal, WebhookEventType
from ..selectors import active_optouts_for_keys, rule_scope, scope_sql
from .removals import MAX_REMOVALS_PER_EVENT, RemovalEntry, _events_create, removals_record


@dataclass
class OptOutsRecorded:
    """What recording a request's rules did: the rules, and the removals written per data set id."""

    rules: list[DomainOptOut] = field(default_factory=list)
    removals_by_dataset: dict[int, int] = field(default_factory=dict)
    # For each rule (same order), its new removals per data set id.
    per_rule: list[dict[int, int]] = field(default_factory=list)

    @property
    def removals(self) -> int:
        return sum(self.removals_by_dataset.values())


def _new_id_sql() -> str:
    # The same shape as ids.new_removal_id (a prefix and random characters), made by the database.
    if connection.vendor == "postgresql":
        return "'rm_' || replace(gen_random_uuid()::text, '-', '')"
    return "'rm_' || lower(hex(randomblob(16)))"


def _insert_removals(rule: DomainOptOut, *, approved_at: datetime) -> list[tuple[int, int]]:
    """One INSERT ... SELECT: a pending Removal of every item under `rule` not yet removed for its
    source. Returns (removal id, data set id) of the new rows."""
    condition, params = scope_sql(rule_scope(rule))
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO registry_removal
                (public_id, dataset_id, item_id, external_id, url, url_key, phash, dhash, pdq, reason,
                 source_ref, approved_at, state)
            SELECT {_new_id_sql()}, i.dataset_id, i.id, i.external_id, i.url, i.url_key, i.phash,
                   i.dhash, i.pdq, %s, %s, %s, 'pending'
            FROM registry_datasetitem i
            WHERE {condition}
              AND NOT EXISTS (
                  SELECT 1 FROM registry_removal r WHERE r.source_ref = %s AND r.item_id = i.id
              )
            ON CONFLICT DO NOTHING
            RETURNING id, dataset_id
            """,  # noqa: S608 (fixed SQL and scope_sql's condition; every value is a parameter)
            [rule.reason, rule.source_ref, approved_at, *params, rule.source_ref],
        )
        return [(int(pk), int(dataset_id)) for pk, dataset_id in cursor.fetchall()]


def _events_for(rows: Sequence[tuple[int, int]]) -> None:
    """The webhook events and outbox rows of new removals, 500 removals at a time (bounded memory)."""
    by_dataset: dict[int, list[int]] = defaultdict(list)
    for pk, dataset_id in rows:
        by_dataset[dataset_id].append(pk)
    datasets = Dataset.objects.in_bulk(list(by_dataset))
    for dataset_id, pks in by_dataset.items():
        pks.sort()
        for start in range(0, len(pks), MAX_REMOVALS_PER_EVENT):
            chunk = list(Removal.objects.filter(pk__in=pks[start : start + MAX_REMOVALS_PER_EVENT]))
            for removal in chunk:
                removal.dataset = datasets[dataset_id]
            _events_create(event_type=WebhookEventType.REMOVAL_APPROVED, removals=chunk)


@transaction.atomic
def domain_optouts_record(
    *, source_ref: str, reason: str, scopes: Sequence[Scope], approved_at: datetime | None = None
) -> OptOutsRecorded:
    """Record a rule per scope and remove every registered item under each, in the caller's transaction.

    Idempotent: a scope already recorded for `source_ref` keeps its rule, and an item already
    removed for `source_ref` (by this rule, another, or a match) gets no second removal.
    """
    approved_at = approved_at or clock.now()
    done = OptOutsRecorded()
    totals: dict[int, int] = defaultdict(int)
    for scope in dict.fromkeys(scopes):
        rule, _created = DomainOptOut.objects.get_or_create(
            source_ref=source_ref,
            host_key=scope.key,
            include_subdomains=scope.include_subdomains,
            path_prefix=scope.path_prefix,
            defaults={"host": scope.host, "reason": reason, "approved_at": approved_at},
        )
        rows = _insert_removals(rule, approved_at=approved_at)
        _events_for(rows)
        mine: dict[int, int] = defaultdict(int)
        for _pk, dataset_id in rows:
            mine[dataset_id] += 1
            totals[dataset_id] += 1
        done.rules.append(rule)
        done.per_rule.append(dict(mine))
    done.removals_by_dataset = dict(totals)
    return done


@transaction.atomic
def domain_optouts_revoke(*, source_ref: str) -> int:
    """Stop the rules of `source_ref` from covering new items and lookups (its removals stay)."""
    return DomainOptOut.objects.filter(source_ref=source_ref, revoked_at__isnull=True).update(
        revoked_at=clock.now()
    )


def optouts_match_written(*, dataset_id: int, rows: Iterable[dict[str, object]]) -> list[Removal]:
    """Items just written to `dataset_id` (`rows` with external_id and url) that fall under an
    active rule become removals of the rule's source, in the caller's transaction.

    One query for the rules that may cover the batch's hosts; none when no rule does.
    """
    keyed = [(str(r["external_id"]), *url_host_path(str(r["url"]))) for r in rows]
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
    for rule, external_ids in wanted.items():
        items = DatasetItem.objects.filter(
            dataset_id=dataset_id, external_id__in=sorted(external_ids)
        ).select_related("dataset")
        created += removals_record(
            source_ref=rule.source_ref,
            reason=rule.reason,
            entries=[RemovalEntry(dataset=item.dataset, item=item) for item in items],
        )
    if created:
        refs = {r.source_ref for r in created}
        transaction.on_commit(lambda: signals.removals_rematched.send(sender=Removal, source_refs=refs))
    return created
