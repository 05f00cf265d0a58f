"""Reads that other parts (the API, the upstream app) share."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from itertools import compress, repeat
from operator import is_not
from typing import cast

import numpy as np
from django.db import connection
from django.db.models import Q, QuerySet

from .hosts import PATH_INDEX_LENGTH, Scope, key_suffixes, url_host_keys, url_host_paths
from .lookup_index import LookupIndex, Origin
from .models import (
    ApiKey,
    Dataset,
    DatasetItem,
    DomainOptOut,
    GrantState,
    LicenceGrant,
    Maintainer,
    Removal,
    RemovalState,
    WebhookEndpoint,
    url_key,
)
from .preferences import Preference, combine


def datasets_of(maintainer: Maintainer) -> QuerySet[Dataset]:
    return Dataset.objects.filter(maintainer=maintainer)


def endpoints_of(maintainer: Maintainer) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(maintainer=maintainer, deleted_at__isnull=True)


def removals_for_source(source_ref: str) -> QuerySet[Removal]:
    """Every removal recorded for one upstream reference, with its data set."""
    return Removal.objects.filter(source_ref=source_ref).select_related("dataset", "dataset__maintainer")


def active_keys_of(maintainer: Maintainer) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(maintainer=maintainer, revoked_at__isnull=True)


def removed_urls(
    urls: list[str], *, covered: Iterable[str] | None = None, index: LookupIndex | None = None
) -> set[str]:
    """Which of `urls` are removed (not revoked) in any data set of the registry, or under an
    active domain opt-out (registered or not). `covered`: optouts_covering(urls), if known;
    `index`: this process's look-up index when it can answer (lookup_index()), else the database."""
    found: set[str] = set(optouts_covering(urls, index=index) if covered is None else covered)
    found.update(url_removal_origins(set(urls) - found, index=index))
    return found


def url_removal_origins(
    urls: Iterable[str], *, index: LookupIndex | None = None
) -> dict[str, frozenset[Origin]]:
    """For each of `urls` that a live removal names: its (source, partner, search) triples, all
    that the look-up says of it, in one read (or none, from `index`). URLs that say the same
    share one frozenset (callers work once per distinct answer)."""
    wanted = urls if isinstance(urls, set) else set(urls)
    if index is not None:
        return index.removal_origins(list(wanted))
    gathered: dict[str, set[Origin]] = {}
    for url, source, partner, search in _live_removals_by_url(wanted):
        if url is not None and url in wanted:
            gathered.setdefault(url, set()).add((source, partner, search))
    shared: dict[frozenset[Origin], frozenset[Origin]] = {}
    return {url: shared.setdefault(frozenset(said), frozenset(said)) for url, said in gathered.items()}


def _live_removals_by_url(urls: Iterable[str]) -> Iterable[tuple[str | None, str, str, str]]:
    """(url, source, partner, search) of the live (not revoked) removals whose url_key is one of
    these URLs' keys. A key can be shared (a collision): callers compare the URL itself."""
    keys = list({url_key(u) for u in urls})
    if not keys:
        return []
    if connection.vendor == "postgresql":
        # One statement for the whole batch (an index probe per key), read as plain tuples: for
        # 10,000 URLs the ORM's chunks of IN lists and its row objects cost more than the probes.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT url, source, partner, search FROM registry_removal"
                " WHERE url_key = ANY(%s::bigint[]) AND state <> %s",
                [keys, RemovalState.REVOKED.value],
            )
            return cursor.fetchall()
    rows: list[tuple[str | None, str, str, str]] = []
    for start in range(0, len(keys), 2000):
        rows += (
            Removal.objects.filter(url_key__in=keys[start : start + 2000])
            .exclude(state=RemovalState.REVOKED)
            .values_list("url", "source", "partner", "search")
        )
    return rows


