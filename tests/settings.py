"""Settings for the test suite: the real PostgreSQL and Redis of this machine.

Everything stays overridable from the environment (DATABASE_URL,
CELERY_BROKER_URL); unreachable services fail the run, never skip it.
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-deployments")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test")
os.environ.setdefault("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("PRIVATE_MEDIA_ROOT", tempfile.mkdtemp(prefix="removal-desk-private-"))
os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="removal-desk-var-"))

from config.settings import *  # noqa: F403

# Webhook receivers and verification targets in tests listen on loopback.
OUTBOUND_ALLOW_LOOPBACK = True
# Indexes re-read changed items on every search, so a test sees its own writes at once.
MATCH_INDEX_CHECK_SECONDS = 0
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SITE_URL = "http://testserver"
