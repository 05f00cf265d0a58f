"""Hostile values in every artist form, every desk form and every address that names something.

Sent as a hostile client sends them, as bytes on the wire: a NUL, a lone surrogate (its raw
UTF-8 bytes and its percent escape), a number of 5,000 digits, Unicode digits ("²", "٣"), a
100,000-character string and an empty value, one field at a time. Never a 5xx; a value that
cannot be taken is a 400, a 404, or the page again with an error beside the field (an admin
message on the desk); and the database is unchanged whenever the value had to be refused.
"""

from __future__ import annotations

import io
import itertools
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms import BaseForm
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from core.text import parse_id
from requests_app import services
from requests_app.models import (
    ArtistProfile,
    IdentityProof,
    Match,
    ProofMethod,
    RemovalRequest,
    RequestConflict,
)
from tests.helpers import CHANGELIST, make_artist, make_request, photo_bytes, verify_domain

PASSWORD = "correct horse battery staple"


# --- the values --------------------------------------------------------------


@dataclass(frozen=True)
class Hostile:
    name: str
    wire: bytes  # as it travels in a urlencoded body or a query string
    raw: bytes  # as it travels in a multipart body, a file name or a path segment (percent-escaped there)
    refused_as_text: bool  # no text field may take it


# Ordered so the values every field must refuse come first: a value a field may take (and so
# change the request) comes after every check that the state stays as it was.
HOSTILE = [
    Hostile("nul", b"a%00b", b"a\x00b", True),
    Hostile("overlong", b"x" * 100_000, b"x" * 100_000, True),
    Hostile("empty", b"", b"", False),
    Hostile("raw_surrogate", b"a\xed\xa0\x80b", b"a\xed\xa0\x80b", False),
    Hostile("escaped_surrogate", b"a%ED%A0%80b", b"a%ED%A0%80b", False),
    Hostile("huge_number", b"9" * 5_000, b"9" * 5_000, False),
    Hostile("superscript_two", b"%C2%B2", "²".encode(), False),
    Hostile("arabic_three", b"%D9%A3", "٣".encode(), False),
]
HOSTILE_IDS = [h.name for h in HOSTILE]


# What a field is, for what it must refuse.
TEXT = "text"  # free text: refuses NUL and overlong values
REQUIRED = "required"  # free text that may not be empty either
ID = "id"  # an id or a fixed choice: refuses every hostile value
ID_OR_EMPTY = "id_or_empty"  # an id where empty means "none" (the assignee)
FLAG = "flag"  # a checkbox or a switch: any value means something; only no 5xx


def must_refuse(kind: str, value: Hostile) -> bool:
    if kind == FLAG:
        return False
    if kind == ID:
        return True
    if kind == ID_OR_EMPTY:
        return value.name != "empty"
    return value.refused_as_text or (kind == REQUIRED and value.name == "empty")


# --- sending them ------------------------------------------------------------


def urlencoded(fields: dict[str, bytes]) -> bytes:
    return b"&".join(quote_from_bytes(k.encode(), safe="").encode() + b"=" + v for k, v in fields.items())


BOUNDARY = "hostile-boundary-7MA4YWxkTrZu0gW"


def multipart(fields: dict[str, bytes], files: dict[str, tuple[bytes, bytes, str]]) -> bytes:
    """A multipart body with bytes exactly as given (`files`: name -> (file name, content, type))."""
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(value + b"\r\n")
    for name, (file_name, content, content_type) in files.items():
        out.write(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="'.encode()
            + file_name
            + f'"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
        )
        out.write(content + b"\r\n")
    out.write(f"--{BOUNDARY}--\r\n".encode())
    return out.getvalue()


def client_for(user: User | None) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def snapshot() -> dict[str, Any]:
    """Every row count of the project's tables, and the columns a refused form could have changed."""
    counts = {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in ("requests_app", "registry", "auth")
    }
    return {
        "counts": counts,
        "requests": list(
            RemovalRequest.objects.order_by("pk").values_list(
                "pk", "status", "assignee_id", "decision_reason", "signed_name", "description"
            )
        ),
        "profiles": list(ArtistProfile.objects.order_by("pk").values_list("pk", "display_name")),
        "users": list(User.objects.order_by("pk").values_list("pk", "email", "password", "is_active")),
        "proofs": list(IdentityProof.objects.order_by("pk").values_list("pk", "status", "decision_note")),
        "conflicts": list(RequestConflict.objects.order_by("pk").values_list("pk", "resolution", "note")),
        "matches": list(Match.objects.order_by("pk").values_list("pk", "state")),
    }