def licensed_urls(urls: Iterable[str], *, index: LookupIndex | None = None) -> dict[str, list[LicenceGrant]]:
    """For each of `urls` that some standing licence grant covers: those grants, oldest first.
    With `index`, only the URLs whose key a standing grant has are read."""
    wanted = set(urls) if index is None else set(index.may_be_granted(urls))
    keys = list({url_key(u) for u in wanted})
    found: dict[str, list[LicenceGrant]] = {}
    for start in range(0, len(keys), 2000):
        for grant in LicenceGrant.objects.filter(
            url_key__in=keys[start : start + 2000], state=GrantState.ACTIVE
        ).order_by("pk"):
            if grant.url in wanted:
                found.setdefault(grant.url, []).append(grant)
    return found


def url_preferences(
    urls: Iterable[str],
    *,
    removed: Iterable[str],
    grants: Mapping[str, list[LicenceGrant]],
    origins: Mapping[str, frozenset[Origin]] | None = None,
    ruled: Mapping[str, DomainOptOut] | None = None,
    licensed: Mapping[str, DomainOptOut] | None = None,
    rules: Mapping[int, DomainOptOut] | None = None,
) -> dict[str, dict[str, str]]:
    """train_ai and search for each of `urls`, every statement about it combined, disallow
    winning (registry.preferences): a live removal or domain opt-out (`removed`) disallows
    training, and its `search` says what it says of search; a standing grant allows training.
    `origins`: url_removal_origins(urls), if known (else read here). `ruled`: the removing
    rule covering each URL (optouts_covering), whose `search` counts too; `licensed`: the
    licensing rule covering each URL (optouts_covering(licensing=True)), which allows training.
    `rules`: `ruled`'s distinct rules by id(), if known."""
    gone: AbstractSet[str] = removed.keys() if isinstance(removed, Mapping) else set(removed)
    ruled = ruled or {}
    licensed = licensed or {}
    if origins is None:
        origins = url_removal_origins(gone)
    # Most URLs of a batch say the same few things: each combination is computed once.
    answers: dict[tuple[bool, frozenset[str], tuple[str, ...]], dict[str, str]] = {}
    nothing: frozenset[str] = frozenset()

    def answer_for(key: tuple[bool, frozenset[str], tuple[str, ...]]) -> dict[str, str]:
        value = answers.get(key)
        if value is None:
            train = ([Preference.DISALLOWED] if key[0] else []) + [Preference.ALLOWED for _ in key[2]]
            value = answers[key] = {"train_ai": combine(train), "search": combine(set(key[1]) | set(key[2]))}
        return value

    # A URL neither removed nor granted says nothing: all of them share that answer, in the
    # batch's order, and only the others are looked at one by one.
    silent = answers[(False, nothing, ())] = {"train_ai": combine([]), "search": combine(set())}
    answer = dict.fromkeys(urls, silent)
    # So do the URLs removed by an opt-out alone (no removal of theirs, no grant): the whole of a
    # batch under a domain opt-out. update() keeps each URL where it is.
    # The removing rules that say something of search (search only): their URLs are looked at
    # again below; a batch under plain removing rules never is.
    if rules is None:
        rules_of = list(ruled.values())
        rules = dict(zip(map(id, rules_of), rules_of, strict=True))  # a few rules for thousands of URLs
    open_rules = {key for key, rule in rules.items() if rule.consent.search != Preference.UNKNOWN}
    open_urls = {url for url, rule in ruled.items() if id(rule) in open_rules} if open_rules else set()
    # One pass, past the maps that hold something (a batch under an opt-out has no removals).
    others = [m.keys() for m in (origins, grants, licensed) if m]
    only_ruled = set(gone).difference(*others) if others else gone
    if not answer.keys() >= only_ruled:  # the URLs removed are the batch's (the view's always are)
        only_ruled &= answer.keys()
    if only_ruled:
        answer.update(dict.fromkeys(only_ruled, answer_for((True, nothing, ()))))
        if open_rules:  # a search-only rule's URLs say search is allowed
            for url in only_ruled & open_urls:
                answer[url] = answer_for((True, frozenset({ruled[url].consent.search}), ()))
    # The URLs removed by removals and granted nothing: one answer per distinct set of their
    # removals' origins (URLs that say the same share one frozenset), mapped in C.
    by_removal = (
        list(((gone & origins.keys()) - grants.keys() - licensed.keys() - open_urls) & answer.keys())
        if origins
        else []
    )
    said = list(map(origins.__getitem__, by_removal))
    of_said = {s: answer_for((True, frozenset(o[2] for o in s), ())) for s in set(said)}
    answer.update(zip(by_removal, map(of_said.__getitem__, said), strict=True))
    # The rest one by one: URLs granted, under a licensing rule, or removed by a removal and a
    # search-only rule both.
    for url in (grants.keys() | licensed.keys() | ((gone & open_urls) - only_ruled)) & answer.keys():
        granted = [g.search for g in grants.get(url, ())]
        licensing = licensed.get(url)
        if licensing is not None:
            granted.append(licensing.consent.search)
        said_of = origins.get(url)
        searches = nothing if said_of is None or url not in gone else frozenset(o[2] for o in said_of)
        rule = ruled.get(url)
        if rule is not None and url in gone and rule.consent.search != Preference.UNKNOWN:
            searches |= {rule.consent.search}
        answer[url] = answer_for((url in gone, searches, tuple(granted)))
    return answer


