"""What a new artist met in their first hour (issue 9, items 8-12): answers per match, errors
beside their fields, signatures, the timeline and statement in the reader's language, dates,
grouped uploads, withdrawal, the list's order, the log-in error, and removed copies in /search/."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from registry import services as registry_services
from registry.models import Removal, RemovalState
from requests_app import services, timeline
from requests_app.models import EventKind, Match, MatchState, RemovalRequest, TicketEvent
from requests_app.workflow import Status
from tests.conftest import make_artist, photo_bytes
from tests.requests_app.test_i18n import french_client
from tests.requests_app.test_views_request import (
    _confirm_all,
    dataset_with_copy,
    detail,
    hashed_draft,
    logged_in,
)


@pytest.fixture(autouse=True)
def _back_to_the_default_language():
    yield
    translation.deactivate()


@pytest.fixture
def nora(db):
    return make_artist("nora@example.com", name="Nora Newbie")


@pytest.fixture
def alpha(maintainer):
    return dataset_with_copy(maintainer, slug="alpha", name="Alpha Set", url="https://img.example/a.jpg")


def _submit(client, removal_request, **data):
    return client.post(reverse("request_submit", args=[removal_request.reference]), data)


# --- item 8: one answer per match; errors beside the control, in view ------------------


def test_mine_and_not_mine_on_two_copies_save_together_and_undecided_takes_a_choice_back(
    nora, alpha, maintainer
):
    dataset_with_copy(maintainer, slug="beta", name="Beta Set", url="https://b.example/cat.jpg")
    removal_request = hashed_draft(nora, "chelsea.png")
    first, second = Match.objects.order_by("pk")
    client = logged_in(nora)
    url = reverse("request_matches", args=[removal_request.reference])

    response = client.post(url, {f"match-{first.pk}": "mine", f"match-{second.pk}": "not_mine"})
    assert response.status_code == 302
    states = dict(Match.objects.values_list("pk", "state"))
    assert states == {first.pk: MatchState.CONFIRMED, second.pk: MatchState.EXCLUDED}

    client.post(url, {f"match-{first.pk}": "undecided", f"match-{second.pk}": "not_mine"})
    first.refresh_from_db()
    assert first.state == MatchState.SUGGESTED


def test_confirm_all_undecided_uses_the_answers_on_the_page(nora, alpha, maintainer):
    dataset_with_copy(maintainer, slug="beta", name="Beta Set", url="https://b.example/cat.jpg")
    removal_request = hashed_draft(nora, "chelsea.png")
    first, second = Match.objects.order_by("pk")
    logged_in(nora).post(
        reverse("request_matches", args=[removal_request.reference]),
        {f"match-{first.pk}": "not_mine", f"match-{second.pk}": "undecided", "confirm_all": "1"},
    )
    states = dict(Match.objects.values_list("pk", "state"))
    assert states == {first.pk: MatchState.EXCLUDED, second.pk: MatchState.CONFIRMED}


def test_a_refused_matches_save_shows_its_reason_beside_the_save_button_and_keeps_the_answers(nora, alpha):
    removal_request = hashed_draft(nora, "chelsea.png")
    [match] = Match.objects.all()
    client = logged_in(nora)
    page = client.get(detail(removal_request)).content.decode()  # the page the artist had open
    assert f'name="match-{match.pk}"' in page
    services.request_withdraw(request=removal_request, actor=nora.user)  # e.g. from another tab

    response = client.post(
        reverse("request_matches", args=[removal_request.reference]), {f"match-{match.pk}": "not_mine"}
    )

    assert response.status_code == 200  # the form again, with the error beside its field
    content = response.content.decode()
    error = re.search(r'<p class="message message--error" role="alert" id="matches-error">(.*?)</p>', content)
    assert error and "only while the request is a draft or needs information" in error.group(1)
    # The message sits in the matches form, not at the top of the page.
    section = content[content.index('id="matches"') : content.index('id="history"')]
    assert 'id="matches-error"' in section


def test_a_signature_error_is_shown_next_to_the_field_with_what_was_typed_and_focus_on_it(nora, alpha):
    removal_request = hashed_draft(nora, "chelsea.png")
    _confirm_all(removal_request, nora)

    response = _submit(logged_in(nora), removal_request, signed_name="Someone Else")

    assert response.status_code == 200  # the form again, with the error beside its field
    content = response.content.decode()
    field = re.search(r'<div class="field field--error">(.*?<input[^>]*>)', content, re.S)
    assert field, "the name field is not marked as in error"
    assert "Sign with the name of your account, Nora Newbie" in field.group(1)
    assert 'id="signed-name-error"' in field.group(1)
    assert re.search(r'<input type="text" name="signed_name"[^>]*value="Someone Else"', field.group(1))
    assert "autofocus" in field.group(1) and 'aria-invalid="true"' in field.group(1)
    assert 'class="messages"' not in content  # no flash message at the top of the page


# --- item 9: the signature must be the account's name ----------------------------------


def test_someone_elses_name_is_not_a_signature(nora, alpha):
    removal_request = hashed_draft(nora, "chelsea.png")
    _confirm_all(removal_request, nora)
    with pytest.raises(services.ActionRefused) as refused:
        services.request_submit(request=removal_request, actor=nora.user, signed_name="Someone Else")
    assert refused.value.field == "signed_name"
    removal_request.refresh_from_db()
    assert removal_request.status == Status.DRAFT and removal_request.signed_name == ""


FULL_WIDTH_NORA = "\uff2e\uff4f\uff52\uff41 \uff2e\uff45\uff57\uff42\uff49\uff45"


@pytest.mark.parametrize("typed", ["nora newbie", "  NORA   Newbie ", FULL_WIDTH_NORA])
def test_the_accounts_name_signs_whatever_its_case_spacing_or_width(nora, alpha, typed):
    removal_request = hashed_draft(nora, "chelsea.png")
    _confirm_all(removal_request, nora)
    response = _submit(logged_in(nora), removal_request, signed_name=typed)
    assert response.status_code == 302
    removal_request.refresh_from_db()
    assert removal_request.status == Status.SUBMITTED


def test_the_users_full_name_signs_too(nora, alpha):
    nora.user.first_name, nora.user.last_name = "Eleonora", "Newbie-Smith"
    nora.user.save()
    removal_request = hashed_draft(nora, "chelsea.png")
    _confirm_all(removal_request, nora)
    services.request_submit(request=removal_request, actor=nora.user, signed_name="Eleonora Newbie-Smith")
    removal_request.refresh_from_db()
    assert removal_request.status == Status.SUBMITTED


def test_an_account_without_a_name_must_get_one_before_signing(nora, alpha):
    nora.display_name = ""
    nora.save()
    removal_request = hashed_draft(nora, "chelsea.png")
    _confirm_all(removal_request, nora)
    client = logged_in(nora)

    content = _submit(client, removal_request, signed_name="Nora Newbie").content.decode()
    assert "Your account has no name yet" in content
    assert f'href="{reverse("account")}#name"' in content

    assert client.post(reverse("account_name"), {"display_name": "  Nora   Newbie "}).status_code == 302
    nora.refresh_from_db()
    assert nora.display_name == "Nora Newbie"
    assert _submit(client, removal_request, signed_name="Nora Newbie").status_code == 302


def test_an_empty_name_is_refused_on_the_account_page(nora):
    response = logged_in(nora).post(reverse("account_name"), {"display_name": "   "})
    assert response.status_code == 200  # the form again, with the error beside its field
    assert "This field is required." in response.content.decode()
    nora.refresh_from_db()
    assert nora.display_name == "Nora Newbie"


# --- item 10: the reader's language; the statement as signed; dates --------------------


def test_a_french_artist_reads_and_signs_the_statement_in_french_and_it_is_kept_as_signed(nora, alpha):
    removal_request = hashed_draft(nora, "chelsea.png")
    _confirm_all(removal_request, nora)
    client = french_client(nora)
    page = client.get(detail(removal_request)).content.decode()
    assert "Je déclare de bonne foi" in page
    assert "I state in good faith" not in page
    assert '<input type="hidden" name="language" value="fr">' in page

    assert _submit(client, removal_request, signed_name="Nora Newbie", language="fr").status_code == 302

    removal_request.refresh_from_db()
    assert removal_request.statement_language == "fr"
    assert removal_request.statement.startswith("Je déclare de bonne foi")
    # Read later in English, the page still shows what was signed, in French, marked as such.
    english = logged_in(nora).get(detail(removal_request)).content.decode()
    assert '<blockquote class="statement" lang="fr">Je déclare de bonne foi' in english


def test_the_timeline_is_stored_as_data_and_read_in_each_readers_language(nora, alpha, moderator):
    removal_request = services.request_create(artist=nora, basis="copyright")
    services.works_add(
        request=removal_request,
        actor=nora.user,
        files=[SimpleUploadedFile(n, photo_bytes("chelsea.png")) for n in ("a.png", "b.png")],
    )
    works = TicketEvent.objects.get(request=removal_request, kind=EventKind.WORKS)
    assert works.params == {"text": "works_added", "count": 2, "names": ["a.png", "b.png"]}
    assert works.message == "2 works added: a.png, b.png"  # English, for the rows' plain readers

    for work in removal_request.works.all():
        services.work_hash_and_match(work_id=work.pk)
    _confirm_all(removal_request, nora)
    services.request_submit(request=removal_request, actor=nora.user, signed_name="Nora Newbie")
    services.request_approve(request=removal_request, moderator=moderator)

    french = french_client(nora).get(detail(removal_request)).content.decode()
    assert "2 œuvres ajoutées : a.png, b.png" in french
    # Both works are the same photograph, so they share Alpha Set's one item: one removal.
    assert "1 retrait envoyé aux responsables de Alpha Set (LAION-ish)." in french
    assert "work(s)" not in french and "removal(s)" not in french
    english = logged_in(nora).get(detail(removal_request)).content.decode()
    assert "2 works added: a.png, b.png" in english
    assert "1 removal sent to the maintainers of Alpha Set (LAION-ish)." in english

    # The desk renders the same rows through the same function, in the moderator's language.
    removals = TicketEvent.objects.get(request=removal_request, kind=EventKind.REMOVALS)
    with translation.override("fr"):
        assert timeline.event_text(removals) == "1 retrait envoyé aux responsables de Alpha Set (LAION-ish)."
    with translation.override("en"):
        assert timeline.event_text(removals) == "1 removal sent to the maintainers of Alpha Set (LAION-ish)."


def test_removals_are_plural_from_two_in_both_languages(db):
    params = {"text": "removals_sent", "count": 5, "datasets": ["Alpha Set", "Beta Set"]}
    with translation.override("fr"):
        assert timeline.render(params) == "5 retraits envoyés aux responsables de Alpha Set, Beta Set."
    assert timeline.render_english(params) == "5 removals sent to the maintainers of Alpha Set, Beta Set."


def test_rows_written_before_params_still_show_their_message(nora):
    removal_request = services.request_create(artist=nora, basis="copyright")
    TicketEvent.objects.create(
        request=removal_request, kind=EventKind.WORKS, actor=nora.user, message="3 work(s) added: x.png"
    )
    TicketEvent.objects.create(
        request=removal_request,
        kind=EventKind.REMOVALS,
        actor=None,
        message=timeline.REMOVAL_CONFIRMED_MESSAGE,
    )
    french = french_client(nora).get(detail(removal_request)).content.decode()
    assert "3 work(s) added: x.png" in french
    assert "Chaque responsable de jeu de données a confirmé le retrait." in french


def test_french_months_are_lower_case_in_the_locales_own_format(nora):
    removal_request = services.request_create(artist=nora, basis="copyright")
    RemovalRequest.objects.filter(pk=removal_request.pk).update(
        created_at=datetime(2026, 12, 1, 9, 5, tzinfo=UTC)
    )
    TicketEvent.objects.filter(request=removal_request).update(
        created_at=datetime(2026, 12, 1, 9, 5, tzinfo=UTC)
    )

    french = french_client(nora).get(detail(removal_request)).content.decode()
    assert "1 décembre 2026 09:05 UTC" in french
    assert "Déc" not in french
    listing = french_client(nora).get(reverse("request_list")).content.decode()
    assert "1 décembre 2026" in listing and "Déc" not in listing
    english = logged_in(nora).get(detail(removal_request)).content.decode()
    assert "Dec. 1, 2026, 9:05 a.m. UTC" in english


# --- item 11: the smaller ones -----------------------------------------------------------


def test_my_requests_are_listed_newest_first(nora):
    made = [services.request_create(artist=nora, basis="copyright") for _ in range(3)]
    content = logged_in(nora).get(reverse("request_list")).content.decode()
    shown = re.findall(r"(RR-\d{4}-\d{6})</a>", content)
    assert shown == [r.reference for r in reversed(made)]


def test_one_upload_action_sent_file_by_file_is_one_timeline_row(nora):
    removal_request = services.request_create(artist=nora, basis="copyright")
    client = logged_in(nora)
    url = reverse("work_upload_one", args=[removal_request.reference])
    for name in [f"w{i:02d}.png" for i in range(12)]:
        answer = client.post(
            url, {"work": SimpleUploadedFile(name, photo_bytes("chelsea.png")), "batch": "b1"}
        )
        assert answer.json()["ok"]
    client.post(url, {"work": SimpleUploadedFile("later.png", photo_bytes("coins.png")), "batch": "b2"})

    rows = list(TicketEvent.objects.filter(request=removal_request, kind=EventKind.WORKS).order_by("pk"))
    assert [r.params["count"] for r in rows] == [12, 1]
    names = ", ".join(f"w{i:02d}.png" for i in range(10))
    assert rows[0].message == f"12 works added: {names}…"
    content = client.get(detail(removal_request)).content.decode()
    assert content.count('<span class="timeline-title">Works added</span>') == 2


def test_the_plain_form_upload_is_one_row_too(nora):
    removal_request = services.request_create(artist=nora, basis="copyright")
    logged_in(nora).post(
        reverse("request_upload", args=[removal_request.reference]),
        {"works": [SimpleUploadedFile(n, photo_bytes("chelsea.png")) for n in ("a.png", "b.png", "c.png")]},
    )
    [row] = TicketEvent.objects.filter(request=removal_request, kind=EventKind.WORKS)
    assert row.params["count"] == 3


def test_withdrawing_needs_the_box_ticked_and_says_so_next_to_it(nora):
    removal_request = services.request_create(artist=nora, basis="copyright")
    client = logged_in(nora)
    response = client.post(reverse("request_withdraw", args=[removal_request.reference]))
    assert response.status_code == 200  # the form again, with the error beside its field
    content = response.content.decode()
    field = re.search(r'<div class="field field--error">(.*?<input[^>]*>)', content, re.S)
    assert field and "Tick the box to confirm: withdrawing cannot be undone." in field.group(1)
    assert 'name="confirm"' in field.group(1) and "autofocus" in field.group(1)
    removal_request.refresh_from_db()
    assert removal_request.status == Status.DRAFT

    client.post(reverse("request_withdraw", args=[removal_request.reference]), {"confirm": "on"})
    removal_request.refresh_from_db()
    assert removal_request.status == Status.WITHDRAWN


def test_a_moderators_message_is_not_attributed_twice(nora, moderator):
    removal_request = services.request_create(artist=nora, basis="copyright")
    services.request_note_add(request=removal_request, moderator=moderator, message="Hello.", public=True)
    content = logged_in(nora).get(detail(removal_request)).content.decode()
    entry = re.search(
        r'<span class="timeline-title">Message from Removal Desk</span>(.*?)</li>', content, re.S
    )
    assert entry and "Hello." in entry.group(1)
    assert "by Removal Desk" not in entry.group(1)


def test_the_log_in_error_speaks_of_the_email_address(client, nora):
    content = client.post(
        reverse("login"), {"username": "nora@example.com", "password": "nope"}
    ).content.decode()
    assert "This email address and password do not match an account." in content
    assert "username" not in re.sub(r'(name|id|for|autocomplete)="[^"]*"', "", content)


def test_two_organisations_data_sets_of_the_same_name_are_told_apart(nora, maintainer, other_maintainer):
    dataset_with_copy(maintainer, slug="photos-a", name="Photos v1", url="https://a.example/1.jpg")
    dataset_with_copy(other_maintainer, slug="photos-b", name="Photos v1", url="https://b.example/1.jpg")
    removal_request = hashed_draft(nora, "chelsea.png")
    content = logged_in(nora).get(detail(removal_request)).content.decode()
    for owner in (maintainer.maintainer.name, other_maintainer.maintainer.name):
        assert f'Photos v1 <span class="hint">({owner})</span>' in content
    assert maintainer.maintainer.name != other_maintainer.maintainer.name


# --- item 12: /search/ says when a copy was removed already --------------------------------


def _search(client, name="chelsea.png"):
    return client.post(
        reverse("public_search"),
        {"image": SimpleUploadedFile(name, photo_bytes(name), content_type="image/png")},
    ).content.decode()


def test_the_public_search_says_a_found_copy_is_already_removed(client, nora, alpha, moderator):
    assert "Not removed" in _search(client)

    removal_request = hashed_draft(nora, "chelsea.png")
    _confirm_all(removal_request, nora)
    services.request_submit(request=removal_request, actor=nora.user, signed_name="Nora Newbie")
    services.request_approve(request=removal_request, moderator=moderator)
    removal = Removal.objects.get()
    Removal.objects.filter(pk=removal.pk).update(approved_at=datetime(2026, 12, 1, 10, 0, tzinfo=UTC))
    assert "Removal from Alpha Set approved on Dec. 1, 2026; waiting for the maintainer" in _search(client)

    Removal.objects.filter(pk=removal.pk).update(
        state=RemovalState.ACKNOWLEDGED, acknowledged_at=datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    )
    assert "Already removed from Alpha Set on Dec. 3, 2026" in _search(client)
    french = french_client().post(
        reverse("public_search"),
        {"image": SimpleUploadedFile("c.png", photo_bytes("chelsea.png"), content_type="image/png")},
    )
    assert "Déjà retirée de Alpha Set le 3 décembre 2026" in french.content.decode()


def test_a_removal_recorded_by_hash_alone_counts_and_a_revoked_one_does_not(client, alpha):
    item = alpha.items.get()
    [removal] = registry_services.removals_record(
        source_ref="RR-EXT-1",
        reason="copyright",
        entries=[registry_services.RemovalEntry(dataset=alpha, item=None, phash=item.phash)],
        approved_at=datetime(2026, 11, 20, 8, 0, tzinfo=UTC),
    )
    assert removal.item_id is None
    assert "Removal from Alpha Set approved on Nov. 20, 2026" in _search(client)

    Removal.objects.filter(pk=removal.pk).update(state=RemovalState.REVOKED)
    assert "Not removed" in _search(client)


def test_an_empty_reply_is_refused_beside_the_field_in_view(nora):
    removal_request = services.request_create(artist=nora, basis="copyright")
    response = logged_in(nora).post(
        reverse("request_reply", args=[removal_request.reference]), {"message": "  "}
    )
    content = response.content.decode()
    field = re.search(r'<div class="field field--error">(.*?</textarea>)', content, re.S)
    assert field and "This field is required." in field.group(1)
    assert "autofocus" in field.group(1) and 'aria-invalid="true"' in field.group(1)
    assert not TicketEvent.objects.filter(request=removal_request, kind=EventKind.PUBLIC_REPLY).exists()
