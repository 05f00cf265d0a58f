"""config.settings: everything a deployment changes is read from the environment, strictly; with
nothing set the site runs embedded (SQLite, the filesystem broker, a local-memory cache)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from config.databases import sqlite_options
from tests.helpers import ROOT, settings_from_env

DEV = {"DEBUG": "1"}


def test_settings_give_sqlite_the_embedded_options(tmp_path):
    """config.settings with no DATABASE_URL (as under make run) applies sqlite_options."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_TIMEOUT_SECONDS")}
    env.update({"DEBUG": "1", "VAR_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"})
    code = "import json; from config import settings; print(json.dumps(settings.DATABASES['default']))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, check=True)
    database = json.loads(out.stdout)
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(tmp_path / "removal_desk.sqlite3")
    assert database["OPTIONS"] == sqlite_options(timeout_seconds=30)


def test_a_deployment_without_a_secret_key_does_not_start(tmp_path):
    with pytest.raises(subprocess.CalledProcessError) as caught:
        settings_from_env({"VAR_DIR": str(tmp_path)}, "SECRET_KEY")
    assert "ImproperEnv: SECRET_KEY is not set" in caught.value.stderr
    got = settings_from_env({"VAR_DIR": str(tmp_path), "SECRET_KEY": "s" * 50}, "SECRET_KEY", "DEBUG")
    assert got == {"SECRET_KEY": "s" * 50, "DEBUG": False}
    assert settings_from_env({"VAR_DIR": str(tmp_path), **DEV}, "DEBUG") == {"DEBUG": True}


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({**DEV, "UPLOAD_MAX_FILES": "many"}, "UPLOAD_MAX_FILES='many' is not a whole number"),
        ({**DEV, "MATCH_PHASH_MAX_DISTANCE": "-1"}, "MATCH_PHASH_MAX_DISTANCE=-1 is below the minimum of 0"),
        ({**DEV, "PROOF_FETCH_SCHEME": "ftp"}, "PROOF_FETCH_SCHEME must be https or http"),
    ],
)
def test_a_bad_value_stops_the_process_naming_the_variable(tmp_path, env, words):
    with pytest.raises(subprocess.CalledProcessError) as caught:
        settings_from_env({"VAR_DIR": str(tmp_path), **env}, "DEBUG")
    assert words in caught.value.stderr


def test_lists_paths_and_numbers_come_from_the_environment(tmp_path):
    env = {
        **DEV,
        "VAR_DIR": str(tmp_path),
        "ALLOWED_HOSTS": " desk.example, ,www.desk.example ",
        "SITE_URL": "https://desk.example/",
        "PRIVATE_MEDIA_ROOT": str(tmp_path / "p" / ".." / "private"),
        "SLA_SUBMITTED_HOURS": "24",
        "API_RATE_LIMIT": "10/min",
        "PARTNER_API_RATE_LIMIT": "3/min",
        "SECURE_COOKIES": "yes",
    }
    got = settings_from_env(
        env,
        "ALLOWED_HOSTS",
        "SITE_URL",
        "PRIVATE_MEDIA_ROOT",
        "SLA_HOURS",
        "REST_FRAMEWORK",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
    )
    assert got["ALLOWED_HOSTS"] == ["desk.example", "www.desk.example"]
    assert got["SITE_URL"] == "https://desk.example"
    assert got["PRIVATE_MEDIA_ROOT"] == str(tmp_path / "private")
    assert got["SLA_HOURS"] == {"submitted": 24, "in_review": 120}
    assert got["REST_FRAMEWORK"]["DEFAULT_THROTTLE_RATES"] == {"maintainer": "10/min", "partner": "3/min"}
    assert got["SESSION_COOKIE_SECURE"] is got["CSRF_COOKIE_SECURE"] is True


def test_with_nothing_set_the_broker_is_the_filesystem_one_under_var_dir(tmp_path):
    got = settings_from_env(
        {**DEV, "VAR_DIR": str(tmp_path)},
        "CELERY_BROKER_URL",
        "CELERY_BROKER_TRANSPORT",
        "CELERY_BROKER_TRANSPORT_OPTIONS",
        "CACHES",
    )
    assert got["CELERY_BROKER_URL"] == "filesystem://"
    assert got["CELERY_BROKER_TRANSPORT"] == "config.broker:Transport"
    options = got["CELERY_BROKER_TRANSPORT_OPTIONS"]
    assert options["data_folder_in"] == options["data_folder_out"] == str(tmp_path / "broker" / "out")
    assert options["control_folder"] == str(tmp_path / "broker" / "control")
    assert all((tmp_path / "broker" / folder).is_dir() for folder in ("out", "processed", "control"))
    assert got["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


def test_servers_replace_the_embedded_defaults_when_named(tmp_path):
    env = {
        **DEV,
        "VAR_DIR": str(tmp_path),
        "DATABASE_URL": "postgres://desk:pw@db.example:5433/desk",
        "DATABASE_CONN_MAX_AGE": "60",
        "CELERY_BROKER_URL": "redis://broker.example:6379/2",
        "REDIS_URL": "redis://cache.example:6379/1",
    }
    got = settings_from_env(env, "DATABASES", "CELERY_BROKER_TRANSPORT_OPTIONS", "CACHES")
    database = got["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["PORT"], database["NAME"], database["USER"]) == (
        "db.example",
        5433,
        "desk",
        "desk",
    )
    assert database["CONN_MAX_AGE"] == 60 and "transaction_mode" not in database.get("OPTIONS", {})
    assert got["CELERY_BROKER_TRANSPORT_OPTIONS"] == {"visibility_timeout": 3600}
    assert got["CACHES"]["default"] == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://cache.example:6379/1",
    }
    assert not (tmp_path / "broker").exists() and not (tmp_path / "removal_desk.sqlite3").exists()


def test_the_sqlite_timeout_is_read_from_the_environment(tmp_path):
    got = settings_from_env({**DEV, "VAR_DIR": str(tmp_path), "SQLITE_TIMEOUT_SECONDS": "5"}, "DATABASES")
    assert got["DATABASES"]["default"]["OPTIONS"] == sqlite_options(timeout_seconds=5)


def test_every_routed_queue_has_workers_and_a_heartbeat(tmp_path):
    got = settings_from_env(
        {**DEV, "VAR_DIR": str(tmp_path)}, "WORKER_QUEUES", "CELERY_TASK_ROUTES", "CELERY_BEAT_SCHEDULE"
    )
    queues = set(got["WORKER_QUEUES"])
    assert {route["queue"] for route in got["CELERY_TASK_ROUTES"].values()} <= queues
    heartbeats = {
        entry["options"]["queue"]
        for entry in got["CELERY_BEAT_SCHEDULE"].values()
        if entry["task"] == "registry.tasks.worker_heartbeat"
    }
    assert heartbeats == queues
