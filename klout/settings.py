"""The one settings module. What differs between deploys comes from the environment.

Development (the default) runs on SQLite with eager Celery tasks and e-mail on the console.
Production (``DJANGO_DEBUG=0``) refuses to start without a secret key, allowed hosts and a
token-encryption key. ``tests/settings.py`` is the only overlay.
"""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.csp import CSP

from klout.env import (
    ImproperEnvironment,
    env_bool,
    env_int,
    env_list,
    env_str,
    require,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("KLOUT_VAR_DIR", str(BASE_DIR / "var")))
SHARED_DATA_DIR = Path(env_str("KLOUT_SHARED_DATA", str(BASE_DIR.parent / "shared" / "data")))

DEBUG = env_bool("DJANGO_DEBUG", True)
_DEV_SECRET = "dev-only-insecure-secret-key-never-use-in-production-0123456789abcdef"
SECRET_KEY = env_str("DJANGO_SECRET_KEY", _DEV_SECRET if DEBUG else "")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
# MultiFernet keys, newest first; rotate with `manage.py rotate_token_keys`.
_DEV_TOKEN_KEY = "a2xvdXQtZGV2LW9ubHktdG9rZW4ta2V5LTMyYnl0ZXM="  # a valid Fernet key, dev only
TOKEN_ENCRYPTION_KEYS = env_list("TOKEN_ENCRYPTION_KEYS", [_DEV_TOKEN_KEY] if DEBUG else [])

if not DEBUG:
    require("DJANGO_SECRET_KEY", SECRET_KEY, "when DJANGO_DEBUG=0")
    if SECRET_KEY == _DEV_SECRET or len(SECRET_KEY) < 50:
        raise ImproperEnvironment("DJANGO_SECRET_KEY must be a random string of 50+ characters")
    require("DJANGO_ALLOWED_HOSTS", ALLOWED_HOSTS, "when DJANGO_DEBUG=0 (comma-separated)")
    require("TOKEN_ENCRYPTION_KEYS", TOKEN_ENCRYPTION_KEYS, "when DJANGO_DEBUG=0 (Fernet keys)")
    if _DEV_TOKEN_KEY in TOKEN_ENCRYPTION_KEYS:
        raise ImproperEnvironment("TOKEN_ENCRYPTION_KEYS must not contain the development key")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "rest_framework",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.mfa",
    "django_countries",  # a person's country (perks target places)
    "klout",  # its management command: seed_demo
    "accounts",
    "networks",
    "scoring",
    "achievements",
    "perks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "klout.middleware.RefuseNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "klout.urls"
WSGI_APPLICATION = "klout.wsgi.application"

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
                "django.template.context_processors.csp",
                "accounts.context_processors.unread_notifications",
            ],
        },
    }
]

# --- Database ---------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'klout.sqlite3'}")
try:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
except Exception as exc:  # dj_database_url raises several types for malformed URLs
    raise ImproperEnvironment(
        f"DATABASE_URL={DATABASE_URL!r} is not a database URL: {exc}"
    ) from None
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache, Celery ---------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if not DEBUG:
    # Without Redis, tasks would run inside web requests and every process would keep its own
    # rate limits and privacy epoch: refuse rather than run like that.
    require("REDIS_URL", REDIS_URL, "when DJANGO_DEBUG=0 (cache, rate limits and task queue)")
