"""A domain rule's choice: remove, search only (removals that allow search) or licence (grants, never
removals), at record time and when items are written later; changing it restates the rule's
statements in one transaction (revocation first, as a maintainer receives them); revoking a
licensing rule revokes its grants; a removing rule and a licensing rule over the same items: the
removal stands (disallow wins)."""

from __future__ import annotations

import io

import pytest
from django.db import IntegrityError, transaction

from registry import services
from registry.hosts import Scope
from registry.models import (
    DatasetItem,
    DomainOptOut,
    GrantState,
    LicenceGrant,
    Removal,
    RemovalState,
    WebhookDelivery,
)
from registry.preferences import Consent, consent_clean
from tests.helpers import import_run_now

REF = "RR-2026-000042"
CC_BY = consent_clean(choice="licence", licence="cc-by", attribution="Photo: A. Artist")
SEARCH_ONLY = consent_clean(choice="search_only")


def _items(dataset, urls: dict[str, str]) -> None:
    result = services.items_upsert(
        dataset=dataset, rows=[{"external_id": e, "url": u} for e, u in urls.items()]
    )
    assert not result.rejected, result.rejected


def _live_removals(ref: str = REF) -> set[tuple[str, str]]:
    rows = Removal.objects.filter(source_ref=ref).exclude(state=RemovalState.REVOKED)
    return set(rows.values_list("external_id", "search"))


def _live_grants(ref: str = REF) -> set[str]:
    rows = LicenceGrant.objects.filter(source_ref=ref, state=GrantState.ACTIVE)
    return set(rows.values_list("external_id", flat=True))


def _record(consent: Consent | None = None, scope: Scope | None = None, ref: str = REF):
    return services.domain_optouts_record(
        source_ref=ref,
        reason="copyright",
        scopes=[scope or Scope("artist.example", include_subdomains=True)],
        consent=consent,
    )


@pytest.fixture
def endpoint(maintainer, receiver):
    """An endpoint that takes every removal and licence event."""
    endpoint, _ = services.webhook_endpoint_create(
        maintainer=maintainer.maintainer,
        url=receiver.url,
        event_types=["removal.approved", "removal.revoked", "licence.granted", "licence.revoked"],
    )
    return endpoint


ON_DOMAIN = {"a": "https://artist.example/a.jpg", "b": "https://www.artist.example/b.jpg"}


def test_it_keeps_removing_when_no_choice_is_given(dataset):
    _items(dataset, {**ON_DOMAIN, "c": "https://elsewhere.example/c.jpg"})
    done = _record()
    assert _live_removals() == {("a", "unknown"), ("b", "unknown")}
    assert not LicenceGrant.objects.exists()
    assert done.rules[0].choice == "remove" and done.grants == 0


def test_a_search_only_rule_writes_removals_that_allow_search(dataset):
    _items(dataset, ON_DOMAIN)
    done = _record(SEARCH_ONLY)
    assert _live_removals() == {("a", "allowed"), ("b", "allowed")}
    assert done.removals == 2 and not LicenceGrant.objects.exists()


def test_a_licensing_rule_writes_a_grant_per_item_and_no_removal(dataset, endpoint):
    _items(dataset, {**ON_DOMAIN, "c": "https://elsewhere.example/c.jpg"})
    done = _record(CC_BY)
    assert not Removal.objects.exists()
    assert _live_grants() == {"a", "b"}
    grant = LicenceGrant.objects.get(external_id="a")
    assert (grant.licence, grant.attribution, grant.source_ref) == ("cc-by", "Photo: A. Artist", REF)
    assert grant.licence_url == "https://creativecommons.org/licenses/by/4.0/"
    assert done.grants == 2 and done.removals == 0 and done.per_rule == [{dataset.pk: 2}]
    rule = DomainOptOut.objects.get()
    assert (rule.choice, rule.licence, rule.is_removal) == ("licence", "cc-by", False)
    assert WebhookDelivery.objects.filter(endpoint=endpoint, event__event_type="licence.granted").count() == 1


def test_items_written_later_under_a_licensing_rule_are_granted_by_import_and_upsert(dataset):
    _record(CC_BY)
    body = b"external_id,url\nn1,https://img.artist.example/n1.jpg\nn2,https://elsewhere.example/n2.jpg\n"
    job = services.import_create(dataset=dataset, upload=io.BytesIO(body), name="later.csv", enqueue=False)
    assert import_run_now(job).status == "succeeded"
    assert _live_grants() == {"n1"}
    _items(dataset, {"u1": "https://artist.example/u1.jpg"})
    _items(dataset, {"u1": "https://artist.example/u1-moved.jpg"})  # written again: no second grant
    assert _live_grants() == {"n1", "u1"}
    assert LicenceGrant.objects.count() == 2 and not Removal.objects.exists()


def test_items_written_later_under_a_search_only_rule_are_removed_with_search_allowed(dataset):
    _record(SEARCH_ONLY)
    _items(dataset, {"u1": "https://artist.example/u1.jpg"})
    assert _live_removals() == {("u1", "allowed")}


def test_a_removing_rule_wins_over_a_licensing_rule_of_the_same_source(dataset):
    """Two lines of one request over the same items: the items the removing rule covers stay
    removed, at record time and at write time (disallow wins)."""
    _items(dataset, {"a": "https://artist.example/a.jpg", "cc": "https://artist.example/cc/x.jpg"})
    _record(scope=Scope("artist.example"))
    _record(CC_BY, scope=Scope("artist.example", path_prefix="/cc/"))
    assert _live_removals() == {("a", "unknown"), ("cc", "unknown")}
    assert _live_grants() == set()
    _items(dataset, {"later": "https://artist.example/cc/later.jpg"})
    assert ("later", "unknown") in _live_removals() and _live_grants() == set()


