"""README's maintainer and operator commands, run as README writes them: as processes.

`hash_images` runs on a maintainer's machine with a bare environment (no SECRET_KEY, no
settings, no database); the operator commands run in the server's environment and, when it is
missing, stop with one line on stderr. The hasher's output goes straight into import_dataset.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from registry import services
from registry.hashing import code_to_hex, compute_hashes, pdq_to_hex
from registry.models import DatasetItem, Maintainer
from tests.helpers import ROOT, database_url, photo_bytes

PHOTOS = ROOT / "tests" / "fixtures" / "photos"
PREFIX = "https://img.example/photos/"


def bare_env() -> dict[str, str]:
    """What a maintainer's shell has: no SECRET_KEY, DATABASE_URL or DJANGO_SETTINGS_MODULE."""
    return {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}


def server_env(tmp_path: Path) -> dict[str, str]:
    """The server's environment, on the test database."""
    return {
        **bare_env(),
        "SECRET_KEY": "a-server-secret-key-for-this-test",
        "DATABASE_URL": database_url(connection.settings_dict),
        "VAR_DIR": str(tmp_path / "var"),
    }


def manage(
    *args: str, env: dict[str, str], stdout: Any = subprocess.PIPE
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )


def test_hash_images_needs_no_secret_key_and_runs_from_the_installed_package(tmp_path):
    through_manage = manage(
        "hash_images", str(PHOTOS), "--url-prefix", PREFIX, "--workers", "2", env=bare_env()
    )
    assert through_manage.returncode == 0, through_manage.stderr
    assert "Traceback" not in through_manage.stderr
    standalone = subprocess.run(
        [sys.executable, "-m", "registry.hash_images", str(PHOTOS), "--url-prefix", PREFIX],
        cwd=tmp_path,  # not the project: only the installed package
        env=bare_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert standalone.returncode == 0, standalone.stderr
    assert standalone.stdout == through_manage.stdout
    lines = [json.loads(line) for line in standalone.stdout.splitlines()]
    assert len(lines) == 14 and "14 hashed, 0 not readable" in standalone.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["create_maintainer", "Example Lab", "--email", "ops@example.org"],
        ["import_dataset", "photos-v1", "hashes.ndjson"],
        ["rebuild_index"],
        ["seed_demo"],
    ],
)
def test_server_commands_without_the_servers_environment_say_so_in_one_line(args):
    result = manage(*args, env=bare_env())
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"manage.py {args[0]}: SECRET_KEY is not set. Export a long random SECRET_KEY for a deployment, "
        "or DEBUG=1 for development (make run sets it)."
    ]


def test_a_database_that_cannot_be_used_is_one_line(tmp_path):
    env = {**server_env(tmp_path), "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/no_such_database_here"}
    result = manage("create_maintainer", "Example Lab", "--email", "ops@example.org", env=env)
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.startswith("manage.py create_maintainer: the database cannot be used (")
    assert '"no_such_database_here" does not exist' in line and "DATABASE_URL" in line


@pytest.mark.django_db(transaction=True)
def test_create_maintainer_in_the_servers_environment_prints_the_key_last(tmp_path):
    result = manage(
        "create_maintainer", "Example Lab", "--email", "ops@example.org", env=server_env(tmp_path)
    )
    assert result.returncode == 0, result.stderr
    key = result.stdout.splitlines()[-1]
    assert key.startswith("rdk_")
    assert Maintainer.objects.get(name="Example Lab").email == "ops@example.org"


@pytest.mark.django_db(transaction=True)
def test_hash_images_output_imports_as_it_is(tmp_path):
    org, _ = services.maintainer_create(name="Example Lab", email="ops@example.org")
    dataset = services.dataset_create(maintainer=org, slug="photos-v1", name="Photos v1")
    hashes = tmp_path / "hashes.ndjson"
    with hashes.open("w") as out:
        hashed = manage("hash_images", str(PHOTOS), "--url-prefix", PREFIX, env=bare_env(), stdout=out)
    assert hashed.returncode == 0, hashed.stderr

    imported = manage("import_dataset", "photos-v1", str(hashes), env=server_env(tmp_path))
    assert imported.returncode == 0, imported.stderr
    assert "14 created, 0 updated, 0 rejected" in imported.stdout

    items = {item.external_id: item for item in DatasetItem.objects.filter(dataset=dataset)}
    files = sorted(p for p in PHOTOS.iterdir() if p.suffix in {".png", ".jpg"})
    assert sorted(items) == [p.name for p in files] and len(files) == 14
    for path in files:
        expected = compute_hashes(path.read_bytes(), max_pixels=50_000_000)
        item = items[path.name]
        assert item.url == PREFIX + path.name
        assert item.phash == expected.phash and item.dhash == expected.dhash
        assert bytes(item.pdq) == expected.pdq

    again = manage("import_dataset", "photos-v1", str(hashes), env=server_env(tmp_path))
    assert again.returncode == 0 and "0 created, 14 updated, 0 rejected" in again.stdout


@pytest.mark.django_db(transaction=True)
def test_import_dataset_with_a_bad_row_exits_non_zero_and_keeps_the_good_ones(tmp_path):
    org, _ = services.maintainer_create(name="Example Lab", email="ops@example.org")
    dataset = services.dataset_create(maintainer=org, slug="photos-v1", name="Photos v1")
    good = compute_hashes(photo_bytes("chelsea.png"), max_pixels=50_000_000)
    rows = [
        {"external_id": "a", "url": "https://img.example/a.png", "phash": code_to_hex(good.phash)},
        {"external_id": "b", "url": "https://img.example/b.png", "phash": "not-hex"},
        {"url": "https://img.example/c.png", "pdq": pdq_to_hex(good.pdq)},
        {"external_id": "d", "url": "https://img.example/d.png", "dhash": code_to_hex(good.dhash)},
    ]
    index = tmp_path / "index.ndjson"
    index.write_text("".join(json.dumps(row) + "\n" for row in rows))

    result = manage("import_dataset", "photos-v1", str(index), env=server_env(tmp_path))
    assert result.returncode == 1
    assert "2 created, 0 updated, 2 rejected" in result.stdout
    assert "  line 2: phash" in result.stderr
    assert "  line 3: external_id is required" in result.stderr
    assert "2 rows were rejected (the first are listed above)" in result.stderr
    assert "Traceback" not in result.stderr
    items = DatasetItem.objects.filter(dataset=dataset)
    assert sorted(items.values_list("external_id", flat=True)) == ["a", "d"]
    assert items.get(external_id="a").phash == good.phash


def test_hash_images_exits_1_and_leaves_out_a_file_it_cannot_read(tmp_path):
    (tmp_path / "good.png").write_bytes(photo_bytes("chelsea.png"))
    (tmp_path / "bad.jpg").write_text("not a JPEG")
    result = manage("hash_images", str(tmp_path), "--url-prefix", PREFIX, env=bare_env())
    assert result.returncode == 1
    assert [json.loads(line)["external_id"] for line in result.stdout.splitlines()] == ["good.png"]
    assert f"{tmp_path / 'bad.jpg'}: " in result.stderr and "1 hashed, 1 not readable" in result.stderr
