"""The artist's request page as a new user meets it (issue 9, items 8-12), in chromium: the
matches table on a 375 px phone, errors shown beside their control and scrolled into view with
focus on it, the French statement and timeline, and the public search's "already removed"."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import Page, expect

from registry import services as registry_services
from registry.hashing import code_to_hex, compute_hashes
from registry.models import Removal, RemovalState
from requests_app import services
from requests_app.models import Match, RemovalRequest
from tests.helpers import ARTIST_PASSWORD, PHONE, image_bytes, log_in, make_artist, photo, photo_bytes

pytestmark = [pytest.mark.django_db(transaction=True)]


def _datasets_with_copies() -> None:
    """Two organisations, each with a data set called "Photos v1" holding a copy of the cat."""
    for org, host in (("Open Images Lab", "cdn.lab.example"), ("Pixel Commons", "img.commons.example")):
        maintainer, _key = registry_services.maintainer_create(name=org, email=f"ops@{host}")
        dataset = registry_services.dataset_create(
            maintainer=maintainer, slug=host.split(".")[1], name="Photos v1"
        )
        copy = photo("chelsea.png").convert("RGB").resize((300, 200))
        hashes = compute_hashes(image_bytes(copy, "JPEG", quality=60), max_pixels=10**8)
        registry_services.items_upsert(
            dataset=dataset,
            rows=[
                {
                    "external_id": "cat",
                    "url": f"https://{host}/a/very/long/path/to/the/image/chelsea-the-cat-2019.jpg",
                    "phash": code_to_hex(hashes.phash),
                }
            ],
        )


def _draft_with_matches(name: str = "Nora Newbie", email: str = "nora@example.com") -> RemovalRequest:
    profile = make_artist(email, name=name)
    ticket = services.request_create(artist=profile, basis="copyright")
    added = services.works_add(
        ticket=ticket,
        actor=profile.user,
        files=[SimpleUploadedFile("my-cat.png", photo_bytes("chelsea.png"))],
    )
    for work in added.works:
        assert services.work_hash_and_match(work_id=work.pk) == "done"
    assert Match.objects.filter(work__request=ticket).count() == 2
    return ticket


def _in_view(page: Page, selector: str) -> bool:
    return bool(
        page.locator(selector).evaluate(
            """e => { const r = e.getBoundingClientRect();
                      return r.top >= 0 && r.bottom <= window.innerHeight && r.left >= 0
                             && r.right <= window.innerWidth; }"""
        )
    )


def test_the_matches_table_fits_a_phone_and_each_copy_has_one_answer(live_server, visitor):
    _datasets_with_copies()
    ticket = _draft_with_matches()
    artist = visitor()
    log_in(artist, "nora@example.com", ARTIST_PASSWORD)
    page = artist.goto(f"/requests/{ticket.reference}/")
    expect(page.locator("table.matches tbody tr")).to_have_count(2)
    # Two organisations' "Photos v1" are told apart.
    expect(page.locator("table.matches")).to_contain_text("Photos v1 (Open Images Lab)")
    expect(page.locator("table.matches")).to_contain_text("Photos v1 (Pixel Commons)")
    artist.check("request-detail-matches-choices")
    # A disabled button (the request form's while it sends files) must look disabled.
    upload = page.locator("main button.button").first
    enabled = upload.evaluate("b => getComputedStyle(b).backgroundColor")
    upload.evaluate("b => { b.disabled = true; }")
    upload.hover(force=True)
    disabled = upload.evaluate("b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).cursor]")
    assert disabled[0] != enabled and disabled[1] == "not-allowed", (enabled, disabled)
    upload.evaluate("b => { b.disabled = false; }")

    page.set_viewport_size(PHONE)
    try:
        for radio in page.locator('table.matches input[type="radio"]').all():
            radio.scroll_into_view_if_needed()
            box = radio.bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        wrap_overflow = page.locator("table.matches").first.evaluate(
            "t => t.closest('.table-wrap').scrollWidth - t.closest('.table-wrap').clientWidth"
        )
        assert wrap_overflow <= 1, f"the matches table scrolls sideways by {wrap_overflow}px at 375 px"
        first, second = Match.objects.filter(work__request=ticket).order_by("distance", "id")
        page.locator(f'input[name="match-{first.pk}"][value="mine"]').check()
        page.locator(f'input[name="match-{second.pk}"][value="not_mine"]').check()
        page.get_by_role("button", name="Save my choices").click()
        expect(page.locator(".messages")).to_contain_text("Your choices are saved.")
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})
    states = dict(Match.objects.values_list("pk", "state"))
    assert states == {first.pk: "confirmed", second.pk: "excluded"}


def test_a_bad_answer_is_shown_on_its_row_in_view_with_focus_there(live_server, visitor):
    _datasets_with_copies()
    ticket = _draft_with_matches()
    first, second = Match.objects.filter(work__request=ticket).order_by("distance", "id")
    artist = visitor()
    log_in(artist, "nora@example.com", ARTIST_PASSWORD)
    page = artist.goto(f"/requests/{ticket.reference}/")
    page.locator(f'input[name="match-{second.pk}"][value="not_mine"]').check()
    # A page left open from an older version, or a tampered form: an answer the server refuses.
    page.locator(f'input[name="match-{first.pk}"][value="mine"]').evaluate(
        "e => { e.value = 'both'; e.checked = true; }"
    )
    page.get_by_role("button", name="Save my choices").click()

    error = page.locator(f"#match-{first.pk}-error")
    expect(error).to_have_text("Choose mine, not mine or undecided for this copy.")
    assert _in_view(page, f"#match-{first.pk}-error"), "the error is off-screen"
    assert page.evaluate("document.activeElement.name") == f"match-{first.pk}"
    # The other answer is kept as entered (nothing was saved).
    expect(page.locator(f'input[name="match-{second.pk}"][value="not_mine"]')).to_be_checked()
    artist.check("request-detail-matches-error")


def test_a_signature_that_is_not_the_accounts_name_is_refused_beside_the_field(live_server, visitor):
    _datasets_with_copies()
    ticket = _draft_with_matches()
    ids = list(Match.objects.filter(work__request=ticket).values_list("pk", flat=True))
    services.matches_decide(ticket=ticket, actor=ticket.artist.user, confirm=ids)
    artist = visitor()
    log_in(artist, "nora@example.com", ARTIST_PASSWORD)
    page = artist.goto(f"/requests/{ticket.reference}/")
    page.get_by_label("Type your full name to sign").fill("Someone Else")
    page.get_by_role("button", name="Sign and submit the request").click()

    expect(page.locator("#signed-name-error")).to_contain_text(
        "Sign with the name of your account, Nora Newbie"
    )
    assert _in_view(page, "#signed-name-error"), "the signature error is off-screen"
    assert page.evaluate("document.activeElement.id") == "id_signed_name"
    expect(page.get_by_label("Type your full name to sign")).to_have_value("Someone Else")
    artist.check("request-sign-error")

    page.get_by_label("Type your full name to sign").fill("nora newbie")
    page.get_by_role("button", name="Sign and submit the request").click()
    expect(page.locator(".messages")).to_contain_text("is submitted")


def test_a_french_artist_reads_the_statement_and_the_timeline_in_french(live_server, visitor):
    _datasets_with_copies()
    ticket = _draft_with_matches(name="Camille Claudel", email="camille@example.fr")
    profile = ticket.artist
    more = services.works_add(
        ticket=ticket,
        actor=profile.user,
        files=[
            SimpleUploadedFile(n, photo_bytes("coins.png", f))
            for n, f in (("pièce-1.png", "PNG"), ("pièce-2.png", "JPEG"))
        ],
    )
    for work in more.works:
        services.work_hash_and_match(work_id=work.pk)
    ids = list(Match.objects.filter(work__request=ticket).values_list("pk", flat=True))
    services.matches_decide(ticket=ticket, actor=profile.user, confirm=ids)

    artist = visitor(locale="fr-FR")
    log_in_fr(artist, "camille@example.fr")
    page = artist.goto(f"/requests/{ticket.reference}/")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("#statement")).to_contain_text("Je déclare de bonne foi")
    page.get_by_label("Saisissez vos nom et prénom pour signer").fill("Camille Claudel")
    page.get_by_role("button", name="Signer et envoyer la demande").click()
    expect(page.locator(".messages")).to_contain_text("est envoyée")

    moderator = make_moderator()
    services.request_approve(ticket=ticket, moderator=moderator)
    page.reload()
    history = page.locator(".timeline")
    expect(history).to_contain_text("1 œuvre ajoutée : my-cat.png")
    expect(history).to_contain_text("2 œuvres ajoutées : pièce-1.png, pièce-2.png")
    # The cat's copy in each data set, and the two coins (no copy anywhere) by their hashes in both.
    expect(history).to_contain_text(
        "6 retraits envoyés aux responsables de Photos v1 (Open Images Lab), Photos v1 (Pixel Commons)."
    )
    text = history.inner_text()
    assert "work(s)" not in text and "removal(s)" not in text and "Déc" not in text
    expect(page.locator("details.signed-statement blockquote")).to_have_attribute("lang", "fr")
    artist.check("request-timeline-fr")


def log_in_fr(pages: Any, email: str) -> None:
    page = pages.goto("/login/")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(ARTIST_PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mes demandes")


def make_moderator() -> Any:
    from django.contrib.auth.models import User

    return User.objects.create_user("mod@desk.example", "mod@desk.example", "x" * 20, is_staff=True)


def test_the_public_search_says_which_copies_are_already_removed(live_server, visitor, tmp_path):
    _datasets_with_copies()
    ticket = _draft_with_matches()
    first, _second = Match.objects.filter(work__request=ticket).order_by("distance", "id")
    services.matches_decide(ticket=ticket, actor=ticket.artist.user, confirm=[first.pk])
    services.request_submit(ticket=ticket, actor=ticket.artist.user, signed_name="Nora Newbie")
    services.request_approve(ticket=ticket, moderator=make_moderator())
    Removal.objects.update(
        state=RemovalState.ACKNOWLEDGED, acknowledged_at=datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    )

    searcher = visitor()
    page = searcher.goto("/search/")
    mine = tmp_path / "my-cat.png"
    mine.write_bytes(photo_bytes("chelsea.png"))
    page.get_by_label("An image of your work").set_input_files(mine)
    page.get_by_role("main").get_by_role("button", name="Search the data sets").click()
    rows = page.locator("table.search-results tbody tr")
    expect(rows).to_have_count(2)
    # The confirmed copy is removed as an item; the other data set's copy, left undecided, by the
    # work's own hash, which approval records in every data set where no copy was approved.
    removed = page.locator(
        "table.search-results tbody tr", has_text="Already removed from Photos v1 on Dec. 3, 2026"
    )
    expect(removed).to_have_count(2)
    expect(page.locator("table.search-results tbody tr", has_text="Not removed")).to_have_count(0)
    searcher.check("search-results-removed")
    page.set_viewport_size(PHONE)
    try:
        overflow = page.locator("table.search-results").evaluate(
            "t => t.closest('.table-wrap').scrollWidth - t.closest('.table-wrap').clientWidth"
        )
        assert overflow <= 1, f"the search results scroll sideways by {overflow}px at 375 px"
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})
