"""Helpers shared by test modules (not fixtures: those live in conftest files).

Import them from here: `from tests.helpers import assert_error, photo_bytes`.
"""

from __future__ import annotations

import functools
import html
import io
import re
import socket
import time
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dnslib import QTYPE, RCODE, RR, TXT
from dnslib.server import BaseResolver, DNSLogger, DNSServer
from PIL import Image

from tests.loopback import QuietHandler, loopback_server

ROOT = Path(__file__).resolve().parent.parent
PHOTOS = Path(__file__).resolve().parent / "fixtures" / "photos"
# The photos the `dataset` fixture of tests/requests_app holds a copy of
DATASET_PHOTOS = ("chelsea.png", "coffee.png", "astronaut.png", "rocket.jpg", "horse.png")


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


@contextmanager
def broker_queue(name: str) -> Iterator[Callable[[], list[tuple[str, tuple[Any, ...]]]]]:
    """The real broker's queue `name`, emptied first; call the result to take what was sent since.

    Each message as (task name, args), read and acknowledged through kombu as a worker would
    (no worker runs, so nothing else takes them).
    """
    from celery import current_app
    from kombu import Exchange, Queue

    with current_app.connection_for_read() as connection:
        queue = Queue(name, Exchange(name), routing_key=name)(connection.default_channel)
        queue.declare()

        def take() -> list[tuple[str, tuple[Any, ...]]]:
            sent = []
            while (message := queue.get(accept=["json"])) is not None:
                message.ack()
                args, _kwargs, _embed = message.decode()
                sent.append((message.headers["task"], tuple(args)))
            return sent

        take()
        yield take


@functools.cache
def _c2pa_signer_pems() -> tuple[bytes, bytes]:
    """A certificate chain (a test CA and its ES256 signer, made here) and the signer's key, PEM."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    def name(common: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, common),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Tests"),
            ]
        )

    def usage(*, ca: bool) -> x509.KeyUsage:
        return x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
            encipher_only=False, decipher_only=False,
        )  # fmt: skip

    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())

    def certificate(subject: str, public: Any, *, ca: bool) -> x509.CertificateBuilder:
        built = (
            x509.CertificateBuilder()
            .subject_name(name(subject))
            .issuer_name(name("Removal Desk test CA"))
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(usage(ca=ca), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        )
        if not ca:  # C2PA's signer profile: an end-entity certificate for signing documents
            built = built.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
            ).add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
        return built

    root = certificate("Removal Desk test CA", ca_key.public_key(), ca=True).sign(ca_key, hashes.SHA256())
    leaf = certificate("Test signer", key.public_key(), ca=False).sign(ca_key, hashes.SHA256())
    chain = leaf.public_bytes(serialization.Encoding.PEM) + root.public_bytes(serialization.Encoding.PEM)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return chain, private


def c2pa_signed(data: bytes, mime: str, entries: dict[str, Any]) -> bytes:
    """`data` with a C2PA manifest signed by a test certificate made here, holding a CAWG
    training-and-data-mining assertion with `entries` ({"cawg.ai_training": {"use": ...}})."""
    import json

    import c2pa

    chain, key = _c2pa_signer_pems()
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(b"es256", chain, key, None))
    manifest = {
        "claim_generator_info": [{"name": "removal-desk-tests", "version": "1"}],
        "assertions": [
            {
                "label": "c2pa.actions",
                "data": {
                    "actions": [
                        {
                            "action": "c2pa.created",
                            "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture",
                        }
                    ]
                },
            },
            {"label": "cawg.training-mining", "data": {"entries": entries}},
        ],
    }
    out = io.BytesIO()
    try:
        c2pa.Builder(json.dumps(manifest)).sign(signer, mime, io.BytesIO(data), out)
    finally:
        signer.close()
    return out.getvalue()


def photo(name: str) -> Image.Image:
    return Image.open(PHOTOS / name)


def image_bytes(image: Image.Image, fmt: str = "PNG", **save_args: Any) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    image.save(out, fmt, **save_args)
    return out.getvalue()


def photo_bytes(name: str, fmt: str = "PNG", **save_args: Any) -> bytes:
    """A sample photo encoded as `fmt`: encoded once per run (bytes are immutable), since
    encoding a 512-pixel PNG costs about 80 ms and the suite asks for the same few hundreds of times."""
    return _encoded_photo(name, fmt, tuple(sorted(save_args.items())))


@functools.cache
def _encoded_photo(name: str, fmt: str, save_args: tuple[tuple[str, Any], ...]) -> bytes:
    return image_bytes(photo(name), fmt, **dict(save_args))


def database_url(settings_dict: dict[str, Any]) -> str:
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    user = settings_dict.get("USER") or "postgres"
    password = settings_dict.get("PASSWORD") or ""
    auth = f"{user}:{password}@" if password else f"{user}@"
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


# --- the admin --------------------------------------------------------------

CHANGELIST = "/admin/requests_app/removalrequest/"  # the moderators' queue (tests/requests_app/admin)


def logged_in(user: Any) -> Any:
    """A test client signed in as `user` (a User, or an ArtistProfile: its user)."""
    from django.test import Client

    client = Client()
    client.force_login(getattr(user, "user", user))
    return client


def messages_of(response: Any) -> list[str]:
    """The messages the response's request left for the next page."""
    from django.contrib.messages import get_messages

    return [str(m) for m in get_messages(response.wsgi_request)]