def grants_for_source(source_ref: str) -> QuerySet[LicenceGrant]:
    """Every licence grant recorded for one upstream reference, with its data set."""
    return LicenceGrant.objects.filter(source_ref=source_ref).select_related("dataset", "dataset__maintainer")


def removed_url_sources(
    urls: list[str],
    *,
    covered: Mapping[str, DomainOptOut] | Iterable[str],
    origins: Mapping[str, frozenset[Origin]] | None = None,
    rules: Mapping[int, DomainOptOut] | None = None,
) -> dict[str, frozenset[tuple[str, str]]]:
    """For each of `urls` that is removed (see removed_urls): who asked, as (source, partner)
    pairs, from its live removals and from the domain opt-out covering it (`covered`: the URLs
    under a rule, with their rule when known). `origins`: url_removal_origins(urls), if known.

    URLs that say the same share one frozenset: a batch under one opt-out is 10,000 URLs with
    one answer, not 10,000 new sets (whose garbage collections were most of such a call).
    `rules`: `covered`'s distinct rules by id(), if known (as url_preferences takes them)."""
    none: frozenset[tuple[str, str]] = frozenset()
    if isinstance(covered, Mapping):  # an ABC's isinstance: once, not per URL
        # A batch under one opt-out is 10,000 URLs and one rule object: each rule's pairs are
        # made once, found by the object's id (its pk is a Python property, 10,000 calls).
        ids = list(map(id, covered.values())) if rules is None or len(rules) > 1 else []
        distinct = dict(zip(ids, covered.values(), strict=True)) if rules is None else rules
        of_rule = {i: none if r is None else frozenset({(r.source, r.partner)}) for i, r in distinct.items()}
        if len(of_rule) == 1:  # one rule for the whole batch: its pairs for every URL
            found = dict.fromkeys(covered.keys(), next(iter(of_rule.values())))
        else:
            found = dict(zip(covered.keys(), map(of_rule.__getitem__, ids), strict=True))
    else:
        found = dict.fromkeys(covered, none)
    if origins is None:
        origins = url_removal_origins(urls)
    shared: dict[frozenset[tuple[str, str]], frozenset[tuple[str, str]]] = {}
    # Once per distinct set of origins (shared by the URLs that say the same), not per URL.
    of_said: dict[frozenset[Origin], frozenset[tuple[str, str]]] = {}
    for said in set(origins.values()):
        pairs = frozenset((source, partner) for source, partner, _ in said)
        of_said[said] = shared.setdefault(pairs, pairs)
    ruled_too = {url: found[url] for url in origins.keys() & found.keys()}
    # update() keeps a URL under a rule where it is and adds the others in the origins' order.
    found.update(zip(origins.keys(), map(of_said.__getitem__, origins.values()), strict=True))
    for url, ruled in ruled_too.items():  # under a rule and removed too: both say who asked
        pairs = ruled | found[url]
        found[url] = shared.setdefault(pairs, pairs)
    return found


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def scope_sql(scope: Scope, *, alias: str = "i") -> tuple[str, list[str | int]]:
    """The WHERE condition on `registry_datasetitem {alias}` of the items under `scope`.

    Written to use the index item_host_path (migration 0005): host equality, or a prefix of
    the reversed host for subdomains; then the first 100 characters of the path.
    """
    postgres = connection.vendor == "postgresql"
    escape = "" if postgres else " ESCAPE '\\'"
    params: list[str | int]
    if scope.include_subdomains:
        parts, params = [f"{alias}.host LIKE %s{escape}"], [_like_prefix(scope.key)]
    else:
        parts, params = [f"{alias}.host = %s"], [scope.key]
    if scope.path_prefix:
        if postgres:
            parts.append(f"left({alias}.path, {PATH_INDEX_LENGTH}) LIKE %s")
            params.append(_like_prefix(scope.path_prefix))
        else:  # SQLite's LIKE ignores case: compare the prefix itself
            parts.append(f"substr({alias}.path, 1, %s) = %s")
            params += [len(scope.path_prefix), scope.path_prefix]
    return " AND ".join(parts), params


