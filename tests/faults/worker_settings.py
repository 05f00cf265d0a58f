"""Settings of the worker processes the fault tests start: the test settings, with mail written to
files so the test process can read what a worker sent."""

import os

from tests.settings import *  # noqa: F403

EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = os.environ["FAULTS_EMAIL_DIR"]