if REDIS_URL:
    CACHES = {
        "default": {
            # An outage is a logged miss, not a 500 (klout/cache.py); short timeouts bound it.
            "BACKEND": "klout.cache.FailOpenRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "klout",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Sessions live in the database only: a Redis outage must not sign everyone out, and a cached
# copy could outlive a sign-out whose cache delete was lost during an outage (one primary-key
# read per signed-in request).
SESSION_ENGINE = "django.contrib.sessions.backends.db"

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
# No broker configured: tasks run in-process, so `make run` needs nothing but Python.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 60 * 60, minimum=1)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 55 * 60, minimum=1)
CELERY_TASK_DEFAULT_QUEUE = "default"
# The longest a task waits before retrying (networks.sync_account caps the provider's wait here).
KLOUT_MAX_RETRY_DELAY_SECONDS = 60 * 60
# Redis redelivers a task nobody acknowledged within the visibility timeout: it must outlast the
# longest task (hard limit) and the longest retry countdown (held unacknowledged by a worker), or
# a healthy task runs twice. Short socket timeouts keep "queue this" fast when Redis is down.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": max(CELERY_TASK_TIME_LIMIT, KLOUT_MAX_RETRY_DELAY_SECONDS) + 30 * 60,
    "socket_connect_timeout": 1.0,
    "socket_timeout": 5.0,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 2,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
# A task whose worker died mid-run (out of memory, killed) is redelivered at most this many
# times, then recorded as failed with the reason (klout/delivery.py).
KLOUT_TASK_MAX_DELIVERIES = env_int("KLOUT_TASK_MAX_DELIVERIES", 3, minimum=1)
CELERY_TASK_ROUTES = {
    "networks.*": {"queue": "ingest"},
    "scoring.*": {"queue": "scoring"},
}
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "scoring.score_yesterday": {
        "task": "scoring.score_yesterday",
        "schedule": crontab(hour=2, minute=15),
    },
    "networks.sync_all_linked_accounts": {
        "task": "networks.sync_all_linked_accounts",
        "schedule": crontab(minute="*/30"),
    },
    "accounts.refresh_expiring_credentials": {
        "task": "accounts.refresh_expiring_credentials",
        "schedule": crontab(minute="*/10"),
    },
    "accounts.send_weekly_digests": {
        "task": "accounts.send_weekly_digests",
        "schedule": crontab(day_of_week="mon", hour=7, minute=0),
    },
    # perks: scheduled campaigns start and finished ones end; shipping addresses expire
    "perks.advance_campaigns": {"task": "perks.advance_campaigns", "schedule": crontab(minute="*")},
    "perks.purge_shipping_addresses": {
        "task": "perks.purge_shipping_addresses",
        "schedule": crontab(hour=3, minute=30),
    },
}

# --- Auth and allauth -------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = 3
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
SOCIALACCOUNT_STORE_TOKENS = False  # tokens live encrypted in accounts.ProviderCredential
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_LOGIN_ON_GET = False
# Our own provider forms are rate limited like allauth's (allauth merges these with its defaults).
ACCOUNT_RATE_LIMITS = {
    "bluesky_app_password": "10/m/ip,5/5m/key",  # key: the handle whose password is guessed
    "mastodon_instance": "10/m/ip",  # each try makes us call the named server
}
# Where a client's address comes from (rate limits are keyed on it). KLOUT_CLIENT_ADDRESS:
#   "socket"             the connection's address (no proxy in front; the development default)
#   "forwarded:N"        the Nth address from the right of X-Forwarded-For (N trusted proxies)
#   "header:Name"        one header the proxy sets and clients cannot (X-Real-IP, CF-Connecting-IP)
# Required in production: behind a proxy "socket" puts every client in one bucket.
CLIENT_ADDRESS = env_str("KLOUT_CLIENT_ADDRESS", "socket" if DEBUG else "")
if not DEBUG:
    require(
        "KLOUT_CLIENT_ADDRESS",
        CLIENT_ADDRESS,
        "when DJANGO_DEBUG=0 (socket, forwarded:N, header:Name)",
    )
ALLAUTH_TRUSTED_PROXY_COUNT = 0
ALLAUTH_TRUSTED_CLIENT_IP_HEADER: str | None = None
_source, _, _detail = CLIENT_ADDRESS.partition(":")
if _source == "forwarded" and _detail.isdigit() and int(_detail) > 0:
    ALLAUTH_TRUSTED_PROXY_COUNT = int(_detail)
elif _source == "header" and _detail.strip():
    ALLAUTH_TRUSTED_CLIENT_IP_HEADER = _detail.strip()
elif CLIENT_ADDRESS != "socket":
    raise ImproperEnvironment(
        f"KLOUT_CLIENT_ADDRESS={CLIENT_ADDRESS!r} is not socket, forwarded:N or header:Name"
    )
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Klout"

# Django 6.1 mailers (EMAIL_BACKEND/EMAIL_HOST are deprecated): console in development.
_MAIL_BACKEND = env_str(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
MAILERS = {
    "default": {
        "BACKEND": _MAIL_BACKEND,
        "OPTIONS": {
            "host": env_str("EMAIL_HOST", "localhost"),
            "port": env_int("EMAIL_PORT", 25, minimum=1),
            "username": env_str("EMAIL_HOST_USER", ""),
            "password": env_str("EMAIL_HOST_PASSWORD", ""),
            "use_tls": env_bool("EMAIL_USE_TLS", False),
        }
        if _MAIL_BACKEND.endswith("smtp.EmailBackend")
        else {},
    }
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Klout <noreply@localhost>")
# Where people reach the site: the base of links in e-mails (digest, unsubscribe), which are
# written outside any request. Required in production, https there.
KLOUT_SITE_URL = env_str("KLOUT_SITE_URL", "http://127.0.0.1:8000" if DEBUG else "").rstrip("/")
if not DEBUG:
    require(
        "KLOUT_SITE_URL", KLOUT_SITE_URL, "when DJANGO_DEBUG=0 (e.g. https://klout.example.com)"
    )
if KLOUT_SITE_URL and not (
    KLOUT_SITE_URL.startswith("https://") or (DEBUG and KLOUT_SITE_URL.startswith("http://"))
):
    raise ImproperEnvironment(
        f"KLOUT_SITE_URL={KLOUT_SITE_URL!r} must be an https:// URL"
        + ("" if not DEBUG else " (or http:// in development)")
    )

# Social providers are enabled only when their client id and secret are in the environment
# (see accounts/providers_config.py); the development provider only while DEBUG is on.
from accounts.providers_config import socialaccount_providers  # noqa: E402

SOCIALACCOUNT_PROVIDERS, _PROVIDER_APPS = socialaccount_providers(DEBUG)
INSTALLED_APPS += _PROVIDER_APPS

# --- Security ---------------------------------------------------------------------------------
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the meta tag, not the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 60 * 60 * 24 * 365, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# --- I18n, static -----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

REST_FRAMEWORK: dict[str, object] = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
}

# --- Product knobs ----------------------------------------------------------------------------
KLOUT_ANOMALY_MAX_MOVED_FRACTION = 0.5
KLOUT_ANOMALY_POINTS = env_int("KLOUT_ANOMALY_POINTS", 10, minimum=1)
KLOUT_EXPORT_DIR = VAR_DIR / "exports"
# Parallel workers per index build when an import attaches a loaded month (PostgreSQL's
# max_parallel_maintenance_workers). The import already builds two indexes at once, one per
# connection; measured on 2 cores, adding PostgreSQL's default 2 workers to each cost 8.7 busy
# core-seconds per Higgs import instead of 6.9. Raise it on a server with cores to spare.
KLOUT_INDEX_BUILD_WORKERS = env_int("KLOUT_INDEX_BUILD_WORKERS", 0, minimum=0)
KLOUT_UPLOAD_MAX_BYTES = env_int("KLOUT_UPLOAD_MAX_BYTES", 200 * 1024 * 1024, minimum=1024)

# --- Outbound requests (klout/outbound.py) ----------------------------------------------------
# Host names (as written in a URL) that may resolve to private or loopback addresses: a local
# development server, never a production setting. Everything else must be a public address.
OUTBOUND_ALLOWED_PRIVATE_HOSTS = env_list("KLOUT_OUTBOUND_ALLOWED_PRIVATE_HOSTS")
# The Bluesky PDS (or entryway) for sign-in, token refresh and sync.
BLUESKY_PDS_URL = env_str("BLUESKY_PDS_URL", "https://bsky.social").rstrip("/")

# --- Public API (issue 15): OpenAPI 3.1 by drf-spectacular, docs from our own static files -----
INSTALLED_APPS += ["drf_spectacular", "drf_spectacular_sidecar"]
REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "drf_spectacular.openapi.AutoSchema"
REST_FRAMEWORK["EXCEPTION_HANDLER"] = "scoring.api.problems.drf_exception_handler"
SPECTACULAR_SETTINGS = {
    "TITLE": "Klout API",
    "DESCRIPTION": (
        "Influence scores of people and public accounts. Send your key as "
        "`Authorization: Bearer <key>` (or `key=`). Quotas: 10 calls/s and 10,000/day per key "
        "unless raised; every answer has `RateLimit` headers, over quota is 429 with "
        "`Retry-After`. Errors are RFC 9457 problem details. CORS is read-only: any origin may "
        "GET with a Bearer key. The original Klout v1/v2 paths are served unchanged at the root."
    ),
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer"},
            "key": {"type": "apiKey", "in": "query", "name": "key"},
        }
    },
    "SECURITY": [{"bearer": []}, {"key": []}],
    "ENUM_NAME_OVERRIDES": {},
}