def scope_item_counts(scopes: Sequence[Scope]) -> list[dict[int, int]]:
    """For each scope, how many registered items it covers in each data set (id -> count)."""
    counts: list[dict[int, int]] = []
    with connection.cursor() as cursor:
        for scope in scopes:
            condition, params = scope_sql(scope)
            # The condition is scope_sql's own text; every value is a parameter.
            sql = f"SELECT i.dataset_id, count(*) FROM registry_datasetitem i WHERE {condition} GROUP BY 1"  # noqa: S608
            cursor.execute(sql, params)
            counts.append({int(d): int(n) for d, n in cursor.fetchall()})
    return counts


def active_optouts_for_keys(keys: Iterable[str]) -> list[DomainOptOut]:
    """The active rules that may cover any of these host keys (each key's suffixes looked up)."""
    candidates = sorted({suffix for key in keys for suffix in key_suffixes(key)})
    if not candidates:
        return []
    active = DomainOptOut.objects.filter(revoked_at__isnull=True)
    if connection.vendor == "postgresql":  # one index probe per candidate, in one statement
        return list(active.extra(where=["host_key = ANY(%s)"], params=[candidates]))
    rules: list[DomainOptOut] = []
    for start in range(0, len(candidates), 2000):
        rules += DomainOptOut.objects.filter(
            host_key__in=candidates[start : start + 2000], revoked_at__isnull=True
        )
    return rules


def rule_scope(rule: DomainOptOut) -> Scope:
    return Scope(host=rule.host, include_subdomains=rule.include_subdomains, path_prefix=rule.path_prefix)


