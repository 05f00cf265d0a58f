"""200 works uploaded into one request under `make run`: the embedded default (SQLite + Celery's
filesystem broker), as an artist uses it.

Starts `scripts/run_all.py` (migrate, seed_demo, then the site, one worker of concurrency 2 and
beat) on a fresh VAR_DIR in a temporary folder and a free port, with DATABASE_URL and
CELERY_BROKER_URL unset. Logs in over HTTP as the demo artist, creates a request (POST
/requests/new/ with js_upload), sends one POST per file to the one-file upload URL it answers,
two at a time (the page's first uploader did this; the page now sends chunks, see
bench/portfolio_upload.py), and polls the request's status.json (what the page
polls) until every work is hashed and matched. The images are 200 distinct JPEGs of 1600x1200
made from the sample photos (crop, turn, tint, per-image noise), generated before the clock
starts. Counted in the log of all three processes: tasks that failed ("raised unexpected"),
"database is locked" lines and retries.

    python -m bench upload_sqlite [--quick]      (--quick: 50 works)
"""

from __future__ import annotations

import http.cookiejar
import io
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .common import note, photo_paths, table
from .pgdb import ROOT, free_port

WORKS = 200
PAGE_CONCURRENCY = 2  # what the first page uploader sent at once
ARTIST = ("artist@demo.example", "demo-artist-pass")  # seed_demo's demo artist
DEADLINE_SECONDS = 240


def images(count: int) -> list[tuple[str, bytes]]:
    """`count` distinct 1600x1200 JPEGs: each a different crop, turn, tint and noise of a sample photo."""
    from PIL import Image, ImageEnhance, ImageOps

    rng = random.Random(9)
    sources = [Image.open(p).convert("RGB") for p in photo_paths()]
    out: list[tuple[str, bytes]] = []
    for index in range(count):
        base = sources[index % len(sources)]
        w, h = base.size
        # A different window of the photo each time, then scaled up to 1600x1200.
        cw, ch = int(w * rng.uniform(0.55, 0.9)), int(h * rng.uniform(0.55, 0.9))
        x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
        image = base.crop((x, y, x + cw, y + ch))
        if index // len(sources) % 2:
            image = ImageOps.mirror(image)
        image = image.rotate(rng.uniform(-8, 8), resample=Image.Resampling.BILINEAR)
        image = ImageEnhance.Color(image).enhance(rng.uniform(0.5, 1.5))
        image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.8, 1.2))
        image = image.resize((1600, 1200), Image.Resampling.BILINEAR)
        noise = Image.effect_noise((1600, 1200), rng.uniform(8, 24)).convert("RGB")
        image = Image.blend(image, noise, 0.08)
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=88)
        out.append((f"work-{index:03d}.jpg", buffer.getvalue()))
    return out


