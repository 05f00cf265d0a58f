"""The in-process look-up index holds each active domain rule with its choice: a licensing rule,
a search-only rule and a change of choice are answered from memory as the database answers them,
as soon as they commit."""

from __future__ import annotations

from typing import Any

import pytest

from registry import services
from registry.hosts import Scope
from registry.lookup_index import current_index
from registry.preferences import consent_clean
from tests.registry.lookups import Looker

pytestmark = pytest.mark.django_db(transaction=True)

CC0 = consent_clean(choice="licence", licence="cc0")
LICENSED = ["https://cc.example/a.jpg", "https://www.cc.example/b.jpg"]
SEARCHABLE = ["https://search.example/c.jpg"]
URLS = [*LICENSED, *SEARCHABLE, "https://nothing.example/d.jpg"]


def _answers(looker: Looker) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    return looker.v1(URLS), looker.v2(URLS)


def test_it_answers_rules_with_their_choice_from_memory_as_the_database_does(looker, settings):
    looker.warm()
    services.domain_optouts_record(
        source_ref="RR-2026-000011",
        reason="copyright",
        scopes=[Scope("cc.example", include_subdomains=True)],
        consent=CC0,
    )
    services.domain_optouts_record(
        source_ref="RR-2026-000012",
        reason="copyright",
        scopes=[Scope("search.example")],
        consent=consent_clean(choice="search_only"),
    )
    served = current_index().served
    from_memory = _answers(looker)
    assert current_index().served == served + 2
    settings.LOOKUP_INDEX = False
    assert _answers(looker) == from_memory
    settings.LOOKUP_INDEX = True
    v1, v2 = from_memory
    assert [(a["optIn"], a["optOut"]) for a in v2] == [
        (True, False),
        (True, False),
        (False, True),
        (False, False),
    ]
    assert v1["preferences"][SEARCHABLE[0]] == {"train_ai": "disallowed", "search": "allowed"}
    assert v1["preferences"][LICENSED[0]] == {"train_ai": "allowed", "search": "unknown"}
    assert (
        v1["domain_rules"][LICENSED[1]][0]["licence_url"]
        == "https://creativecommons.org/publicdomain/zero/1.0/"
    )

    # A change of choice commits: the index reads the rule again before it answers.
    services.domain_optouts_choice_set(source_ref="RR-2026-000011", consent=consent_clean(choice="remove"))
    v1, v2 = _answers(looker)
    assert [(a["optIn"], a["optOut"]) for a in v2][:2] == [(False, True), (False, True)]
    assert v1["domains"][LICENSED[0]] == "*.cc.example"