def optouts_covering(
    urls: Iterable[str], *, index: LookupIndex | None = None, licensing: bool = False
) -> dict[str, DomainOptOut]:
    """For each URL under an active domain opt-out that removes (remove, search only), a rule
    that covers it (the oldest of a host); with `licensing`, under one that licenses instead.
    `index`: the look-up index holding the active rules (else they are read for these URLs)."""
    if index is not None:
        rules = [r for r in index.active_rules() if r.is_removal != licensing]
        if not rules:
            return {}
        wanted = may_be_under(urls, {r.host for r in rules})
        keys = url_host_keys(wanted)
    else:
        wanted = list(set(urls))
        keys = url_host_keys(wanted)
        rules = [r for r in active_optouts_for_keys(set(keys) - {""}) if r.is_removal != licensing]
    if not rules:
        return {}
    by_key: dict[str, list[tuple[Scope, DomainOptOut]]] = {}
    for rule in sorted(rules, key=lambda r: (r.approved_at, r.pk)):
        by_key.setdefault(rule.host_key, []).append((rule_scope(rule), rule))
    # The rules that may cover each host, shortest suffix first (as key_suffixes gives them):
    # gathered once per host, not per URL.
    candidates: dict[str, list[tuple[Scope, DomainOptOut]]] = {}
    for key in set(keys):
        candidates[key] = [pair for suffix in key_suffixes(key) for pair in by_key.get(suffix, ())]
    if not any(scope.path_prefix for options in candidates.values() for scope, _ in options):
        # No rule that may apply looks at the path: the host alone decides, once per host.
        hit_of_key = {
            key: next((rule for scope, rule in options if scope.covers(key, "/")), None)
            for key, options in candidates.items()
        }
        distinct = {id(rule): rule for rule in hit_of_key.values()}
        if len(distinct) == 1:  # one answer for every host of the batch (one rule, or none)
            only = next(iter(distinct.values()))
            return {} if only is None else dict.fromkeys(wanted, only)
        # In C, in the URLs' order: each URL's rule (or None), kept where there is one.
        hits = list(map(hit_of_key.__getitem__, keys))
        kept = compress(zip(wanted, hits, strict=True), map(is_not, hits, repeat(None)))
        return cast("dict[str, DomainOptOut]", dict(kept))  # the Nones are left out
    found: dict[str, DomainOptOut] = {}
    for url, (key, path) in url_host_paths(wanted).items():
        options = candidates.get(key)
        if options is None:
            options = [pair for suffix in key_suffixes(key) for pair in by_key.get(suffix, ())]
        hit = next((rule for scope, rule in options if scope.covers(key, path)), None)
        if hit is not None:
            found[url] = hit
    return found


# What url_host_path reads a host from that is not written out in the URL as it is (lower-cased):
# escapes, characters urlsplit drops, international names.
_HOST_NOT_AS_WRITTEN = ("%", "\t", "\r", "\n")


def may_be_under(urls: Iterable[str], hosts: set[str]) -> list[str]:
    """The URLs (each once) that a rule on one of `hosts` may cover: those whose text holds the
    host (any case), or whose host url_host_path might read from something else. The rest cannot
    be under any of them, and are not parsed. A batch where the hosts stand as often as there are
    URLs is given back whole, in its order: finding which URLs hold them would cost more than
    parsing the few that do not (a batch under an opt-out: 10,000 URLs on its hosts)."""
    if not hosts:
        return []
    wanted = list(dict.fromkeys(urls))
    text = "\n".join(wanted)
    if not text.isascii() or text.count("\n") != len(wanted) - 1:
        return [u for u in wanted if not u.isascii() or _may_hold(u.lower(), hosts)]
    low = text.lower()
    # Most batches hold none of the hosts: one substring search each, and nothing else is made.
    needles = [needle for needle in (*hosts, *_HOST_NOT_AS_WRITTEN[:3]) if needle in low]
    if not needles:
        return []
    if "" in needles or sum(map(low.count, needles)) >= len(wanted):
        # No rule has an empty host; if one did, it would be in every URL.
        return wanted
    # Where each URL starts in the text: a needle found at offset p is in URL searchsorted - 1.
    lengths = np.fromiter(map(len, wanted), np.int64, len(wanted))
    starts = np.concatenate(([0], np.cumsum(lengths[:-1] + 1)))
    found: set[int] = set()
    for needle in needles:
        # Split at the needle (as finditer, left to right, not overlapping), so each place is
        # the lengths before it: no match objects.
        parts = low.split(needle)
        before = np.fromiter(map(len, parts[:-1]), np.int64, len(parts) - 1)
        at = np.cumsum(before) + np.arange(len(before)) * len(needle)
        found.update((np.searchsorted(starts, at, "right") - 1).tolist())
    return [wanted[i] for i in sorted(found)]


