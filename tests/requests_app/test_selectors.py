"""requests_app.selectors: who may read what (an artist's own requests, works and proofs; documents for
moderators only; 404, never 403), item addresses linked only over http(s), and the public timeline."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Group, Permission, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404

from requests_app import selectors, services
from requests_app.models import ProofMethod
from requests_app.roles import MODERATOR_GROUP
from requests_app.workflow import Status
from tests.helpers import photo_bytes


def test_an_artists_requests_are_theirs_only_and_newest_first(artist, other_artist):
    first = services.request_create(artist=artist, basis="copyright")
    second = services.request_create(artist=artist, basis="privacy")
    theirs = services.request_create(artist=other_artist, basis="copyright")
    assert list(selectors.requests_of(artist.user)) == [second, first]
    assert selectors.request_for_artist(artist.user, first.reference) == first
    with pytest.raises(Http404):
        selectors.request_for_artist(artist.user, theirs.reference)


def test_a_work_is_for_its_artist_and_moderators(artist, other_artist, moderator, staff_without_group):
    ticket = services.request_create(artist=artist, basis="copyright")
    [work] = services.works_add(
        ticket=ticket, actor=artist.user, files=[SimpleUploadedFile("cat.png", photo_bytes("chelsea.png"))]
    ).works
    assert selectors.work_for_viewer(artist.user, work.pk) == work
    assert selectors.work_for_viewer(moderator, work.pk) == work
    for viewer in (other_artist.user, staff_without_group, AnonymousUser()):
        with pytest.raises(Http404):
            selectors.work_for_viewer(viewer, work.pk)
    with pytest.raises(Http404):
        selectors.work_for_viewer(moderator, work.pk + 1000)


def test_a_proof_is_its_artists_and_a_document_is_for_moderators_only(
    artist, other_artist, moderator, document
):
    proof = services.proof_start(artist=artist, method=ProofMethod.DNS_TXT, target="art.example")
    assert selectors.proof_for_artist(artist.user, proof.pk) == proof
    with pytest.raises(Http404):
        selectors.proof_for_artist(other_artist.user, proof.pk)
    assert selectors.document_for_moderator(moderator, document.pk) == document
    with pytest.raises(Http404):
        selectors.document_for_moderator(artist.user, document.pk)  # not even its own artist
    with pytest.raises(Http404):
        selectors.document_for_moderator(moderator, proof.pk)  # not a document
    assert selectors.is_moderator(moderator) and not selectors.is_moderator(artist.user)


@pytest.mark.parametrize(
    ("url", "href"),
    [
        ("https://img.example/a.jpg", "https://img.example/a.jpg"),
        ("HTTP://img.example/a.jpg", "HTTP://img.example/a.jpg"),
        ("javascript:alert(1)", ""),
        ("data:image/png;base64,AAAA", ""),
        ("//img.example/a.jpg", ""),
    ],
)
def test_only_http_addresses_are_linked(url, href):
    assert selectors.safe_href(url) == href


def test_the_public_timeline_leaves_internal_notes_out_and_says_who_wrote_each_row(
    artist, moderator, submitted
):
    services.request_note_add(ticket=submitted, moderator=moderator, message="Sock puppet?", public=False)
    services.request_note_add(ticket=submitted, moderator=moderator, message="Which site?", public=True)
    services.request_artist_reply(ticket=submitted, artist_user=artist.user, message="Mine.")

    entries = selectors.public_timeline(submitted)

    assert "Sock puppet?" not in [e.message for e in entries]
    by_title = {e.title: e for e in entries}
    assert by_title[f"{Status.DRAFT.label} → {Status.SUBMITTED.label}"].by == "you"
    assert by_title["Message from Removal Desk"].message == "Which site?"
    assert by_title["Message from Removal Desk"].by == ""
    assert by_title["Your message to the moderators"].by == "you"


def _user(username: str, *, staff: bool = True, active: bool = True, group: bool = False) -> User:
    user = User.objects.create_user(
        username, f"{username}@example.com", "pw", is_staff=staff, is_active=active
    )
    if group:
        user.groups.add(Group.objects.get(name=MODERATOR_GROUP))
    return user


def test_moderators_are_active_staff_in_the_group_and_superusers(db):
    in_group = _user("in-group", group=True)
    root = User.objects.create_superuser("root", "root@example.com", "pw")
    _user("staff-only")
    _user("inactive", active=False, group=True)
    _user("not-staff", staff=False, group=True)
    # The permission granted one by one, outside the group, does not make a moderator.
    direct = _user("direct-permission")
    direct.user_permissions.add(Permission.objects.get(codename="moderate_removalrequest"))
    inactive_root = User.objects.create_superuser("old-root", "old-root@example.com", "pw")
    inactive_root.is_active = False
    inactive_root.save()

    assert list(selectors.moderators()) == [in_group, root]
    for user in User.objects.all():
        assert selectors.is_moderator(user) == (user in (in_group, root)), user.username
    assert selectors.is_moderator(AnonymousUser()) is False


def test_a_moderator_in_two_groups_is_listed_once(db):
    in_group = _user("in-group", group=True)
    in_group.groups.add(Group.objects.create(name="Reviewers"))
    in_group.is_superuser = True
    in_group.save()
    assert list(selectors.moderators()) == [in_group]
