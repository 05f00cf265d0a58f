"""Removal Desk settings: everything a deployment changes comes from the environment.

With nothing set, the site runs on SQLite and Celery's filesystem broker
(no servers), which is what `make run` uses. A deployment and the test
suite set DATABASE_URL=postgres://... and CELERY_BROKER_URL=redis://...
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url

from .databases import sqlite_options
from .env import ImproperEnv, env_bool, env_int, env_list, env_path, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = env_path("VAR_DIR", BASE_DIR / "var")

DEBUG = env_bool("DEBUG", False)
_DEV_SECRET = "dev-only-insecure-secret-key-change-me"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET)
if SECRET_KEY == _DEV_SECRET and not DEBUG:
    # Sessions, signed email links and the encryption of webhook secrets all hang on
    # this key: a deployment that forgot it must not start with a public one.
    raise ImproperEnv(
        "SECRET_KEY is not set. Export a long random SECRET_KEY for a deployment, or DEBUG=1 for "
        "development (make run sets it)."
    )
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Redoc's files served by us: the docs work offline and under CSP
    "registry",
    "requests_app",
    "partners",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "requests_app.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'removal_desk.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # The embedded default runs the site, a worker and beat on one file: WAL, and
    # writers that queue for the lock instead of failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        sqlite_options(timeout_seconds=env_int("SQLITE_TIMEOUT_SECONDS", 30, minimum=1))
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "request_list"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request without it
STATICFILES_DIRS = [BASE_DIR / "static"]
# whitenoise serves the few static files in production too; finders spare a
# collectstatic step for `make run` and the tests.
WHITENOISE_USE_FINDERS = True

# Public media is unused: uploaded works live under PRIVATE_MEDIA_ROOT,
# outside any URL, and are streamed only to their artist and moderators.
MEDIA_URL = "media/"
MEDIA_ROOT = env_path("MEDIA_ROOT", VAR_DIR / "media")
PRIVATE_MEDIA_ROOT = env_path("PRIVATE_MEDIA_ROOT", VAR_DIR / "private")

# Uploads
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_BYTES", 25 * 1024 * 1024, minimum=1024)
UPLOAD_MAX_PIXELS = env_int("UPLOAD_MAX_PIXELS", 50_000_000, minimum=1)
# Files one form post may carry (a batch, not a cap on a request or a portfolio: those have none).
UPLOAD_MAX_FILES = env_int("UPLOAD_MAX_FILES", 200, minimum=1)
# Resumable portfolio uploads (requests_app/services/uploads.py, docs/uploads.md): the chunk size
# the page sends, the largest zip accepted, the members and unpacked bytes a zip may hold, and the
# days after which an upload never finished is deleted.
PORTFOLIO_CHUNK_BYTES = env_int("PORTFOLIO_CHUNK_BYTES", 8 * 1024 * 1024, minimum=1024)
PORTFOLIO_ZIP_MAX_BYTES = env_int("PORTFOLIO_ZIP_MAX_BYTES", 4 * 1024**3, minimum=1024)
UPLOAD_ZIP_MAX_MEMBERS = env_int("UPLOAD_ZIP_MAX_MEMBERS", 20_000, minimum=1)
UPLOAD_ZIP_MAX_UNCOMPRESSED = env_int("UPLOAD_ZIP_MAX_UNCOMPRESSED", 8 * 1024**3, minimum=1024)
PORTFOLIO_UPLOAD_STALE_DAYS = env_int("PORTFOLIO_UPLOAD_STALE_DAYS", 7, minimum=1)
# Per-artist quotas of the portfolio: its works' stored bytes (plus files announced and not yet
# unpacked) and its number of works. Far above a working artist's output (a few thousand works);
# they stop one account from filling the disk.
PORTFOLIO_QUOTA_BYTES = env_int("PORTFOLIO_QUOTA_BYTES", 20 * 1024**3, minimum=1024 * 1024)
PORTFOLIO_QUOTA_WORKS = env_int("PORTFOLIO_QUOTA_WORKS", 50_000, minimum=1)
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 20 * 1024**3, minimum=1024)
# Partners' file filings (partners/services/files.py, docs/api.md "Partners"): the largest file, the
# largest chunk of one PATCH, the rows read per committed batch, the longest NDJSON line and the
# largest Parquet row group (unpacked) a worker holds.
PARTNER_FILE_MAX_BYTES = env_int("PARTNER_FILE_MAX_BYTES", 2 * 1024**3, minimum=1024)
PARTNER_FILE_CHUNK_BYTES = env_int("PARTNER_FILE_CHUNK_BYTES", 16 * 1024 * 1024, minimum=1024)
PARTNER_FILE_BATCH_ROWS = env_int("PARTNER_FILE_BATCH_ROWS", 5000, minimum=1)
PARTNER_FILE_MAX_LINE_BYTES = env_int("PARTNER_FILE_MAX_LINE_BYTES", 1024 * 1024, minimum=1024)
# A file filing announced but not sent whole within this many seconds of its last chunk expires
# (beat, partners.tasks.filings_resume): the artists' unfinished uploads' length
# (PORTFOLIO_UPLOAD_STALE_DAYS), by the same kind of sweep.
PARTNER_FILE_UPLOAD_TTL = env_int("PARTNER_FILE_UPLOAD_TTL", PORTFOLIO_UPLOAD_STALE_DAYS * 86400, minimum=60)
# The longest physical line of a CSV file filing: a longer one fails the file, naming the line.
PARTNER_FILE_MAX_CSV_LINE_BYTES = env_int("PARTNER_FILE_MAX_CSV_LINE_BYTES", 64 * 1024, minimum=1024)
PARTNER_FILE_MAX_ROW_GROUP_BYTES = env_int("PARTNER_FILE_MAX_ROW_GROUP_BYTES", 512 * 1024**2, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = UPLOAD_MAX_FILES

# Matching (registry/matching.py): an item within the pHash or the dHash distance of a
# work is a candidate; it is suggested to the artist only when a second hash agrees:
# two of pHash, dHash and PDQ within their AGREE distances, one of them within its strict
# one (MATCH_PHASH/DHASH/PDQ_MAX_DISTANCE). Measured on 2,000 distractors and the edited
# sample photos (bench/robustness.py, bench/RESULTS.md).
MATCH_PHASH_MAX_DISTANCE = env_int("MATCH_PHASH_MAX_DISTANCE", 10, minimum=0)
MATCH_DHASH_MAX_DISTANCE = env_int("MATCH_DHASH_MAX_DISTANCE", 8, minimum=0)
MATCH_PHASH_AGREE_DISTANCE = env_int("MATCH_PHASH_AGREE_DISTANCE", 22, minimum=0)
MATCH_DHASH_AGREE_DISTANCE = env_int("MATCH_DHASH_AGREE_DISTANCE", 12, minimum=0)
MATCH_PDQ_AGREE_DISTANCE = env_int("MATCH_PDQ_AGREE_DISTANCE", 80, minimum=0)
# Hashes that say little never count: a 64-bit code with fewer ones or zeros than this
# (flat images), a dHash whose rows change fewer times than this (gradients, nearly
# blank pages; 0 to 56), a PDQ of lower quality than this on either side (0 to 100;
# PDQ's authors suggest discarding hashes below 50).
MATCH_HASH_MIN_MINORITY_BITS = env_int("MATCH_HASH_MIN_MINORITY_BITS", 8, minimum=0)
MATCH_DHASH_MIN_TRANSITIONS = env_int("MATCH_DHASH_MIN_TRANSITIONS", 10, minimum=0)
MATCH_PDQ_MIN_QUALITY = env_int("MATCH_PDQ_MIN_QUALITY", 50, minimum=0)
# An item registered with a pHash and no other hash has nothing to agree with: it is
# suggested (as "low" confidence) within this pHash distance.
MATCH_PHASH_ALONE_MAX_DISTANCE = env_int("MATCH_PHASH_ALONE_MAX_DISTANCE", 6, minimum=0)
# The work mirrored or turned by right angles is searched within this pHash distance: a
# turned pHash is the same bits as the copy's, within what re-encoding moves (6 at worst
# on the sample photos), and radius 8 costs 1.4 ms in a 10-million-item index where 10
# costs 14 (bench/RESULTS.md): 7 turned views at 10 were the whole 100 ms budget.
MATCH_TURNED_PHASH_MAX_DISTANCE = env_int("MATCH_TURNED_PHASH_MAX_DISTANCE", 8, minimum=0)
# Crops, pads and small rotations (registry/probes.py): each derived view of a work is
# searched by its pHash within this distance (5: one flipped bit per index segment, a
# hundredth of the cost of 10 in a 10-million-item index), and suggested only when every hash
# both sides have agrees (bench/RESULTS.md).
MATCH_PROBE_PHASH_MAX_DISTANCE = env_int("MATCH_PROBE_PHASH_MAX_DISTANCE", 5, minimum=0)
# Items that arrive after a removal was approved become new removals of the same
# request when they are this close to a removed item (pHash), and, where both
# sides have PDQ, within MATCH_PDQ_MAX_DISTANCE: no person confirms these.
REMATCH_PHASH_MAX_DISTANCE = env_int("REMATCH_PHASH_MAX_DISTANCE", 6, minimum=0)
MATCH_PDQ_MAX_DISTANCE = env_int("MATCH_PDQ_MAX_DISTANCE", 31, minimum=0)
# URL look-ups (v1 and v2) on PostgreSQL answer from an index of the live removals held in each
# process (registry/lookup_index.py: 28 bytes a removal, built by a thread at the first look-up,
# the database answering until it is ready). Off: every look-up reads the database.
LOOKUP_INDEX = env_bool("LOOKUP_INDEX", True)
# A folder where the first process to build that index writes its arrays, for the others of the
# machine to map read-only (registry/lookup_snapshot.py: one copy for all workers, loaded in a
# second). Empty: each process builds and holds its own. Use a local disk, one per database.
LOOKUP_INDEX_SNAPSHOT_DIR = env_str("LOOKUP_INDEX_SNAPSHOT_DIR", "")
# How often a process's in-memory Hamming index re-reads items whose hashes changed.
MATCH_INDEX_CHECK_SECONDS = env_int("MATCH_INDEX_CHECK_SECONDS", 60, minimum=0)
# A sharded data set (registry/shards.py): how long a search waits for each shard's answer, and
# how many times a shard that did not answer is asked again before the search fails (never a
# partial answer). Work matching then retries MATCH_SHARD_TASK_RETRIES times before the work is
# marked failed with the shard named.
MATCH_SHARD_TIMEOUT_SECONDS = env_int("MATCH_SHARD_TIMEOUT_SECONDS", 30, minimum=1)
MATCH_SHARD_ATTEMPTS = env_int("MATCH_SHARD_ATTEMPTS", 3, minimum=1)
MATCH_SHARD_TASK_RETRIES = env_int("MATCH_SHARD_TASK_RETRIES", 5, minimum=0)
# Every shard worker says which shards it holds this often (registry/shard_holders.py); /health/
# counts a worker three beats silent as gone.
MATCH_SHARD_BEAT_SECONDS = env_int("MATCH_SHARD_BEAT_SECONDS", 10, minimum=1)

# Outbound HTTP (webhooks, verification fetches). Only public addresses are
# called; tests turn this on to reach receivers on loopback.
OUTBOUND_ALLOW_LOOPBACK = env_bool("OUTBOUND_ALLOW_LOOPBACK", False)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 15, minimum=1)
# A partner's row with an image URL and no hashes: its image is fetched (partners.services.images).
PARTNER_IMAGE_TIMEOUT_SECONDS = env_int("PARTNER_IMAGE_TIMEOUT_SECONDS", 15, minimum=1)
PARTNER_IMAGE_FETCH_ATTEMPTS = env_int("PARTNER_IMAGE_FETCH_ATTEMPTS", 3, minimum=1)
PARTNER_IMAGE_FETCH_CONCURRENCY = env_int("PARTNER_IMAGE_FETCH_CONCURRENCY", 4, minimum=1)

# Keys for secrets that must be read back (webhook signing secrets). Defaults
# to one derived from SECRET_KEY; list several (comma-separated) to rotate.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS", [])

# Email
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Removal Desk <noreply@removal-desk.example>")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)

# The cache holds rate-limit counters: shared across processes when REDIS_URL is set.
REDIS_URL = env_str("REDIS_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Celery
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    # kombu's filesystem transport, with messages written whole (config/broker.py).
    CELERY_BROKER_TRANSPORT = "config.broker:Transport"
    _broker_dir = VAR_DIR / "broker"
    for _folder in ("out", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "data_folder_processed": str(_broker_dir / "processed"),
        # Broadcast messages (worker control): without this kombu writes ./control.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        # How long an idle consumer sleeps before looking in the folder again (kombu's default
        # is 1 s). With acks_late each worker slot waits for a poll after every task: at 1 s two
        # slots ran two tasks a second, so 200 uploads (hash + match each) took over 3 minutes.
        "polling_interval": 0.05,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_DEFAULT_QUEUE", "default")
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Every queue a deployment must run workers for (the routes below, and the default queue).
WORKER_QUEUES = ("default", "hashing", "matching", "deliveries", "imports")
CELERY_TASK_ROUTES = {
    "registry.tasks.delivery_*": {"queue": "deliveries"},
    "registry.tasks.deliveries_*": {"queue": "deliveries"},
    "registry.tasks.import_*": {"queue": "imports"},
    "registry.tasks.items_rematch": {"queue": "matching"},
    "registry.tasks.dataset_rematch": {"queue": "matching"},
    "requests_app.tasks.work_match": {"queue": "matching"},
    "requests_app.tasks.request_rematch": {"queue": "matching"},
    "requests_app.tasks.work_hash": {"queue": "hashing"},
    "partners.tasks.filing_process": {"queue": "matching"},
    "partners.tasks.filing_file_read": {"queue": "imports"},
    "partners.tasks.filing_evidence": {"queue": "matching"},
}

# The public transparency report (/transparency/): how often beat computes its figures again (the
# page says when it last did; the cache keeps them twice as long), and how many months it shows.
REPORT_CACHE_SECONDS = env_int("REPORT_CACHE_SECONDS", 600, minimum=0)
REPORT_MONTHS = env_int("REPORT_MONTHS", 12, minimum=1)

CELERY_BEAT_SCHEDULE = {
    "deliveries-sweep": {
        "task": "registry.tasks.deliveries_sweep",
        "schedule": timedelta(seconds=env_int("DELIVERY_SWEEP_SECONDS", 30, minimum=1)),
    },
    "imports-resume": {
        "task": "registry.tasks.imports_resume",
        "schedule": timedelta(minutes=5),
    },
    "hashing-sweep": {
        "task": "requests_app.tasks.hashing_sweep",
        "schedule": timedelta(minutes=2),
    },
    "uploads-sweep": {
        "task": "requests_app.tasks.uploads_sweep",
        "schedule": timedelta(minutes=2),
    },
    "filings-resume": {
        "task": "partners.tasks.filings_resume",
        "schedule": timedelta(minutes=2),
    },
    "rematch-sweep": {
        "task": "requests_app.tasks.rematch_sweep",
        "schedule": timedelta(minutes=2),
    },
    "proofs-recheck": {
        "task": "requests_app.tasks.proofs_recheck",
        "schedule": timedelta(hours=1),
    },
    "proof-documents-purge": {
        "task": "requests_app.tasks.proof_documents_purge",
        "schedule": timedelta(hours=6),
    },
    "sla-escalate": {
        "task": "requests_app.tasks.sla_escalate",
        "schedule": timedelta(minutes=15),
    },
    "disputes-sweep": {
        "task": "registry.tasks.disputes_sweep",
        "schedule": timedelta(minutes=15),
    },
    "transparency-refresh": {
        "task": "requests_app.tasks.transparency_refresh",
        "schedule": timedelta(seconds=max(60, REPORT_CACHE_SECONDS)),
    },
    # One heartbeat message per queue: /health/ reports a queue whose workers stop taking them.
    **{
        f"heartbeat-{queue}": {
            "task": "registry.tasks.worker_heartbeat",
            "schedule": timedelta(minutes=1),
            "args": (queue,),
            "options": {"queue": queue, "expires": 55},
        }
        for queue in WORKER_QUEUES
    },
    # And one to each shard of a sharded data set's index (the shards are rows, not settings).
    "heartbeat-shards": {
        "task": "registry.tasks.shard_heartbeats",
        "schedule": timedelta(minutes=1),
        "options": {"expires": 55},
    },
}
# /health/: how long the broker may take to answer, and how old a queue's last heartbeat may be.
HEALTH_BROKER_TIMEOUT_SECONDS = env_int("HEALTH_BROKER_TIMEOUT_SECONDS", 2, minimum=1)
HEALTH_WORKER_STALE_SECONDS = env_int("HEALTH_WORKER_STALE_SECONDS", 180, minimum=10)

# Identity proofs. DNS TXT checks ask PROOF_DNS_NAMESERVER ("host:port") when set, else the
# system resolver. Fetches (well-known file, meta tag, profile page) go through the SSRF-guarded
# client over PROOF_FETCH_SCHEME (https; the tests serve plain http on loopback).
PROOF_DNS_NAMESERVER = env_str("PROOF_DNS_NAMESERVER", "")
PROOF_FETCH_SCHEME = env_str("PROOF_FETCH_SCHEME", "https")
if PROOF_FETCH_SCHEME not in ("https", "http"):
    raise ImproperEnv("PROOF_FETCH_SCHEME must be https or http.")
PROOF_CHECK_TIMEOUT_SECONDS = env_int("PROOF_CHECK_TIMEOUT_SECONDS", 10, minimum=1)
PROOF_FETCH_MAX_BYTES = env_int("PROOF_FETCH_MAX_BYTES", 512 * 1024, minimum=1024)
# "Check now" at most this often per proof: each press is an outbound request to the artist's host.
PROOF_CHECK_MIN_SECONDS = env_int("PROOF_CHECK_MIN_SECONDS", 10, minimum=0)
PROOF_PENDING_DAYS = env_int("PROOF_PENDING_DAYS", 7, minimum=1)
PROOF_VALID_DAYS = env_int("PROOF_VALID_DAYS", 90, minimum=1)
PROOF_DOCUMENT_VALID_DAYS = env_int("PROOF_DOCUMENT_VALID_DAYS", 365, minimum=1)
PROOF_RECHECK_HOURS = env_int("PROOF_RECHECK_HOURS", 24, minimum=1)
PROOF_RECHECK_FAILURES_TO_LAPSE = env_int("PROOF_RECHECK_FAILURES_TO_LAPSE", 2, minimum=1)
PROOF_DOCUMENT_MAX_BYTES = env_int("PROOF_DOCUMENT_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)
PROOF_DOCUMENT_RETENTION_DAYS = env_int("PROOF_DOCUMENT_RETENTION_DAYS", 30, minimum=0)
# What a verified domain already says (robots.txt, ai.txt, tdmrep.json): fetched inline when the
# artist asks, the three files side by side under one deadline, each capped; at most once per
# SITE_SIGNALS_MIN_SECONDS per domain.
SITE_SIGNALS_TIMEOUT_SECONDS = env_int("SITE_SIGNALS_TIMEOUT_SECONDS", 6, minimum=1)
SITE_SIGNALS_MAX_BYTES = env_int("SITE_SIGNALS_MAX_BYTES", 512 * 1024, minimum=1024)
SITE_SIGNALS_MIN_SECONDS = env_int("SITE_SIGNALS_MIN_SECONDS", 30, minimum=0)

# Ownership evidence and conflicts.
CONFLICT_PHASH_MAX_DISTANCE = env_int("CONFLICT_PHASH_MAX_DISTANCE", 4, minimum=0)
EVIDENCE_LARGE_WORK_PIXELS = env_int("EVIDENCE_LARGE_WORK_PIXELS", 4_000_000, minimum=1)
EVIDENCE_PDQ_QUALITY_MIN = env_int("EVIDENCE_PDQ_QUALITY_MIN", 80, minimum=0)
# Above this many works the desk shows a request as a summary and a random sample to check.
DESK_BIG_REQUEST_WORKS = env_int("DESK_BIG_REQUEST_WORKS", 50, minimum=1)
# The largest sample a moderator may draw at once (each sampled work is shown with its matches).
DESK_SAMPLE_MAX = env_int("DESK_SAMPLE_MAX", 200, minimum=1)

# Moderation SLA: hours a request may stay in a status before it is overdue (statuses not
# listed have no clock: the artist's turn, or decided), and how early "due soon" starts.
SLA_HOURS = {
    "submitted": env_int("SLA_SUBMITTED_HOURS", 48, minimum=1),
    "in_review": env_int("SLA_IN_REVIEW_HOURS", 120, minimum=1),
}
SLA_DUE_SOON_HOURS = env_int("SLA_DUE_SOON_HOURS", 12, minimum=1)

# Disputes (docs/api.md "Disputes"): the counter-notice period the side that asked for a removal
# has to answer, how long a public filer has to confirm their address, and the public page's limits.
DISPUTE_RESPONSE_DAYS = env_int("DISPUTE_RESPONSE_DAYS", 14, minimum=1)
DISPUTE_CONFIRM_HOURS = env_int("DISPUTE_CONFIRM_HOURS", 48, minimum=1)
DISPUTE_OPEN_PER_EMAIL = env_int("DISPUTE_OPEN_PER_EMAIL", 5, minimum=1)
DISPUTE_LIMIT_PER_IP_HOUR = env_int("DISPUTE_LIMIT_PER_IP_HOUR", 10, minimum=1)
DISPUTE_LIMIT_PER_EMAIL_DAY = env_int("DISPUTE_LIMIT_PER_EMAIL_DAY", 5, minimum=1)
DISPUTE_EVIDENCE_MAX_BYTES = env_int("DISPUTE_EVIDENCE_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)

# Canned "ask for more information" texts: (key, title, text). Kept in code, not a model,
# so they are reviewed and translated with the rest of the product's wording.
MODERATION_CANNED_RESPONSES = [
    (
        "originals",
        "Ask for originals",
        "Please add the original files of these works (full resolution, as exported from your "
        "camera or drawing program), so we can compare them with the data set copies.",
    ),
    (
        "domain",
        "Ask to verify a domain",
        "The copies we found are on a web site. If it is yours, please prove it on your identity "
        "page (a DNS TXT record, a file under /.well-known/ or a meta tag), then resubmit.",
    ),
    (
        "conflict",
        "Another artist claims the works",
        "Another account has asked for the removal of the same images. Please send us anything "
        "that shows they are yours: originals, work-in-progress files, a contract or a link to the "
        "first publication.",
    ),
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["registry.api.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["registry.api.auth.IsMaintainer"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Deep nesting, huge numbers and bad encodings are one 400 (malformed_json), never a 500.
    "DEFAULT_PARSER_CLASSES": ["registry.api.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "registry.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    # `?format=` belongs to the export endpoint (jsonl|csv|parquet), not to content negotiation.
    "URL_FORMAT_OVERRIDE": None,
    "DEFAULT_THROTTLE_CLASSES": ["registry.api.throttling.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "maintainer": env_str("API_RATE_LIMIT", "1200/min"),
        # Partners' calls carry up to 10,000 rows each: fewer calls, the same per-key rule.
        "partner": env_str("PARTNER_API_RATE_LIMIT", "120/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Removal Desk maintainer API",
    "DESCRIPTION": (BASE_DIR / "registry" / "api" / "guide.md").read_text(),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]",
    "REDOC_DIST": "SIDECAR",
    # Names the document has served since the enums appeared; registry/api/schema.py says why.
    "POSTPROCESSING_HOOKS": ["registry.api.schema.postprocess_schema_enums"],
    "ENUM_NAME_OVERRIDES": {
        "ChoiceEnum": "partners.models.RowChoice.values",
        "StateC81Enum": "partners.models.FilingState.values",
        "Reason7f0Enum": "registry.models.DisputeReason.values",
        "BasisEnum": "registry.models.RemovalReason.values",
        "ReasonC2bEnum": "registry.api.schema.REMOVAL_REASON",
        "Search7cfEnum": ["allowed", "disallowed", "unknown"],
        "TrainAi7cfEnum": "registry.api.schema.PREFERENCES_TRAIN_AI",
        "Search994Enum": ["allowed", "unknown"],
        "Source4fbEnum": ["json", "file"],
        "Source76cEnum": ["artist", "partner"],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # faiss logs every CPU-feature probe at INFO on import.
        "faiss.loader": {"level": "WARNING"},
    },
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
