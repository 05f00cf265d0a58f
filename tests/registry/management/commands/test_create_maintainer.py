"""`manage.py create_maintainer`: a maintainer, and its API key alone on the last line."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from registry.models import ApiKey, Maintainer


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("create_maintainer", *args, stdout=out)
    return out.getvalue()


def test_it_prints_a_working_key_alone_on_the_last_line(db):
    output = run("Acme Images", "--email", "ops@acme.example")
    lines = output.rstrip("\n").split("\n")
    assert len(lines) >= 2
    key = lines[-1]
    assert key.startswith("rdk_") and key == key.strip() and " " not in key
    assert "Acme Images" in lines[0]

    maintainer = Maintainer.objects.get(name="Acme Images")
    assert maintainer.email == "ops@acme.example"
    stored = ApiKey.objects.get(maintainer=maintainer)
    assert stored.prefix == key[:12] and key not in stored.key_hash

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    response = client.get("/api/v1/datasets/")
    assert response.status_code == 200
    stored.refresh_from_db()
    assert stored.last_used_at is not None


def test_it_refuses_a_name_that_exists(db):
    run("Acme Images", "--email", "ops@acme.example")
    with pytest.raises(CommandError, match="exists already"):
        run("acme images", "--email", "other@acme.example")
    assert Maintainer.objects.count() == 1 and ApiKey.objects.count() == 1


def test_it_refuses_a_bad_email(db):
    with pytest.raises(CommandError, match="not an email address"):
        run("Acme Images", "--email", "nope")
    assert not Maintainer.objects.exists()


def test_it_needs_an_email(db):
    with pytest.raises(CommandError):
        run("Acme Images")


def test_a_wrong_key_is_refused(db):
    run("Acme Images", "--email", "ops@acme.example")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer rdk_not-a-real-key")
    assert client.get("/api/v1/datasets/").status_code == 401
