"""Helpers shared by test modules (not fixtures: those live in conftest files).

Import them from here: `from tests.helpers import assert_error, photo_bytes`.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = Path(__file__).resolve().parent / "fixtures" / "photos"


def wait_until(predicate: Callable[[], Any], timeout: float = 60, what: str = "condition") -> Any:
    """Poll `predicate` until it returns something truthy (returned), or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


# --- images -----------------------------------------------------------------


def photo(name: str) -> Image.Image:
    return Image.open(PHOTOS / name)


def image_bytes(image: Image.Image, fmt: str = "PNG", **save_args: Any) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.save(out, fmt, **save_args)
    return out.getvalue()


def photo_bytes(name: str, fmt: str = "PNG", **save_args: Any) -> bytes:
    return image_bytes(photo(name), fmt, **save_args)


def database_url(settings_dict: dict[str, Any]) -> str:
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    user = settings_dict.get("USER") or "postgres"
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else f"{user}@"
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


# --- the admin --------------------------------------------------------------


def logged_in(user: Any) -> Any:
    """A test client signed in as `user`."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


# --- the maintainer API -----------------------------------------------------


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The API's error envelope: `{"error": {"code", "message", "details"}}` with this status and code."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    return body["error"]


def record_removals(dataset: Any, n: int, ref: str = "RR-2026-000001") -> list[Any]:
    """`n` items in `dataset` and an approved removal of each, all from source `ref`."""
    from registry import services

    rows = [{"external_id": f"{ref}-{i}", "url": f"https://i.example/{ref}/{i}.jpg"} for i in range(n)]
    services.items_upsert(dataset=dataset, rows=rows)
    items = dataset.items.filter(external_id__startswith=ref).order_by("pk")
    return services.removals_record(
        source_ref=ref,
        reason="copyright",
        entries=[services.RemovalEntry(dataset=dataset, item=item) for item in items],
    )


CAT_PHASH = "b15fe6465121175e"


def removal_with_hash(maintainer: Any, slug: str = "d", phash: str = CAT_PHASH) -> Any:
    """A new data set `slug` of `maintainer` (a fixture's MaintainerWithKey) with one item,
    https://img.example/cat.jpg with this pHash, and an approved removal of it (returned)."""
    from registry import services

    dataset = services.dataset_create(maintainer=maintainer.maintainer, slug=slug, name=slug)
    services.items_upsert(
        dataset=dataset, rows=[{"external_id": "1", "url": "https://img.example/cat.jpg", "phash": phash}]
    )
    return services.removals_record(
        source_ref="RR-2026-000001",
        reason="copyright",
        entries=[services.RemovalEntry(dataset=dataset, item=dataset.items.get())],
    )[0]


# --- index imports ----------------------------------------------------------


def index_csv(n: int, *, bad_every: int = 0) -> bytes:
    """A CSV index file of `n` rows e0, e1, ... with a header row; with `bad_every`, every
    `bad_every`-th row (the first included) has a bad pHash."""
    lines = ["external_id,url,phash"]
    for i in range(n):
        phash = "nothex" if bad_every and i % bad_every == 0 else f"{i:016x}"
        lines.append(f"e{i},https://img.example/{i}.jpg,{phash}")
    return ("\n".join(lines) + "\n").encode()


def import_run_now(job: Any) -> Any:
    """Claim the import job and run it here, as the worker would; the finished job."""
    from registry import services

    claimed = services.import_claim(job.pk)
    assert claimed is not None
    return services.import_run(claimed)


# --- settings ---------------------------------------------------------------


def settings_from_env(env: dict[str, str], *names: str) -> dict[str, Any]:
    """The values of `names` in config.settings as a fresh process started with `env` reads them
    (on top of PATH alone: nothing else leaks in from the suite's own environment). Values are
    JSON, with anything JSON cannot hold as its str(). Raises CalledProcessError with the
    process's stderr when settings refuse the environment."""
    import json
    import os
    import subprocess
    import sys

    code = (
        "import json, sys\n"
        "from config import settings\n"
        "print(json.dumps({n: getattr(settings, n) for n in sys.argv[1:]}, default=str))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, *names],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(json.loads(out.stdout))