def said_no(response: Any) -> bool:
    """The answer refuses: a 400 or 404, a warning or error message, a form with errors, or JSON
    with ok: false."""
    if response.status_code in (400, 404):
        return True
    if any(m.level >= message_levels.WARNING for m in get_messages(response.wsgi_request)):
        return True
    if response.get("Content-Type", "").startswith("application/json"):
        return json.loads(response.content).get("ok") is False
    contexts = response.context if isinstance(response.context, list) else [response.context]
    for context in contexts:
        if context is None:
            continue
        flat = context.flatten()
        if any(isinstance(v, BaseForm) and v.is_bound and v.errors for v in flat.values()):
            return True
        # The request page's matches and submission errors; the bulk confirmation's error.
        if any(flat.get(key) for key in ("matches_error", "first_choice_error", "submit_error", "error")):
            return True
    return False


@dataclass
class Case:
    """One form: who sends it, where, its valid fields, and which of them to make hostile."""

    name: str
    who: str  # "anonymous", "artist" or "moderator"
    url: Callable[[World], str]
    valid: Callable[[World], dict[str, bytes]]
    hostile: dict[str, str]  # field -> kind
    files: Callable[[World], dict[str, tuple[bytes, bytes, str]]] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    prepare: Callable[[Client, World], str] | None = None  # a GET first; returns the URL to post to


@dataclass
class World:
    """What the forms act on: an artist with a draft (its work matched), a submitted request that
    conflicts with another artist's, a document proof, a pending domain proof, two moderators."""

    artist: ArtistProfile
    other: ArtistProfile
    moderator: User
    draft: RemovalRequest
    match: Match
    ticket: RemovalRequest
    conflict: RequestConflict
    document: IdentityProof
    proof: IdentityProof
    emails: itertools.count  # fresh addresses for sign-ups

    def desk(self, action: str, *args: Any) -> str:
        return reverse(f"admin:requests_app_removalrequest_{action}", args=[self.ticket.pk, *args])


@pytest.fixture
def world(dataset, moderator) -> World:
    artist = make_artist("ada@example.com", name="Ada Lovelace")
    other = make_artist("grace@example.com", name="Grace Hopper")
    draft = make_request(artist, "coffee.png", submit=False)
    ticket = make_request(artist, "chelsea.png")
    make_request(other, "chelsea.png")  # claims the same image: a conflict with `ticket`
    conflict = RequestConflict.objects.get()
    document = services.proof_document_upload(
        artist=artist,
        upload=SimpleUploadedFile("passport.png", photo_bytes("horse.png"), content_type="image/png"),
        description="passport",
    )
    proof = services.proof_start(artist=artist, method=ProofMethod.DNS_TXT, target="ada.example")
    return World(
        artist=artist,
        other=other,
        moderator=moderator,
        draft=draft,
        match=Match.objects.filter(work__request=draft).first() or pytest.fail("the draft has no match"),
        ticket=ticket,
        conflict=conflict,
        document=document,
        proof=proof,
        emails=itertools.count(),
    )


def png_file(world: World) -> dict[str, tuple[bytes, bytes, str]]:
    return {"works": (b"work.png", photo_bytes("astronaut.png"), "image/png")}


def _domain_draft(client: Client, world: World) -> str:
    """The artist's draft domain request (made once): its scope lines' page."""
    ticket = RemovalRequest.objects.filter(artist=world.artist, scopes__isnull=False).first()
    if ticket is None:
        verify_domain(world.artist, "ada.example")
        ticket = services.domain_request_create(artist=world.artist, basis="copyright", lines=["ada.example"])
    return reverse("request_scope_edit", args=[ticket.reference])


