"""requests_app.services.consent: a choice per work (remove, licence, search only), sent at approval
and restated at the registry when the artist changes it later."""

from __future__ import annotations

import pytest

from registry import selectors as registry_selectors
from registry import services as registry_services
from registry.models import GrantState, LicenceGrant, Removal, RemovalState, WebhookEvent
from requests_app import services
from requests_app import timeline as timeline_text
from requests_app.models import TicketEvent
from tests.helpers import dataset_with_copy, make_request

COPY = "https://img.example/cat.jpg"
CC_BY = {"choice": "licence", "licence": "cc-by", "attribution": "Photo: A. Artist"}


@pytest.fixture
def copy_set(maintainer):
    dataset = dataset_with_copy(maintainer, slug="d", name="D", url=COPY)
    registry_services.webhook_endpoint_create(
        maintainer=maintainer.maintainer,
        url="https://hooks.example/r",
        event_types=["removal.approved", "removal.revoked"],
    )
    return dataset


def _approved(artist, moderator, **default):
    ticket = make_request(artist, "chelsea.png", submit=False)
    if default:
        services.request_choice_set(actor=artist.user, ticket=ticket, **default)
    services.matches_decide(
        ticket=ticket,
        actor=artist.user,
        confirm=list(ticket.works.get().matches.values_list("pk", flat=True)),
    )
    services.request_submit(ticket=ticket, actor=artist.user, signed_name=artist.display_name)
    services.request_approve(ticket=ticket, moderator=moderator)
    ticket.refresh_from_db()
    return ticket


def _live(ticket):
    return Removal.objects.filter(source_ref=ticket.reference).exclude(state=RemovalState.REVOKED)


def test_a_removal_is_train_ai_disallowed_and_says_nothing_of_search(artist, moderator, copy_set):
    ticket = _approved(artist, moderator)
    removal = _live(ticket).get(item__isnull=False)
    assert (removal.train_ai, removal.search) == ("disallowed", "unknown")
    assert not LicenceGrant.objects.exists()


def test_a_search_only_request_sends_removals_that_allow_search(artist, moderator, copy_set):
    ticket = _approved(artist, moderator, choice="search_only")
    assert set(_live(ticket).values_list("search", flat=True)) == {"allowed"}
    [event] = WebhookEvent.objects.filter(event_type="removal.approved")
    assert {(r["train_ai"], r["search"]) for r in event.payload["data"]["removals"]} == {
        ("disallowed", "allowed")
    }


def test_a_licensed_request_sends_grants_and_never_a_removal(artist, moderator, copy_set):
    ticket = _approved(artist, moderator, **CC_BY)
    assert not Removal.objects.filter(source_ref=ticket.reference).exists()
    # Nothing a removals reader would take for "remove this": the grants go as licence.granted.
    assert set(WebhookEvent.objects.values_list("event_type", flat=True)) == {"licence.granted"}
    grant = LicenceGrant.objects.get(item__isnull=False)
    assert (grant.url, grant.licence, grant.attribution, grant.state) == (
        COPY,
        "cc-by",
        "Photo: A. Artist",
        "active",
    )
    assert grant.licence_url == "https://creativecommons.org/licenses/by/4.0/"
    assert set(registry_selectors.licensed_urls([COPY, "https://other.example/x"])) == {COPY}
    sent = TicketEvent.objects.get(request=ticket, params__text="licences_sent")
    assert sent.params["count"] == LicenceGrant.objects.filter(source_ref=ticket.reference).count()


def test_changing_remove_to_licence_revokes_the_removals_and_records_grants(artist, moderator, copy_set):
    ticket = _approved(artist, moderator)
    work = ticket.works.get()
    removed = set(_live(ticket).values_list("pk", flat=True))
    assert removed

    result = services.work_choice_set(actor=artist.user, work=work, **CC_BY)

    assert result.revoked == len(removed) and result.granted == len(removed) and result.removed == 0
    assert not _live(ticket).exists()
    assert set(Removal.objects.filter(pk__in=removed).values_list("revoked_reason", flat=True)) == {
        "The artist changed their choice for this work."
    }
    # Revoked through the registry's writer: signed removal.revoked events, after the approval's.
    [approved] = WebhookEvent.objects.filter(event_type="removal.approved")
    [revoked] = WebhookEvent.objects.filter(event_type="removal.revoked")
    assert revoked.pk > approved.pk
    assert set(revoked.removals.values_list("pk", flat=True)) == removed
    assert LicenceGrant.objects.filter(source_ref=ticket.reference, state=GrantState.ACTIVE).count() == len(
        removed
    )
    # The receipt: the timeline says what changed and what was sent.
    row = TicketEvent.objects.get(request=ticket, params__text="choice_changed")
    assert row.is_public and row.params["name"] == "chelsea.png"
    assert timeline_text.render_english(row.params) == (
        "Choice for chelsea.png changed from “Remove from AI training” to "
        "“Allow under a licence (CC BY 4.0)”. "
        f"{len(removed)} earlier statement{'s' if len(removed) > 1 else ''} revoked at the maintainers. "
        f"{len(removed)} licence grant{'s' if len(removed) > 1 else ''} sent."
    )


