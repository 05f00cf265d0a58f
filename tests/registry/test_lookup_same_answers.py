"""The look-up's fast path (the in-process index, the host reading of a batch in C) answers
what the database path answers, for each kind of batch the bench sends and for odd hosts:
v2's bytes are the same, v1's answer the same JSON with `urls` and `preferences` in the same
order (the database path's other maps follow PostgreSQL's row order), and the fast path gives
the same bytes every time.

Through the HTTP stack: a live server on loopback, whose threads share this process's index.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from registry import services
from registry.hosts import Scope
from registry.lookup_index import current_index
from registry.preferences import consent_clean
from tests.registry.lookups import removals_written

pytestmark = pytest.mark.django_db(transaction=True)

REGISTERED = [f"https://img.example/set/{n}.jpg" for n in range(400)]
ARTIST_HOSTS = ["artist.example", "img.artist.example", "A.B.Artist.Example"]
ODD = [
    REGISTERED[1].upper(), REGISTERED[2] + " ", "https://user@artist.example/u", "https://art\tist.example/t",
    "https://ärtist.example/idn", "https://[::1]/v6", "http://", "no scheme at all", "https://ARTIST.EXAMPLE/",
    "https://artist.example\\@evil.example/", "https://%00artist.example/", "https://art%69st.example/z",
    "https://artist.example.evil.net/", "https://notartist.example/", "https://artist.example./dot",
    "https://artist.example:8080/port", "https://paths.example/art/x.jpg", "https://paths.example/artwork.jpg",
    "https://sub.paths.example/art/y", "https://cc.example/a.jpg", "https://www.cc.example/b.jpg",
    "https://search.example/c.jpg", "https://ex\u2028ample.org/\u2029", "x" * 4096,
    REGISTERED[3], REGISTERED[3],
]  # fmt: skip


@pytest.fixture
def world(maintainer: Any) -> None:
    """400 registered URLs: removed by an artist (every other one), by a partner that allows
    search (every tenth), revoked (every 50th), licensed (every 30th); domain rules that remove
    (with subdomains, and a path prefix), one search-only and one licensing."""
    dataset, items = removals_written(
        maintainer,
        REGISTERED,
        by_artist=REGISTERED[::2],
        by_partner=REGISTERED[::10],
        revoked=REGISTERED[::50],
    )
    entry = services.RemovalEntry
    services.licence_grants_record(
        source_ref="RR-2026-000002",
        consent=consent_clean(choice="licence", licence="cc-by", attribution="Ada"),
        entries=[entry(dataset=dataset, item=items[u]) for u in REGISTERED[1::30]],
    )
    rules = [
        ("RR-2026-000003", Scope("artist.example", include_subdomains=True), None),
        ("RR-2026-000004", Scope("paths.example", True, "/art/"), None),
        ("RR-2026-000005", Scope("search.example"), consent_clean(choice="search_only")),
        ("RR-2026-000006", Scope("cc.example", True), consent_clean(choice="licence", licence="cc0")),
    ]
    for source_ref, scope, consent in rules:
        services.domain_optouts_record(
            source_ref=source_ref, reason="copyright", scopes=[scope], consent=consent
        )


def _batches() -> dict[str, list[str]]:
    rng = random.Random(5)
    half = REGISTERED[:200] + [f"https://img.example/missing/{n}.jpg" for n in range(200)]
    under = [f"https://{rng.choice(ARTIST_HOSTS)}/unlisted/{n}.jpg" for n in range(400)]
    nothing = [f"https://cdn1.site{n}.example/missing/{n}.jpg" for n in range(400)]
    mixed = half[:100] + under[:100] + nothing[:100] + ODD * 3
    for batch in (half, mixed):
        rng.shuffle(batch)
    return {
        "half removed": half,
        "under an opt-out": under,
        "removed by nothing": nothing,
        "odd hosts": ODD,
        "mixed": mixed,
    }


def test_the_fast_path_answers_each_batch_as_the_database_path(looker, world, settings):
    batches = _batches()
    settings.LOOKUP_INDEX = False
    from_database = {name: (looker.v1_bytes(urls), looker.v2_bytes(urls)) for name, urls in batches.items()}
    assert current_index().state == "cold"
    settings.LOOKUP_INDEX = True
    looker.warm()
    for name, urls in batches.items():
        served = current_index().served
        v1 = looker.v1_bytes(urls)
        assert current_index().served == served + 1, name  # from memory
        v2 = looker.v2_bytes(urls)
        assert (v1, v2) == (looker.v1_bytes(urls), looker.v2_bytes(urls)), name  # the same bytes again
        assert v2 == from_database[name][1], name
        fast, slow = json.loads(v1), json.loads(from_database[name][0])
        assert fast == slow, name
        assert list(fast["urls"]) == list(slow["urls"]) == list(dict.fromkeys(u.strip() for u in urls)), name
        assert list(fast["preferences"]) == list(slow["preferences"]), name
    answer = json.loads(looker.v1_bytes(batches["under an opt-out"]))
    assert set(answer["domains"].values()) == {"*.artist.example"}
    assert all(answer["urls"].values()) and len(answer["domain_rules"]) == 400
    odd = json.loads(looker.v1_bytes(ODD))
    assert odd["urls"]["https://user@artist.example/u"] is True
    assert odd["urls"]["https://paths.example/artwork.jpg"] is False
    assert odd["preferences"]["https://www.cc.example/b.jpg"]["train_ai"] == "allowed"
