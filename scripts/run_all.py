"""`make run`: migrate, load the demo data, then run the site, a Celery worker and beat.

With no environment set this uses SQLite and Celery's filesystem broker under
./var, so nothing but Python is needed. Ctrl-C stops all three processes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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
        "  Logins and the demo API key are printed above by seed_demo. Ctrl-C stops everything.\n",
        flush=True,
    )

    def stop(*_: object) -> None:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()

    signal.signal(signal.SIGTERM, lambda *_: (stop(), sys.exit(0)))
    try:
        while True:
            for name, process in processes.items():
                if process.poll() is not None:
                    print(f"{name} exited with code {process.returncode}; stopping the rest.", flush=True)
                    stop()
                    return process.returncode or 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nStopping…", flush=True)
        stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