def _reset_confirm(client: Client, world: World) -> str:
    user = world.artist.user
    link = reverse(
        "password_reset_confirm",
        args=[urlsafe_base64_encode(force_bytes(user.pk)), default_token_generator.make_token(user)],
    )
    response = client.get(link)
    assert response.status_code == 302, "the reset link should move its token into the session"
    return str(response["Location"])


ARTIST_FORMS = [
    Case(
        "signup",
        "anonymous",
        lambda w: reverse("signup"),
        lambda w: {
            "email": f"new{next(w.emails)}@example.com".encode(),
            "display_name": b"New Artist",
            "password1": PASSWORD.encode(),
            "password2": PASSWORD.encode(),
        },
        {"email": REQUIRED, "display_name": REQUIRED, "password1": REQUIRED, "password2": REQUIRED},
    ),
    Case(
        "login",
        "anonymous",
        lambda w: reverse("login"),
        lambda w: {"username": b"ada@example.com", "password": PASSWORD.encode()},
        {"username": REQUIRED, "password": REQUIRED},
    ),
    Case(
        "password_reset",
        "anonymous",
        lambda w: reverse("password_reset"),
        lambda w: {"email": b"ada@example.com"},
        {"email": REQUIRED},
    ),
    Case(
        "password_reset_confirm",
        "anonymous",
        lambda w: "",
        lambda w: {
            "new_password1": b"another long passphrase 7",
            "new_password2": b"another long passphrase 7",
        },
        {"new_password1": REQUIRED, "new_password2": REQUIRED},
        prepare=_reset_confirm,
    ),
    Case(
        "verify_email_resend",
        "artist",
        lambda w: reverse("verify_email_resend"),
        lambda w: {"next": b"/requests/"},
        {"next": FLAG},
    ),
    Case(
        "request_new",
        "artist",
        lambda w: reverse("request_new"),
        lambda w: {"basis": b"copyright", "description": b"mine", "page_urls": b"https://ada.example/"},
        {"basis": ID, "description": TEXT, "page_urls": TEXT},
        files=png_file,
    ),
    Case(
        "request_new_one_by_one",
        "artist",
        lambda w: reverse("request_new"),
        lambda w: {"basis": b"copyright", "description": b"mine", "js_upload": b"1"},
        {"basis": ID, "description": TEXT, "js_upload": FLAG},
        headers={"HTTP_ACCEPT": "application/json"},
    ),
    Case(
        "request_scope_edit",
        "artist",
        lambda w: "",
        lambda w: {"scope": b"*.ada.example"},
        {"scope": TEXT},
        prepare=_domain_draft,
    ),
    Case(
        "request_upload",
        "artist",
        lambda w: reverse("request_upload", args=[w.draft.reference]),
        lambda w: {},
        {"js_upload": FLAG},
        files=png_file,
    ),
    Case(
        "work_upload_one",
        "artist",
        lambda w: reverse("work_upload_one", args=[w.draft.reference]),
        lambda w: {"batch": b"b1"},
        {"batch": TEXT},
        files=lambda w: {"work": (b"work.png", photo_bytes("astronaut.png"), "image/png")},
    ),
    Case(
        "request_matches",
        "artist",
        lambda w: reverse("request_matches", args=[w.draft.reference]),
        lambda w: {f"match-{w.match.pk}": b"not_mine"},
        {"match": ID, "confirm_all": FLAG, "exclude_all": FLAG},
    ),
    Case(
        "request_submit",
        "artist",
        lambda w: reverse("request_submit", args=[w.draft.reference]),
        lambda w: {"signed_name": b"Ada Lovelace", "language": b"en"},
        {"signed_name": REQUIRED, "language": ID_OR_EMPTY},
    ),
    Case(
        "request_reply",
        "artist",
        lambda w: reverse("request_reply", args=[w.draft.reference]),
        lambda w: {"message": b"Here is my portfolio."},
        {"message": REQUIRED},
    ),
    Case(
        "request_withdraw",
        "artist",
        lambda w: reverse("request_withdraw", args=[w.draft.reference]),
        lambda w: {"confirm": b"on"},
        {"confirm": FLAG},
    ),
    Case(
        "identity_proof_start",
        "artist",
        lambda w: reverse("identity_proof_new"),
        lambda w: {"method": b"dns_txt", "target": b"lovelace.example"},
        {"method": ID, "target": REQUIRED, "kind": FLAG},
    ),
    Case(
        "identity_document",
        "artist",
        lambda w: reverse("identity_proof_new"),
        lambda w: {"kind": b"document", "description": b"my passport"},
        {"description": REQUIRED},
        files=lambda w: {"document": (b"passport.png", photo_bytes("horse.png"), "image/png")},
    ),
    Case(
        "identity_proof_check",
        "artist",
        lambda w: reverse("identity_proof_check", args=[w.proof.pk]),
        lambda w: {},
        {"anything": FLAG},
    ),
    Case(
        "identity_proof_delete",
        "artist",
        lambda w: reverse("identity_proof_delete", args=[w.proof.pk]),
        lambda w: {},
        {"anything": FLAG},
    ),
    Case(
        "account_name",
        "artist",
        lambda w: reverse("account_name"),
        lambda w: {"display_name": b"Ada King"},
        {"display_name": REQUIRED},
    ),
    Case(
        "account_delete",
        "artist",
        lambda w: reverse("account_delete"),
        lambda w: {"password": b"not the password"},
        {"password": REQUIRED},
    ),
    Case(
        "public_search",
        "anonymous",
        lambda w: reverse("public_search"),
        lambda w: {},
        {"image": ID},
    ),
]

