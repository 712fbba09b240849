"""Quill settings: one module, every deployment difference read from the environment.

See the configuration table in README.md for what each variable does.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from blog_project.storage_url import storage_from_url
from mail.email_url import smtp_server_from_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


DEBUG = env_bool("DEBUG", False)

# Production (DEBUG off) refuses to start without a real key: no default key can leak into it.
DEV_SECRET_KEY = "django-insecure-quill-development-key-not-for-production"
INSECURE_SECRET_KEYS = {DEV_SECRET_KEY, "change-me", "changeme", "secret"}
SECRET_KEY = os.environ.get("SECRET_KEY", "").strip() or (DEV_SECRET_KEY if DEBUG else "")
if not DEBUG and (
    not SECRET_KEY or SECRET_KEY in INSECURE_SECRET_KEYS or SECRET_KEY.startswith("django-insecure")
):
    raise ImproperlyConfigured(
        "SECRET_KEY is missing or a known default. Set SECRET_KEY to a long random value "
        "(or DEBUG=true for local development)."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    # Background jobs: django-tasks' API, django-tasks-db's queue, then Quill's worker and admin.
    "django_tasks",
    "django_tasks_db",
    # What the faces share (registry, middleware, CORS, readers' cache, API and page bases).
    "faces",
    "jobs",
    "mail",
    "accounts",
    "posts",
    "notifications",
]

MIDDLEWARE = [
    "faces.middleware.RequestLogMiddleware",
    # ETags on answers a browser may keep, and 304 for an If-None-Match that still matches;
    # before SecurityHeaders, so it sees the no-store of signed-in answers and leaves them be.
    "django.middleware.http.ConditionalGetMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "faces.middleware.SecurityHeadersMiddleware",
    "faces.middleware.BodySizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # Anonymous readers' answers, kept whole: everything below runs only when it has none.
    "faces.readcache.ReadersCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "faces.middleware.CoreRefusalMiddleware",
    "faces.unavailable.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "blog_project.urls"
WSGI_APPLICATION = "blog_project.wsgi.application"

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
                "faces.context_processors.canonical_url",
                # The bell's unread count, for signed-in members: one query, only if shown.
                "notifications.context_processors.bell",
            ],
            # {% url %} remembering what it reversed (faces.reversing).
            "builtins": ["faces.reversing"],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
# Default: an embedded SQLite file, so `make run` needs no services. Production points
# DATABASE_URL at PgBouncer (transaction pooling).
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'var' / 'quill.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Transaction pooling hands each transaction to any server connection, so a named
    # cursor (`.iterator()`) would vanish between fetches. psycopg 3 under Django binds
    # parameters client-side and prepares nothing, which PgBouncer 1.18 needs.
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets readers and one writer work at once across gunicorn workers.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (shared by every worker: in Redis, or without it in a file on this machine) -----
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's, reusing its Redis clients (blog_project.cache).
            "BACKEND": "blog_project.cache.QuillRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "quill",
        }
    }
else:
    # One SQLite file for every process on this machine (blog_project.sqlite_cache), so that rate
    # limits count exactly across `make run`'s workers. Several machines need REDIS_URL.
    CACHES = {
        "default": {
            "BACKEND": "blog_project.sqlite_cache.SQLiteCache",
            "LOCATION": str(BASE_DIR / "var" / "cache.sqlite3"),
        }
    }
# Anonymous readers' pages and API answers kept whole in that cache (faces.readcache),
# invalidated by every write that changes them. On by default with Redis only: the SQLite file
# is there to count rate limits exactly, not to serve whole pages faster.
QUILL_CACHE = env_bool("QUILL_CACHE", bool(REDIS_URL))
# The longest an entry lives (a write or a scheduled story going up ends it sooner).
QUILL_CACHE_SECONDS = env_int("QUILL_CACHE_SECONDS", 300)
# Each worker also keeps the entries it served last, up to this many MiB, so that a hit asks the
# shared cache only for the versions.
QUILL_CACHE_LOCAL_MB = env_int("QUILL_CACHE_LOCAL_MB", 8)

# --- Accounts -------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# QUILL_PASSWORD_POLICY, for every face: "django" (the default) refuses passwords shorter than 8
# characters, common or all-digit ones and ones like the account's name or email, as NIST
# advises; "length" takes any password of 8 or more characters, as the RealWorld reference
# back end does, for deployments whose clients expect that.
PASSWORD_POLICIES = {
    "django": [
        {
            "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
            "OPTIONS": {"user_attributes": ("email", "username", "name")},
        },
        {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
        {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
        {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    ],
    "length": [{"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"}],
}
QUILL_PASSWORD_POLICY = os.environ.get("QUILL_PASSWORD_POLICY", "django").strip().lower()
if QUILL_PASSWORD_POLICY not in PASSWORD_POLICIES:
    raise ImproperlyConfigured(f"QUILL_PASSWORD_POLICY must be one of: {', '.join(PASSWORD_POLICIES)}.")
AUTH_PASSWORD_VALIDATORS = PASSWORD_POLICIES[QUILL_PASSWORD_POLICY]
LOGIN_URL = "accounts:signin"
LOGIN_REDIRECT_URL = "posts:home"
LOGOUT_REDIRECT_URL = "posts:home"
# Sign-in and sign-up attempts allowed per client IP and per account (DRF rate syntax).
QUILL_AUTH_RATE = os.environ.get("QUILL_AUTH_RATE", "10/minute")
# Responses a member may post (DRF rate syntax), counted like the auth rate.
QUILL_COMMENT_RATE = os.environ.get("QUILL_COMMENT_RATE", "10/minute")
# RealWorld clients keep one token and never refresh it: it lives this many days (it still
# ends at once on a password change, "sign out everywhere" or a suspension).
QUILL_REALWORLD_TOKEN_DAYS = env_int("QUILL_REALWORLD_TOKEN_DAYS", 30)

# --- Email ------------------------------------------------------------------------------------
# EMAIL_URL: empty prints emails on the console (`make run` shows the reset link there). Else
# the SMTP server, its scheme saying how it is secured (mail.email_url): smtp://host:25
# plain, smtp+tls://user:password@host:587 STARTTLS, smtps:// or smtp+ssl://...:465 implicit TLS;
# user and password percent-encoded; options in the query string (?timeout=10).
EMAIL_URL = os.environ.get("EMAIL_URL", "").strip()
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Quill <noreply@localhost>")
# The site's address as readers reach it, for links in emails that no request asked for
# (notices, digests): scheme and host, no trailing slash.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
if EMAIL_URL:
    _smtp = smtp_server_from_url(EMAIL_URL)
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST, EMAIL_PORT = _smtp.host, _smtp.port
    EMAIL_HOST_USER, EMAIL_HOST_PASSWORD = _smtp.user, _smtp.password
    EMAIL_USE_TLS, EMAIL_USE_SSL = _smtp.starttls, _smtp.implicit_tls
    EMAIL_TIMEOUT = _smtp.timeout
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
# A password reset link works once (Django's tokens) and for this long.
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT_SECONDS", 3600)

# --- Jobs (README, Background jobs) ---------------------------------------------------------
# Django's Tasks API (the django-tasks backport) on a queue in the default database, so a job
# is enqueued in the transaction of the write that causes it; `manage.py worker` runs them.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# How many times a job runs before it stays failed (`@job(attempts=...)` overrides it), and the
# waits between its runs: QUILL_JOB_RETRY_SECONDS, doubling each time, at most ..._MAX_SECONDS.
QUILL_JOB_ATTEMPTS = env_int("QUILL_JOB_ATTEMPTS", 5)
QUILL_JOB_RETRY_SECONDS = env_int("QUILL_JOB_RETRY_SECONDS", 2)
QUILL_JOB_RETRY_MAX_SECONDS = env_int("QUILL_JOB_RETRY_MAX_SECONDS", 3600)
# How often an idle worker looks for a job, in seconds.
QUILL_JOB_POLL_SECONDS = float(os.environ.get("QUILL_JOB_POLL_SECONDS", "").strip() or 0.5)
# Each worker records every QUILL_JOB_HEARTBEAT_SECONDS that it lives; the jobs of a worker not
# seen for QUILL_JOB_LEASE_SECONDS (killed, machine lost) go back to the queue.
QUILL_JOB_HEARTBEAT_SECONDS = env_int("QUILL_JOB_HEARTBEAT_SECONDS", 5)
QUILL_JOB_LEASE_SECONDS = env_int("QUILL_JOB_LEASE_SECONDS", 60)
if QUILL_JOB_LEASE_SECONDS < 3 * QUILL_JOB_HEARTBEAT_SECONDS:
    raise ImproperlyConfigured("QUILL_JOB_LEASE_SECONDS must be at least 3 × QUILL_JOB_HEARTBEAT_SECONDS.")
# Finished jobs are deleted after this many days; failed ones are kept longer, for the admin.
QUILL_JOB_KEEP_DAYS = env_int("QUILL_JOB_KEEP_DAYS", 14)
QUILL_JOB_KEEP_FAILED_DAYS = env_int("QUILL_JOB_KEEP_FAILED_DAYS", 30)
# Every periodic job, in one place: a job's dotted path and when to enqueue it (crontab, UTC).
# `manage.py worker --scheduler` enqueues them; each must be safe to run twice.
QUILL_PERIODIC_JOBS = {
    "expired idempotency keys": {"job": "posts.jobs.delete_expired_create_requests", "cron": "17 * * * *"},
    "expired sessions": {"job": "jobs.cleanup.clear_expired_sessions", "cron": "23 3 * * *"},
    "old job results": {"job": "jobs.cleanup.prune_job_results", "cron": "41 3 * * *"},
    "notification digests": {"job": "notifications.jobs.send_digests", "cron": "0 7 * * *"},
}

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Media (uploaded images) -----------------------------------------------------------------
# Local files under MEDIA_ROOT by default (Quill serves /media/ itself; nginx does in the full
# stack), or an S3-compatible object store when MEDIA_STORAGE_URL says so (README,
# Configuration; the format is parsed by blog_project.storage_url).
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", "").strip() or BASE_DIR / "var" / "media")
MEDIA_URL = "/media/"
MEDIA_STORAGE_URL = os.environ.get("MEDIA_STORAGE_URL", "").strip()
MEDIA_STORAGE = (
    storage_from_url(MEDIA_STORAGE_URL)
    if MEDIA_STORAGE_URL
    else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
)
# Each member's uploads may take this many MiB in all; one image at most QUILL_UPLOAD_MAX_MB
# (the request body of an upload too) and QUILL_UPLOAD_MAX_PIXELS (checked from the header,
# before decoding: Pillow's own MAX_IMAGE_PIXELS only warns, and refuses at twice as many).
QUILL_UPLOAD_QUOTA_MB = env_int("QUILL_UPLOAD_QUOTA_MB", 200)
QUILL_UPLOAD_MAX_MB = 10
QUILL_UPLOAD_MAX_PIXELS = 40_000_000
# Decoding is what an upload costs a worker (seconds for the largest images): each member may
# upload this many images, avatars and refused ones included (DRF rate syntax), and an avatar,
# shown at most 256 pixels wide, may have this many pixels (checked from the header too).
QUILL_UPLOAD_RATE = os.environ.get("QUILL_UPLOAD_RATE", "30/hour")
QUILL_AVATAR_MAX_PIXELS = 16_000_000

# --- Static files (whitenoise serves them from gunicorn) -----------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise expects it even before collectstatic
STORAGES = {
    "default": MEDIA_STORAGE,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security -------------------------------------------------------------------------------
# QUILL_HTTPS: the site is served over TLS (directly or behind a proxy that sets
# X-Forwarded-Proto). On by default in production; `make run` turns it off for plain http.
QUILL_HTTPS = env_bool("QUILL_HTTPS", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "faces.errors.csrf_failure"
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)
# Powerful browser features no page of Quill uses, turned off for every page.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
if QUILL_HTTPS:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^livez$", r"^readyz$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Request bodies over 1 MiB are refused with 413 (BodySizeLimitMiddleware).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# --- API ------------------------------------------------------------------------------------
# Each face (faces.api.v1, ...) sets its own authentication, permissions, parsers,
# renderers and error handler; nothing here decides them for all.
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "faces.api.schema.FaceAutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# Proxies in front of gunicorn whose X-Forwarded-For is trusted for client IPs (0: none).
NUM_PROXIES = env_int("NUM_PROXIES", 0)
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 14)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Quill API",
    "DESCRIPTION": "Stories, authors and tokens. Authenticate with `Authorization: Bearer <jwt>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- CORS: front ends served from another origin call the RealWorld API (only it: the views
# that say `cross_origin`, faces/cors.py); API v1's cookie pages are never opened up.
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS", "")
CORS_URLS_REGEX = r"^$"  # no path by itself: the views decide
CORS_EXPOSE_HEADERS = ["Retry-After"]
CORS_PREFLIGHT_MAX_AGE = 86400

# --- Logging: one JSON line per event on stdout ---------------------------------------------
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "blog_project.logging.JsonFormatter"}},
    "filters": {"drop_unavailable_tracebacks": {"()": "faces.unavailable.DropUnavailableTracebacks"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["drop_unavailable_tracebacks"],
        }
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        # The request log below replaces Django's own per-request lines.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
    },
}
