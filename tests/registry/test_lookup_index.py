"""The look-up's in-process index: the same answers as the database, every write and revocation
answered as soon as it commits (each writer, and two transactions committing out of id order),
a cold process answering from the database while it builds, hostile batches.

Through the HTTP stack: a live server on loopback (its threads share this process's index),
writes made on the test's own connection (committed) or on connections of their own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import psycopg
import pytest
from django.db import connection, transaction
from hypothesis import given
from hypothesis import strategies as st

from registry import lookup_index, selectors, services
from registry.hosts import Scope
from registry.lookup_index import current_index, url_keys
from registry.models import DomainOptOut, Removal, url_key
from registry.preferences import consent_clean
from registry.services.grants import GrantSelection
from registry.services.removals import ItemQuery, RemovalQuery
from tests.registry.lookups import removals_written

pytestmark = pytest.mark.django_db(transaction=True)

CAT = "https://img.example/cat.jpg"
DOG = "https://img.example/dog.jpg"
OWL = "https://img.example/owl.jpg"
NEW = "https://img.example/new.jpg"
CC_BY = consent_clean(choice="licence", licence="cc-by", attribution="Ada")


@pytest.fixture
def world(maintainer: Any) -> dict[str, Any]:
    """A data set with CAT (removed by an artist), DOG (removed by a partner, search allowed),
    OWL (removed, then revoked) and NEW (registered, removed by nothing)."""
    dataset, items = removals_written(
        maintainer, [CAT, DOG, OWL, NEW], by_artist=[CAT, OWL], by_partner=[DOG], revoked=[OWL]
    )
    return {"dataset": dataset, "items": items}


def test_it_keys_urls_as_the_models_and_the_database_do(db: Any) -> None:
    urls = [CAT, "https://exämple.example/ünï.jpg", "x" * 5000]
    keys, second = url_keys(urls)
    assert keys.tolist() == [url_key(u) for u in urls]
    with connection.cursor() as cursor:
        key2_sql = lookup_index._KEY2_SQL.format(url="u")
        sql = f"SELECT {key2_sql} FROM unnest(%s::text[]) WITH ORDINALITY AS t(u, n) ORDER BY n"  # noqa: S608
        cursor.execute(sql, [urls])
        assert [row[0] for row in cursor.fetchall()] == second.tolist()


def test_it_answers_from_memory_what_the_database_answers(looker, world, settings):
    services.licence_grants_record(
        source_ref="RR-2026-000002",
        consent=CC_BY,
        entries=[services.RemovalEntry(dataset=world["dataset"], item=world["items"][u]) for u in (NEW, DOG)],
    )
    services.domain_optouts_record(
        source_ref="RR-2026-000003",
        reason="copyright",
        scopes=[Scope("artist.example", include_subdomains=True)],
    )
    urls = [
        CAT,
        DOG,
        OWL,
        NEW,
        "https://cdn.artist.example/a.jpg",
        "https://notartist.example/a.jpg",
        "https://x.example/",
    ]
    settings.LOOKUP_INDEX = False
    from_database = (looker.v1(urls), looker.v2(urls))
    assert current_index().state == "cold"  # switched off: never built
    settings.LOOKUP_INDEX = True
    looker.warm()
    served = current_index().served
    assert (looker.v1(urls), looker.v2(urls)) == from_database
    assert current_index().served == served + 2
    body = from_database[0]
    assert body["urls"] == {
        CAT: True,
        DOG: True,
        OWL: False,
        NEW: False,
        urls[4]: True,
        urls[5]: False,
        urls[6]: False,
    }
    assert body["sources"][DOG] == [{"source": "partner", "partner": "Gallery"}]
    assert body["preferences"][DOG] == {"train_ai": "disallowed", "search": "allowed"}
    assert body["preferences"][NEW]["train_ai"] == "allowed"
    assert [a["optIn"] for a in from_database[1]] == [False, False, False, True, False, False, False]


def test_a_cold_process_answers_from_the_database_while_it_builds(looker, world):
    assert current_index().state == "cold"
    body = looker.v1([CAT, DOG, OWL, NEW])  # the first call starts the build ...
    assert current_index().served == 0  # ... and is answered by the database
    assert body["urls"] == {CAT: True, DOG: True, OWL: False, NEW: False}
    looker.warm()
    served = current_index().served
    assert looker.removed([CAT, DOG, OWL, NEW]) == {CAT, DOG}
    assert current_index().served > served
    assert current_index().removal_count == 2 and current_index().nbytes == 2 * 28


def _record(world: dict[str, Any]) -> None:
    services.removals_record(
        source_ref="RR-2026-000009",
        reason="copyright",
        entries=[services.RemovalEntry(dataset=world["dataset"], item=world["items"][NEW])],
    )


def _record_many(world: dict[str, Any]) -> None:
    services.removals_record_many(
        source_ref="RR-2026-000009",
        reason="copyright",
        entries=iter([services.RemovalEntry(dataset=world["dataset"], item=world["items"][NEW])]),
    )


def _write(world: dict[str, Any]) -> None:  # the set-based writer partners' approval uses
    services.removals_write(
        source_ref="PF-9",
        reason="copyright",
        items=ItemQuery.of_ids([world["items"][NEW].pk]),
        source="partner",
        partner="Gallery",
    )


def _bare_url(world: dict[str, Any]) -> None:  # a URL no data set holds
    services.removals_record(
        source_ref="RR-2026-000009",
        reason="copyright",
        entries=[services.RemovalEntry(dataset=world["dataset"], url=NEW)],
    )


def _restore(world: dict[str, Any]) -> None:  # an UPDATE that makes a revoked removal live
    Removal.objects.filter(url=OWL).update(state="delivered", revoked_at=None)


@pytest.mark.parametrize(
    ("write", "url"),
    [(_record, NEW), (_record_many, NEW), (_write, NEW), (_bare_url, NEW), (_restore, OWL)],
)
def test_it_answers_a_removal_as_soon_as_it_commits(looker, world, write: Callable[..., None], url: str):
    looker.warm()
    assert url not in looker.removed([url, CAT])
    with transaction.atomic():
        write(world)
    served = current_index().served
    assert looker.removed([url, CAT]) == {url, CAT}
    assert current_index().served == served + 2  # from memory, not the database


def test_it_answers_a_revocation_as_soon_as_it_commits(looker, world):
    looker.warm()
    assert looker.removed([CAT, DOG]) == {CAT, DOG}
    services.removals_revoke(removals=RemovalQuery.of_sources(["RR-2026-000001"]), why="Lifted.")
    assert looker.removed([CAT, DOG]) == {DOG}
    body = looker.v1([DOG])
    services.removals_revoke(removals=RemovalQuery.of_sources(["PF-1"]), why="Lifted.")
    assert looker.removed([CAT, DOG]) == set()
    assert (
        body["preferences"][DOG]["search"] == "allowed"
        and looker.v1([DOG])["preferences"][DOG]["search"] == "unknown"
    )


def test_it_answers_domain_opt_outs_and_their_revocation_at_once(looker, world):
    looker.warm()
    under = ["https://a.artist.example/x.jpg", "https://ARTIST.example.:443/y", "https://art%69st.example/z"]
    near = ["https://notartist.example/x", "https://artist.example.evil.net/x"]
    assert looker.removed(under + near) == set()
    services.domain_optouts_record(
        source_ref="RR-2026-000005",
        reason="copyright",
        scopes=[Scope("artist.example", include_subdomains=True)],
    )
    assert looker.removed(under + near) == set(under)
    assert looker.v1(under[:1])["domains"] == {under[0]: "*.artist.example"}
    services.domain_optouts_revoke(source_ref="RR-2026-000005")
    assert looker.removed(under + near) == set()
    assert DomainOptOut.objects.count() == 1


def test_it_answers_licence_grants_and_their_revocation_at_once(looker, world):
    looker.warm()
    assert looker.v1([NEW])["licences"] == {}
    services.licence_grants_record(
        source_ref="RR-2026-000006",
        consent=CC_BY,
        entries=[services.RemovalEntry(dataset=world["dataset"], item=world["items"][NEW])],
    )
    assert [g["licence"] for g in looker.v1([NEW])["licences"][NEW]] == ["cc-by"]
    assert [a["optIn"] for a in looker.v2([NEW, CAT])] == [True, False]
    services.licence_grants_revoke(
        grants=GrantSelection(source_ref="RR-2026-000006", item_ids=[world["items"][NEW].pk]),
        why="Withdrawn.",
    )
    assert looker.v1([NEW])["licences"] == {} and looker.v2([NEW])[0]["optIn"] is False


def _connect() -> psycopg.Connection[Any]:
    params = connection.get_connection_params()
    return psycopg.connect(
        **{k: v for k, v in params.items() if k in ("dbname", "user", "host", "port", "password")}
    )


def _insert(db: psycopg.Connection[Any], dataset_id: int, url: str) -> int:
    row = db.execute(
        """INSERT INTO registry_removal
               (public_id, dataset_id, url, url_key, reason, source_ref, approved_at, state)
           VALUES (%s, %s, %s, %s, 'copyright', 'RR-2026-000010', now(), 'pending') RETURNING id""",
        [f"rm_race_{url_key(url)}", dataset_id, url, url_key(url)],
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_two_transactions_committing_out_of_id_order_are_both_answered(looker, world):
    looker.warm()
    first, second = _connect(), _connect()
    try:
        early = "https://img.example/early.jpg"
        late = "https://img.example/late.jpg"
        lower = _insert(first, world["dataset"].pk, early)  # the lower id, committed last
        higher = _insert(second, world["dataset"].pk, late)
        assert lower < higher
        second.commit()
        assert looker.removed([early, late]) == {late}
        assert looker.removed([early, late]) == {late}  # the index's read advanced past `higher`
        first.commit()
        assert looker.removed([early, late]) == {early, late}
        # And a revocation that commits after a later change was read.
        first.execute(
            "UPDATE registry_removal SET state = 'revoked', revoked_at = now() WHERE id = %s", [lower]
        )
        _insert(second, world["dataset"].pk, NEW)
        second.commit()
        assert looker.removed([early, late, NEW]) == {early, late, NEW}
        first.commit()
        assert looker.removed([early, late, NEW]) == {late, NEW}
    finally:
        first.close()
        second.close()


def test_a_transaction_that_wrote_reads_the_database(looker, world):
    looker.warm()
    with transaction.atomic():
        _record(world)  # not committed: the index must not learn it from this transaction
        assert lookup_index.lookup_index() is None
        assert selectors.removed_urls([NEW, CAT]) == {NEW, CAT}
        transaction.set_rollback(True)
    assert looker.removed([NEW, CAT]) == {CAT}


def test_changes_are_folded_into_the_sorted_arrays(looker, world, monkeypatch):
    looker.warm()
    monkeypatch.setattr(lookup_index, "MERGE_AT", 1)
    _bare_url(world)
    services.removals_revoke(removals=RemovalQuery.of_sources(["RR-2026-000001"]), why="Lifted.")
    assert looker.removed([CAT, DOG, NEW, OWL]) == {DOG, NEW}
    assert current_index().changed == {} and current_index().removal_count == 2


def test_hostile_batches_get_the_databases_answers(looker, world, settings):
    services.domain_optouts_record(
        source_ref="RR-2026-000007",
        reason="copyright",
        scopes=[Scope("artist.example", include_subdomains=True), Scope("xn--rtist-fra.example")],
    )
    urls = [
        CAT.upper(), CAT + " ", "https://user@artist.example/u", "https://art\tist.example/t",
        "https://ärtist.example/idn", "https://[::1]/v6", "http://", "no scheme at all", "https://ARTIST.EXAMPLE/",
        "https://artist.example\\@evil.example/", "https://%00artist.example/", "x" * 4096, CAT, CAT, DOG,
    ]  # fmt: skip
    settings.LOOKUP_INDEX = False
    expected = looker.v1(urls), looker.v2(urls)
    settings.LOOKUP_INDEX = True
    looker.warm()
    assert (looker.v1(urls), looker.v2(urls)) == expected
    assert expected[0]["urls"]["https://user@artist.example/u"] is True


@given(
    keys=st.lists(st.integers(-5, 5), max_size=40),
    needles=st.lists(st.integers(-7, 7), max_size=20),
)
def test_the_end_of_each_key_s_run_is_numpy_s_right_search(keys, needles):
    """_ends steps over equal keys from the left search's places (a key held 12 times too)."""
    keys = np.array(sorted(keys * 3), np.int64)
    needles = np.array(sorted(needles), np.int64)
    start = np.searchsorted(keys, needles, "left")
    right = np.searchsorted(keys, needles, "right")
    assert lookup_index._ends(keys, needles, start).tolist() == right.tolist()
