"""/lookup/ and /api/v2/query/urls/ under domain rules with a choice: a licensing rule allows
training (`domain_rules`, `preferences`, `licences` of its registered items, v2 optIn) and is no
removal; a search-only rule removes and allows search; disallow wins (a removing rule, or a removal
of the URL, over a licensing rule)."""

from __future__ import annotations

from rest_framework.test import APIClient

from registry import services
from registry.hosts import Scope
from registry.preferences import consent_clean

CC_BY = consent_clean(choice="licence", licence="cc-by", attribution="Photo: A. Artist")
REGISTERED = "https://artist.example/registered.jpg"
UNREGISTERED = "https://cdn.artist.example/never-registered.jpg"
ELSEWHERE = "https://elsewhere.example/x.jpg"
URLS = [REGISTERED, UNREGISTERED, ELSEWHERE]


def _lookup(api, urls=URLS) -> dict:
    response = api.post("/api/v1/lookup/", {"urls": urls}, format="json")
    assert response.status_code == 200, response.content[:300]
    return response.json()


def _v2(maintainer, urls=URLS) -> list[tuple[bool, bool]]:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"API {maintainer.key}")
    response = client.post("/api/v2/query/urls/", data="\n".join(urls), content_type="text/plain")
    assert response.status_code == 200, response.content[:300]
    return [(entry["optIn"], entry["optOut"]) for entry in response.json()["urls"]]


def _rule(consent=None, *, ref="RR-2026-000042", scope=None):
    return services.domain_optouts_record(
        source_ref=ref,
        reason="copyright",
        scopes=[scope or Scope("artist.example", include_subdomains=True)],
        consent=consent,
    )


def test_a_licensing_rule_allows_training_for_every_url_under_it_and_removes_none(api, maintainer, dataset):
    services.items_upsert(dataset=dataset, rows=[{"external_id": "r", "url": REGISTERED}])
    _rule(CC_BY)
    body = _lookup(api)
    assert body["urls"] == dict.fromkeys(URLS, False)
    assert body["domains"] == {} and body["sources"] == {}
    rule = {
        "scope": "*.artist.example",
        "choice": "licence",
        "train_ai": "allowed",
        "search": "unknown",
        "licence": "cc-by",
        "licence_url": "https://creativecommons.org/licenses/by/4.0/",
        "attribution": "Photo: A. Artist",
        "request": "RR-2026-000042",
        "source": "artist",
        "partner": "",
    }
    assert set(body["domain_rules"]) == {REGISTERED, UNREGISTERED}
    for url in (REGISTERED, UNREGISTERED):
        (said,) = body["domain_rules"][url]
        assert said.pop("approved_at").endswith("Z") and said == rule
        assert body["preferences"][url] == {"train_ai": "allowed", "search": "unknown"}
    # The registered item's grant, as the licences feed has it.
    (grant,) = body["licences"][REGISTERED]
    assert grant["licence"] == "cc-by" and grant["request"] == "RR-2026-000042"
    assert list(body["licences"]) == [REGISTERED]
    assert body["preferences"][ELSEWHERE] == {"train_ai": "unknown", "search": "unknown"}
    assert _v2(maintainer) == [(True, False), (True, False), (False, False)]


def test_a_search_only_rule_removes_and_allows_search(api, maintainer, dataset):
    _rule(consent_clean(choice="search_only"))
    body = _lookup(api)
    assert body["urls"] == {REGISTERED: True, UNREGISTERED: True, ELSEWHERE: False}
    assert body["domains"] == {REGISTERED: "*.artist.example", UNREGISTERED: "*.artist.example"}
    assert body["preferences"][UNREGISTERED] == {"train_ai": "disallowed", "search": "allowed"}
    assert [r["choice"] for r in body["domain_rules"][UNREGISTERED]] == ["search_only"]
    assert _v2(maintainer) == [(False, True), (False, True), (False, False)]


def test_a_removing_rule_wins_over_a_licensing_rule(api, maintainer, dataset):
    _rule(CC_BY, ref="RR-2026-000001")
    _rule(ref="RR-2026-000002", scope=Scope("artist.example"))  # the bare host only
    body = _lookup(api)
    assert body["urls"] == {REGISTERED: True, UNREGISTERED: False, ELSEWHERE: False}
    assert [r["choice"] for r in body["domain_rules"][REGISTERED]] == ["remove", "licence"]
    assert body["preferences"][REGISTERED] == {"train_ai": "disallowed", "search": "unknown"}
    assert body["preferences"][UNREGISTERED]["train_ai"] == "allowed"
    assert body["domains"] == {REGISTERED: "artist.example"}
    assert _v2(maintainer) == [(False, True), (True, False), (False, False)]


def test_a_removal_of_the_url_wins_over_a_licensing_rule(api, maintainer, dataset):
    services.items_upsert(dataset=dataset, rows=[{"external_id": "r", "url": REGISTERED}])
    services.removals_record(
        source_ref="RR-2026-000009",
        reason="copyright",
        entries=[services.RemovalEntry(dataset=dataset, item=dataset.items.get())],
    )
    _rule(CC_BY)
    body = _lookup(api)
    assert body["urls"][REGISTERED] is True and body["preferences"][REGISTERED]["train_ai"] == "disallowed"
    assert body["licences"][REGISTERED]  # the rule's grant is there, and loses
    assert _v2(maintainer)[0] == (False, True)


def test_a_change_of_choice_is_answered_at_once(api, maintainer, dataset):
    _rule()
    assert _v2(maintainer)[1] == (False, True)
    services.domain_optouts_choice_set(source_ref="RR-2026-000042", consent=CC_BY)
    assert _v2(maintainer)[1] == (True, False)
    assert _lookup(api)["domain_rules"][UNREGISTERED][0]["choice"] == "licence"
    services.domain_optouts_revoke(source_ref="RR-2026-000042")
    assert _v2(maintainer)[1] == (False, False) and _lookup(api)["domain_rules"] == {}