DESK_FORMS = [
    Case(
        "decide_reject",
        "moderator",
        lambda w: w.desk("decide"),
        lambda w: {"decision": b"reject", "reason": b"Not your work."},
        {"decision": ID, "reason": REQUIRED},
    ),
    Case(
        "decide_approve",
        "moderator",
        lambda w: w.desk("decide"),
        lambda w: {"decision": b"approve", "reason": b"Fine."},
        {"decision": ID, "reason": TEXT},
    ),
    Case(
        "note",
        "moderator",
        lambda w: w.desk("note"),
        lambda w: {"message": b"Looks like hers.", "visibility": b"internal"},
        {"message": REQUIRED, "visibility": FLAG},
    ),
    Case(
        "reply",
        "moderator",
        lambda w: w.desk("note"),
        lambda w: {"message": b"Thanks, looking.", "visibility": b"public"},
        {"message": REQUIRED},
    ),
    Case(
        "assign",
        "moderator",
        lambda w: w.desk("assign"),
        lambda w: {"assignee": str(w.moderator.pk).encode()},
        {"assignee": ID_OR_EMPTY},
    ),
    Case(
        "claim",
        "moderator",
        lambda w: w.desk("assign"),
        lambda w: {"assignee": b"me"},
        {"assignee": ID_OR_EMPTY},
    ),
    Case(
        "ask_info",
        "moderator",
        lambda w: w.desk("ask_info"),
        lambda w: {"canned": b"", "message": b"Send the original file, please."},
        {"message": TEXT, "canned": FLAG},
    ),
    Case(
        "conflict_resolve",
        "moderator",
        lambda w: w.desk("conflict_resolve", w.conflict.pk),
        lambda w: {"resolution": b"first", "note": b"Ada published it first."},
        {"resolution": ID, "note": REQUIRED},
    ),
    Case(
        "proof_review",
        "moderator",
        lambda w: w.desk("proof_review", w.document.pk),
        lambda w: {"verdict": b"reject", "note": b"Unreadable scan."},
        {"note": REQUIRED, "verdict": FLAG},
    ),
    Case(
        "bulk_start_review",
        "moderator",
        lambda w: CHANGELIST,
        lambda w: {"action": b"start_review_selected", "_selected_action": str(w.ticket.pk).encode()},
        {"action": ID, "_selected_action": ID},
    ),
    Case(
        "bulk_reject",
        "moderator",
        lambda w: CHANGELIST,
        lambda w: {
            "action": b"reject_selected",
            "_selected_action": str(w.ticket.pk).encode(),
            "post": b"yes",
            "reason": b"Not yours.",
        },
        {"action": ID, "_selected_action": ID, "reason": REQUIRED},
    ),
    Case(
        "bulk_approve",
        "moderator",
        lambda w: CHANGELIST,
        lambda w: {
            "action": b"approve_selected",
            "_selected_action": str(w.ticket.pk).encode(),
            "post": b"yes",
            "reason": b"ok",
        },
        {"action": ID, "_selected_action": ID, "reason": TEXT},
    ),
]