def change_url(ticket: Any) -> str:
    """The desk page of one request."""
    from django.urls import reverse

    return reverse("admin:requests_app_removalrequest_change", args=[ticket.pk])


def decide_url(ticket: Any) -> str:
    from django.urls import reverse

    return reverse("admin:requests_app_removalrequest_decide", args=[ticket.pk])


def note_url(ticket: Any) -> str:
    from django.urls import reverse

    return reverse("admin:requests_app_removalrequest_note", args=[ticket.pk])


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


def published_removals(dataset: Any, n: int, ref: str = "RR-2026-000001") -> list[Any]:
    """`record_removals`, then marked delivered as a hand-over would: removals in force, which
    anyone may dispute (a pending one is not published yet)."""
    from registry import services
    from registry.models import Removal

    removals = record_removals(dataset, n, ref)
    services.removals_mark_delivered(removals=removals)
    return list(
        Removal.objects.filter(pk__in=[r.pk for r in removals]).select_related("dataset").order_by("pk")
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


# --- artists and their requests ---------------------------------------------

ARTIST_PASSWORD = "correct horse battery staple"  # make_artist's


def make_artist(email: str, *, verified: bool = True, name: str = "") -> Any:
    """An artist account (an ArtistProfile), its email address verified with the emailed link's token."""
    from requests_app import services

    profile = services.artist_signup(
        email=email, password=ARTIST_PASSWORD, display_name=name or email.split("@")[0]
    )
    if verified:
        token = services.email_verification_link(profile).rstrip("/").rsplit("/", 1)[-1]
        services.email_verify(token=token)
        profile.refresh_from_db()
    return profile


def make_request(artist: Any, photo_name: str, *, submit: bool = True, fmt: str = "PNG") -> Any:
    """A request with one work (the photo, saved as `fmt`), hashed and matched; submitted with its
    copy confirmed. The same photo in another format is other bytes: not a duplicate in a portfolio."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from requests_app import services

    ticket = services.request_create(artist=artist, basis="copyright", description=f"my {photo_name}")
    added = services.works_add(
        ticket=ticket, actor=artist.user, files=[SimpleUploadedFile(photo_name, photo_bytes(photo_name, fmt))]
    )
    assert services.work_hash_and_match(work_id=added.works[0].pk) == "done"
    if submit:
        confirm = list(added.works[0].matches.values_list("pk", flat=True))
        assert confirm, f"{photo_name} should match its copy"
        services.matches_decide(ticket=ticket, actor=artist.user, confirm=confirm)
        services.request_submit(ticket=ticket, actor=artist.user, signed_name=artist.display_name)
    ticket.refresh_from_db()
    return ticket


PDF = b"%PDF-1.4\n% passport scan of Ada Lovelace\n%%EOF\n"  # an identity document


def verify_domain(artist: Any, domain: str = "img.example") -> None:
    """The artist proved `domain` (a verified DNS TXT proof); their verification level follows."""
    from requests_app import services
    from requests_app.models import IdentityProof, ProofMethod, ProofStatus

    IdentityProof.objects.create(
        artist=artist, method=ProofMethod.DNS_TXT, target=domain, status=ProofStatus.VERIFIED
    )
    services.profile_recompute_level(profile=artist)


def listed_ids(response: Any) -> list[int]:
    """The primary keys of the rows of an admin change list, in order."""
    return sorted(obj.pk for obj in response.context["cl"].result_list)


def hashed_draft(artist: Any, *names: str) -> Any:
    """A draft request holding these sample photos, each hashed and matched."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from requests_app import services

    ticket = services.request_create(artist=artist, basis="copyright")
    added = services.works_add(
        ticket=ticket,
        actor=artist.user,
        files=[SimpleUploadedFile(name, photo_bytes(name)) for name in names],
    )
    for work in added.works:
        assert services.work_hash_and_match(work_id=work.pk) == "done"
    return ticket


def unreadable_draft(artist: Any, name: str = "chelsea.png") -> Any:
    """A draft request whose one work (the photo `name`, not yet in the artist's portfolio: the same
    content twice is one work) was stored and then could not be read (its hashing failed)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from requests_app import services

    ticket = services.request_create(artist=artist, basis="copyright")
    upload = SimpleUploadedFile(name, photo_bytes(name))
    [work] = services.works_add(ticket=ticket, actor=artist.user, files=[upload]).works
    with work.file.open("wb") as handle:
        handle.write(b"garbage")
    assert services.work_hash(work_id=work.pk) == "failed"
    return ticket


def confirm_all(ticket: Any, artist: Any) -> None:
    """The artist says "mine" to every match of the request."""
    from requests_app import services
    from requests_app.models import Match

    ids = list(Match.objects.filter(work__request=ticket).values_list("pk", flat=True))
    services.matches_decide(ticket=ticket, actor=artist.user, confirm=ids)


def detail(ticket: Any) -> str:
    """The artist's page of a request."""
    from django.urls import reverse

    return reverse("request_detail", args=[ticket.reference])


def dataset_with_copy(maintainer: Any, *, slug: str, name: str, url: str, of: str = "chelsea.png") -> Any:
    """A registered data set holding a resized, re-compressed copy of one sample photograph."""
    from registry import services as registry_services
    from registry.hashing import code_to_hex, compute_hashes

    dataset = registry_services.dataset_create(maintainer=maintainer.maintainer, slug=slug, name=name)
    copy = photo(of).convert("RGB").resize((300, 200))
    hashes = compute_hashes(image_bytes(copy, "JPEG", quality=60), max_pixels=10**8)
    result = registry_services.items_upsert(
        dataset=dataset, rows=[{"external_id": "1", "url": url, "phash": code_to_hex(hashes.phash)}]
    )
    assert result.created == 1
    return dataset


def item_row(external_id: str, image_data: bytes) -> dict[str, str]:
    """A data set item (an API row) with the three hashes of `image_data`."""
    from registry.hashing import compute_hashes

    return hashes_row(external_id, compute_hashes(image_data, max_pixels=10**8))


def hashes_row(external_id: str, hashes: Any, *, url: str = "") -> dict[str, str]:
    """A data set item (an API row) with the three hashes of registry.hashing.compute_hashes."""
    from registry.hashing import code_to_hex, pdq_to_hex

    return {
        "external_id": external_id,
        "url": url or f"https://i.example/{external_id}.jpg",
        "phash": code_to_hex(hashes.phash),
        "dhash": code_to_hex(hashes.dhash),
        "pdq": pdq_to_hex(hashes.pdq),
    }


def french_client(profile: Any = None) -> Any:
    """A browser whose language switcher was set to French (the cookie set_language writes), signed
    in as `profile` if given (an ArtistProfile, or a User such as a moderator)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    if profile is not None:
        client.force_login(getattr(profile, "user", profile))
    return client


# --- uploads ----------------------------------------------------------------


def make_zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def zip_upload(members: dict[str, bytes], name: str = "works.zip") -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, make_zip(members), content_type="application/zip")


def file_errors(content: str) -> dict[str, str]:
    """{file name: message} from the page's list of files that were not added."""
    pairs = re.findall(
        r'<span class="file-name">(.*?)</span>: <span class="file-error">(.*?)</span>', content, re.S
    )
    return {html.unescape(name): html.unescape(message) for name, message in pairs}


# --- real servers on loopback for the proofs: DNS (dnslib), HTTP (http.server), a silent one ---


@dataclass
class Zone(BaseResolver):
    """TXT records by name ("art.example." -> ["v=..."]); other names are NXDOMAIN."""

    txt: dict[str, list[str]] = field(default_factory=dict)
    queries: list[str] = field(default_factory=list)
    servfail: bool = False  # a resolver whose upstream is gone answers SERVFAIL to everything

    def resolve(self, request: Any, handler: Any) -> Any:
        reply = request.reply()
        name = str(request.q.qname)
        self.queries.append(name)
        if self.servfail:
            reply.header.rcode = RCODE.SERVFAIL
        elif name not in self.txt:
            reply.header.rcode = RCODE.NXDOMAIN
        elif request.q.qtype == QTYPE.TXT:
            for value in self.txt[name]:
                reply.add_answer(RR(name, QTYPE.TXT, rdata=TXT(value), ttl=60))
        return reply


@contextmanager
def dns_server() -> Iterator[tuple[Zone, str]]:
    zone = Zone()
    server = DNSServer(zone, port=0, address="127.0.0.1", logger=DNSLogger("-request,-reply,-truncated"))
    server.start_thread()
    host, port = server.server.server_address
    try:
        yield zone, f"{host}:{port}"
    finally:
        server.stop()
        server.server.server_close()


@dataclass
class Site:
    """Pages by path: (status, headers, body)."""

    pages: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    hits: list[str] = field(default_factory=list)
    port: int = 0
    # Paths whose body is sent one byte at a time, this many seconds apart (a slow server).
    slow: dict[str, float] = field(default_factory=dict)

    @property
    def domain(self) -> str:
        return f"localhost:{self.port}"

    def url(self, path: str) -> str:
        return f"http://localhost:{self.port}{path}"

    def page(self, path: str, body: str, status: int = 200, **headers: str) -> None:
        self.pages[path] = (status, {"Content-Type": "text/html; charset=utf-8", **headers}, body.encode())


@contextmanager
def web_server() -> Iterator[Site]:
    site = Site()

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            site.hits.append(self.path)
            status, headers, body = site.pages.get(self.path, (404, {}, b"not found"))
            self.start(status, headers, len(body))
            pause = site.slow.get(self.path)
            try:
                if pause is None:
                    self.wfile.write(body)
                    return
                for index in range(len(body)):
                    self.wfile.write(body[index : index + 1])
                    self.wfile.flush()
                    time.sleep(pause)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up on a slow or oversized answer, as it should

    with loopback_server(Handler) as port:
        site.port = port
        yield site


@contextmanager
def silent_server() -> Iterator[int]:
    """Accepts connections (the kernel's backlog does) and never answers a byte."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def closed_udp_port() -> int:
    """A loopback UDP port nobody listens on: a DNS resolver that cannot be reached."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return int(port)


# --- the browser (Playwright) -------------------------------------------------

PHONE = {"width": 375, "height": 800}


def mail_link(outbox: list[Any], pattern: str) -> str:
    """The path of the first link matching `pattern` in the mails sent so far."""
    for message in outbox:
        found = re.search(rf"https?://[^/\s]+({pattern}\S*)", message.body)
        if found:
            return found.group(1)
    raise AssertionError(f"no mail with a link matching {pattern}: {[m.subject for m in outbox]}")


def log_in(pages: Any, email: str, password: str) -> None:
    """Log in through the browser's login page; lands on the artist's requests."""
    from playwright.sync_api import expect

    page = pages.goto("/login/")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("main").get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My requests")


# Each table against the nearest box that holds it, and each header against the window.
MEASURE = """() => {
  const problems = [];
  for (const table of document.querySelectorAll("#content table")) {
    const t = table.getBoundingClientRect();
    if (!t.width) continue;
    const box = table.parentElement.closest("div, td, section, fieldset, form");
    const b = box.getBoundingClientRect();
    if (t.right > b.right + 1 || t.left < b.left - 1) {
      const name = table.id || table.className || box.id || box.className;
      problems.push(`table ${name} spans ${Math.round(t.left)}-${Math.round(t.right)} px ` +
                    `in a box of ${Math.round(b.left)}-${Math.round(b.right)} px`);
    }
  }
  for (const th of document.querySelectorAll("#content thead th")) {
    const r = th.getBoundingClientRect();
    if (!r.width) continue;
    if (r.right > window.innerWidth + 1 || r.left < -1) {
      problems.push(`header "${th.innerText.trim()}" at ${Math.round(r.left)}-${Math.round(r.right)} px ` +
                    `of a ${window.innerWidth} px window`);
    }
  }
  const sideways = document.documentElement.scrollWidth - window.innerWidth;
  if (sideways > 1) problems.push(`the page scrolls sideways by ${sideways} px`);
  return problems;
}"""


def fits(page: Any) -> list[str]:
    """What on the page overflows its box or the window (empty when everything fits)."""
    return list(page.evaluate(MEASURE))


def jpeg_hashes(image: Image.Image, **save: Any) -> Any:
    """The hashes the hasher gives `image` saved as a JPEG (`quality=...` and other save options)."""
    from registry.hashing import compute_hashes

    return compute_hashes(image_bytes(image, "JPEG", **save), max_pixels=10**8)


# --- a big portfolio ----------------------------------------------------------


def big_portfolio(
    artist: Any, n: int, *, dataset: Any = None, copies: int = 0, ticket: Any = None
) -> list[int]:
    """`n` works of `artist` (in `ticket`, or in no request) written in bulk, as the uploader and
    the hasher would leave them: one stored picture shared by all, every third one named
    "cat-...", works ending in 7 still being checked, in 9 failed, the rest hashed; each hashed
    work has `copies` matches in `dataset` (new items of it). Returns the works' ids in order."""
    from django.core.files.base import ContentFile

    from registry.models import DatasetItem, url_key
    from requests_app.models import HashState, Match, Work
    from requests_app.storage import private_storage

    content = photo_bytes("chelsea.png")
    name = private_storage.save("works/bulk/chelsea.png", ContentFile(content))
    img = photo("chelsea.png")
    states = {7: HashState.PENDING, 9: HashState.FAILED}
    works = Work.objects.bulk_create(
        [
            Work(
                artist=artist,
                request=ticket,
                file=name,
                original_name=f"{'cat' if i % 3 == 0 else 'work'}-{i:05d}.png",
                sha256=f"{i:064x}",
                size_bytes=len(content),
                format="PNG",
                width=img.width,
                height=img.height,
                phash=None if i % 10 in states else i,
                hash_state=states.get(i % 10, HashState.DONE),
            )
            for i in range(n)
        ],
        batch_size=2000,
    )
    if dataset is not None and copies:
        hashed = [w for w in works if w.hash_state == HashState.DONE]
        items = DatasetItem.objects.bulk_create(
            [
                DatasetItem(
                    dataset=dataset,
                    external_id=f"bulk-{w.pk}-{c}",
                    url=f"https://bulk.example/{w.pk}/{c}.jpg",
                    url_key=url_key(f"https://bulk.example/{w.pk}/{c}.jpg"),
                    phash=w.phash,
                )
                for w in hashed
                for c in range(copies)
            ],
            batch_size=2000,
        )
        Match.objects.bulk_create(
            [Match(work=hashed[k // copies], item=item, distance=k % 5) for k, item in enumerate(items)],
            batch_size=2000,
        )
    return [w.pk for w in works]


def big_request(
    artist: Any,
    datasets: Any,
    *,
    works: int,
    per_work: int,
    host: str = "img.example",
    submit: bool = True,
    seed: int = 1,
) -> Any:
    """A request of `works` hashed works, each with `per_work` confirmed matches spread over
    `datasets` in turn (item i of a work in datasets[i % len]), at https://<host>/<ref>/<work>/<i>.jpg;
    submitted unless `submit` is false. Rows are bulk-inserted: building 600 works through the
    upload and the hasher would take minutes and is tested elsewhere."""
    import hashlib
    import random

    from registry import services as registry_services
    from registry.hashing import code_to_hex
    from requests_app import services
    from requests_app.models import HashState, Match, MatchConfidence, MatchState, Work

    rng = random.Random(seed)
    ticket = services.request_create(artist=artist, basis="copyright")
    tag = f"r{ticket.pk}"
    Work.objects.bulk_create(
        Work(
            artist=artist,
            request=ticket,
            file=f"works/big/{tag}-{n}.png",
            original_name=f"{tag}-work-{n}.png",
            sha256=hashlib.sha256(f"{tag}-{n}".encode()).hexdigest(),
            size_bytes=100_000,
            format="PNG",
            width=1200,
            height=900,
            phash=rng.getrandbits(63),
            dhash=rng.getrandbits(63),
            pdq_quality=rng.choice([None, 40, 95]),
            hash_state=HashState.DONE,
        )
        for n in range(works)
    )
    work_ids = list(ticket.works.order_by("pk").values_list("pk", flat=True))
    for dataset_index, dataset in enumerate(datasets):
        rows = [
            {
                "external_id": f"{tag}-{n}-{i}",
                "url": f"https://{host}/{tag}/{n}/{i}.jpg",
                "phash": code_to_hex(rng.getrandbits(63)),
            }
            for n in range(works)
            for i in range(per_work)
            if i % len(datasets) == dataset_index
        ]
        for start in range(0, len(rows), 5000):
            registry_services.items_upsert(dataset=dataset, rows=rows[start : start + 5000])
    items = {
        external_id: pk
        for dataset in datasets
        for external_id, pk in dataset.items.filter(external_id__startswith=f"{tag}-").values_list(
            "external_id", "pk"
        )
    }
    Match.objects.bulk_create(
        Match(
            work_id=work_id,
            item_id=items[f"{tag}-{n}-{i}"],
            distance=2,
            confidence=MatchConfidence.HIGH,
            state=MatchState.CONFIRMED,
        )
        for n, work_id in enumerate(work_ids)
        for i in range(per_work)
    )
    if submit:
        services.request_submit(ticket=ticket, actor=artist.user, signed_name=artist.display_name)
    ticket.refresh_from_db()
    return ticket


def distinct_png(seed: int, size: int = 48) -> bytes:
    """A small PNG of random colour blocks, different for every seed (portfolio uploads of many works)."""
    import random

    rng = random.Random(seed)
    image = Image.new("RGB", (8, 8))
    image.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(64)])
    return image_bytes(image.resize((size, size), Image.Resampling.NEAREST), "PNG")


def upload_send(upload: Any, data: bytes, *, chunk: int) -> Any:
    """Send `data` to a portfolio upload in chunks through the service, as the page does; the last answer."""
    from requests_app import services

    for offset in range(0, len(data), chunk):
        upload = services.upload_chunk_write(upload=upload, offset=offset, data=data[offset : offset + chunk])
    return upload


def forget_refused_uploads(pages: Any, *, network_errors: bool = False) -> int:
    """Drop from a browser visitor's problems the console lines chromium writes for answers the
    upload protocol gives on purpose (a refused file: 400 or 422; a chunk that does not fit: 409)
    and, with `network_errors`, for requests a test cut off itself. Returns how many were dropped."""
    statuses = ("status of 400", "status of 409", "status of 422")
    expected = [
        problem
        for problem in pages.problems
        if "/portfolio/uploads/" in problem
        and "Failed to load resource" in problem
        and (any(s in problem for s in statuses) or (network_errors and "net::ERR_" in problem))
    ]
    for problem in expected:
        pages.problems.remove(problem)
    return len(expected)


# --- partners ---------------------------------------------------------------

PARTNER_HOST = "art.example"  # the `partner` fixture's verified domain (with its subdomains)


def partner_row(i: int, **overrides: Any) -> dict[str, Any]:
    """A valid filing row for the `partner` fixture: creator c<i>, work <i> on its domain, hashes."""
    row: dict[str, Any] = {
        "creator": {"id": f"c{i}", "profile_url": f"https://{PARTNER_HOST}/u/c{i}"},
        "work_url": f"https://cdn.{PARTNER_HOST}/w/{i}.jpg",
        "phash": f"{(i * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF:016x}",
        "basis": "copyright",
        "choice": "remove",
    }
    row.update(overrides)
    return row


def photo_url(name: str) -> str:
    """Where the partners tests' `photo_dataset` item of a sample photo sits: on the partner's CDN."""
    return f"https://cdn.{PARTNER_HOST}/photos/{name}"


# --- the property fuzzer ----------------------------------------------------

FUZZ_EXAMPLES = 25


def schemathesis_fuzz(
    operation: Any,
    *,
    headers: dict[str, str],
    path_parameters: dict[str, str],
    known_good: dict[str, Any] | None = None,
    known_good_headers: dict[str, dict[str, str]] | None = None,
) -> list[int]:
    """Schemathesis's checks (no server error, the documented schema and content type) on valid and
    invalid generated requests to one operation; the status codes seen. `known_good`: a body sent
    once more, by operation label, when no generated request succeeded (with the operation's
    `known_good_headers`, if any)."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from schemathesis import GenerationMode
    from schemathesis.checks import (
        content_type_conformance,
        not_a_server_error,
        response_schema_conformance,
    )

    checks = [not_a_server_error, response_schema_conformance, content_type_conformance]
    statuses: list[int] = []
    # Valid requests and invalid ones (wrong types, missing fields, hostile strings).
    strategy = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE, path_parameters=path_parameters),
        operation.as_strategy(GenerationMode.NEGATIVE, path_parameters=path_parameters),
    )

    @given(case=strategy)
    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        response = case.call_and_validate(headers=headers, checks=checks)
        statuses.append(response.status_code)

    run()
    known_good = known_good or {}
    if operation.label in known_good and not any(code < 300 for code in statuses):
        body = known_good[operation.label]
        media = {"media_type": "application/octet-stream"} if isinstance(body, bytes) else {}
        case = operation.Case(body=body, path_parameters=path_parameters, **media)
        extra = (known_good_headers or {}).get(operation.label, {})
        statuses.append(case.call_and_validate(headers={**headers, **extra}, checks=checks).status_code)
    return statuses
