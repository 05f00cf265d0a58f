"""A domain request's choice: set when it is made (checked as a work's choice is, hostile values
refused with their field and nothing written), recorded on its registry rules at approval, and
restated there when the artist changes it on the request, with the timeline's receipt."""

from __future__ import annotations

import pytest

from registry import services as registry_services
from registry.models import DomainOptOut, GrantState, LicenceGrant, Removal, RemovalState, WebhookDelivery
from requests_app import services
from requests_app.models import EventKind, RemovalRequest
from requests_app.workflow import Status
from tests.helpers import verify_domain

CC_BY = {"choice": "licence", "licence": "cc-by", "attribution": "Photo: A. Artist"}


@pytest.fixture
def domain_items(maintainer):
    dataset = registry_services.dataset_create(maintainer=maintainer.maintainer, slug="d", name="D")
    registry_services.items_upsert(
        dataset=dataset,
        rows=[
            {"external_id": "1", "url": "https://artist.example/1.jpg"},
            {"external_id": "2", "url": "https://img.artist.example/2.jpg"},
            {"external_id": "3", "url": "https://elsewhere.example/3.jpg"},
        ],
    )
    registry_services.webhook_endpoint_create(
        maintainer=maintainer.maintainer,
        url="https://hooks.example/in",
        event_types=["removal.approved", "removal.revoked", "licence.granted", "licence.revoked"],
    )
    return dataset


def _approved(artist, moderator, **choice) -> RemovalRequest:
    verify_domain(artist, "artist.example")
    ticket = services.domain_request_create(
        artist=artist, basis="copyright", lines=["*.artist.example"], **choice
    )
    services.request_submit(ticket=ticket, actor=artist.user, signed_name=artist.display_name)
    services.request_approve(ticket=ticket, moderator=moderator)
    ticket.refresh_from_db()
    return ticket


def _granted(ticket) -> set[str]:
    rows = LicenceGrant.objects.filter(source_ref=ticket.reference, state=GrantState.ACTIVE)
    return set(rows.values_list("external_id", flat=True))


def _removed(ticket) -> set[tuple[str, str]]:
    rows = Removal.objects.filter(source_ref=ticket.reference).exclude(state=RemovalState.REVOKED)
    return set(rows.values_list("external_id", "search"))


def test_a_request_made_without_a_choice_takes_the_portfolio_default(artist):
    services.portfolio_choice_set(actor=artist.user, artist=artist, choice="search_only")
    artist.refresh_from_db()
    verify_domain(artist, "artist.example")
    ticket = services.domain_request_create(artist=artist, basis="copyright", lines=["artist.example"])
    assert ticket.choice == "search_only"


def test_a_licensed_domain_request_is_approved_into_a_licensing_rule_and_grants(
    artist, moderator, domain_items
):
    ticket = _approved(artist, moderator, **CC_BY)
    rule = DomainOptOut.objects.get(source_ref=ticket.reference)
    assert (rule.choice, rule.licence, rule.attribution) == ("licence", "cc-by", "Photo: A. Artist")
    assert _granted(ticket) == {"1", "2"} and _removed(ticket) == set()
    # Nothing to wait for: no removal was sent, so the request completes at approval.
    assert ticket.status == Status.COMPLETED
    row = ticket.events.filter(kind=EventKind.REMOVALS, params__text="domain_removals").get()
    assert row.params["choice"] == "licence"
    assert "is allowed for AI training under your licence: 2 registered items licensed" in row.message


def test_a_search_only_domain_request_sends_removals_that_allow_search(artist, moderator, domain_items):
    ticket = _approved(artist, moderator, choice="search_only")
    assert _removed(ticket) == {("1", "allowed"), ("2", "allowed")}
    assert DomainOptOut.objects.get().choice == "search_only"


def test_changing_the_request_choice_restates_its_rules_in_order(artist, moderator, domain_items):
    ticket = _approved(artist, moderator)
    assert _removed(ticket) == {("1", "unknown"), ("2", "unknown")}
    result = services.request_choice_set(actor=artist.user, ticket=ticket, **CC_BY)
    assert (result.revoked, result.removed, result.granted) == (2, 0, 2)
    assert _removed(ticket) == set() and _granted(ticket) == {"1", "2"}
    assert DomainOptOut.objects.get().choice == "licence"
    types = list(WebhookDelivery.objects.order_by("pk").values_list("event__event_type", flat=True))
    assert types == ["removal.approved", "removal.revoked", "licence.granted"]
    receipt = ticket.events.filter(params__text="choice_changed").get()
    assert receipt.params["revoked"] == 2 and receipt.params["granted"] == 2
    # And back: the grants are withdrawn, new removals recorded.
    services.request_choice_set(actor=artist.user, ticket=ticket, choice="remove")
    assert _granted(ticket) == set() and _removed(ticket) == {("1", "unknown"), ("2", "unknown")}
    assert DomainOptOut.objects.get().choice == "remove"


def test_before_approval_a_change_is_only_stored(artist, domain_items):
    verify_domain(artist, "artist.example")
    ticket = services.domain_request_create(artist=artist, basis="copyright", lines=["artist.example"])
    services.request_choice_set(actor=artist.user, ticket=ticket, **CC_BY)
    assert not DomainOptOut.objects.exists() and not LicenceGrant.objects.exists()


@pytest.mark.parametrize(
    ("choice", "field", "words"),
    [
        ({"choice": "train_everything"}, "choice", "Choose one of"),
        (
            {"choice": "licence", "licence": "custom", "licence_url": "javascript:alert(1)"},
            "licence_url",
            "http",
        ),
        (
            {"choice": "licence", "licence": "cc-by", "attribution": "<b>A. Artist</b>"},
            "attribution",
            "plain text",
        ),
        ({"choice": "licence", "licence": "cc-by", "attribution": "A.\x00Artist"}, "attribution", "control"),
        ({"choice": "licence", "licence": "gpl"}, "licence", "Choose a licence"),
    ],
)
def test_a_hostile_choice_is_refused_with_its_field_and_nothing_is_written(artist, choice, field, words):
    verify_domain(artist, "artist.example")
    with pytest.raises(services.ActionRefused) as refused:
        services.domain_request_create(artist=artist, basis="copyright", lines=["artist.example"], **choice)
    assert refused.value.field == field and words in str(refused.value)
    assert not RemovalRequest.objects.exists()


def test_a_hostile_change_after_approval_changes_nothing(artist, moderator, domain_items):
    ticket = _approved(artist, moderator)
    with pytest.raises(services.ActionRefused) as refused:
        services.request_choice_set(
            actor=artist.user, ticket=ticket, choice="licence", licence="custom", licence_url="javascript:x"
        )
    assert refused.value.field == "licence_url"
    assert DomainOptOut.objects.get().choice == "remove"
    assert _removed(ticket) == {("1", "unknown"), ("2", "unknown")}