def _send(case: Case, world: World, client: Client, url: str, name: str, value: Hostile) -> Any:
    fields = case.valid(world)
    if name == "match":  # the matches form names its fields after the match
        name = f"match-{world.match.pk}"
    files = case.files(world) if case.files else {}
    if name in files:  # a text value where a file should be
        files.pop(name)
    if files:
        fields[name] = value.raw
        body = multipart(fields, files)
        content_type = f"multipart/form-data; boundary={BOUNDARY}"
    else:
        fields[name] = value.wire
        body = urlencoded(fields)
        content_type = "application/x-www-form-urlencoded"
    return client.post(url, data=body, content_type=content_type, **case.headers)


def _run(case: Case, world: World) -> None:
    users = {"anonymous": None, "artist": world.artist.user, "moderator": world.moderator}
    failures = []
    for value in HOSTILE:
        for name, kind in case.hostile.items():
            client = client_for(users[case.who])
            url = case.prepare(client, world) if case.prepare else case.url(world)
            refuse = must_refuse(kind, value)
            before = snapshot() if refuse else None
            response = _send(case, world, client, url, name, value)
            where = f"{case.name}: {name}={value.name}"
            if response.status_code >= 500 or response.status_code not in (200, 302, 400, 404):
                failures.append(f"{where} answered {response.status_code}")
                continue
            if refuse:
                if snapshot() != before:
                    failures.append(f"{where} changed the database")
                if not said_no(response):
                    failures.append(f"{where} was refused without saying so ({response.status_code})")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("case", ARTIST_FORMS, ids=[c.name for c in ARTIST_FORMS])
def test_every_artist_form_refuses_hostile_values_cleanly(world, case):
    _run(case, world)


@pytest.mark.parametrize("case", DESK_FORMS, ids=[c.name for c in DESK_FORMS])
def test_every_desk_form_refuses_hostile_values_cleanly(world, case):
    _run(case, world)


# --- file names ----------------------------------------------------------------


FILE_NAMES = [
    b"a\x00b.png",
    b"a\xed\xa0\x80b.png",
    b"a%ED%A0%80b.png",
    b"9" * 5_000 + b".png",
    "²٣.png".encode(),
    b"x" * 100_000 + b".png",
    b"",
]


def zip_of(member: bytes, *, utf8_flag: bool) -> bytes:
    """A zip whose one member is named exactly `member` (bytes), flagged as UTF-8 or not."""
    placeholder = b"p" * (len(member) - 4) + b".png"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        info = zipfile.ZipInfo(placeholder.decode())
        if utf8_flag:
            info.flag_bits |= 0x800
        archive.writestr(info, photo_bytes("rocket.jpg", "PNG"))
    return out.getvalue().replace(placeholder, member)


def test_hostile_file_names_are_never_a_server_error(world):
    client = client_for(world.artist.user)
    png = photo_bytes("astronaut.png")
    for file_name in FILE_NAMES:
        _post_file_named(client, world, file_name, png)


def _post_file_named(client: Client, world: World, file_name: bytes, png: bytes) -> None:
    posts = [
        (
            reverse("request_upload", args=[world.draft.reference]),
            {},
            {"works": (file_name, png, "image/png")},
        ),
        (
            reverse("work_upload_one", args=[world.draft.reference]),
            {},
            {"work": (file_name, png, "image/png")},
        ),
        (
            reverse("request_new"),
            {"basis": b"copyright"},
            {"works": (file_name, png, "image/png")},
        ),
        (
            reverse("identity_proof_new"),
            {"kind": b"document", "description": b"passport"},
            {"document": (file_name, png, "image/png")},
        ),
        (reverse("public_search"), {}, {"image": (file_name, png, "image/png")}),
    ]
    for url, fields, files in posts:
        response = client.post(
            url, data=multipart(fields, files), content_type=f"multipart/form-data; boundary={BOUNDARY}"
        )
        assert response.status_code in (200, 302, 400), (url, file_name[:20], response.status_code)