def _may_hold(low: str, hosts: set[str]) -> bool:
    return any(h in low for h in hosts) or any(c in low for c in _HOST_NOT_AS_WRITTEN)


def live_removals_of_items(items: list[DatasetItem]) -> dict[int, Removal]:
    """For each item, its earliest live (not revoked) removal: of the item itself, or of its
    pHash in the item's data set (a removal recorded by hash, with no item)."""
    if not items:
        return {}
    by_hash = [(i.dataset_id, i.phash) for i in items if i.phash is not None]
    condition = Q(item_id__in=[i.pk for i in items])
    for dataset_id, phash in by_hash:
        condition |= Q(item__isnull=True, dataset_id=dataset_id, phash=phash)
    found: dict[int, Removal] = {}
    rows = Removal.objects.filter(condition).exclude(state=RemovalState.REVOKED).order_by("approved_at", "pk")
    for removal in rows.select_related("dataset"):
        for item in items:
            same_item = removal.item_id == item.pk
            same_hash = (
                removal.item_id is None
                and removal.dataset_id == item.dataset_id
                and removal.phash is not None
                and removal.phash == item.phash
            )
            if (same_item or same_hash) and item.pk not in found:
                found[item.pk] = removal
    return found


def removals_near_codes(codes: list[int], *, radius: int) -> dict[int, list[str]]:
    """For each pHash code, the public ids of the live removals within `radius` bits (the removal index)."""
    from .matching import removal_index

    unique = list(dict.fromkeys(codes))
    if not unique:  # a batch of URLs only: no index, no read
        return {}
    results = removal_index().search_many(unique, radius)
    pks = {pk for hits in results for pk, _ in hits}
    # The index holds a revoked removal until its next rebuild: the state is read here, so the
    # lookup stops answering with it the moment the revocation commits.
    public = dict(
        Removal.objects.filter(pk__in=pks).exclude(state=RemovalState.REVOKED).values_list("pk", "public_id")
    )
    return {
        code: [public[pk] for pk, _ in hits if pk in public]
        for code, hits in zip(unique, results, strict=True)
    }


def removals_for_export(maintainer: Maintainer, *, dataset: Dataset | None = None) -> QuerySet[Removal]:
    qs = Removal.objects.filter(dataset__maintainer=maintainer).select_related("dataset").order_by("pk")
    return qs.filter(dataset=dataset) if dataset is not None else qs


def grants_for_export(maintainer: Maintainer, *, dataset: Dataset | None = None) -> QuerySet[LicenceGrant]:
    qs = LicenceGrant.objects.filter(dataset__maintainer=maintainer).select_related("dataset").order_by("pk")
    return qs.filter(dataset=dataset) if dataset is not None else qs


FIGURES_CACHE_SECONDS = 300


def public_figures() -> dict[str, object]:
    """What the landing page shows: data sets with their item counts, and removal totals.

    Counting the items of data sets with millions of rows on every visit would
    scan them each time; the figures are cached for a few minutes instead.
    """
    from django.core.cache import cache
    from django.db.models import Count, Q

    def compute() -> dict[str, object]:
        datasets = [
            {"name": d.name, "maintainer": d.maintainer.name, "item_count": d.item_count}
            for d in Dataset.objects.select_related("maintainer")
            .annotate(item_count=Count("items"))
            .order_by("name")
        ]
        totals = Removal.objects.exclude(state=RemovalState.REVOKED).aggregate(
            recorded=Count("id"), acknowledged=Count("id", filter=Q(state=RemovalState.ACKNOWLEDGED))
        )
        return {"datasets": datasets, "totals": totals}

    figures = cache.get_or_set("registry:public-figures", compute, FIGURES_CACHE_SECONDS)
    return figures if figures is not None else compute()
