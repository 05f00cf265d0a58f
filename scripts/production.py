"""The production set on one machine: gunicorn, one Celery worker per queue, and beat.

    DATABASE_URL=postgres://... CELERY_BROKER_URL=redis://... REDIS_URL=redis://... \
    SECRET_KEY=... ALLOWED_HOSTS=desk.example.org python scripts/production.py

Migrates, collects the static files (served by whitenoise), then runs every process in the
foreground and stops them all on Ctrl-C or SIGTERM; if one dies, the rest are stopped too, so
a process supervisor (systemd, a container runtime) restarts the set. On several machines run
the same commands separately: `gunicorn` on the web machines, `celery worker -Q <queue>` where
each queue's work belongs (see README), and exactly one `celery beat`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from supervise import supervise
from web_env import WEB_ENV

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable

# Queue -> worker processes (Celery --concurrency). Hashing is CPU bound; deliveries wait on
# the network; imports and beat's sweeps need little.
QUEUES = {"hashing": 2, "matching": 1, "deliveries": 4, "imports": 1, "default": 1}


def _refuse_embedded_defaults() -> str | None:
    database = os.environ.get("DATABASE_URL", "")
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not database.startswith(("postgres://", "postgresql://")):
        return "DATABASE_URL must name PostgreSQL (postgres://...): SQLite is for make run only."
    if not broker.startswith(("redis://", "rediss://")):
        return "CELERY_BROKER_URL must name Redis (redis://...): the filesystem broker is for make run only."
    if not os.environ.get("SECRET_KEY"):
        return "SECRET_KEY is not set: export a long random string."
    return None


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--bind", default=os.environ.get("BIND", "127.0.0.1:8000"))
    parser.add_argument(
        "--web-workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn processes"
    )
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn process")
    args = parser.parse_args()
    problem = _refuse_embedded_defaults()
    if problem:
        print(f"production: {problem}", file=sys.stderr)
        return 2
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    for command in (["migrate", "--noinput", "-v", "0"], ["collectstatic", "--noinput", "-v", "0"]):
        subprocess.run([PY, "manage.py", *command], cwd=ROOT, env=env, check=True)

    commands = {
        "web": [
            PY,
            "-m",
            "gunicorn",
            "config.wsgi",
            "--bind",
            args.bind,
            "--workers",
            str(args.web_workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(args.threads),
            "--timeout",
            "120",  # streamed exports of millions of rows take minutes, in chunks
            # Longer than any client or load balancer keeps an idle connection: otherwise a
            # request sent on a connection the server is closing is reset (seen in the load test).
            "--keep-alive",
            "75",
            "--graceful-timeout",
            "30",
            "--max-requests",
            "5000",  # recycle processes: bounded memory over weeks
            "--max-requests-jitter",
            "500",
            "--access-logfile",
            "-",
        ],
        **{
            f"worker-{queue}": [
                PY,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-Q",
                queue,
                "-n",
                f"{queue}@%h",
                "--concurrency",
                str(concurrency),
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
            ]
            for queue, concurrency in QUEUES.items()
        },
        "beat": [PY, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO"],
    }
    # The web processes keep their database connections and large buffers (scripts/web_env.py).
    web_env = {**env, **{name: os.environ.get(name, value) for name, value in WEB_ENV.items()}}
    processes = {
        name: subprocess.Popen(cmd, cwd=ROOT, env=web_env if name == "web" else env)
        for name, cmd in commands.items()
    }
    print(f"production: serving on http://{args.bind}/ (health: /health/); Ctrl-C stops", flush=True)

    return supervise(processes, grace_seconds=30, label="production")


if __name__ == "__main__":
    sys.exit(main())