@pytest.mark.parametrize("utf8_flag", [False, True], ids=["cp437", "utf8"])
@pytest.mark.parametrize(
    "member",
    [b"a\x00b-----.png", b"a\xed\xa0\x80b--.png", b"\xff\xfe\xfd-----.png"],
    ids=["nul", "surrogate", "bad"],
)
def test_hostile_zip_member_names_are_never_a_server_error(world, member, utf8_flag):
    client = client_for(world.artist.user)
    body = multipart({}, {"zip": (b"works.zip", zip_of(member, utf8_flag=utf8_flag), "application/zip")})
    response = client.post(
        reverse("request_upload", args=[world.draft.reference]),
        data=body,
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )
    assert response.status_code == 302, response.status_code


# --- addresses that name something ---------------------------------------------------

BAD_SEGMENTS = ["%00", "%ED%A0%80", "9" * 5_000, "99999999999999999999", "%C2%B2", "%D9%A3", "x" * 10_000]


def _artist_addresses(world: World) -> list[tuple[str, str]]:
    ref = "{}"
    return [
        ("get", f"/requests/{ref}/"),
        ("get", f"/requests/{ref}/status.json"),
        ("post", f"/requests/{ref}/works/"),
        ("post", f"/requests/{ref}/works/one/"),
        ("post", f"/requests/{ref}/matches/"),
        ("post", f"/requests/{ref}/submit/"),
        ("post", f"/requests/{ref}/withdraw/"),
        ("post", f"/requests/{ref}/reply/"),
        ("get", "/works/{}/image/"),
        ("get", "/identity/proofs/{}/"),
        ("post", "/identity/proofs/{}/check/"),
        ("post", "/identity/proofs/{}/delete/"),
        ("get", "/identity/proofs/{}/document/"),
        ("get", "/verify-email/{}/"),
    ]


def test_a_bad_reference_or_id_in_an_address_is_a_404(world):
    artist = client_for(world.artist.user)
    moderator = client_for(world.moderator)
    before = snapshot()
    for segment in BAD_SEGMENTS:
        for method, pattern in _artist_addresses(world):
            response = getattr(artist, method)(pattern.format(segment), {"message": "x", "confirm": "on"})
            expected = 400 if pattern.startswith("/verify-email/") else 404
            assert response.status_code == expected, (pattern, segment[:20], response.status_code)
        assert moderator.get(f"/identity/proofs/{segment}/document/").status_code == 404
    assert snapshot() == before


def test_a_bad_id_in_a_desk_address_never_reaches_a_row(world):
    client = client_for(world.moderator)
    before = snapshot()
    base = "/admin/requests_app/removalrequest"
    for segment in BAD_SEGMENTS:
        where = segment[:20]
        for action in ("decide", "note", "assign", "ask-info"):
            response = client.post(
                f"{base}/{segment}/{action}/", {"message": "x", "decision": "reject", "reason": "x"}
            )
            assert response.status_code in (403, 404), (action, where, response.status_code)
        for path in (f"conflicts/{segment}/resolve/", f"proofs/{segment}/review/"):
            # Not an id: the admin's own "<object id>/" address takes it and sends the moderator
            # back to the request's page.
            response = client.post(f"{base}/{world.ticket.pk}/{path}", {"resolution": "first", "note": "x"})
            assert response.status_code in (302, 404), (path, where, response.status_code)
        page = client.get(f"{base}/{segment}/change/")
        assert page.status_code == 302 and page["Location"] == reverse("admin:index"), where
    assert snapshot() == before


def test_a_unicode_digit_never_stands_for_a_request_on_the_desk(world):
    """int("٣") is 3: the desk used to open (and act on) request 3 for "٣"."""
    client = client_for(world.moderator)
    digit = "٠١٢٣٤٥٦٧٨٩"
    arabic = "".join(digit[int(c)] for c in str(world.ticket.pk))
    page = client.get(f"/admin/requests_app/removalrequest/{quote_from_bytes(arabic.encode())}/change/")
    assert page.status_code == 302 and page["Location"] == reverse("admin:index")
    before = snapshot()
    response = client.post(
        f"/admin/requests_app/removalrequest/{quote_from_bytes(arabic.encode())}/note/", {"message": "hello"}
    )
    assert response.status_code == 404
    assert snapshot() == before