class Site:
    """An HTTP client with a session cookie, as a browser holds it."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrftoken")

    def get(self, path: str, accept: str = "text/html") -> bytes:
        request = urllib.request.Request(self.base + path, headers={"Accept": accept})  # noqa: S310 (loopback http)
        with self.opener.open(request, timeout=60) as response:
            return bytes(response.read())

    def post(self, path: str, body: bytes, content_type: str, accept: str = "text/html") -> bytes:
        request = urllib.request.Request(  # noqa: S310 (our own site on loopback)
            self.base + path,
            data=body,
            method="POST",
            headers={
                "Content-Type": content_type,
                "Accept": accept,
                "X-CSRFToken": self.csrf(),
                "Referer": self.base + "/",
            },
        )
        with self.opener.open(request, timeout=120) as response:
            return bytes(response.read())

    def post_form(self, path: str, fields: dict[str, str], accept: str = "text/html") -> bytes:
        body = urllib.parse.urlencode(fields).encode()
        return self.post(path, body, "application/x-www-form-urlencoded", accept)

    def post_file(self, path: str, field: str, name: str, data: bytes) -> bytes:
        boundary = uuid.uuid4().hex
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{name}"\r\n'
                "Content-Type: image/jpeg\r\n\r\n"
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        return self.post(path, body, f"multipart/form-data; boundary={boundary}", "application/json")


def _wait_up(site: Site, log: Path, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"make run exited: {log.read_text()[-3000:]}")
        text = log.read_text(errors="replace")
        if " ready." in text:
            try:
                site.get("/login/")
                return
            except OSError:
                pass
        time.sleep(0.5)
    raise RuntimeError(f"make run did not come up: {log.read_text()[-3000:]}")


def _counts(text: str) -> dict[str, int]:
    return {
        "failed": len(re.findall(r"raised unexpected", text)),
        "locked": len(re.findall(r"database is locked", text, flags=re.IGNORECASE)),
        "retries": len(re.findall(r"transient database error", text)),
    }


def measure(count: int) -> dict[str, object]:
    files = images(count)
    note(f"upload_sqlite: {count} images generated ({sum(len(d) for _, d in files) / 1e6:.0f} MB)")
    port = free_port()
    var = Path(tempfile.mkdtemp(prefix="removal-desk-bench-run-"))
    log = var / "run.log"
    env = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY")
    }
    env.update({"VAR_DIR": str(var), "PORT": str(port), "DEBUG": "1"})
    for key in ("MEDIA_ROOT", "PRIVATE_MEDIA_ROOT"):
        env.pop(key, None)
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "scripts/run_all.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        site = Site(f"http://127.0.0.1:{port}")
        _wait_up(site, log, process)
        note(f"upload_sqlite: make run is up on port {port} (VAR_DIR {var})")
        site.post_form(
            "/login/", {"username": ARTIST[0], "password": ARTIST[1], "csrfmiddlewaretoken": site.csrf()}
        )
        site.get("/requests/new/")
        answer = json.loads(
            site.post_form(
                "/requests/new/",
                {"basis": "copyright", "js_upload": "on", "csrfmiddlewaretoken": site.csrf()},
                accept="application/json",
            )
        )
        if not answer.get("ok"):
            raise RuntimeError(f"could not create the request: {answer}")
        reference = answer["detail_url"].strip("/").split("/")[-1].split("#")[0]
        upload_url = answer["upload_url"]
        refused: list[str] = []
        lock = threading.Lock()

        def upload(item: tuple[str, bytes]) -> None:
            reply = json.loads(site.post_file(upload_url, "work", *item))
            if not reply.get("ok"):
                with lock:
                    refused.append(f"{item[0]}: {reply.get('error')}")

        start = time.monotonic()
        with ThreadPoolExecutor(PAGE_CONCURRENCY) as pool:
            list(pool.map(upload, files))
        uploaded = time.monotonic() - start
        note(f"upload_sqlite: {count} uploads answered in {uploaded:.1f} s ({len(refused)} refused)")
        states: dict[str, int] = {}
        done_at = None
        while time.monotonic() - start < DEADLINE_SECONDS:
            status = json.loads(site.get(f"/requests/{reference}/status.json", accept="application/json"))
            states = {}
            for work in status["works"]:
                states[work["hash_state"]] = states.get(work["hash_state"], 0) + 1
            if len(status["works"]) >= count - len(refused) and not states.get("pending"):
                done_at = time.monotonic() - start
                break
            time.sleep(0.5)
        return {
            "works": count,
            "refused": refused,
            "uploaded": uploaded,
            "done": done_at,
            "states": states,
            "matches": status["matches"],
            **_counts(log.read_text(errors="replace")),
            "log": str(log),
        }
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def run(quick: bool = False) -> None:
    count = 50 if quick else WORKS
    result = measure(count)
    done = result["done"]
    print(f"## Upload under `make run`: {count} works into one request (SQLite + filesystem broker)\n")
    print(__doc__.split("\n\n")[1].replace("\n", " ") + "\n")
    print(
        table(
            [
                "works",
                "uploads answered",
                "all hashed and matched",
                "states",
                "matches",
                "failed tasks",
                '"database is locked" lines',
                "retries",
            ],
            [
                [
                    count,
                    f"{result['uploaded']:.1f} s",
                    f"{done:.1f} s" if isinstance(done, float) else f"not within {DEADLINE_SECONDS} s",
                    ", ".join(f"{k} {v}" for k, v in sorted(result["states"].items())),  # type: ignore[attr-defined]
                    result["matches"],
                    result["failed"],
                    result["locked"],
                    result["retries"],
                ]
            ],
        )
    )
    if result["refused"]:
        print("\nRefused uploads: " + "; ".join(result["refused"]))  # type: ignore[arg-type]
    print("\nTarget: every work hashed and matched within 90 s of the first upload, 0 failed tasks.")
    note(f"upload_sqlite: log kept at {result['log']}")
