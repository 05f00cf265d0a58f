"""The artist's experience in a real browser (chromium), against the live server and a real
Celery worker: the whole journey from sign-up to the maintainers' confirmation, upload errors
next to each file, the no-JavaScript fallback with a zip, French pages, the public search,
password reset and account deletion. Every page passes axe-core and is photographed."""

from __future__ import annotations

import base64
import io
import json
import zipfile

import pytest
import requests
from django.contrib.auth.models import User
from django.core import mail
from playwright.sync_api import expect

from registry import services as registry_services
from registry.hashing import compute_hashes
from requests_app import services as request_services
from requests_app.models import PortfolioUpload, RemovalRequest, TicketEvent, Work
from requests_app.workflow import Status
from tests.helpers import (
    ARTIST_PASSWORD,
    forget_refused_uploads,
    hashes_row,
    image_bytes,
    log_in,
    mail_link,
    make_artist,
    photo,
    photo_bytes,
    wait_until,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

PASSWORD = "a long enough pass phrase 42"


def register_dataset(base: str, *names: str) -> tuple[requests.Session, str]:
    """A maintainer registers, through the API, a data set holding altered copies of sample photos."""
    _, key = registry_services.maintainer_create(name="Open Images Lab", email="ops@lab.example")
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {key}"
    created = api.post(f"{base}/api/v1/datasets", json={"slug": "photos-v1", "name": "Photos v1"})
    assert created.status_code == 201, created.text
    items = []
    for name in names:
        copy = photo(name).convert("RGB")
        copy = copy.resize((copy.width // 2, copy.height // 2))
        hashes = compute_hashes(image_bytes(copy, "JPEG", quality=70), max_pixels=10**8)
        items.append(hashes_row(name, hashes, url=f"https://cdn.lab.example/{name}.jpg"))
    upsert = api.post(f"{base}/api/v1/datasets/photos-v1/items/", json={"items": items})
    assert upsert.json()["created"] == len(names), upsert.text
    return api, key


def test_the_whole_journey_from_sign_up_to_the_maintainers_confirmation(
    celery_worker_process, live_server, visitor, tmp_path
):
    base = live_server.url
    api, _key = register_dataset(base, "chelsea.png", "coffee.png")
    artist = visitor()
    page = artist.goto("/")
    artist.check("home")

    # --- sign up, confirm the email address
    page.get_by_role("navigation").get_by_role("link", name="Sign up").click()
    artist.check("signup")
    page.get_by_label("Email address").fill("maria@artist.example")
    page.get_by_label("Your name").fill("Maria Sibylla Merian")
    page.locator("#id_password1").fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My requests")
    expect(page.locator(".messages")).to_contain_text("We sent a confirmation link")
    artist.check("request-list-empty")
    artist.goto(mail_link(mail.outbox, "/verify-email/"))
    expect(page.locator(".messages")).to_contain_text("your email address is confirmed")

    # --- a new request: three files chosen, one of which is not an image
    page.get_by_role("link", name="New request").first.click()
    artist.check("request-new")
    page.get_by_label("Anything the moderators should know").fill("My cat and my coffee.")
    page.get_by_label("Your own pages where these works are published").fill("https://maria.example/works")
    files = tmp_path / "works"
    files.mkdir()
    (files / "chelsea.png").write_bytes(photo_bytes("chelsea.png"))
    (files / "coffee.jpg").write_bytes(photo_bytes("coffee.png", "JPEG", quality=92))
    (files / "notes.png").write_bytes(b"these are not pixels")
    # The page's uploader is the portfolio's (static/js/uploader.js): the files wait for the draft.
    expect(page.get_by_label("Images of your works")).to_be_hidden()
    page.get_by_label("Images (JPEG, PNG, WebP) or zips of them").set_input_files(
        [files / "chelsea.png", files / "coffee.jpg", files / "notes.png"]
    )
    expect(page.locator(".upload")).to_have_count(3)
    expect(page.locator(".upload").first).to_contain_text("ready: sent when you create the request")
    expect(page.locator("[data-upload-summary]")).to_contain_text("3 files chosen (", timeout=5_000)
    assert "Sent:" not in page.locator("[data-upload-summary]").inner_text()
    artist.check("request-new-chosen")
    assert not RemovalRequest.objects.exists() and not PortfolioUpload.objects.exists()
    page.get_by_role("button", name="Create the request and upload").click()
    expect(page.locator("[data-upload-summary]")).to_contain_text("Sent: 3 of 3 files", timeout=30_000)
    expect(page.locator("[data-upload-summary]")).to_contain_text(
        "Added: 2. Already there: 0. Not added: 1.", timeout=30_000
    )
    bad = page.locator(".upload", has_text="notes.png")
    expect(bad.locator(".file-error")).to_contain_text("not an image we can read")
    expect(page.locator(".upload", has_text="chelsea.png")).to_contain_text("done: 1 added")
    artist.check("request-new-uploaded")
    # Each file went in through the chunk API, into the new draft.
    draft = RemovalRequest.objects.get()
    assert set(PortfolioUpload.objects.values_list("ticket", flat=True)) == {draft.pk}
    page.get_by_role("link", name="Continue to your request").click()

    ticket = RemovalRequest.objects.get(artist__user__email="maria@artist.example")
    assert ticket.works.count() == 2
    assert ticket.description.endswith("https://maria.example/works")
    # The page polls while the worker hashes and matches, then reloads itself.
    expect(page.locator(".match-group")).to_have_count(2, timeout=60_000)
    expect(page.get_by_role("link", name="https://maria.example/works")).to_be_visible()
    expect(page.locator(".match-thumb").first).to_be_visible()
    artist.check("request-detail-matches")

    page.get_by_role("button", name="Confirm all undecided as mine").click()
    expect(page.locator(".messages")).to_contain_text("Your choices are saved.")
    page.get_by_label("Type your full name to sign").fill("Maria Sibylla Merian")
    page.get_by_role("button", name="Sign and submit the request").click()
    expect(page.locator(".messages")).to_contain_text("is submitted")
    page.get_by_label("Write to the moderators").fill("The originals are on my site.")
    page.get_by_role("button", name="Send to the moderators").click()
    expect(page.locator(".timeline")).to_contain_text("The originals are on my site.")
    artist.check("request-submitted")

    # --- a moderator approves; the maintainer pulls the feed and acknowledges
    moderator = User.objects.create_user("mod@desk.example", "mod@desk.example", PASSWORD, is_staff=True)
    request_services.request_approve(ticket=ticket, moderator=moderator, reason="Clear.")
    feed = api.get(f"{base}/api/v1/datasets/photos-v1/removals/").json()
    ids = [r["id"] for r in feed["results"]]
    assert len(ids) == 2
    assert api.post(f"{base}/api/v1/datasets/photos-v1/removals/ack/", json={"ids": ids}).status_code == 200
    wait_until(lambda: RemovalRequest.objects.get(pk=ticket.pk).status == Status.COMPLETED, what="completion")

    # --- the artist sees the receipt, per data set
    page.reload()
    receipt = page.locator(".receipt")
    expect(receipt).to_contain_text("Confirmed removed")
    expect(receipt).to_contain_text("Photos v1 (Open Images Lab): 2 image(s) removed")
    artist.check("request-receipt")
    page.get_by_role("link", name="My requests").first.click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody")).to_contain_text("Completed")
    artist.check("request-list")

    # --- log out
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("navigation").get_by_role("link", name="Log in")).to_be_visible()


def _file_payload(name: str, data: bytes, mime: str) -> dict[str, str]:
    return {"name": name, "data": base64.b64encode(data).decode(), "type": mime}


DROP_FILES = """(zone, files) => {
    const transfer = new DataTransfer();
    for (const f of files) {
        const bytes = Uint8Array.from(atob(f.data), c => c.charCodeAt(0));
        transfer.items.add(new File([bytes], f.name, {type: f.type}));
    }
    zone.dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true, cancelable: true}));
}"""


def test_dropped_files_show_their_errors_next_to_their_names(celery_worker_process, live_server, visitor):
    profile = make_artist("ada@example.com", name="Ada Lovelace")
    draft = request_services.request_create(artist=profile, basis="copyright")
    artist = visitor()
    log_in(artist, "ada@example.com", ARTIST_PASSWORD)
    artist.check("request-list-draft")
    page = artist.goto(f"/requests/{draft.reference}/")
    artist.check("request-detail-draft")
    small = photo("astronaut.png").resize((128, 128))
    gif = io.BytesIO()
    small.save(gif, "GIF")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("portfolio/rocket.jpg", photo_bytes("rocket.jpg", "JPEG"))
        z.writestr("portfolio/readme.txt", b"hello")
    zone = page.locator("[data-dropzone]")
    zone.evaluate(
        DROP_FILES,
        [
            _file_payload("me.png", image_bytes(small), "image/png"),
            _file_payload("drawing.gif", gif.getvalue(), "image/gif"),
            _file_payload("empty.png", b"", "image/png"),
            _file_payload("old-works.zip", archive.getvalue(), "application/zip"),
        ],
    )
    # The request page's uploader (templates/requests_app/portfolio/_uploader.html) starts at once.
    expect(page.locator(".upload")).to_have_count(4)
    expect(page.locator("[data-upload-summary]")).to_contain_text(
        "Added: 2. Already there: 0. Not added: 3.", timeout=30_000
    )
    expect(page.locator(".upload", has_text="drawing.gif").locator(".file-error")).to_contain_text(
        "drawing.gif is not a JPEG, PNG or WebP image or a zip of them."
    )
    expect(page.locator(".upload", has_text="empty.png").locator(".file-error")).to_have_text(
        "empty.png is empty."
    )
    zip_row = page.locator(".upload", has_text="old-works.zip")
    expect(zip_row).to_contain_text("done: 1 added, 0 already there, 1 not added")
    expect(zip_row.locator("li", has_text="readme.txt").locator(".file-error")).to_contain_text("JPEG, PNG")
    artist.check("upload-errors")
    assert sorted(Work.objects.values_list("original_name", flat=True)) == ["me.png", "rocket.jpg"]
    page.get_by_role("button", name="Show the added works").click()
    expect(page.locator(".work")).to_have_count(2)
    assert forget_refused_uploads(artist) == 2  # drawing.gif and empty.png: refused with a 400

    # --- without JavaScript: the plain form, with a zip, lists the refused files by name
    plain = visitor(javascript=False)
    log_in(plain, "ada@example.com", ARTIST_PASSWORD)
    form_page = plain.goto("/requests/new/")
    assert form_page.locator("[data-dropzone]").is_hidden()
    archive = io.BytesIO()  # other pictures: the ones above are in the portfolio already
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("portfolio/coffee.jpg", photo_bytes("coffee.png", "JPEG"))
        z.writestr("portfolio/readme.txt", b"hello")
    form_page.get_by_label("Or a zip of your images").set_input_files(
        files=[{"name": "works.zip", "mimeType": "application/zip", "buffer": archive.getvalue()}]
    )
    form_page.get_by_role("button", name="Create the request and upload").click()
    expect(form_page.locator(".upload-errors")).to_contain_text("readme.txt")
    expect(form_page.locator(".messages")).to_contain_text("1 work added")


def test_the_pages_switch_to_french(live_server, visitor):
    reader = visitor()
    page = reader.goto("/")
    page.get_by_role("button", name="Français").click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Retirez vos images des données d\u2019entraînement de l\u2019IA"
    )
    reader.check("home-fr")
    page.get_by_role("navigation").get_by_role("link", name="Créer un compte").click()
    expect(page.get_by_label("Adresse e-mail")).to_be_visible()
    reader.check("signup-fr")
    reader.goto("/search/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes œuvres ont-elles été utilisées ?")
    reader.check("search-fr")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Have my works been used?")


def test_the_public_search_finds_copies_and_keeps_nothing(live_server, visitor, tmp_path):
    register_dataset(live_server.url, "chelsea.png")
    searcher = visitor()
    page = searcher.goto("/")
    page.get_by_role("contentinfo").get_by_role("link", name="Have my works been used?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Have my works been used?")
    searcher.check("search")
    mine = tmp_path / "my-cat.png"
    mine.write_bytes(photo_bytes("chelsea.png"))
    page.get_by_label("An image of your work").set_input_files(mine)
    page.get_by_role("main").get_by_role("button", name="Search the data sets").click()
    row = page.locator("table.search-results tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Photos v1")
    expect(row).to_contain_text("https://cdn.lab.example/chelsea.png.jpg")
    searcher.check("search-results")
    assert not Work.objects.exists()

    other = tmp_path / "coins.png"
    other.write_bytes(photo_bytes("coins.png"))
    page.get_by_label("An image of your work").set_input_files(other)
    page.get_by_role("main").get_by_role("button", name="Search the data sets").click()
    expect(page.get_by_role("main")).to_contain_text("We found no image like this one")


def test_password_reset_export_and_account_deletion(live_server, visitor):
    profile = make_artist("ada@example.com", name="Ada Lovelace")
    draft = request_services.request_create(artist=profile, basis="copyright")
    request_services.request_artist_reply(ticket=draft, artist_user=profile.user, message="Hello")
    mail.outbox.clear()
    artist = visitor()
    page = artist.goto("/login/")
    artist.check("login")
    page.get_by_role("link", name="Forgot your password?").click()
    artist.check("password-reset")
    page.get_by_label("Email address").fill("ada@example.com")
    page.get_by_role("button", name="Send me the link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    artist.check("password-reset-sent")
    artist.goto(mail_link(mail.outbox, "/password-reset/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose a new password")
    artist.check("password-reset-confirm")
    page.get_by_label("New password", exact=True).fill(PASSWORD)
    page.get_by_label("New password again").fill(PASSWORD)
    page.get_by_role("button", name="Save my new password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Password changed")
    artist.check("password-reset-complete")
    log_in(artist, "ada@example.com", PASSWORD)

    page.get_by_role("link", name="My account").click()
    artist.check("account")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download my data (JSON)").click()
    exported = json.loads(download_info.value.path().read_text())
    assert exported["profile"]["email"] == "ada@example.com"
    assert exported["requests"][0]["reference"] == draft.reference

    page.get_by_label("Your password, to confirm").fill("not my password")
    page.get_by_role("button", name="Delete my account for good").click()
    expect(page.locator(".errorlist")).to_contain_text("This is not your password.")
    artist.check("account-delete-error")
    page.get_by_label("Your password, to confirm").fill(PASSWORD)
    page.get_by_role("button", name="Delete my account for good").click()
    expect(page.locator(".messages")).to_contain_text("Your account is deleted")
    assert not User.objects.filter(email="ada@example.com").exists()
    assert not RemovalRequest.objects.exists() and not TicketEvent.objects.exists()


def test_the_admin_still_works_under_its_own_policy(live_server, visitor):
    """The admin's looser Content Security Policy: its pages load with no console error."""
    User.objects.create_superuser("root@desk.example", "root@desk.example", PASSWORD)
    profile = make_artist("ada@example.com", name="Ada Lovelace")
    request_services.request_create(artist=profile, basis="copyright")
    admin = visitor()
    # Django's admin pages link no icon, so chromium asks for /favicon.ico, which is a 404 here.
    admin.page.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))
    page = admin.goto("/admin/login/")
    page.get_by_label("Username").fill("root@desk.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#site-name")).to_be_visible()
    admin.goto("/admin/requests_app/removalrequest/")
    expect(page.locator("#result_list")).to_be_visible()
    page.locator("#result_list tbody a").first.click()
    expect(page.locator("#content h1, #content h2").first).to_be_visible()
