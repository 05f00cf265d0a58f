"""The portfolio uploader in a real browser (chromium), against the live server and a real Celery
worker: a transfer cut off mid-way (requests aborted with page.route) that resumes after a reload
without resending what the server holds; several files and a folder at once, with duplicates;
the page in French, accessible and without sideways scrolling at 375 px."""

from __future__ import annotations

import zipfile

import pytest
from playwright.sync_api import Route, expect

from requests_app.models import PortfolioUpload, RemovalRequest, UploadState, Work
from tests.helpers import (
    ARTIST_PASSWORD,
    distinct_png,
    forget_refused_uploads,
    log_in,
    make_artist,
    photo_bytes,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]

CHUNK = 64 * 1024


def test_an_interrupted_upload_resumes_after_a_reload_without_resending(
    celery_worker_process, live_server, visitor, settings, tmp_path
):
    settings.PORTFOLIO_CHUNK_BYTES = CHUNK
    make_artist("ada@example.com", name="Ada Lovelace")
    path = tmp_path / "portfolio.zip"
    with zipfile.ZipFile(path, "w") as archive:  # stored, not deflated: about 1 MB, 16 chunks
        for name in ("chelsea.png", "coffee.png", "astronaut.png"):
            archive.writestr(name, photo_bytes(name))
        for i in range(20):
            archive.writestr(f"w{i:02d}.png", distinct_png(i, size=200))
    size = path.stat().st_size
    assert size > 6 * CHUNK

    artist = visitor()
    log_in(artist, "ada@example.com", ARTIST_PASSWORD)
    page = artist.goto("/portfolio/upload/")
    artist.check("portfolio-upload")
    offsets: list[int] = []

    def cut_after_three_chunks(route: Route) -> None:
        request = route.request
        if request.method != "PATCH":
            route.continue_()
            return
        offsets.append(int(request.headers["upload-offset"]))
        if len(offsets) <= 3:
            route.continue_()
        else:
            route.abort("connectionreset")

    page.route("**/portfolio/uploads/*/", cut_after_three_chunks)
    page.get_by_label("Images (JPEG, PNG, WebP) or zips of them").set_input_files(str(path))
    row = page.locator(".upload", has_text="portfolio.zip")
    expect(row).to_contain_text("connection lost; trying again", timeout=30_000)
    upload = PortfolioUpload.objects.get()
    assert (upload.state, upload.received) == (UploadState.RECEIVING, 3 * CHUNK)
    assert offsets[:4] == [0, CHUNK, 2 * CHUNK, 3 * CHUNK]

    # The connection is back; the artist reloads the page and chooses the same file again.
    page.unroute_all(behavior="ignoreErrors")
    page.reload()
    resume = page.locator("[data-upload-resume]")
    expect(resume).to_contain_text("portfolio.zip: 192 kB of")
    artist.check("portfolio-upload-resume")
    sent_after_reload: list[int] = []
    page.on(
        "request",
        lambda request: (
            sent_after_reload.append(int(request.headers["upload-offset"]))
            if request.method == "PATCH"
            else None
        ),
    )
    page.get_by_label("Images (JPEG, PNG, WebP) or zips of them").set_input_files(str(path))
    row = page.locator(".upload", has_text="portfolio.zip")
    expect(row).to_contain_text("done: 23 added, 0 already there, 0 not added", timeout=90_000)
    assert sent_after_reload[0] == 3 * CHUNK  # nothing the server held was sent again
    assert sent_after_reload == list(range(3 * CHUNK, size, CHUNK))
    assert PortfolioUpload.objects.count() == 1
    assert Work.objects.count() == 23
    assert forget_refused_uploads(artist, network_errors=True) >= 1  # the chunks cut off above
    expect(resume).to_be_hidden()
    artist.check("portfolio-upload-done")


