"""The load test's traffic (run by bench/load.py): maintainers, artists and moderators at once.

Every user reads its credentials from the JSON file named by LOAD_FIXTURE, written by
bench/load.py after it seeds the database. Requests go to the --host given (loopback only).
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from pathlib import Path

from locust import HttpUser, between, task

from bench.load import distinct_image

FIXTURE = json.loads(Path(os.environ["LOAD_FIXTURE"]).read_text())
_uploads = itertools.count()
_artists = itertools.cycle(FIXTURE["artists"])
_CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def _urls(rng: random.Random, n: int) -> list[str]:
    """Half removed (written by bench.pgdb.fill_removals), half absent."""
    total = FIXTURE["removals"]
    present = [
        f"https://img.example/set-{i % 4}/{i}.jpg" for i in (rng.randrange(total) for _ in range(n // 2))
    ]
    absent = [f"https://elsewhere.example/{rng.randrange(10**9)}.jpg" for _ in range(n - n // 2)]
    return present + absent


class Maintainer(HttpUser):
    """A data set team: polls its feeds, checks 10,000 URLs before a training run, old tools too."""

    weight = 4
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {FIXTURE['key']}"
        self.cursors: dict[str, str | None] = {}
        self.rng = random.Random()

    @task(6)
    def poll_feed(self) -> None:
        slug = f"set-{self.rng.randrange(4)}"
        cursor = self.cursors.get(slug)
        path = f"/api/v1/datasets/{slug}/removals/?limit=500" + (f"&cursor={cursor}" if cursor else "")
        with self.client.get(path, name="GET /api/v1/datasets/[slug]/removals/", catch_response=True) as r:
            if r.status_code == 200:
                self.cursors[slug] = r.json()["next"] or cursor
            else:
                r.failure(f"{r.status_code}")

    @task(2)
    def lookup_10000(self) -> None:
        self.client.post(
            "/api/v1/lookup/",
            json={"urls": _urls(self.rng, 10_000)},
            name="POST /api/v1/lookup/ (10,000 URLs)",
        )

    @task(1)
    def v2_query(self) -> None:
        body = "\n".join(_urls(self.rng, 10_000))
        self.client.post(
            "/api/v2/query/urls/",
            data=body.encode(),
            headers={"Authorization": f"API {FIXTURE['key']}", "Content-Type": "text/plain"},
            name="POST /api/v2/query/urls/ (10,000 URLs)",
        )


class Artist(HttpUser):
    """An artist following their request, and now and then adding a work to their draft."""

    weight = 3
    wait_time = between(2, 5)

    def on_start(self) -> None:
        self.me = next(_artists)
        page = self.client.get("/login/", name="GET /login/")
        token = _CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        self.client.post(
            "/login/",
            data={
                "username": self.me["email"],
                "password": FIXTURE["password"],
                "csrfmiddlewaretoken": token,
            },
            headers={"Referer": self.host + "/login/"},
            name="POST /login/",
        )

    @task(2)
    def home(self) -> None:
        self.client.get("/", name="GET /")

    @task(3)
    def requests_list(self) -> None:
        self.client.get("/requests/", name="GET /requests/")

    @task(4)
    def request_page(self) -> None:
        self.client.get(f"/requests/{self.me['draft']}/", name="GET /requests/[ref]/")
        self.client.get(f"/requests/{self.me['approved']}/", name="GET /requests/[ref]/")

    @task(4)
    def status(self) -> None:
        self.client.get(f"/requests/{self.me['draft']}/status.json", name="GET /requests/[ref]/status.json")

    @task(1)
    def upload(self) -> None:
        n = next(_uploads)
        content = distinct_image(f"upload-{os.getpid()}-{n}")
        self.client.post(
            f"/requests/{self.me['draft']}/works/one/",
            files={"work": (f"upload-{n}.jpg", content, "image/jpeg")},
            headers={"X-CSRFToken": self.client.cookies.get("csrftoken", ""), "Referer": self.host + "/"},
            name="POST /requests/[ref]/works/one/ (upload)",
        )


class Moderator(HttpUser):
    """A moderator working the desk's queue."""

    weight = 1
    wait_time = between(2, 5)

    def on_start(self) -> None:
        page = self.client.get("/admin/login/", name="GET /admin/login/")
        token = _CSRF.search(page.text).group(1)  # type: ignore[union-attr]
        self.client.post(
            "/admin/login/?next=/admin/",
            data={
                "username": FIXTURE["moderator"],
                "password": FIXTURE["password"],
                "csrfmiddlewaretoken": token,
            },
            headers={"Referer": self.host + "/admin/login/"},
            name="POST /admin/login/",
        )
        self.rng = random.Random()

    @task(1)
    def index(self) -> None:
        self.client.get("/admin/", name="GET /admin/")

    @task(3)
    def queue(self) -> None:
        self.client.get("/admin/requests_app/removalrequest/?status__exact=submitted", name="GET desk queue")

    @task(3)
    def request_page(self) -> None:
        pk = self.rng.choice(FIXTURE["submitted_pks"])
        self.client.get(f"/admin/requests_app/removalrequest/{pk}/change/", name="GET desk request page")
