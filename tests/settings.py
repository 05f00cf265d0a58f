"""Settings for the test suite: the real PostgreSQL and Redis of this machine.

Everything stays overridable from the environment (DATABASE_URL,
CELERY_BROKER_URL); unreachable services fail the run, never skip it.
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-deployments")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")

# The suite runs in parallel processes (pytest-xdist, `-n 2`): pytest-django gives each its own
# database (test_test_gw0, ...); here each gets its own Redis database for the broker (15, 14, ...)
# and its own directories, so one process's Celery worker never takes another's tasks.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
# Once per process tree: the Celery worker a test process starts inherits the split values.
if _XDIST_WORKER and os.environ.get("REMOVAL_DESK_TEST_SPLIT") != _XDIST_WORKER:
    os.environ["REMOVAL_DESK_TEST_SPLIT"] = _XDIST_WORKER
    _index = int(_XDIST_WORKER.removeprefix("gw"))
    _broker, _, _db = os.environ["CELERY_BROKER_URL"].rpartition("/")
    if not _db.isdigit() or int(_db) < _index:
        raise RuntimeError(f"CELERY_BROKER_URL must end in a Redis database number >= {_index} for -n")
    os.environ["CELERY_BROKER_URL"] = f"{_broker}/{int(_db) - _index}"
    for _name in ("PRIVATE_MEDIA_ROOT", "VAR_DIR"):
        if os.environ.get(_name):  # set by the controlling process (or by hand): a subdirectory each
            os.environ[_name] = os.path.join(os.environ[_name], _XDIST_WORKER)
            os.makedirs(os.environ[_name], exist_ok=True)
os.environ.setdefault("PRIVATE_MEDIA_ROOT", tempfile.mkdtemp(prefix="removal-desk-private-"))
os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="removal-desk-var-"))

from config.settings import *  # noqa: E402, F403

# Webhook receivers and verification targets in tests listen on loopback.
OUTBOUND_ALLOW_LOOPBACK = True
# Indexes re-read changed items on every search, so a test sees its own writes at once.
MATCH_INDEX_CHECK_SECONDS = 0
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SITE_URL = "http://testserver"