def test_many_files_and_a_folder_with_duplicates_in_french(
    celery_worker_process, live_server, visitor, tmp_path
):
    make_artist("ada@example.com", name="Ada Lovelace")
    folder = tmp_path / "mes œuvres"
    (folder / "2024").mkdir(parents=True)
    for i in range(4):
        (folder / "2024" / f"f{i}.png").write_bytes(distinct_png(100 + i))
    (folder / "copy-of-a.png").write_bytes(distinct_png(1))
    loose = []
    for i in range(3):
        file = tmp_path / f"a{i}.png"
        file.write_bytes(distinct_png(1 + i))
        loose.append(str(file))

    artist = visitor(locale="fr-FR")
    page = artist.goto("/login/")
    page.get_by_label("Adresse e-mail").fill("ada@example.com")
    page.get_by_label("Mot de passe").fill(ARTIST_PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes demandes")
    page = artist.goto("/portfolio/upload/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ajouter à votre portfolio")
    page.get_by_label("Images (JPEG, PNG, WebP) ou zips de ces images").set_input_files(loose)
    summary = page.locator("[data-upload-summary]")
    expect(summary).to_contain_text("Ajoutées : 3.", timeout=30_000)
    page.get_by_label("Ou un dossier entier").set_input_files(str(folder))
    expect(page.locator(".upload")).to_have_count(8)
    expect(summary).to_contain_text("Ajoutées : 7. Déjà là : 1. Non ajoutées : 0.", timeout=60_000)
    duplicate = page.locator(".upload", has_text="copy-of-a.png")
    expect(duplicate).to_contain_text("Déjà dans votre portfolio sous le nom a0.png.")
    artist.check("portfolio-upload-french")
    assert Work.objects.filter(request=None).count() == 7


def test_a_new_request_upload_cut_off_goes_on_in_its_request_after_a_reload(
    celery_worker_process, live_server, visitor, settings, tmp_path
):
    chunk = 2048  # the zip of small images is about 8 kB
    settings.PORTFOLIO_CHUNK_BYTES = chunk
    make_artist("ada@example.com", name="Ada Lovelace")
    path = tmp_path / "works.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(8):
            archive.writestr(f"n{i}.png", distinct_png(300 + i, size=200))
    size = path.stat().st_size
    assert size > 2 * chunk

    artist = visitor()
    log_in(artist, "ada@example.com", ARTIST_PASSWORD)
    page = artist.goto("/requests/new/")
    patches: list[int] = []

    def cut_after_one_chunk(route: Route) -> None:
        if route.request.method != "PATCH":
            route.continue_()
            return
        patches.append(int(route.request.headers["upload-offset"]))
        if len(patches) <= 1:
            route.continue_()
        else:
            route.abort("connectionreset")

    page.route("**/portfolio/uploads/*/", cut_after_one_chunk)
    chooser = page.get_by_label("Images (JPEG, PNG, WebP) or zips of them")
    chooser.set_input_files(str(path))
    page.get_by_role("button", name="Create the request and upload").click()
    row = page.locator(".upload", has_text="works.zip")
    expect(row).to_contain_text("connection lost; trying again", timeout=30_000)
    draft = RemovalRequest.objects.get()
    upload = PortfolioUpload.objects.get()
    assert (upload.ticket_id, upload.received) == (draft.pk, chunk)

    # Back on the new-request page after a reload: the unfinished upload points to its request.
    page.unroute_all(behavior="ignoreErrors")
    page.reload()
    resume = page.locator("[data-upload-resume]")
    expect(resume).to_contain_text("works.zip: 2 kB of")
    artist.check("request-new-resume")
    resume.get_by_role("link", name=f"go on in request {draft.reference}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(draft.reference)
    sent: list[int] = []
    page.on(
        "request",
        lambda request: (
            sent.append(int(request.headers["upload-offset"])) if request.method == "PATCH" else None
        ),
    )
    page.get_by_label("Images (JPEG, PNG, WebP) or zips of them").set_input_files(str(path))
    # All added: the request's page reloads itself and lists the works.
    expect(page.locator(".work")).to_have_count(8, timeout=90_000)
    assert sent[0] == chunk  # the first chunk was not sent again
    assert PortfolioUpload.objects.count() == 1 and RemovalRequest.objects.count() == 1
    assert Work.objects.filter(request=draft).count() == 8
    assert forget_refused_uploads(artist, network_errors=True) >= 1
