"""`make run`: migrate, load the demo data, then run the site, a Celery worker and beat.

With no environment set this uses SQLite and Celery's filesystem broker under
./var, so nothing but Python is needed. Ctrl-C stops all three processes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from supervise import supervise

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def manage(*args: str) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, check=True)


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "1")
    port = os.environ.get("PORT", "8000")
    os.environ.setdefault("SITE_URL", f"http://127.0.0.1:{port}")
    print("Removal Desk: preparing the database and demo data…", flush=True)
    manage("migrate", "--noinput", "-v", "0")
    manage("seed_demo")

    processes = {
        "web": subprocess.Popen([PY, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"], cwd=ROOT),
        "worker": subprocess.Popen(
            [
                PY,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                "default,hashing,matching,deliveries,imports",
                "--concurrency",
                "2",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
        ),
        "beat": subprocess.Popen(
            [PY, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO"], cwd=ROOT
        ),
    }
    print(
        f"\n  Removal Desk is running at http://127.0.0.1:{port}/\n"
        f"  Moderator desk: http://127.0.0.1:{port}/admin/\n"
        f"  API docs:       http://127.0.0.1:{port}/api/v1/docs/\n"
        "  Logins, the demo API keys and the claim link are printed above by seed_demo.\n"
        "  Ctrl-C stops everything.\n",
        flush=True,
    )

    return supervise(processes, grace_seconds=15, label="make run")


if __name__ == "__main__":
    sys.exit(main())
