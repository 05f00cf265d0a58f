"""The artist's decisions on a request (views/decisions.py): submitting it signed, withdrawing it,
and replying to a moderator."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from requests_app import services
from requests_app.models import (
    EventKind,
    TicketEvent,
)
from requests_app.services import ActionRefused
from requests_app.workflow import Status
from tests.helpers import (
    confirm_all,
    dataset_with_copy,
    detail,
    french_client,
    hashed_draft,
    logged_in,
    make_artist,
    unreadable_draft,
)

# --- replies to the moderators ------------------------------------------------


def test_the_artist_replies_on_the_timeline(artist, moderator):
    ticket = services.request_create(artist=artist, basis="copyright")
    services.request_note_add(ticket=ticket, moderator=moderator, message="Which site is yours?", public=True)
    client = logged_in(artist)
    response = client.post(
        reverse("request_reply", args=[ticket.reference]),
        {"message": "  https://ada.example is mine.  "},
        follow=True,
    )
    event = TicketEvent.objects.get(kind=EventKind.PUBLIC_REPLY, actor=artist.user)
    assert event.message == "https://ada.example is mine."
    content = response.content.decode()
    assert "Your message to the moderators" in content
    assert "Message from Removal Desk" in content
    assert content.index("Which site is yours?") < content.index("https://ada.example is mine.")


def test_a_reply_must_say_something_and_be_the_artists_own(artist, other_artist):
    ticket = services.request_create(artist=artist, basis="copyright")
    with pytest.raises(ActionRefused, match="empty"):
        services.request_artist_reply(ticket=ticket, artist_user=artist.user, message="   ")
    with pytest.raises(ActionRefused, match="another account"):
        services.request_artist_reply(ticket=ticket, artist_user=other_artist.user, message="hi")
    assert (
        logged_in(other_artist)
        .post(reverse("request_reply", args=[ticket.reference]), {"message": "hi"})
        .status_code
        == 404
    )
    services.request_withdraw(ticket=ticket, actor=artist.user)
    with pytest.raises(ActionRefused, match="withdrawn"):
        services.request_artist_reply(ticket=ticket, artist_user=artist.user, message="hi")
    assert not TicketEvent.objects.filter(kind=EventKind.PUBLIC_REPLY).exists()


# --- submission and withdrawal ----------------------------------------------


def test_it_submits_a_signed_request(artist, two_copies):
    ticket = hashed_draft(artist, "chelsea.png")
    confirm_all(ticket, artist)
    client = logged_in(artist)
    page = client.get(detail(ticket)).content.decode()
    assert services.STATEMENT_TEXT in page
    assert '<label for="id_signed_name">' in page

    response = client.post(
        reverse("request_submit", args=[ticket.reference]),
        {"signed_name": "  Ada Lovelace "},
        follow=True,
    )

    ticket.refresh_from_db()
    assert ticket.status == Status.SUBMITTED
    assert ticket.signed_name == "Ada Lovelace"
    assert ticket.statement == services.STATEMENT_TEXT
    assert ticket.statement_language == "en"
    content = response.content.decode()
    assert f"Request {ticket.reference} is submitted." in content
    assert "Sign and submit" not in content
    assert "Add more works" not in content
    assert 'name="match-' not in content  # the copies' decisions are closed (the AI-use choice stays)


def test_it_refuses_to_submit_before_the_email_is_confirmed(db, maintainer):
    dataset_with_copy(maintainer, slug="alpha", name="Alpha Set", url="https://img.example/a.jpg")
    unverified = make_artist("new@example.com", verified=False)
    ticket = hashed_draft(unverified, "chelsea.png")
    confirm_all(ticket, unverified)
    client = logged_in(unverified)
    assert "Send the link again" in client.get(detail(ticket)).content.decode()

    response = client.post(reverse("request_submit", args=[ticket.reference]), {"signed_name": "new"})

    assert response.status_code == 200  # the page again, with the error beside its control
    content = response.content.decode()
    assert "Confirm your email address first: follow the link we sent you." in content
    assert 'value="new"' in content  # what was typed is kept
    ticket.refresh_from_db()
    assert ticket.status == Status.DRAFT


def test_it_submits_works_with_no_confirmed_copy_since_their_hashes_are_removed_too(artist, two_copies):
    ticket = hashed_draft(artist, "chelsea.png")
    logged_in(artist).post(
        reverse("request_submit", args=[ticket.reference]), {"signed_name": "Ada Lovelace"}
    )
    ticket.refresh_from_db()
    assert ticket.status == Status.SUBMITTED


def test_it_refuses_to_submit_when_no_work_could_be_read(artist):
    ticket = unreadable_draft(artist)
    response = logged_in(artist).post(
        reverse("request_submit", args=[ticket.reference]),
        {"signed_name": "Ada Lovelace"},
        follow=True,
    )
    assert "None of these works could be read; add a work we can check." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.DRAFT


def test_it_refuses_to_submit_unsigned(artist, two_copies):
    ticket = hashed_draft(artist, "chelsea.png")
    confirm_all(ticket, artist)
    response = logged_in(artist).post(
        reverse("request_submit", args=[ticket.reference]), {"signed_name": "   "}, follow=True
    )
    assert "Type your full name to sign the statement." in response.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == Status.DRAFT


def test_it_withdraws_and_then_offers_no_more_actions(artist):
    ticket = services.request_create(artist=artist, basis="copyright")
    client = logged_in(artist)
    assert "Withdraw this request" in client.get(detail(ticket)).content.decode()

    response = client.post(
        reverse("request_withdraw", args=[ticket.reference]), {"confirm": "on"}, follow=True
    )

    ticket.refresh_from_db()
    assert ticket.status == Status.WITHDRAWN
    content = response.content.decode()
    assert f"Request {ticket.reference} is withdrawn." in content
    assert "Withdraw this request" not in content
    assert "Sign and submit" not in content

    again = client.post(reverse("request_withdraw", args=[ticket.reference]), {"confirm": "on"}, follow=True)
    assert "A request that is withdrawn cannot become withdrawn." in again.content.decode()


def _submit(client, ticket, **data):
    return client.post(reverse("request_submit", args=[ticket.reference]), data)


def test_a_signature_error_is_shown_next_to_the_field_with_what_was_typed_and_focus_on_it(nora, alpha):
    ticket = hashed_draft(nora, "chelsea.png")
    confirm_all(ticket, nora)

    response = _submit(logged_in(nora), ticket, signed_name="Someone Else")

    assert response.status_code == 200  # the form again, with the error beside its field
    content = response.content.decode()
    field = re.search(r'<div class="field field--error">(.*?<input[^>]*>)', content, re.S)
    assert field, "the name field is not marked as in error"
    assert "Sign with the name of your account, Nora Newbie" in field.group(1)
    assert 'id="signed-name-error"' in field.group(1)
    assert re.search(r'<input type="text" name="signed_name"[^>]*value="Someone Else"', field.group(1))
    assert "autofocus" in field.group(1) and 'aria-invalid="true"' in field.group(1)
    assert 'class="messages"' not in content  # no flash message at the top of the page


FULL_WIDTH_NORA = "\uff2e\uff4f\uff52\uff41 \uff2e\uff45\uff57\uff42\uff49\uff45"


@pytest.mark.parametrize("typed", ["nora newbie", "  NORA   Newbie ", FULL_WIDTH_NORA])
def test_the_accounts_name_signs_whatever_its_case_spacing_or_width(nora, alpha, typed):
    ticket = hashed_draft(nora, "chelsea.png")
    confirm_all(ticket, nora)
    response = _submit(logged_in(nora), ticket, signed_name=typed)
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.SUBMITTED


def test_the_users_full_name_signs_too(nora, alpha):
    nora.user.first_name, nora.user.last_name = "Eleonora", "Newbie-Smith"
    nora.user.save()
    ticket = hashed_draft(nora, "chelsea.png")
    confirm_all(ticket, nora)
    services.request_submit(ticket=ticket, actor=nora.user, signed_name="Eleonora Newbie-Smith")
    ticket.refresh_from_db()
    assert ticket.status == Status.SUBMITTED


def test_an_account_without_a_name_must_get_one_before_signing(nora, alpha):
    nora.display_name = ""
    nora.save()
    ticket = hashed_draft(nora, "chelsea.png")
    confirm_all(ticket, nora)
    client = logged_in(nora)

    content = _submit(client, ticket, signed_name="Nora Newbie").content.decode()
    assert "Your account has no name yet" in content
    assert f'href="{reverse("account")}#name"' in content

    assert client.post(reverse("account_name"), {"display_name": "  Nora   Newbie "}).status_code == 302
    nora.refresh_from_db()
    assert nora.display_name == "Nora Newbie"
    assert _submit(client, ticket, signed_name="Nora Newbie").status_code == 302


# --- item 10: the reader's language; the statement as signed; dates --------------------


def test_a_french_artist_reads_and_signs_the_statement_in_french_and_it_is_kept_as_signed(nora, alpha):
    ticket = hashed_draft(nora, "chelsea.png")
    confirm_all(ticket, nora)
    client = french_client(nora)
    page = client.get(detail(ticket)).content.decode()
    assert "Je déclare de bonne foi" in page
    assert "I state in good faith" not in page
    assert '<input type="hidden" name="language" value="fr">' in page

    assert _submit(client, ticket, signed_name="Nora Newbie", language="fr").status_code == 302

    ticket.refresh_from_db()
    assert ticket.statement_language == "fr"
    assert ticket.statement.startswith("Je déclare de bonne foi")
    # Read later in English, the page still shows what was signed, in French, marked as such.
    english = logged_in(nora).get(detail(ticket)).content.decode()
    assert '<blockquote class="statement" lang="fr">Je déclare de bonne foi' in english


def test_withdrawing_needs_the_box_ticked_and_says_so_next_to_it(nora):
    ticket = services.request_create(artist=nora, basis="copyright")
    client = logged_in(nora)
    response = client.post(reverse("request_withdraw", args=[ticket.reference]))
    assert response.status_code == 200  # the form again, with the error beside its field
    content = response.content.decode()
    field = re.search(r'<div class="field field--error">(.*?<input[^>]*>)', content, re.S)
    assert field and "Tick the box to confirm: withdrawing cannot be undone." in field.group(1)
    assert 'name="confirm"' in field.group(1) and "autofocus" in field.group(1)
    ticket.refresh_from_db()
    assert ticket.status == Status.DRAFT

    client.post(reverse("request_withdraw", args=[ticket.reference]), {"confirm": "on"})
    ticket.refresh_from_db()
    assert ticket.status == Status.WITHDRAWN


def test_a_moderators_message_is_not_attributed_twice(nora, moderator):
    ticket = services.request_create(artist=nora, basis="copyright")
    services.request_note_add(ticket=ticket, moderator=moderator, message="Hello.", public=True)
    content = logged_in(nora).get(detail(ticket)).content.decode()
    entry = re.search(
        r'<span class="timeline-title">Message from Removal Desk</span>(.*?)</li>', content, re.S
    )
    assert entry and "Hello." in entry.group(1)
    assert "by Removal Desk" not in entry.group(1)


def test_an_empty_reply_is_refused_beside_the_field_in_view(nora):
    ticket = services.request_create(artist=nora, basis="copyright")
    response = logged_in(nora).post(reverse("request_reply", args=[ticket.reference]), {"message": "  "})
    content = response.content.decode()
    field = re.search(r'<div class="field field--error">(.*?</textarea>)', content, re.S)
    assert field and "This field is required." in field.group(1)
    assert "autofocus" in field.group(1) and 'aria-invalid="true"' in field.group(1)
    assert not TicketEvent.objects.filter(request=ticket, kind=EventKind.PUBLIC_REPLY).exists()
