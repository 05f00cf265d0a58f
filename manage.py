#!/usr/bin/env python
"""Removal Desk's command line.

`hash_images` is the maintainer's tool for their own machine: it runs before any settings are
read, so it needs no SECRET_KEY and no database. Every other command runs in the server's
environment (SECRET_KEY, DATABASE_URL, CELERY_BROKER_URL, ...: README, "Configuration"); a
missing or bad setting, or a database it cannot use, stops it with one line on stderr and a
non-zero exit, not a traceback (`--traceback` shows one).
"""

import os
import sys


def main() -> int:
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "hash_images":
        from registry.hash_images import main as hash_images

        return hash_images(sys.argv[2:], prog="manage.py hash_images")

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    from config.env import ImproperEnv

    try:
        settings.INSTALLED_APPS  # noqa: B018  (reads the settings: a bad environment stops here)
    except (ImproperEnv, ImproperlyConfigured) as exc:
        sys.stderr.write(f"manage.py {command}: {exc}\n".replace("manage.py :", "manage.py:"))
        return 2

    from django.core.management import execute_from_command_line
    from django.db import DatabaseError

    try:
        execute_from_command_line(sys.argv)
    except DatabaseError as exc:
        if "--traceback" in sys.argv:
            raise
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        sys.stderr.write(
            f"manage.py {command}: the database cannot be used ({reason}). Run it in the server's "
            "environment: DATABASE_URL naming the site's database, migrated (manage.py migrate).\n"
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
