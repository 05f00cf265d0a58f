"""What every artist page shares (views/_common.py and the site's templates): the language
switch, the Content Security Policy, no inline script or style."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.helpers import (
    hashed_draft,
    logged_in,
)

pytestmark = pytest.mark.django_db

# --- languages and the Content Security Policy ------------------------------------


def test_the_pages_speak_french_when_asked(client):
    response = client.post(reverse("set_language"), {"language": "fr", "next": "/"}, follow=True)
    content = response.content.decode()
    assert '<html lang="fr">' in content
    assert "Retirez vos images des données d\u2019entraînement de l\u2019IA" in content
    english = client.post(reverse("set_language"), {"language": "en", "next": "/"}, follow=True)
    assert "Take your images out of AI training data" in english.content.decode()


def test_site_pages_carry_a_strict_policy_and_the_admin_and_api_their_own(client, artist):
    policy = client.get(reverse("home"))["Content-Security-Policy"]
    assert policy == (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
    )
    assert "'unsafe-inline'" in client.get("/admin/login/")["Content-Security-Policy"]
    # The API docs page sets its own policy (registry/api/docs.py): nothing from another origin.
    assert client.get("/api/v1/docs/")["Content-Security-Policy"].startswith("default-src 'none'")
    ticket = hashed_draft(artist, "coffee.png")
    work = ticket.works.get()
    image = logged_in(artist).get(reverse("work_image", args=[work.pk]))
    assert image["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_no_site_template_has_inline_script_or_style():
    root = Path(settings.BASE_DIR) / "templates"
    for path in root.rglob("*.html"):
        if "admin" in path.parts:
            continue
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), path
        assert not re.search(r"<style|\sstyle=", text), path


def test_it_tells_a_staff_account_without_artist_profile_why_it_cannot_file(moderator):
    client = Client()
    client.force_login(moderator)
    response = client.get(reverse("request_new"))
    assert response.status_code == 403
    assert "no artist profile" in response.content.decode()
