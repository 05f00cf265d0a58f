"""The public dispute page, its confirmation link, and the artist's page where they answer: what
each shows, the limits, hostile values (never a 500, nothing half-written), and that nothing the
disputant sees or receives names the artist or their works."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from registry import services as registry_services
from registry.models import Dispute, DisputeMessage, DisputeState, RemovalState
from requests_app.models import EventKind, TicketEvent
from tests.helpers import logged_in, mail_link

STATEMENT = "This is my own photograph: I published it on my site in 2019, before anyone else."


def form(of, **overrides):
    data = {
        "removal": of.public_id,
        "reason": "own_work",
        "statement": STATEMENT,
        "links": "https://me.example/2019/cat\nhttps://me.example/about",
        "email": "disputant@example.org",
    }
    return {**data, **overrides}


def file_and_confirm(client, removal, django_capture_on_commit_callbacks, **overrides):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("dispute_new"), form(removal, **overrides))
    assert response.status_code == 200 and "Check your email" in response.content.decode()
    path = mail_link(mail.outbox, "/disputes/confirm/")
    with django_capture_on_commit_callbacks(execute=True):
        confirmed = client.post(path)
    assert confirmed.status_code == 200
    return Dispute.objects.get(email="disputant@example.org")


def test_it_shows_the_form_without_an_account(client, db):
    page = client.get(reverse("dispute_new")).content.decode()
    assert 'name="removal"' in page and 'name="email"' in page and 'type="file"' in page


def test_filing_waits_for_the_link_then_tells_both_sides(
    client, published, artist, django_capture_on_commit_callbacks
):
    dispute = file_and_confirm(client, published, django_capture_on_commit_callbacks)
    assert dispute.state == DisputeState.OPEN and dispute.links == [
        "https://me.example/2019/cat",
        "https://me.example/about",
    ]
    # The disputant's confirmation and "open" emails, and the artist's.
    to = [m.to[0] for m in mail.outbox]
    assert to.count("disputant@example.org") == 2 and artist.user.email in to
    event = TicketEvent.objects.get(kind=EventKind.DISPUTE)
    assert dispute.public_id in event.message and published.public_id in event.message


def test_the_confirmation_link_answers_get_with_a_button_only(client, published):
    client.post(reverse("dispute_new"), form(published))
    dispute = Dispute.objects.get()
    token = registry_services.dispute_confirm_token(dispute)
    page = client.get(reverse("dispute_confirm", args=[token]))
    assert page.status_code == 200 and "Confirm the dispute" in page.content.decode()
    assert Dispute.objects.get().state == DisputeState.UNCONFIRMED
    bad = client.post(reverse("dispute_confirm", args=[token + "x"]))
    assert bad.status_code == 400 and "not valid" in bad.content.decode()


def test_what_the_disputant_sees_and_receives_never_names_the_artist(
    client, published, artist, moderator, django_capture_on_commit_callbacks
):
    dispute = file_and_confirm(client, published, django_capture_on_commit_callbacks)
    artist_client = logged_in(artist.user)
    with django_capture_on_commit_callbacks(execute=True):
        artist_client.post(
            reverse("request_dispute", args=[published.source_ref, dispute.public_id]),
            {
                "body": "My private answer: the RAW file is in my portfolio.",
                "links": "https://secret.example/raw",
            },
        )
    with django_capture_on_commit_callbacks(execute=True):
        registry_services.dispute_decide(
            dispute=dispute, moderator=moderator, outcome="uphold", reason="It is the artist's."
        )
    to_disputant = [m for m in mail.outbox if m.to == ["disputant@example.org"]]
    assert len(to_disputant) == 4  # confirm, opened, answered, decided
    work = artist.works.get()
    forbidden = [
        artist.display_name,
        artist.user.email,
        published.source_ref,
        reverse("work_image", args=[work.pk]),
        work.file.name,
        "private answer",
        "secret.example",
    ]
    for message in to_disputant:
        text = message.subject + message.body
        for value in forbidden:
            assert value not in text, (value, text)
    assert "It is the artist's." in to_disputant[-1].body


def test_the_public_page_refuses_bad_removals_clearly(client, published, dataset):
    pending = registry_services.removals_record(
        source_ref="RR-2026-000099",
        reason="copyright",
        entries=[registry_services.RemovalEntry(dataset=dataset, url="https://img.example/pending.jpg")],
    )[0]
    cases = {
        "rm_nothing": "No removal",
        "https://img.example/unknown.jpg": "No removal",
        pending.public_id: "not published yet",
        "not a url": "Name the removed item",
    }
    for ref, expected in cases.items():
        response = client.post(reverse("dispute_new"), form(published, removal=ref))
        assert response.status_code == 200 and expected in response.content.decode(), ref
    registry_services.removals_revoke(
        removals=registry_services.RemovalQuery.of_ids([published.pk]), why="Lifted."
    )
    response = client.post(reverse("dispute_new"), form(published))
    assert "revoked already" in response.content.decode()
    assert not Dispute.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("statement", "NUL \x00 in my statement, long enough to pass", "NUL"),
        ("statement", "x" * 6000, "at most"),
        ("statement", "<script>alert('x')</script> my own photograph, really", "plain text"),
        ("links", "javascript:alert(1)", "http"),
        ("links", "\n".join(f"https://a.example/{i}" for i in range(11)), "at most 10"),
        ("email", "not-an-address", "email"),
        ("reason", "because", "valid choice"),
        ("removal", "\x00", "NUL"),
    ],
)
def test_hostile_values_come_back_beside_their_field(client, published, field, value, expected):
    response = client.post(reverse("dispute_new"), form(published, **{field: value}))
    assert response.status_code == 200
    page = response.content.decode()
    assert expected.lower() in page.lower(), page[-3000:]
    assert "<script>alert" not in page
    assert not Dispute.objects.exists() and not DisputeMessage.objects.exists()


def test_bytes_that_are_not_utf8_are_read_as_replacement_characters_not_a_500(client, published):
    from urllib.parse import urlencode

    raw = urlencode(form(published, statement="PLACEHOLDER")).replace("PLACEHOLDER", "bad%ED%A0%80bytes" * 3)
    response = client.post(reverse("dispute_new"), raw, content_type="application/x-www-form-urlencoded")
    # Django decodes form bodies with errors="replace": the text is stored, never a server error.
    assert response.status_code == 200 and "\ufffd" in Dispute.objects.get().statement


def test_an_evidence_file_is_kept_privately_and_must_be_a_document(client, published, settings):
    bad = SimpleUploadedFile("id.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf")
    response = client.post(reverse("dispute_new"), {**form(published), "evidence": bad})
    assert "PDF, PNG or JPEG" in response.content.decode() and not Dispute.objects.exists()
    good = SimpleUploadedFile(
        "passport scan.pdf", b"%PDF-1.4\n%fake but signed\n", content_type="application/pdf"
    )
    client.post(reverse("dispute_new"), {**form(published), "evidence": good})
    dispute = Dispute.objects.get()
    assert dispute.evidence.name.startswith("disputes/") and dispute.evidence.name.endswith(
        f"{dispute.public_id}.pdf"
    )
    assert dispute.evidence_name == "passport scan.pdf"
    # Under the private folder no URL maps to (the storage reads PRIVATE_MEDIA_ROOT once per process).
    stored = Path(dispute.evidence.path)
    assert stored.is_relative_to(Path(settings.PRIVATE_MEDIA_ROOT).resolve())
    assert stored.read_bytes().startswith(b"%PDF-")
    stored.unlink()


def test_the_same_address_cannot_dispute_a_removal_twice(
    client, published, django_capture_on_commit_callbacks
):
    file_and_confirm(client, published, django_capture_on_commit_callbacks)
    response = client.post(reverse("dispute_new"), form(published, email="DISPUTANT@example.org"))
    assert "already" in response.content.decode()
    assert Dispute.objects.count() == 1


def test_the_page_limits_each_address_and_each_email(client, published, settings):
    settings.DISPUTE_LIMIT_PER_IP_HOUR = 2
    for _ in range(2):
        assert client.post(reverse("dispute_new"), form(published, statement="short")).status_code == 200
    limited = client.post(reverse("dispute_new"), form(published))
    assert limited.status_code == 429 and "last hour" in limited.content.decode()
    settings.DISPUTE_LIMIT_PER_IP_HOUR = 100
    settings.DISPUTE_LIMIT_PER_EMAIL_DAY = 1
    other = Client(REMOTE_ADDR="10.9.9.9")
    other.post(reverse("dispute_new"), form(published, email="one@example.org"))
    limited = other.post(reverse("dispute_new"), form(published, email="one@example.org", reason="licensed"))
    assert limited.status_code == 429 and "today" in limited.content.decode()


def test_the_artist_sees_the_dispute_on_the_request_page_and_answers(
    client, published, artist, other_artist, django_capture_on_commit_callbacks
):
    dispute = file_and_confirm(client, published, django_capture_on_commit_callbacks)
    artist_client = logged_in(artist.user)
    page = artist_client.get(reverse("request_detail", args=[published.source_ref])).content.decode()
    assert 'id="disputes"' in page and dispute.public_id in page
    url = reverse("request_dispute", args=[published.source_ref, dispute.public_id])
    shown = artist_client.get(url).content.decode()
    assert STATEMENT in shown and "disputant@example.org" not in shown
    refused = artist_client.post(url, {"body": "<b>mine</b> and nobody else's, see the file"})
    assert "plain text" in refused.content.decode()
    assert Dispute.objects.get().state == DisputeState.OPEN
    with django_capture_on_commit_callbacks(execute=True):
        answered = artist_client.post(
            url, {"body": "It is mine: the RAW file and the shoot's date.", "links": ""}
        )
    assert answered.status_code == 302 and Dispute.objects.get().state == DisputeState.ANSWERED
    # Another account sees neither the request nor its dispute.
    assert logged_in(other_artist.user).get(url).status_code == 404
    assert artist_client.get(url.replace(dispute.public_id, "dp_unknown")).status_code == 404


def test_a_decided_dispute_takes_no_answer(
    client, published, artist, moderator, django_capture_on_commit_callbacks
):
    dispute = file_and_confirm(client, published, django_capture_on_commit_callbacks)
    registry_services.dispute_decide(dispute=dispute, moderator=moderator, outcome="uphold", reason="A copy.")
    url = reverse("request_dispute", args=[published.source_ref, dispute.public_id])
    artist_client = logged_in(artist.user)
    page = artist_client.get(url).content.decode()
    assert "Send my answer" not in page and "A copy." in page
    response = artist_client.post(url, {"body": "Late answer with enough characters.", "links": ""})
    assert response.status_code == 200 and "takes no answer" in response.content.decode()
    assert published.__class__.objects.get(pk=published.pk).state != RemovalState.REVOKED


def test_a_dispute_id_that_is_not_one_is_a_404(published, artist):
    bad = f"/requests/{published.source_ref}/disputes/dp_%00/"
    assert logged_in(artist.user).get(bad).status_code == 404
    assert re.fullmatch(r"dp_[A-Za-z0-9]+", "dp_abc")


def _multipart(fields: dict[str, str], evidence: bytes, boundary: str = "EvIdEnCe0boundary") -> bytes:
    """A multipart body as a browser sends it: the text fields, the document, then the email."""
    parts: list[bytes] = []
    for name, value in fields.items():
        if name == "email":
            continue
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    parts.append(
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="evidence"; filename="big.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + evidence
        + b"\r\n"
    )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="email"\r\n\r\n{fields["email"]}\r\n'.encode()
    )
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


def _stored(settings) -> set[Path]:
    private = Path(settings.PRIVATE_MEDIA_ROOT) / "disputes"
    return set(private.rglob("*")) if private.exists() else set()


def test_an_oversized_document_is_stopped_as_it_arrives_and_nothing_is_stored(
    client, published, settings, tmp_path
):
    settings.DISPUTE_EVIDENCE_MAX_BYTES = 64 * 1024
    # Every file part through a temporary file, so a part past the limit would be written to disk.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path)
    before = _stored(settings)
    body = _multipart(form(published), b"%PDF-1.4\n" + b"x" * (64 * 1024))
    response = client.generic(
        "POST", reverse("dispute_new"), body, content_type="multipart/form-data; boundary=EvIdEnCe0boundary"
    )
    page = response.content.decode()
    assert response.status_code == 413
    assert "The file is larger than 1 MB; send a smaller one or a link to it." in page
    assert published.public_id in page  # what arrived before the document is kept on the page
    assert not Dispute.objects.exists() and _stored(settings) == before and list(tmp_path.iterdir()) == []


def test_a_document_at_the_limit_still_goes_through(client, published, settings):
    settings.DISPUTE_EVIDENCE_MAX_BYTES = 64 * 1024
    body = _multipart(form(published), b"%PDF-1.4\n" + b"x" * (64 * 1024 - 9))
    response = client.generic(
        "POST", reverse("dispute_new"), body, content_type="multipart/form-data; boundary=EvIdEnCe0boundary"
    )
    assert response.status_code == 200 and "Check your email" in response.content.decode()
    dispute = Dispute.objects.get()
    assert dispute.evidence.size == 64 * 1024
    Path(dispute.evidence.path).unlink()


def test_a_body_announced_larger_than_any_dispute_is_refused_before_it_is_read(client, published, settings):
    from requests_app.dispute_forms import TEXT_PARTS_MAX_BYTES

    settings.DISPUTE_EVIDENCE_MAX_BYTES = 64 * 1024
    before = _stored(settings)
    body = _multipart(form(published), b"%PDF-1.4\n" + b"x" * (64 * 1024 + TEXT_PARTS_MAX_BYTES))
    response = client.generic(
        "POST", reverse("dispute_new"), body, content_type="multipart/form-data; boundary=EvIdEnCe0boundary"
    )
    assert response.status_code == 413
    assert "The file is larger than 1 MB" in response.content.decode()
    assert not Dispute.objects.exists() and _stored(settings) == before
    # A length that is no number is left to Django (it reads no body): the form, not a 500.
    odd = client.generic(
        "POST",
        reverse("dispute_new"),
        b"",
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH="1e9",
    )
    assert odd.status_code in (200, 400)


@pytest.mark.django_db(transaction=True)
def test_over_real_http_an_oversized_document_gets_the_page_with_its_error(live_server, settings):
    import http.cookiejar
    import urllib.error
    import urllib.request

    settings.DISPUTE_EVIDENCE_MAX_BYTES = 64 * 1024
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    url = live_server.url + reverse("dispute_new")
    page = opener.open(url, timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    fields = {
        "csrfmiddlewaretoken": token,
        **form(type("R", (), {"public_id": "RM-000000000000"})()),
    }
    for size in (64 * 1024 + 1, 4 * 1024 * 1024):  # past the limit as it arrives; past it announced
        body = _multipart(fields, b"%PDF-1.4\n" + b"x" * size)
        request = urllib.request.Request(
            url,
            data=body,
            headers={"Content-Type": "multipart/form-data; boundary=EvIdEnCe0boundary", "Referer": url},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            opener.open(request, timeout=30)
        assert refused.value.code == 413
        assert "The file is larger than 1 MB" in refused.value.read().decode()
    assert not Dispute.objects.exists()