def test_changing_remove_to_licence_revokes_the_removals_then_records_grants(dataset, endpoint):
    _items(dataset, {**ON_DOMAIN, "c": "https://elsewhere.example/c.jpg"})
    _record()
    changed = services.domain_optouts_choice_set(source_ref=REF, consent=CC_BY)
    assert (changed.rules, changed.revoked, changed.removed, changed.granted) == (1, 2, 0, 2)
    assert _live_removals() == set() and _live_grants() == {"a", "b"}
    revoked = Removal.objects.filter(source_ref=REF, state=RemovalState.REVOKED)
    assert set(revoked.values_list("revoked_reason", flat=True)) == {services.RULE_CHOICE_CHANGED}
    assert DomainOptOut.objects.get().choice == "licence"
    # The events in the order written: the approval, its revocation, then the grant.
    types = list(
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .order_by("pk")
        .values_list("event__event_type", flat=True)
    )
    assert types == ["removal.approved", "removal.revoked", "licence.granted"]


def test_changing_licence_to_search_only_revokes_the_grants_and_records_removals(dataset, endpoint):
    _items(dataset, ON_DOMAIN)
    _record(CC_BY)
    changed = services.domain_optouts_choice_set(source_ref=REF, consent=SEARCH_ONLY)
    assert (changed.revoked, changed.removed, changed.granted) == (2, 2, 0)
    assert _live_grants() == set() and _live_removals() == {("a", "allowed"), ("b", "allowed")}
    types = list(
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .order_by("pk")
        .values_list("event__event_type", flat=True)
    )
    assert types == ["licence.granted", "licence.revoked", "removal.approved"]


def test_between_remove_and_search_only_the_removals_are_recorded_again_with_the_new_search(dataset):
    _items(dataset, ON_DOMAIN)
    _record()
    first = set(Removal.objects.values_list("public_id", flat=True))
    services.domain_optouts_choice_set(source_ref=REF, consent=SEARCH_ONLY)
    assert _live_removals() == {("a", "allowed"), ("b", "allowed")}
    assert not first & set(
        Removal.objects.exclude(state=RemovalState.REVOKED).values_list("public_id", flat=True)
    )


def test_the_same_choice_again_changes_nothing(dataset, endpoint):
    _items(dataset, ON_DOMAIN)
    _record(CC_BY)
    before = WebhookDelivery.objects.count()
    assert services.domain_optouts_choice_set(source_ref=REF, consent=CC_BY).rules == 0
    assert WebhookDelivery.objects.count() == before and _live_grants() == {"a", "b"}


def test_a_change_fails_whole_when_its_reason_is_bad(dataset):
    _items(dataset, ON_DOMAIN)
    _record()
    with pytest.raises(ValueError, match="NUL"):
        services.domain_optouts_choice_set(source_ref=REF, consent=CC_BY, why="bad\x00")
    assert _live_removals() == {("a", "unknown"), ("b", "unknown")}
    assert DomainOptOut.objects.get().choice == "remove" and not LicenceGrant.objects.exists()


def test_revoking_a_licensing_rule_revokes_its_grants_and_stops_granting(dataset, endpoint):
    _items(dataset, ON_DOMAIN)
    _record(CC_BY)
    assert services.domain_optouts_revoke(source_ref=REF) == 1
    assert _live_grants() == set()
    assert set(LicenceGrant.objects.values_list("revoked_reason", flat=True)) == {
        "The artist withdrew this domain rule."
    }
    _items(dataset, {"later": "https://artist.example/later.jpg"})
    assert _live_grants() == set() and not Removal.objects.exists()
    assert WebhookDelivery.objects.filter(event__event_type="licence.revoked").count() == 1


def test_a_choice_that_does_not_exist_is_refused(dataset):
    with pytest.raises(ValueError, match="not a choice"):
        _record(Consent(choice="train_everything"))
    with pytest.raises(ValueError, match="not a choice"):
        services.domain_optouts_choice_set(source_ref=REF, consent=Consent(choice="maybe"))
    assert not DomainOptOut.objects.exists()


def test_the_database_refuses_a_rule_whose_choice_and_licence_disagree(dataset):
    _record()
    rule = DomainOptOut.objects.get()
    for values in (
        {"choice": "licence"},
        {"choice": "remove", "licence": "cc0", "licence_url": "https://x.example/"},
        {"choice": "nope"},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            DomainOptOut.objects.filter(pk=rule.pk).update(**values)
    assert DatasetItem.objects.count() == 0


def test_a_maintainer_receives_the_revocation_before_the_grant_even_while_the_approval_retries(
    dataset, endpoint, receiver
):
    """Removed, then licensed while the approval's delivery is still failing: at the receiver the
    approval comes first, then its revocation, then the grant (delivery's order check)."""
    _items(dataset, ON_DOMAIN)
    receiver.answer = 503
    _record()
    assert services.deliveries_send_due() == {"retry": 1}
    services.domain_optouts_choice_set(source_ref=REF, consent=CC_BY)
    receiver.answer = 204
    for _ in range(4):  # every delivery due now, in whatever order the sender takes them
        for delivery in WebhookDelivery.objects.exclude(state="succeeded"):
            WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=delivery.created_at)
        services.deliveries_send_due()
    types = [r.json()["type"] for r in receiver.received]
    # The first approval is the attempt answered 503.
    assert types == ["removal.approved", "removal.approved", "removal.revoked", "licence.granted"]
