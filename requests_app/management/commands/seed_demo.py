"""`manage.py seed_demo`: people, maintainers, data sets, requests and a partner to click through.

Idempotent: every piece is looked up by its natural key first, so a second
run changes nothing. Every state change goes through the services, as a
real artist, moderator, maintainer or partner would make it.
"""

from __future__ import annotations

import io
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from PIL import Image, ImageDraw, ImageOps

from registry import services as registry_services
from registry.hashing import code_to_hex, compute_hashes
from registry.models import ApiKey, Dataset, Dispute, DisputeReason, Maintainer, Removal
from registry.preferences import Choice, Licence
from requests_app import services
from requests_app.models import ArtistProfile, Match, MatchState, ProofMethod, RemovalRequest
from requests_app.roles import MODERATOR_GROUP, ensure_moderator_group

PHOTOS = Path(settings.BASE_DIR) / "tests" / "fixtures" / "photos"

ADMIN = ("admin@demo.example", "demo-admin-pass")
MODERATOR = ("moderator@demo.example", "demo-moderator-pass")
ARTIST = ("artist@demo.example", "demo-artist-pass", "Demo Artist")
# A second artist who claims one of the demo artist's images: the desk shows the conflict.
RIVAL = ("rival@demo.example", "demo-rival-pass", "Rival Artist")
# The demo artist's verified domain: the photos data set's copies sit on it (evidence on the desk).
DEMO_DOMAIN = "images.demo.example"
MAINTAINER = ("Demo Maintainer", "ops@maintainer.demo.example")
ART_MAINTAINER = ("Demo Art Archive", "ops@art-archive.demo.example")
RANDOM_ITEMS = 40


@dataclass(frozen=True)
class DemoRequest:
    """One demo request: found again on later runs by its description."""

    description: str
    photos: tuple[str, ...]
    final: str  # draft, submitted, in_review, needs_info, approved, completed


DEMO_REQUESTS = (
    DemoRequest(
        "Demo: my astronaut portrait and horse study (draft).", ("astronaut.png", "horse.png"), "draft"
    ),
    DemoRequest("Demo: my camera photograph.", ("camera.png",), "submitted"),
    DemoRequest("Demo: my coins still life.", ("coins.png",), "in_review"),
    DemoRequest("Demo: my microscopy and retina images.", ("cell.png", "retina.jpg"), "approved"),
    DemoRequest("Demo: my clock in motion.", ("clock_motion.png",), "completed"),
    DemoRequest("Demo: my coffee cup photograph (needs information).", ("coffee.png",), "needs_info"),
)
# The rival claims the demo artist's camera photograph (submitted above): a conflict.
RIVAL_REQUEST = DemoRequest(
    "Demo: the camera photograph is mine (rival claim).", ("camera.png",), "needs_info"
)


def _jpeg(image: Image.Image, quality: int = 70) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=quality)
    return out.getvalue()


def _half(image: Image.Image) -> Image.Image:
    return image.convert("RGB").resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS)


def _with_banner(image: Image.Image) -> Image.Image:
    """A reposter's banner over the bottom 8%: global hashes mostly survive it."""
    copy = _half(image)
    draw = ImageDraw.Draw(copy)
    top = int(copy.height * 0.92)
    draw.rectangle((0, top, copy.width, copy.height), fill=(24, 24, 24))
    draw.text((6, top + 2), "reposted by demo", fill=(255, 255, 255))
    return copy


def _grey(image: Image.Image) -> Image.Image:
    return ImageOps.grayscale(image.convert("RGB"))