# --- the queue's filters and search ------------------------------------------------------

QUEUE_PARAMETERS = [
    "status__exact",
    "basis__exact",
    "priority__exact",
    "artist__verification_level__exact",
    "assignee",
    "age",
    "sla",
    "evidence",
    "conflict",
    "q",
    "o",
    "p",
]
OTHER_LISTS = {
    "artistprofile": ["verification_level__exact", "q"],
    "identityproof": ["method__exact", "status__exact", "q"],
    "work": ["hash_state__exact", "format__exact", "q"],
    "match": ["state__exact", "item__dataset__id__exact", "q"],
    "ticketevent": ["kind__exact", "q"],
}


def _queue_urls() -> list[tuple[str, str]]:
    urls = [(CHANGELIST, name) for name in QUEUE_PARAMETERS]
    for model, names in OTHER_LISTS.items():
        urls += [(reverse(f"admin:requests_app_{model}_changelist"), name) for name in names]
    return urls


def test_the_desks_lists_take_any_filter_value_without_a_server_error(world):
    client = client_for(world.moderator)
    failures = []
    for value, (url, name) in itertools.product(HOSTILE, _queue_urls()):
        response = client.get(f"{url}?{quote_from_bytes(name.encode())}={value.wire.decode('latin-1')}")
        if response.status_code not in (200, 302):
            failures.append(f"{url}?{name}={value.name} answered {response.status_code}")
        elif value.name == "nul" and not said_no(response):
            failures.append(f"{url}?{name}={value.name} was taken without a word")
    assert not failures, "\n".join(failures)


def test_the_assignee_filter_says_a_bad_assignee_matches_nobody(world):
    world.ticket.assignee = world.moderator
    world.ticket.save(update_fields=["assignee"])
    client = client_for(world.moderator)
    for value in ["%C2%B2", "%D9%A3", "9" * 5_000, "99999999999999999999"]:
        response = client.get(f"{CHANGELIST}?assignee={value}")
        assert response.status_code == 200, value[:20]
        assert list(response.context["cl"].result_list) == []
        said = [str(m) for m in get_messages(response.wsgi_request)]
        assert any("The assignee filter takes mine, unassigned or a moderator" in m for m in said), said


def test_a_nul_in_a_desk_note_is_a_message_on_the_page_and_nothing_is_written(world):
    client = client_for(world.moderator)
    before = snapshot()
    response = client.post(
        world.desk("note"), {"message": "hi\x00there", "visibility": "public"}, follow=True
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "The message contains a NUL character" in html and "Nothing was saved." in html
    assert snapshot() == before


def test_a_lone_surrogate_is_refused_beside_the_field_on_an_artist_form(world):
    """On the wire a lone surrogate arrives replaced (Django decodes bodies with U+FFFD for what is
    not UTF-8, as the cases above show); a form given one all the same refuses it beside the field."""
    from requests_app.forms import ArtistReplyForm

    form = ArtistReplyForm({"message": "a\ud800b"})
    assert not form.is_valid()
    assert "cannot be stored" in form.errors["message"][0]


def test_an_address_longer_than_a_username_is_a_form_error_at_signup(db):
    """The address is the username too (150 characters): a valid 200-character address used to
    pass the form (which allows 320) and fail in PostgreSQL."""
    email = "a" * 180 + "@example.com"
    response = client_for(None).post(
        reverse("signup"),
        {"email": email, "display_name": "Long", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["email"]
    assert not User.objects.filter(email=email).exists()


def test_parse_id_takes_ascii_digits_that_fit_a_bigint_only():
    assert parse_id("42") == 42
    assert parse_id("9" * 18) == int("9" * 18)
    for bad in ["", "²", "٣", "9" * 19, "9" * 5_000, " 3", "3 ", "+3", "-3", "1_0", "3\x00", "0x1", None]:
        assert parse_id(bad) is None, bad
