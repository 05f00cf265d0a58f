import os
import sys

from django.core.wsgi import get_wsgi_application

from config.env import ImproperEnv

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
try:
    application = get_wsgi_application()
except ImproperEnv as exc:  # a bad environment: one line in the server's log, not a traceback
    sys.stderr.write(f"config.wsgi: {exc}\n")
    raise SystemExit(2) from None