class Command(BaseCommand):
    help = "Load demo people, maintainers, data sets and requests (safe to run again)."

    def handle(self, *args: Any, **options: Any) -> None:
        ensure_moderator_group()
        self._staff_user(ADMIN, superuser=True)
        moderator = self._staff_user(MODERATOR, superuser=False)
        artist = self._artist(ARTIST)
        self._domain_proof(artist)
        maintainer, api_key = self._maintainer_with_known_key()
        art_maintainer = self._maintainer(*ART_MAINTAINER)
        photos = self._dataset(
            maintainer,
            slug="demo-photos",
            name="Demo photos",
            host="images.demo.example",
            variants={"half": _half, "banner": _with_banner},
            seed=1,
        )
        art = self._dataset(
            art_maintainer,
            slug="demo-art",
            name="Demo art",
            host="art.demo.example",
            variants={"grey": _grey},
            seed=2,
            only=("astronaut.png", "cell.png", "clock_motion.png", "coffee.png"),
        )
        for demo in DEMO_REQUESTS:
            self._request(demo, artist=artist, moderator=moderator, datasets=[photos, art])
        rival = self._artist(RIVAL)
        self._request(RIVAL_REQUEST, artist=rival, moderator=moderator, datasets=[photos, art])
        self._licence_and_dispute(artist, maintainer)
        # What other apps add to the demo, through a `seed_demo` hook of their AppConfig (this app
        # imports none of them): the partners app's platform filing for two creators on the photos.
        more: list[str] = []
        for app in apps.get_app_configs():
            hook = getattr(app, "seed_demo", None)
            if callable(hook):
                site = settings.SITE_URL
                more += hook(self._say, artist=artist, moderator=moderator, photos=photos, site=site)
        self._summary(api_key, more)

    # --- people

    def _say(self, text: str) -> None:
        self.stdout.write(text, ending="\n")
        self.stdout.flush()

    def _staff_user(self, login: tuple[str, str], *, superuser: bool) -> User:
        email, password = login
        user = User.objects.filter(username=email).first()
        if user is not None:
            self._say(f"  user {email}: exists")
            return user
        if superuser:
            user = User.objects.create_superuser(username=email, email=email, password=password)
        else:
            user = User.objects.create_user(username=email, email=email, password=password, is_staff=True)
            user.groups.add(Group.objects.get(name=MODERATOR_GROUP))
        self._say(f"  user {email}: created ({'superuser' if superuser else 'moderator'})")
        return user

    def _artist(self, who: tuple[str, str, str]) -> ArtistProfile:
        email, password, name = who
        profile = ArtistProfile.objects.select_related("user").filter(user__username=email).first()
        if profile is None:
            profile = services.artist_signup(email=email, password=password, display_name=name)
            self._say(f"  artist {email}: signed up")
        else:
            self._say(f"  artist {email}: exists")
        if not services.email_is_verified(profile):
            token = services.email_verification_link(profile).rstrip("/").rsplit("/", 1)[-1]
            profile = services.email_verify(token=token)
            self._say(f"  artist {email}: email verified")
        return profile

    def _domain_proof(self, artist: ArtistProfile) -> None:
        if artist.proofs.filter(method=ProofMethod.DNS_TXT, target=DEMO_DOMAIN).exists():
            self._say(f"  proof {DEMO_DOMAIN}: exists")
            return
        # No DNS server answers for a demo domain: recorded as verified, its evidence marked "demo".
        services.proof_record_demo(artist=artist, method=ProofMethod.DNS_TXT, target=DEMO_DOMAIN)
        self._say(f"  proof {DEMO_DOMAIN}: recorded (demo, never checked)")

    # --- maintainers, data sets and items

    def _maintainer(self, name: str, email: str) -> Maintainer:
        maintainer = Maintainer.objects.filter(name=name).first()
        if maintainer is None:
            # Its first key is not needed for the demo; it is never shown.
            maintainer, _ = registry_services.maintainer_create(name=name, email=email)
            self._say(f"  maintainer {name}: created")
        return maintainer

    def _maintainer_with_known_key(self) -> tuple[Maintainer, str]:
        """Keys are stored hashed, so the demo key lives in VAR_DIR to be printed on every run."""
        name, email = MAINTAINER
        key_file = Path(settings.VAR_DIR) / "demo_api_key.txt"
        maintainer = Maintainer.objects.filter(name=name).first()
        if maintainer is None:
            maintainer, raw = registry_services.maintainer_create(name=name, email=email)
            self._say(f"  maintainer {name}: created")
        else:
            raw = key_file.read_text().strip() if key_file.exists() else ""
            active = ApiKey.objects.filter(maintainer=maintainer, revoked_at__isnull=True)
            if raw and active.filter(prefix=raw[:12]).exists():
                self._say(f"  maintainer {name}: exists, API key from {key_file}")
                return maintainer, raw
            # The file was lost, or the key revoked: a new key, written down again.
            _, raw = registry_services.api_key_create(maintainer=maintainer, name="demo")
            self._say(f"  maintainer {name}: new API key")
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(raw + "\n")
        self._say(f"  maintainer {name}: API key saved to {key_file}")
        return maintainer, raw

    def _dataset(
        self,
        maintainer: Maintainer,
        *,
        slug: str,
        name: str,
        host: str,
        variants: dict[str, Callable[[Image.Image], Image.Image]],
        seed: int,
        only: tuple[str, ...] = (),
    ) -> Dataset:
        dataset = Dataset.objects.filter(maintainer=maintainer, slug=slug).first()
        if dataset is None:
            dataset = registry_services.dataset_create(
                maintainer=maintainer, slug=slug, name=name, homepage=f"https://{host}/"
            )
            self._say(f"  data set {slug}: created")
        have = set(dataset.items.values_list("external_id", flat=True))
        rows: list[dict[str, Any]] = []
        for path in sorted(PHOTOS.iterdir()):
            if path.suffix not in (".png", ".jpg") or (only and path.name not in only):
                continue
            for variant, alter in variants.items():
                external_id = f"{path.stem}-{variant}"
                if external_id in have:
                    continue
                hashes = compute_hashes(_jpeg(alter(Image.open(path))), max_pixels=settings.UPLOAD_MAX_PIXELS)
                rows.append(
                    {
                        "external_id": external_id,
                        "url": f"https://{host}/{external_id}.jpg",
                        "phash": code_to_hex(hashes.phash),
                        "dhash": code_to_hex(hashes.dhash),
                        "pdq": hashes.pdq.hex() if hashes.pdq else None,
                    }
                )
        # Unrelated pictures: random codes, seeded so every run proposes the same rows.
        rng = random.Random(seed)
        for n in range(RANDOM_ITEMS):
            external_id = f"other-{n:03d}"
            phash, dhash = rng.getrandbits(64), rng.getrandbits(64)
            if external_id not in have:
                rows.append(
                    {
                        "external_id": external_id,
                        "url": f"https://{host}/other/{n:03d}.jpg",
                        "phash": f"{phash:016x}",
                        "dhash": f"{dhash:016x}",
                    }
                )
        if rows:
            result = registry_services.items_upsert(dataset=dataset, rows=rows)
            self._say(f"  data set {slug}: {result.created} item(s) added, {len(result.rejected)} rejected")
        else:
            self._say(f"  data set {slug}: exists with {len(have)} items")
        return dataset

    # --- requests

    def _request(
        self, demo: DemoRequest, *, artist: ArtistProfile, moderator: User, datasets: list[Dataset]
    ) -> RemovalRequest:
        existing = RemovalRequest.objects.filter(artist=artist, description=demo.description).first()
        if existing is not None:
            self._say(f"  request {existing} ({existing.get_status_display().lower()}): exists")
            return existing
        user = artist.user
        ticket = services.request_create(artist=artist, basis="copyright", description=demo.description)
        added = services.works_add(
            ticket=ticket,
            actor=user,
            files=[SimpleUploadedFile(name, (PHOTOS / name).read_bytes()) for name in demo.photos],
        )
        for work in added.works:
            # Inline, not through the worker: the demo must be complete when the command ends.
            services.work_hash_and_match(work_id=work.pk)
        if demo.final != "draft":
            matches = Match.objects.filter(work__request=ticket, state=MatchState.SUGGESTED)
            services.matches_decide(
                ticket=ticket, actor=user, confirm=list(matches.values_list("pk", flat=True))
            )
            services.request_submit(ticket=ticket, actor=user, signed_name=artist.display_name)
        if demo.final in ("in_review", "approved", "completed"):
            services.request_start_review(ticket=ticket, moderator=moderator)
        if demo.final == "needs_info":
            services.request_ask_info(
                ticket=ticket,
                moderator=moderator,
                canned="conflict" if "rival" in demo.description else "originals",
            )
        if demo.final in ("approved", "completed"):
            services.request_approve(
                ticket=ticket, moderator=moderator, reason="Domain and originals check out."
            )
            removals = list(Removal.objects.filter(source_ref=ticket.reference))
            # No demo maintainer runs a webhook receiver: record the hand-over directly.
            registry_services.removals_mark_delivered(removals=removals)
            if demo.final == "completed":
                for dataset in datasets:
                    ids = [r.public_id for r in removals if r.dataset_id == dataset.pk]
                    if ids:
                        registry_services.removals_acknowledge(dataset=dataset, ids=ids)
                # The acknowledgement signal completes it after commit; ask directly as well, so
                # the result does not depend on when on-commit hooks run. It is idempotent.
                services.request_complete_if_acknowledged(reference=ticket.reference or "")
        ticket.refresh_from_db()
        self._say(
            f"  request {ticket} ({ticket.get_status_display().lower()}): created with "
            f"{len(added.works)} work(s), {Match.objects.filter(work__request=ticket).count()} match(es)"
        )
        return ticket

    def _licence_and_dispute(self, artist: ArtistProfile, maintainer: Maintainer) -> None:
        """The retina image allowed for training under CC BY-SA, and a maintainer's dispute of a
        completed request's removal, open on its clock: the report, the desk and the feeds show both."""
        approved = RemovalRequest.objects.get(artist=artist, description=DEMO_REQUESTS[3].description)
        work = approved.works.filter(original_name="retina.jpg").first()
        if work is not None and work.choice != Choice.LICENCE:
            services.work_choice_set(
                actor=artist.user,
                work=work,
                choice=Choice.LICENCE,
                licence=Licence.CC_BY_SA,
                attribution=f"{artist.display_name}, retina study",
            )
            self._say("  retina.jpg: allowed for AI training under CC BY-SA 4.0")
        completed = RemovalRequest.objects.get(artist=artist, description=DEMO_REQUESTS[4].description)
        removal = Removal.objects.filter(
            source_ref=completed.reference, dataset__maintainer=maintainer
        ).first()
        if removal is not None and not Dispute.objects.filter(removal=removal).exists():
            registry_services.dispute_file(
                removal=removal,
                maintainer=maintainer,
                reason=DisputeReason.NOT_A_COPY,
                statement="Our item is a different clock photographed by our own team in 2021.",
                links=[],
            )
            self._say(f"  dispute of {removal.public_id} by {maintainer.name}: open")

    def _summary(self, api_key: str, more: list[str]) -> None:
        site = settings.SITE_URL
        self._say("")
        self._say("Demo data is ready.")
        self._say(f"  Artist site:     {site}/            {ARTIST[0]} / {ARTIST[1]}")
        self._say(f"  Moderator desk:  {site}/admin/      {MODERATOR[0]} / {MODERATOR[1]}")
        self._say(f"  Superuser:       {site}/admin/      {ADMIN[0]} / {ADMIN[1]}")
        self._say(f"  API docs:        {site}/api/v1/docs/")
        self._say(f"  Demo maintainer API key ({MAINTAINER[0]}): {api_key}")
        self._say(f'    curl -H "Authorization: Bearer {api_key}" {site}/api/v1/datasets/')
        for line in more:
            self._say(line)