def test_changing_licence_back_to_remove_records_new_removals(artist, moderator, copy_set):
    ticket = _approved(artist, moderator)
    work = ticket.works.get()
    first = set(_live(ticket).values_list("public_id", flat=True))
    services.work_choice_set(actor=artist.user, work=work, **CC_BY)

    result = services.work_choice_set(actor=artist.user, work=work, choice="remove")

    again = set(_live(ticket).values_list("public_id", flat=True))
    assert result.removed == len(first) and again and not again & first  # new removals, new ids
    assert not LicenceGrant.objects.filter(state=GrantState.ACTIVE).exists()
    assert set(LicenceGrant.objects.values_list("revoked_reason", flat=True)) == {
        "The artist changed their choice for this work."
    }
    assert registry_selectors.removed_urls([COPY]) == {COPY}
    history = list(
        TicketEvent.objects.filter(request=ticket, params__text="choice_changed").values_list(
            "params__old", "params__new"
        )
    )
    assert history == [("remove", "licence"), ("licence", "remove")]


def test_the_same_choice_again_changes_nothing(artist, moderator, copy_set):
    ticket = _approved(artist, moderator)
    before = Removal.objects.count(), WebhookEvent.objects.count(), TicketEvent.objects.count()
    result = services.work_choice_set(actor=artist.user, work=ticket.works.get(), choice="remove")
    assert not result.changed
    assert (Removal.objects.count(), WebhookEvent.objects.count(), TicketEvent.objects.count()) == before


def test_a_request_default_restates_the_works_that_follow_it(artist, moderator, copy_set):
    ticket = _approved(artist, moderator)
    result = services.request_choice_set(actor=artist.user, ticket=ticket, choice="search_only")
    assert result.revoked and result.removed == result.revoked
    assert set(_live(ticket).values_list("search", flat=True)) == {"allowed"}
    row = TicketEvent.objects.get(request=ticket, params__text="choice_changed")
    assert "name" not in row.params and timeline_text.render_english(row.params).startswith(
        "Default choice of this request changed from “Remove from AI training” to "
        "“Allow for search, not for training”."
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"choice": "licence", "licence": "custom", "licence_url": "javascript:alert(1)"}, "licence_url"),
        ({"choice": "licence", "licence": "cc0", "attribution": "<b>me</b>"}, "attribution"),
        ({"choice": "everything"}, "choice"),
    ],
)
def test_a_bad_choice_is_refused_with_its_field_and_nothing_is_written(
    artist, moderator, copy_set, fields, field
):
    ticket = _approved(artist, moderator)
    work = ticket.works.get()
    before = Removal.objects.filter(state=RemovalState.REVOKED).count(), TicketEvent.objects.count()
    with pytest.raises(services.ActionRefused) as caught:
        services.work_choice_set(actor=artist.user, work=work, **fields)
    assert caught.value.field == field
    work.refresh_from_db()
    assert work.choice == "" and work.licence == ""
    assert (Removal.objects.filter(state=RemovalState.REVOKED).count(), TicketEvent.objects.count()) == before


def test_another_artist_cannot_change_the_choice(artist, other_artist, moderator, copy_set):
    ticket = _approved(artist, moderator)
    with pytest.raises(services.ActionRefused, match="another account"):
        services.work_choice_set(actor=other_artist.user, work=ticket.works.get(), choice="search_only")
    assert not Removal.objects.filter(state=RemovalState.REVOKED).exists()


def test_a_withdrawn_request_takes_no_choice(artist, copy_set):
    ticket = make_request(artist, "chelsea.png")
    services.request_withdraw(ticket=ticket, actor=artist.user)
    with pytest.raises(services.ActionRefused, match="is closed"):
        services.request_choice_set(actor=artist.user, ticket=ticket, choice="search_only")


def test_before_approval_a_choice_is_only_stored(artist, copy_set):
    ticket = make_request(artist, "chelsea.png")
    work = ticket.works.get()
    services.work_choice_set(actor=artist.user, work=work, choice="licence", licence="cc0")
    work.refresh_from_db()
    assert (work.choice, work.licence, work.licence_url) == (
        "licence",
        "cc0",
        "https://creativecommons.org/publicdomain/zero/1.0/",
    )
    assert not Removal.objects.exists() and not LicenceGrant.objects.exists()
