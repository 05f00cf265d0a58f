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

from django.db import transaction

from core import clock

from .. import signals
from ..hosts import Scope, url_host_path
from ..models import DatasetItem, DomainOptOut, Removal, RemovalSource
from ..selectors import active_optouts_for_keys, rule_scope, scope_sql
from .removals import ItemQuery, RemovalEntry, removals_record, removals_write


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


@transaction.atomic
def domain_optouts_record(
    *,
    source_ref: str,
    reason: str,
    scopes: Sequence[Scope],
    approved_at: datetime | None = None,
    source: str = RemovalSource.ARTIST,
    partner: str = "",
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
            defaults={
                "host": scope.host,
                "reason": reason,
                "approved_at": approved_at,
                "source": source,
                "partner": partner,
            },
        )
        condition, params = scope_sql(rule_scope(rule))
        written = removals_write(
            source_ref=rule.source_ref,
            reason=rule.reason,
            items=ItemQuery(condition, params),
            approved_at=approved_at,
            source=source,
            partner=partner,
        )
        for dataset_id, count in written.by_dataset.items():
            totals[dataset_id] += count
        done.rules.append(rule)
        done.per_rule.append(dict(written.by_dataset))
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
    for rule, external_ids in wanted.items():
        items = DatasetItem.objects.filter(
            dataset_id=dataset_id, external_id__in=sorted(external_ids)
        ).select_related("dataset")
        created += removals_record(
            source_ref=rule.source_ref,
            reason=rule.reason,
            entries=[RemovalEntry(dataset=item.dataset, item=item) for item in items],
            source=rule.source,
            partner=rule.partner,
        )
    if created:
        refs = {r.source_ref for r in created}
        transaction.on_commit(lambda: signals.removals_rematched.send(sender=Removal, source_refs=refs))
    return created
