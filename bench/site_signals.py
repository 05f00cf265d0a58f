"""Reading what a verified domain says: the strict parsers at the size cap, and the whole read
through the endpoint an artist presses ("Read my site"), against a web server on loopback.

Parsers: robots.txt, ai.txt and tdmrep.json of just under 512 KB (the cap), read strictly, against
a baseline measured in the same run that only decodes the bytes and splits them into lines (or
json.loads them): the ratio is what strictness costs. Endpoint: POST .../signals/fetch/ with the
three files at the cap, against the same POST with three one-line files, and with one file that
drips a byte every 0.2 s (the shared deadline, SITE_SIGNALS_TIMEOUT_SECONDS=2, must hold).
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .common import note, table
from .pgdb import bench_database

CAP = 512 * 1024
PASSWORD = "bench pass phrase 42"  # noqa: S105  (a throw-away account in a throw-away database)


def _fill(head: list[str], line: Callable[[int], list[str]], size: int) -> bytes:
    """Lines up to just under `size` bytes: head, then line(0), line(1), ..."""
    lines, used, n = list(head), sum(len(h) + 1 for h in head), 0
    while True:
        more = line(n)
        cost = sum(len(m) + 1 for m in more)
        if used + cost > size - 64:
            return ("\n".join(lines) + "\n").encode()
        lines += more
        used += cost
        n += 1


def _robots(size: int) -> bytes:
    """A portfolio site with a folder per year and series, each kept from three AI crawlers."""

    def group(n: int) -> list[str]:
        agents = ["", "User-agent: GPTBot", "User-agent: CCBot", "User-agent: Google-Extended"]
        return (agents if n % 50 == 0 else []) + [f"Disallow: /portfolio/{2000 + n % 26}/series-{n}/"]

    return _fill(["# one folder per year and series"], group, size)


def _ai_txt(size: int) -> bytes:
    def rule(n: int) -> list[str]:
        return [f"Disallow: /gallery/{n}/*.png" if n % 2 else f"Disallow: /gallery/{n}/"]

    return _fill(["# Spawning AI", "User-Agent: *"], rule, size)


def _tdmrep(size: int) -> bytes:
    per_rule = size // 1000 - 140
    rules = [
        {
            "location": f"/prints/{n}/*",
            "tdm-reservation": n % 2,
            "tdm-policy": f"https://art.example/policies/{n}?" + "p" * per_rule,
        }
        for n in range(1000)
    ]
    return json.dumps(rules).encode()


def _median(fn: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _naive_lines(body: bytes) -> int:
    return sum(1 for line in body.decode("utf-8").splitlines() if ":" in line)


@contextmanager
def _site(pages: dict[str, bytes], slow: set[str]) -> Iterator[int]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path)
            if body is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            kind = "application/json" if self.path.endswith(".json") else "text/plain"
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                if self.path in slow:
                    for i in range(len(body)):
                        self.wfile.write(body[i : i + 1])
                        self.wfile.flush()
                        time.sleep(0.2)
                else:
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def run(*, quick: bool = False) -> None:
    runs = 3 if quick else 7
    robots, ai_txt, tdmrep = _robots(CAP), _ai_txt(CAP), _tdmrep(CAP)
    with bench_database("site_signals"):
        from django.test import Client
        from django.test.utils import override_settings

        from requests_app import services
        from requests_app.models import SiteSignals
        from requests_app.site_signals import parse_ai_txt, parse_robots, parse_tdmrep

        rows = []
        for label, body, strict, naive in (
            ("robots.txt", robots, lambda b: parse_robots(b, host="art.example"), _naive_lines),
            ("ai.txt", ai_txt, lambda b: parse_ai_txt(b, host="art.example"), _naive_lines),
            ("tdmrep.json", tdmrep, lambda b: parse_tdmrep(b, host="art.example"), json.loads),
        ):
            reading = strict(body)
            assert not reading.fatal, reading.problems[:3]
            strict_s = _median(lambda body=body, strict=strict: strict(body), runs)
            naive_s = _median(lambda body=body, naive=naive: naive(body), runs)
            rows.append(
                [
                    label,
                    f"{len(body) / 1024:,.0f} KB",
                    f"{len(reading.scope):,}",
                    f"{strict_s * 1000:,.0f} ms",
                    f"{naive_s * 1000:,.1f} ms",
                    f"{strict_s / naive_s:,.0f}x",
                ]
            )
        print("## Site signals: the strict parsers at the 512 KB cap\n")
        print(
            table(
                ["file", "size", "scope lines kept", "strict read", "decode + split (baseline)", "ratio"],
                rows,
            )
        )
        print()

        settings = {
            "PROOF_FETCH_SCHEME": "http",
            "OUTBOUND_ALLOW_LOOPBACK": True,
            "SITE_SIGNALS_MIN_SECONDS": 0,
            "SITE_SIGNALS_TIMEOUT_SECONDS": 2,
            "ALLOWED_HOSTS": ["testserver"],
            "PROOF_CHECK_MIN_SECONDS": 0,
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        }
        small = {
            "/robots.txt": b"User-agent: GPTBot\nDisallow: /\n",
            "/ai.txt": b"User-Agent: *\nDisallow: /\n",
            "/.well-known/tdmrep.json": b'[{"location": "/", "tdm-reservation": 1}]',
        }
        capped = {"/robots.txt": robots, "/ai.txt": ai_txt, "/.well-known/tdmrep.json": tdmrep}
        cases: tuple[tuple[str, dict[str, bytes], set[str]], ...] = (
            ("three one-line files (baseline)", small, set()),
            ("three files at the 512 KB cap", capped, set()),
            (
                "robots.txt dripping a byte every 0.2 s",
                {**small, "/robots.txt": robots[:2000]},
                {"/robots.txt"},
            ),
        )
        rows = []
        baseline = 0.0
        with override_settings(**settings):
            profile = services.artist_signup(
                email="bench@art.example", password=PASSWORD, display_name="Bench"
            )
            client = Client()
            client.force_login(profile.user)
            for label, pages, slow in cases:
                pages = dict(pages)  # the proof's token joins them below
                with _site(pages, slow) as port:
                    proof = services.proof_start(
                        artist=profile, method="well_known", target=f"localhost:{port}"
                    )
                    pages["/.well-known/removal-desk.txt"] = proof.token.encode()
                    assert services.proof_check(proof=proof).status == "verified"
                    url = f"/identity/proofs/{proof.pk}/signals/fetch/"

                    def press(url: str = url) -> None:
                        response = client.post(url)
                        assert response.status_code == 302, response.status_code

                    note(f"site_signals: {label}")
                    seconds = _median(press, 3 if slow else runs)
                    record = SiteSignals.objects.get(site=proof.target)
                    statuses = ", ".join(f"{k} {v['status']}" for k, v in record.files.items())
                    baseline = baseline or seconds
                    rows.append([label, f"{seconds * 1000:,.0f} ms", f"{seconds / baseline:,.1f}x", statuses])
        print('## Site signals: "Read my site" end to end (POST through Django, loopback server)\n')
        print(table(["files served", "median per press", "ratio", "what the page says"], rows))
