"""Running the project as `make run` does (SQLite, the filesystem broker) in processes of its own,
for the tests under tests/embedded: the suite's own settings are PostgreSQL and Redis."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
MANAGE = [sys.executable, "manage.py"]


def embedded_env(folder: Path, **extra: str) -> dict[str, str]:
    """The environment of a `make run` process whose database, broker and files live in `folder`."""
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY")
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "1",
            "VAR_DIR": str(folder),
            "MEDIA_ROOT": str(folder / "media"),
            "PRIVATE_MEDIA_ROOT": str(folder / "private"),
            "PYTHONPATH": str(ROOT),
            **extra,
        }
    )
    return env


def migrate(env: dict[str, str]) -> None:
    subprocess.run([*MANAGE, "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)


def script_result(folder: Path, script: str, **extra: str) -> dict[str, Any]:
    """Migrate a new SQLite database in `folder`, run `script` in `manage.py shell` and return what
    it printed after "RESULT" (JSON); a failing script fails the test with its traceback."""
    env = embedded_env(folder, **extra)
    migrate(env)
    done = subprocess.run([*MANAGE, "shell", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.rsplit("RESULT", 1)[1])
